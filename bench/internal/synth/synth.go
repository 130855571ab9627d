// Package synth lists the models the benchmarks time and builds their
// synthetic inputs: the rule of onnxruntime's golden outputs,
// raw[c][y][x] = (x*7 + y*13 + c*29) % 256, value = (raw-mean[c])/std[c]
// (see ../shared/models/GOLDEN_synthetic_outputs.json and MANIFEST.md).
package synth

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/veilkit/veil/internal/modelpath"
)

// A Spec is one model and its input.
type Spec struct {
	Path       string // relative to the models folder
	Input      string
	Shape      []int
	Mean, Std  [3]float32
	NHWC       bool   // channel axis last
	NotShipped string // why the model is not in models/; "" if it is
}

// Find returns the path of s's model in dir or, failing that, in the
// shared models folder, or a note saying why it is in neither.
func (s Spec) Find(dir string) (path, note string) {
	return modelpath.Find(dir, s.Path, s.NotShipped)
}

// Specs lists every model in models/ but YOLOX, and the selfie
// segmenter; the first NumDefault (published reference timings) are the
// default set. Their inputs are modelpath.Inputs'; dynamic ones get the
// shape given here.
var Specs = specs([]struct {
	file string
	h, w int // of a dynamic input
}{
	{"face/yunet_n_640_640.onnx", 0, 0},
	{"face/yunet_n_320_320.onnx", 0, 0},
	{"plate/lpd_yunet_2023mar.onnx", 0, 0},
	{"object/nanodet_m_416.onnx", 0, 0},
	{"object/fastestdet_352.onnx", 0, 0},
	{"face/ultraface_rfb_320.onnx", 0, 0},
	// "all" adds these:
	{"face/ultraface_rfb_640.onnx", 0, 0},
	{"face/ultraface_slim_320.onnx", 0, 0},
	{"face/yunet_n_dynamic.onnx", 256, 384},
	{"face/yunet_s_640_640.onnx", 0, 0},
	{"seg/deeplabv3_mnv2_voc_257.onnx", 0, 0},
	{"seg/mediapipe_selfie_seg_256.onnx", 0, 0},
})

func specs(list []struct {
	file string
	h, w int
}) []Spec {
	var out []Spec
	for _, e := range list {
		in, ok := modelpath.Lookup(e.file)
		if !ok {
			panic("synth: " + e.file + " is not in modelpath.Inputs")
		}
		out = append(out, Spec{e.file, in.Name, in.Shape(e.h, e.w), in.Mean, in.Std, in.NHWC, in.NotShipped})
	}
	return out
}

// NumDefault is how many of Specs the default set holds.
const NumDefault = 6

// InputData builds the synthetic input tensor data for s.
func (s Spec) InputData() []float32 {
	n, c, h, w := s.Shape[0], s.Shape[1], s.Shape[2], s.Shape[3]
	if s.NHWC {
		h, w, c = s.Shape[1], s.Shape[2], s.Shape[3]
	}
	data := make([]float32, 0, n*c*h*w)
	for range n {
		if s.NHWC {
			for y := range h {
				for x := range w {
					for ch := range c {
						data = append(data, s.value(ch, y, x))
					}
				}
			}
			continue
		}
		for ch := range c {
			for y := range h {
				for x := range w {
					data = append(data, s.value(ch, y, x))
				}
			}
		}
	}
	return data
}

func (s Spec) value(c, y, x int) float32 {
	raw := float32((x*7 + y*13 + c*29) % 256)
	return (raw - s.Mean[c%3]) / s.Std[c%3]
}

// Select returns the models a comma-separated list names (a path under
// the models folder, or a base name without .onnx): "" is the default
// set, "all" every model.
func Select(list string) ([]Spec, error) {
	switch list {
	case "":
		return Specs[:NumDefault], nil
	case "all":
		return Specs, nil
	}
	var out []Spec
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(Specs, func(s Spec) bool {
			return s.Path == name || strings.TrimSuffix(filepath.Base(s.Path), ".onnx") == strings.TrimSuffix(name, ".onnx")
		})
		if i < 0 {
			return nil, fmt.Errorf("unknown model %q", name)
		}
		out = append(out, Specs[i])
	}
	return out, nil
}
