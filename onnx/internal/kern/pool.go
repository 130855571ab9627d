package kern

import (
	"fmt"
	"math"
)

// MaxPool computes a 2-D max pooling of in, [N][C][H][W], into out,
// [N][C][OutH][OutW], with ONNX semantics: padded cells count as -Inf and
// the window taps are DilH×DilW apart. The caller applies ceil_mode by
// its choice of OutH and OutW. The work is split over N·C planes on up
// to threads goroutines.
func MaxPool(p *Conv2DParams, in, out []float32, threads int) {
	pool(p, in, out, false, false, threads)
}

// AveragePool computes a 2-D average pooling of in, [N][C][H][W], into
// out, [N][C][OutH][OutW], with ONNX semantics. Padded cells are left out
// of the average unless countIncludePad is set, in which case the divisor
// counts the window's cells inside the padded input (so a ceil_mode
// window that runs past the end padding is divided by less than KH·KW).
// The work is split over N·C planes on up to threads goroutines.
func AveragePool(p *Conv2DParams, in, out []float32, countIncludePad bool, threads int) {
	pool(p, in, out, true, countIncludePad, threads)
}

func pool(p *Conv2DParams, in, out []float32, avg, includePad bool, threads int) {
	p.check(in, out)
	j := poolJob{p: *p, in: in, out: out, avg: avg, includePad: includePad}
	n := p.N * p.C
	if threads <= 1 || n <= 1 {
		j.run(0, n)
		return
	}
	parallel(poolJobs, j, threads, n)
}

// poolJob is one MaxPool or AveragePool call.
type poolJob struct {
	p               Conv2DParams
	in, out         []float32
	avg, includePad bool
}

func (j *poolJob) run(lo, hi int) {
	p := &j.p
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	for pl := lo; pl < hi; pl++ {
		j.plane(j.in[pl*hw:(pl+1)*hw], j.out[pl*ohw:(pl+1)*ohw])
	}
}

func (j *poolJob) plane(in, out []float32) {
	p := &j.p
	ox0, ox1 := colRange(p.OutW, p.W, p.KW, p.StrideW, p.DilW, p.PadLeft)
	ix0 := ox0*p.StrideW - p.PadLeft
	var rows [maxKH][]float32
	for oy := 0; oy < p.OutH; oy++ {
		orow := out[oy*p.OutW : (oy+1)*p.OutW]
		iy := oy*p.StrideH - p.PadTop
		nr, cnt := 0, 0 // valid rows, rows counted by the divisor
		if ox1 > ox0 && (j.avg || p.KH <= maxKH) {
			for ky := 0; ky < p.KH; ky++ {
				y := iy + ky*p.DilH
				if y >= 0 && y < p.H {
					nr++
				}
				if j.includePad && y < p.H+p.PadBottom || y >= 0 && y < p.H {
					cnt++
				}
			}
		}
		if nr == 0 {
			for ox := range orow {
				orow[ox] = j.pixel(in, oy, ox)
			}
			continue
		}
		for ox := 0; ox < ox0; ox++ {
			orow[ox] = j.pixel(in, oy, ox)
		}
		for ox := ox1; ox < p.OutW; ox++ {
			orow[ox] = j.pixel(in, oy, ox)
		}
		o := orow[ox0:ox1]
		// Gather the window rows in the input, maxKH at a time (the
		// max path has at most maxKH).
		nr = 0
		first, scaled := true, false
		scale := 1 / float32(cnt*p.KW)
		for ky := 0; ky < p.KH; ky++ {
			y := iy + ky*p.DilH
			if y >= 0 && y < p.H {
				rows[nr] = in[y*p.W+ix0 : (y+1)*p.W]
				nr++
			}
			if nr == 0 || nr < maxKH && ky < p.KH-1 {
				continue
			}
			switch {
			case !j.avg:
				maxRow(o, rows[:nr], p.KW, p.StrideW, p.DilW)
			case first && ky == p.KH-1 && avgRowAsm(o, rows[:nr], p.KW, p.StrideW, p.DilW, scale):
				scaled = true
			default:
				if first {
					clear(o)
				}
				sumRow(o, rows[:nr], p.KW, p.StrideW, p.DilW)
			}
			first = false
			nr = 0
		}
		if j.avg && !scaled {
			for i := range o {
				o[i] *= scale
			}
		}
	}
}

