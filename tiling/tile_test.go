package tiling

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"reflect"
	"testing"

	"github.com/veilkit/veil/detect"
)

// checkCover checks that the tiles lie in b, are not empty, and cover
// every pixel of b.
func checkCover(tiles []Tile, b image.Rectangle) error {
	if b.Empty() {
		if len(tiles) != 0 {
			return fmt.Errorf("%d tiles for empty bounds", len(tiles))
		}
		return nil
	}
	if len(tiles) == 0 {
		return fmt.Errorf("no tiles")
	}
	covered := make([]bool, b.Dx()*b.Dy())
	mark := func(r image.Rectangle) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				covered[(y-b.Min.Y)*b.Dx()+x-b.Min.X] = true
			}
		}
	}
	for i, t := range tiles {
		if t.Rect.Empty() || !t.Rect.In(b) {
			return fmt.Errorf("tile %d: Rect %v empty or not in %v", i, t.Rect, b)
		}
		mark(t.Rect)
		if t.Wraps() {
			if !t.Wrap.In(b) || t.Rect.Max.X != b.Max.X || t.Wrap.Min.X != b.Min.X ||
				t.Rect.Min.Y != t.Wrap.Min.Y || t.Rect.Max.Y != t.Wrap.Max.Y {
				return fmt.Errorf("tile %d: bad wrap-around tile %+v in %v", i, t, b)
			}
			mark(t.Wrap)
		}
	}
	for i, c := range covered {
		if !c {
			return fmt.Errorf("pixel (%d,%d) not covered", b.Min.X+i%b.Dx(), b.Min.Y+i/b.Dx())
		}
	}
	return nil
}

func TestTilesCover(t *testing.T) {
	formats := []Format{
		{},
		{Cols: 1, Rows: 1},
		{Cols: 2, Rows: 2},
		{Cols: 3, Rows: 2, OverlapX: 0.1, OverlapY: 0.3},
		{Cols: 7, Rows: 5, OverlapX: 0.9, OverlapY: 0.9},
		{Cols: 64, Rows: 64, OverlapX: 0.5},
		{Cols: 1, Rows: 3, Wrap: true},
		{Cols: 4, Rows: 2, OverlapX: 0.1, OverlapY: 0.1, Wrap: true},
		{Cols: 9, Rows: 5, OverlapX: 0.1, OverlapY: 0.1, Wrap: true},
	}
	bounds := []image.Rectangle{
		image.Rect(0, 0, 1000, 500),
		image.Rect(0, 0, 997, 311),
		image.Rect(-13, 7, 1024, 769),
		image.Rect(100, 200, 101, 203),
		image.Rect(5, 5, 68, 9),
		image.Rect(0, 0, 3, 1),
		image.Rect(0, 0, 0, 10),
	}
	for _, f := range formats {
		for _, b := range bounds {
			tiles := f.Tiles(b)
			if err := checkCover(tiles, b); err != nil {
				t.Errorf("%v.Tiles(%v): %v", f, b, err)
			}
			if f.Whole() && !b.Empty() && (len(tiles) != 1 || tiles[0].Rect != b || tiles[0].Wraps()) {
				t.Errorf("%v.Tiles(%v) = %v, want the bounds", f, b, tiles)
			}
		}
	}
}

// grid returns the distinct column and row spans of ordinary tiles.
func grid(tiles []Tile) (cols, rows [][2]int) {
	seen := map[[2]int]bool{}
	for _, t := range tiles {
		if t.Wraps() {
			continue
		}
		c := [2]int{t.Rect.Min.X, t.Rect.Max.X}
		r := [2]int{-1 - t.Rect.Min.Y, -1 - t.Rect.Max.Y} // apart from columns
		if !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
		if !seen[r] {
			seen[r] = true
			rows = append(rows, [2]int{t.Rect.Min.Y, t.Rect.Max.Y})
		}
	}
	return cols, rows
}

