package veil

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	"os"
	"testing"

	"github.com/veilkit/veil/detect"
)

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestDetectDefaults(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dets, err := e.Detect(ctx, decodeFile(t, "testdata/group.jpg"), Params{})
	if err != nil {
		t.Fatal(err)
	}
	faces := 0
	for _, d := range dets {
		if d.Class == Face {
			faces++
		}
		// A head region carries its person's score.
		if d.Score < DefaultFaceThreshold && !(d.Label == HeadLabel && d.Score >= DefaultPersonThreshold) {
			t.Errorf("detection %+v below the default threshold", d)
		}
	}
	if faces < 40 {
		t.Errorf("%d faces in the group photo, want about 52", faces)
	}
	plate, err := e.Detect(ctx, decodeFile(t, "testdata/plate.jpg"), Params{Classes: []Class{LicensePlate}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plate) != 1 || plate[0].Class != LicensePlate {
		t.Errorf("plate.jpg: %+v, want one plate", plate)
	}
}

func TestDetectSubImage(t *testing.T) {
	e, err := New(WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	img := decodeFile(t, "testdata/plate.jpg").(interface {
		SubImage(image.Rectangle) image.Image
	})
	sub := img.SubImage(image.Rect(100, 400, 600, 700))
	dets, err := e.Detect(context.Background(), sub, Params{Classes: []Class{LicensePlate}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 1 {
		t.Fatalf("%d plates in the crop, want 1", len(dets))
	}
	// Boxes are in the sub-image's coordinates, so they overlap the plate
	// found in the whole image.
	want := Box{X1: 212, Y1: 499, X2: 405, Y2: 602}
	if iou := dets[0].Box.IoU(want); iou < 0.7 {
		t.Errorf("plate in crop at %v, want about %v", dets[0].Box, want)
	}
}

func TestDetectErrors(t *testing.T) {
	e, err := New(WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	small := image.NewRGBA(image.Rect(0, 0, 8, 8))
	tests := []struct {
		name string
		img  image.Image
		p    Params
		want error
	}{
		{"nil image", nil, Params{}, ErrImage},
		{"empty image", image.NewRGBA(image.Rect(0, 0, 0, 0)), Params{}, ErrImage},
		{"threshold", small, Params{FaceThreshold: 1.5}, ErrOption},
		{"class", small, Params{Classes: []Class{9}}, ErrOption},
		{"format", small, Params{Format: "tiles!"}, ErrOption},
	}
	for _, tt := range tests {
		if _, err := e.Detect(ctx, tt.img, tt.p); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := New(WithThreads(-1)); !errors.Is(err, ErrOption) {
		t.Errorf("WithThreads(-1): %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Detect(cancelled, decodeFile(t, "testdata/street.jpg"), Params{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestDetectTiled checks that tiling finds the same faces as the whole
// image, with objects cut by seams merged into one box each.
func TestDetectTiled(t *testing.T) {
	e, err := New(WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	img := decodeFile(t, "testdata/group.jpg")
	ctx := context.Background()
	// The face model alone: the person boxes behind head regions differ
	// with tiling.
	whole, err := e.Detect(ctx, img, Params{Classes: []Class{Face}, NoHeads: true})
	if err != nil {
		t.Fatal(err)
	}
	tiled, err := e.Detect(ctx, img, Params{Classes: []Class{Face}, NoHeads: true, Format: `{"number":[3,2],"overlap":[0.2,0.2]}`})
	if err != nil {
		t.Fatal(err)
	}
	// Every face of the whole-image pass is found once in the tiled pass.
	for _, w := range whole {
		n := 0
		for _, d := range tiled {
			if d.Box.IoU(w.Box) > 0.5 {
				n++
			}
		}
		if n != 1 {
			t.Errorf("face %v found %d times with tiling", w.Box, n)
		}
	}
	if len(tiled) > len(whole)+len(whole)/5 {
		t.Errorf("%d faces tiled, %d whole: duplicates across seams?", len(tiled), len(whole))
	}
}

func TestGrow(t *testing.T) {
	bounds := image.Rect(0, 0, 1000, 800)
	for _, tt := range []struct{ r, want image.Rectangle }{
		{image.Rect(100, 100, 400, 300), image.Rect(100, 100, 400, 300)}, // big enough
		{image.Rect(500, 400, 540, 420), image.Rect(440, 350, 600, 470)}, // grown about its centre
		{image.Rect(0, 0, 40, 20), image.Rect(0, 0, 160, 120)},           // shifted inside
		{image.Rect(980, 790, 1000, 800), image.Rect(840, 680, 1000, 800)},
	} {
		if got := grow(tt.r, 160, 120, bounds); got != tt.want {
			t.Errorf("grow(%v) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestPlateFilters(t *testing.T) {
	crop := image.Rect(100, 100, 300, 250)
	bounds := image.Rect(0, 0, 1000, 1000)
	plate := func(score, x1, y1, x2, y2 float32) Detection {
		return Detection{Class: LicensePlate, Score: score, Box: Box{X1: x1, Y1: y1, X2: x2, Y2: y2}}
	}
	in := []Detection{
		plate(0.9, 150, 200, 250, 225), // inside
		plate(0.8, 50, 200, 150, 225),  // half outside
		plate(0.7, 150, 101, 250, 130), // touches the crop's top edge
	}
	if got := whollyInside(in, crop, bounds); len(got) != 1 || got[0].Score != 0.9 {
		t.Errorf("whollyInside = %+v", got)
	}
	// At the image's edge the crop's edge is no cut.
	if got := whollyInside([]Detection{plate(0.7, 150, 1, 250, 30)}, image.Rect(100, 0, 300, 150), bounds); len(got) != 1 {
		t.Errorf("plate at the image's edge dropped")
	}
	dets := []Detection{
		plate(0.9, 100, 100, 200, 130),
		plate(0.6, 150, 120, 170, 128), // inside the first: a part of it
		plate(0.95, 400, 100, 500, 130),
		{Class: Face, Score: 0.5, Box: Box{X1: 150, Y1: 120, X2: 170, Y2: 128}},
	}
	got := dropNested(dets, LicensePlate, nestedFrac)
	if len(got) != 3 || got[1].Score != 0.95 || got[2].Class != Face {
		t.Errorf("dropNested = %+v", got)
	}
}

func TestHeadsWithoutFaces(t *testing.T) {
	person := func(x1, y1, x2, y2, s float32) Detection {
		return Detection{Class: Person, Score: s, Box: detect.Box{X1: x1, Y1: y1, X2: x2, Y2: y2}}
	}
	face := func(x1, y1, x2, y2 float32) Detection {
		return Detection{Class: Face, Score: 0.9, Box: detect.Box{X1: x1, Y1: y1, X2: x2, Y2: y2}}
	}
	tests := []struct {
		name  string
		found []Detection
		faces []Detection
		want  []detect.Box // the heads
	}{
		{"standing, no face", []Detection{person(100, 100, 140, 220, 0.8)}, nil, []detect.Box{{X1: 100, Y1: 100, X2: 140, Y2: 130}}},
		{"lying: the whole box", []Detection{person(0, 0, 200, 50, 0.8)}, nil, []detect.Box{{X1: 0, Y1: 0, X2: 200, Y2: 50}}},
		{"face centred in the head", []Detection{person(100, 100, 140, 220, 0.8)}, []Detection{face(110, 104, 130, 126)}, nil},
		{"face half in the head", []Detection{person(100, 100, 140, 220, 0.8)}, []Detection{face(110, 120, 130, 140)}, nil},
		{"face below the head", []Detection{person(100, 100, 140, 220, 0.8)}, []Detection{face(110, 135, 130, 160)},
			[]detect.Box{{X1: 100, Y1: 100, X2: 140, Y2: 130}}},
		{"person under the threshold", []Detection{person(100, 100, 140, 220, 0.3)}, nil, nil},
		{"vehicles have no head", []Detection{{Class: Vehicle, Score: 0.9, Box: detect.Box{X2: 50, Y2: 50}}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := headsWithoutFaces(append(tt.found, tt.faces...), tt.faces, 0.4)
			if len(got) != len(tt.want) {
				t.Fatalf("heads %v, want %v", got, tt.want)
			}
			for i, h := range got {
				if h.Box != tt.want[i] || h.Class != Face || h.Label != HeadLabel || h.Score != tt.found[0].Score {
					t.Errorf("head %+v, want box %v, a face labelled %q with its person's score", h, tt.want[i], HeadLabel)
				}
			}
		})
	}
}

// TestHeadBackstop covers the faces of the street photo, as a scarf or a
// turned head would hide them from the face model: each whose person is
// still found has that person's head region reported as a face, and
// anonymized.
func TestHeadBackstop(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	img := decodeFile(t, "testdata/street.jpg")
	faces, err := e.Detect(ctx, img, Params{Classes: []Class{Face}, NoHeads: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) < 2 {
		t.Fatalf("%d faces in the street photo, want 2", len(faces))
	}
	hidden := image.NewRGBA(img.Bounds())
	draw.Draw(hidden, hidden.Rect, img, img.Bounds().Min, draw.Src)
	for _, f := range faces {
		r := f.Box.Rect()
		draw.Draw(hidden, r.Inset(-r.Dx()/4), image.NewUniform(color.RGBA{128, 100, 90, 255}), image.Point{}, draw.Src)
	}
	centre := func(d Detection) (float32, float32) { return (d.Box.X1 + d.Box.X2) / 2, (d.Box.Y1 + d.Box.Y2) / 2 }
	on := func(dets []Detection, f Detection) *Detection {
		cx, cy := centre(f)
		for i, d := range dets {
			if d.Class == Face && d.Box.X1 <= cx && cx < d.Box.X2 && d.Box.Y1 <= cy && cy < d.Box.Y2 {
				return &dets[i]
			}
		}
		return nil
	}
	without, err := e.Detect(ctx, hidden, Params{Classes: []Class{Face}, NoHeads: true})
	if err != nil {
		t.Fatal(err)
	}
	persons, err := e.Detect(ctx, hidden, Params{Classes: []Class{Person}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Anonymize(ctx, hidden, Params{Classes: []Class{Face}, Method: Blacken})
	if err != nil {
		t.Fatal(err)
	}
	var with []Detection
	for _, o := range res.Objects {
		with = append(with, o.Detection)
	}
	checked := 0
	for _, f := range faces {
		if d := on(without, f); d != nil {
			t.Fatalf("the face model still finds the covered face %v: %+v", f.Box, *d)
		}
		cx, cy := centre(f)
		found := false
		for _, p := range persons {
			found = found || p.Box.X1 <= cx && cx < p.Box.X2 && p.Box.Y1 <= cy && cy < p.Box.Y2
		}
		if !found {
			t.Logf("covered face %v: its person is no longer found", f.Box)
			continue
		}
		checked++
		d := on(with, f)
		if d == nil || d.Label != HeadLabel {
			t.Errorf("no head region over the covered face %v among %v", f.Box, with)
			continue
		}
		if got := res.Image.RGBAAt(int(cx), int(cy)); got != (color.RGBA{0, 0, 0, 255}) {
			t.Errorf("the covered face %v has its centre %v, not blackened", f.Box, got)
		}
		t.Logf("head %v (score %.2f) over the covered face %v", d.Box, d.Score, f.Box)
	}
	if checked == 0 {
		t.Error("no covered face's person found")
	}
}
