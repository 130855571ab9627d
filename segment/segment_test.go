package segment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/veilkit/veil/internal/testimg"
	"image"
	"image/draw"
	_ "image/jpeg"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/onnx"
	xdraw "golang.org/x/image/draw"
)

func loadRGBA(t testing.TB, path string) *image.RGBA { return testimg.LoadRGBA(t, path) }

var modelData = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile("../models/seg/deeplabv3_mnv2_voc_257.onnx")
})

func newDeepLab(t testing.TB, o onnx.Options) *DeepLab {
	t.Helper()
	b, err := modelData()
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDeepLab(b, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func person(x1, y1, x2, y2 float32) detect.Detection {
	return detect.Detection{Class: detect.Person, Label: "person", Score: 0.8, Box: detect.Box{X1: x1, Y1: y1, X2: x2, Y2: y2}}
}

// boxRect returns det's box as an integer rectangle within img.
func boxRect(img *image.RGBA, det detect.Detection) image.Rectangle {
	return det.Box.Rect().Intersect(img.Rect)
}

// cover returns the fraction of r's pixels that m marks.
func cover(m *mask.Mask, r image.Rectangle) float64 {
	if r.Empty() {
		return 0
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if m.At(x, y) > 0 {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

// checkMask checks that m is the mask of det in img: over the integer
// rectangle of the box grown by d.Spill ∩ img.Rect, with values 0 or 255.
func checkMask(t *testing.T, d *DeepLab, img *image.RGBA, det detect.Detection, m *mask.Mask) {
	t.Helper()
	if m == nil {
		t.Fatalf("%v %v: no mask", det.Class, det.Box)
	}
	b := det.Box
	dx, dy := d.Spill*b.W(), d.Spill*b.H()
	want := detect.Box{X1: b.X1 - dx, Y1: b.Y1 - dy, X2: b.X2 + dx, Y2: b.Y2 + dy}.Rect().Intersect(img.Rect)
	if m.Rect != want || len(m.Pix) != want.Dx()*want.Dy() {
		t.Fatalf("%v %v: mask over %v (%d pixels), want %v", det.Class, det.Box, m.Rect, len(m.Pix), want)
	}
	for _, v := range m.Pix {
		if v != 0 && v != 255 {
			t.Fatalf("%v %v: mask value %d", det.Class, det.Box, v)
		}
	}
}

// checkPerson checks a person's mask: it covers between MinCover and 95%
// of its box (a person is not a rectangle) and most of the box's central
// band (the middle third of its columns, 10–75% of its rows: head and
// torso, as a walking person's legs spread).
func checkPerson(t *testing.T, d *DeepLab, img *image.RGBA, det detect.Detection, m *mask.Mask) {
	t.Helper()
	checkMask(t, d, img, det, m)
	r := boxRect(img, det)
	c := cover(m, r)
	centre := image.Rect(r.Min.X+r.Dx()/3, r.Min.Y+r.Dy()/10, r.Max.X-r.Dx()/3, r.Min.Y+r.Dy()*3/4)
	cc := cover(m, centre)
	t.Logf("person %v: cover %.2f, centre %.2f", r, c, cc)
	if c < float64(d.MinCover) || c > 0.95 {
		t.Errorf("person %v: mask covers %.2f of its box, want %.2f..0.95", r, c, d.MinCover)
	}
	if cc < 0.6 {
		t.Errorf("person %v: mask covers %.2f of the box's centre, want ≥ 0.6", r, cc)
	}
}

// Boxes found by NanoDet-m 416 in street.jpg.
var (
	streetWalker = person(5, 252, 52, 365)
	streetBus    = detect.Detection{Class: detect.Vehicle, Label: "bus", Score: 0.8, Box: detect.Box{X1: 68, Y1: 77, X2: 568, Y2: 424}}
	streetDriver = person(313, 189, 379, 270)
)

func TestStreet(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	d := newDeepLab(t, onnx.Options{})
	face := detect.Detection{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 20, Y1: 255, X2: 35, Y2: 270}}
	dets := []detect.Detection{streetWalker, streetBus, streetDriver, face}
	ms, err := d.Segment(context.Background(), img, dets)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(dets) {
		t.Fatalf("%d masks for %d detections", len(ms), len(dets))
	}
	checkPerson(t, d, img, streetWalker, ms[0])
	checkMask(t, d, img, streetBus, ms[1])
	if c := cover(ms[1], boxRect(img, streetBus)); c < 0.5 {
		t.Errorf("bus mask covers %.2f of its box, want ≥ 0.5", c)
	} else {
		t.Logf("bus cover %.2f", c)
	}
	checkMask(t, d, img, streetDriver, ms[2])
	if ms[3] != nil {
		t.Errorf("face detection got a mask")
	}
}

func TestGroup(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	d := newDeepLab(t, onnx.Options{})
	// Front-row persons at the right edge, found by NanoDet-m 416 in
	// group.jpg (the others' boxes are filled by their neighbours).
	dets := []detect.Detection{person(571, 203, 647, 471), person(637, 198, 720, 471)}
	ms, err := d.Segment(context.Background(), img, dets)
	if err != nil {
		t.Fatal(err)
	}
	for i, det := range dets {
		checkPerson(t, d, img, det, ms[i])
	}
}

// TestGroupNanoDet segments every person NanoDet finds in the crowd of
// group.jpg: all masks lie in their boxes, few fall back to the box, and
// most cover their box's centre.
func TestGroupNanoDet(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	img := loadRGBA(t, "../testdata/group.jpg")
	nb, err := os.ReadFile("../models/object/nanodet_m_416.onnx")
	if err != nil {
		t.Fatal(err)
	}
	nd, err := detect.NewNanoDet(nb, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dets, err := nd.Detect(ctx, img, img.Rect, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) < 40 {
		t.Fatalf("NanoDet found %d objects, want about 70", len(dets))
	}
	d := newDeepLab(t, onnx.Options{})
	d.MinCover = 0 // see the network's own masks
	ms, err := d.Segment(ctx, img, dets)
	if err != nil {
		t.Fatal(err)
	}
	runs := d.Runs()
	var low, centred, full int
	for i, det := range dets {
		if det.Class != detect.Person {
			continue
		}
		checkMask(t, d, img, det, ms[i])
		r := boxRect(img, det)
		c := cover(ms[i], r)
		switch {
		case c < 0.15:
			low++
		case c > 0.95:
			full++
		}
		if cover(ms[i], image.Rect(r.Min.X+r.Dx()/3, r.Min.Y+r.Dy()/10, r.Max.X-r.Dx()/3, r.Min.Y+r.Dy()*3/4)) >= 0.6 {
			centred++
		}
	}
	n := len(dets)
	t.Logf("%d persons in %d runs: %d below 0.15, %d above 0.95, %d with the centre covered", n, runs, low, full, centred)
	if runs > int64(n)*6/10 {
		t.Errorf("%d runs for %d persons, want at most 60%%", runs, n)
	}
	if low > n/10 {
		t.Errorf("%d of %d masks cover less than 0.15 of their box", low, n)
	}
	if full > n/4 {
		t.Errorf("%d of %d masks cover more than 0.95 of their box", full, n)
	}
	if centred < n*7/10 {
		t.Errorf("%d of %d masks cover their box's centre", centred, n)
	}
}

// TestFallback: a "person" on the sky or the road of street.jpg, and a
// person and a vehicle on a flat grey image, get their whole box.
func TestFallback(t *testing.T) {
	street := loadRGBA(t, "../testdata/street.jpg")
	flat := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	car := detect.Detection{Class: detect.Vehicle, Label: "truck", Score: 0.9, Box: detect.Box{X1: 200.5, Y1: 150.5, X2: 390, Y2: 280}}
	d := newDeepLab(t, onnx.Options{})
	for _, tc := range []struct {
		img  *image.RGBA
		dets []detect.Detection
	}{
		{street, []detect.Detection{person(590, 0, 640, 60), person(440, 425, 500, 480)}},
		{flat, []detect.Detection{person(100, 50, 160, 250), car}},
	} {
		d.MinCover = 0
		raw, err := d.Segment(context.Background(), tc.img, tc.dets)
		if err != nil {
			t.Fatal(err)
		}
		d.MinCover = 0.15
		ms, err := d.Segment(context.Background(), tc.img, tc.dets)
		if err != nil {
			t.Fatal(err)
		}
		for i, det := range tc.dets {
			checkMask(t, d, tc.img, det, ms[i])
			if c := cover(raw[i], boxRect(tc.img, det)); c >= 0.15 {
				t.Errorf("%v %v: the network's mask covers %.2f of a flat box", det.Class, det.Box, c)
			}
			if c := cover(ms[i], boxRect(tc.img, det)); c != 1 {
				t.Errorf("%v %v: mask covers %.2f of a flat box, want the whole box", det.Class, det.Box, c)
			}
		}
	}
}

// tenOverlapping are ten overlapping person boxes in group.jpg's front
// rows.
var tenOverlapping = []detect.Detection{
	person(272, 208, 366, 477), person(196, 209, 280, 476), person(352, 208, 440, 478),
	person(424, 224, 513, 478), person(495, 217, 580, 478), person(127, 215, 214, 477),
	person(208, 158, 260, 248), person(282, 151, 337, 238), person(346, 160, 411, 249),
	person(433, 157, 481, 247),
}

func TestGrouping(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	d := newDeepLab(t, onnx.Options{})
	ctx := context.Background()
	grouped, err := d.Segment(ctx, img, tenOverlapping)
	if err != nil {
		t.Fatal(err)
	}
	runs := d.Runs()
	crops, of := d.Crops(img.Rect, tenOverlapping)
	t.Logf("10 persons in %d runs: crops %v", runs, crops)
	if runs >= 10 || runs != int64(len(crops)) {
		t.Errorf("10 overlapping persons took %d runs (%d crops), want fewer than 10", runs, len(crops))
	}
	for i, k := range of {
		if !tenOverlapping[i].Box.Rect().In(crops[k]) {
			t.Errorf("person %d's box %v is not in its crop %v", i, tenOverlapping[i].Box, crops[k])
		}
	}
	// Each member is cut to its own box, and masks of ungrouped runs agree.
	d.GroupArea = 0
	single, err := d.Segment(ctx, img, tenOverlapping)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Runs() - runs; n != 10 {
		t.Errorf("ungrouped: %d runs, want 10", n)
	}
	for i, det := range tenOverlapping {
		checkMask(t, d, img, det, grouped[i])
		if c := cover(grouped[i], boxRect(img, det)); c < float64(d.MinCover) {
			t.Errorf("person %d: grouped mask covers %.2f", i, c)
		}
		in, un := 0, 0
		for k, v := range grouped[i].Pix {
			a, b := v > 0, single[i].Pix[k] > 0
			if a && b {
				in++
			}
			if a || b {
				un++
			}
		}
		if iou := float64(in) / float64(un); iou < 0.6 {
			t.Errorf("person %d: grouped and single masks overlap by IoU %.2f", i, iou)
		}
	}
}

func TestCrops(t *testing.T) {
	d := &DeepLab{size: 257, Margin: 0.15, MinAspect: 0.5, MinCover: 0.15, GroupArea: 1.5, GroupScale: 1.5}
	bounds := image.Rect(0, 0, 1000, 1000)
	for _, tc := range []struct {
		name  string
		dets  []detect.Detection
		crops int
	}{
		{"side by side", []detect.Detection{person(100, 100, 140, 300), person(150, 100, 190, 300)}, 1},
		{"far apart", []detect.Detection{person(100, 100, 140, 300), person(600, 100, 640, 300)}, 2},
		{"big and small", []detect.Detection{person(100, 100, 300, 700), person(200, 200, 240, 300)}, 2},
		{"face", []detect.Detection{{Class: detect.Face, Box: detect.Box{X1: 10, Y1: 10, X2: 50, Y2: 50}}}, 0},
		{"outside", []detect.Detection{person(1100, 100, 1140, 300)}, 0},
	} {
		crops, of := d.Crops(bounds, tc.dets)
		if len(crops) != tc.crops {
			t.Errorf("%s: %d crops %v, want %d", tc.name, len(crops), crops, tc.crops)
		}
		for i, k := range of {
			if k >= 0 && !tc.dets[i].Box.Rect().In(crops[k]) {
				t.Errorf("%s: box %v not in its crop %v", tc.name, tc.dets[i].Box, crops[k])
			}
		}
	}
	// A thin person's crop is widened to half its height (130 pixels),
	// and moved into the image.
	crops, _ := d.Crops(bounds, []detect.Detection{person(0, 100, 40, 300)})
	if want := image.Rect(0, 70, 130, 330); len(crops) != 1 || crops[0] != want {
		t.Errorf("thin person at the edge: crops %v, want %v", crops, want)
	}
}

// TestSubImage: an image whose Rect does not start at 0,0 gives masks in
// its own coordinates, the same as those of a copy at the origin moved.
func TestSubImage(t *testing.T) {
	full := loadRGBA(t, "../testdata/street.jpg")
	r := image.Rect(3, 40, 600, 470)
	sub := full.SubImage(r).(*image.RGBA)
	dets := []detect.Detection{streetWalker, streetBus, person(0, 30, 20, 80)} // the last one is cut by sub's edge
	origin := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(origin, origin.Rect, sub, r.Min, draw.Src)
	moved := make([]detect.Detection, len(dets))
	for i, det := range dets {
		moved[i] = det
		moved[i].Box = det.Box.Translate(-float32(r.Min.X), -float32(r.Min.Y))
	}
	d := newDeepLab(t, onnx.Options{})
	ms, err := d.Segment(context.Background(), sub, dets)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Segment(context.Background(), origin, moved)
	if err != nil {
		t.Fatal(err)
	}
	for i, det := range dets {
		checkMask(t, d, sub, det, ms[i])
		if got := ms[i].Rect.Sub(r.Min); got != want[i].Rect {
			t.Errorf("%v: mask over %v, moved %v, want %v", det.Box, ms[i].Rect, got, want[i].Rect)
			continue
		}
		if !bytes.Equal(ms[i].Pix, want[i].Pix) {
			t.Errorf("%v: mask differs from the one at the origin", det.Box)
		}
	}
	if c := cover(ms[0], boxRect(sub, dets[0])); c < 0.15 || c > 0.95 {
		t.Errorf("walker in the sub-image: cover %.2f", c)
	}
}

func TestCancel(t *testing.T) {
	img := loadRGBA(t, "../testdata/group.jpg")
	d := newDeepLab(t, onnx.Options{})
	d.GroupArea = 0
	for _, workers := range []int{1, 3} {
		d.Workers = workers
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ms, err := d.Segment(ctx, img, tenOverlapping)
		if !errors.Is(err, context.Canceled) || ms != nil {
			t.Errorf("workers %d: cancelled context gave %d masks, error %v", workers, len(ms), err)
		}
	}
	if n := d.Runs(); n != 0 {
		t.Errorf("a cancelled context ran the model %d times", n)
	}
	// Cancelled during the calls: an error, not partial masks.
	ctx, cancel := context.WithCancel(context.Background())
	d.Workers = 2
	done := make(chan struct{})
	go func() {
		for d.Runs() == 0 {
			runtime.Gosched()
		}
		cancel()
		close(done)
	}()
	ms, err := d.Segment(ctx, img, tenOverlapping)
	<-done
	if !errors.Is(err, context.Canceled) || ms != nil {
		t.Errorf("context cancelled in flight: %d masks, error %v", len(ms), err)
	}
}

// TestConcurrent runs Segment from several goroutines at once (run it
// with -race).
func TestConcurrent(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	d := newDeepLab(t, onnx.Options{Threads: 1})
	dets := []detect.Detection{streetWalker, streetDriver, streetBus}
	want, err := d.Segment(context.Background(), img, dets)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			ms, err := d.Segment(context.Background(), img, dets)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range ms {
				if !bytes.Equal(ms[i].Pix, want[i].Pix) {
					t.Errorf("mask %d differs between calls", i)
				}
			}
		})
	}
	wg.Wait()
}

// benchImage is street.jpg scaled to 4000×3000, with ten person boxes of
// the sizes persons have in a 12-megapixel street photo: the walker and
// the driver of the photo, a group of three, a pair, a close-up, a
// far-away one and one more.
func benchImage(b testing.TB) (*image.RGBA, []detect.Detection) {
	src := loadRGBA(b, "../testdata/street.jpg")
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	xdraw.ApproxBiLinear.Scale(img, img.Rect, src, src.Rect, xdraw.Src, nil)
	dets := []detect.Detection{
		person(31, 1575, 325, 2281),    // the walker
		person(1956, 1181, 2369, 1688), // the driver
		person(3550, 1500, 3800, 2150),
		person(3700, 1550, 3950, 2200),
		person(3300, 1600, 3520, 2150),
		person(200, 300, 500, 1100),
		person(2600, 2000, 3100, 2950),
		person(1000, 2300, 1200, 2800),
		person(1250, 2350, 1430, 2800),
		person(1500, 400, 1620, 700),
	}
	return img, dets
}

// BenchmarkSegment10Persons segments ten persons in a 4000×3000 image
// with 1 and 2 threads per run, the crops one at a time (Workers1) and
// as many at a time as NewDeepLab's default.
func BenchmarkSegment10Persons(b *testing.B) {
	img, dets := benchImage(b)
	for _, threads := range []int{1, 2} {
		d := newDeepLab(b, onnx.Options{Threads: threads})
		for _, workers := range slices.Compact([]int{1, d.Workers}) {
			b.Run(fmt.Sprintf("Threads%d/Workers%d", threads, workers), func(b *testing.B) {
				d.Workers = workers
				ctx := context.Background()
				b.ReportAllocs()
				r0 := d.Runs()
				for b.Loop() {
					if _, err := d.Segment(ctx, img, dets); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(d.Runs()-r0)/float64(b.N), "runs/op")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			})
		}
	}
}

// TestSpill cuts the walker's box above the knees: with Spill the mask
// still reaches the legs below the box, without it it stops at the box.
func TestSpill(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	d := newDeepLab(t, onnx.Options{})
	cut := streetWalker
	cut.Box.Y2 = cut.Box.Y1 + 0.75*cut.Box.H()
	below := image.Rect(int(cut.Box.X1), cut.Box.Rect().Max.Y, int(cut.Box.X2), int(cut.Box.Y2+0.1*cut.Box.H()))
	for _, tc := range []struct {
		spill float32
		least float64 // share of the band below the box the mask covers
		most  float64
	}{
		{0, 0, 0},
		{0.15, 0.15, 1},
	} {
		d.Spill = tc.spill
		ms, err := d.Segment(context.Background(), img, []detect.Detection{cut})
		if err != nil {
			t.Fatal(err)
		}
		checkMask(t, d, img, cut, ms[0])
		if c := cover(ms[0], below); c < tc.least || c > tc.most {
			t.Errorf("spill %v: mask covers %.2f of the band below the box, want %.2f..%.2f", tc.spill, c, tc.least, tc.most)
		} else {
			t.Logf("spill %v: mask covers %.2f of the band below the box", tc.spill, c)
		}
	}
}

// TestGrow checks that Grow dilates the walker's mask: every pixel of the
// mask without it stays, and the outline moves out by Grow of the box.
func TestGrow(t *testing.T) {
	img := loadRGBA(t, "../testdata/street.jpg")
	d := newDeepLab(t, onnx.Options{})
	masks := make([]*mask.Mask, 2)
	for i, g := range []float32{0, 0.03} {
		d.Grow = g
		ms, err := d.Segment(context.Background(), img, []detect.Detection{streetWalker})
		if err != nil {
			t.Fatal(err)
		}
		masks[i] = ms[0]
	}
	plain, grown := masks[0], masks[1]
	if plain.Rect != grown.Rect {
		t.Fatalf("rectangles %v and %v differ", plain.Rect, grown.Rect)
	}
	for i, v := range plain.Pix {
		if v != 0 && grown.Pix[i] == 0 {
			t.Fatalf("pixel %d of the mask is lost by growing it", i)
		}
	}
	// The leftmost pixel of the mask's middle row is the leftmost of the
	// rows within Grow of the box's height, moved left by Grow of its
	// width (or to the mask's edge).
	left := func(m *mask.Mask, y int) int {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			if m.At(x, y) != 0 {
				return x
			}
		}
		return m.Rect.Max.X
	}
	y := (plain.Rect.Min.Y + plain.Rect.Max.Y) / 2
	rx, ry := int(math.Round(float64(0.03*streetWalker.Box.W()))), int(math.Round(float64(0.03*streetWalker.Box.H())))
	want := plain.Rect.Max.X
	for yy := y - ry; yy <= y+ry; yy++ {
		want = min(want, left(plain, yy))
	}
	want = max(plain.Rect.Min.X, want-rx)
	if got := left(grown, y); got != want {
		t.Errorf("row %d: grown mask starts at x %d, want %d (the mask without Grow: %d)", y, got, want, left(plain, y))
	}
	if plain.Area() >= grown.Area() {
		t.Errorf("area %d grown, %d without", grown.Area(), plain.Area())
	}
}
