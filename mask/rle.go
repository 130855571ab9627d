package mask

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"strings"
)

// spans returns the covered pixels (coverage >= 128) of m inside the w×h
// image as [start, end) pairs of pixel indices, increasing and maximal
// (no pair ends where the next starts). The index of pixel (x, y) is
// y*w+x, or x*h+y if colMajor. A nil or invalid mask, or an empty image,
// gives none.
func spans(m *Mask, w, h int, colMajor bool) []int {
	if !m.valid() || w <= 0 || h <= 0 {
		return nil
	}
	r := m.Rect.Intersect(image.Rect(0, 0, w, h))
	if r.Empty() {
		return nil
	}
	stride := m.Rect.Dx()
	// The outer loop runs over o0..o1, the inner over i0..i1; index is
	// o*n+i and the Pix offset steps by ostep and istep.
	o0, o1, i0, i1, n, ostep, istep := r.Min.Y, r.Max.Y, r.Min.X, r.Max.X, w, stride, 1
	if colMajor {
		o0, o1, i0, i1, n, ostep, istep = r.Min.X, r.Max.X, r.Min.Y, r.Max.Y, h, 1, stride
	}
	var s []int
	base := (r.Min.Y-m.Rect.Min.Y)*stride + (r.Min.X - m.Rect.Min.X)
	for o := o0; o < o1; o, base = o+1, base+ostep {
		p := base
		for i := i0; i < i1; i, p = i+1, p+istep {
			if m.Pix[p] < threshold {
				continue
			}
			if idx := o*n + i; len(s) > 0 && s[len(s)-1] == idx {
				s[len(s)-1] = idx + 1
			} else {
				s = append(s, idx, idx+1)
			}
		}
	}
	return s
}

// EncodeRuns returns the covered pixels (coverage >= 128) of m inside the
// w×h image in the labelling-platform form [start, length, start, length,
// …]: start is the row-major index y*w+x of the first pixel of a run of
// covered pixels and length (at least 1) its length, with the runs
// increasing and maximal (a run never starts where the previous one ends,
// even on the next row). Parts of m outside the image are left out. The
// result is empty, not nil, when nothing is covered, and for a nil mask,
// one whose Pix is shorter than its Rect needs or an empty image.
func EncodeRuns(m *Mask, w, h int) []int {
	s := spans(m, w, h, false)
	runs := make([]int, len(s))
	for i := 0; i < len(s); i += 2 {
		runs[i], runs[i+1] = s[i], s[i+1]-s[i]
	}
	return runs
}

// DecodeRuns returns the mask over image.Rect(0, 0, w, h) that is 255 in
// the runs of the labelling-platform form (see [EncodeRuns]) and 0
// elsewhere. Runs that touch (a start where the previous run ends) are
// accepted. It returns an error wrapping ErrSize if w or h is negative or
// w*h over MaxPixels, and ErrFormat for an odd number of values, a length
// less than 1, a run outside the image, or runs that overlap or are out of
// order.
func DecodeRuns(runs []int, w, h int) (*Mask, error) {
	if err := checkSize(w, h, 0); err != nil {
		return nil, err
	}
	if len(runs)%2 != 0 {
		return nil, fmt.Errorf("%w: odd number of run values (%d)", ErrFormat, len(runs))
	}
	m := New(image.Rect(0, 0, w, h))
	end := 0 // end of the previous run
	for i := 0; i < len(runs); i += 2 {
		start, n := runs[i], runs[i+1]
		switch {
		case n < 1:
			return nil, fmt.Errorf("%w: run %d: length %d", ErrFormat, i/2, n)
		case start < 0 || start > len(m.Pix) || n > len(m.Pix)-start:
			return nil, fmt.Errorf("%w: run %d: [%d, +%d) outside the %dx%d image", ErrFormat, i/2, start, n, w, h)
		case start < end:
			return nil, fmt.Errorf("%w: run %d: start %d before the end %d of the previous run", ErrFormat, i/2, start, end)
		}
		end = start + n
		fill(m.Pix[start:end])
	}
	return m, nil
}

// fill sets every byte of p to 255.
func fill(p []uint8) {
	for i := range p {
		p[i] = 255
	}
}

// COCO is a COCO run-length encoding, as pycocotools makes it. Size is
// [height, width]. Counts are the lengths of the runs of uncovered and
// covered pixels in turn, starting with uncovered (a first count of 0 when
// the first pixel is covered), over the pixels in column-major order
// (index x*h+y); they sum to height*width. Counts is a []int
// (uncompressed) or a string (pycocotools' compressed form); after
// encoding/json unmarshalling into a COCO it is a []any of float64 or a
// string, which [DecodeCOCO] accepts as well.
type COCO struct {
	Size   [2]int `json:"size"`
	Counts any    `json:"counts"` // []int or string
}

// EncodeCOCO returns the uncompressed COCO RLE (Counts a []int) of the
// covered pixels (coverage >= 128) of m inside the w×h image, exactly as
// pycocotools' encode: the last count is never 0 unless the image is
// empty, where Counts is [0]. Parts of m outside the image are left out;
// a nil mask, or one whose Pix is shorter than its Rect needs, covers
// nothing. Negative sizes are taken as 0.
func EncodeCOCO(m *Mask, w, h int) COCO {
	w, h = max(w, 0), max(h, 0)
	s := spans(m, w, h, true)
	counts := make([]int, 0, len(s)+1)
	prev := 0
	for i := 0; i < len(s); i += 2 {
		counts = append(counts, s[i]-prev, s[i+1]-s[i])
		prev = s[i+1]
	}
	if total := w * h; total > prev || len(counts) == 0 {
		counts = append(counts, total-prev)
	}
	return COCO{Size: [2]int{h, w}, Counts: counts}
}

