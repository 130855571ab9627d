package tiling

import (
	"errors"
	"image"
	"strings"
	"testing"
)

func TestParsePresets(t *testing.T) {
	tests := []struct {
		in         string
		cols, rows int
	}{
		{"pano:4096", 4, 2},
		{"pano:5400", 5, 3},
		{"pano:5640", 5, 3},
		{"pano:7060", 6, 3},
		{"pano:7680", 7, 3},
		{"pano:8000", 7, 4},
		{"pano:8192", 7, 4},
		{"pano:11000", 9, 5},
	}
	for _, tt := range tests {
		f, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		want := Format{Cols: tt.cols, Rows: tt.rows, OverlapX: 0.1, OverlapY: 0.1, Wrap: true, Pano: f.Pano}
		if f != want || f.Pano == 0 {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, f, want)
		}
		if s := f.String(); s != tt.in {
			t.Errorf("Parse(%q).String() = %q", tt.in, s)
		}
	}
	if len(tests) != len(presets) {
		t.Errorf("tested %d presets, have %d", len(tests), len(presets))
	}
}

// TestPresetTileSizes checks the documented table: at the nominal size
// every tile's long side is 1000–1400 px.
func TestPresetTileSizes(t *testing.T) {
	for _, p := range presets {
		f, _ := Pano(p.width)
		tiles := f.Tiles(image.Rect(0, 0, p.width, p.width/2))
		if len(tiles) != p.rows*(p.cols+1) {
			t.Errorf("pano:%d: %d tiles, want %d", p.width, len(tiles), p.rows*(p.cols+1))
		}
		for _, tl := range tiles {
			b := tl.Bounds()
			if long := max(b.Dx(), b.Dy()); long < 1000 || long > 1400 {
				t.Errorf("pano:%d: tile %v (%dx%d) long side %d not in 1000..1400", p.width, b, b.Dx(), b.Dy(), long)
			}
		}
		t.Logf("pano:%d: %dx%d, tile %v", p.width, p.cols, p.rows, tiles[0].Rect.Size())
	}
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		str  string // String(), when not in
	}{
		{"", Format{}, "whole"},
		{"whole", Format{}, ""},
		{"  whole\n", Format{}, "whole"},
		{`{"number":[2,2]}`, Format{Cols: 2, Rows: 2}, ""},
		{`{"number": [2, 2], "overlap": [0, 0]}`, Format{Cols: 2, Rows: 2}, `{"number":[2,2]}`},
		{`{"number":[3,1],"overlap":[0.1,0.25]}`, Format{Cols: 3, Rows: 1, OverlapX: 0.1, OverlapY: 0.25}, ""},
		{`{"overlap":[0.9,0],"number":[64,1]}`, Format{Cols: 64, Rows: 1, OverlapX: 0.9}, `{"number":[64,1],"overlap":[0.9,0]}`},
		{`{"number":[10,10],"overlap":[0.66,0.66]}`, Format{Cols: 10, Rows: 10, OverlapX: 0.66, OverlapY: 0.66}, ""},
		{`{"number":[1,1]}`, Format{Cols: 1, Rows: 1}, ""},
		{`{"number":[2.0,3e0]}`, Format{Cols: 2, Rows: 3}, `{"number":[2,3]}`},
		{"{\"number\":[2,2]}\n", Format{Cols: 2, Rows: 2}, `{"number":[2,2]}`},
	}
	for _, tt := range tests {
		f, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if f != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, f, tt.want)
		}
		want := tt.str
		if want == "" {
			want = tt.in
		}
		if s := f.String(); s != want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, want)
		}
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		in, want string // want: a part of the error text
	}{
		{"tiles", `unknown format "tiles"`},
		{"Whole", `unknown format "Whole"`},
		{"pano", `unknown format "pano"`},
		{"pano:1234", "pano width 1234 is not a preset (presets: 4096, 5400, 5640, 7060, 7680, 8000, 8192, 11000)"},
		{"pano:", `pano width "" is not a number`},
		{"pano:-4096", `pano width "-4096" is not a number`},
		{"pano:+4096", `pano width "+4096" is not a number`},
		{"pano:4096x", `pano width "4096x" is not a number`},
		{`{"number":[0,2]}`, `"number" must be two positive integers, got [0,2]`},
		{`{"number":[2]}`, `"number" must be two positive integers, got [2]`},
		{`{"number":[2,2,2]}`, `"number" must be two positive integers, got [2,2,2]`},
		{`{"number":[1.5,2]}`, `"number" must be two positive integers, got [1.5,2]`},
		{`{"number":["2",2]}`, `"number" must be two positive integers, got ["2",2]`},
		{`{"number":2}`, `"number" must be two positive integers, got 2`},
		{`{"number":null}`, `"number" must be two positive integers, got null`},
		{`{"number":[-1,2]}`, `"number" must be two positive integers, got [-1,2]`},
		{`{"number":[65,2]}`, `"number" must be at most 64 per axis, got [65,2]`},
		{`{"number":[2,1e300]}`, `"number" must be at most 64 per axis`},
		{`{"number":[2,2],"overlap":[1,0]}`, `"overlap" must be two numbers in [0, 0.9], got [1,0]`},
		{`{"number":[2,2],"overlap":[-0.1,0]}`, `"overlap" must be two numbers in [0, 0.9], got [-0.1,0]`},
		{`{"number":[2,2],"overlap":[0.1]}`, `"overlap" must be two numbers in [0, 0.9], got [0.1]`},
		{`{"number":[2,2],"overlap":"0.1"}`, `"overlap" must be two numbers in [0, 0.9], got "0.1"`},
		{`{"number":[2,2],"overlap":[0.1,true]}`, `"overlap" must be two numbers in [0, 0.9]`},
		{`{"overlap":[0.1,0.1]}`, `missing "number"`},
		{`{}`, `missing "number"`},
		{`{"number":[2,2],"size":[1,1]}`, `unknown key "size"`},
		{`{"Number":[2,2]}`, `unknown key "Number"`},
		{`{"number":[2,2],"number":[3,3]}`, `key "number" given twice`},
		{`{"number":[2,2]} x`, "trailing data"},
		{`{"number":[2,2]}{}`, "trailing data"},
		{`{"number":[2,2]`, "bad JSON"},
		{`{"number":[2,2],}`, "bad JSON"},
		{`{"number":}`, `bad JSON value of "number"`},
		{`{number:[2,2]}`, "bad JSON"},
		{`[2,2]`, `unknown format "[2,2]"`},
		{`{`, "bad JSON"},
	}
	for _, tt := range tests {
		f, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", tt.in, f)
			continue
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q): %v does not wrap ErrFormat", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): error %q does not contain %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "tiling: bad format: ") {
			t.Errorf("Parse(%q): error %q lacks the prefix", tt.in, err)
		}
	}
}

