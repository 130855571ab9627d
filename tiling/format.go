// Package tiling cuts large images into overlapping tiles, so that
// detectors find small objects, and joins the detections of the tiles
// again.
//
// The tiling is chosen by the Celantur `format` option, parsed by [Parse]:
// "whole" (no tiling), a "pano:N" preset for equirectangular panoramas, or
// a custom grid {"number":[nx,ny],"overlap":[ox,oy]}. [Format.Tiles] gives
// the regions to run the detectors on and [Merge] joins their detections,
// so that an object cut by a tile seam comes out as one box.
package tiling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrFormat is the error, wrapped, of every format that does not parse.
var ErrFormat = errors.New("tiling: bad format")

// MaxTiles is the most columns or rows a custom format may ask for.
const MaxTiles = 64

// Bounds on the work a custom grid asks of the detectors, which run once
// per tile: a 64×64 grid with 0.9 overlap had them look at 77 times the
// image's pixels, in thousands of runs. The pano presets are within them.
const (
	// MaxGridTiles is the most tiles a custom grid may have in all,
	// nx×ny. Each tile costs at least one run of every detector, however
	// small it is: they scale a small region up to their input.
	MaxGridTiles = 100
	// MaxArea is the most a custom grid's tiles may add up to, as a
	// multiple of the image's area ([Format.Area]). Every grid whose
	// overlaps are at most 0.66 is within it.
	MaxArea = 9
)

// MinTile is the fewest pixels a tile of a grid spans along an axis, unless
// the image itself is shorter; see [Format.Tiles].
const MinTile = 32

// MaxOverlap is the largest overlap a custom format may ask for.
const MaxOverlap = 0.9

// Format is a parsed `format` option. The zero Format is "whole": a
// Format with Cols or Rows below 1 is whole and its other fields are
// ignored.
type Format struct {
	// Cols and Rows are the grid's numbers of tiles across and down.
	Cols, Rows int
	// OverlapX and OverlapY are the fractions of a tile's width and
	// height that neighbouring tiles share, in [0, MaxOverlap].
	OverlapX, OverlapY float64
	// Wrap says the image is a 360° panorama whose left and right edges
	// meet: each row gets one more tile that straddles that seam.
	Wrap bool
	// Pano is the N of a "pano:N" preset, 0 for other formats.
	Pano int
}

// A preset is the grid of one "pano:N" format.
type preset struct{ width, cols, rows int }

// presets are the "pano:N" formats, for equirectangular panoramas N
// pixels wide and N/2 high. Each grid, with overlap 0.1, gives tiles
// whose long side is 1000–1400 pixels at the nominal size:
//
//	format      image        grid  tile (px)
//	pano:4096   4096×2048    4×2   1107×1078
//	pano:5400   5400×2700    5×3   1174×964
//	pano:5640   5640×2820    5×3   1226×1007
//	pano:7060   7060×3530    6×3   1284×1261
//	pano:7680   7680×3840    7×3   1200×1371
//	pano:8000   8000×4000    7×4   1250×1081
//	pano:8192   8192×4096    7×4   1280×1107
//	pano:11000  11000×5500   9×5   1341×1196
//
// Every row also gets a wrap-around tile as wide as the others.
var presets = []preset{
	{4096, 4, 2},
	{5400, 5, 3},
	{5640, 5, 3},
	{7060, 6, 3},
	{7680, 7, 3},
	{8000, 7, 4},
	{8192, 7, 4},
	{11000, 9, 5},
}

// presetOverlap is the overlap of the "pano:N" presets.
const presetOverlap = 0.1

// Pano returns the "pano:n" preset and whether there is one.
func Pano(n int) (Format, bool) {
	for _, p := range presets {
		if p.width == n {
			return Format{
				Cols: p.cols, Rows: p.rows,
				OverlapX: presetOverlap, OverlapY: presetOverlap,
				Wrap: true, Pano: n,
			}, true
		}
	}
	return Format{}, false
}

// Whole reports whether f is no tiling at all.
func (f Format) Whole() bool { return f.Cols < 1 || f.Rows < 1 }

// Parse parses a `format` option: "whole" or "" (no tiling), "pano:N"
// with N one of the presets' widths (4096, 5400, 5640, 7060, 7680, 8000,
// 8192, 11000), or a JSON object {"number":[nx,ny],"overlap":[ox,oy]}
// with nx columns and ny rows (integers in 1..64, at most 100 tiles in
// all) and the overlaps as fractions of a tile's width and height (numbers
// in [0, 0.9]; "overlap" may be left out for none), whose tiles add up to
// at most 9 times the image (MaxArea: any overlaps up to 0.66 are).
// Surrounding white space is ignored. Every error wraps ErrFormat and says
// what is wrong.
func Parse(s string) (Format, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "whole":
		return Format{}, nil
	case strings.HasPrefix(s, "pano:"):
		return parsePano(s[len("pano:"):])
	case strings.HasPrefix(s, "{"):
		return parseGrid(s)
	}
	return Format{}, fmt.Errorf(`%w: unknown format %s (want "whole", "pano:N" or {"number":[nx,ny],"overlap":[ox,oy]})`, ErrFormat, quote(s))
}

func parsePano(n string) (Format, error) {
	w, err := strconv.Atoi(n)
	if err != nil || n == "" || strings.TrimLeft(n, "0123456789") != "" {
		return Format{}, fmt.Errorf("%w: pano width %s is not a number (presets: %s)", ErrFormat, quote(n), presetList())
	}
	f, ok := Pano(w)
	if !ok {
		return Format{}, fmt.Errorf("%w: pano width %d is not a preset (presets: %s)", ErrFormat, w, presetList())
	}
	return f, nil
}

