package detect

import (
	"image"
	"math"
	"sync"

	"github.com/veilkit/veil/internal/downscale"
	"github.com/veilkit/veil/internal/par"
)

// Norm says how a model wants its input pixels: channel order and
// value = (raw − Mean[c]) / Std[c], with c in the model's channel order.
type Norm struct {
	BGR       bool
	NHWC      bool
	Mean, Std [3]float32
}

// Tensor resamples the part r of img to w×h (aspect not kept) and writes
// it normalised into dst (len 3·w·h) as NCHW (or NHWC). Downscaling
// averages over each output pixel's footprint (a triangle filter as wide
// as the scale), so small objects are not lost to aliasing; upscaling is
// bilinear. A downscale by 2 or more in both directions first halves the
// region with 2×2 means (as often as it can) and filters the rest: a
// fraction of the triangle filter's cost per source pixel, and an
// exact-half size (1920×1080 to 960×540) costs no filtering at all.
func Tensor(dst []float32, img *image.RGBA, r image.Rectangle, w, h int, n Norm) {
	TensorInto(dst, w, h, img, r, w, h, n)
}

// TensorInto is Tensor writing the w×h result into the top-left corner of
// a tensor whose planes are dw×dh; the rest of dst is left as it is (a
// letterbox's padding).
func TensorInto(dst []float32, dw, dh int, img *image.RGBA, r image.Rectangle, w, h int, n Norm) {
	r = r.Intersect(img.Rect)
	if r.Empty() || w <= 0 || h <= 0 || w > dw || h > dh {
		return
	}
	for r.Dx() >= 2*w && r.Dy() >= 2*h {
		half := halve(img, r)
		defer putHalf(half)
		img, r = half, half.Rect
	}
	resample(dst, dw, dh, img, r, w, h, n)
}

// resample is TensorInto without the halving, for r within img.Rect.
func resample(dst []float32, dw, dh int, img *image.RGBA, r image.Rectangle, w, h int, n Norm) {
	if w == r.Dx() && h == r.Dy() {
		copyNormalized(dst, dw, dh, img, r, n)
		return
	}
	xt := filterTaps(r.Dx(), w)
	yt := filterTaps(r.Dy(), h)
	// Horizontal pass into a planar float buffer of r.Dy() × w × 3.
	tmp := make([]float32, r.Dy()*w*3)
	rows(r.Dy(), w*len(xt[0].w), func(y0, y1 int) { resampleRows(tmp, img, r, w, xt, y0, y1) })
	var scale, bias [3]float32
	for c := 0; c < 3; c++ {
		scale[c] = 1 / n.Std[c]
		bias[c] = -n.Mean[c] / n.Std[c]
	}
	// Vertical pass, a row at a time: each tap adds a weighted row of tmp.
	rows(h, w*len(yt[0].w), func(y0, y1 int) {
		acc := make([]float32, w*3)
		for y := y0; y < y1; y++ {
			verticalRow(dst, dw, dh, acc, tmp, w, y, &yt[y], scale, bias, n)
		}
	})
}

// rows runs fn over the rows [0, n) of an image pass, split over the
// cores when the pass does enough work (about perRow multiply-adds a row)
// to pay for it.
func rows(n, perRow int, fn func(y0, y1 int)) {
	if n*perRow < minParallelWork {
		fn(0, n)
		return
	}
	par.For(par.Cores(), n, fn)
}

// minParallelWork is the least number of operations a pass over rows
// splits across cores for.
const minParallelWork = 1 << 16

// resampleRows is resample's horizontal pass over the rows [y0, y1) of r
// into tmp (planar rows of w×3).
func resampleRows(tmp []float32, img *image.RGBA, r image.Rectangle, w int, xt []taps, y0, y1 int) {
	for y := y0; y < y1; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):]
		out := tmp[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			t := &xt[x]
			ws := t.w
			src := row[t.start*4 : (t.start+len(ws))*4]
			var cr, cg, cb, dr, dg, db float32
			for len(ws) >= 2 && len(src) >= 8 {
				w0, w1 := ws[0], ws[1]
				cr += w0 * float32(src[0])
				cg += w0 * float32(src[1])
				cb += w0 * float32(src[2])
				dr += w1 * float32(src[4])
				dg += w1 * float32(src[5])
				db += w1 * float32(src[6])
				ws, src = ws[2:], src[8:]
			}
			if len(ws) > 0 && len(src) >= 4 {
				wt := ws[0]
				cr += wt * float32(src[0])
				cg += wt * float32(src[1])
				cb += wt * float32(src[2])
			}
			o := out[x*3 : x*3+3 : x*3+3]
			o[0], o[1], o[2] = cr+dr, cg+dg, cb+db
		}
	}
}

