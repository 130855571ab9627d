//go:build amd64 && !purego

package kern

import "testing"

// TestDepthwiseKernels runs the depthwise tests on each kernel set the
// CPU supports: AVX-512, AVX2 and pure Go.
func TestDepthwiseKernels(t *testing.T) {
	avx2, avx512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = avx2, avx512 }()
	t.Logf("AVX2 %v, AVX-512 %v", avx2, avx512)
	for _, k := range []struct {
		name         string
		avx2, avx512 bool
	}{
		{"avx512", avx2, avx512},
		{"avx2", avx2, false},
		{"go", false, false},
	} {
		if k.avx2 != avx2 && k.avx2 || k.avx512 != avx512 && k.avx512 {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			useAVX2, useAVX512 = k.avx2, k.avx512
			testDepthwise(t)
			testDepthwiseModelShapes(t)
			TestDepthwiseNaN(t)
		})
	}
}
