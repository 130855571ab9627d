package veil

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"testing"

	"github.com/veilkit/veil/mask"
)

// fixedSegmenter gives every person or vehicle the left half of its box.
type fixedSegmenter struct{ err error }

func (f fixedSegmenter) Segment(ctx context.Context, img *image.RGBA, dets []Detection) ([]*mask.Mask, error) {
	if f.err != nil {
		return nil, f.err
	}
	ms := make([]*mask.Mask, len(dets))
	for k, d := range dets {
		r := d.Box.Rect()
		r.Max.X = (r.Min.X + r.Max.X) / 2
		ms[k] = mask.FromRect(r)
	}
	return ms, nil
}

// maskEngine returns an engine whose detectors report dets and whose
// segmenter is fixedSegmenter.
func maskEngine(t *testing.T, seg Segmenter, dets ...Detection) *Engine {
	t.Helper()
	f := fixedDetector{dets: dets}
	e, err := New(WithThreads(1), WithDetector(Face, f), WithDetector(LicensePlate, f),
		WithDetector(Person, f), WithDetector(Vehicle, f), WithSegmenter(seg), WithPlateCascade(false))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	car    = Detection{Class: Vehicle, Score: 0.9, Box: Box{X1: 100, Y1: 100, X2: 300, Y2: 200}}
	plate  = Detection{Class: LicensePlate, Score: 0.8, Box: Box{X1: 180, Y1: 170, X2: 220, Y2: 185}}
	walker = Detection{Class: Person, Score: 0.7, Box: Box{X1: 10, Y1: 10, X2: 50, Y2: 110}}
)

