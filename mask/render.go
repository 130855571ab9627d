package mask

import (
	"fmt"
	"image"
	"slices"
)

// Type flags of the instance mask's blue channel.
const (
	FlagPerson       uint8 = 128
	FlagLicensePlate uint8 = 64
	FlagFace         uint8 = 32
	FlagVehicle      uint8 = 16
)

// Object is one object's mask and type flag for rendering. A nil Mask
// covers nothing.
type Object struct {
	Mask *Mask
	Flag uint8
}

// Binary renders the union of the objects' masks (coverage >= 128) as a
// gray image, ready for PNG encoding: 255 (white) where some object covers
// the pixel and 0 (black) elsewhere, with the ignore regions (in image
// pixels) cleared to 0.
//
// The image is the w×h image scaled by scale percent, 1 to 100 (Celantur's
// mask-scale; callers pass 100 for its default): max(1, round(w*scale/100))
// × max(1, round(h*scale/100)) pixels, each sampling the full-resolution
// rendering at its centre (see the package documentation). Masks are
// sampled directly, so no full-resolution image is made when scale < 100.
//
// Binary returns an error wrapping ErrSize if w or h is less than 1 or w*h
// is over MaxPixels, ErrScale if scale is outside 1..100, and ErrFormat if
// an object's Pix is shorter than its Rect needs.
func Binary(w, h int, objs []Object, scale int, ignores []image.Rectangle) (*image.Gray, error) {
	g, err := newGrid(w, h, scale, objs)
	if err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, g.ow, g.oh))
	for _, o := range objs {
		g.sample(o.Mask, func(oy, x0 int, src []uint8, cols []int) {
			dst := img.Pix[oy*img.Stride+x0:]
			if cols == nil {
				dst = dst[:len(src)]
				for i, c := range src {
					if c >= threshold {
						dst[i] = 255
					}
				}
				return
			}
			dst = dst[:len(cols)]
			for i, sx := range cols {
				if src[sx] >= threshold {
					dst[i] = 255
				}
			}
		})
	}
	for _, r := range ignores {
		g.cells(r, func(oy, x0, x1 int) {
			clear(img.Pix[oy*img.Stride+x0 : oy*img.Stride+x1])
		})
	}
	return img, nil
}

// Instances renders the instance mask as an RGBA image of the same size
// and sampling as [Binary]'s, with for each pixel:
//
//   - R = 0;
//   - G = the instance id of the object covering the pixel (coverage >=
//     128): its index in objs plus one, 1 to 255. Objects from index 254
//     on all get id 255. Where objects overlap, G is the id of the one
//     that comes last in objs, so callers put small objects such as
//     license plates and faces after persons and vehicles to keep them
//     visible;
//   - B = the OR of the flags of every object covering the pixel: a plate
//     on a vehicle is FlagLicensePlate|FlagVehicle = 80;
//   - A = 255.
//
// Pixels covered by no object, and those in the ignore regions (in image
// pixels), are 0, 0, 0, 255. Instances returns the same errors as Binary.
func Instances(w, h int, objs []Object, scale int, ignores []image.Rectangle) (*image.RGBA, error) {
	g, err := newGrid(w, h, scale, objs)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, g.ow, g.oh))
	// 0, 0, 0, 255 everywhere, by doubling copies.
	img.Pix[3] = 0xff
	for n := 4; n < len(img.Pix); n *= 2 {
		copy(img.Pix[n:], img.Pix[:n])
	}
	for i, o := range objs {
		id, flag := uint8(min(i+1, 255)), o.Flag
		g.sample(o.Mask, func(oy, x0 int, src []uint8, cols []int) {
			dst := img.Pix[oy*img.Stride+4*x0:]
			if cols == nil {
				dst = dst[:4*len(src)]
				for k, c := range src {
					if c >= threshold {
						p := dst[4*k : 4*k+3 : 4*k+3]
						p[1] = id
						p[2] |= flag
					}
				}
				return
			}
			dst = dst[:4*len(cols)]
			for k, sx := range cols {
				if src[sx] >= threshold {
					p := dst[4*k : 4*k+3 : 4*k+3]
					p[1] = id
					p[2] |= flag
				}
			}
		})
	}
	for _, r := range ignores {
		g.cells(r, func(oy, x0, x1 int) {
			p := img.Pix[oy*img.Stride+4*x0 : oy*img.Stride+4*x1]
			for i := 0; i < len(p); i += 4 {
				p[i], p[i+1], p[i+2] = 0, 0, 0
			}
		})
	}
	return img, nil
}

// checkSize returns an error wrapping ErrSize unless w and h are at least
// min and w*h is at most MaxPixels.
func checkSize(w, h, min int) error {
	if w < min || h < min || (h > 0 && w > MaxPixels/h) {
		return fmt.Errorf("%w: %dx%d", ErrSize, w, h)
	}
	return nil
}

// scaled returns max(1, round(n*scale/100)), halves rounded up.
func scaled(n, scale int) int {
	return max(1, int((int64(n)*int64(scale)+50)/100))
}

// grid maps the pixels of the scaled image to their sample points in the
// full-resolution w×h image.
type grid struct {
	w, h   int
	ow, oh int
	xs, ys []int // xs[ox], ys[oy]: the image column and row output pixel (ox, oy) samples
	buf    []int
}

