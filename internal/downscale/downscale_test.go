package downscale

import (
	"image"
	"math/rand/v2"
	"testing"
)

// noise returns an image over r of random pixels, alpha included.
func noise(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	return img
}

// TestHalve checks Halve's packed arithmetic against plain 2×2 means on
// even and odd sizes, at an offset region.
func TestHalve(t *testing.T) {
	img := noise(image.Rect(-3, 2, 97, 82))
	for _, r := range []image.Rectangle{
		image.Rect(-3, 2, 61, 50),
		image.Rect(13, 7, 13+65, 7+49),
		image.Rect(5, 3, 6, 4), // one pixel
		image.Rect(1, 3, 4, 4), // one odd row
	} {
		h := Halve(img, r, nil)
		if want := image.Rect(0, 0, (r.Dx()+1)/2, (r.Dy()+1)/2); h.Rect != want {
			t.Fatalf("%v: halved to %v, want %v", r, h.Rect, want)
		}
		for y := 0; y < h.Rect.Dy(); y++ {
			for x := 0; x < h.Rect.Dx(); x++ {
				x0, y0 := r.Min.X+2*x, r.Min.Y+2*y
				x1, y1 := min(x0+1, r.Max.X-1), min(y0+1, r.Max.Y-1)
				var want [4]uint32
				for _, p := range []image.Point{{x0, y0}, {x1, y0}, {x0, y1}, {x1, y1}} {
					c := img.RGBAAt(p.X, p.Y)
					want[0] += uint32(c.R)
					want[1] += uint32(c.G)
					want[2] += uint32(c.B)
					want[3] += uint32(c.A)
				}
				got := h.Pix[h.PixOffset(x, y):][:4]
				for c := range want {
					if w := uint8((want[c] + 2) / 4); got[c] != w {
						t.Fatalf("%v: (%d,%d) channel %d = %d, want %d", r, x, y, c, got[c], w)
					}
				}
			}
		}
	}
}

// TestHalveBuffer checks that Halve writes into a buffer long enough and
// allocates when it is not.
func TestHalveBuffer(t *testing.T) {
	img := noise(image.Rect(0, 0, 10, 10))
	buf := make([]uint8, 4*5*5)
	if h := Halve(img, img.Rect, buf); &h.Pix[0] != &buf[0] {
		t.Error("a long enough buffer was not used")
	}
	if h := Halve(img, img.Rect, buf[:10:10]); len(h.Pix) != 4*5*5 {
		t.Errorf("short buffer: %d bytes of pixels, want %d", len(h.Pix), 4*5*5)
	}
}

// BenchmarkHalve1080p halves a 1080p frame, as the detectors do with a
// video frame for their scaled inputs.
func BenchmarkHalve1080p(b *testing.B) {
	img := noise(image.Rect(0, 0, 1920, 1080))
	buf := make([]uint8, 4*960*540)
	b.SetBytes(int64(len(img.Pix)))
	for b.Loop() {
		Halve(img, img.Rect, buf)
	}
}
