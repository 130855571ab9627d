package blur

import (
	"image"
	"math"
)

// Pixelate replaces the pixels of img under a with the mean colour of the
// square cells, of side cell pixels, of a grid anchored at origin (cells
// are [origin.X+i*cell, origin.X+(i+1)*cell) × [origin.Y+j*cell, ...)),
// blended by a like Blur. The mean of a cell is taken over all of the cell
// that lies in img.Rect, also outside a.Rect, so that a cell that is only
// partly under a gets the colour it would have if all of it were. The alpha
// channel of img is left as is; pixels outside a.Rect are unchanged.
//
// Pixelate does nothing if img or a is nil or empty; a cell < 1 counts as 1.
func Pixelate(img *image.RGBA, a *Alpha, cell int, origin image.Point) {
	if !pixOK(img) || !valid(a) {
		return
	}
	reg := a.Rect.Intersect(img.Rect)
	if reg.Empty() {
		return
	}
	cell = max(cell, 1)
	aw := a.Rect.Dx()
	// The grid lines at or before reg.Min.
	gx := reg.Min.X - floorMod(reg.Min.X-origin.X, cell)
	gy := reg.Min.Y - floorMod(reg.Min.Y-origin.Y, cell)
	for y0 := gy; y0 < reg.Max.Y; y0 = cellEnd(y0, cell) {
		y1 := cellEnd(y0, cell)
		for x0 := gx; x0 < reg.Max.X; x0 = cellEnd(x0, cell) {
			x1 := cellEnd(x0, cell)
			c := image.Rect(x0, y0, x1, y1)
			m, ok := mean(img, c.Intersect(img.Rect))
			if !ok {
				continue
			}
			c = c.Intersect(reg)
			for y := c.Min.Y; y < c.Max.Y; y++ {
				px := img.Pix[img.PixOffset(c.Min.X, y):][:c.Dx()*4]
				al := a.Pix[(y-a.Rect.Min.Y)*aw+c.Min.X-a.Rect.Min.X:][:c.Dx()]
				for len(al) > 0 && len(px) >= 4 {
					switch k := uint32(al[0]); k {
					case 0:
					case 255:
						px[0], px[1], px[2] = m[0], m[1], m[2]
					default:
						px[0] = mix(uint32(m[0]), uint32(px[0]), k)
						px[1] = mix(uint32(m[1]), uint32(px[1]), k)
						px[2] = mix(uint32(m[2]), uint32(px[2]), k)
					}
					al, px = al[1:], px[4:]
				}
			}
		}
	}
}

// mean returns the mean R, G and B of the pixels of img in r, rounded; ok
// is false if r is empty.
func mean(img *image.RGBA, r image.Rectangle) (m [3]uint8, ok bool) {
	if r.Empty() {
		return m, false
	}
	var s0, s1, s2 uint64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		px := img.Pix[img.PixOffset(r.Min.X, y):][:r.Dx()*4]
		for len(px) >= 4 {
			s0, s1, s2 = s0+uint64(px[0]), s1+uint64(px[1]), s2+uint64(px[2])
			px = px[4:]
		}
	}
	n := uint64(r.Dx()) * uint64(r.Dy())
	return [3]uint8{uint8((s0 + n/2) / n), uint8((s1 + n/2) / n), uint8((s2 + n/2) / n)}, true
}

// floorMod returns v mod m in [0, m), for m > 0.
func floorMod(v, m int) int {
	v %= m
	if v < 0 {
		v += m
	}
	return v
}

// cellEnd returns x+cell, or math.MaxInt if that overflows.
func cellEnd(x, cell int) int {
	if x > math.MaxInt-cell {
		return math.MaxInt
	}
	return x + cell
}

// Blacken paints the pixels of img under a black (R, G, B = 0), blended by
// a like Blur; the alpha channel is left as is. Blacken does nothing if img
// or a is nil or empty.
func Blacken(img *image.RGBA, a *Alpha) {
	if !pixOK(img) || !valid(a) {
		return
	}
	reg := a.Rect.Intersect(img.Rect)
	if reg.Empty() {
		return
	}
	aw := a.Rect.Dx()
	for y := reg.Min.Y; y < reg.Max.Y; y++ {
		px := img.Pix[img.PixOffset(reg.Min.X, y):][:reg.Dx()*4]
		al := a.Pix[(y-a.Rect.Min.Y)*aw+reg.Min.X-a.Rect.Min.X:][:reg.Dx()]
		for len(al) > 0 && len(px) >= 4 {
			k := 255 - uint32(al[0])
			px[0] = uint8((k*uint32(px[0]) + 127) / 255)
			px[1] = uint8((k*uint32(px[1]) + 127) / 255)
			px[2] = uint8((k*uint32(px[2]) + 127) / 255)
			al, px = al[1:], px[4:]
		}
	}
}