// EncodeCOCOString is like [EncodeCOCO] but returns the counts in
// pycocotools' compressed string form (Counts a string), byte for byte as
// its rleToString: each count, less the count two before it from the
// fourth count on, is written as little-endian groups of 5 bits, 0x20 set
// on all groups but the last and the last one's 0x10 being the sign, each
// group as the character 48+group.
func EncodeCOCOString(m *Mask, w, h int) COCO {
	c := EncodeCOCO(m, w, h)
	c.Counts = countsString(c.Counts.([]int))
	return c
}

// countsString returns counts in pycocotools' compressed string form.
func countsString(counts []int) string {
	var b strings.Builder
	for i, x := range counts {
		if i > 2 {
			x -= counts[i-2]
		}
		for more := true; more; {
			c := x & 0x1f
			x >>= 5
			if c&0x10 != 0 {
				more = x != -1
			} else {
				more = x != 0
			}
			if more {
				c |= 0x20
			}
			b.WriteByte(byte(c + 48))
		}
	}
	return b.String()
}

// parseCountsString parses pycocotools' compressed string form of counts,
// as rleFrString, checking that each count lies in 0..total.
func parseCountsString(s string, total int) ([]int, error) {
	var counts []int
	for p := 0; p < len(s); {
		var x int64
		for k, more := 0, true; more; k++ {
			if p >= len(s) {
				return nil, fmt.Errorf("%w: counts string ends inside count %d", ErrFormat, len(counts))
			}
			if k == 12 { // 60 bits: far more than any valid count needs
				return nil, fmt.Errorf("%w: count %d too long in counts string", ErrFormat, len(counts))
			}
			c := int64(s[p]) - 48
			if c < 0 || c > 63 {
				return nil, fmt.Errorf("%w: byte %#x at %d in counts string", ErrFormat, s[p], p)
			}
			p++
			x |= (c & 0x1f) << (5 * k)
			more = c&0x20 != 0
			if !more && c&0x10 != 0 {
				x |= -1 << (5 * (k + 1))
			}
		}
		if len(counts) > 2 {
			x += int64(counts[len(counts)-2])
		}
		if x < 0 || x > int64(total) {
			return nil, fmt.Errorf("%w: count %d is %d, want 0..%d", ErrFormat, len(counts), x, total)
		}
		counts = append(counts, int(x))
	}
	return counts, nil
}

// DecodeCOCO returns the mask over image.Rect(0, 0, width, height) that is
// 255 in the covered runs of c and 0 elsewhere. Counts may be a []int, a
// []float64, a []any of float64, int or json.Number (as encoding/json
// unmarshals it), or a compressed string. It returns an error wrapping
// ErrFormat for a negative size, counts of another type, a count that is
// negative or not an integer, counts that do not sum to height*width, or a
// malformed string, and ErrSize for an image over MaxPixels.
func DecodeCOCO(c COCO) (*Mask, error) {
	h, w := c.Size[0], c.Size[1]
	if h < 0 || w < 0 {
		return nil, fmt.Errorf("%w: size %v", ErrFormat, c.Size)
	}
	if err := checkSize(w, h, 0); err != nil {
		return nil, err
	}
	total := w * h
	var counts []int
	switch v := c.Counts.(type) {
	case []int:
		counts = v
	case []float64:
		counts = make([]int, len(v))
		for i, f := range v {
			n, err := countFloat(f, i, total)
			if err != nil {
				return nil, err
			}
			counts[i] = n
		}
	case []any:
		counts = make([]int, len(v))
		for i, e := range v {
			var err error
			switch e := e.(type) {
			case float64:
				counts[i], err = countFloat(e, i, total)
			case int:
				counts[i] = e
			case json.Number:
				var n int64
				if n, err = e.Int64(); err != nil || n < math.MinInt || n > math.MaxInt {
					err = fmt.Errorf("%w: count %d is %q", ErrFormat, i, e)
				}
				counts[i] = int(n)
			default:
				err = fmt.Errorf("%w: count %d is a %T", ErrFormat, i, e)
			}
			if err != nil {
				return nil, err
			}
		}
	case string:
		var err error
		if counts, err = parseCountsString(v, total); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: counts of type %T", ErrFormat, c.Counts)
	}

	sum := 0
	for i, n := range counts {
		if n < 0 || n > total-sum {
			return nil, fmt.Errorf("%w: count %d is %d with %d of %d pixels left", ErrFormat, i, n, total-sum, total)
		}
		sum += n
	}
	if sum != total {
		return nil, fmt.Errorf("%w: counts sum to %d, want %d (%dx%d)", ErrFormat, sum, total, w, h)
	}

	m := New(image.Rect(0, 0, w, h))
	pos := 0
	for i, n := range counts {
		if i%2 == 1 && n > 0 {
			// Walk the column-major run pos..pos+n down the columns.
			x, y := pos/h, pos%h
			for range n {
				m.Pix[y*w+x] = 255
				if y++; y == h {
					x, y = x+1, 0
				}
			}
		}
		pos += n
	}
	return m, nil
}

// countFloat converts the i-th count f, as encoding/json unmarshals it,
// to an int, checking that it is an integer in 0..total.
func countFloat(f float64, i, total int) (int, error) {
	if !(f >= 0 && f <= float64(total)) || f != math.Trunc(f) {
		return 0, fmt.Errorf("%w: count %d is %v", ErrFormat, i, f)
	}
	return int(f), nil
}
