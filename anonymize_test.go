package veil

import (
	"bytes"
	"context"
	"errors"
	"github.com/veilkit/veil/internal/imageio"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"testing"

	"github.com/veilkit/veil/internal/debugdraw"
)

// fixedDetector reports the same detections for every image, or err.
type fixedDetector struct {
	dets []Detection
	err  error
}

func (f fixedDetector) Classes() []Class { return []Class{Face, LicensePlate, Person, Vehicle} }

func (f fixedDetector) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []Detection
	for _, d := range f.dets {
		if d.Score >= minScore && d.Box.Clip(r).Area() > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

// noise returns a w×h image of pseudo-random pixels (a deterministic
// LCG), which any blur changes.
func noise(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	s := uint32(1)
	for i := range img.Pix {
		if i%4 == 3 {
			img.Pix[i] = 255
			continue
		}
		s = s*1664525 + 1013904223
		img.Pix[i] = uint8(s >> 24)
	}
	return img
}

// fixedEngine returns an engine whose face detector reports one face at
// box.
func fixedEngine(t *testing.T, dets ...Detection) *Engine {
	t.Helper()
	e, err := New(WithThreads(1), WithDetector(Face, fixedDetector{dets: dets}),
		WithDetector(LicensePlate, fixedDetector{}), WithPlateCascade(false))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func pixelDiff(a, b *image.RGBA, x, y int) int {
	i, j := a.PixOffset(x, y), b.PixOffset(x, y)
	d := 0
	for c := 0; c < 3; c++ {
		d = max(d, int(a.Pix[i+c])-int(b.Pix[j+c]), int(b.Pix[j+c])-int(a.Pix[i+c]))
	}
	return d
}

// TestAnonymizeMethods checks each method on a fixed face box: changed
// inside, untouched outside the gradient's outer box, and the detections
// marked anonymised.
func TestAnonymizeMethods(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 100, Y1: 80, X2: 200, Y2: 200}}
	e := fixedEngine(t, face)
	src := noise(320, 300)
	for _, m := range []Method{Blur, Pixelate, Blacken, DetectOnly} {
		res, err := e.Anonymize(context.Background(), src, Params{Method: m, Classes: []Class{Face}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Objects) != 1 || res.Objects[0].Anonymized != (m != DetectOnly) {
			t.Fatalf("%v: objects %+v", m, res.Objects)
		}
		out := res.Image
		// The face's ellipse is fitted in its box grown by faceMargin,
		// and the default gradient grows that by 0.3 × its size.
		g := faceMargin + DefaultGradient.Start*(1+2*faceMargin)
		outer := image.Rect(100-int(g*100), 80-int(g*120), 200+int(g*100), 200+int(g*120)+1)
		for y := 0; y < 300; y++ {
			for x := 0; x < 320; x++ {
				if !image.Pt(x, y).In(outer.Inset(-1)) && pixelDiff(out, src, x, y) != 0 {
					t.Fatalf("%v: pixel (%d, %d) outside the outer box changed", m, x, y)
				}
			}
		}
		changed := 0
		for y := 100; y < 180; y++ {
			for x := 120; x < 180; x++ {
				if pixelDiff(out, src, x, y) > 8 {
					changed++
				}
			}
		}
		switch {
		case m == DetectOnly && !bytes.Equal(out.Pix, src.Pix):
			t.Errorf("detect changed the image")
		case m != DetectOnly && changed < 80*60*9/10:
			t.Errorf("%v: %d of %d face pixels changed", m, changed, 80*60)
		}
		if m == Blacken {
			if i := out.PixOffset(150, 140); out.Pix[i] != 0 || out.Pix[i+1] != 0 || out.Pix[i+2] != 0 {
				t.Errorf("blacken: centre %v", out.Pix[i:i+4])
			}
		}
	}
}

// TestAnonymizeGradient checks the ramp between the face's box and the
// outer box: full strength inside, weaker further out, none beyond.
func TestAnonymizeGradient(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 100, Y1: 100, X2: 200, Y2: 200}}
	e := fixedEngine(t, face)
	src := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for i := range src.Pix {
		src.Pix[i] = 255 // white; blacken makes the alpha visible
	}
	res, err := e.Anonymize(context.Background(), src, Params{Method: Blacken, BBox: true})
	if err != nil {
		t.Fatal(err)
	}
	at := func(x int) uint8 { return res.Image.Pix[res.Image.PixOffset(x, 150)] }
	// Along the row through the centre: inside the box black, then a
	// ramp up to white at the outer edge (200 + 0.3·100 = 230).
	if at(150) != 0 || at(199) != 0 {
		t.Errorf("inside the box: %d %d, want 0", at(150), at(199))
	}
	if at(232) != 255 || at(260) != 255 {
		t.Errorf("outside the outer box: %d %d, want 255", at(232), at(260))
	}
	prev := at(200)
	for x := 201; x < 230; x++ {
		if at(x) < prev {
			t.Fatalf("ramp not monotone at x=%d: %d after %d", x, at(x), prev)
		}
		prev = at(x)
	}
	if mid := at(215); mid < 60 || mid > 200 {
		t.Errorf("middle of the ramp = %d, want about half", mid)
	}
	// No gradient: the edge is hard.
	res, err = e.Anonymize(context.Background(), src, Params{Method: Blacken, BBox: true, FaceGradient: &Gradient{}})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Image.Pix[res.Image.PixOffset(203, 150)]; v != 255 {
		t.Errorf("hard edge: pixel 3 px outside = %d", v)
	}
}