func TestParseLongInput(t *testing.T) {
	in := strings.Repeat("x", 10000)
	_, err := Parse(in)
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("Parse(long): error %d bytes: %.100v", len(err.Error()), err)
	}
}

func TestStringHandMade(t *testing.T) {
	tests := []struct {
		f    Format
		want string
	}{
		{Format{}, "whole"},
		{Format{Cols: 3}, "whole"},
		{Format{Cols: 2, Rows: 2, Wrap: true}, `{"number":[2,2]}`},
		{Format{Cols: 2, Rows: 2, OverlapX: 0.1, Wrap: true, Pano: 8000}, `{"number":[2,2],"overlap":[0.1,0]}`},
		{Format{Cols: 2, Rows: 2, OverlapY: 1e-7}, `{"number":[2,2],"overlap":[0,1e-07]}`},
	}
	for _, tt := range tests {
		if s := tt.f.String(); s != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.f, s, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "whole", "pano:8000", "pano:11000", "pano:1",
		`{"number":[2,2]}`, `{"number":[3,2],"overlap":[0.1,0.2]}`,
		`{"number":[64,64],"overlap":[0.9,0.9]}`, `{"number":[0,2]}`, `{"x":1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse(%q): %v does not wrap ErrFormat", s, err)
			}
			return
		}
		if !fm.Wrap && (fm.Cols*fm.Rows > MaxGridTiles || fm.Area() > MaxArea) {
			t.Fatalf("Parse(%q) = %+v: %d tiles adding up to %.3g times the image", s, fm, fm.Cols*fm.Rows, fm.Area())
		}
		if g, err := Parse(fm.String()); err != nil || g != fm {
			t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v, %v", s, fm, fm.String(), g, err)
		}
		b := image.Rect(0, 0, 1000, 500)
		if err := checkCover(fm.Tiles(b), b); err != nil {
			t.Fatalf("Parse(%q) = %+v: %v", s, fm, err)
		}
	})
}

// TestParseWork checks the bounds on the work a grid asks for: at most
// MaxGridTiles tiles, adding up to at most MaxArea times the image (issue
// 18: a 64×64 grid with 0.9 overlap kept a server busy 139 s on a 1.2 MP
// image).
func TestParseWork(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // the error; "" when accepted
	}{
		{`{"number":[64,64],"overlap":[0.9,0.9]}`, `"number" [64,64] makes 4096 tiles, at most 100 in all`},
		{`{"number":[64,64]}`, `"number" [64,64] makes 4096 tiles, at most 100 in all`},
		{`{"number":[11,10]}`, `"number" [11,10] makes 110 tiles, at most 100 in all`},
		{`{"number":[4,4],"overlap":[0.9,0.9]}`, `"number" [4,4] with "overlap" [0.9,0.9] makes tiles that add up to 9.47 times the image, at most 9: use fewer tiles or less overlap`},
		{`{"number":[50,2],"overlap":[0.9,0.5]}`, `"number" [50,2] with "overlap" [0.9,0.5] makes tiles that add up to 11.3 times`},
		{`{"number":[64,1],"overlap":[0.9,0.5]}`, ""}, // one row: no overlap down
		{`{"number":[10,10]}`, ""},
		{`{"number":[100,1]}`, `"number" must be at most 64 per axis`},
		{`{"number":[64,1]}`, ""},
		{`{"number":[10,10],"overlap":[0.66,0.66]}`, ""},
		{`{"number":[2,2],"overlap":[0.9,0.9]}`, ""},
		{`{"number":[3,3],"overlap":[0.9,0.9]}`, ""},
		{`{"number":[8,8],"overlap":[0.5,0.5]}`, ""},
		{`{"number":[64,1],"overlap":[0.9,0]}`, ""},
	} {
		f, err := Parse(tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Parse(%s): %v", tt.in, err)
		case tt.want != "" && (!errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Parse(%s) = %+v, %v; want an error saying %q", tt.in, f, err, tt.want)
		}
	}
	// The presets are within the bounds too.
	for _, p := range presets {
		f, _ := Pano(p.width)
		if a := f.Area(); a > MaxArea || f.Cols*f.Rows > MaxGridTiles {
			t.Errorf("pano:%d: %d×%d tiles, area %.3g", p.width, f.Cols, f.Rows, a)
		}
	}
}

// TestArea checks Area against the tiles themselves, on an image large
// enough for every grid: along an axis of length L with n tiles the
// tiles' lengths add up to Area's factor × L, give or take the widening
// to whole pixels (less than 2 pixels a tile, and the last tile ends at
// the edge).
func TestArea(t *testing.T) {
	b := image.Rect(0, 0, 20000, 15000)
	for _, f := range []Format{
		{},
		{Cols: 2, Rows: 2},
		{Cols: 3, Rows: 2, OverlapX: 0.1, OverlapY: 0.25},
		{Cols: 10, Rows: 10, OverlapX: 0.66, OverlapY: 0.66},
		{Cols: 64, Rows: 1, OverlapX: 0.9},
		{Cols: 4, Rows: 4, OverlapX: 0.9, OverlapY: 0.9},
	} {
		var sum float64
		for _, tl := range f.Tiles(b) {
			sum += float64(tl.Bounds().Dx()) * float64(tl.Bounds().Dy())
		}
		a := f.Area()
		nx, ny := float64(max(f.Cols, 1)), float64(max(f.Rows, 1))
		ax := float64(nx) / (nx - (nx-1)*f.OverlapX)
		ay := a / ax
		lo := (ax*float64(b.Dx()) - nx) * (ay*float64(b.Dy()) - ny)
		hi := (ax*float64(b.Dx()) + 2*nx) * (ay*float64(b.Dy()) + 2*ny)
		if sum < lo || sum > hi {
			t.Errorf("%v: tiles add up to %.0f px, Area %.4g says %.0f..%.0f", f, sum, a, lo, hi)
		}
	}
	if a := (Format{Cols: 4, Rows: 1, Wrap: true}).Area(); a != 1.25 {
		t.Errorf("4×1 with a wrap-around tile: Area %v, want 1.25", a)
	}
}
