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

// dwGeom is the geometry of a plane for the AVX-512 kernels.
type dwGeom struct {
	oh, outRowBytes, blocks, h, inRowBytes, iy0, sh, dh, padLeftBytes, dilBytes int
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

//go:noescape
func dw3s1AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s1d1AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s1d2AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s1d4AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s1x2AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5s1d1AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5s1x2AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw5s1AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)

//go:noescape
func dw3s2AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom, idx *[32]int32)

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
	dw3Align  // 3×3, stride 1, dilation 1, 2 or 4: taps shifted out of register pairs
	dw5Align  // 5×5, stride 1, dilation 1
	dw3Masked // 3×3, stride 1, any dilation: one masked load per tap
	dw5Masked // 5×5, stride 1, any dilation
	dw3S2     // 3×3, stride 2, dilation 1
)

// dwPrepare reports whether an AVX-512 kernel can compute the planes of p
// straight from the unpadded input, and if so records it in s.kind and
// fills s.masks for it. For the align kernels the masks are the lanes of
// the first 16-column load of a row, then per 16-lane block of outputs
// the lanes of the next load and the lanes to store. For the masked
// kernels they are per block the lanes of each tap load (for stride 2, of
// the loads at input columns 2·x0-PadLeft plus 0, 16, 2 and 18) and the
// lanes to store. A lane is loaded only if its column lies in the row.
func dwPrepare(p *Conv2DParams, s *dwScratch) bool {
	s.kind = dwNone
	if !useAVX512 || p.W > len(zeroRow) || p.OutH < 1 || p.OutW < 1 {
		return false
	}
	k3, k5 := p.KH == 3 && p.KW == 3, p.KH == 5 && p.KW == 5
	switch {
	case k3 && p.StrideW == 1 && (p.DilW == 1 || p.DilW == 2 || p.DilW == 4):
		s.kind = dw3Align
	case k5 && p.StrideW == 1 && p.DilW == 1:
		s.kind = dw5Align
	case k3 && p.StrideW == 1:
		s.kind = dw3Masked
	case k5 && p.StrideW == 1:
		s.kind = dw5Masked
	case k3 && p.StrideW == 2 && p.DilW == 1:
		s.kind = dw3S2
	default:
		return false
	}
	blocks := (p.OutW + 15) / 16
	if s.kind == dw3Align || s.kind == dw5Align {
		s.masks = grow(s.masks, 1+2*blocks)
		s.masks[0] = laneMask(-p.PadLeft, 0, p.W)
		for b := range blocks {
			s.masks[1+2*b] = laneMask(16*(b+1)-p.PadLeft, 0, p.W)
			s.masks[2+2*b] = laneMask(16*b, 0, p.OutW)
		}
		return true
	}
	n := p.KW + 1 // masks per block
	if s.kind == dw3S2 {
		n = 5
	}
	s.masks = grow(s.masks, blocks*n)
	for b := range blocks {
		x0 := 16 * b
		m := s.masks[b*n : (b+1)*n]
		store := laneMask(x0, 0, p.OutW)
		m[n-1] = store
		if s.kind != dw3S2 {
			for k := 0; k < p.KW; k++ {
				m[k] = laneMask(x0-p.PadLeft+k*p.DilW, 0, p.W) & store
			}
			continue
		}
		c0 := 2*x0 - p.PadLeft
		m[0] = laneMask(c0, 0, p.W)
		m[1] = laneMask(c0+16, 0, p.W)
		m[2] = laneMask(c0+2, 0, p.W)
		m[3] = laneMask(c0+18, 0, p.W)
	}
	return true
}

// dwPlaneDirect computes the output plane out of p from the input plane
// in with the AVX-512 kernel dwPrepare chose.
func dwPlaneDirect(p *Conv2DParams, out, in, w []float32, ca *clampArgs, s *dwScratch) {
	out = out[:p.OutH*p.OutW]
	in = in[:p.H*p.W]
	g := dwGeom{
		oh: p.OutH, outRowBytes: 4 * p.OutW, blocks: (p.OutW + 15) / 16,
		h: p.H, inRowBytes: 4 * p.W, iy0: -p.PadTop, sh: p.StrideH, dh: p.DilH,
		padLeftBytes: 4 * p.PadLeft, dilBytes: 4 * p.DilW,
	}
	o, i, z, m := &out[0], &in[0], &zeroRow[0], &s.masks[0]
	pairs := p.StrideH == 1 && p.DilH == 1 && p.OutH >= 2
	last := &out[(p.OutH-1)*p.OutW] // the row left over after the pairs
	switch s.kind {
	case dw3Align:
		w9 := (*[9]float32)(w)
		switch {
		case p.DilW == 2:
			dw3s1d2AVX512(o, i, z, m, w9, ca, &g)
		case p.DilW == 4:
			dw3s1d4AVX512(o, i, z, m, w9, ca, &g)
		case pairs:
			g.oh = p.OutH / 2
			dw3s1x2AVX512(o, i, z, m, w9, ca, &g)
			if p.OutH%2 != 0 {
				g.oh, g.iy0 = 1, g.iy0+p.OutH-1
				dw3s1d1AVX512(last, i, z, m, w9, ca, &g)
			}
		default:
			dw3s1d1AVX512(o, i, z, m, w9, ca, &g)
		}
	case dw5Align:
		w25 := (*[25]float32)(w)
		if pairs {
			g.oh = p.OutH / 2
			dw5s1x2AVX512(o, i, z, m, w25, ca, &g)
			if p.OutH%2 == 0 {
				return
			}
			g.oh, g.iy0 = 1, g.iy0+p.OutH-1
			o = last
		}
		dw5s1d1AVX512(o, i, z, m, w25, ca, &g)
	case dw3Masked:
		dw3s1AVX512(o, i, z, m, (*[9]float32)(w), ca, &g)
	case dw5Masked:
		dw5s1AVX512(o, i, z, m, (*[25]float32)(w), ca, &g)
	case dw3S2:
		dw3s2AVX512(o, i, z, m, (*[9]float32)(w), ca, &g, &s2Idx)
	}
}
