package kern

import (
	"fmt"
	"sync"

	"github.com/veilkit/veil/internal/par"
)

// Im2col writes into col the [C·KH·KW][OutH·OutW] matrix of one image
// in, [C][H][W], for a convolution described by p (p.N is ignored): row
// (c·KH+ky)·KW+kx holds, for every output pixel, the input value under
// window tap (ky, kx) of channel c, or zero in the padding. For a grouped
// convolution pass the channels of one group as C and that group's input.
func Im2col(p *Conv2DParams, in []float32, col []float32) {
	Im2colParallel(p, in, col, 1)
}

// im2colMinSplit is the fewest matrix elements per goroutine worth
// splitting Im2colParallel for.
var im2colMinSplit = 1 << 15 // a variable for the tests

// Im2colParallel is Im2col with the work split over up to threads
// goroutines.
//
// Each input row under a window row is turned into the KW matrix rows of
// its taps: with stride 1 each is a shifted copy of the input row, with
// stride 2 a gather of every other element (AVX-512 or AVX2 assembly
// where available), and the padded edges are zeroed.
func Im2colParallel(p *Conv2DParams, in []float32, col []float32, threads int) {
	Im2colRows(p, in, col, 0, p.OutH, threads)
}

// Im2colRows writes into col the columns of output rows [oy0, oy1) of
// the Im2col matrix: a [C·KH·KW][(oy1-oy0)·OutW] matrix whose column
// (oy-oy0)·OutW+ox is that of output pixel (oy, ox). A convolution can
// run as a GEMM per band of output rows whose matrix stays in cache. The
// work is split over up to threads goroutines.
func Im2colRows(p *Conv2DParams, in []float32, col []float32, oy0, oy1, threads int) {
	if oy0 < 0 || oy1 > p.OutH || oy0 > oy1 {
		panic(fmt.Sprintf("kern: im2col rows [%d, %d) of %d", oy0, oy1, p.OutH))
	}
	ld := (oy1 - oy0) * p.OutW
	if len(in) < p.C*p.H*p.W {
		panic(fmt.Sprintf("kern: im2col input has %d elements, want %d", len(in), p.C*p.H*p.W))
	}
	if len(col) < p.C*p.KH*p.KW*ld {
		panic(fmt.Sprintf("kern: im2col matrix has %d elements, want %d", len(col), p.C*p.KH*p.KW*ld))
	}
	// The work is split in units of one output row of every tap of one
	// window row of one channel: KW segments of OutW elements.
	n := p.C * p.KH * (oy1 - oy0)
	threads = min(threads, p.C*p.KH*p.KW*ld/im2colMinSplit)
	if threads <= 1 || n <= 1 {
		j := im2colJob{p: *p, in: in, col: col, oy0: oy0, oy1: oy1}
		j.run(0, n)
		return
	}
	j := im2colPool.Get().(*im2colJob)
	j.p, j.in, j.col, j.oy0, j.oy1 = *p, in, col, oy0, oy1
	par.For(threads, n, j.fn)
	*j = im2colJob{fn: j.fn}
	im2colPool.Put(j)
}

// im2colJob is one Im2colRows call, for output rows [oy0, oy1). fn is
// its run method, bound once so that handing it to par.For does not
// allocate.
type im2colJob struct {
	p        Conv2DParams
	in, col  []float32
	oy0, oy1 int
	fn       func(lo, hi int)
}

var im2colPool = sync.Pool{New: func() any {
	j := new(im2colJob)
	j.fn = j.run
	return j
}}

// run fills units [lo, hi): unit (c·KH+ky)·(oy1-oy0) + oy-oy0 is output
// row oy of the matrix rows of channel c's taps (ky, 0) to (ky, KW-1).
func (j *im2colJob) run(lo, hi int) {
	bh := j.oy1 - j.oy0
	for u := lo; u < hi; {
		cky, oy := u/bh, j.oy0+u%bh
		end := min(j.oy1, oy+hi-u)
		j.rows(cky, oy, end)
		u += end - oy
	}
}

