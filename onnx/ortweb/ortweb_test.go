//go:build js && wasm

package ortweb

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall/js"
	"testing"

	"github.com/veilkit/veil/onnx"
)

// npmModule is where web/build.sh's `npm ci` puts onnxruntime-web,
// relative to this package.
const npmModule = "../../web/node_modules/onnxruntime-web"

// testBackend returns a backend on onnxruntime-web loaded with node's
// require (the tests run under node, with go_js_wasm_exec), or skips the
// test when web/node_modules lacks it.
func testBackend(t *testing.T) *Backend {
	t.Helper()
	if _, err := os.Stat(npmModule); err != nil {
		t.Skip("no onnxruntime-web: run (cd web && npm ci)")
	}
	dir, err := filepath.Abs(npmModule)
	if err != nil {
		t.Fatal(err)
	}
	req := js.Global().Get("require")
	if req.Type() != js.TypeFunction {
		t.Skip("not under node: no require")
	}
	b, err := New(req.Invoke(dir), "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// input is a deterministic image-like NCHW tensor.
func input(shape []int) *onnx.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	f := make([]float32, n)
	for k := range f {
		f[k] = float32((k*7+k/shape[3]*13)%256) / 4
	}
	return onnx.NewTensor(shape, f)
}

// TestParity runs the face and plate models on onnxruntime-web and on the
// pure-Go runtime and compares every output value.
func TestParity(t *testing.T) {
	b := testBackend(t)
	t.Logf("onnxruntime-web %s", b.Version())
	for _, c := range []struct {
		model string
		shape []int
	}{
		{"../../models/face/yunet_n_dynamic.onnx", []int{1, 3, 160, 224}},
		{"../../models/plate/lpd_yunet_2023mar.onnx", nil},
	} {
		t.Run(filepath.Base(c.model), func(t *testing.T) {
			data, err := os.ReadFile(c.model)
			if err != nil {
				t.Fatal(err)
			}
			goM, err := onnx.Load(data, onnx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			webM, err := onnx.Load(data, onnx.Options{Backend: b})
			if err != nil {
				t.Fatal(err)
			}
			name := goM.InputNames()[0]
			shape := c.shape
			if shape == nil {
				shape, _ = goM.InputShape(name)
			}
			in := map[string]*onnx.Tensor{name: input(shape)}
			want, err := goM.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := webM.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range goM.OutputNames() {
				compare(t, out, got[out], want[out])
			}
		})
	}
}

func compare(t *testing.T, name string, got, want *onnx.Tensor) {
	t.Helper()
	if got == nil || fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
		t.Errorf("%s: got %v, want shape %v", name, got, want.Shape())
		return
	}
	g, w := got.Float32s(), want.Float32s()
	worst := 0.0
	for k := range w {
		d := math.Abs(float64(g[k]-w[k])) / math.Max(1, math.Abs(float64(w[k])))
		worst = math.Max(worst, d)
	}
	if worst > 1e-3 {
		t.Errorf("%s: largest difference %g (relative above 1)", name, worst)
	}
}

// TestConcurrentRuns runs one model from several goroutines at once, as
// the engine does: the runs are serialized, and each gets its own result.
func TestConcurrentRuns(t *testing.T) {
	b := testBackend(t)
	data, err := os.ReadFile("../../models/face/yunet_n_dynamic.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(data, onnx.Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	name := m.InputNames()[0]
	shapes := [][]int{{1, 3, 96, 128}, {1, 3, 128, 96}, {1, 3, 64, 64}, {1, 3, 96, 128}}
	res := make([]map[string]*onnx.Tensor, len(shapes))
	errs := make([]error, len(shapes))
	var wg sync.WaitGroup
	for k, s := range shapes {
		wg.Go(func() {
			res[k], errs[k] = m.Run(context.Background(), map[string]*onnx.Tensor{name: input(s)})
		})
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", k, err)
		}
	}
	out := m.OutputNames()[0]
	compare(t, out, res[3][out], res[0][out])
	if fmt.Sprint(res[2][out].Shape()) == fmt.Sprint(res[0][out].Shape()) {
		t.Errorf("runs on different shapes gave the same output shape %v", res[0][out].Shape())
	}
}

func TestNew(t *testing.T) {
	if _, err := New(js.Undefined(), ""); err == nil {
		t.Error("New(undefined): no error")
	}
	b := testBackend(t)
	if _, err := New(b.ort, "webgl"); err == nil {
		t.Error(`New(ort, "webgl"): no error`)
	}
	if _, err := b.Load([]byte("not a model"), 1); err == nil {
		t.Error("Load(garbage): no error")
	}
	if got := b.Name(); got != "onnxruntime-web wasm" {
		t.Errorf("Name() = %q", got)
	}
}
