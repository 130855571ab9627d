package detect

import (
	"context"
	"errors"
	"image"
	"testing"

	"github.com/veilkit/veil/onnx"
)

// TestUltraFaceGroup checks UltraFace-RFB-640 on the group photo: most of
// its 52 faces found (the 640×480 input is about the photo's size), each
// box inside the image and overlapping one of YuNet's faces.
func TestUltraFaceGroup(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	ctx := context.Background()
	u, err := NewUltraFace(loadModel(t, "face/ultraface_rfb_640.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w, h := u.InputSize(); w != 640 || h != 480 {
		t.Errorf("input %dx%d, want 640x480", w, h)
	}
	faces, err := u.Detect(ctx, img, img.Rect, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	y, err := NewYuNet(loadModel(t, "face/yunet_n_dynamic.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := y.Detect(ctx, img, img.Rect, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(faces, Face); n < 35 || n > 60 {
		t.Errorf("%d faces, want most of YuNet's %d", n, len(ref))
	}
	for _, d := range faces {
		if !d.Box.Rect().In(img.Rect.Inset(-20)) || d.Score < 0.6 || d.Score > 1 {
			t.Errorf("face %v score %v", d.Box, d.Score)
		}
		best := float32(0)
		for _, r := range ref {
			best = max(best, r.Box.IoU(d.Box))
		}
		if best < 0.3 {
			t.Errorf("face %v (score %.2f) overlaps no YuNet face (best IoU %.2f)", d.Box, d.Score, best)
		}
	}
	// A sub-region: boxes come back in the image's coordinates.
	r := image.Rect(0, 0, img.Rect.Dx()/2, img.Rect.Dy())
	half, err := u.Detect(ctx, img, r, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range half {
		if !d.Box.Rect().In(r.Inset(-10)) {
			t.Errorf("face %v outside the region %v", d.Box, r)
		}
	}
}

func TestUltraFaceBadModel(t *testing.T) {
	if _, err := NewUltraFace(loadModel(t, "face/yunet_n_640_640.onnx"), onnx.Options{}); err == nil {
		t.Error("a YuNet model loaded as UltraFace")
	}
	if _, err := NewUltraFace([]byte("not a model"), onnx.Options{}); err == nil {
		t.Error("garbage loaded as UltraFace")
	}
}

// fixed is a Detector that returns its detections, or its error.
type fixed struct {
	dets []Detection
	err  error
}

func (f fixed) Classes() []Class {
	var cs []Class
	for _, d := range f.dets {
		cs = append(cs, d.Class)
	}
	return cs
}

func (f fixed) Detect(context.Context, *image.RGBA, image.Rectangle, float32) ([]Detection, error) {
	return append([]Detection(nil), f.dets...), f.err
}

func TestUnion(t *testing.T) {
	face := func(score float32, x1, y1, x2, y2 float32) Detection {
		return Detection{Class: Face, Score: score, Box: Box{x1, y1, x2, y2}}
	}
	a := fixed{dets: []Detection{
		face(0.9, 0, 0, 10, 10),
		face(0.6, 100, 100, 110, 110),
	}}
	b := fixed{dets: []Detection{
		face(0.8, 1, 1, 11, 11),                                   // the same face, IoU 0.68: dropped
		face(0.7, 99, 95, 112, 112),                               // contains a's weaker face, IoU 0.45
		face(0.5, 50, 50, 60, 60),                                 // a face a missed
		{Class: LicensePlate, Score: 0.9, Box: Box{0, 0, 10, 10}}, // another class: kept
	}}
	u := &Union{Detectors: []Detector{a, b}, IoU: 0.5, Inside: 0.6}
	got, err := u.Detect(context.Background(), nil, image.Rect(0, 0, 200, 200), 0.5)
	if err != nil {
		t.Fatal(err)
	}
	want := []Box{{0, 0, 10, 10}, {0, 0, 10, 10}, {99, 95, 112, 112}, {50, 50, 60, 60}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want boxes %v", got, want)
	}
	for k, d := range got {
		if d.Box != want[k] {
			t.Errorf("detection %d: %v, want %v", k, d.Box, want[k])
		}
	}
	if cs := u.Classes(); len(cs) != 2 {
		t.Errorf("classes %v, want face and license-plate", cs)
	}
	boom := errors.New("boom")
	u.Detectors = append(u.Detectors, fixed{err: boom})
	if _, err := u.Detect(context.Background(), nil, image.Rect(0, 0, 1, 1), 0.5); !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
}
