//go:build amd64 && !purego

package kern

import "github.com/veilkit/veil/internal/simd"

// useAVX2 selects the AVX2 (with FMA) kernels and useAVX512 the AVX-512
// ones, as simd.Current allows (the CPU, capped by VEIL_SIMD). Tests set
// them to exercise each kernel set the CPU has.
var (
	useAVX2   = simd.Current() >= simd.AVX2
	useAVX512 = simd.Current() >= simd.AVX512
)

// The plane kernels compute oh×ow outputs o[y·ow+x] = act(a.bias +
// Σ w[kw·r+k]·in[(y·sh+r·dh)·wp + x·sw + k·d]) over a padded input plane
// with rows of wp elements that holds every window. ow must be at least 8.

//go:noescape
func dw3s1PlaneAVX2(o *float32, oh, ow int, in *float32, wp, sh, dh, d int, w *[9]float32, a *clampArgs)

//go:noescape
func dw3s2PlaneAVX2(o *float32, oh, ow int, in *float32, wp, sh, dh int, w *[9]float32, a *clampArgs)

//go:noescape
func dwS1PlaneAVX2(o *float32, oh, ow int, in *float32, wp, sh, dh, kh, kw, d int, w *float32, a *clampArgs)

// dwPlaneAsm computes the output plane out of p from the padded input
// plane src with rows of wp elements, if an assembly kernel fits p.
func dwPlaneAsm(p *Conv2DParams, out, src []float32, wp int, w []float32, ca *clampArgs) bool {
	oh, ow := p.OutH, p.OutW
	if !useAVX2 || oh < 1 || ow < 8 || (ow-1)*p.StrideW+(p.KW-1)*p.DilW >= wp {
		return false
	}
	src = src[:((oh-1)*p.StrideH+(p.KH-1)*p.DilH+1)*wp]
	out = out[:oh*ow]
	w = w[:p.KH*p.KW]
	switch {
	case p.KH == 3 && p.KW == 3 && p.StrideW == 1:
		dw3s1PlaneAVX2(&out[0], oh, ow, &src[0], wp, p.StrideH, p.DilH, p.DilW, (*[9]float32)(w), ca)
	case p.KH == 3 && p.KW == 3 && p.StrideW == 2 && p.DilW == 1:
		dw3s2PlaneAVX2(&out[0], oh, ow, &src[0], wp, p.StrideH, p.DilH, (*[9]float32)(w), ca)
	case p.StrideW == 1:
		dwS1PlaneAVX2(&out[0], oh, ow, &src[0], wp, p.StrideH, p.DilH, p.KH, p.KW, p.DilW, &w[0], ca)
	default:
		return false
	}
	return true
}

// dwGeom is the geometry of a plane for the AVX-512 kernels; its layout
// is described in depthwise512_amd64.s.
type dwGeom struct {
	oh, outRowBytes, blocks, h, inRowBytes, iy0, sh, dh, padLeftBytes, dilBytes int
	lastPair                                                                    int
	fullRuns, edgeBlocks, edgeMaskBytes                                         int
	flatHead, flatInner, flatTail, flatStartBytes, flatRowBytes                 int
}

// s2Idx holds the even then the odd lane indices of a pair of 16-lane
// registers, for deinterleaving stride-2 inputs.
var s2Idx = [32]int32{
	0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
	1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
}

// zeroRow stands in for input rows in the vertical padding of the AVX-512
// kernels, which read at most the row's width from it.
var zeroRow [4096]float32

// The AVX-512 kernels. The Clamp forms apply clampArgs with alpha 1, the
// Leaky forms those with lo = -Inf and hi = +Inf; the masked kernels
// apply any clampArgs.

//go:noescape
func dw3x2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3x2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3d1ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3d1LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3d2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3d2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3d4ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3d4LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5x2ClampAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5x2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5d1ClampAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5d1LeakyAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom, idx *[32]int32)

//go:noescape
func dw3s2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom, idx *[32]int32)

// The flat kernels, for horizontal dilations 1 to 4.

//go:noescape
func dw3Flat1ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat1LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat3ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat3LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat4ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3Flat4LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s1AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5s1AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

// laneMask returns the mask of the lanes i < 16 with lo <= base+i < hi.
func laneMask(base, lo, hi int) uint16 {
	a, b := max(lo-base, 0), min(hi-base, 16)
	if b <= a {
		return 0
	}
	return uint16(1<<b - 1<<a)
}

