package detect

import (
	"context"
	"image"
	"image/draw"
	"testing"

	"github.com/veilkit/veil/onnx"
)

func newYOLOX(t testing.TB) *YOLOX {
	t.Helper()
	y, err := NewYOLOX(loadModel(t, "object/yolox_nano_dynamic.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TestYOLOXStreet finds the bus, the walker at the left edge and the bus
// driver of street.jpg (boxes read off the photo by eye).
func TestYOLOXStreet(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	y := newYOLOX(t)
	dets, err := y.Detect(context.Background(), img, img.Rect, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dets {
		t.Logf("%s %s %.2f %v", d.Class, d.Label, d.Score, d.Box)
	}
	for _, want := range []Detection{
		{Class: Vehicle, Label: "bus", Box: Box{48, 70, 592, 430}},
		{Class: Person, Box: Box{5, 252, 52, 365}},
		{Class: Person, Box: Box{313, 189, 379, 270}},
	} {
		best := float32(0)
		for _, d := range dets {
			if d.Class == want.Class && (want.Label == "" || d.Label == want.Label) {
				best = max(best, d.Box.IoU(want.Box))
			}
		}
		if best < 0.5 {
			t.Errorf("%v %s %v: best IoU %.2f, want ≥ 0.5", want.Class, want.Label, want.Box, best)
		}
	}
}

// TestYOLOXRegion checks the letterbox's mapping back to the image: a
// region of an image gives the detections of the same pixels cut out as
// an image of their own, moved by the region's corner.
func TestYOLOXRegion(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	r := image.Rect(37, 21, 600, 470)
	crop := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(crop, crop.Rect, img, r.Min, draw.Src)
	y := newYOLOX(t)
	ctx := context.Background()
	got, err := y.Detect(ctx, img, r, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := y.Detect(ctx, crop, crop.Rect, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("%d detections in the region, %d in the crop", len(got), len(want))
	}
	for i := range got {
		w := want[i].Box.Translate(float32(r.Min.X), float32(r.Min.Y))
		if got[i].Class != want[i].Class || got[i].Score != want[i].Score || got[i].Box != w {
			t.Errorf("detection %d: %v %.3f %v in the region, %v %.3f %v in the crop (moved)", i,
				got[i].Class, got[i].Score, got[i].Box, want[i].Class, want[i].Score, w)
		}
	}
}

func TestYOLOXInputSize(t *testing.T) {
	y := newYOLOX(t)
	for _, tc := range []struct {
		long, w, h     int
		iw, ih, sw, sh int
	}{
		{832, 640, 480, 832, 640, 832, 624},
		{832, 1920, 1080, 832, 480, 832, 468},
		{832, 100, 1000, 96, 832, 83, 832},
		{640, 64, 64, 640, 640, 640, 640},
		{100, 640, 480, 96, 96, 96, 72}, // LongSide rounded down to 32
	} {
		y.LongSide = tc.long
		iw, ih, sw, sh := y.inputSize(tc.w, tc.h)
		if iw != tc.iw || ih != tc.ih || sw != tc.sw || sh != tc.sh {
			t.Errorf("LongSide %d, %dx%d: input %dx%d holding %dx%d, want %dx%d holding %dx%d",
				tc.long, tc.w, tc.h, iw, ih, sw, sh, tc.iw, tc.ih, tc.sw, tc.sh)
		}
	}
}

// TestYOLOXTiles checks that the tile pass on a large image adds
// persons and loses none.
func TestYOLOXTiles(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	y := newYOLOX(t)
	y.Tiles, y.TileAbove = 2, 600
	if max(img.Rect.Dx(), img.Rect.Dy()) <= y.TileAbove {
		t.Fatalf("group.jpg is %v, not over %d", img.Rect.Size(), y.TileAbove)
	}
	ctx := context.Background()
	tiled, err := y.Detect(ctx, img, img.Rect, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := y.WithTiles(0).Detect(ctx, img, img.Rect, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d persons with tiles, %d without", count(tiled, Person), count(whole, Person))
	if count(tiled, Person) <= count(whole, Person) {
		t.Errorf("%d persons with tiles, %d without", count(tiled, Person), count(whole, Person))
	}
}

func TestNewYOLOXErrors(t *testing.T) {
	if _, err := NewYOLOX(loadModel(t, "object/nanodet_m_416.onnx"), onnx.Options{}); err == nil {
		t.Error("NanoDet loaded as a YOLOX model")
	}
	if _, err := NewYOLOX([]byte("not a model"), onnx.Options{}); err == nil {
		t.Error("garbage loaded as a YOLOX model")
	}
}

// TestWithoutTiles checks that the object detectors are Tiled and that
// WithoutTiles turns the tile pass off, keeping the model.
func TestWithoutTiles(t *testing.T) {
	y := &YOLOX{Tiles: 2}
	var d Detector = y
	tl, ok := d.(Tiled)
	if !ok {
		t.Fatal("*YOLOX is not Tiled")
	}
	if u := tl.WithoutTiles().(*YOLOX); u.Tiles != 0 || y.Tiles != 2 {
		t.Errorf("WithoutTiles: tiles %d (original %d), want 0 (2)", u.Tiles, y.Tiles)
	}
	nd := &NanoDet{Tiles: 2}
	if u := Detector(nd).(Tiled).WithoutTiles().(*NanoDet); u.Tiles != 0 || nd.Tiles != 2 {
		t.Errorf("NanoDet WithoutTiles: tiles %d (original %d), want 0 (2)", u.Tiles, nd.Tiles)
	}
}
