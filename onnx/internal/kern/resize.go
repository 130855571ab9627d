package kern

import (
	"fmt"
	"math"
	"sync"
)

// ResizeMode is the interpolation of Resize2D.
type ResizeMode uint8

const (
	Nearest ResizeMode = iota // ONNX mode "nearest"
	Linear                    // ONNX mode "linear" (bilinear)
)

// CoordMode is an ONNX coordinate_transformation_mode: how an output
// coordinate x maps to an input coordinate, given the scale, the output
// length and the input length along an axis.
type CoordMode uint8

const (
	HalfPixel        CoordMode = iota // (x+0.5)/scale - 0.5
	PytorchHalfPixel                  // (x+0.5)/scale - 0.5, or 0 if the output length is 1
	AlignCorners                      // x·(in-1)/(out-1), or 0 if the output length is 1
	Asymmetric                        // x/scale
	TFHalfPixelForNN                  // (x+0.5)/scale
)

// NearestMode is an ONNX nearest_mode: how Nearest rounds an input
// coordinate to an index.
type NearestMode uint8

const (
	RoundPreferFloor NearestMode = iota // round, halves down
	RoundPreferCeil                     // round, halves up
	Floor
	Ceil
)

// Resize2D resizes in, [n][c][inH][inW], into out, [n][c][outH][outW],
// along the last two axes with ONNX Resize semantics (opset 11 and
// later, without roi, cubic or antialias). scaleH and scaleW are the
// effective scales: the scales input if given, else outH/inH and
// outW/inW. Along an axis whose scale is 1 the output copies the input.
//
// Linear clamps input coordinates to [0, in-1] and blends the two
// neighbours; Nearest rounds by nearest and clamps the index. AlignCorners
// uses the integer output length, as onnxruntime does. Opset-9 Upsample
// maps to Asymmetric with Linear, or with Nearest and Floor.
// The work is split over n·c planes on up to threads goroutines.
func Resize2D(n, c, inH, inW, outH, outW int, scaleH, scaleW float32, mode ResizeMode, coord CoordMode, nearest NearestMode, in, out []float32, threads int) {
	if n < 0 || c < 0 || inH < 1 || inW < 1 || outH < 1 || outW < 1 {
		panic(fmt.Sprintf("kern: bad resize %dx%d to %dx%d", inH, inW, outH, outW))
	}
	if !(scaleH > 0) || !(scaleW > 0) {
		panic(fmt.Sprintf("kern: bad resize scales %g, %g", scaleH, scaleW))
	}
	if len(in) < n*c*inH*inW || len(out) < n*c*outH*outW {
		panic(fmt.Sprintf("kern: resize slices too short: %d in, %d out", len(in), len(out)))
	}
	t := tablePool.Get().(*resizeTables)
	defer tablePool.Put(t)
	linear := mode == Linear
	t.x.build(inW, outW, scaleW, coord, nearest, linear)
	t.y.build(inH, outH, scaleH, coord, nearest, linear)
	j := resizeJob{inH: inH, inW: inW, outH: outH, outW: outW, linear: linear, t: t, in: in, out: out}
	j.xHalf = !linear && t.x.isHalf()
	j.x2 = linear && t.x.isLinear2()
	planes := n * c
	if threads <= 1 || planes <= 1 {
		j.run(0, planes)
		return
	}
	parallel(resizeJobs, j, threads, planes)
}

// axisTable maps every output index along one axis to input indices:
// i0 for Nearest; i0, i1 and the weight w of i1 for Linear.
type axisTable struct {
	i0, i1 []int32
	w      []float32
}

type resizeTables struct{ x, y axisTable }

var tablePool = sync.Pool{New: func() any { return new(resizeTables) }}

// rowPool holds the scratch rows of Linear resizing.
var rowPool = sync.Pool{New: func() any { return new([]float32) }}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// origCoord maps output coordinate x to an input coordinate, computed in
// float32 like onnxruntime.
func origCoord(x int, scale float32, outLen, inLen int, coord CoordMode) float32 {
	xf := float32(x)
	switch coord {
	case PytorchHalfPixel:
		if outLen <= 1 {
			return 0
		}
		return (xf+0.5)/scale - 0.5
	case AlignCorners:
		if outLen <= 1 {
			return 0
		}
		return xf * float32(inLen-1) / float32(outLen-1)
	case Asymmetric:
		return xf / scale
	case TFHalfPixelForNN:
		return (xf + 0.5) / scale
	default:
		return (xf+0.5)/scale - 0.5
	}
}

func (a *axisTable) build(inLen, outLen int, scale float32, coord CoordMode, nm NearestMode, linear bool) {
	a.i0 = grow(a.i0, outLen)
	if linear {
		a.i1 = grow(a.i1, outLen)
		a.w = grow(a.w, outLen)
	}
	last := inLen - 1
	for x := 0; x < outLen; x++ {
		var xo float32
		if scale == 1 {
			xo = float32(x)
		} else {
			xo = origCoord(x, scale, outLen, inLen, coord)
		}
		if linear {
			xo = max(0, min(xo, float32(last)))
			i0 := min(int(xo), last)
			i1 := min(i0+1, last)
			w := xo - float32(i0)
			if i0 == i1 {
				w = 0
			}
			a.i0[x], a.i1[x], a.w[x] = int32(i0), int32(i1), w
			continue
		}
		var f float64
		switch nm {
		case RoundPreferFloor:
			f = math.Ceil(float64(xo) - 0.5)
		case RoundPreferCeil:
			f = math.Floor(float64(xo) + 0.5)
		case Floor:
			f = math.Floor(float64(xo))
		default:
			f = math.Ceil(float64(xo))
		}
		i := 0
		if f > 0 {
			i = int(min(f, float64(last)))
		}
		a.i0[x] = int32(i)
	}
}

