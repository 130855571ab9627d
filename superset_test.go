package veil

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/onnx"
)

// widerImages is the shared WIDER sample (100 val photos, 416×416).
const widerImages = "../shared/data/wider_face_val_subset/images"

// TestFacePlainPassSuperset checks, on every photo of the shared WIDER
// sample, that Detect finds each face one plain pass of the face model
// finds (the photo at its own size, no upscaling, windows or second
// scale) at the default threshold: a face of the plain pass must match a
// face of Detect with IoU at least 0.5. The engine's passes upscale
// small photos, where YuNet finds faces the plain pass misses, and must
// not lose on the way any face the plain pass has.
func TestFacePlainPassSuperset(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(widerImages, "*", "*.jpg"))
	if len(files) == 0 {
		t.Skipf("%s is absent (the shared evaluation data)", widerImages)
	}
	if testing.Short() {
		files = files[:10]
	}
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := detect.NewYuNet(faceModel, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain.MinSide, plain.MaxSide, plain.Scales = 0, 0, nil
	var faces, recovered int
	for _, f := range files {
		img := decodeFile(t, f)
		rgba, err := toRGBA(img)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Detect(context.Background(), rgba, rgba.Rect, DefaultFaceThreshold)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Detect(context.Background(), img, Params{Classes: []Class{Face}})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			faces++
			best := float32(0)
			for _, g := range got {
				if g.Class == Face {
					best = max(best, g.Box.IoU(w.Box))
				}
			}
			if best < 0.5 {
				t.Errorf("%s: the plain pass's face %v (score %.2f) is not in Detect's output (best IoU %.2f)", filepath.Base(f), w.Box, w.Score, best)
			}
		}
		recovered += len(got)
	}
	t.Logf("%d photos: %d faces from the plain pass; Detect found %d", len(files), faces, recovered)
}
