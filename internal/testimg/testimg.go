// Package testimg builds model input tensors from images by one fixed,
// deterministic rule, shared by the golden-output generator and the
// runtime's tests.
package testimg

import (
	"image"

	"github.com/veilkit/veil/internal/modelpath"
)

// Input turns img into a model input of the given shape ([1,3,H,W], or
// [1,H,W,3] when nhwc) by modelpath.Input.Data's rule: channels in RGB
// order (BGR when bgr), value = (raw - mean[c]) / std[c]. The runtime's
// golden test feeds the tensors bench/cmd/goldenimg made its outputs from.
func Input(img image.Image, shape []int, bgr, nhwc bool, mean, std []float32) []float32 {
	in := modelpath.Input{BGR: bgr, NHWC: nhwc}
	copy(in.Mean[:], mean)
	copy(in.Std[:], std)
	return in.Data(img, shape)
}