func presetList() string {
	var b strings.Builder
	for i, p := range presets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(p.width))
	}
	return b.String()
}

// parseGrid parses the JSON form. It walks the top-level object itself so
// that it can reject unknown and repeated keys and trailing data.
func parseGrid(s string) (Format, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Format{}, fmt.Errorf("%w: not a JSON object: %s", ErrFormat, quote(s))
	}
	var number, overlap json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Format{}, fmt.Errorf("%w: bad JSON: %v", ErrFormat, jsonErr(err))
		}
		key, _ := tok.(string)
		var dst *json.RawMessage
		switch key {
		case "number":
			dst = &number
		case "overlap":
			dst = &overlap
		default:
			return Format{}, fmt.Errorf(`%w: unknown key %s (want "number" and "overlap")`, ErrFormat, quote(key))
		}
		if *dst != nil {
			return Format{}, fmt.Errorf("%w: key %q given twice", ErrFormat, key)
		}
		if err := dec.Decode(dst); err != nil {
			return Format{}, fmt.Errorf("%w: bad JSON value of %q: %v", ErrFormat, key, jsonErr(err))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return Format{}, fmt.Errorf("%w: bad JSON: %v", ErrFormat, jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Format{}, fmt.Errorf("%w: trailing data after the JSON object", ErrFormat)
	}
	if number == nil {
		return Format{}, fmt.Errorf(`%w: missing "number" (e.g. {"number":[2,2]})`, ErrFormat)
	}
	nx, ny, ok := pair(number)
	if !ok || nx != math.Trunc(nx) || ny != math.Trunc(ny) || nx < 1 || ny < 1 {
		return Format{}, fmt.Errorf(`%w: "number" must be two positive integers, got %s`, ErrFormat, compact(number))
	}
	if nx > MaxTiles || ny > MaxTiles {
		return Format{}, fmt.Errorf(`%w: "number" must be at most %d per axis, got %s`, ErrFormat, MaxTiles, compact(number))
	}
	if nx*ny > MaxGridTiles {
		return Format{}, fmt.Errorf(`%w: "number" %s makes %d tiles, at most %d in all`, ErrFormat, compact(number), int(nx*ny), MaxGridTiles)
	}
	f := Format{Cols: int(nx), Rows: int(ny)}
	if overlap != nil {
		ox, oy, ok := pair(overlap)
		if !ok || !(ox >= 0 && ox <= MaxOverlap && oy >= 0 && oy <= MaxOverlap) {
			return Format{}, fmt.Errorf(`%w: "overlap" must be two numbers in [0, %g], got %s`, ErrFormat, MaxOverlap, compact(overlap))
		}
		f.OverlapX, f.OverlapY = ox, oy
	}
	if a := f.Area(); a > MaxArea {
		return Format{}, fmt.Errorf(`%w: "number" %s with "overlap" %s makes tiles that add up to %.3g times the image, at most %d: use fewer tiles or less overlap`,
			ErrFormat, compact(number), compact(overlap), a, MaxArea)
	}
	return f, nil
}

// Area returns how many times the image's area the tiles of f add up to
// on an image large enough for the whole grid (see [Format.Tiles]), before
// the tiles are widened to whole pixels: 1 for whole, more with overlap
// and with a panorama's wrap-around tiles. Along an axis of n tiles with
// overlap o the tiles add up to n / (n − (n−1)·o) times its length.
func (f Format) Area() float64 {
	if f.Whole() {
		return 1
	}
	axis := func(n int, o float64) float64 {
		o = clampOverlap(o)
		return float64(n) / (float64(n) - float64(n-1)*o)
	}
	ax := axis(f.Cols, f.OverlapX)
	if f.Wrap {
		ax *= float64(f.Cols+1) / float64(f.Cols)
	}
	return ax * axis(f.Rows, f.OverlapY)
}

// pair decodes a JSON array of exactly two numbers.
func pair(raw json.RawMessage) (a, b float64, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v []any
	if dec.Decode(&v) != nil || len(v) != 2 {
		return 0, 0, false
	}
	var out [2]float64
	for i, e := range v {
		n, isNum := e.(json.Number)
		if !isNum {
			return 0, 0, false
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, 0, false
		}
		out[i] = x
	}
	return out[0], out[1], true
}

// jsonErr shortens decoder errors that would quote long inputs.
func jsonErr(err error) string {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "unexpected end of input"
	}
	return err.Error()
}

// compact returns raw JSON on one line, shortened for error messages.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return clip(string(raw))
	}
	return clip(b.String())
}

// quote quotes a piece of user input for an error message.
func quote(s string) string { return strconv.Quote(clip(s)) }

func clip(s string) string {
	const n = 64
	if len(s) > n {
		r := []rune(s)
		if len(r) > n {
			return string(r[:n]) + "…"
		}
	}
	return s
}

// String returns f as Parse accepts it: "whole", "pano:N", or the JSON
// grid with the overlap left out when it is zero. A Format that no string
// describes (Wrap without a preset) is written as its grid alone.
func (f Format) String() string {
	if f.Whole() {
		return "whole"
	}
	if p, ok := Pano(f.Pano); ok && p == f {
		return "pano:" + strconv.Itoa(f.Pano)
	}
	s := `{"number":[` + strconv.Itoa(f.Cols) + "," + strconv.Itoa(f.Rows) + "]"
	if f.OverlapX != 0 || f.OverlapY != 0 {
		s += `,"overlap":[` + num(f.OverlapX) + "," + num(f.OverlapY) + "]"
	}
	return s + "}"
}

// num formats v as a JSON number (v is finite).
func num(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
