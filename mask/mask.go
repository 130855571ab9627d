// Package mask holds pixel masks of objects and renders them the way the
// Celantur API delivers them: binary and instance PNG masks (with
// mask-scale) and run-length encodings (the labelling-platform form and
// COCO RLE). It knows nothing of models.
//
// A pixel counts as covered by a [Mask] when its coverage is at least 128;
// [Mask.Area], [Mask.Binary], the renderers [Binary] and [Instances] and
// the encoders all use that threshold.
//
// # Rendering
//
// [Binary] and [Instances] render a list of [Object]s over a w×h image,
// scaled by mask-scale percent. A scaled image of ow×oh pixels (ow =
// max(1, round(w·scale/100)), likewise oh) samples the full-resolution
// rendering at its pixel centres, nearest neighbour: output pixel (ox, oy)
// shows image pixel (⌊(2·ox+1)·w/(2·ow)⌋, ⌊(2·oy+1)·h/(2·oh)⌋), so labels
// are never blended. At scale 100 that is the image pixel itself. Ignore
// regions, in full-resolution pixels, are cleared in the same way.
//
// The instance mask is an RGBA image with R = 0, G = the instance id (the
// object's index in the list plus one) and B = the OR of the type flags
// ([FlagPerson], [FlagLicensePlate], [FlagFace], [FlagVehicle]) of every
// object covering the pixel; A is 255 everywhere.
//
// # Run-length encodings
//
// [EncodeRuns] and [DecodeRuns] use the labelling-platform form: a flat
// list of start, length pairs of the covered runs, start being the
// row-major pixel index y·w+x. [EncodeCOCO], [EncodeCOCOString] and
// [DecodeCOCO] use COCO's RLE (as pycocotools): column-major pixel indices
// x·h+y, counts alternating between runs of uncovered and covered pixels,
// starting with an uncovered run that may be empty, either as a list of
// numbers or in pycocotools' compressed string form.
package mask

import (
	"errors"
	"image"
)

// Mask is a coverage mask over Rect: Pix[(y-Rect.Min.Y)*Rect.Dx()+(x-Rect.Min.X)]
// is 0 outside the object, 255 inside, and values in between on a soft
// edge. Pixels outside Rect are outside the object.
type Mask struct {
	Rect image.Rectangle
	Pix  []uint8
}

// New returns an empty (all 0) mask over r.
func New(r image.Rectangle) *Mask {
	return &Mask{Rect: r, Pix: make([]uint8, r.Dx()*r.Dy())}
}

// At returns the coverage at (x, y), 0 outside Rect.
func (m *Mask) At(x, y int) uint8 {
	if m == nil || !image.Pt(x, y).In(m.Rect) {
		return 0
	}
	return m.Pix[(y-m.Rect.Min.Y)*m.Rect.Dx()+(x-m.Rect.Min.X)]
}

// threshold is the coverage from which a pixel counts as covered.
const threshold = 128

// MaxPixels is the largest image, in pixels (w*h), that [Binary],
// [Instances], [DecodeRuns] and [DecodeCOCO] accept.
const MaxPixels = 1 << 28

var (
	// ErrFormat is returned (wrapped) for a malformed run-length encoding
	// or a Mask whose Pix is shorter than its Rect needs.
	ErrFormat = errors.New("mask: invalid format")
	// ErrScale is returned (wrapped) for a mask scale outside 1..100.
	ErrScale = errors.New("mask: scale out of range 1..100")
	// ErrSize is returned (wrapped) for an image size that is negative
	// (or zero where an image is rendered) or over MaxPixels.
	ErrSize = errors.New("mask: invalid image size")
)

// area returns the number of pixels in r, 0 if r is empty.
func area(r image.Rectangle) int {
	if r.Empty() {
		return 0
	}
	return r.Dx() * r.Dy()
}

// valid reports whether m is non-nil and its Pix covers its Rect. Methods
// treat a nil or invalid mask as covering nothing.
func (m *Mask) valid() bool {
	return m != nil && len(m.Pix) >= area(m.Rect)
}

// FromRect returns a mask over r that is fully covered (255).
func FromRect(r image.Rectangle) *Mask {
	m := &Mask{Rect: r, Pix: make([]uint8, area(r))}
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	return m
}

