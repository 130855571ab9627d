//go:build amd64 && !purego

package kern

// useAVX2 reports whether the CPU and OS support AVX2 and FMA, and
// useAVX512 whether they also support AVX-512F. Tests clear them to
// exercise the other kernels.
var (
	useAVX2   = detectAVX2()
	useAVX512 = useAVX2 && detectAVX512()
)

func detectAVX2() bool {
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if lo, _ := xgetbv(); lo&6 != 6 { // XMM and YMM state enabled
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}

func detectAVX512() bool {
	_, b7, _, _ := cpuid(7, 0)
	lo, _ := xgetbv()
	return b7&(1<<16) != 0 && lo&0xe6 == 0xe6 // AVX512F; opmask and ZMM state enabled
}

//go:noescape
func cpuid(eax, ecx uint32) (a, b, c, d uint32)

//go:noescape
func xgetbv() (lo, hi uint32)

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
)

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
	case dw3Masked:
		dw3s1AVX512(o, i, z, m, (*[9]float32)(w), ca, &g)
	case dw5Masked:
		dw5s1AVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
	}
}
