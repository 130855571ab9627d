package kern

import "fmt"

// Im2col writes into col the [C·KH·KW][OutH·OutW] matrix of one image
// in, [C][H][W], for a convolution described by p (p.N is ignored): row
// (c·KH+ky)·KW+kx holds, for every output pixel, the input value under
// window tap (ky, kx) of channel c, or zero in the padding. For a grouped
// convolution pass the channels of one group as C and that group's input.
func Im2col(p *Conv2DParams, in []float32, col []float32) {
	ohw := p.OutH * p.OutW
	if len(in) < p.C*p.H*p.W {
		panic(fmt.Sprintf("kern: im2col input has %d elements, want %d", len(in), p.C*p.H*p.W))
	}
	if len(col) < p.C*p.KH*p.KW*ohw {
		panic(fmt.Sprintf("kern: im2col matrix has %d elements, want %d", len(col), p.C*p.KH*p.KW*ohw))
	}
	sw := p.StrideW
	for c := 0; c < p.C; c++ {
		plane := in[c*p.H*p.W : (c+1)*p.H*p.W]
		for ky := 0; ky < p.KH; ky++ {
			for kx := 0; kx < p.KW; kx++ {
				r := (c*p.KH+ky)*p.KW + kx
				dst := col[r*ohw : (r+1)*ohw]
				off := kx*p.DilW - p.PadLeft // ix = ox·sw + off
				lo, hi := 0, 0
				if off < 0 {
					lo = (-off + sw - 1) / sw
				}
				if last := p.W - 1 - off; last >= 0 {
					hi = last/sw + 1
				}
				hi = min(hi, p.OutW)
				lo = min(lo, hi)
				for oy := 0; oy < p.OutH; oy++ {
					d := dst[oy*p.OutW : (oy+1)*p.OutW]
					iy := oy*p.StrideH - p.PadTop + ky*p.DilH
					if iy < 0 || iy >= p.H || lo == hi {
						clear(d)
						continue
					}
					clear(d[:lo])
					clear(d[hi:])
					src := plane[iy*p.W : (iy+1)*p.W]
					if sw == 1 {
						copy(d[lo:hi], src[lo+off:hi+off])
						continue
					}
					src = src[lo*sw+off : (hi-1)*sw+off+1]
					dd := d[lo:hi]
					for i := range dd {
						dd[i] = src[i*sw]
					}
				}
			}
		}
	}
}
