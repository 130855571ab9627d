package veil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/veilkit/veil/mask"
)

// TestIgnoresFarOutside checks that an ignore region outside the image,
// however far (where TopLeftX+Width overflows int), ignores nothing: the
// face is anonymized (issue 18: such a region wrapped around and covered
// the whole image).
func TestIgnoresFarOutside(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 20, Y1: 20, X2: 60, Y2: 60}}
	e := fixedEngine(t, face)
	src := noise(100, 80)
	maxInt := strconv.Itoa(math.MaxInt)
	for _, ignores := range []string{
		`[{"topLeftX":` + maxInt + `,"topLeftY":` + maxInt + `,"width":1,"height":1}]`,
		`[{"topLeftX":` + maxInt + `,"topLeftY":0,"width":` + maxInt + `,"height":80}]`,
		`[{"topLeftX":0,"topLeftY":` + maxInt + `,"width":100,"height":2}]`,
		`[{"topLeftX":100,"topLeftY":0,"width":` + maxInt + `,"height":` + maxInt + `}]`,
		`[{"topLeftX":1000000,"topLeftY":1000000,"width":10,"height":10}]`,
	} {
		var p Params
		if err := p.Set("ignores", ignores); err != nil {
			t.Errorf("Set(ignores, %s): %v", ignores, err)
			continue
		}
		res, err := e.Anonymize(context.Background(), src, p)
		if err != nil {
			t.Errorf("%s: %v", ignores, err)
			continue
		}
		if len(res.Objects) != 1 || !res.Objects[0].Anonymized {
			t.Errorf("%s: objects %+v, want the face anonymized", ignores, res.Objects)
		}
		if pixelDiff(res.Image, src, 40, 40) == 0 && pixelDiff(res.Image, src, 41, 41) == 0 {
			t.Errorf("%s: the face's pixels are unchanged", ignores)
		}
	}
}

// TestIgnoresNotCanonical checks that a rectangle of Params.Ignores with
// Min below or right of Max is refused: image.Rect would swap its corners
// into a rectangle that covers pixels the caller did not name.
func TestIgnoresNotCanonical(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 20, Y1: 20, X2: 60, Y2: 60}}
	e := fixedEngine(t, face)
	src := noise(100, 80)
	for _, r := range []image.Rectangle{
		{Min: image.Pt(math.MaxInt, math.MaxInt), Max: image.Pt(math.MinInt, math.MinInt)},
		{Min: image.Pt(60, 0), Max: image.Pt(10, 80)},
		{Min: image.Pt(0, 60), Max: image.Pt(100, 10)},
	} {
		p := Params{Ignores: []image.Rectangle{image.Rect(0, 0, 1, 1), r}}
		if res, err := e.Anonymize(context.Background(), src, p); !errors.Is(err, ErrOption) || res != nil {
			t.Errorf("Anonymize with ignores %v: %v, %v; want an ErrOption", p.Ignores, res, err)
		}
		if res, err := e.Masks(context.Background(), src, p); !errors.Is(err, ErrOption) || res != nil {
			t.Errorf("Masks with ignores %v: %v, %v; want an ErrOption", p.Ignores, res, err)
		}
	}
	// Empty rectangles are no regions.
	p := Params{Ignores: []image.Rectangle{{}, image.Rect(30, 30, 30, 50)}}
	res, err := e.Anonymize(context.Background(), src, p)
	if err != nil || !res.Objects[0].Anonymized {
		t.Errorf("empty ignores: %v, %v", res, err)
	}
}

func TestRegionRect(t *testing.T) {
	const M = math.MaxInt
	for _, tt := range []struct {
		r    Region
		want image.Rectangle
	}{
		{Region{1, 2, 3, 4}, image.Rect(1, 2, 4, 6)},
		{Region{-5, -5, 10, 10}, image.Rect(-5, -5, 5, 5)},
		{Region{M, M, 1, 1}, image.Rectangle{Min: image.Pt(M, M), Max: image.Pt(M, M)}},
		{Region{M - 1, 0, 5, M}, image.Rectangle{Min: image.Pt(M-1, 0), Max: image.Pt(M, M)}},
		{Region{math.MinInt, math.MinInt, M, M}, image.Rect(math.MinInt, math.MinInt, -1, -1)},
		{Region{0, 0, 0, 5}, image.Rectangle{}},
		{Region{0, 0, 5, -1}, image.Rectangle{}},
		{Region{10, 10, math.MinInt, math.MinInt}, image.Rectangle{}},
	} {
		if got := tt.r.Rect(); got != tt.want {
			t.Errorf("%+v.Rect() = %v, want %v", tt.r, got, tt.want)
		}
	}
}