// rows fills output rows [oy0, oy1), within the job's band, of the
// matrix rows of the taps of window row ky of channel c, cky = c·KH+ky.
func (j *im2colJob) rows(cky, oy0, oy1 int) {
	p := &j.p
	ow, sw := p.OutW, p.StrideW
	ld := (j.oy1 - j.oy0) * ow // elements per matrix row
	z := j.oy0 * ow            // the offset of the band's first row
	ky, c := cky%p.KH, cky/p.KH
	plane := j.in[c*p.H*p.W : (c+1)*p.H*p.W]
	// Rows [a, b) have their window row in the input:
	// iy = oy·StrideH + iy0 in [0, H).
	iy0 := ky*p.DilH - p.PadTop
	a, b := oy0, oy1
	if iy0 < 0 {
		a = max(a, (-iy0+p.StrideH-1)/p.StrideH)
	}
	if last := p.H - 1 - iy0; last >= 0 {
		b = min(b, last/p.StrideH+1)
	} else {
		b = a
	}
	a = min(a, oy1)
	b = max(a, b)
	// Stride 1 with input and output rows of the same width: the rows of
	// a tap are one shifted copy of the plane, whose padded columns are
	// then zeroed.
	contiguous := sw == 1 && p.StrideH == 1 && ow == p.W
	for kx := 0; kx < p.KW; kx++ {
		// d[oy*ow-z+x] is the column of output pixel (oy, x).
		d := j.col[(cky*p.KW+kx)*ld : (cky*p.KW+kx+1)*ld]
		clear(d[oy0*ow-z : a*ow-z])
		clear(d[b*ow-z : oy1*ow-z])
		if a == b {
			continue
		}
		off := kx*p.DilW - p.PadLeft // ix = ox·sw + off
		lo, hi := 0, 0
		if off < 0 {
			lo = (-off + sw - 1) / sw
		}
		if last := p.W - 1 - off; last >= 0 {
			hi = last/sw + 1
		}
		hi = min(hi, ow)
		lo = min(lo, hi)
		if lo == hi {
			clear(d[a*ow-z : b*ow-z])
			continue
		}
		if contiguous {
			s := (a+iy0)*p.W + off
			copy(d[a*ow-z+lo:(b-1)*ow-z+hi], plane[s+lo:s+(b-1-a)*ow+hi])
			if lo > 0 || hi < ow {
				for oy := a; oy < b; oy++ {
					r := d[oy*ow-z : (oy+1)*ow-z]
					clear(r[:lo])
					clear(r[hi:])
				}
			}
			continue
		}
		for oy := a; oy < b; oy++ {
			r := d[oy*ow-z : (oy+1)*ow-z]
			clear(r[:lo])
			clear(r[hi:])
			iy := oy*p.StrideH + iy0
			src := plane[iy*p.W : (iy+1)*p.W]
			switch sw {
			case 1:
				copy(r[lo:hi], src[lo+off:hi+off])
			case 2:
				gatherS2(r[lo:hi], src[2*lo+off:2*(hi-1)+off+1])
			default:
				s := src[lo*sw+off : (hi-1)*sw+off+1]
				rr := r[lo:hi]
				for i := range rr {
					rr[i] = s[i*sw]
				}
			}
		}
	}
}

// gatherS2Go sets dst[i] = src[2i]; src holds at least 2·len(dst)-1
// elements.
func gatherS2Go(dst, src []float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	src = src[:2*n-1]
	i := 0
	for ; i+4 <= n; i += 4 {
		s := src[2*i : 2*i+7]
		d := dst[i : i+4]
		d[0], d[1], d[2], d[3] = s[0], s[2], s[4], s[6]
	}
	for ; i < n; i++ {
		dst[i] = src[2*i]
	}
}