// TestAnonymizeIgnores checks that nothing changes inside an ignore
// region and that an object wholly inside one is reported, not
// anonymised.
func TestAnonymizeIgnores(t *testing.T) {
	a := Detection{Class: Face, Score: 0.9, Box: Box{X1: 20, Y1: 20, X2: 60, Y2: 60}}
	b := Detection{Class: Face, Score: 0.8, Box: Box{X1: 200, Y1: 20, X2: 240, Y2: 60}}
	e := fixedEngine(t, a, b)
	src := noise(300, 120)
	ign, err := ParseIgnores(`[{"topLeftX": 0, "topLeftY": 0, "width": 100, "height": 120}]`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Anonymize(context.Background(), src, Params{Ignores: ign})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 2 {
		t.Fatalf("objects %+v", res.Objects)
	}
	for _, o := range res.Objects {
		if want := o.Box.X1 > 100; o.Anonymized != want {
			t.Errorf("object at %v anonymised = %v", o.Box, o.Anonymized)
		}
	}
	for y := 0; y < 120; y++ {
		for x := 0; x < 100; x++ {
			if pixelDiff(res.Image, src, x, y) != 0 {
				t.Fatalf("pixel (%d, %d) in the ignore region changed", x, y)
			}
		}
	}
	if pixelDiff(res.Image, src, 220, 40) == 0 && pixelDiff(res.Image, src, 221, 41) == 0 {
		t.Errorf("face outside the ignore region not blurred")
	}
}

func TestParseIgnores(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []image.Rectangle
		err  bool
	}{
		{"", nil, false},
		{`[{"topLeftX": 182,"topLeftY": 154,"width":2000,"height":2000}]`, []image.Rectangle{image.Rect(182, 154, 2182, 2154)}, false},
		{`[{"topLeftX": 1,"topLeftY": 2,"width":3,"height":4},{"topLeftX":0,"topLeftY":0,"width":1,"height":1}]`,
			[]image.Rectangle{image.Rect(1, 2, 4, 6), image.Rect(0, 0, 1, 1)}, false},
		{`[{"topLeftX": 1,"topLeftY": 2,"width":0,"height":4}]`, nil, true},
		{`[{"left": 1}]`, nil, true},
		{`{"topLeftX": 1}`, nil, true},
		{`not json`, nil, true},
	} {
		got, err := ParseIgnores(tt.in)
		if (err != nil) != tt.err || err != nil && !errors.Is(err, ErrOption) {
			t.Errorf("ParseIgnores(%q) error %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseIgnores(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for k := range got {
			if got[k] != tt.want[k] {
				t.Errorf("ParseIgnores(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

func TestParseMethod(t *testing.T) {
	for m := Blur; m <= DetectOnly; m++ {
		if got, err := ParseMethod(m.String()); err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMethod("smear"); !errors.Is(err, ErrOption) {
		t.Errorf("ParseMethod(smear): %v", err)
	}
	if c, err := ParseClass("license-plate"); err != nil || c != LicensePlate {
		t.Errorf("ParseClass(license-plate) = %v, %v", c, err)
	}
}

// TestAnonymizeFailsClosed checks that a failing detector, a cancelled
// context or a bad option gives an error and no image.
func TestAnonymizeFailsClosed(t *testing.T) {
	boom := errors.New("model exploded")
	e, err := New(WithThreads(1), WithDetector(Face, fixedDetector{err: boom}))
	if err != nil {
		t.Fatal(err)
	}
	src := noise(64, 64)
	if res, err := e.Anonymize(context.Background(), src, Params{}); !errors.Is(err, boom) || res != nil {
		t.Errorf("failing detector: %v, %v", res, err)
	}
	ok := fixedEngine(t, Detection{Class: Face, Score: 1, Box: Box{X1: 1, Y1: 1, X2: 30, Y2: 30}})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := ok.Anonymize(cancelled, src, Params{}); !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("cancelled: %v, %v", res, err)
	}
	for _, p := range []Params{
		{Method: 9},
		{KernelSizeFace: -1},
		{KernelSizePerson: math.NaN()},
		{FaceGradient: &Gradient{Start: -0.1}},
		{LicensePlateGradient: &Gradient{Stop: 0.7}},
		{Format: "pano:1"},
	} {
		if res, err := ok.Anonymize(context.Background(), src, p); !errors.Is(err, ErrOption) || res != nil {
			t.Errorf("%+v: %v, %v", p, res, err)
		}
	}
}

// TestAnonymizeSubImage checks that boxes and ignore regions follow a
// sub-image's bounds and the result starts at (0, 0).
func TestAnonymizeSubImage(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 140, Y1: 140, X2: 180, Y2: 180}}
	e := fixedEngine(t, face)
	full := noise(300, 300)
	sub := full.SubImage(image.Rect(100, 100, 300, 300)).(*image.RGBA)
	res, err := e.Anonymize(context.Background(), sub, Params{Method: Blacken, BBox: true, FaceGradient: &Gradient{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image.Rect != image.Rect(0, 0, 200, 200) {
		t.Fatalf("result bounds %v", res.Image.Rect)
	}
	// The detector sees the image from (0, 0); boxes come back in the
	// sub-image's coordinates, and the result is the sub-image moved to
	// (0, 0).
	if got, want := res.Objects[0].Box, face.Box.Translate(100, 100); got != want {
		t.Errorf("box %v, want %v", got, want)
	}
	if i := res.Image.PixOffset(160, 160); res.Image.Pix[i] != 0 {
		t.Errorf("face not blackened")
	}
	if got, want := res.Image.RGBAAt(90, 90), full.RGBAAt(190, 190); got != want {
		t.Errorf("pixel (90, 90) of the result = %v, want (190, 190) of the input %v", got, want)
	}
}

// TestAnonymizeDebug checks that debug draws the box in the class colour
// and records the colour in the metadata.
func TestAnonymizeDebug(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 50, Y1: 50, X2: 150, Y2: 150}}
	e := fixedEngine(t, face)
	src := image.NewRGBA(image.Rect(0, 0, 200, 200))
	res, err := e.Anonymize(context.Background(), src, Params{Debug: true, Score: true})
	if err != nil {
		t.Fatal(err)
	}
	want := debugdraw.ClassColor("face")
	if got := res.Image.RGBAAt(50, 100); got != want {
		t.Errorf("box edge %v, want %v", got, want)
	}
	m, err := Metadata("dir/a.jpg", res, 0, MetadataOptions{Colors: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Detections[0].Color; c == nil || *c != [3]int{int(want.R), int(want.G), int(want.B)} {
		t.Errorf("metadata colour %v", c)
	}
	if m.Folder == nil || *m.Folder != "dir" || m.Size != [2]int{200, 200} || m.Detections[0].Type != 103 {
		t.Errorf("metadata %+v", m)
	}
}

// TestReidentification anonymizes the committed photos with the defaults
// of each method and runs the face detector on the results: no face it
// found before may be found again.
func TestReidentification(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the face detector on full photos")
	}
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"testdata/group.jpg", "testdata/street.jpg"} {
		img := decodeFile(t, name)
		for _, m := range []Method{Blur, Pixelate, Blacken} {
			res, err := e.Anonymize(ctx, img, Params{Method: m, Classes: []Class{Face}})
			if err != nil {
				t.Fatal(err)
			}
			// The result goes through JPEG, as a user would get it.
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, res.Image, &jpeg.Options{Quality: DefaultQuality}); err != nil {
				t.Fatal(err)
			}
			out, err := jpeg.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			// The face model alone: the head backstop finds the persons
			// again, whose heads are anonymized already.
			again, err := e.Detect(ctx, out, Params{Classes: []Class{Face}, NoHeads: true})
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, a := range again {
				for _, o := range res.Objects {
					if a.Box.IoU(o.Box) > 0.3 {
						found++
						t.Logf("%s %v: face %v (score %.2f) found again (%.2f)", name, m, o.Box, o.Score, a.Score)
						break
					}
				}
			}
			if len(res.Objects) == 0 || found > 0 {
				t.Errorf("%s %v: %d of %d faces found again", name, m, found, len(res.Objects))
			}
		}
	}
}

// TestEncode checks the encoding options: quality and compression level
// change the size, bad values are refused, and nothing is written on
// error.
func TestEncode(t *testing.T) {
	img := noise(128, 96)
	size := func(o EncodeOptions) int {
		var b bytes.Buffer
		if err := Encode(&b, img, o); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		return b.Len()
	}
	if hi, lo := size(EncodeOptions{Quality: 95}), size(EncodeOptions{Quality: 20}); hi <= lo {
		t.Errorf("JPEG quality 95: %d bytes, 20: %d", hi, lo)
	}
	flat := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			flat.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 0, 255})
		}
	}
	pngSize := func(level int) int {
		var b bytes.Buffer
		if err := Encode(&b, flat, EncodeOptions{Format: "png", CompressLevel: level}); err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b.Bytes())); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	if none, best := pngSize(NoCompression), pngSize(9); best >= none {
		t.Errorf("PNG level 9: %d bytes, no compression: %d", best, none)
	}
	for _, o := range []EncodeOptions{{Format: "gif"}, {Quality: 101}, {Quality: -3}, {Format: "png", CompressLevel: 10}} {
		var b bytes.Buffer
		if err := Encode(&b, img, o); !errors.Is(err, ErrOption) || b.Len() != 0 {
			t.Errorf("%+v: %v, %d bytes written", o, err, b.Len())
		}
	}
}