// TestParseIgnoresBad checks the regions ParseIgnores refuses, and what
// it says.
func TestParseIgnoresBad(t *testing.T) {
	for _, tt := range []struct{ in, msg string }{
		{`[{"topLeftX":-1,"topLeftY":0,"width":5,"height":5}]`, "region 1: topLeftX and topLeftY must be at least 0, got -1, 0"},
		{`[{"topLeftX":0,"topLeftY":0,"width":5,"height":5},{"topLeftX":0,"topLeftY":-3,"width":5,"height":5}]`, "region 2: topLeftX and topLeftY must be at least 0"},
		{`[{"topLeftX":0,"topLeftY":0,"width":-5,"height":5}]`, "region 1: width and height must be positive, got -5x5"},
		{`[{"topLeftY":0,"width":5,"height":5}]`, `region 1: missing "topLeftX"`},
		{`[{"topLeftX":0,"topLeftY":null,"width":5,"height":5}]`, `region 1: missing "topLeftY"`},
		{`[{"topLeftX":0,"topLeftY":0,"width":5}]`, `region 1: missing "height"`},
		{`[{"topLeftX":1.5,"topLeftY":0,"width":5,"height":5}]`, "topLeftX: want an integer"},
		{`[{"topLeftX":"1","topLeftY":0,"width":5,"height":5}]`, "topLeftX: want an integer"},
		{`[{"topLeftX":0,"topLeftY":0,"width":1e400,"height":5}]`, "width: want an integer"},
		{`[{"topLeftX":99999999999999999999,"topLeftY":0,"width":5,"height":5}]`, "topLeftX: want an integer"},
		{`[{"topLeftX":0,"topLeftY":0,"width":5,"height":5}] [{}]`, "trailing data"},
		{`[{"topLeftX":0,"topLeftY":0,"width":5,"height":5}`, "want a JSON array of regions"},
		{`{"topLeftX":0,"topLeftY":0,"width":5,"height":5}`, "want a JSON array of regions"},
	} {
		_, err := ParseIgnores(tt.in)
		if !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseIgnores(%s) = %v, want an ErrOption saying %q", tt.in, err, tt.msg)
		}
	}
}

// FuzzIgnores checks that what ParseIgnores accepts the engine accepts,
// and that the regions it returns, applied to a w×h image, ignore exactly
// the pixels of the regions as written: none outside them (which would
// leave pixels un-anonymized) and all inside. The regions as written are
// read again as JSON numbers and compared in big integers, so an
// overflow in ParseIgnores cannot hide in the check.
func FuzzIgnores(f *testing.F) {
	maxInt := strconv.Itoa(math.MaxInt)
	for _, s := range []string{
		`[{"topLeftX":1,"topLeftY":2,"width":3,"height":4}]`,
		`[{"topLeftX":` + maxInt + `,"topLeftY":` + maxInt + `,"width":1,"height":1}]`,
		`[{"topLeftX":9223372036854775807,"topLeftY":9223372036854775807,"width":1,"height":1}]`,
		`[{"topLeftX":2147483647,"topLeftY":2147483647,"width":2,"height":2}]`,
		`[{"topLeftX":0,"topLeftY":5,"width":` + maxInt + `,"height":1},{"topLeftX":7,"topLeftY":0,"width":1,"height":` + maxInt + `}]`,
		`[{"topLeftX":-1,"topLeftY":0,"width":3,"height":3}]`,
		`[]`, `null`, ``,
	} {
		f.Add(s, uint8(16), uint8(9))
	}
	f.Fuzz(func(t *testing.T, s string, w, h uint8) {
		rs, err := ParseIgnores(s)
		if err != nil {
			if !errors.Is(err, ErrOption) {
				t.Fatalf("ParseIgnores(%q): %v is not an ErrOption", s, err)
			}
			return
		}
		p := Params{Ignores: rs}
		if err := p.validateAnonymize(); err != nil {
			t.Fatalf("ParseIgnores(%q) = %v, which Anonymize refuses: %v", s, rs, err)
		}
		regs, err := bigRegions(s)
		if err != nil {
			t.Fatalf("ParseIgnores(%q) accepted what JSON numbers do not read: %v", s, err)
		}
		if len(regs) != len(rs) {
			t.Fatalf("ParseIgnores(%q): %d regions, want %d", s, len(rs), len(regs))
		}
		b := image.Rect(0, 0, int(w%64)+1, int(h%64)+1)
		m := mask.FromRect(b)
		p.clearIgnores(m)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				want := inBigRegions(regs, x, y)
				if got := m.At(x, y) == 0; got != want {
					t.Fatalf("ParseIgnores(%q) = %v: pixel (%d, %d) of a %v image ignored = %v, want %v", s, rs, x, y, b, got, want)
				}
			}
		}
	})
}

// bigRegion is a region as written, in big integers.
type bigRegion struct{ x, y, w, h *big.Int }

// bigRegions reads the regions of s as JSON numbers.
func bigRegions(s string) ([]bigRegion, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var raw []struct {
		TopLeftX json.Number `json:"topLeftX"`
		TopLeftY json.Number `json:"topLeftY"`
		Width    json.Number `json:"width"`
		Height   json.Number `json:"height"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	regs := make([]bigRegion, len(raw))
	for k, r := range raw {
		var v [4]*big.Int
		for j, n := range []json.Number{r.TopLeftX, r.TopLeftY, r.Width, r.Height} {
			i, ok := new(big.Int).SetString(string(n), 10)
			if !ok {
				return nil, fmt.Errorf("region %d: %q is not an integer", k, n)
			}
			v[j] = i
		}
		regs[k] = bigRegion{v[0], v[1], v[2], v[3]}
	}
	return regs, nil
}

// inBigRegions reports whether pixel (x, y) lies in one of regs.
func inBigRegions(regs []bigRegion, x, y int) bool {
	bx, by := big.NewInt(int64(x)), big.NewInt(int64(y))
	in := func(p, lo, n *big.Int) bool {
		return lo.Cmp(p) <= 0 && p.Cmp(new(big.Int).Add(lo, n)) < 0
	}
	for _, r := range regs {
		if in(bx, r.x, r.w) && in(by, r.y, r.h) {
			return true
		}
	}
	return false
}
