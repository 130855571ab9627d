package blur

import (
	"image"
	"math"
	"runtime"
	"sync"

	"github.com/veilkit/veil/internal/par"
)

const (
	// maxSigma is the largest standard deviation Blur uses; a larger one
	// is lowered to it, which keeps its sums within 32 bits.
	maxSigma = 8192
	// parallelPixels is the padded region size from which Blur splits its
	// work across goroutines.
	parallelPixels = 1 << 16
	// stripPixels is the width of the column strips the vertical passes
	// work on, small enough for a strip's accumulators and rows to stay in
	// cache.
	stripPixels = 128
)

// Blur replaces the pixels of img under a with a Gaussian-like blur of
// standard deviation sigma (in pixels), blended by a: out =
// (a*blurred + (255-a)*orig)/255 per channel R, G, B; the alpha channel of
// img is left as is. Pixels outside a.Rect are unchanged. Source pixels up
// to about 3 sigma around a.Rect (clamped to img.Rect, edge pixels
// replicated beyond it) feed the blur, so a blurred region gets no dark
// border.
//
// The blur is three box blurs per axis, with running sums, so it costs the
// same per pixel whatever sigma; from sigma 8 on, on a reduced copy of the
// region (see the package documentation). Blur does nothing if img or a is nil or
// empty, or sigma <= 0 (or NaN); a sigma above 8192 counts as 8192.
func Blur(img *image.RGBA, a *Alpha, sigma float64) {
	if !pixOK(img) || !valid(a) || !(sigma > 0) {
		return
	}
	reg := a.Rect.Intersect(img.Rect)
	if reg.Empty() {
		return
	}
	sigma = min(sigma, maxSigma)
	radii := boxRadii(sigma)
	rt := radii[0] + radii[1] + radii[2]
	if rt == 0 {
		return // boxes of width 1: the identity
	}
	p := reg.Inset(-rt).Intersect(img.Rect) // the padded region
	if f := scaleFor(sigma); f > 1 {
		blurScaled(img, a, reg, p, sigma, f)
		return
	}
	blurBoxes(img, a, reg, p, radii)
}

// blurBoxes runs the three box blurs of radii over the region reg of img,
// reading the padded region p (reg grown by the radii, ∩ img.Rect), and
// blends the result in by a.
func blurBoxes(img *image.RGBA, a *Alpha, reg, p image.Rectangle, radii [3]int) {
	b := &blurJob{
		img: img, a: a, radii: radii,
		pw: p.Dx(), ph: p.Dy(), aw: reg.Dx(), ah: reg.Dy(),
		left: reg.Min.X - p.Min.X, top: reg.Min.Y - p.Min.Y,
		p: p,
	}
	workers := 1
	if b.pw*b.ph > parallelPixels {
		workers = runtime.GOMAXPROCS(0)
	}
	// Strips of equal widths, as many for each worker.
	strips := (b.aw + stripPixels - 1) / stripPixels
	strips = (strips + workers - 1) / workers * workers
	sw := (b.aw + strips - 1) / strips
	strips = (b.aw + sw - 1) / sw
	// The region after the horizontal passes, then per worker the rows of
	// the horizontal passes, or the rings of the vertical ones.
	n := 3 * b.aw * b.ph
	per := max(3*3*b.pw, 3*(2*radii[1]+2+2*radii[2]+2+1)*stripPixels)
	buf := getBuf(n + workers*per)
	defer putBuf(buf)
	b.h = (*buf)[:n]
	work := func(w int) []uint16 { return (*buf)[n+w*per:][:per] }

	parallel(workers, b.ph, func(w, lo, hi int) { b.horizontal(work(w), lo, hi) })
	parallel(workers, strips, func(w, lo, hi int) {
		acc := make([]uint32, 3*3*stripPixels)
		for s := lo; s < hi; s++ {
			b.vertical(work(w), acc, s*sw, min(b.aw, (s+1)*sw))
		}
	})
}

