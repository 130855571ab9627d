package main

import (
	"context"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
	xdraw "golang.org/x/image/draw"
)

func box(x1, y1, x2, y2 float32) detect.Box { return detect.Box{X1: x1, Y1: y1, X2: x2, Y2: y2} }

func TestMatch(t *testing.T) {
	g := gtBox{box: box(0, 0, 10, 10)}
	// box(0, 0, 10, 10) against box(0, 0, 10, x2): IoU = x2/10 for x2 <= 10.
	tests := []struct {
		name string
		dets []detBox
		gts  []gtBox
		want counts
	}{
		{"perfect", []detBox{{box: box(0, 0, 10, 10), score: 0.9}}, []gtBox{g}, counts{tp: 1, ngt: 1}},
		{"no detections", nil, []gtBox{g, g}, counts{ngt: 2}},
		{"no truth", []detBox{{box: box(0, 0, 10, 10), score: 0.9}}, nil, counts{fp: 1}},
		{"duplicate is a false positive", []detBox{
			{box: box(0, 0, 10, 10), score: 0.8}, {box: box(0, 0, 10, 9), score: 0.9}},
			[]gtBox{g}, counts{tp: 1, fp: 1, ngt: 1}},
		{"IoU exactly 0.5 matches", []detBox{{box: box(0, 0, 10, 5), score: 0.9}}, []gtBox{g}, counts{tp: 1, ngt: 1}},
		{"IoU just below 0.5", []detBox{{box: box(0, 0, 10, 4.99), score: 0.9}}, []gtBox{g}, counts{fp: 1, ngt: 1}},
		{"each truth once, best IoU first", []detBox{
			{box: box(0, 0, 10, 10), score: 0.9}, {box: box(10, 0, 20, 10), score: 0.8}},
			[]gtBox{{box: box(10, 0, 20, 10)}, g}, counts{tp: 2, ngt: 2}},
		{"higher score takes the truth", []detBox{
			{box: box(0, 0, 10, 6), score: 0.5}, {box: box(0, 0, 10, 9), score: 0.7}},
			[]gtBox{g}, counts{tp: 1, fp: 1, ngt: 1}},
		// The >=16px rule: small truth is ignored, and so is a small
		// detection that matches no counted truth.
		{">=16px: match on small truth is neither", []detBox{{box: box(0, 0, 10, 10), score: 0.9, ignore: true}},
			[]gtBox{{box: box(0, 0, 10, 10), ignore: true}}, counts{}},
		{">=16px: big detection on small truth is neither", []detBox{{box: box(0, 0, 18, 18), score: 0.9}},
			[]gtBox{{box: box(0, 0, 14, 14), ignore: true}}, counts{}},
		{">=16px: unmatched small detection is neither", []detBox{{box: box(50, 50, 60, 60), score: 0.9, ignore: true}},
			[]gtBox{{box: box(0, 0, 20, 20)}}, counts{ngt: 1}},
		{">=16px: small detection on a counted face is a hit", []detBox{{box: box(0, 0, 15, 15), score: 0.9, ignore: true}},
			[]gtBox{{box: box(0, 0, 16, 16)}}, counts{tp: 1, ngt: 1}},
		{">=16px: unmatched big detection is a false positive", []detBox{{box: box(50, 50, 70, 70), score: 0.9}},
			[]gtBox{{box: box(0, 0, 10, 10), ignore: true}}, counts{fp: 1}},
		{">=16px: counted truth preferred over ignored", []detBox{{box: box(0, 0, 20, 20), score: 0.9}},
			[]gtBox{{box: box(0, 0, 20, 19), ignore: true}, {box: box(0, 0, 20, 15)}}, counts{tp: 1, ngt: 1}},
		{"ignored truth matched once", []detBox{
			{box: box(0, 0, 10, 10), score: 0.9}, {box: box(0, 0, 10, 10), score: 0.8}},
			[]gtBox{{box: box(0, 0, 10, 10), ignore: true}}, counts{fp: 1}},
		{"crowd absorbs detections inside it", []detBox{
			{box: box(0, 0, 10, 10), score: 0.9}, {box: box(20, 0, 30, 10), score: 0.8}, {box: box(95, 0, 105, 10), score: 0.7}},
			[]gtBox{{box: box(0, 0, 100, 100), crowd: true}}, counts{}},
		{"crowd: mostly outside is a false positive", []detBox{{box: box(96, 0, 106, 10), score: 0.9}},
			[]gtBox{{box: box(0, 0, 100, 100), crowd: true}}, counts{fp: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := match(tt.dets, tt.gts); got != tt.want {
				t.Errorf("match = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSubset(t *testing.T) {
	objs := []object{
		{class: veil.Face, label: "face", box: box(0, 0, 20, 15)},
		{class: veil.Face, label: "face", box: box(0, 0, 16, 30)},
		{class: veil.Vehicle, label: "truck", box: box(0, 0, 50, 50)},
		{class: veil.Vehicle, label: "car", box: box(0, 0, 50, 50), crowd: true},
	}
	faces := subset{class: veil.Face, name: ">=16px", minSide: 16}.truth(objs)
	if len(faces) != 2 || !faces[0].ignore || faces[1].ignore {
		t.Errorf(">=16px truth = %+v, want the first face ignored", faces)
	}
	cars := subset{class: veil.Vehicle, name: "car", label: "car"}.truth(objs)
	if len(cars) != 1 || !cars[0].crowd {
		t.Errorf("car truth = %+v, want the crowd car", cars)
	}
	dets := subset{class: veil.Vehicle, name: "car", label: "car"}.dets([]veil.Detection{
		{Class: veil.Vehicle, Label: "car", Score: 0.5}, {Class: veil.Vehicle, Label: "bus"}, {Class: veil.Person, Label: "car"}})
	if len(dets) != 1 || dets[0].score != 0.5 {
		t.Errorf("car detections = %+v, want one", dets)
	}
}

func TestParseWider(t *testing.T) {
	in := "# 0--Parade/a.jpg 416 416 orig 1024 819\n1 2 11 22\n3.5 4 13.5 24\n\n# 1--Handshaking/b.jpg\n# c.jpg 100 50\n0 0 5 5 extra fields\n"
	got, err := parseWider(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3: %+v", len(got), got)
	}
	a, b, c := got[0], got[1], got[2]
	if a.path != "0--Parade/a.jpg" || a.w != 416 || a.h != 416 || len(a.objects) != 2 ||
		a.objects[1].box != box(3.5, 4, 13.5, 24) || a.objects[0].class != veil.Face || a.ow != 1024 || a.oh != 819 {
		t.Errorf("first sample %+v", a)
	}
	if b.path != "1--Handshaking/b.jpg" || b.w != 0 || len(b.objects) != 0 {
		t.Errorf("second sample %+v", b)
	}
	if c.w != 100 || c.h != 50 || c.ow != 0 || len(c.objects) != 1 {
		t.Errorf("third sample %+v", c)
	}
	// Boxes in a 100×50 frame, image 200×200.
	if o := c.scaled(image.Rect(0, 0, 200, 200)); o[0].box != box(0, 0, 10, 20) {
		t.Errorf("scaled %v, want [0 0 10 20]", o[0].box)
	}
	for _, bad := range []string{"1 2 3 4\n", "# a.jpg\n1 2 3\n", "# a.jpg x 416\n", "# a.jpg\n1 2 3 z\n", "#\n", "# a.jpg 416 416 orig 0 300\n"} {
		if _, err := parseWider(strings.NewReader(bad)); err == nil {
			t.Errorf("parseWider(%q) succeeded", bad)
		}
	}
}

// TestUnsquash squashes the group photo to half its width and checks that
// the faces found on it unsquashed (told the original size), mapped back,
// lie where Detect finds them on the original, in the squashed pixels.
func TestUnsquash(t *testing.T) {
	img, err := decode("../../../testdata/group.jpg")
	if err != nil {
		t.Fatal(err)
	}
	e, err := veil.New()
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	squashed := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()))
	xdraw.BiLinear.Scale(squashed, squashed.Rect, img, b, xdraw.Src, nil)
	p := veil.Params{Classes: []veil.Class{veil.Face}}
	want, err := e.Detect(context.Background(), img, p)
	if err != nil {
		t.Fatal(err)
	}
	big := unsquash(squashed, b.Dx(), b.Dy())
	if big.Rect != image.Rect(0, 0, b.Dx()/2*2, b.Dy()) {
		t.Fatalf("unsquashed to %v, want the original's width", big.Rect)
	}
	got, err := e.Detect(context.Background(), big, p)
	if err != nil {
		t.Fatal(err)
	}
	mapBack(got, big.Rect, squashed.Rect)
	if len(want) < 40 || math.Abs(float64(len(got)-len(want))) > 0.1*float64(len(want)) {
		t.Fatalf("%d faces unsquashed, %d on the original", len(got), len(want))
	}
	var matched int
	for _, g := range got {
		for _, w := range want {
			if g.Box.IoU(box(w.Box.X1/2, w.Box.Y1, w.Box.X2/2, w.Box.Y2)) >= 0.5 {
				matched++
				break
			}
		}
	}
	if matched < len(got)*9/10 {
		t.Errorf("%d of %d faces found unsquashed lie on a face of the original (halved in x)", matched, len(got))
	}
}

func TestParsePlates(t *testing.T) {
	got, err := parsePlates("eu1.jpg\t396\t340\t203\t46\tM5XSXX\r\nus2.jpg\t1\t2\t3\t4\tAB 123\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].box != box(396, 340, 599, 386) || got[1].box != box(1, 2, 4, 6) || got[0].class != veil.LicensePlate {
		t.Errorf("parsePlates = %+v", got)
	}
	for _, bad := range []string{"a.jpg 1 2 3 4 X\n", "a.jpg\t1\t2\tw\t4\tX\n"} {
		if _, err := parsePlates(bad); err == nil {
			t.Errorf("parsePlates(%q) succeeded", bad)
		}
	}
}

func TestParseCOCO(t *testing.T) {
	in := `{"images": [{"id": 7, "file_name": "b.jpg"}, {"id": 3, "file_name": "a.jpg"}],
	"annotations": [
		{"image_id": 7, "category_id": 1, "bbox": [1, 2, 10, 20], "iscrowd": 0,
			"segmentation": [[1, 2, 11, 2, 11, 22], [1, 2, 1, 22, 11, 22.5]]},
		{"image_id": 7, "category_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1,
			"segmentation": {"size": [50, 50], "counts": "0Q21"}},
		{"image_id": 7, "category_id": 3, "bbox": [5, 5, 5, 5], "iscrowd": 0},
		{"image_id": 7, "category_id": 18, "bbox": [5, 5, 5, 5], "iscrowd": 0},
		{"image_id": 99, "category_id": 1, "bbox": [5, 5, 5, 5], "iscrowd": 0}],
	"categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}]}`
	got, err := parseCOCO(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].path != "a.jpg" || len(got[0].objects) != 0 || got[1].path != "b.jpg" {
		t.Fatalf("parseCOCO = %+v", got)
	}
	o := got[1].objects
	if len(o) != 3 || o[0].class != veil.Person || o[0].box != box(1, 2, 11, 22) || o[0].crowd ||
		!o[1].crowd || o[2].class != veil.Vehicle || o[2].label != "car" {
		t.Errorf("objects = %+v", o)
	}
	if len(o[0].polys) != 2 || len(o[0].polys[1]) != 6 || o[0].polys[1][5] != 22.5 || o[1].polys != nil || o[2].polys != nil {
		t.Errorf("polygons = %v, %v, %v; want two, none (crowd RLE), none (no segmentation)", o[0].polys, o[1].polys, o[2].polys)
	}
	if _, err := parseCOCO(strings.NewReader(`{"images": [{"id": 1}], "annotations": [{"image_id": 1, "category_id": 1,
		"bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 3, 4, 5]]}]}`)); err == nil {
		t.Error("odd polygon accepted")
	}
	if _, err := parseCOCO(strings.NewReader(`{"images": [{"id": 1}], "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1]}]}`)); err == nil {
		t.Error("short bbox accepted")
	}
}

func TestAssign(t *testing.T) {
	dets := []detBox{{box: box(0, 0, 10, 10), score: 0.5, src: 3}, {box: box(20, 0, 30, 10), score: 0.9, src: 7},
		{box: box(50, 0, 60, 10), score: 0.7}, {box: box(1, 1, 9, 9), score: 0.2}, {box: box(70, 0, 80, 10), score: 0.8}}
	gts := []gtBox{{box: box(21, 0, 30, 10)}, {box: box(50, 50, 60, 60)}, {box: box(0, 0, 10, 10), crowd: true}, {box: box(0, 0, 10, 9)}}
	c, by, fps := assign(dets, gts)
	// dets[3] matches nothing but lies in the crowd region: not false.
	if c != (counts{tp: 2, fp: 2, ngt: 3}) || !slices.Equal(by, []int{1, -1, -1, 0}) || !slices.Equal(fps, []int{4, 2}) {
		t.Errorf("assign = %+v, %v, %v; want tp 2 fp 2 of 3, [1 -1 -1 0], false [4 2]", c, by, fps)
	}
}

func TestRasterize(t *testing.T) {
	img := image.Rect(0, 0, 10, 10)
	sq := func(x0, y0, x1, y1 float32) []float32 { return []float32{x0, y0, x1, y0, x1, y1, x0, y1} }
	tests := []struct {
		name  string
		polys [][]float32
		want  int
	}{
		{"square on pixel edges", [][]float32{sq(2, 2, 6, 6)}, 16},
		// Centres x+0.5 in [1.5, 4.5): columns 1, 2, 3.
		{"square on pixel centres", [][]float32{sq(1.5, 1.5, 4.5, 4.5)}, 9},
		{"square, clockwise", [][]float32{{2, 2, 2, 6, 6, 6, 6, 2}}, 16},
		// (0,0), (10,0), (0,10): row y holds the centres x+0.5 < 9.5-y,
		// 9-y pixels for y = 0..8: 9+8+…+1.
		{"triangle", [][]float32{{0, 0, 10, 0, 0, 10}}, 45},
		// A U: rows 0-1 full width 6, rows 2-3 two legs of 2.
		{"concave U", [][]float32{{0, 0, 6, 0, 6, 4, 4, 4, 4, 2, 2, 2, 2, 4, 0, 4}}, 6*2 + 4*2},
		{"two disjoint polygons", [][]float32{sq(0, 0, 2, 2), sq(5, 5, 8, 8)}, 4 + 9},
		// OR-ed, not even-odd across polygons: the 2×2 overlap stays in.
		{"two overlapping polygons", [][]float32{sq(0, 0, 4, 4), sq(2, 2, 6, 6)}, 16 + 16 - 4},
		{"partly outside, top-left", [][]float32{sq(-2, -2, 3, 3)}, 9},
		{"partly outside, bottom-right", [][]float32{sq(8, 7, 12, 12)}, 2 * 3},
		{"wholly outside", [][]float32{sq(20, 20, 30, 30)}, 0},
		{"too few points", [][]float32{{1, 1, 5, 5}}, 0},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rasterize(tt.polys, img)
			if got := m.Area(); got != tt.want {
				t.Errorf("area %d, want %d", got, tt.want)
			}
			if !m.Rect.In(img) {
				t.Errorf("mask rect %v outside the image", m.Rect)
			}
		})
	}
	// Which pixels: a centre on the hypotenuse x+y = 10, such as (9.5, 0.5)
	// of pixel (9, 0), is on a right edge and so outside.
	m := rasterize([][]float32{{0, 0, 10, 0, 0, 10}}, img)
	if m.At(8, 0) != 255 || m.At(9, 0) != 0 || m.At(0, 8) != 255 || m.At(0, 9) != 0 || m.At(4, 4) != 255 || m.At(5, 4) != 0 {
		t.Errorf("triangle pixels wrong")
	}
}

func TestMaskIoU(t *testing.T) {
	a := mask.FromRect(image.Rect(0, 0, 4, 4))
	b := mask.FromRect(image.Rect(2, 0, 6, 4))
	soft := mask.FromRect(image.Rect(0, 0, 4, 4))
	for i := range 8 { // top two rows below the 128 threshold: not covered
		soft.Pix[i] = 127
	}
	tests := []struct {
		name string
		a, b *mask.Mask
		want float64
	}{
		{"same", a, a, 1},
		{"half shifted", a, b, 8.0 / 24},
		{"disjoint", a, mask.FromRect(image.Rect(10, 10, 12, 12)), 0},
		{"soft edge", a, soft, 8.0 / 16},
		{"nil", a, nil, 0},
		{"both empty", nil, mask.New(image.Rect(0, 0, 3, 3)), 0},
	}
	for _, tt := range tests {
		if got := maskIoU(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: IoU %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLeak(t *testing.T) {
	// Anonymization mask: white over x < 2 and y < 4 of a 10×10 image.
	anon := image.NewGray(image.Rect(0, 0, 10, 10))
	for y := range 4 {
		for x := range 2 {
			anon.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	gt := mask.FromRect(image.Rect(0, 0, 4, 4))
	if area, left := leaked(gt, anon); area != 16 || left != 8 {
		t.Errorf("leaked = %d, %d; want 16, 8", area, left)
	}
	// Partly outside the anonymization mask's image: those pixels leak.
	if area, left := leaked(mask.FromRect(image.Rect(8, 0, 12, 1)), anon); area != 4 || left != 4 {
		t.Errorf("leaked outside = %d, %d; want 4, 4", area, left)
	}
	if area, left := leaked(nil, anon); area != 0 || left != 0 {
		t.Errorf("leaked(nil) = %d, %d", area, left)
	}

	// scoreMasks: object 0 matched to detection 1 (mask = its left half),
	// object 1 missed and half covered by another object's mask, object 2
	// a crowd, object 3 without polygons.
	gtMasks := []*mask.Mask{gt, mask.FromRect(image.Rect(0, 6, 4, 8)), mask.FromRect(image.Rect(0, 0, 10, 10)), nil}
	for x := range 2 {
		for y := 6; y < 8; y++ {
			anon.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	dmasks := []*mask.Mask{nil, mask.FromRect(image.Rect(0, 0, 2, 4))}
	dets := []detBox{{src: 1}}
	gts := []gtBox{{src: 0}, {src: 1}, {src: 2, crowd: true}, {src: 3}}
	s := scoreMasks(gts, []int{0, -1, -1, -1}, dets, dmasks, gtMasks, anon)
	want := maskStats{iouSum: 0.5, n: 1, area: 16 + 8, areaHit: 16, leftHit: 8, leftMissed: 4}
	if s != want {
		t.Errorf("scoreMasks = %+v, want %+v", s, want)
	}
}

func TestScaledPolygons(t *testing.T) {
	s := sample{w: 100, h: 50, objects: []object{{box: box(0, 0, 10, 10), polys: [][]float32{{10, 10, 20, 10, 20, 20}}}}}
	o := s.scaled(image.Rect(0, 0, 200, 200))
	if !slices.Equal(o[0].polys[0], []float32{20, 40, 40, 40, 40, 80}) || s.objects[0].polys[0][0] != 10 {
		t.Errorf("scaled polygons %v (original %v)", o[0].polys, s.objects[0].polys)
	}
}
