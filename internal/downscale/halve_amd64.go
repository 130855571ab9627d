//go:build amd64 && !purego

package downscale

import "github.com/veilkit/veil/internal/simd"

// useAVX2 selects the assembly kernel, as simd.Current allows (the CPU,
// capped by VEIL_SIMD); tests turn it off to check the portable code.
var useAVX2 = simd.Current() >= simd.AVX2

//go:noescape
func halvePairsAVX2(dst *uint8, n int, a, b *uint8)

// halvePairsAsm writes the means of as many whole 2×2 blocks of rows a
// and b into out as an assembly kernel takes (a multiple of 8, out of at
// most len(out)/4) and returns how many.
func halvePairsAsm(out, a, b []uint8) int {
	n := min(len(out)/4, len(a)/8, len(b)/8) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	halvePairsAVX2(&out[0], n, &a[0], &b[0])
	return n
}
