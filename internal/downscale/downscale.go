// Package downscale halves RGBA images with 2×2 means: the cheap first
// step of a large downscale, shared by the detectors' input resampling
// and the blur's reduced copies.
package downscale

import (
	"encoding/binary"
	"image"
)

// Halve returns the part r of src (r within src.Rect) at half its size,
// at (0, 0): each pixel, alpha included, is the rounded mean of a 2×2
// block, an odd last column or row averaged with itself. The result's
// pixels are buf's when buf is long enough (and must not overlap src's),
// newly allocated otherwise.
func Halve(src *image.RGBA, r image.Rectangle, buf []uint8) *image.RGBA {
	dst := New(r, buf)
	HalveRows(dst, src, r, 0, dst.Rect.Dy())
	return dst
}

// New returns the image Halve writes for r, its pixels buf's when buf is
// long enough, not cleared.
func New(r image.Rectangle, buf []uint8) *image.RGBA {
	w, h := (r.Dx()+1)/2, (r.Dy()+1)/2
	n := 4 * w * h
	var pix []uint8
	if cap(buf) >= n {
		pix = buf[:n]
	} else {
		pix = make([]uint8, n)
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

// HalveRows is Halve into dst (from New) for its rows [y0, y1) only, so
// that bands of one image can be halved side by side.
func HalveRows(dst, src *image.RGBA, r image.Rectangle, y0, y1 int) {
	w := dst.Rect.Dx()
	const lanes = 0x00ff00ff00ff00ff
	even := r.Dx() &^ 1 // source columns in whole pairs
	for y := y0; y < y1; y++ {
		a := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+2*y):][:4*r.Dx()]
		b := a
		if 2*y+1 < r.Dy() {
			b = src.Pix[src.PixOffset(r.Min.X, r.Min.Y+2*y+1):][:4*r.Dx()]
		}
		out := dst.Pix[4*w*y:][:4*w]
		// An assembly kernel where there is one; then two pixels at a
		// time in a uint64: the R and B bytes of both in one word's
		// 16-bit lanes, G and A in another, so that four pixels' sums take
		// a few adds.
		for x := 2 * halvePairsAsm(out[:2*even], a, b); x < even; x += 2 {
			pa := binary.LittleEndian.Uint64(a[4*x:])
			pb := binary.LittleEndian.Uint64(b[4*x:])
			rb := pa&lanes + pb&lanes
			ga := pa>>8&lanes + pb>>8&lanes
			rb = (rb + rb>>32 + 0x0002_0002) >> 2 & 0x00ff_00ff
			ga = (ga + ga>>32 + 0x0002_0002) >> 2 & 0x00ff_00ff
			binary.LittleEndian.PutUint32(out[2*x:], uint32(rb|ga<<8))
		}
		if even < r.Dx() {
			p, q := a[4*even:4*even+4], b[4*even:4*even+4]
			o := out[2*even : 2*even+4]
			for c := range o {
				o[c] = uint8((2*uint32(p[c]) + 2*uint32(q[c]) + 2) >> 2)
			}
		}
	}
}