// isHalf reports whether the nearest table maps x to x/2 for an output
// twice the input's length.
func (a *axisTable) isHalf() bool {
	if len(a.i0)%2 != 0 {
		return false
	}
	for x, i := range a.i0 {
		if int(i) != x/2 {
			return false
		}
	}
	return true
}

// isLinear2 reports whether the linear table is the half-pixel ×2 one:
// output 2k blends inputs k-1 and k by 1/4 and 3/4, output 2k+1 blends
// k and k+1 by 3/4 and 1/4, clamped at the ends.
func (a *axisTable) isLinear2() bool {
	n := len(a.i0)
	if n%2 != 0 || n < 4 {
		return false
	}
	last := int32(n/2 - 1)
	for x := range n {
		k := int32(x / 2)
		var i0, i1 int32
		var w float32
		if x%2 == 0 {
			i0, i1, w = k-1, k, 0.75
			if k == 0 {
				i0, i1, w = 0, 1, 0
			}
		} else {
			i0, i1, w = k, k+1, 0.25
			if k == last {
				i0, i1, w = last, last, 0
			}
		}
		if a.i0[x] != i0 || a.i1[x] != i1 && w != 0 || a.w[x] != w {
			return false
		}
	}
	return true
}

// resizeJob is one Resize2D call.
type resizeJob struct {
	inH, inW, outH, outW int
	linear, xHalf, x2    bool
	t                    *resizeTables
	in, out              []float32
}

func (j *resizeJob) run(lo, hi int) {
	ihw, ohw := j.inH*j.inW, j.outH*j.outW
	if !j.linear {
		for pl := lo; pl < hi; pl++ {
			j.nearestPlane(j.in[pl*ihw:(pl+1)*ihw], j.out[pl*ohw:(pl+1)*ohw])
		}
		return
	}
	sp := rowPool.Get().(*[]float32)
	*sp = grow(*sp, 2*j.outW)
	h0, h1 := (*sp)[:j.outW], (*sp)[j.outW:]
	for pl := lo; pl < hi; pl++ {
		j.linearPlane(j.in[pl*ihw:(pl+1)*ihw], j.out[pl*ohw:(pl+1)*ohw], h0, h1)
	}
	rowPool.Put(sp)
}

func (j *resizeJob) nearestPlane(in, out []float32) {
	xi, yi := j.t.x.i0, j.t.y.i0
	for y := 0; y < j.outH; y++ {
		o := out[y*j.outW : (y+1)*j.outW]
		if y > 0 && yi[y] == yi[y-1] {
			copy(o, out[(y-1)*j.outW:y*j.outW])
			continue
		}
		row := in[int(yi[y])*j.inW : (int(yi[y])+1)*j.inW]
		if j.xHalf {
			dupRow(o, row)
			continue
		}
		xi := xi[:len(o)]
		for x, i := range xi {
			o[x] = row[i]
		}
	}
}

// linearPlane resizes one plane, interpolating each needed input row
// horizontally once into h0 or h1 and blending those vertically.
func (j *resizeJob) linearPlane(in, out, h0, h1 []float32) {
	ty := &j.t.y
	c0, c1 := -1, -1 // input rows held by h0 and h1
	for y := 0; y < j.outH; y++ {
		y0, y1, wy := int(ty.i0[y]), int(ty.i1[y]), ty.w[y]
		if c0 != y0 {
			if c1 == y0 {
				h0, h1, c0, c1 = h1, h0, c1, c0
			} else {
				j.hrow(h0, in[y0*j.inW:(y0+1)*j.inW])
				c0 = y0
			}
		}
		o := out[y*j.outW : (y+1)*j.outW]
		if wy == 0 {
			copy(o, h0)
			continue
		}
		if c1 != y1 {
			j.hrow(h1, in[y1*j.inW:(y1+1)*j.inW])
			c1 = y1
		}
		blendRow(o, h0, h1, wy)
	}
}

// blendRowGo sets o[i] = a[i] + w·(b[i]-a[i]).
func blendRowGo(o, a, b []float32, w float32) {
	a, b = a[:len(o)], b[:len(o)]
	for x := range o {
		o[x] = a[x] + w*(b[x]-a[x])
	}
}

// dupRowGo sets o[2i] = o[2i+1] = r[i].
func dupRowGo(o, r []float32) {
	o = o[:2*len(r)]
	for i, v := range r {
		o[2*i] = v
		o[2*i+1] = v
	}
}

// hrow interpolates the input row r horizontally into h.
func (j *resizeJob) hrow(h, r []float32) {
	if j.x2 {
		n := len(r)
		h = h[:2*n]
		h[0] = r[0]
		for k := 0; k < n-1; k++ {
			a, b := r[k], r[k+1]
			d := b - a
			h[2*k+1] = a + 0.25*d
			h[2*k+2] = a + 0.75*d
		}
		h[2*n-1] = r[n-1]
		return
	}
	tx := &j.t.x
	i0, i1, w := tx.i0[:len(h)], tx.i1[:len(h)], tx.w[:len(h)]
	for x := range h {
		a := r[i0[x]]
		h[x] = a + w[x]*(r[i1[x]]-a)
	}
}
