// Package testimg builds model input tensors from images by one fixed,
// deterministic rule, shared by the golden-output generator and the
// runtime's tests.
package testimg

import "image"

// Input turns img into a model input of the given shape ([1,3,H,W], or
// [1,H,W,3] when nhwc): stretch to H×W by nearest neighbour with integer
// math only (sx = x*Wimg/W, sy = y*Himg/H), channels in RGB order (BGR when
// bgr), value = (raw - mean[c]) / std[c] with raw 0..255 and c the tensor's
// channel index. bench/cmd/goldenimg made onnx/testdata/golden_street.json
// with it, and the runtime's golden test feeds the same tensors.
func Input(img image.Image, shape []int, bgr, nhwc bool, mean, std []float32) []float32 {
	h, w := shape[2], shape[3]
	if nhwc {
		h, w = shape[1], shape[2]
	}
	b := img.Bounds()
	data := make([]float32, 3*h*w)
	for y := 0; y < h; y++ {
		sy := b.Min.Y + y*b.Dy()/h
		for x := 0; x < w; x++ {
			sx := b.Min.X + x*b.Dx()/w
			r, g, bl, _ := img.At(sx, sy).RGBA()
			px := [3]float32{float32(r >> 8), float32(g >> 8), float32(bl >> 8)}
			if bgr {
				px[0], px[2] = px[2], px[0]
			}
			for c := 0; c < 3; c++ {
				v := (px[c] - mean[c]) / std[c]
				if nhwc {
					data[(y*w+x)*3+c] = v
				} else {
					data[(c*h+y)*w+x] = v
				}
			}
		}
	}
	return data
}
