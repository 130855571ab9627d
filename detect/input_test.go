package detect

import (
	"image"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestTensorIntoParallel checks that the input passes give the same
// tensor, bit for bit, whether their rows are split over cores or not:
// a straight copy, a downscale, an upscale, NCHW and NHWC, RGB and BGR.
func TestTensorIntoParallel(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 700, 500))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	norms := []Norm{
		{Mean: [3]float32{1, 2, 3}, Std: [3]float32{50, 60, 70}},
		{BGR: true, NHWC: true, Mean: [3]float32{127, 127, 127}, Std: [3]float32{128, 128, 128}},
	}
	for _, tt := range []struct {
		r    image.Rectangle
		w, h int
	}{
		{image.Rect(10, 20, 650, 500), 640, 480}, // a straight copy
		{img.Rect, 416, 300},                     // a downscale
		{image.Rect(0, 0, 320, 240), 640, 480},   // an upscale
	} {
		for _, n := range norms {
			run := func(procs int) []float32 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				dst := make([]float32, 3*tt.w*tt.h)
				TensorInto(dst, tt.w, tt.h, img, tt.r, tt.w, tt.h, n)
				return dst
			}
			serial, parallel := run(1), run(4)
			if !slices.Equal(serial, parallel) {
				t.Errorf("%v to %dx%d %+v: the tensor split over 4 cores differs from one core's", tt.r, tt.w, tt.h, n)
			}
		}
	}
}
