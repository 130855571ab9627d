package blur

import (
	"image"
	"math"
	"runtime"

	"github.com/veilkit/veil/internal/downscale"
	"github.com/veilkit/veil/mask"
)

// Large blurs run on a reduced copy of the region: a blur of standard
// deviation sigma keeps nothing finer than sigma, so the padded region is
// reduced by a power of two f (halved log₂ f times: f×f means) to a copy whose own blur,
// sigma/f, is still at least scaledSigma of its pixels, blurred there, and
// interpolated back (bilinear) under the mask. The work per pixel of the
// region falls from the six box passes to a reduction and an
// interpolation; the result stays within a few levels of the full-size
// blur (TestBlurScaled), and is as smooth.
const scaledSigma = 3

// minScaled is the least sigma blurred on a reduced copy: below, the
// copy's small integer box radii would overshoot the variance by more
// than the reduction saves.
const minScaled = 8

// scaleFor returns the factor Blur reduces the region by for sigma: the
// largest power of two f with sigma/f >= scaledSigma, at most 64; 1 (no
// reduction) below minScaled.
func scaleFor(sigma float64) int {
	f := 1
	for sigma >= minScaled && f < 64 && float64(2*f)*scaledSigma <= sigma {
		f *= 2
	}
	return f
}

// blurScaled is Blur of the region reg (a.Rect ∩ img.Rect, with the padded
// region p around it) on a copy reduced by f.
func blurScaled(img *image.RGBA, a *Alpha, reg, p image.Rectangle, sigma float64, f int) {
	workers := 1
	if p.Dx()*p.Dy() > parallelPixels {
		workers = runtime.GOMAXPROCS(0)
	}
	// The reduced copy: f×f means, halving log₂ f times, a large image
	// in bands side by side.
	low, r := img, p
	for k := 1; k < f; k *= 2 {
		src, half := low, downscale.New(r, nil)
		w := 1
		if r.Dx()*r.Dy() > parallelPixels {
			w = workers
		}
		parallel(w, half.Rect.Dy(), func(_, lo, hi int) { downscale.HalveRows(half, src, r, lo, hi) })
		low, r = half, half.Rect
	}
	lw, lh := low.Rect.Dx(), low.Rect.Dy()
	blurBoxes(low, mask.FromRect(low.Rect), low.Rect, low.Rect, scaledRadii(sigma, f))

	// Interpolation taps of the region's columns: low-resolution pixel
	// lx stands for the full-size block centred at lx*f + (f-1)/2.
	aw := reg.Dx()
	xs := make([]tap, aw)
	for i := range xs {
		xs[i] = tapAt(reg.Min.X+i-p.Min.X, f, lw)
	}
	parallel(workers, reg.Dy(), func(_, lo, hi int) {
		buf := getBuf(3*lw + 3*aw)
		defer putBuf(buf)
		col := (*buf)[:3*lw] // a low-resolution row, interpolated down the column, 8.8
		planes := (*buf)[3*lw:]
		r, g, b := planes[:aw], planes[aw:2*aw], planes[2*aw:]
		for y := reg.Min.Y + lo; y < reg.Min.Y+hi; y++ {
			t := tapAt(y-p.Min.Y, f, lh)
			r0 := low.Pix[t.i0*low.Stride:][:4*lw]
			r1 := low.Pix[t.i1*low.Stride:][:4*lw]
			w1 := t.w
			w0 := 256 - w1
			for lx := range lw {
				for c := range 3 {
					col[3*lx+c] = uint16(uint32(r0[4*lx+c])*w0 + uint32(r1[4*lx+c])*w1)
				}
			}
			for i, xt := range xs {
				c0, c1 := col[3*xt.i0:3*xt.i0+3:3*xt.i0+3], col[3*xt.i1:3*xt.i1+3:3*xt.i1+3]
				v1 := xt.w
				v0 := 256 - v1
				r[i] = uint16((uint32(c0[0])*v0 + uint32(c1[0])*v1 + 128) >> 8)
				g[i] = uint16((uint32(c0[1])*v0 + uint32(c1[1])*v1 + 128) >> 8)
				b[i] = uint16((uint32(c0[2])*v0 + uint32(c1[2])*v1 + 128) >> 8)
			}
			blendRow(img.Pix[(y-img.Rect.Min.Y)*img.Stride+(reg.Min.X-img.Rect.Min.X)*4:][:4*aw],
				a.Pix[(y-a.Rect.Min.Y)*a.Rect.Dx()+reg.Min.X-a.Rect.Min.X:][:aw], r, g, b)
		}
	})
}

// scaledRadii returns the box radii of the reduced copy's blur for a blur
// of sigma reduced by f: their variance, f² times over, with the
// reduction's (f²−1)/12 and the interpolation's f²/6, makes at least
// sigma² — the integer radii of small blurs fall short of the variance
// they stand for, which would leave a reduced blur weaker than asked.
func scaledRadii(sigma float64, f int) [3]int {
	ff := float64(f * f)
	want := (sigma*sigma - (ff-1)/12 - ff/6) / ff
	r := boxRadii(math.Sqrt(max(want, 1)))
	for boxVariance(r) < want {
		k := 0
		for i := range r {
			if r[i] < r[k] {
				k = i
			}
		}
		r[k]++
	}
	return r
}

// boxVariance returns the variance of three box blurs of radii r: a box
// of width 2r+1 has variance ((2r+1)²−1)/12 = (r²+r)/3.
func boxVariance(r [3]int) float64 {
	var v float64
	for _, x := range r {
		v += float64(x*x+x) / 3
	}
	return v
}

// A tap interpolates between low-resolution samples i0 and i1 with weight
// w/256 on i1.
type tap struct {
	i0, i1 int
	w      uint32
}

// tapAt returns the tap of full-size sample x (from the padded region's
// start) between n low-resolution samples reduced by f, clamped at the
// ends.
func tapAt(x, f, n int) tap {
	v := (float64(x)+0.5)/float64(f) - 0.5
	i := int(math.Floor(v))
	if i < 0 {
		return tap{0, 0, 0}
	}
	if i >= n-1 {
		return tap{n - 1, n - 1, 0}
	}
	return tap{i, i + 1, uint32(math.Round((v - float64(i)) * 256))}
}