// Kinds of AVX-512 depthwise kernels.
const (
	dwNone    = iota
	dw3Pairs  // 3×3, strides and dilations 1: two output rows per pass
	dw3Align  // 3×3, stride 1, dilation 1, 2 or 4: taps shifted out of register pairs
	dw5Pairs  // 5×5, strides and dilations 1: two output rows per pass
	dw5Align  // 5×5, stride 1, dilation 1
	dw3S2     // 3×3, stride 2, dilation 1
	dw3Masked // 3×3, stride 1, any dilation: one masked load per tap
	dw5Masked // 5×5, stride 1, any dilation
	dw3Flat   // 3×3, stride 1, dilation 1 to 4, OutW = W: the plane as one row
)

// useFlat enables the flat kernels; tests clear it to exercise the
// kernels that run blocks along each output row.
var useFlat = true

// flatFits reports whether a flat kernel should compute p: 3×3 with
// strides 1, horizontal dilation 1 to 4, and OutW = W. With dilations 1
// the pair kernels are as fast on planes wider than 64 whose width is a
// multiple of 16.
func flatFits(p *Conv2DParams) bool {
	if !useFlat || p.KH != 3 || p.KW != 3 || p.StrideH != 1 || p.StrideW != 1 ||
		p.DilW < 1 || p.DilW > 4 || p.OutW != p.W {
		return false
	}
	if p.DilH == 1 && p.DilW == 1 && p.OutH >= 2 {
		return p.W%16 != 0 || p.W <= 64
	}
	return true
}

// flatKey is what the masks of a flat kernel depend on.
type flatKey struct {
	kh, kw, h, w, outH, dilH, dilW, padTop, padLeft int
}

// flatCache holds the geometry and masks of the flat kernel for the
// last few plane geometries, replaced in turn, so that a model's layers
// do not recompute them on every run.
type flatCache struct {
	e    [8]flatEntry
	n    int // entries in use
	next int // the entry to replace
}

type flatEntry struct {
	key   flatKey
	geom  dwGeom
	masks []uint16
}

// prepareFlat fills s.geom and s.masks for a flat kernel for p, from
// s.flat if it holds them.
func prepareFlat(p *Conv2DParams, s *dwScratch) {
	k := flatKey{p.KH, p.KW, p.H, p.W, p.OutH, p.DilH, p.DilW, p.PadTop, p.PadLeft}
	c := &s.flat
	for i := range c.e[:c.n] {
		if e := &c.e[i]; e.key == k {
			s.geom = e.geom
			s.masks = append(s.masks[:0], e.masks...)
			return
		}
	}
	e := &c.e[c.next]
	c.next = (c.next + 1) % len(c.e)
	c.n = max(c.n, c.next)
	if c.next == 0 {
		c.n = len(c.e)
	}
	e.key = k
	e.masks = flatMasks(p, &e.geom, e.masks)
	s.geom = e.geom
	s.masks = append(s.masks[:0], e.masks...)
}

// flatMasks fills g and returns the masks, in buf if it has room, of a
// flat kernel for p.
//
// The flat kernels treat the output plane as one row of OutH·W outputs
// in 16-lane blocks. Window row ky is then the input plane read as one
// row from offset (ky·DilH-PadTop)·W - PadLeft, and its taps shifted by
// kx·DilW; the lanes of a tap whose column wraps into the next or
// previous row are masked off, and the lanes that would be read from
// outside the plane, whose row lies in the vertical padding, are loaded
// as zeros. The blocks run in three groups: head blocks, inner blocks
// whose loads lie in the plane and whose lanes are all stored, and tail
// blocks. The masks are those of the first 16 elements of each window
// row, then per block the column masks of its KW taps, for head and
// tail blocks followed by those of the next 16 elements of each window
// row and by the store lanes.
func flatMasks(p *Conv2DParams, g *dwGeom, buf []uint16) []uint16 {
	w, total, hw := p.W, p.OutH*p.W, p.H*p.W
	blocks := (total + 15) / 16
	so := func(ky int) int { return (ky*p.DilH-p.PadTop)*w - p.PadLeft }
	inner := func(b int) bool {
		if 16*(b+1) > total {
			return false
		}
		for ky := 0; ky < p.KH; ky++ {
			if 16*(b+1)+so(ky) < 0 || 16*(b+2)+so(ky) > hw {
				return false
			}
		}
		return true
	}
	head := 0
	for head < blocks && !inner(head) {
		head++
	}
	n := head
	for n < blocks && inner(n) {
		n++
	}
	*g = dwGeom{
		flatHead:       head,
		flatInner:      n - head,
		flatTail:       blocks - n,
		flatStartBytes: 4 * so(0),
		flatRowBytes:   4 * p.DilH * w,
	}
	edge := p.KW + p.KH + 1 // masks per head or tail block
	m := grow(buf, p.KH+(blocks-(n-head))*edge+(n-head)*p.KW)[:0]
	for ky := 0; ky < p.KH; ky++ {
		m = append(m, laneMask(so(ky), 0, hw))
	}
	for b := range blocks {
		q0 := 16 * b
		for kx := 0; kx < p.KW; kx++ {
			x0 := max(p.PadLeft-kx*p.DilW, 0)   // the first output column whose tap lies in the row
			x1 := min(w+p.PadLeft-kx*p.DilW, w) // and the end
			var cm uint16
			for oy := q0 / w; oy*w < min(q0+16, total); oy++ {
				cm |= laneMask(q0, oy*w+x0, oy*w+x1)
			}
			m = append(m, cm)
		}
		if b >= head && b < n {
			continue
		}
		for ky := 0; ky < p.KH; ky++ {
			m = append(m, laneMask(q0+16+so(ky), 0, hw))
		}
		m = append(m, laneMask(q0, 0, total))
	}
	return m
}

