package onnx

import (
	"context"
	"encoding/json"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// imageInput turns img into a model input of the given shape ([1,3,H,W], or
// [1,H,W,3] when nhwc): stretch to H×W by nearest neighbour with integer
// math only (sx = x*Wimg/W, sy = y*Himg/H), channels in RGB order (BGR when
// bgr), value = (raw - mean[c]) / std[c] with raw 0..255 and c the tensor's
// channel index.
//
// It must stay equal to imageInput in bench/cmd/goldenimg/main.go, which made
// testdata/golden_street.json: a difference shows up as a TestGoldenStreet
// failure.
func imageInput(img image.Image, shape []int, bgr, nhwc bool, mean, std []float32) []float32 {
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

// streetGolden is the layout of testdata/golden_street.json (written by
// `go run ./bench/cmd/goldenimg`): onnxruntime's outputs for every shipped
// model on a real image.
type streetGolden struct {
	Image  string                 `json:"image"` // relative to the repository root
	Models map[string]streetModel `json:"models"`
}

type streetModel struct {
	goldenModel
	BGR  bool `json:"bgr"`
	NHWC bool `json:"nhwc"`
}

// TestGoldenStreet checks every model against onnxruntime on
// testdata/street.jpg (a street with a bus and two people), where the
// synthetic input of TestGolden is degenerate for some models (the selfie
// segmenter sees no person in it).
func TestGoldenStreet(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_street.json")
	if err != nil {
		t.Fatal(err)
	}
	var g streetGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("..", filepath.FromSlash(g.Image)))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(g.Models))
	for name := range g.Models {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no models in testdata/golden_street.json")
	}
	for _, name := range names {
		gm := g.Models[name]
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(modelPath(t, name))
			if err != nil {
				t.Fatal(err)
			}
			input := NewTensor(gm.InputShape, imageInput(img, gm.InputShape, gm.BGR, gm.NHWC, gm.Mean, gm.Std))
			for _, threads := range []int{1, 2} {
				m, err := Load(data, Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				out, err := m.Run(context.Background(), map[string]*Tensor{gm.Input: input})
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != len(gm.Outputs) {
					t.Errorf("threads=%d: %d outputs, want %d", threads, len(out), len(gm.Outputs))
				}
				for oname, want := range gm.Outputs {
					got := out[oname]
					if got == nil {
						t.Errorf("threads=%d: output %q missing", threads, oname)
						continue
					}
					checkGolden(t, oname, got, want)
				}
			}
		})
	}
}