// newGrid checks the arguments of Binary and Instances and returns the
// grid of the scaled image.
func newGrid(w, h, scale int, objs []Object) (*grid, error) {
	if err := checkSize(w, h, 1); err != nil {
		return nil, err
	}
	if scale < 1 || scale > 100 {
		return nil, fmt.Errorf("%w: %d", ErrScale, scale)
	}
	for i, o := range objs {
		if o.Mask != nil && !o.Mask.valid() {
			return nil, fmt.Errorf("%w: object %d: Pix has %d bytes, Rect %v needs %d",
				ErrFormat, i, len(o.Mask.Pix), o.Mask.Rect, area(o.Mask.Rect))
		}
	}
	g := &grid{w: w, h: h, ow: scaled(w, scale), oh: scaled(h, scale)}
	g.xs = samples(w, g.ow)
	g.ys = samples(h, g.oh)
	return g, nil
}

// samples returns, for each of the on pixels of a scaled axis, the pixel
// of the n-pixel axis under its centre: ⌊(2i+1)·n/(2·on)⌋. For on <= n the
// result is strictly increasing, and the identity for on == n.
func samples(n, on int) []int {
	s := make([]int, on)
	for i := range s {
		s[i] = int(int64(2*i+1) * int64(n) / int64(2*on))
	}
	return s
}

// span returns the range [i0, i1) of indices of the sorted s whose values
// lie in [lo, hi).
func span(s []int, lo, hi int) (i0, i1 int) {
	i0, _ = slices.BinarySearch(s, lo)
	i1, _ = slices.BinarySearch(s, hi)
	return i0, i1
}

// cells calls fn for each output row oy that has pixels sampling inside r,
// with [x0, x1) the output columns that do.
func (g *grid) cells(r image.Rectangle, fn func(oy, x0, x1 int)) {
	r = r.Intersect(image.Rect(0, 0, g.w, g.h))
	if r.Empty() {
		return
	}
	x0, x1 := span(g.xs, r.Min.X, r.Max.X)
	y0, y1 := span(g.ys, r.Min.Y, r.Max.Y)
	if x0 >= x1 {
		return
	}
	for oy := y0; oy < y1; oy++ {
		fn(oy, x0, x1)
	}
}

// sample calls fn for each output row oy that has pixels sampling inside
// m's Rect (and the image), with x0 the first output column that does and
// src the part of the mask row sampled. If cols is nil (scale 100),
// src[i] is the sample of output column x0+i; otherwise it is src[cols[i]].
// m must be nil or valid.
func (g *grid) sample(m *Mask, fn func(oy, x0 int, src []uint8, cols []int)) {
	if m == nil {
		return
	}
	r := m.Rect.Intersect(image.Rect(0, 0, g.w, g.h))
	if r.Empty() {
		return
	}
	x0, x1 := span(g.xs, r.Min.X, r.Max.X)
	y0, y1 := span(g.ys, r.Min.Y, r.Max.Y)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	var cols []int
	n := x1 - x0 // length of src
	if g.ow != g.w {
		cols = g.buf[:0]
		for ox := x0; ox < x1; ox++ {
			cols = append(cols, g.xs[ox]-g.xs[x0])
		}
		g.buf = cols
		n = cols[len(cols)-1] + 1
	}
	stride := m.Rect.Dx()
	lo := g.xs[x0] - m.Rect.Min.X
	for oy := y0; oy < y1; oy++ {
		i := (g.ys[oy]-m.Rect.Min.Y)*stride + lo
		fn(oy, x0, m.Pix[i:i+n:i+n], cols)
	}
}

// Scale resamples a mask image rendered at full size (Binary's gray or
// Instances' RGBA image) to scale percent (1..100) by the rule Binary and
// Instances sample with, so Scale(Binary(w, h, objs, 100, r), s) equals
// Binary(w, h, objs, s, r). Other image types come back as RGBA.
func Scale(img image.Image, scale int) (image.Image, error) {
	if scale < 1 || scale > 100 {
		return nil, fmt.Errorf("%w: %d", ErrScale, scale)
	}
	b := img.Bounds()
	ow, oh := scaled(b.Dx(), scale), scaled(b.Dy(), scale)
	xs, ys := samples(b.Dx(), ow), samples(b.Dy(), oh)
	switch m := img.(type) {
	case *image.Gray:
		out := image.NewGray(image.Rect(0, 0, ow, oh))
		for oy, sy := range ys {
			row := out.Pix[oy*out.Stride : oy*out.Stride+ow]
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+sy):]
			for ox, sx := range xs {
				row[ox] = src[sx]
			}
		}
		return out, nil
	case *image.RGBA:
		out := image.NewRGBA(image.Rect(0, 0, ow, oh))
		for oy, sy := range ys {
			row := out.Pix[oy*out.Stride : oy*out.Stride+4*ow]
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+sy):]
			for ox, sx := range xs {
				copy(row[4*ox:4*ox+4], src[4*sx:4*sx+4])
			}
		}
		return out, nil
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for oy, sy := range ys {
		for ox, sx := range xs {
			out.Set(ox, oy, img.At(b.Min.X+sx, b.Min.Y+sy))
		}
	}
	return out, nil
}
