package onnx

import (
	"context"
	"os"
	"testing"
)

// benchModels are the models with golden inputs: the shipped ones and the
// selfie segmenter, which is not shipped and is read from ../shared/models
// (skipped when that is absent).
var benchModels = []string{
	"face/yunet_n_640_640.onnx",
	"face/yunet_n_320_320.onnx",
	"face/yunet_n_dynamic.onnx",
	"face/yunet_s_640_640.onnx",
	"face/ultraface_rfb_320.onnx",
	"face/ultraface_rfb_640.onnx",
	"face/ultraface_slim_320.onnx",
	"plate/lpd_yunet_2023mar.onnx",
	"object/nanodet_m_416.onnx",
	"object/fastestdet_352.onnx",
	"seg/deeplabv3_mnv2_voc_257.onnx",
	"seg/mediapipe_selfie_seg_256.onnx",
}

// BenchmarkModels times one Session.Run per model at 1 and 2 threads;
// allocs/op should be 0 after warm-up.
func BenchmarkModels(b *testing.B) {
	golden := map[string]goldenModel{}
	for _, f := range []string{"testdata/golden_synthetic_outputs.json", "testdata/golden_extra.json"} {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		for k, v := range loadGolden(b, f).Models {
			golden[k] = v
		}
	}
	for _, name := range benchModels {
		gm, ok := golden[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			data, err := os.ReadFile(modelPath(b, name))
			if err != nil {
				b.Fatal(err)
			}
			for _, threads := range []int{1, 2} {
				b.Run("threads="+string(rune('0'+threads)), func(b *testing.B) {
					m, err := Load(data, Options{Threads: threads})
					if err != nil {
						b.Fatal(err)
					}
					s := m.NewSession()
					in := map[string]*Tensor{gm.Input: syntheticInput(gm.InputShape, gm.Mean, gm.Std)}
					ctx := context.Background()
					if _, err := s.Run(ctx, in); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if _, err := s.Run(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