func TestTilesGeometry(t *testing.T) {
	tests := []struct {
		f Format
		b image.Rectangle
	}{
		{Format{Cols: 2, Rows: 2}, image.Rect(0, 0, 1000, 500)},
		{Format{Cols: 3, Rows: 3}, image.Rect(0, 0, 1001, 333)},
		{Format{Cols: 3, Rows: 2, OverlapX: 0.1, OverlapY: 0.2}, image.Rect(0, 0, 1000, 500)},
		{Format{Cols: 4, Rows: 3, OverlapX: 0.25, OverlapY: 0.5}, image.Rect(-50, 30, 1977, 1013)},
		{Format{Cols: 7, Rows: 4, OverlapX: 0.1, OverlapY: 0.1, Wrap: true}, image.Rect(0, 0, 8000, 4000)},
		{Format{Cols: 7, Rows: 4, OverlapX: 0.1, OverlapY: 0.1, Wrap: true}, image.Rect(0, 0, 1999, 1001)},
		{Format{Cols: 5, Rows: 1, OverlapX: 0.9}, image.Rect(3, 3, 1003, 103)},
	}
	for _, tt := range tests {
		tiles := tt.f.Tiles(tt.b)
		want := tt.f.Rows * tt.f.Cols
		if tt.f.Wrap {
			want += tt.f.Rows
		}
		if len(tiles) != want {
			t.Errorf("%v.Tiles(%v): %d tiles, want %d", tt.f, tt.b, len(tiles), want)
		}
		cols, rows := grid(tiles)
		check := func(axis string, sp [][2]int, n int, o float64, lo, hi int) {
			if len(sp) != n {
				t.Errorf("%v.Tiles(%v): %d %s, want %d", tt.f, tt.b, len(sp), axis, n)
				return
			}
			size := float64(hi-lo) / (float64(n) - float64(n-1)*o)
			if sp[0][0] != lo || sp[n-1][1] != hi {
				t.Errorf("%v.Tiles(%v): %s span %d..%d, want %d..%d", tt.f, tt.b, axis, sp[0][0], sp[n-1][1], lo, hi)
			}
			for i, s := range sp {
				if d := float64(s[1] - s[0]); math.Abs(d-size) > 2 {
					t.Errorf("%v.Tiles(%v): %s %d is %v long, want %.1f", tt.f, tt.b, axis, i, d, size)
				}
				if i == 0 {
					continue
				}
				shared := float64(sp[i-1][1] - s[0])
				if math.Abs(shared-o*size) > 2 {
					t.Errorf("%v.Tiles(%v): %s %d and %d share %v px, want %.1f", tt.f, tt.b, axis, i-1, i, shared, o*size)
				}
			}
		}
		check("columns", cols, tt.f.Cols, tt.f.OverlapX, tt.b.Min.X, tt.b.Max.X)
		check("rows", rows, tt.f.Rows, tt.f.OverlapY, tt.b.Min.Y, tt.b.Max.Y)
		for _, tl := range tiles {
			if !tl.Wraps() {
				continue
			}
			if w := tl.Bounds().Dx(); math.Abs(float64(w-(cols[0][1]-cols[0][0]))) > 1 {
				t.Errorf("%v.Tiles(%v): wrap-around tile %v is %d wide, want %d", tt.f, tt.b, tl, w, cols[0][1]-cols[0][0])
			}
			if d := tl.Rect.Dx() - tl.Wrap.Dx(); d < 0 || d > 1 {
				t.Errorf("%v.Tiles(%v): wrap-around tile %+v not centred on the seam", tt.f, tt.b, tl)
			}
		}
	}
}

// TestTilesSmallImage checks that a grid asked of an image too small for it
// gets fewer tiles, none shorter than MinTile unless the image is.
func TestTilesSmallImage(t *testing.T) {
	tests := []struct {
		f          Format
		b          image.Rectangle
		cols, rows int
	}{
		{Format{Cols: 8, Rows: 8}, image.Rect(0, 0, 3, 2), 1, 1},
		{Format{Cols: 64, Rows: 2}, image.Rect(10, 10, 20, 11), 1, 1},
		{Format{Cols: 2, Rows: 2}, image.Rect(0, 0, 63, 64), 1, 2},
		{Format{Cols: 64, Rows: 64}, image.Rect(0, 0, 2000, 100), 62, 3},
		{Format{Cols: 4, Rows: 4, OverlapX: 0.9, OverlapY: 0.9}, image.Rect(0, 0, 100, 63), 3, 1},
		{Format{Cols: 64, Rows: 64, OverlapX: 0.5}, image.Rect(0, 0, 20000, 40), 64, 1},
		{Format{Cols: 50, Rows: 50, OverlapX: 0.5, Wrap: true}, image.Rect(0, 0, 40, 20000), 1, 50},
	}
	for _, tt := range tests {
		tiles := tt.f.Tiles(tt.b)
		if err := checkCover(tiles, tt.b); err != nil {
			t.Errorf("%v.Tiles(%v): %v", tt.f, tt.b, err)
		}
		cols, rows := grid(tiles)
		if len(cols) != tt.cols || len(rows) != tt.rows {
			t.Errorf("%v.Tiles(%v): %dx%d tiles, want %dx%d", tt.f, tt.b, len(cols), len(rows), tt.cols, tt.rows)
		}
		for _, tl := range tiles {
			if w, h := tl.Bounds().Dx(), tl.Bounds().Dy(); w < min(MinTile, tt.b.Dx()) || h < min(MinTile, tt.b.Dy()) {
				t.Errorf("%v.Tiles(%v): tile %+v is %dx%d", tt.f, tt.b, tl, w, h)
			}
		}
		for i := 1; i < len(cols); i++ {
			if cols[i][0] <= cols[i-1][0] {
				t.Errorf("%v.Tiles(%v): column %v repeats %v", tt.f, tt.b, cols[i], cols[i-1])
			}
		}
	}
}

