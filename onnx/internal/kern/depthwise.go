package kern

import (
	"fmt"
	"sync"
)

// maxKH is the tallest kernel the row-wise depthwise path handles; taller
// kernels use the per-pixel path.
const maxKH = 8

// Depthwise computes a depthwise convolution (group == C, channel
// multiplier 1) of in, [N][C][H][W], with the filters w, [C][KH][KW],
// adding bias[c] (bias may be nil) and applying act, into out,
// [N][C][OutH][OutW]. The padding is zero. out must not overlap in.
// The work is split over N·C planes on up to threads goroutines.
//
// With AVX-512, 3×3 windows with stride 1 (any dilation) or stride 2 and
// 5×5 windows with stride 1 run in assembly straight from the input; 3×3
// windows with stride 1, horizontal dilation up to 4 and OutW = W mostly
// by the flat kernels, which run 16-lane blocks over the whole output
// plane as one row, so that narrow planes waste no lanes.
// Otherwise windows up to 8 rows tall are computed from a zero-padded copy
// of each plane, in AVX2 assembly for 3×3 with stride 1 or 2 and for any
// stride-1 window, else row by row in Go; taller windows are computed
// pixel by pixel.
func Depthwise(p *Conv2DParams, in, w, bias, out []float32, act Act, threads int) {
	p.check(in, out)
	if len(w) < p.C*p.KH*p.KW {
		panic(fmt.Sprintf("kern: depthwise weights have %d elements, want %d", len(w), p.C*p.KH*p.KW))
	}
	if bias != nil && len(bias) < p.C {
		panic(fmt.Sprintf("kern: depthwise bias has %d elements, want %d", len(bias), p.C))
	}
	j := dwJob{p: *p, in: in, w: w, bias: bias, out: out, act: act}
	j.ca, j.fused = act.clampForm()
	n := p.N * p.C
	if threads <= 1 || n <= 1 {
		j.run(0, n)
		return
	}
	parallel(dwJobs, j, threads, n)
}

// dwJob is one Depthwise call.
type dwJob struct {
	p                Conv2DParams
	in, w, bias, out []float32
	act              Act
	ca               clampArgs // act in assembly form, bias filled per plane
	fused            bool      // whether ca expresses act
}

// dwScratch holds one worker's zero-padded copy of an input plane, or
// the choice and lane masks of an AVX-512 kernel, and the masks of the
// flat kernels for the last few plane geometries.
type dwScratch struct {
	buf   []float32
	masks []uint16
	kind  int
	geom  dwGeom
	flat  flatCache
}

var dwPool = sync.Pool{New: func() any { return new(dwScratch) }}

// run computes planes [lo, hi) of the output.
func (j *dwJob) run(lo, hi int) {
	p := &j.p
	hw, ohw, kk := p.H*p.W, p.OutH*p.OutW, p.KH*p.KW
	var s *dwScratch
	direct := false
	if p.KH <= maxKH {
		s = dwPool.Get().(*dwScratch)
		defer dwPool.Put(s)
		direct = dwPrepare(p, s)
	}
	for pl := lo; pl < hi; pl++ {
		c := pl % p.C
		var b float32
		if j.bias != nil {
			b = j.bias[c]
		}
		in, w, out := j.in[pl*hw:(pl+1)*hw], j.w[c*kk:(c+1)*kk], j.out[pl*ohw:(pl+1)*ohw]
		if direct {
			ca := j.ca
			if !j.fused {
				ca, _ = Act{}.clampForm()
			}
			ca.bias = b
			dwPlaneDirect(p, out, in, w, &ca, s)
			if !j.fused {
				j.act.ApplySlice(out)
			}
			continue
		}
		if s == nil {
			for oy := 0; oy < p.OutH; oy++ {
				for ox := 0; ox < p.OutW; ox++ {
					out[oy*p.OutW+ox] = j.act.Apply(dwPixel(p, in, w, b, oy, ox))
				}
			}
			continue
		}
		j.plane(in, w, b, out, s, pl == lo)
	}
}

// padded returns the width and height of the zero-padded input plane
// that holds every window of p.
func (p *Conv2DParams) padded() (wp, hp int) {
	wp = max(p.W+p.PadLeft+p.PadRight, (p.OutW-1)*p.StrideW+(p.KW-1)*p.DilW+1)
	hp = max(p.H+p.PadTop+p.PadBottom, (p.OutH-1)*p.StrideH+(p.KH-1)*p.DilH+1)
	return wp, hp
}