// dwPrepare reports whether an AVX-512 kernel can compute the planes of p
// straight from the unpadded input, and if so records it and its
// geometry in s and fills s.masks for it, for 16-lane blocks of output
// columns. For the align kernels the masks are the lanes of the first
// 16-column load of a row, then per block the lanes of the load of the
// next 16 columns and the lanes to store; for stride 2 the lanes of the
// two loads of the first 32 columns, then per block the lanes of the two
// loads of the next block's 32 columns and the lanes to store. For the
// masked kernels they are per block the lanes of each tap load and the
// lanes to store. A lane is loaded only if its column lies in the row.
func dwPrepare(p *Conv2DParams, s *dwScratch) bool {
	s.kind = dwNone
	if !useAVX512 || p.W > len(zeroRow) || p.OutH < 1 || p.OutW < 1 {
		return false
	}
	k3, k5 := p.KH == 3 && p.KW == 3, p.KH == 5 && p.KW == 5
	pairs := p.StrideH == 1 && p.DilH == 1 && p.OutH >= 2
	switch {
	case flatFits(p):
		s.kind = dw3Flat
		prepareFlat(p, s)
		return true
	case k3 && p.StrideW == 1 && p.DilW == 1 && pairs:
		s.kind = dw3Pairs
	case k3 && p.StrideW == 1 && (p.DilW == 1 || p.DilW == 2 || p.DilW == 4):
		s.kind = dw3Align
	case k5 && p.StrideW == 1 && p.DilW == 1 && pairs:
		s.kind = dw5Pairs
	case k5 && p.StrideW == 1 && p.DilW == 1:
		s.kind = dw5Align
	case k3 && p.StrideW == 2 && p.DilW == 1:
		s.kind = dw3S2
	case k3 && p.StrideW == 1:
		s.kind = dw3Masked
	case k5 && p.StrideW == 1:
		s.kind = dw5Masked
	default:
		return false
	}
	blocks := (p.OutW + 15) / 16
	s.geom = dwGeom{
		oh: p.OutH, outRowBytes: 4 * p.OutW, blocks: blocks,
		h: p.H, inRowBytes: 4 * p.W, iy0: -p.PadTop, sh: p.StrideH, dh: p.DilH,
		padLeftBytes: 4 * p.PadLeft, dilBytes: 4 * p.DilW, lastPair: 0xffff,
	}
	if s.kind == dw3Pairs || s.kind == dw5Pairs {
		s.geom.oh = (p.OutH + 1) / 2
		if p.OutH%2 != 0 {
			s.geom.lastPair = 0
		}
	}
	// full counts the leading blocks whose next load lies in the row and
	// whose outputs are all stored: they need no masks.
	full, step := 0, 16 // step: input columns per block
	if s.kind == dw3S2 {
		step = 32
	}
	for full < blocks && step*(full+2)-p.PadLeft <= p.W && 16*(full+1) <= p.OutW {
		full++
	}
	switch s.kind {
	case dw3Pairs:
		s.geom.fullRuns = full / 2 // the loop runs pairs of blocks
		full = 2 * s.geom.fullRuns
		s.geom.edgeMaskBytes = 4 * full
	case dw3S2:
		s.geom.fullRuns = full
		s.geom.edgeMaskBytes = 6 * full
	default:
		s.geom.fullRuns = full
		s.geom.edgeMaskBytes = 4 * full
	}
	s.geom.edgeBlocks = blocks - full
	switch s.kind {
	case dw3S2:
		s.masks = grow(s.masks, 2+3*blocks)
		s.masks[0] = laneMask(-p.PadLeft, 0, p.W)
		s.masks[1] = laneMask(16-p.PadLeft, 0, p.W)
		for b := range blocks {
			c := 32*(b+1) - p.PadLeft
			s.masks[2+3*b] = laneMask(c, 0, p.W)
			s.masks[3+3*b] = laneMask(c+16, 0, p.W)
			s.masks[4+3*b] = laneMask(16*b, 0, p.OutW)
		}
	case dw3Masked, dw5Masked:
		n := p.KW + 1 // masks per block
		s.masks = grow(s.masks, blocks*n)
		for b := range blocks {
			x0 := 16 * b
			m := s.masks[b*n : (b+1)*n]
			store := laneMask(x0, 0, p.OutW)
			m[n-1] = store
			for k := 0; k < p.KW; k++ {
				m[k] = laneMask(x0-p.PadLeft+k*p.DilW, 0, p.W) & store
			}
		}
	default:
		s.masks = grow(s.masks, 1+2*blocks)
		s.masks[0] = laneMask(-p.PadLeft, 0, p.W)
		for b := range blocks {
			s.masks[1+2*b] = laneMask(16*(b+1)-p.PadLeft, 0, p.W)
			s.masks[2+2*b] = laneMask(16*b, 0, p.OutW)
		}
	}
	return true
}

