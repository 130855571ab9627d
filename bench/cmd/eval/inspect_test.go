package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veilkit/veil"
)

func TestWorstList(t *testing.T) {
	cands := []candidate{
		{image: "a", index: 0, coverage: 0.9, area: 100},
		{image: "a", index: 1, coverage: 0.1, area: 100},
		{image: "b", index: 0, coverage: 0.1, area: 400}, // ties with a/1: the larger first
		{image: "b", index: 1, coverage: 0.5, area: 100},
		{image: "c", index: 0, coverage: 0.95, area: 900}, // not among the worst 3 when offered
		{image: "c", index: 1, coverage: 0, area: 1},
	}
	w := worstList{n: 3}
	var cut []string
	for _, c := range cands {
		id := c.image + "/" + string(rune('0'+c.index))
		w.offer(c, func() *image.RGBA {
			cut = append(cut, id)
			return image.NewRGBA(image.Rect(0, 0, 1, 1))
		})
	}
	var got []string
	for _, c := range w.list {
		got = append(got, c.image+"/"+string(rune('0'+c.index)))
		if c.crop == nil {
			t.Errorf("%s kept without its crop", got[len(got)-1])
		}
	}
	if want := []string{"c/1", "b/0", "a/1"}; !slices.Equal(got, want) {
		t.Errorf("worst 3 = %v, want %v", got, want)
	}
	// c/0 comes when the list is full of better-ranked ones: never cut.
	if want := []string{"a/0", "a/1", "b/0", "b/1", "c/1"}; !slices.Equal(cut, want) {
		t.Errorf("crops cut for %v, want %v", cut, want)
	}
	if (&worstList{}).offer(cands[0], nil) {
		t.Error("a list of 0 kept a candidate")
	}
}

func TestCrop(t *testing.T) {
	gray := color.RGBA{100, 100, 100, 255}
	img := image.NewRGBA(image.Rect(0, 0, 100, 100))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{gray.R, gray.G, gray.B, gray.A})
	}
	tests := []struct {
		name    string
		box     [4]float32
		outline [][]float32
		size    image.Point // of the crop
		lined   []image.Point
		clear   []image.Point // not drawn on
	}{
		// Box 20 px, context 10 px a side: 40 px enlarged 5 times. The
		// box's left edge x = 40 is at (40-30)·5 = 50, drawn on pixels
		// 49 and 50; its right edge on 149 and 150.
		{"box", [4]float32{40, 40, 60, 60}, nil, image.Pt(200, 200),
			[]image.Point{{50, 50}, {49, 100}, {50, 100}, {149, 100}, {150, 100}, {100, 149}, {100, 150}},
			[]image.Point{{100, 100}, {10, 10}, {48, 100}, {51, 100}, {148, 100}}},
		// Near the corner the context (8 px) is clipped: 18 px, enlarged
		// by 11 to reach 192 but capped at maxZoom.
		{"clipped, at most maxZoom", [4]float32{0, 0, 10, 10}, nil, image.Pt(18*maxZoom, 18*maxZoom),
			[]image.Point{{0, 0}, {80, 40}}, []image.Point{{40, 40}}},
		// A triangle outline instead of the box.
		{"polygon", [4]float32{40, 40, 60, 60}, [][]float32{{40, 40, 60, 40, 40, 60}}, image.Pt(200, 200),
			[]image.Point{{50, 50}, {100, 50}, {100, 100}}, []image.Point{{148, 148}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := box(tt.box[0], tt.box[1], tt.box[2], tt.box[3])
			c := crop(img, b, tt.outline, missColor)
			if c == nil {
				t.Fatal("no crop")
			}
			if c.Rect.Size() != tt.size {
				t.Fatalf("crop of %v is %v, want %v", b, c.Rect.Size(), tt.size)
			}
			for _, p := range tt.lined {
				if got := c.RGBAAt(p.X, p.Y); got != missColor {
					t.Errorf("at %v: %v, want the outline", p, got)
				}
			}
			for _, p := range tt.clear {
				if got := c.RGBAAt(p.X, p.Y); got != gray {
					t.Errorf("at %v: %v, want the image", p, got)
				}
			}
		})
	}
	if c := crop(img, box(200, 200, 220, 220), nil, missColor); c != nil {
		t.Errorf("a box off the image gave a %v crop", c.Rect)
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"wider_face", "face", "0.12", "0_Parade_x", "3"}, "wider_face_face_0.12_0_Parade_x_3.png"},
		{[]string{"openalpr/eu", "license-plate", "a b:c"}, "openalpr_eu_license-plate_a_b_c.png"},
		{[]string{"é"}, "_.png"},
	}
	for _, tt := range tests {
		if got := fileName(".png", tt.parts...); got != tt.want {
			t.Errorf("fileName(%q) = %q, want %q", tt.parts, got, tt.want)
		}
	}
}