// TestEncodeEXIF checks that an image's EXIF is dropped by default and,
// when kept, comes out without its GPS block and thumbnail.
func TestEncodeEXIF(t *testing.T) {
	data, err := os.ReadFile("internal/imageio/testdata/gps_thumb.jpg")
	if err != nil {
		t.Fatal(err)
	}
	src, err := DecodeSource(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if src.Format != "jpeg" || src.EXIF == nil {
		t.Fatalf("fixture: format %q, %d EXIF bytes", src.Format, len(src.EXIF))
	}
	thumbs := func(b []byte) int { return bytes.Count(b, []byte{0xFF, 0xD8, 0xFF}) }
	if thumbs(data) < 2 {
		t.Fatalf("fixture has no thumbnail")
	}
	for _, keep := range []bool{false, true} {
		o := EncodeOptions{Format: src.Format}
		if keep {
			o.EXIF = src.EXIF
		}
		var b bytes.Buffer
		if err := Encode(&b, src.Image, o); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		exif := imageio.JPEGEXIF(out)
		switch {
		case thumbs(out) != 1:
			t.Errorf("keep=%v: %d embedded JPEGs, want only the image", keep, thumbs(out))
		case !keep && exif != nil:
			t.Errorf("EXIF written without being asked")
		case keep && !bytes.Contains(exif, []byte("veil-test")):
			t.Errorf("kept EXIF lost the camera make")
		case bytes.Contains(exif, []byte{0x88, 0x25}) || bytes.Contains(exif, []byte{0x25, 0x88}):
			t.Errorf("keep=%v: the GPS IFD tag is in the output", keep)
		}
	}
}