// blurJob is one call of Blur. Its passes work on the R, G and B planes
// apart, in 8.8 fixed point, so that the six passes round off less than
// one level of the result.
type blurJob struct {
	img   *image.RGBA
	a     *Alpha
	radii [3]int
	p     image.Rectangle // the padded region: reg grown by the radii, ∩ img.Rect
	// The padded region's and the blurred region's sizes, and where the
	// blurred region starts in the padded one.
	pw, ph, aw, ah, left, top int
	// h holds the blurred region's columns of all rows of the padded
	// region after the horizontal passes: the R, G and B planes, each ph
	// rows of aw samples.
	h []uint16
}

// horizontal runs the three horizontal passes over rows [lo, hi) of the
// padded region, into b.h; tmp holds three rows of three planes.
func (b *blurJob) horizontal(tmp []uint16, lo, hi int) {
	r0, r1, r2 := b.radii[0], b.radii[1], b.radii[2]
	var in [3][]uint16
	for c := range in {
		in[c] = tmp[c*b.pw:][:b.pw]
	}
	t0, t1 := tmp[3*b.pw:][:b.pw], tmp[6*b.pw:][:b.pw]
	// Each pass computes the columns the next ones need.
	lo0, hi0 := max(0, b.left-r1-r2), min(b.pw, b.left+b.aw+r1+r2)
	lo1, hi1 := max(0, b.left-r2), min(b.pw, b.left+b.aw+r2)
	img := b.img
	for y := lo; y < hi; y++ {
		o := (b.p.Min.Y+y-img.Rect.Min.Y)*img.Stride + (b.p.Min.X-img.Rect.Min.X)*4
		toQ8(in[0], in[1], in[2], img.Pix[o:][:b.pw*4])
		for c, src := range in {
			boxRow(t0[lo0:], src, r0, lo0, hi0)
			boxRow(t1[lo1:], t0, r1, lo1, hi1)
			boxRow(b.h[(c*b.ph+y)*b.aw:][:b.aw], t1, r2, b.left, b.left+b.aw)
		}
	}
}

// vertical runs the three vertical passes over the blurred region's
// columns [c0, c1) and blends the result into the image. The passes run a
// row at a time, each keeping only the rows the next one's window needs,
// so that a strip's work stays in cache; tmp holds their rows, acc their
// accumulators.
func (b *blurJob) vertical(tmp []uint16, acc []uint32, c0, c1 int) {
	w := c1 - c0
	var ps [3][3]colPass // by plane, then pass
	for c := range ps {
		for i := range ps[c] {
			p := &ps[c][i]
			p.r, p.n, p.m = b.radii[i], b.ph, mul(b.radii[i])
			p.acc, acc = acc[:w], acc[w:]
			p.slots = 1 // the last pass: a row, blended into the image at once
			if i < 2 {
				p.slots = 2*b.radii[i+1] + 2 // the next pass's window and a row
			}
			p.out, tmp = tmp[:p.slots*w], tmp[p.slots*w:]
			if i > 0 {
				p.src = &ps[c][i-1]
			}
		}
		ps[c][0].h, ps[c][0].hs = b.h[c*b.ph*b.aw+c0:], b.aw
		lo1 := max(0, b.top-b.radii[2])
		ps[c][0].start(max(0, lo1-b.radii[1]))
		ps[c][1].start(lo1)
		ps[c][2].start(b.top)
	}
	img, a := b.img, b.a
	aw := a.Rect.Dx()
	x0 := b.p.Min.X + b.left + c0 // the strip's first column in the image
	for y := b.top; y < b.top+b.ah; y++ {
		iy := b.p.Min.Y + y
		blendRow(img.Pix[(iy-img.Rect.Min.Y)*img.Stride+(x0-img.Rect.Min.X)*4:][:w*4],
			a.Pix[(iy-a.Rect.Min.Y)*aw+x0-a.Rect.Min.X:][:w],
			ps[0][2].step(), ps[1][2].step(), ps[2][2].step())
	}
}

