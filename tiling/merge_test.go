package tiling

import (
	"image"
	"reflect"
	"slices"
	"testing"

	"github.com/veilkit/veil/detect"
)

func box(x1, y1, x2, y2 float32) detect.Box { return detect.Box{X1: x1, Y1: y1, X2: x2, Y2: y2} }

func det(c detect.Class, score float32, b detect.Box, label string) detect.Detection {
	return detect.Detection{Class: c, Label: label, Score: score, Box: b}
}

func TestMerge(t *testing.T) {
	const (
		F = detect.Face
		P = detect.Person
		V = detect.Vehicle
	)
	img := image.Rect(0, 0, 1000, 500)
	two := Format{Cols: 2, Rows: 1}.Tiles(img)                 // seam at x = 500
	band := Format{Cols: 2, Rows: 1, OverlapX: 0.2}.Tiles(img) // tiles 0..556 and 444..1000
	four := Format{Cols: 2, Rows: 2}.Tiles(img)                // seams x = 500, y = 250
	if band[0].Rect.Max.X != 556 || band[1].Rect.Min.X != 444 {
		t.Fatalf("overlap tiles %v %v, want 0..556 and 444..1000", band[0].Rect, band[1].Rect)
	}
	tests := []struct {
		name  string
		tiles []Tile
		in    []detect.Detection
		want  []detect.Detection
	}{
		{"cut by a vertical seam", two,
			[]detect.Detection{det(P, 0.6, box(400, 100, 500, 300), "left"), det(P, 0.8, box(500, 110, 600, 290), "right")},
			[]detect.Detection{det(P, 0.8, box(400, 100, 600, 300), "left")}},
		{"cut, edges a little off the seam", two,
			[]detect.Detection{det(P, 0.9, box(400, 100, 497, 300), "left"), det(P, 0.8, box(503, 150, 600, 320), "right")},
			[]detect.Detection{det(P, 0.9, box(400, 100, 600, 320), "left")}},
		{"cut in an overlap band", band,
			[]detect.Detection{det(V, 0.7, box(400, 200, 556, 300), "a"), det(V, 0.6, box(444, 205, 600, 298), "b")},
			[]detect.Detection{det(V, 0.7, box(400, 200, 600, 300), "a")}},
		{"duplicate in the overlap band", band,
			[]detect.Detection{det(F, 0.7, box(460, 100, 540, 180), "a"), det(F, 0.9, box(462, 101, 541, 182), "b")},
			[]detect.Detection{det(F, 0.9, box(462, 101, 541, 182), "b")}},
		{"partial view and whole view", band,
			[]detect.Detection{det(P, 0.9, box(500, 100, 556, 400), "cut"), det(P, 0.7, box(500, 98, 620, 402), "whole")},
			[]detect.Detection{det(P, 0.9, box(500, 98, 620, 402), "whole")}},
		{"adjacent objects far from a seam", two,
			[]detect.Detection{det(P, 0.9, box(100, 100, 200, 400), "a"), det(P, 0.8, box(200, 100, 300, 400), "b")},
			[]detect.Detection{det(P, 0.9, box(100, 100, 200, 400), "a"), det(P, 0.8, box(200, 100, 300, 400), "b")}},
		{"objects either side of a seam, apart from it", two,
			[]detect.Detection{det(P, 0.9, box(400, 100, 490, 400), "a"), det(P, 0.8, box(510, 100, 600, 400), "b")},
			[]detect.Detection{det(P, 0.9, box(400, 100, 490, 400), "a"), det(P, 0.8, box(510, 100, 600, 400), "b")}},
		{"cut parts with little overlap along the seam", two,
			[]detect.Detection{det(P, 0.9, box(400, 0, 500, 200), "a"), det(P, 0.8, box(500, 150, 600, 450), "b")},
			[]detect.Detection{det(P, 0.9, box(400, 0, 500, 200), "a"), det(P, 0.8, box(500, 150, 600, 450), "b")}},
		{"different classes", two,
			[]detect.Detection{det(P, 0.9, box(400, 100, 500, 300), "p"), det(V, 0.8, box(500, 100, 600, 300), "v"),
				det(F, 0.7, box(450, 120, 480, 150), "f"), det(P, 0.6, box(450, 120, 480, 150), "p2")},
			[]detect.Detection{det(P, 0.9, box(400, 100, 500, 300), "p"), det(V, 0.8, box(500, 100, 600, 300), "v"),
				det(F, 0.7, box(450, 120, 480, 150), "f"), det(P, 0.6, box(450, 120, 480, 150), "p2")}},
		{"cut into four at a corner", four,
			[]detect.Detection{
				det(V, 0.5, box(420, 200, 500, 250), "tl"), det(V, 0.6, box(500, 205, 580, 250), "tr"),
				det(V, 0.7, box(421, 250, 500, 300), "bl"), det(V, 0.4, box(500, 250, 579, 310), "br")},
			[]detect.Detection{det(V, 0.7, box(420, 200, 580, 310), "br")}},
		{"one tile: NMS only", Format{}.Tiles(img),
			[]detect.Detection{det(P, 0.6, box(400, 100, 500, 300), "a"), det(P, 0.8, box(402, 100, 502, 300), "b"), det(P, 0.8, box(500, 100, 600, 300), "c")},
			[]detect.Detection{det(P, 0.8, box(402, 100, 502, 300), "b"), det(P, 0.8, box(500, 100, 600, 300), "c")}},
		{"empty", two, nil, nil},
	}
	for _, tt := range tests {
		got := Merge(slices.Clone(tt.in), tt.tiles, 0.5)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// TestMergePoints checks that the joined detection keeps the points of
// the part that is not cut, even when the cut one scores higher.
func TestMergePoints(t *testing.T) {
	tiles := Format{Cols: 2, Rows: 1, OverlapX: 0.2}.Tiles(image.Rect(0, 0, 1000, 500))
	whole := []detect.Point{{X: 510, Y: 120}, {X: 530, Y: 120}}
	cut := []detect.Point{{X: 520, Y: 121}}
	got := Merge([]detect.Detection{
		{Class: detect.Face, Score: 0.95, Box: box(500, 100, 556, 160), Points: cut},
		{Class: detect.Face, Score: 0.6, Box: box(500, 100, 560, 160), Points: whole},
	}, tiles, 0.5)
	if len(got) != 1 || got[0].Score != 0.95 || !reflect.DeepEqual(got[0].Points, whole) || got[0].Box != box(500, 100, 560, 160) {
		t.Errorf("Merge = %+v, want one face scoring 0.95 with the whole view's points", got)
	}
}

// TestMergeWrap runs the pipeline on an object that straddles a
// panorama's left/right seam: the edge tiles each see one part of it, the
// wrap-around tile sees all of it in unrolled coordinates.
func TestMergeWrap(t *testing.T) {
	img := image.Rect(0, 0, 1000, 500)
	tiles := Format{Cols: 2, Rows: 1, Wrap: true}.Tiles(img)
	if len(tiles) != 3 || !tiles[2].Wraps() {
		t.Fatalf("tiles %+v", tiles)
	}
	var dets []detect.Detection
	found := [][]detect.Detection{
		{det(detect.Person, 0.6, box(0, 100, 41, 300), "left part"), det(detect.Face, 0.9, box(100, 50, 150, 100), "face")},
		{det(detect.Person, 0.5, box(958, 102, 1000, 305), "right part")},
		{det(detect.Person, 0.9, box(960, 100, 1040, 300), "whole"), det(detect.Face, 0.8, box(1101, 51, 1150, 101), "face again")},
	}
	for i, t := range tiles {
		dets = append(dets, t.Map(found[i])...)
	}
	got := Merge(dets, tiles, 0.5)
	want := []detect.Detection{
		det(detect.Person, 0.9, box(960, 100, 1000, 300), "whole"),
		det(detect.Person, 0.9, box(0, 100, 40, 300), "whole"),
		det(detect.Face, 0.9, box(100, 50, 150, 100), "face"),
	}
	slices.SortStableFunc(got, func(a, b detect.Detection) int { return int(b.Box.X1) - int(a.Box.X1) })
	slices.SortStableFunc(want, func(a, b detect.Detection) int { return int(b.Box.X1) - int(a.Box.X1) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	for _, d := range got {
		if !d.Box.Rect().In(img) {
			t.Errorf("%+v not in the image", d)
		}
	}
}

// TestMergeGrid cuts boxes of a few objects by a real grid's tiles and
// checks that each object comes out as one box with its full extent.
func TestMergeGrid(t *testing.T) {
	img := image.Rect(0, 0, 3000, 1500)
	for _, f := range []Format{
		{Cols: 3, Rows: 2},
		{Cols: 4, Rows: 3, OverlapX: 0.1, OverlapY: 0.1},
		{Cols: 5, Rows: 2, OverlapX: 0.3, OverlapY: 0.2},
	} {
		tiles := f.Tiles(img)
		objects := []detect.Box{
			box(900, 600, 1250, 900), // large, likely across seams
			box(100, 100, 160, 180),
			box(1400, 1200, 1700, 1480),
			box(2600, 100, 2990, 1400),
		}
		var dets []detect.Detection
		for i, o := range objects {
			for _, tl := range tiles {
				b := o.Clip(tl.Rect)
				if b.Area() > 0 {
					dets = append(dets, tl.Map([]detect.Detection{det(detect.Vehicle, 0.5+0.01*float32(i), b, "")})...)
				}
			}
		}
		got := Merge(dets, tiles, 0.5)
		var boxes []detect.Box
		for _, d := range got {
			boxes = append(boxes, d.Box)
		}
		slices.SortFunc(boxes, func(a, b detect.Box) int { return int(a.X1 - b.X1) })
		want := slices.Clone(objects)
		slices.SortFunc(want, func(a, b detect.Box) int { return int(a.X1 - b.X1) })
		if !reflect.DeepEqual(boxes, want) {
			t.Errorf("%v: merged %v, want %v", f, boxes, want)
		}
	}
}

func BenchmarkMerge(b *testing.B) {
	img := image.Rect(0, 0, 11000, 5500)
	f, _ := Pano(11000)
	tiles := f.Tiles(img)
	// 60 objects per tile, cut by the tiles as a detector would see them.
	var objs []detect.Box
	for k := range 60 * len(tiles) {
		x := float32(k*7919%10900) + 1
		y := float32(k*104729%5400) + 1
		objs = append(objs, box(x, y, x+40+float32(k%60), y+80+float32(k%90)))
	}
	var dets []detect.Detection
	for i, o := range objs {
		for _, tl := range tiles {
			if c := o.Clip(tl.Rect); c.Area() > 0 {
				dets = append(dets, det(detect.Person, 0.5+float32(i%40)/100, c, ""))
			}
		}
	}
	b.Logf("%d detections of %d objects", len(dets), len(objs))
	buf := make([]detect.Detection, len(dets))
	for b.Loop() {
		copy(buf, dets)
		Merge(buf, tiles, 0.5)
	}
}

// TestMergeKeep checks that Merge puts back what NMS drops of the classes
// in keep unless a kept detection matches it, and only those.
func TestMergeKeep(t *testing.T) {
	tiles := Format{Cols: 1, Rows: 1}.Tiles(image.Rect(0, 0, 200, 100))
	dets := func() []detect.Detection {
		return []detect.Detection{
			{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}},
			{Class: detect.Face, Score: 0.6, Box: detect.Box{X1: 4, Y1: 0, X2: 14, Y2: 10}},   // IoU 0.43: NMS drops it
			{Class: detect.Face, Score: 0.5, Box: detect.Box{X1: 0.5, Y1: 0, X2: 10, Y2: 10}}, // IoU 0.95: a duplicate
			{Class: detect.Person, Score: 0.9, Box: detect.Box{X1: 50, Y1: 0, X2: 90, Y2: 90}},
			{Class: detect.Person, Score: 0.6, Box: detect.Box{X1: 66, Y1: 0, X2: 106, Y2: 90}}, // IoU 0.43
		}
	}
	count := func(ds []detect.Detection, c detect.Class) int {
		n := 0
		for _, d := range ds {
			if d.Class == c {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		keep           []detect.Class
		faces, persons int
	}{
		{nil, 1, 1},
		{[]detect.Class{detect.Face}, 2, 1},
		{[]detect.Class{detect.Face, detect.Person}, 2, 2},
	} {
		got := Merge(dets(), tiles, 0.3, tt.keep...)
		if f, p := count(got, detect.Face), count(got, detect.Person); f != tt.faces || p != tt.persons {
			t.Errorf("keep %v: %d faces and %d persons, want %d and %d: %+v", tt.keep, f, p, tt.faces, tt.persons, got)
		}
	}
}
