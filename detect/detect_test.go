package detect

import (
	"context"
	"github.com/veilkit/veil/internal/testimg"
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"testing"

	"github.com/veilkit/veil/onnx"
)

func loadRGBA(t testing.TB, path string) *image.RGBA { return testimg.LoadRGBA(t, path) }

func loadModel(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../models/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(dets []Detection, c Class) int {
	n := 0
	for _, d := range dets {
		if d.Class == c {
			n++
		}
	}
	return n
}

func TestYuNetGroup(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	ctx := context.Background()
	for _, name := range []string{"face/yunet_n_dynamic.onnx", "face/yunet_n_640_640.onnx"} {
		y, err := NewYuNet(loadModel(t, name), onnx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dets, err := y.Detect(ctx, img, img.Rect, 0.6)
		if err != nil {
			t.Fatal(err)
		}
		// MANIFEST: YuNet-n at native resolution finds 52 faces here.
		if n := count(dets, Face); n < 45 || n > 60 {
			t.Errorf("%s: %d faces, want about 52", name, n)
		}
		for _, d := range dets {
			if len(d.Points) != 5 {
				t.Fatalf("%s: face with %d landmarks", name, len(d.Points))
			}
			if !d.Box.Rect().In(img.Rect.Inset(-20)) {
				t.Errorf("%s: face box %v outside the image", name, d.Box)
			}
			// The nose lies inside the face box.
			if n := d.Points[2]; n.X < d.Box.X1 || n.X > d.Box.X2 || n.Y < d.Box.Y1 || n.Y > d.Box.Y2 {
				t.Errorf("%s: nose %v outside its face %v", name, n, d.Box)
			}
		}
	}
}

func TestLPDYuNet(t *testing.T) {
	img := loadRGBA(t, "../testdata/plate.jpg")
	l, err := NewLPDYuNet(loadModel(t, "plate/lpd_yunet_2023mar.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dets, err := l.Detect(context.Background(), img, img.Rect, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// MANIFEST: one plate at [212,499,405,602], score 0.87.
	if len(dets) != 1 {
		t.Fatalf("%d plates, want 1: %+v", len(dets), dets)
	}
	want := Box{212, 499, 405, 602}
	if iou := dets[0].Box.IoU(want); iou < 0.8 {
		t.Errorf("plate %v, want about %v (IoU %.2f)", dets[0].Box, want, iou)
	}
	if s := dets[0].Score; s < 0.8 || s > 0.95 {
		t.Errorf("plate score %.2f, want about 0.87", s)
	}
	if len(dets[0].Points) != 4 {
		t.Errorf("plate with %d corners", len(dets[0].Points))
	}
}

func TestNanoDetStreet(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	nd, err := NewNanoDet(loadModel(t, "object/nanodet_m_416.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dets, err := nd.Detect(context.Background(), img, img.Rect, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dets {
		t.Logf("%s %s %.2f %v", d.Class, d.Label, d.Score, d.Box)
	}
	if count(dets, Vehicle) < 1 {
		t.Errorf("no vehicle (the bus) found")
	}
	if count(dets, Person) < 1 {
		t.Errorf("no person found")
	}
}

func TestNMS(t *testing.T) {
	dets := []Detection{
		{Class: Face, Score: 0.5, Box: Box{0, 0, 10, 10}},
		{Class: Face, Score: 0.9, Box: Box{1, 1, 11, 11}},
		{Class: Person, Score: 0.8, Box: Box{0, 0, 10, 10}},
		{Class: Face, Score: 0.7, Box: Box{50, 50, 60, 60}},
	}
	got := NMS(dets, 0.3)
	if len(got) != 3 || got[0].Score != 0.9 || got[1].Class != Person || got[2].Score != 0.7 {
		t.Errorf("NMS = %+v", got)
	}
}

func TestSuperset(t *testing.T) {
	kept := []Detection{
		{Class: Face, Score: 0.9, Box: Box{0, 0, 10, 10}},
		{Class: Person, Score: 0.8, Box: Box{50, 0, 60, 10}},
	}
	must := []Detection{
		{Class: Face, Score: 0.6, Box: Box{1, 0, 11, 10}},    // IoU 0.82 with a kept face: found
		{Class: Face, Score: 0.7, Box: Box{6, 0, 16, 10}},    // IoU 0.25: dropped by NMS, comes back
		{Class: Face, Score: 0.65, Box: Box{6.5, 0, 16, 10}}, // a duplicate of the one above: once
		{Class: Face, Score: 0.6, Box: Box{50, 0, 60, 10}},   // a person's box is not a face
	}
	got := Superset(kept, must, 0.5)
	want := []float32{0.9, 0.8, 0.7, 0.6}
	if len(got) != len(want) {
		t.Fatalf("Superset = %+v, want scores %v", got, want)
	}
	for k, d := range got {
		if d.Score != want[k] {
			t.Errorf("Superset[%d] = %+v, want score %v", k, d, want[k])
		}
	}
}

func TestLPDPriors(t *testing.T) {
	if n := len(lpdPriors(320, 240)); n != 4385 {
		t.Errorf("%d priors, want 4385", n)
	}
}

func TestWindows(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 4320, 2868), image.Rect(10, 20, 1300, 1290), image.Rect(0, 0, 2000, 500)} {
		ws := windows(r, 1280, 160)
		cover := image.Rectangle{}
		for k, w := range ws {
			if w.Dx() > 1280 || w.Dy() > 1280 || !w.In(r) {
				t.Errorf("%v: window %v", r, w)
			}
			cover = cover.Union(w)
			// Neighbours in a row overlap by at least 160 px.
			if k > 0 && ws[k-1].Min.Y == w.Min.Y && ws[k-1].Max.X-w.Min.X < 160 {
				t.Errorf("%v: windows %v and %v overlap by %d", r, ws[k-1], w, ws[k-1].Max.X-w.Min.X)
			}
		}
		if cover != r {
			t.Errorf("%v: windows cover %v", r, cover)
		}
	}
}

// TestTensorIdentity checks the no-resampling path against the general
// one on a size where both apply the same arithmetic.
func TestTensorIdentity(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	r := image.Rect(13, 7, 13+64, 7+48)
	for _, n := range []Norm{yunetNorm, nanodetNorm, {NHWC: true, Mean: [3]float32{127.5, 127.5, 127.5}, Std: [3]float32{127.5, 127.5, 127.5}}} {
		got := make([]float32, 3*64*48)
		Tensor(got, img, r, 64, 48, n)
		for y := 0; y < 48; y++ {
			for x := 0; x < 64; x++ {
				p := img.RGBAAt(r.Min.X+x, r.Min.Y+y)
				raw := [3]float32{float32(p.R), float32(p.G), float32(p.B)}
				if n.BGR {
					raw[0], raw[2] = raw[2], raw[0]
				}
				for c := 0; c < 3; c++ {
					want := (raw[c] - n.Mean[c]) / n.Std[c]
					i := c*64*48 + y*64 + x
					if n.NHWC {
						i = (y*64+x)*3 + c
					}
					if d := got[i] - want; d > 1e-5 || d < -1e-5 {
						t.Fatalf("%+v: (%d,%d) channel %d = %v, want %v", n, x, y, c, got[i], want)
					}
				}
			}
		}
	}
}

// TestTensorHalving checks that a downscale by 2 and more, which halves
// first, stays close to the triangle filter run on the full region: the
// two differ by the box's extra smoothing only.
func TestTensorHalving(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	r := img.Rect
	for _, sz := range []image.Point{{r.Dx() / 2, r.Dy() / 2}, {r.Dx() / 5, r.Dy() / 4}, {r.Dx() / 2, r.Dy()}} {
		got := make([]float32, 3*sz.X*sz.Y)
		Tensor(got, img, r, sz.X, sz.Y, yunetNorm)
		want := make([]float32, len(got))
		resample(want, sz.X, sz.Y, img, r, sz.X, sz.Y, yunetNorm)
		var sum float64
		for i := range got {
			sum += math.Abs(float64(got[i] - want[i]))
		}
		if mean := sum / float64(len(got)); mean > 4 {
			t.Errorf("%v: mean difference %.2f levels from the unhalved filter, want ≤ 4", sz, mean)
		}
	}
}

func TestCalibrate(t *testing.T) {
	for _, k := range []float32{1, 1.5, 1.6} {
		if Calibrate(0, k) != 0 || Calibrate(1, k) != 1 {
			t.Errorf("k %v: Calibrate(0), Calibrate(1) = %v, %v, want 0, 1", k, Calibrate(0, k), Calibrate(1, k))
		}
		prev := float32(-1)
		for s := float32(0); s <= 1; s += 0.01 {
			c := Calibrate(s, k)
			if c <= prev || c < s || c > 1 {
				t.Fatalf("k %v: Calibrate(%v) = %v after %v: not increasing in [s, 1]", k, s, c, prev)
			}
			prev = c
		}
	}
	// Odds ×1.5: a raw 0.4 (odds 2/3) becomes 0.5 (odds 1).
	if c := Calibrate(0.4, 1.5); c < 0.4999 || c > 0.5001 {
		t.Errorf("Calibrate(0.4, 1.5) = %v, want 0.5", c)
	}
}

func TestGrid(t *testing.T) {
	r := image.Rect(10, 20, 650, 500)
	ts := Grid(r, 2, 0.25)
	if len(ts) != 4 {
		t.Fatalf("%d tiles", len(ts))
	}
	cover := image.Rectangle{}
	for _, tl := range ts {
		if !tl.In(r) || tl.Dx() != 366 || tl.Dy() != 274 {
			t.Errorf("tile %v of %v", tl, r)
		}
		cover = cover.Union(tl)
	}
	if cover != r {
		t.Errorf("tiles cover %v, want %v", cover, r)
	}
	// Overlap: 2·366 − 640 = 92 px, a quarter of a tile.
	if o := ts[0].Max.X - ts[1].Min.X; o != 92 {
		t.Errorf("overlap %d px, want 92", o)
	}
	// Tiles larger than the region shrink to it.
	if ts := GridOf(r, 2, 1000, 100); ts[0] != image.Rect(10, 20, 650, 120) || ts[3] != image.Rect(10, 400, 650, 500) {
		t.Errorf("GridOf = %v", ts)
	}
}

func TestCutByTile(t *testing.T) {
	r := image.Rect(0, 0, 100, 100)
	tile := image.Rect(0, 40, 60, 100) // inner edges: top (40) and right (60)
	for _, tt := range []struct {
		b   Box
		cut bool
	}{
		{Box{0, 50, 20, 70}, false},   // at the region's left edge
		{Box{10, 60, 30, 100}, false}, // at the region's bottom edge
		{Box{10, 41, 30, 60}, true},   // at the tile's top edge
		{Box{30, 60, 59, 80}, true},   // at the tile's right edge
		{Box{30, 45, 55, 80}, false},
	} {
		if got := CutByTile(tt.b, tile, r); got != tt.cut {
			t.Errorf("CutByTile(%v) = %v, want %v", tt.b, got, tt.cut)
		}
	}
}

// TestYuNetMinSide checks that a dynamic model runs a small region scaled
// up to MinSide, a middle one at its own size, and a large one scaled
// down to MaxSide, its aspect kept.
func TestYuNetMinSide(t *testing.T) {
	y := &YuNet{MaxSide: 1280, MinSide: 640}
	for _, tt := range []struct{ w, h, ww, wh int }{
		{416, 416, 640, 640},
		{400, 300, 640, 480},
		{720, 478, 720, 478},
		{2000, 1000, 1280, 640},
		{1920, 1080, 1280, 720},
	} {
		if w, h := y.inputSize(tt.w, tt.h, 1); w != tt.ww || h != tt.wh {
			t.Errorf("%dx%d: input %dx%d, want %dx%d", tt.w, tt.h, w, h, tt.ww, tt.wh)
		}
	}
}

// TestNanoDetTiles checks that the tile pass finds at least what the
// whole-image pass finds on a photo larger than the input, and no object
// twice.
func TestNanoDetTiles(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	nd, err := NewNanoDet(loadModel(t, "object/nanodet_m_416.onnx"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tiled, err := nd.Detect(ctx, img, img.Rect, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	nd.Tiles = 0
	whole, err := nd.Detect(ctx, img, img.Rect, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	if count(tiled, Person) < count(whole, Person) {
		t.Errorf("%d persons with tiles, %d without", count(tiled, Person), count(whole, Person))
	}
	for i, a := range tiled {
		for _, b := range tiled[i+1:] {
			if a.Class == b.Class && a.Box.IoU(b.Box) > nd.NMSIoU {
				t.Errorf("duplicates %v and %v", a, b)
			}
		}
	}
}