// Clear sets the coverage to 0 inside r. A nil mask, or one whose Pix is
// shorter than its Rect needs, is left as it is.
func (m *Mask) Clear(r image.Rectangle) {
	if !m.valid() {
		return
	}
	r = r.Intersect(m.Rect)
	if r.Empty() {
		return
	}
	stride := m.Rect.Dx()
	i := (r.Min.Y-m.Rect.Min.Y)*stride + (r.Min.X - m.Rect.Min.X)
	for y := r.Min.Y; y < r.Max.Y; y, i = y+1, i+stride {
		clear(m.Pix[i : i+r.Dx()])
	}
}

// Area returns the number of covered pixels (coverage >= 128). It is 0 for
// a nil mask or one whose Pix is shorter than its Rect needs.
func (m *Mask) Area() int {
	if !m.valid() {
		return 0
	}
	n := 0
	for _, c := range m.Pix[:area(m.Rect)] {
		if c >= threshold {
			n++
		}
	}
	return n
}

// Binary returns a new mask over the same Rect with 255 where m's coverage
// is at least 128 and 0 elsewhere. For a nil mask it returns an empty mask
// over the empty rectangle, and for one whose Pix is shorter than its Rect
// needs an all-0 mask over m.Rect.
func (m *Mask) Binary() *Mask {
	if m == nil {
		return &Mask{}
	}
	b := &Mask{Rect: m.Rect, Pix: make([]uint8, area(m.Rect))}
	if !m.valid() {
		return b
	}
	for i, c := range m.Pix[:len(b.Pix)] {
		if c >= threshold {
			b.Pix[i] = 255
		}
	}
	return b
}

// Intersect returns a new mask over r ∩ m.Rect with m's coverage there
// (an empty mask over the empty rectangle if they do not overlap). A nil
// mask, or one whose Pix is shorter than its Rect needs, gives all 0.
func (m *Mask) Intersect(r image.Rectangle) *Mask {
	if m == nil {
		return &Mask{}
	}
	r = r.Intersect(m.Rect)
	out := &Mask{Rect: r, Pix: make([]uint8, area(r))}
	if !m.valid() || r.Empty() {
		return out
	}
	stride, dx := m.Rect.Dx(), r.Dx()
	i := (r.Min.Y-m.Rect.Min.Y)*stride + (r.Min.X - m.Rect.Min.X)
	for j := 0; j < len(out.Pix); j, i = j+dx, i+stride {
		copy(out.Pix[j:j+dx], m.Pix[i:i+dx])
	}
	return out
}

// Dilate grows m's covered pixels (coverage >= 128) by rx pixels left and
// right and ry pixels up and down, within m.Rect: afterwards a pixel is
// 255 where a covered pixel lies within that rectangle around it, and 0
// elsewhere. A nil or invalid mask, or rx and ry both 0 or less, is left
// as it is (rx, ry below 0 count as 0).
func (m *Mask) Dilate(rx, ry int) {
	if !m.valid() || rx <= 0 && ry <= 0 {
		return
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	pix := m.Pix[:w*h]
	for i, c := range pix {
		if c >= threshold {
			pix[i] = 255
		} else {
			pix[i] = 0
		}
	}
	// One line at a time, across then down: a running count of the
	// covered pixels in the window [i−r, i+r].
	line := make([]uint8, max(w, h))
	grow := func(at func(i int) *uint8, n, r int) {
		if r <= 0 {
			return
		}
		for i := range n {
			line[i] = *at(i)
		}
		count := 0
		for i := 0; i < min(r, n); i++ {
			if line[i] != 0 {
				count++
			}
		}
		for i := range n {
			if j := i + r; j < n && line[j] != 0 {
				count++
			}
			if j := i - r - 1; j >= 0 && line[j] != 0 {
				count--
			}
			if count > 0 {
				*at(i) = 255
			} else {
				*at(i) = 0
			}
		}
	}
	for y := range h {
		row := pix[y*w : (y+1)*w]
		grow(func(i int) *uint8 { return &row[i] }, w, rx)
	}
	for x := range w {
		grow(func(i int) *uint8 { return &pix[i*w+x] }, h, ry)
	}
}