// TestTilesScaled checks that a preset keeps its grid on an image of
// another size.
func TestTilesScaled(t *testing.T) {
	f, _ := Pano(8000)
	for _, b := range []image.Rectangle{image.Rect(0, 0, 8000, 4000), image.Rect(0, 0, 4000, 2000), image.Rect(0, 0, 16001, 3000)} {
		cols, rows := grid(f.Tiles(b))
		if len(cols) != 7 || len(rows) != 4 {
			t.Errorf("pano:8000 on %v: %dx%d grid, want 7x4", b.Size(), len(cols), len(rows))
		}
	}
}

func TestWrapTile(t *testing.T) {
	b := image.Rect(10, 20, 110, 70) // a 100×50 panorama
	f := Format{Cols: 2, Rows: 1, Wrap: true}
	tiles := f.Tiles(b)
	if len(tiles) != 3 || !tiles[2].Wraps() {
		t.Fatalf("Tiles = %+v, want two tiles and a wrap-around one", tiles)
	}
	w := tiles[2]
	if want := (Tile{Rect: image.Rect(85, 20, 110, 70), Wrap: image.Rect(10, 20, 35, 70)}); w != want {
		t.Fatalf("wrap-around tile %+v, want %+v", w, want)
	}
	if got, want := w.Bounds(), image.Rect(85, 20, 135, 70); got != want {
		t.Errorf("Bounds = %v, want %v", got, want)
	}

	// Pixels: R = x, G = y.
	img := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 0, 255})
		}
	}
	if tiles[0].Image(img) != img {
		t.Errorf("Image of an ordinary tile is not the image itself")
	}
	wi := w.Image(img)
	if wi.Rect != w.Bounds() {
		t.Errorf("Image bounds %v, want %v", wi.Rect, w.Bounds())
	}
	for y := wi.Rect.Min.Y; y < wi.Rect.Max.Y; y++ {
		for x := wi.Rect.Min.X; x < wi.Rect.Max.X; x++ {
			sx := x
			if x >= b.Max.X {
				sx -= b.Dx()
			}
			if got, want := wi.RGBAAt(x, y), img.RGBAAt(sx, y); got != want {
				t.Fatalf("unrolled pixel (%d,%d) = %v, want image pixel (%d,%d) = %v", x, y, got, sx, y, want)
			}
		}
	}

	pts := []detect.Point{{X: 100, Y: 30}, {X: 120, Y: 40}}
	tests := []struct {
		name string
		in   detect.Detection
		want []detect.Detection
	}{
		{"right part",
			detect.Detection{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 90, Y1: 30, X2: 105, Y2: 40}, Points: pts[:1]},
			[]detect.Detection{{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 90, Y1: 30, X2: 105, Y2: 40}, Points: pts[:1]}}},
		{"past the seam",
			detect.Detection{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 112, Y1: 30, X2: 130, Y2: 40}, Points: pts[1:]},
			[]detect.Detection{{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 12, Y1: 30, X2: 30, Y2: 40}, Points: []detect.Point{{X: 20, Y: 40}}}}},
		{"across the seam",
			detect.Detection{Class: detect.Person, Score: 0.8, Box: detect.Box{X1: 100, Y1: 25, X2: 125, Y2: 60}, Points: pts},
			[]detect.Detection{
				{Class: detect.Person, Score: 0.8, Box: detect.Box{X1: 100, Y1: 25, X2: 110, Y2: 60}},
				{Class: detect.Person, Score: 0.8, Box: detect.Box{X1: 10, Y1: 25, X2: 25, Y2: 60}},
			}},
		{"overshooting the tile",
			detect.Detection{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 120, Y1: 10, X2: 140, Y2: 30}},
			[]detect.Detection{{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 20, Y1: 20, X2: 35, Y2: 30}}}},
		{"outside",
			detect.Detection{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 10, Y1: 10, X2: 30, Y2: 30}},
			nil},
	}
	for _, tt := range tests {
		got := w.Map([]detect.Detection{tt.in})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Map = %+v, want %+v", tt.name, got, tt.want)
		}
		for _, d := range got {
			if r := d.Box.Rect(); !r.In(b) {
				t.Errorf("%s: mapped box %v not in the image %v", tt.name, r, b)
			}
		}
	}
	if pts[1].X != 120 {
		t.Errorf("Map changed its input's points")
	}

	// An ordinary tile clips.
	got := tiles[0].Map([]detect.Detection{{Box: detect.Box{X1: 50, Y1: 10, X2: 70, Y2: 30}}})
	if want := (detect.Box{X1: 50, Y1: 20, X2: 60, Y2: 30}); len(got) != 1 || got[0].Box != want {
		t.Errorf("ordinary Map = %+v, want box %v", got, want)
	}
}
