//go:build amd64 && !purego

package kern

import "testing"

// kernelSets are the kernel sets a CPU may use, best first.
var kernelSets = []struct {
	name         string
	avx2, avx512 bool
}{
	{"avx512", true, true},
	{"avx2", true, false},
	{"go", false, false},
}

// forKernelSets calls f with each kernel set the CPU supports in force.
func forKernelSets(t *testing.T, f func(t *testing.T)) {
	avx2, avx512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = avx2, avx512 }()
	for _, k := range kernelSets {
		if k.avx2 && !avx2 || k.avx512 && !avx512 {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			useAVX2, useAVX512 = k.avx2, k.avx512
			f(t)
		})
	}
}

// TestKernelSets runs the depthwise, pooling and im2col tests on each kernel set
// the CPU supports: AVX-512, AVX2 and pure Go.
func TestKernelSets(t *testing.T) {
	t.Logf("AVX2 %v, AVX-512 %v", useAVX2, useAVX512)
	forKernelSets(t, func(t *testing.T) {
		testDepthwise(t)
		testDepthwiseModelShapes(t)
		TestDepthwiseNaN(t)
		testGuarded(t)
		testPool(t)
		testIm2col(t)
		testGatherS2(t)
	})
}

// BenchmarkDepthwiseKernels times the depthwise cases of
// BenchmarkDepthwise on one thread with each kernel set.
func BenchmarkDepthwiseKernels(b *testing.B) {
	avx2, avx512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = avx2, avx512 }()
	for _, k := range kernelSets {
		if k.avx2 && !avx2 || k.avx512 && !avx512 {
			continue
		}
		useAVX2, useAVX512 = k.avx2, k.avx512
		b.Run(k.name, func(b *testing.B) { benchDepthwise(b, []int{1}) })
	}
}
