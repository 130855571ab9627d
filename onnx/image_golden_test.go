package onnx

import (
	"encoding/json"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/veilkit/veil/internal/testimg"
)

// streetGolden is the layout of testdata/golden_street.json (written by
// `go run ./bench/cmd/goldenimg`): onnxruntime's outputs for every model
// on a real image, the selfie segmenter included (not shipped: it is read
// from ../shared/models).
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
// segmenter sees no person in it). The selfie segmenter is skipped where
// ../shared/models is absent.
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
			input := NewTensor(gm.InputShape, testimg.Input(img, gm.InputShape, gm.BGR, gm.NHWC, gm.Mean, gm.Std))
			runGolden(t, name, gm.Input, input, gm.Outputs)
		})
	}
}