// dwPlaneDirect computes the output plane out of p from the input plane
// in with the AVX-512 kernel dwPrepare chose.
func dwPlaneDirect(p *Conv2DParams, out, in, w []float32, ca *clampArgs, s *dwScratch) {
	out = out[:p.OutH*p.OutW]
	in = in[:p.H*p.W]
	g := s.geom // the kernels may count down g.oh
	o, i, z, m := &out[0], &in[0], &zeroRow[0], &s.masks[0]
	clamp := ca.alpha == 1
	switch s.kind {
	case dw3Pairs:
		if clamp {
			dw3x2ClampAVX512(o, i, z, m, (*[9]float32)(w), ca, &g)
		} else {
			dw3x2LeakyAVX512(o, i, z, m, (*[9]float32)(w), ca, &g)
		}
	case dw3Align:
		w9 := (*[9]float32)(w)
		switch {
		case p.DilW == 1 && clamp:
			dw3d1ClampAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 1:
			dw3d1LeakyAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 2 && clamp:
			dw3d2ClampAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 2:
			dw3d2LeakyAVX512(o, i, z, m, w9, ca, &g)
		case clamp:
			dw3d4ClampAVX512(o, i, z, m, w9, ca, &g)
		default:
			dw3d4LeakyAVX512(o, i, z, m, w9, ca, &g)
		}
	case dw5Pairs:
		if clamp {
			dw5x2ClampAVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
		} else {
			dw5x2LeakyAVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
		}
	case dw5Align:
		if clamp {
			dw5d1ClampAVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
		} else {
			dw5d1LeakyAVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
		}
	case dw3S2:
		if clamp {
			dw3s2ClampAVX512(o, i, z, m, (*[9]float32)(w), ca, &g, &s2Idx)
		} else {
			dw3s2LeakyAVX512(o, i, z, m, (*[9]float32)(w), ca, &g, &s2Idx)
		}
	case dw3Flat:
		w9 := (*[9]float32)(w)
		switch {
		case p.DilW == 1 && clamp:
			dw3Flat1ClampAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 1:
			dw3Flat1LeakyAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 2 && clamp:
			dw3Flat2ClampAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 2:
			dw3Flat2LeakyAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 3 && clamp:
			dw3Flat3ClampAVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 3:
			dw3Flat3LeakyAVX512(o, i, z, m, w9, ca, &g)
		case clamp:
			dw3Flat4ClampAVX512(o, i, z, m, w9, ca, &g)
		default:
			dw3Flat4LeakyAVX512(o, i, z, m, w9, ca, &g)
		}
	case dw3Masked:
		dw3s1AVX512(o, i, z, m, (*[9]float32)(w), ca, &g)
	case dw5Masked:
		dw5s1AVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
	}
}