// A colPass is a vertical box pass of radius r over n rows, run a row at a
// time. Its output rows live in a ring of slots rows.
type colPass struct {
	r, n  int
	m     uint64
	acc   []uint32 // the sums of the window of row next; len(acc) is the row length
	out   []uint16 // the ring
	slots int
	next  int      // the next row to output
	src   *colPass // the pass whose output it reads; nil: h
	h     []uint16 // the input of the first pass, rows of stride hs
	hs    int
}

// input returns row j of the pass's input, making it first if need be.
func (p *colPass) input(j int) []uint16 {
	w := len(p.acc)
	if p.src == nil {
		return p.h[j*p.hs:][:w]
	}
	for p.src.next <= j {
		p.src.step()
	}
	return p.src.out[(j%p.src.slots)*w:][:w]
}

// start sets the pass up to output rows from lo on.
func (p *colPass) start(lo int) {
	p.next = lo
	for i := range p.acc {
		p.acc[i] = uint32(p.r) // for rounding, see mul
	}
	// The window of lo: rows lo-r .. lo+r, clamped.
	for j := lo - p.r; j <= lo+p.r; j++ {
		for i, v := range p.input(min(max(j, 0), p.n-1)) {
			p.acc[i] += uint32(v)
		}
	}
}

// step outputs row next, moves the window down a row and returns the row.
func (p *colPass) step() []uint16 {
	y := p.next
	w := len(p.acc)
	d := p.out[(y%p.slots)*w:][:w]
	// The row to add first: making it pushes out of the ring only rows
	// above the one to take off.
	add := p.input(min(y+p.r+1, p.n-1))
	runCols(d, add, p.input(max(y-p.r, 0)), p.acc, p.m)
	p.next++
	return d
}

// toQ8 splits the RGBA pixels src into R, G and B planes in 8.8 fixed
// point.
func toQ8(r, g, b []uint16, src []uint8) {
	g, b = g[:len(r)], b[:len(r)]
	for i := range r {
		p := src[4*i : 4*i+3 : 4*i+3]
		r[i], g[i], b[i] = uint16(p[0])<<8, uint16(p[1])<<8, uint16(p[2])<<8
	}
}

// blendRow blends the blurred planes r, g, b (8.8 fixed point) into the
// RGBA pixels px by the alphas al.
func blendRow(px, al []uint8, r, g, b []uint16) {
	r, g, b = r[:len(al)], g[:len(al)], b[:len(al)]
	for i, k := range al {
		if k == 0 {
			continue
		}
		p := px[4*i : 4*i+3 : 4*i+3]
		if k == 255 {
			p[0] = uint8((uint32(r[i]) + 128) >> 8)
			p[1] = uint8((uint32(g[i]) + 128) >> 8)
			p[2] = uint8((uint32(b[i]) + 128) >> 8)
			continue
		}
		k := uint32(k)
		p[0] = mix((uint32(r[i])+128)>>8, uint32(p[0]), k)
		p[1] = mix((uint32(g[i])+128)>>8, uint32(p[1]), k)
		p[2] = mix((uint32(b[i])+128)>>8, uint32(p[2]), k)
	}
}

// mix returns (k*c + (255-k)*o)/255, rounded.
func mix(c, o, k uint32) uint8 {
	return uint8((k*c + (255-k)*o + 127) / 255)
}

// boxRadii returns the radii of three box blurs whose sum approximates a
// Gaussian of standard deviation sigma (Kuckir's "boxes for Gauss").
func boxRadii(sigma float64) [3]int {
	const n = 3
	v := 12 * sigma * sigma
	wl := int(math.Sqrt(v/n + 1))
	if wl%2 == 0 {
		wl--
	}
	m := int(math.Round((v - float64(n*wl*wl+4*n*wl+3*n)) / float64(-4*wl-4)))
	var r [3]int
	for i := range r {
		w := wl
		if i >= m {
			w = wl + 2
		}
		r[i] = (w - 1) / 2
	}
	return r
}

// The running sums of a box of radius r start at r, half the box width
// 2r+1, and are divided by the width by (s*mul(r))>>32: so they are
// rounded to the nearest (exactly for boxes narrower than 256).

