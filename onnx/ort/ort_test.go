//go:build ort && cgo

package ort

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veilkit/veil/onnx"
)

// npmLibrary is where bench/ort's `npm ci` puts onnxruntime-node's CPU
// library, relative to this package.
const npmLibrary = "../../bench/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// testBackend returns a CPU backend on $VEIL_ORT_LIB or the npm library,
// or skips the test when there is neither.
func testBackend(t testing.TB, o Options) *Backend {
	t.Helper()
	if o.Library == "" {
		o.Library = os.Getenv("VEIL_ORT_LIB")
	}
	if o.Library == "" {
		if _, err := os.Stat(npmLibrary); err != nil {
			t.Skip("no onnxruntime library: set VEIL_ORT_LIB or run (cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci)")
		}
		o.Library, _ = filepath.Abs(npmLibrary)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syntheticInput is the input rule of onnx/testdata/golden_synthetic_outputs.json:
// raw[c][y][x] = (7x + 13y + 29c) mod 256, normalised per channel, with the
// channels last in an NHWC input.
func syntheticInput(shape []int, mean, std []float32) *onnx.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	nhwc := shape[3] == 3 && shape[1] != 3
	c, h, w := shape[1], shape[2], shape[3]
	if nhwc {
		h, w, c = shape[1], shape[2], shape[3]
	}
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := (float32((x*7+y*13+ch*29)%256) - mean[ch]) / std[ch]
				if nhwc {
					data[(y*w+x)*c+ch] = v
				} else {
					data[(ch*h+y)*w+x] = v
				}
			}
		}
	}
	return onnx.NewTensor(shape, data)
}

// TestORTParityModels runs every model in models/ on the synthetic input
// with the pure-Go runtime and with onnxruntime, and compares every
// output value.
func TestORTParityModels(t *testing.T) {
	b := testBackend(t, Options{})
	t.Logf("onnxruntime %s", Version())
	var golden struct {
		Models map[string]struct {
			Input      string    `json:"input"`
			InputShape []int     `json:"input_shape"`
			Mean       []float32 `json:"mean"`
			Std        []float32 `json:"std"`
		} `json:"models"`
	}
	raw, err := os.ReadFile("../testdata/golden_synthetic_outputs.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../models/*/*.onnx")
	if len(files) == 0 {
		t.Fatal("no models in models/")
	}
	ctx := context.Background()
	for _, file := range files {
		name := strings.TrimPrefix(filepath.ToSlash(file), "../../models/")
		t.Run(name, func(t *testing.T) {
			g, ok := golden.Models[name]
			if !ok {
				t.Fatalf("%s has no entry in onnx/testdata/golden_synthetic_outputs.json", name)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			goModel, err := onnx.Load(data, onnx.Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			ortModel, err := onnx.Load(data, onnx.Options{Threads: 2, Backend: b})
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]*onnx.Tensor{g.Input: syntheticInput(g.InputShape, g.Mean, g.Std)}
			want, err := goModel.Run(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ortModel.Run(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range goModel.OutputNames() {
				w, o := want[out], got[out]
				if !slices.Equal(w.Shape(), o.Shape()) || w.DType() != o.DType() {
					t.Errorf("%s: onnxruntime gives %v %v, pure Go %v %v", out, o.DType(), o.Shape(), w.DType(), w.Shape())
					continue
				}
				var maxAbs, maxDiff float64
				for k, v := range w.Float32s() {
					maxAbs = max(maxAbs, math.Abs(float64(v)))
					maxDiff = max(maxDiff, math.Abs(float64(v)-float64(o.Float32s()[k])))
				}
				for k, v := range w.Int64s() {
					maxDiff = max(maxDiff, math.Abs(float64(v-o.Int64s()[k])))
				}
				t.Logf("%s %v: max |diff| %.3g (max |value| %.3g)", out, w.Shape(), maxDiff, maxAbs)
				if maxDiff > 1e-3*max(1, maxAbs) {
					t.Errorf("%s: max |diff| %g between onnxruntime and pure Go (max |value| %g)", out, maxDiff, maxAbs)
				}
			}
		})
	}
}

// TestORTProviderFallback asks the CPU-only library for CUDA: without
// Require the model falls back to the CPU with one warning; with it, Load
// fails.
func TestORTProviderFallback(t *testing.T) {
	cpu := testBackend(t, Options{})
	data, err := os.ReadFile("../../models/plate/lpd_yunet_2023mar.onnx")
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	b, err := New(Options{Library: env.lib, Provider: "cuda", Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != "onnxruntime cuda:0" || cpu.Name() != "onnxruntime cpu" {
		t.Errorf("names %q, %q", b.Name(), cpu.Name())
	}
	for range 2 {
		m, err := onnx.Load(data, onnx.Options{Threads: 1, Backend: b})
		if err != nil {
			t.Fatalf("Load with a failing provider and no Require: %v", err)
		}
		out, err := m.Run(context.Background(), map[string]*onnx.Tensor{
			"input": onnx.NewTensor([]int{1, 3, 240, 320}, make([]float32, 3*240*320))})
		if err != nil || len(out) != len(m.OutputNames()) {
			t.Fatalf("Run after fallback: %d outputs, %v", len(out), err)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "cuda") {
		t.Errorf("warnings %q, want one about cuda", warnings)
	}

	req, err := New(Options{Library: env.lib, Provider: "cuda", Require: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Load(data, onnx.Options{Backend: req}); err == nil || !strings.Contains(err.Error(), "cuda") {
		t.Errorf("Load with a required failing provider: %v", err)
	}
}

func TestORTOptionErrors(t *testing.T) {
	testBackend(t, Options{})
	t.Setenv("VEIL_ORT_LIB", "")
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "VEIL_ORT_LIB") {
		t.Errorf("New without a library: %v", err)
	}
	if _, err := New(Options{Library: env.lib, Provider: "opencl"}); err == nil {
		t.Error("New with an unknown provider: no error")
	}
	if _, err := New(Options{Library: "/nonexistent/libonnxruntime.so"}); err == nil {
		t.Error("New with another library: no error")
	}
	// Inputs of the wrong type are refused, not passed on.
	b, _ := New(Options{Library: env.lib})
	data, err := os.ReadFile("../../models/plate/lpd_yunet_2023mar.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.Load(data, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Run(context.Background(), map[string]*onnx.Tensor{"input": onnx.NewInt64Tensor([]int{1}, []int64{1})}, []string{"loc"})
	if !errors.Is(err, onnx.ErrInput) {
		t.Errorf("Run with an int64 input: %v, want ErrInput", err)
	}
}