// plane computes one output plane from one input plane. Unless p has no
// padding it first copies the input into a zero-padded plane in s, whose
// padding it clears when reset is set.
func (j *dwJob) plane(in, w []float32, b float32, out []float32, s *dwScratch, reset bool) {
	p := &j.p
	wp, hp := p.padded()
	src := in
	if wp != p.W || hp != p.H {
		if reset {
			s.buf = grow(s.buf, wp*hp)
			clear(s.buf)
		}
		src = s.buf[:wp*hp]
		for y := 0; y < p.H; y++ {
			o := (y+p.PadTop)*wp + p.PadLeft
			copy(src[o:o+p.W], in[y*p.W:(y+1)*p.W])
		}
	}
	ca := j.ca
	if !j.fused {
		ca, _ = Act{}.clampForm()
	}
	ca.bias = b
	if dwPlaneAsm(p, out, src, wp, w, &ca) {
		if !j.fused {
			j.act.ApplySlice(out)
		}
		return
	}
	var rows [maxKH][]float32
	for oy := 0; oy < p.OutH; oy++ {
		for ky := 0; ky < p.KH; ky++ {
			y := oy*p.StrideH + ky*p.DilH
			rows[ky] = src[y*wp : (y+1)*wp]
		}
		o := out[oy*p.OutW : (oy+1)*p.OutW]
		j.row(o, &rows, w, b)
		j.act.ApplySlice(o)
	}
}

// row computes the unactivated output row o from the padded input rows
// of its windows.
func (j *dwJob) row(o []float32, rows *[maxKH][]float32, w []float32, b float32) {
	p := &j.p
	switch {
	case p.KH == 3 && p.KW == 3 && p.StrideW == 1:
		dwRow3s1Go(o, rows[0], rows[1], rows[2], p.DilW, (*[9]float32)(w), b)
	case p.KH == 3 && p.KW == 3 && p.StrideW == 2 && p.DilW == 1:
		dwRow3s2Go(o, rows[0], rows[1], rows[2], (*[9]float32)(w), b)
	default:
		dwRowGo(o, rows, p.KH, p.KW, p.StrideW, p.DilW, w, b)
	}
}

// dwPixel returns the unactivated depthwise output at (oy, ox) of one
// plane, skipping window taps in the padding.
func dwPixel(p *Conv2DParams, in, w []float32, b float32, oy, ox int) float32 {
	s := b
	iy0 := oy*p.StrideH - p.PadTop
	ix0 := ox*p.StrideW - p.PadLeft
	for ky := 0; ky < p.KH; ky++ {
		iy := iy0 + ky*p.DilH
		if iy < 0 || iy >= p.H {
			continue
		}
		row := in[iy*p.W : (iy+1)*p.W]
		for kx, wv := range w[ky*p.KW : (ky+1)*p.KW] {
			if ix := ix0 + kx*p.DilW; ix >= 0 && ix < p.W {
				s += wv * row[ix]
			}
		}
	}
	return s
}

// dwRow3s1Go sets o[i] = b + Σ w[3r+k]·rr[i+k·d] over the rows r0, r1, r2.
func dwRow3s1Go(o, r0, r1, r2 []float32, d int, w *[9]float32, b float32) {
	n := len(o)
	a0, a1, a2 := r0[:n], r0[d:d+n], r0[2*d:2*d+n]
	b0, b1, b2 := r1[:n], r1[d:d+n], r1[2*d:2*d+n]
	c0, c1, c2 := r2[:n], r2[d:d+n], r2[2*d:2*d+n]
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range o {
		s0 := w0*a0[i] + w1*a1[i] + w2*a2[i]
		s1 := w3*b0[i] + w4*b1[i] + w5*b2[i]
		s2 := w6*c0[i] + w7*c1[i] + w8*c2[i]
		o[i] = b + s0 + s1 + s2
	}
}

// dwRow3s2Go sets o[i] = b + Σ w[3r+k]·rr[2i+k] over the rows r0, r1, r2.
func dwRow3s2Go(o, r0, r1, r2 []float32, w *[9]float32, b float32) {
	n := len(o)
	if n == 0 {
		return
	}
	r0, r1, r2 = r0[:2*n+1], r1[:2*n+1], r2[:2*n+1]
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	for i := range o {
		x := 2 * i
		a, bb, c := r0[x:x+3], r1[x:x+3], r2[x:x+3]
		s0 := w0*a[0] + w1*a[1] + w2*a[2]
		s1 := w3*bb[0] + w4*bb[1] + w5*bb[2]
		s2 := w6*c[0] + w7*c[1] + w8*c[2]
		o[i] = b + s0 + s1 + s2
	}
}

// dwRowGo sets o[i] = b + Σ w[kw·r+k]·rows[r][s·i+k·d] for any window.
func dwRowGo(o []float32, rows *[maxKH][]float32, kh, kw, s, d int, w []float32, b float32) {
	for i := range o {
		o[i] = b
	}
	if len(o) == 0 {
		return
	}
	for r := 0; r < kh; r++ {
		row := rows[r]
		for k, wv := range w[r*kw : (r+1)*kw] {
			if s == 1 {
				src := row[k*d : k*d+len(o)]
				for i, v := range src {
					o[i] += wv * v
				}
				continue
			}
			src := row[k*d : k*d+s*(len(o)-1)+1]
			for i := range o {
				o[i] += wv * src[i*s]
			}
		}
	}
}
