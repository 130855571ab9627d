package veil

import (
	"context"
	"errors"
	"image"
	_ "image/jpeg"
	"os"
	"testing"
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
		if d.Score < DefaultFaceThreshold {
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
	whole, err := e.Detect(ctx, img, Params{Classes: []Class{Face}})
	if err != nil {
		t.Fatal(err)
	}
	tiled, err := e.Detect(ctx, img, Params{Classes: []Class{Face}, Format: `{"number":[3,2],"overlap":[0.2,0.2]}`})
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
