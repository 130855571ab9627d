package mask

import (
	"encoding/json"
	"errors"
	"image"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// rleCase is a mask in a w×h image for the round-trip tests.
type rleCase struct {
	name string
	m    *Mask
	w, h int
}

func rleCases() []rleCase {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []rleCase{
		{"nil", nil, 5, 4},
		{"empty", New(image.Rect(0, 0, 6, 5)), 6, 5},
		{"full", FromRect(image.Rect(0, 0, 6, 5)), 6, 5},
		{"full over the edges", FromRect(image.Rect(-2, -2, 9, 9)), 6, 5},
		{"1x1 covered", FromRect(image.Rect(0, 0, 1, 1)), 1, 1},
		{"1x1 uncovered", New(image.Rect(0, 0, 1, 1)), 1, 1},
		{"1x1 soft", maskOf(image.Rect(0, 0, 1, 1), "-"), 1, 1},
		{"first pixel", FromRect(image.Rect(0, 0, 1, 1)), 7, 3},
		{"last pixel", FromRect(image.Rect(6, 2, 7, 3)), 7, 3},
		{"left column", FromRect(image.Rect(0, 0, 1, 3)), 7, 3},
		{"right column", FromRect(image.Rect(6, 0, 7, 3)), 7, 3},
		{"top row", FromRect(image.Rect(0, 0, 7, 1)), 7, 3},
		{"bottom row", FromRect(image.Rect(0, 2, 7, 3)), 7, 3},
		{"wrapping rows", maskOf(image.Rect(0, 0, 4, 3), "  ##", "#  #", "##  "), 4, 3},
		{"wrapping columns", maskOf(image.Rect(0, 0, 3, 4), "   ", "#  ", "##", "# #"), 3, 4},
		{"partly outside", randomMask(rng, image.Rect(-3, -2, 4, 3), 0.6), 6, 5},
		{"outside", FromRect(image.Rect(10, 10, 12, 12)), 6, 5},
		{"short Pix", &Mask{Rect: image.Rect(0, 0, 3, 3), Pix: []uint8{255}}, 3, 3},
	}
	for i := range 20 {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		r := image.Rect(rng.IntN(w+4)-4, rng.IntN(h+4)-4, 0, 0)
		r.Max = r.Min.Add(image.Pt(1+rng.IntN(w+4), 1+rng.IntN(h+4)))
		cases = append(cases, rleCase{"random " + string(rune('a'+i)), randomMask(rng, r, rng.Float64()), w, h})
	}
	return cases
}

// covered returns the mask that the decoders should return for c: m's
// covered pixels inside the image, as 0/255 over the image.
func (c rleCase) covered() *Mask {
	want := New(image.Rect(0, 0, c.w, c.h))
	for y := range c.h {
		for x := range c.w {
			if c.m.valid() && c.m.At(x, y) >= 128 {
				want.Pix[y*c.w+x] = 255
			}
		}
	}
	return want
}

// naiveRuns is the labelling-platform encoding, by the definition.
func naiveRuns(want *Mask) []int {
	runs := []int{}
	for i, c := range want.Pix {
		switch {
		case c == 0:
		case i > 0 && want.Pix[i-1] != 0:
			runs[len(runs)-1]++
		default:
			runs = append(runs, i, 1)
		}
	}
	return runs
}

// naiveCOCO is pycocotools' rleEncode over the column-major pixels.
func naiveCOCO(want *Mask, w, h int) []int {
	var counts []int
	c, p := 0, uint8(0)
	for x := range w {
		for y := range h {
			if v := want.Pix[y*w+x]; v != p {
				counts = append(counts, c)
				c, p = 0, v
			}
			c++
		}
	}
	return append(counts, c)
}

func TestRunsRoundTrip(t *testing.T) {
	for _, c := range rleCases() {
		t.Run(c.name, func(t *testing.T) {
			want := c.covered()
			runs := EncodeRuns(c.m, c.w, c.h)
			if exp := naiveRuns(want); !slices.Equal(runs, exp) || runs == nil {
				t.Fatalf("EncodeRuns = %v, want %v", runs, exp)
			}
			got, err := DecodeRuns(runs, c.w, c.h)
			if err != nil {
				t.Fatal(err)
			}
			sameMask(t, got, want)
		})
	}
}

func TestCOCORoundTrip(t *testing.T) {
	for _, c := range rleCases() {
		t.Run(c.name, func(t *testing.T) {
			want := c.covered()
			enc := EncodeCOCO(c.m, c.w, c.h)
			if enc.Size != [2]int{c.h, c.w} {
				t.Errorf("Size = %v, want [%d %d]", enc.Size, c.h, c.w)
			}
			if exp := naiveCOCO(want, c.w, c.h); !reflect.DeepEqual(enc.Counts, exp) {
				t.Fatalf("Counts = %v, want %v", enc.Counts, exp)
			}
			str := EncodeCOCOString(c.m, c.w, c.h)
			if s, ok := str.Counts.(string); !ok || s != countsString(enc.Counts.([]int)) {
				t.Fatalf("EncodeCOCOString Counts = %#v", str.Counts)
			}
			for _, e := range []COCO{enc, str, viaJSON(t, enc), viaJSON(t, str)} {
				got, err := DecodeCOCO(e)
				if err != nil {
					t.Fatalf("DecodeCOCO(%T): %v", e.Counts, err)
				}
				sameMask(t, got, want)
			}
		})
	}
}

// viaJSON marshals c and unmarshals it into a COCO, as a caller reading
// a COCO file would.
func viaJSON(t *testing.T, c COCO) COCO {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out COCO
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCOCOJSON(t *testing.T) {
	// Column-major: 0 1 0 1 1 0, so counts [1 1 1 2 1]; compressed, the
	// last two are 2-1 = 1 and 1-1 = 0.
	m := maskOf(image.Rect(0, 0, 3, 2), "  #", "## ")
	for _, tt := range []struct {
		c    COCO
		want string
	}{
		{EncodeCOCO(m, 3, 2), `{"size":[2,3],"counts":[1,1,1,2,1]}`},
		{EncodeCOCOString(m, 3, 2), `{"size":[2,3],"counts":"11110"}`},
		{EncodeCOCO(nil, 0, 0), `{"size":[0,0],"counts":[0]}`},
	} {
		b, err := json.Marshal(tt.c)
		if err != nil || string(b) != tt.want {
			t.Errorf("json.Marshal = %s, %v; want %s", b, err, tt.want)
		}
	}
}

// TestCOCOString checks the compressed form against values worked out by
// hand from pycocotools' rleToString: for each count x, less counts[i-2]
// when i > 2, repeat { c = x & 0x1f; x >>= 5 (arithmetic);
// more = c&0x10 ? x != -1 : x != 0; if more { c |= 0x20 }; emit c+48 }
// while more.
func TestCOCOString(t *testing.T) {
	tests := []struct {
		name   string
		w, h   int
		rows   []string // the mask, '#' covered
		counts []int
		want   string
	}{
		// 3×2, covered (1,0), (0,1), (2,1):
		//	row 0: . # .
		//	row 1: # . #
		// Column-major (x*h+y): (0,0)=0 (0,1)=1 (1,0)=1 (1,1)=0 (2,0)=0
		// (2,1)=1, so the counts are [1 2 2 1].
		// i=0: x=1: c=1, x>>5=0, c&0x10=0 so more = 0!=0 = false: '0'+1 = '1'.
		// i=1: x=2: c=2, done: '2'.
		// i=2: x=2 (no delta, i is not > 2): '2'.
		// i=3: x = 1-counts[1] = 1-2 = -1 = ...11111: c=0x1f=31,
		//      x>>5 = -1, c&0x10 set so more = -1!=-1 = false: 48+31 = 79 = 'O'.
		{"3x2", 3, 2, []string{" # ", "# #"}, []int{1, 2, 2, 1}, "122O"},
		// All-zero 4×4: counts [16].
		// x=16=0b10000: c=16, x>>5=0, c&0x10 set so more = 0!=-1 = true:
		//      c |= 0x20 → 48, emit 48+48 = 96 = '`'.
		// x=0: c=0, x=0, more = false: '0'.
		// (So not "P0": 'P' is 80 = 48+0x20, a group of 0 with more set,
		// and "P0" decodes to 0.)
		{"4x4 empty", 4, 4, []string{"    ", "    ", "    ", "    "}, []int{16}, "`0"},
		// Full 10×10: counts [0 100].
		// i=0: x=0: '0'.
		// i=1: x=100=0b11_00100: c=4, x=3, more: c=0x24=36 → 84 = 'T';
		//      c=3, x=0, done: '3'.
		{"10x10 full", 10, 10, nil, []int{0, 100}, "0T3"},
		// 10 wide, 20 high (200 pixels), counts [100 50 10 40]: columns
		// 0..4 uncovered, 5..7 covered (50 pixels: 2.5 columns, so
		// down to y=9 of column 7), 10 uncovered, 40 covered to the end.
		// i=0: 100 → "T3" (as above).
		// i=1: x=50=0b1_10010: c=18 (0x10 set), x=1, more = 1!=-1: c=50
		//      → 98 = 'b'; c=1, x=0, done: '1'. So "b1".
		// i=2: x=10: c=10, x=0, done: 58 = ':'.
		// i=3: x = 40-counts[1] = 40-50 = -10 = ...110110: c=0b10110=22,
		//      x>>5=-1, c&0x10 set so more = false: 48+22 = 70 = 'F'.
		{"10x20 deltas", 10, 20, nil, []int{100, 50, 10, 40}, "T3b1:F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *Mask
			if tt.rows != nil {
				m = maskOf(image.Rect(0, 0, tt.w, tt.h), tt.rows...)
			} else {
				var err error
				m, err = DecodeCOCO(COCO{Size: [2]int{tt.h, tt.w}, Counts: tt.counts})
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := EncodeCOCO(m, tt.w, tt.h).Counts; !reflect.DeepEqual(got, tt.counts) {
				t.Errorf("EncodeCOCO counts = %v, want %v", got, tt.counts)
			}
			got := EncodeCOCOString(m, tt.w, tt.h)
			if got.Counts != tt.want {
				t.Errorf("EncodeCOCOString counts = %q, want %q", got.Counts, tt.want)
			}
			counts, err := parseCountsString(tt.want, tt.w*tt.h)
			if err != nil || !slices.Equal(counts, tt.counts) {
				t.Errorf("parse %q = %v, %v; want %v", tt.want, counts, err, tt.counts)
			}
		})
	}
	// "P0" is a 0, as worked out above.
	if counts, err := parseCountsString("P0", 0); err != nil || !slices.Equal(counts, []int{0}) {
		t.Errorf(`parse "P0" = %v, %v; want [0]`, counts, err)
	}
}

// TestCountsString round-trips counts whose deltas need many groups and
// both signs.
func TestCountsString(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		counts := make([]int, 1+rng.IntN(20))
		total := 0
		for i := range counts {
			counts[i] = rng.IntN(1 << rng.IntN(28))
			total += counts[i]
		}
		got, err := parseCountsString(countsString(counts), total)
		if err != nil || !slices.Equal(got, counts) {
			t.Fatalf("round trip of %v = %v, %v", counts, got, err)
		}
	}
}

func TestDecodeRunsErrors(t *testing.T) {
	tests := []struct {
		name string
		runs []int
		w, h int
		want error
	}{
		{"odd", []int{1, 2, 5}, 4, 4, ErrFormat},
		{"zero length", []int{1, 0}, 4, 4, ErrFormat},
		{"negative length", []int{3, -1}, 4, 4, ErrFormat},
		{"negative start", []int{-1, 2}, 4, 4, ErrFormat},
		{"past the end", []int{10, 7}, 4, 4, ErrFormat},
		{"start at the end", []int{16, 1}, 4, 4, ErrFormat},
		{"huge length", []int{1, int(^uint(0) >> 1)}, 4, 4, ErrFormat},
		{"overlapping", []int{1, 3, 3, 2}, 4, 4, ErrFormat},
		{"unsorted", []int{8, 2, 1, 2}, 4, 4, ErrFormat},
		{"duplicate", []int{1, 2, 1, 2}, 4, 4, ErrFormat},
		{"empty image", []int{0, 1}, 0, 0, ErrFormat},
		{"negative size", nil, -1, 4, ErrSize},
		{"too large", nil, 1 << 15, 1 << 14, ErrSize},
	}
	for _, tt := range tests {
		m, err := DecodeRuns(tt.runs, tt.w, tt.h)
		if !errors.Is(err, tt.want) || m != nil {
			t.Errorf("%s: DecodeRuns(%v, %d, %d) = %v, %v; want %v", tt.name, tt.runs, tt.w, tt.h, m, err, tt.want)
		}
	}
	// Touching runs, and empty images, are fine.
	m, err := DecodeRuns([]int{1, 2, 3, 1}, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	sameMask(t, m, maskOf(image.Rect(0, 0, 4, 1), " ###"))
	if m, err := DecodeRuns(nil, 0, 5); err != nil || len(m.Pix) != 0 {
		t.Errorf("DecodeRuns(nil, 0, 5) = %v, %v", m, err)
	}
}

func TestDecodeCOCOErrors(t *testing.T) {
	tests := []struct {
		name string
		c    COCO
		want error
	}{
		{"nil counts", COCO{Size: [2]int{2, 2}}, ErrFormat},
		{"wrong type", COCO{Size: [2]int{2, 2}, Counts: map[string]int{}}, ErrFormat},
		{"negative size", COCO{Size: [2]int{-2, -2}, Counts: []int{4}}, ErrFormat},
		{"too large", COCO{Size: [2]int{1 << 15, 1 << 14}, Counts: []int{1 << 29}}, ErrSize},
		{"short", COCO{Size: [2]int{2, 2}, Counts: []int{1, 2}}, ErrFormat},
		{"long", COCO{Size: [2]int{2, 2}, Counts: []int{1, 2, 3}}, ErrFormat},
		{"empty counts", COCO{Size: [2]int{2, 2}, Counts: []int{}}, ErrFormat},
		{"negative count", COCO{Size: [2]int{2, 2}, Counts: []int{5, -1}}, ErrFormat},
		{"huge counts", COCO{Size: [2]int{2, 2}, Counts: []int{int(^uint(0) >> 1), 2, int(^uint(0) >> 1)}}, ErrFormat},
		{"fraction", COCO{Size: [2]int{2, 2}, Counts: []any{1.5, 2.5}}, ErrFormat},
		{"negative float", COCO{Size: [2]int{2, 2}, Counts: []float64{-1, 5}}, ErrFormat},
		{"string in list", COCO{Size: [2]int{2, 2}, Counts: []any{"4"}}, ErrFormat},
		{"bad json.Number", COCO{Size: [2]int{2, 2}, Counts: []any{json.Number("4.0")}}, ErrFormat},
		{"string short", COCO{Size: [2]int{4, 4}, Counts: "0"}, ErrFormat},
		{"string unterminated", COCO{Size: [2]int{4, 4}, Counts: "`"}, ErrFormat},
		{"string bad byte", COCO{Size: [2]int{4, 4}, Counts: "`0 "}, ErrFormat},
		{"string high byte", COCO{Size: [2]int{4, 4}, Counts: "p"}, ErrFormat},
		{"string too long a number", COCO{Size: [2]int{4, 4}, Counts: strings.Repeat("P", 20) + "0"}, ErrFormat},
		{"string negative count", COCO{Size: [2]int{4, 4}, Counts: "O"}, ErrFormat},
		{"string over", COCO{Size: [2]int{2, 2}, Counts: "0T3"}, ErrFormat},
	}
	for _, tt := range tests {
		m, err := DecodeCOCO(tt.c)
		if !errors.Is(err, tt.want) || m != nil {
			t.Errorf("%s: DecodeCOCO(%v) = %v, %v; want %v", tt.name, tt.c, m, err, tt.want)
		}
	}
	// Other accepted forms.
	want := maskOf(image.Rect(0, 0, 2, 2), "# ", " #")
	for _, counts := range []any{
		[]int{0, 1, 2, 1},
		[]float64{0, 1, 2, 1},
		[]any{0.0, 1, json.Number("2"), 1.0},
		[]int{0, 1, 0, 0, 2, 1, 0}, // empty runs
		"0120",                     // the last count is 1-1 = 0 against counts[1]
	} {
		m, err := DecodeCOCO(COCO{Size: [2]int{2, 2}, Counts: counts})
		if err != nil {
			t.Errorf("DecodeCOCO(%#v): %v", counts, err)
			continue
		}
		sameMask(t, m, want)
	}
}

func FuzzDecodeCOCOString(f *testing.F) {
	for _, s := range []string{"", "0", "`0", "122O", "T3b1:F", "P0", "\x00", "ooooooooooooo"} {
		f.Add(s, 4, 5)
	}
	f.Fuzz(func(t *testing.T, s string, w, h int) {
		m, err := DecodeCOCO(COCO{Size: [2]int{h % 64, w % 64}, Counts: s})
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrSize) {
				t.Fatalf("error %v is neither ErrFormat nor ErrSize", err)
			}
			return
		}
		// A decoded mask encodes back to itself.
		c := EncodeCOCOString(m, m.Rect.Dx(), m.Rect.Dy())
		back, err := DecodeCOCO(c)
		if err != nil {
			t.Fatal(err)
		}
		sameMask(t, back, m)
	})
}

func FuzzDecodeRuns(f *testing.F) {
	f.Add([]byte{1, 2, 5, 1}, 4, 3)
	f.Fuzz(func(t *testing.T, b []byte, w, h int) {
		runs := make([]int, len(b))
		for i, v := range b {
			runs[i] = int(int8(v))
		}
		m, err := DecodeRuns(runs, w%64, h%64)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrSize) {
				t.Fatalf("error %v is neither ErrFormat nor ErrSize", err)
			}
			return
		}
		back, err := DecodeRuns(EncodeRuns(m, w%64, h%64), w%64, h%64)
		if err != nil {
			t.Fatal(err)
		}
		sameMask(t, back, m)
	})
}
