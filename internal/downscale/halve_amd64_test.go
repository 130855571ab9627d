//go:build amd64 && !purego

package downscale

import (
	"bytes"
	"image"
	"testing"

	"github.com/veilkit/veil/internal/simd"
)

// TestHalveAsm checks the assembly kernel against the portable code on
// widths around its 8-pixel steps, odd ones too, at offsets.
func TestHalveAsm(t *testing.T) {
	if simd.Detected() < simd.AVX2 {
		t.Skip("the CPU has no AVX2")
	}
	defer func(use bool) { useAVX2 = use }(useAVX2)
	img := noise(image.Rect(-5, -3, 200, 40))
	for w := 1; w <= 70; w++ {
		for _, x0 := range []int{-5, 0, 3} {
			r := image.Rect(x0, -3, x0+w, 6)
			useAVX2 = true
			got := Halve(img, r, nil)
			useAVX2 = false
			want := Halve(img, r, nil)
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%v: the kernel's pixels differ from the portable code's", r)
			}
		}
	}
}