// pixel returns the pooled value at (oy, ox) of one plane.
func (j *poolJob) pixel(in []float32, oy, ox int) float32 {
	p := &j.p
	iy0 := oy*p.StrideH - p.PadTop
	ix0 := ox*p.StrideW - p.PadLeft
	m := float32(math.Inf(-1))
	var s float32
	n, cnt := 0, 0
	for ky := 0; ky < p.KH; ky++ {
		iy := iy0 + ky*p.DilH
		rowIn := iy >= 0 && iy < p.H
		rowPad := iy < p.H+p.PadBottom
		for kx := 0; kx < p.KW; kx++ {
			ix := ix0 + kx*p.DilW
			if rowIn && ix >= 0 && ix < p.W {
				v := in[iy*p.W+ix]
				m = max(m, v)
				s += v
				n++
				cnt++
			} else if j.includePad && rowPad && ix < p.W+p.PadRight {
				cnt++
			}
		}
	}
	if !j.avg {
		return m
	}
	if cnt == 0 {
		return 0
	}
	if !j.includePad {
		cnt = n
	}
	return s / float32(cnt)
}

// maxRow sets o[i] to the maximum of rows[r][s·i+k·d] over r and k < kw.
// It uses the max builtin, which compiles without branches.
func maxRow(o []float32, rows [][]float32, kw, s, d int) {
	n := len(o)
	if n == 0 || maxRowAsm(o, rows, kw, s, d) {
		return
	}
	last := s*(n-1) + (kw-1)*d + 1 // elements of a row in use
	switch {
	case kw == 2 && s == 2 && d == 1:
		r := rows[0][:last]
		for i := range o {
			t := r[2*i : 2*i+2]
			o[i] = max(t[0], t[1])
		}
		for _, r := range rows[1:] {
			r = r[:last]
			for i := range o {
				t := r[2*i : 2*i+2]
				o[i] = max(o[i], t[0], t[1])
			}
		}
	case kw == 3 && s == 2 && d == 1:
		r := rows[0][:last]
		for i := range o {
			t := r[2*i : 2*i+3]
			o[i] = max(t[0], t[1], t[2])
		}
		for _, r := range rows[1:] {
			r = r[:last]
			for i := range o {
				t := r[2*i : 2*i+3]
				o[i] = max(o[i], t[0], t[1], t[2])
			}
		}
	default:
		for r, row := range rows {
			for k := 0; k < kw; k++ {
				src := row[k*d : k*d+s*(n-1)+1]
				if r == 0 && k == 0 {
					for i := range o {
						o[i] = src[i*s]
					}
					continue
				}
				if s == 1 {
					src = src[:n]
					for i, v := range src {
						o[i] = max(o[i], v)
					}
					continue
				}
				for i := range o {
					o[i] = max(o[i], src[i*s])
				}
			}
		}
	}
}

// sumRow adds to o[i] the sum of rows[r][s·i+k·d] over r and k < kw.
func sumRow(o []float32, rows [][]float32, kw, s, d int) {
	n := len(o)
	if n == 0 {
		return
	}
	for _, row := range rows {
		if n == 1 && d == 1 {
			o[0] += sum32(row[:kw])
			continue
		}
		for k := 0; k < kw; k++ {
			src := row[k*d : k*d+s*(n-1)+1]
			if s == 1 {
				src = src[:n]
				for i, v := range src {
					o[i] += v
				}
				continue
			}
			for i := range o {
				o[i] += src[i*s]
			}
		}
	}
}

// GlobalAveragePool sets out[i] to the mean of in[i·size : (i+1)·size]
// for each of planes planes, split over up to threads goroutines.
func GlobalAveragePool(planes, size int, in, out []float32, threads int) {
	if len(in) < planes*size || len(out) < planes {
		panic(fmt.Sprintf("kern: global pool of %d planes of %d on %d in, %d out", planes, size, len(in), len(out)))
	}
	j := gapJob{size: size, in: in, out: out}
	if threads <= 1 || planes*size < 1<<15 {
		j.run(0, planes)
		return
	}
	parallel(gapJobs, j, threads, planes)
}

type gapJob struct {
	size    int
	in, out []float32
}

func (j *gapJob) run(lo, hi int) {
	inv := 1 / float32(j.size)
	for pl := lo; pl < hi; pl++ {
		j.out[pl] = sum32(j.in[pl*j.size:(pl+1)*j.size]) * inv
	}
}

// sum32 returns the sum of x, accumulated in eight lanes.
func sum32(x []float32) float32 {
	var s [8]float32
	for len(x) >= 8 {
		t := x[:8]
		s[0] += t[0]
		s[1] += t[1]
		s[2] += t[2]
		s[3] += t[3]
		s[4] += t[4]
		s[5] += t[5]
		s[6] += t[6]
		s[7] += t[7]
		x = x[8:]
	}
	for i, v := range x {
		s[i] += v
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}