// TestKeepWorst runs the -worst selection on a synthetic image: which
// objects are kept, their crops, files and index.
func TestKeepWorst(t *testing.T) {
	// The left half (x < 100) is anonymized: painted blue in the output.
	anon := image.NewGray(image.Rect(0, 0, 200, 100))
	out := image.NewRGBA(anon.Rect)
	for y := range 100 {
		for x := range 200 {
			c := color.RGBA{200, 200, 200, 255}
			if x < 100 {
				anon.SetGray(x, y, color.Gray{255})
				c = color.RGBA{0, 0, 255, 255}
			}
			out.SetRGBA(x, y, c)
		}
	}
	face := func(x1, y1, x2, y2 float32) object {
		return object{class: veil.Face, label: "face", box: box(x1, y1, x2, y2)}
	}
	objs := []object{
		face(10, 10, 40, 40),   // covered
		face(120, 10, 150, 40), // uncovered, 30 px, detected
		face(160, 50, 180, 70), // uncovered, 20 px
		face(90, 60, 110, 80),  // half covered
		face(150, 80, 160, 90), // uncovered but under 16 px
	}
	ds := dataset{name: "toy/set", classes: []veil.Class{veil.Face},
		subsets: []subset{{class: veil.Face, name: "all"}, {class: veil.Face, name: ">=16px", minSide: 16}}}
	dir := t.TempDir()
	ins := &inspector{worstN: 3, worstDir: dir}
	l := ins.dataset(ds, veil.Params{})
	sh := shot{path: "/x/img 1.jpg", src: out, frame: out.Rect, objs: objs, anon: anon,
		dets: []veil.Detection{{Class: veil.Face, Score: 0.9, Box: box(121, 11, 150, 40)}}}
	l.keepWorst(sh, out)
	if err := l.done(); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, "worst.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := worstHeader +
		"toy_set_face_0.00_img_1_1.png\ttoy/set\t/x/img 1.jpg\tface\t120.0 10.0 150.0 40.0\t0.0000\tyes\n" +
		"toy_set_face_0.00_img_1_2.png\ttoy/set\t/x/img 1.jpg\tface\t160.0 50.0 180.0 70.0\t0.0000\tno\n" +
		"toy_set_face_0.50_img_1_3.png\ttoy/set\t/x/img 1.jpg\tface\t90.0 60.0 110.0 80.0\t0.5000\tno\n"
	if string(index) != want {
		t.Errorf("worst.tsv:\n%s\nwant:\n%s", index, want)
	}
	// The crop of the detected face has a green outline, the others red;
	// the half-covered one shows the anonymized (blue) half.
	for _, tt := range []struct {
		file    string
		outline color.RGBA
		blue    bool
	}{
		{"toy_set_face_0.00_img_1_1.png", hitColor, false},
		{"toy_set_face_0.00_img_1_2.png", missColor, false},
		{"toy_set_face_0.50_img_1_3.png", missColor, true},
	} {
		img := readPNG(t, filepath.Join(dir, tt.file))
		var lined, blue bool
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				lined = lined || c == tt.outline
				blue = blue || c == color.RGBA{0, 0, 255, 255}
			}
		}
		if !lined || blue != tt.blue {
			t.Errorf("%s: outline drawn %t, anonymized pixels %t (want %t)", tt.file, lined, blue, tt.blue)
		}
	}
	if strings.Contains(string(index), "150.0 80.0") {
		t.Error("a face under 16 px was shown")
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestShownSubsets(t *testing.T) {
	subs := []subset{
		{class: veil.Face, name: "all"}, {class: veil.Face, name: ">=16px", minSide: 16},
		{class: veil.Vehicle, name: "all"}, {class: veil.Vehicle, name: "car", label: "car", minSide: 99},
	}
	got := shownSubsets(subs)
	if want := map[veil.Class]int{veil.Face: 1, veil.Vehicle: 2}; len(got) != len(want) || got[veil.Face] != 1 || got[veil.Vehicle] != 2 {
		t.Errorf("shownSubsets = %v, want %v", got, want)
	}
}

func TestClassify(t *testing.T) {
	gts := []gtBox{
		{box: box(0, 0, 20, 20)},
		{box: box(100, 0, 110, 10), ignore: true},
		{box: box(200, 0, 300, 100), crowd: true},
	}
	engine := []detBox{{box: box(0, 0, 20, 20)}, {box: box(50, 0, 70, 20)}}
	tests := []struct {
		name    string
		d       detBox
		centred bool
		want    finding
	}{
		{"labelled, detected before", detBox{box: box(1, 1, 20, 20)}, false, finding{counted: true, labelled: true, anonymized: true}},
		{"detected before, unlabelled", detBox{box: box(50, 0, 70, 19)}, false, finding{counted: true, anonymized: true}},
		{"centre in the mask", detBox{box: box(400, 0, 420, 20)}, true, finding{counted: true, anonymized: true}},
		{"elsewhere", detBox{box: box(400, 0, 420, 20)}, false, finding{counted: true}},
		{"in a crowd", detBox{box: box(210, 10, 230, 30)}, false, finding{counted: true, labelled: true}},
		{"on an ignored object", detBox{box: box(100, 0, 110, 10)}, true, finding{}},
		{"ignored, elsewhere", detBox{box: box(400, 0, 405, 5), ignore: true}, true, finding{}},
		{"ignored, on a counted object", detBox{box: box(0, 0, 15, 15), ignore: true}, false, finding{counted: true, labelled: true, anonymized: true}},
	}
	var c reidCounts
	for _, tt := range tests {
		f := classify(tt.d, gts, engine, tt.centred)
		if f != tt.want {
			t.Errorf("%s: classify = %+v, want %+v", tt.name, f, tt.want)
		}
		c.add(f)
	}
	if want := (reidCounts{found: 6, labelled: 3, anonymized: 4, elsewhere: 1}); c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
}

func TestCentred(t *testing.T) {
	anon := image.NewGray(image.Rect(0, 0, 10, 10))
	anon.SetGray(5, 5, color.Gray{255})
	for _, tt := range []struct {
		b    [4]float32
		want bool
	}{
		{[4]float32{4, 4, 7, 7}, true},      // centre 5.5, 5.5
		{[4]float32{0, 0, 4, 4}, false},     // centre 2, 2
		{[4]float32{20, 20, 30, 30}, false}, // off the mask
	} {
		if got := centred(box(tt.b[0], tt.b[1], tt.b[2], tt.b[3]), anon); got != tt.want {
			t.Errorf("centred(%v) = %t, want %t", tt.b, got, tt.want)
		}
	}
}