// mul returns ⌊2³²/(2r+1)⌋+1.
func mul(r int) uint64 {
	return 1<<32/uint64(2*r+1) + 1
}

// boxRow runs a box blur of radius r along the row src, edge samples
// replicated, writing samples [lo, hi) of the result to dst, from dst[0].
func boxRow(dst, src []uint16, r, lo, hi int) {
	n := len(src)
	if lo >= hi {
		return
	}
	m := mul(r)
	// The sum of the window of lo: samples lo-r .. lo+r, clamped.
	s := uint32(r) + uint32(max(0, r-lo))*uint32(src[0]) + uint32(max(0, lo+r-(n-1)))*uint32(src[n-1])
	for _, v := range src[max(0, lo-r):min(n, lo+r+1)] {
		s += uint32(v)
	}
	// Samples [lo, a) and [b, hi) need their windows clamped; [a, b) not.
	a := min(max(r, lo), hi)
	b := min(max(n-r-1, a), hi)
	d := dst[:hi-lo]
	for i := lo; i < a; i++ {
		d[i-lo] = uint16((uint64(s) * m) >> 32)
		s += uint32(src[min(i+r+1, n-1)]) - uint32(src[max(i-r, 0)])
	}
	if a < b {
		s = runRow(d[a-lo:b-lo], src[a+r+1:], src[a-r:], s, m)
	}
	for i := b; i < hi; i++ {
		d[i-lo] = uint16((uint64(s) * m) >> 32)
		s += uint32(src[min(i+r+1, n-1)]) - uint32(src[max(i-r, 0)])
	}
}

// runRow writes len(d) samples of a box blur from the running sum s,
// adding samples add and taking off samples sub as it goes, and returns
// the sum.
func runRow(d, add, sub []uint16, s uint32, m uint64) uint32 {
	add, sub = add[:len(d)], sub[:len(d)]
	for k := range d {
		d[k] = uint16((uint64(s) * m) >> 32)
		s += uint32(add[k]) - uint32(sub[k])
	}
	return s
}

// runCols writes a row of a vertical box blur from the running column sums
// acc, and moves the window down a row, adding row add and taking off row
// sub.
func runCols(d, add, sub []uint16, acc []uint32, m uint64) {
	add, sub, acc = add[:len(d)], sub[:len(d)], acc[:len(d)]
	for k, s := range acc {
		d[k] = uint16((uint64(s) * m) >> 32)
		acc[k] = s + uint32(add[k]) - uint32(sub[k])
	}
}

// pixOK reports whether img is non-nil and non-empty and its Pix covers
// img.Rect.
func pixOK(img *image.RGBA) bool {
	if img == nil {
		return false
	}
	r := img.Rect
	w, h := r.Dx(), r.Dy()
	if r.Empty() || w <= 0 || h <= 0 || img.Stride <= 0 {
		return false
	}
	n := len(img.Pix)
	return w <= n/4 && 4*w <= img.Stride && h-1 <= (n-4*w)/img.Stride
}

// parallel splits [0, n) into up to workers contiguous parts and calls
// f(w, lo, hi) for part w, each in its own goroutine if there are several,
// and returns when all have.
func parallel(workers, n int, f func(w, lo, hi int)) {
	workers = min(workers, n)
	par.Loop(n, func() {
		if workers <= 1 {
			if n > 0 {
				f(0, 0, n)
			}
			return
		}
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := n*w/workers, n*(w+1)/workers
			wg.Go(func() { f(w, lo, hi) })
		}
		wg.Wait()
	})
}

// bufPool holds Blur's working buffers.
var bufPool sync.Pool

// getBuf returns a buffer of n uint16s, not cleared.
func getBuf(n int) *[]uint16 {
	if p, ok := bufPool.Get().(*[]uint16); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]uint16, n)
	return &b
}

// putBuf returns a buffer got from getBuf to the pool.
func putBuf(p *[]uint16) { bufPool.Put(p) }
