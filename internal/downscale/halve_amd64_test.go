//go:build amd64 && !purego

package downscale

import (
	"bytes"
	"image"
	"testing"
)

// TestHalveAsm checks the assembly kernel against the portable code on
// widths around its 8-pixel steps, odd ones too, at offsets.
func TestHalveAsm(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	img := noise(image.Rect(-5, -3, 200, 40))
	for w := 1; w <= 70; w++ {
		for _, x0 := range []int{-5, 0, 3} {
			r := image.Rect(x0, -3, x0+w, 6)
			got := Halve(img, r, nil)
			useAVX2 = false
			want := Halve(img, r, nil)
			useAVX2 = true
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("%v: the kernel's pixels differ from the portable code's", r)
			}
		}
	}
}