// verticalRow writes output row y of resample: the rows of tmp that taps
// t weigh, summed in acc (w×3, scratch), normalised into dst.
func verticalRow(dst []float32, dw, dh int, acc, tmp []float32, w, y int, t *taps, scale, bias [3]float32, n Norm) {
	plane := dw * dh
	clear(acc)
	for k, wt := range t.w {
		src := tmp[(t.start+k)*w*3:][:len(acc)]
		for i, v := range src {
			acc[i] += wt * v
		}
	}
	for x := 0; x < w; x++ {
		px := acc[x*3 : x*3+3 : x*3+3]
		r, g, b := px[0], px[1], px[2]
		if n.BGR {
			r, b = b, r
		}
		for c, v := range [3]float32{r, g, b} {
			v = v*scale[c] + bias[c]
			if n.NHWC {
				dst[(y*dw+x)*3+c] = v
			} else {
				dst[c*plane+y*dw+x] = v
			}
		}
	}
}

// taps are one output sample's source indices and weights.
type taps struct {
	start int
	w     []float32
}

// filterTaps computes resampling taps from in samples to out samples:
// a triangle filter of half-width max(1, in/out) centred on each output
// sample's centre, weights normalised to sum 1.
func filterTaps(in, out int) []taps {
	scale := float64(in) / float64(out)
	support := math.Max(1, scale)
	t := make([]taps, out)
	for o := range t {
		c := (float64(o)+0.5)*scale - 0.5
		lo := int(math.Floor(c - support + 1))
		hi := int(math.Ceil(c + support - 1))
		lo, hi = max(lo, 0), min(hi, in-1)
		if hi < lo {
			hi = lo
		}
		ws := make([]float32, hi-lo+1)
		var sum float64
		for i := lo; i <= hi; i++ {
			v := 1 - math.Abs(float64(i)-c)/support
			if v < 0 {
				v = 0
			}
			ws[i-lo] = float32(v)
			sum += v
		}
		if sum == 0 {
			ws[0], sum = 1, 1
		}
		for i := range ws {
			ws[i] = float32(float64(ws[i]) / sum)
		}
		t[o] = taps{start: lo, w: ws}
	}
	return t
}

// Fill sets every pixel of an NCHW (or NHWC) tensor of w×h planes to the
// normalised value of the raw pixel value raw, as letterbox padding.
func Fill(dst []float32, w, h int, raw float32, n Norm) {
	plane := w * h
	for c := 0; c < 3; c++ {
		v := (raw - n.Mean[c]) / n.Std[c]
		for i := 0; i < plane; i++ {
			if n.NHWC {
				dst[i*3+c] = v
			} else {
				dst[c*plane+i] = v
			}
		}
	}
}

// copyNormalized is TensorInto without resampling.
func copyNormalized(dst []float32, dw, dh int, img *image.RGBA, r image.Rectangle, n Norm) {
	var lut [3][256]float32
	for c := 0; c < 3; c++ {
		src := c
		if n.BGR {
			src = 2 - c
		}
		for v := 0; v < 256; v++ {
			lut[src][v] = (float32(v) - n.Mean[c]) / n.Std[c]
		}
	}
	// lut[k] maps RGBA channel k to the model channel it lands in.
	chanOf := [3]int{0, 1, 2}
	if n.BGR {
		chanOf = [3]int{2, 1, 0}
	}
	plane := dw * dh
	w := r.Dx()
	rows(r.Dy(), 3*w, func(y0, y1 int) {
		copyNormalizedRows(dst, dw, plane, img, r, n.NHWC, &lut, chanOf, y0, y1)
	})
}

// copyNormalizedRows is copyNormalized over the rows [y0, y1) of r.
func copyNormalizedRows(dst []float32, dw, plane int, img *image.RGBA, r image.Rectangle, nhwc bool, lut *[3][256]float32, chanOf [3]int, y0, y1 int) {
	w := r.Dx()
	for y := y0; y < y1; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
		if nhwc {
			out := dst[y*dw*3:][:3*w]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+3]
				out[3*x+chanOf[0]] = lut[0][p[0]]
				out[3*x+chanOf[1]] = lut[1][p[1]]
				out[3*x+chanOf[2]] = lut[2][p[2]]
			}
			continue
		}
		o0 := dst[chanOf[0]*plane+y*dw:][:w]
		o1 := dst[chanOf[1]*plane+y*dw:][:w]
		o2 := dst[chanOf[2]*plane+y*dw:][:w]
		for x := range o0 {
			p := row[4*x : 4*x+3]
			o0[x] = lut[0][p[0]]
			o1[x] = lut[1][p[1]]
			o2[x] = lut[2][p[2]]
		}
	}
}

// halfPool holds the pixel buffers of the halved images.
var halfPool sync.Pool

// halve is downscale.Halve with a pixel buffer from halfPool; putHalf
// gives it back.
func halve(img *image.RGBA, r image.Rectangle) *image.RGBA {
	var buf []uint8
	if p, ok := halfPool.Get().(*[]uint8); ok {
		buf = *p
	}
	return downscale.Halve(img, r, buf)
}

// putHalf gives an image of halve's pixels back to halfPool.
func putHalf(img *image.RGBA) {
	halfPool.Put(&img.Pix)
}