// TestMasks checks Masks' objects, the binary mask and the instance
// mask's layout: G the instance id, B the OR of the type flags.
func TestMasks(t *testing.T) {
	e := maskEngine(t, fixedSegmenter{}, plate, car, walker)
	src := noise(400, 300)
	res, err := e.Masks(context.Background(), src, Params{Classes: []Class{Vehicle, LicensePlate, Person}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image != nil {
		t.Errorf("Masks returned an image")
	}
	if len(res.Objects) != 3 {
		t.Fatalf("objects %+v", res.Objects)
	}
	// Large objects first, so the plate's id wins on the car.
	if res.Objects[0].Class != Vehicle || res.Objects[1].Class != Person || res.Objects[2].Class != LicensePlate {
		t.Fatalf("order %v %v %v", res.Objects[0].Class, res.Objects[1].Class, res.Objects[2].Class)
	}
	for _, o := range res.Objects {
		if o.Mask == nil || o.Anonymized {
			t.Fatalf("%v: mask %v, anonymized %v", o.Class, o.Mask, o.Anonymized)
		}
	}
	// The car's segmentation is the left half of its box.
	if m := res.Objects[0].Mask; m.At(150, 150) != 255 || m.At(250, 120) != 0 {
		t.Errorf("car mask: %d at the left, %d at the right", m.At(150, 150), m.At(250, 120))
	}
	bin, err := res.BinaryMask(0)
	if err != nil {
		t.Fatal(err)
	}
	if bin.Rect != image.Rect(0, 0, 400, 300) {
		t.Fatalf("binary mask bounds %v", bin.Rect)
	}
	for _, c := range []struct {
		x, y int
		want uint8
	}{{150, 150, 255}, {250, 120, 0}, {200, 177, 255}, {20, 50, 255}, {45, 50, 0}, {350, 250, 0}} {
		if got := bin.GrayAt(c.x, c.y).Y; got != c.want {
			t.Errorf("binary mask at (%d, %d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
	ins, err := res.InstanceMask(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y    int
		g, b    uint8
		comment string
	}{
		{150, 150, 1, mask.FlagVehicle, "car"},
		{190, 177, 3, mask.FlagVehicle | mask.FlagLicensePlate, "plate on the car: 80"},
		{20, 50, 2, mask.FlagPerson, "person"},
		{350, 250, 0, 0, "background"},
	} {
		p := ins.RGBAAt(c.x, c.y)
		if p.R != 0 || p.G != c.g || p.B != c.b {
			t.Errorf("%s: instance mask %v, want G %d B %d", c.comment, p, c.g, c.b)
		}
	}
	half, err := res.InstanceMask(50)
	if err != nil {
		t.Fatal(err)
	}
	if half.Rect != image.Rect(0, 0, 200, 150) {
		t.Errorf("mask-scale 50: %v", half.Rect)
	}
	if _, err := res.BinaryMask(101); !errors.Is(err, ErrOption) {
		t.Errorf("mask-scale 101: %v", err)
	}
	// With BBox the segmenter is not asked and the masks are the boxes.
	boxes, err := e.Masks(context.Background(), src, Params{Classes: []Class{Vehicle}, BBox: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := boxes.Objects[0].Mask; m.At(250, 120) != 255 {
		t.Errorf("bbox: car mask does not cover its box")
	}
}

// TestMasksIgnoresAndFailure checks that ignore regions are cleared from
// the masks and that a failing segmenter fails the call with no image.
func TestMasksIgnoresAndFailure(t *testing.T) {
	e := maskEngine(t, fixedSegmenter{}, car)
	src := noise(400, 300)
	ign := []image.Rectangle{image.Rect(0, 0, 160, 300)}
	res, err := e.Masks(context.Background(), src, Params{Classes: []Class{Vehicle}, Ignores: ign})
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Objects[0].Mask; m.At(150, 150) != 0 || m.At(180, 150) != 255 {
		t.Errorf("ignore region not cleared: %d inside, %d outside", m.At(150, 150), m.At(180, 150))
	}
	boom := errors.New("segmenter exploded")
	bad := maskEngine(t, fixedSegmenter{err: boom}, car)
	for _, m := range []Method{Blur, DetectOnly} {
		p := Params{Classes: []Class{Vehicle}, Method: m}
		var res *Result
		var err error
		if m == DetectOnly {
			res, err = bad.Masks(context.Background(), src, p)
		} else {
			res, err = bad.Anonymize(context.Background(), src, p)
		}
		if !errors.Is(err, boom) || res != nil {
			t.Errorf("%v: %v, %v", m, res, err)
		}
	}
}

// TestAnonymizeBySegmentation checks that a vehicle is anonymized by its
// mask, not its box.
func TestAnonymizeBySegmentation(t *testing.T) {
	e := maskEngine(t, fixedSegmenter{}, car)
	src := noise(400, 300)
	res, err := e.Anonymize(context.Background(), src, Params{Classes: []Class{Vehicle}, Method: Blacken})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Image.RGBAAt(150, 150); got.R != 0 || got.G != 0 || got.B != 0 {
		t.Errorf("inside the mask: %v", got)
	}
	if pixelDiff(res.Image, src, 250, 150) != 0 {
		t.Errorf("right half of the car's box (outside its mask) changed")
	}
}

// TestMetadataRLE checks that the masks in the metadata decode back to
// the objects' masks.
func TestMetadataRLE(t *testing.T) {
	e := maskEngine(t, fixedSegmenter{}, car, walker)
	src := noise(400, 300)
	res, err := e.Masks(context.Background(), src, Params{Classes: []Class{Vehicle, Person}})
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{"coco", "runs"} {
		m, err := Metadata("a.jpg", res, 0, MetadataOptions{RLE: form})
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			Detections []struct {
				Mask json.RawMessage `json:"mask"`
			} `json:"detections"`
		}
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		for k, d := range back.Detections {
			var got *mask.Mask
			if form == "coco" {
				var c mask.COCO
				if err := json.Unmarshal(d.Mask, &c); err != nil {
					t.Fatal(err)
				}
				if _, ok := c.Counts.(string); !ok {
					t.Errorf("COCO counts %T, want the compressed string", c.Counts)
				}
				got, err = mask.DecodeCOCO(c)
			} else {
				var runs []int
				if err := json.Unmarshal(d.Mask, &runs); err != nil {
					t.Fatal(err)
				}
				got, err = mask.DecodeRuns(runs, 400, 300)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := res.Objects[k].Mask
			if got.Area() != want.Area() || got.Area() == 0 {
				t.Errorf("%s: object %d: decoded area %d, want %d", form, k, got.Area(), want.Area())
			}
			for y := 0; y < 300; y += 7 {
				for x := 0; x < 400; x += 7 {
					if got.At(x, y) != want.At(x, y) {
						t.Fatalf("%s: object %d differs at (%d, %d)", form, k, x, y)
					}
				}
			}
		}
	}
	if _, err := Metadata("a.jpg", res, 0, MetadataOptions{RLE: "png"}); !errors.Is(err, ErrOption) {
		t.Errorf("RLE png: %v", err)
	}
}
