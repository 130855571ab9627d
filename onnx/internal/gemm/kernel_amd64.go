//go:build !purego

package gemm

import "github.com/veilkit/veil/internal/simd"

//go:generate go run ./asm -out gemm_amd64.s -stubs stub_amd64.go -pkg gemm

type asmKernel func(a, b *float32, bRow, bPanel uintptr, c *float32, ldc uintptr, k, n int, flags uint64, bias, add *float32, alpha, lo, hi float32)

var (
	avx512Kernels = [...]asmKernel{nil, kernAVX512R1, kernAVX512R2, kernAVX512R3, kernAVX512R4,
		kernAVX512R5, kernAVX512R6, kernAVX512R7, kernAVX512R8}
	avx2Kernels = [...]asmKernel{nil, kernAVX2R1, kernAVX2R2, kernAVX2R3, kernAVX2R4,
		kernAVX2R5, kernAVX2R6}

	avx512Set = kernelSet{name: "avx512", id: kernelAVX512, mr: 8, nr: 48, vec: 16}
	avx2Set   = kernelSet{name: "avx2", id: kernelAVX2, mr: 6, nr: 16, vec: 8}

	// hasAVX512 and hasAVX2 report what the CPU can run, whatever
	// VEIL_SIMD says; tests run every family it can.
	hasAVX512 = simd.Detected() >= simd.AVX512
	hasAVX2   = simd.Detected() >= simd.AVX2
)

// kern is the kernel family used by PackA and Gemm: the best one
// simd.Current allows (the CPU, capped by VEIL_SIMD).
var kern = func() *kernelSet {
	switch simd.Current() {
	case simd.AVX512:
		return &avx512Set
	case simd.AVX2:
		return &avx2Set
	}
	return &goKernels
}()

// kernelSets lists the kernel families this machine can run.
func kernelSets() []*kernelSet {
	sets := []*kernelSet{}
	if hasAVX512 {
		sets = append(sets, &avx512Set)
	}
	if hasAVX2 {
		sets = append(sets, &avx2Set)
	}
	return append(sets, &goKernels)
}

func runStrip(id kernelID, s *strip) {
	switch id {
	case kernelAVX512:
		callAsm(avx512Kernels[s.r], s)
	case kernelAVX2:
		callAsm(avx2Kernels[s.r], s)
	default:
		stripGo(s)
	}
}

func callAsm(f asmKernel, s *strip) {
	var bias, add *float32
	if s.flags&flagBias != 0 {
		bias = &s.bias[0]
	}
	if s.flags&flagAdd != 0 {
		add = &s.add[0]
	}
	f(&s.a[0], &s.b[0], uintptr(4*s.ldb), uintptr(4*s.bPanel), &s.c[0], uintptr(4*s.ldc),
		s.k, s.n, s.flags, bias, add, s.alpha, s.lo, s.hi)
}
