//go:build amd64 && !purego

package vmath

import "github.com/veilkit/veil/internal/simd"

// haveAVX2 selects the AVX2 kernels, as simd.Current allows (the CPU,
// capped by VEIL_SIMD).
var haveAVX2 = simd.Current() >= simd.AVX2

//go:noescape
func logisticAVX2(dst, src *float32, n int)

//go:noescape
func hardSwishAVX2(dst, src *float32, n int, scale float32)
