//go:build amd64 && !purego

package kern

import (
	"testing"

	"github.com/veilkit/veil/internal/simd"
)

// kernelSets are the kernel sets a CPU may use, best first.
var kernelSets = []struct {
	name               string
	avx2, avx512, flat bool
}{
	{"avx512", true, true, true},
	{"avx512-rows", true, true, false}, // without the flat depthwise kernels
	{"avx2", true, false, false},
	{"go", false, false, false},
}

// cpuHas reports whether the CPU can run kernel set k, whatever
// VEIL_SIMD says.
func cpuHas(avx2, avx512 bool) bool {
	return (!avx2 || simd.Detected() >= simd.AVX2) && (!avx512 || simd.Detected() >= simd.AVX512)
}

// forKernelSets calls f with each kernel set the CPU supports in force.
func forKernelSets(t *testing.T, f func(t *testing.T)) {
	avx2, avx512, flat := useAVX2, useAVX512, useFlat
	defer func() { useAVX2, useAVX512, useFlat = avx2, avx512, flat }()
	for _, k := range kernelSets {
		if !cpuHas(k.avx2, k.avx512) {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			useAVX2, useAVX512, useFlat = k.avx2, k.avx512, k.flat
			f(t)
		})
	}
}

// TestKernelSets runs the depthwise, pooling, im2col and resize tests on each kernel set
// the CPU supports: AVX-512, AVX2 and pure Go.
func TestKernelSets(t *testing.T) {
	t.Logf("CPU %v, VEIL_SIMD level %v", simd.Detected(), simd.Current())
	forKernelSets(t, func(t *testing.T) {
		testDepthwise(t)
		testDepthwiseModelShapes(t)
		TestDepthwiseNaN(t)
		testGuarded(t)
		testPool(t)
		testIm2col(t)
		testGatherS2(t)
		testResize(t)
	})
}

// BenchmarkDepthwiseKernels times the depthwise cases of
// BenchmarkDepthwise on one thread with each kernel set.
func BenchmarkDepthwiseKernels(b *testing.B) {
	avx2, avx512, flat := useAVX2, useAVX512, useFlat
	defer func() { useAVX2, useAVX512, useFlat = avx2, avx512, flat }()
	for _, k := range kernelSets {
		if !cpuHas(k.avx2, k.avx512) {
			continue
		}
		useAVX2, useAVX512, useFlat = k.avx2, k.avx512, k.flat
		b.Run(k.name, func(b *testing.B) { benchDepthwise(b, []int{1}) })
	}
}
