package onnx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/veilkit/veil/onnx/internal/pb"
)

const conformanceDir = "../../shared/onnx-conformance"

// TestConformance runs the ONNX backend test subset in
// ../shared/onnx-conformance: every test whose operators the runtime
// supports must reproduce the expected outputs; the others must fail to
// load with ErrUnsupported. It logs which ran, passed and were
// unsupported.
func TestConformance(t *testing.T) {
	if _, err := os.Stat(conformanceDir); err != nil {
		t.Skipf("ONNX conformance data not found at %s (it lives in the shared folder beside the repository)", conformanceDir)
	}
	dirs, err := filepath.Glob(filepath.Join(conformanceDir, "*", "test_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no conformance tests under %s: %v", conformanceDir, err)
	}
	sort.Strings(dirs)
	var passed, unsupported []string
	for _, dir := range dirs {
		name := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			err := runConformance(dir)
			switch {
			case err == nil:
				passed = append(passed, name)
			case errors.Is(err, ErrUnsupported):
				unsupported = append(unsupported, fmt.Sprintf("%s (%v)", name, err))
			default:
				t.Error(err)
			}
		})
	}
	t.Logf("conformance: %d tests, %d passed, %d unsupported, %d failed", len(dirs), len(passed), len(unsupported), len(dirs)-len(passed)-len(unsupported))
	t.Logf("passed: %s", strings.Join(passed, " "))
	for _, u := range unsupported {
		t.Logf("unsupported: %s", u)
	}
}

func readTensorPB(path string) (*Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := pb.DecodeTensor(b)
	if err != nil {
		return nil, err
	}
	return tensorFromProto(p)
}

func runConformance(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	m, err := Load(data, Options{Threads: 2})
	if err != nil {
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fmt.Errorf("no test data sets")
	}
	for _, set := range sets {
		inputs := make(map[string]*Tensor)
		for k, name := range m.InputNames() {
			t, err := readTensorPB(filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
			if err != nil {
				return fmt.Errorf("%s input %d: %w", set, k, err)
			}
			inputs[name] = t
		}
		out, err := m.Run(context.Background(), inputs)
		if err != nil {
			return err
		}
		for k, name := range m.OutputNames() {
			want, err := readTensorPB(filepath.Join(set, fmt.Sprintf("output_%d.pb", k)))
			if err != nil {
				return fmt.Errorf("%s output %d: %w", set, k, err)
			}
			if err := compareTensors(out[name], want, 1e-3, 1e-5); err != nil {
				return fmt.Errorf("%s output %q: %w", filepath.Base(set), name, err)
			}
		}
	}
	return nil
}

func compareTensors(got, want *Tensor, rtol, atol float64) error {
	if got == nil {
		return fmt.Errorf("missing")
	}
	if !sameShape(got.shape, want.shape) {
		return fmt.Errorf("shape %v, want %v", got.shape, want.shape)
	}
	if got.dtype != want.dtype {
		return fmt.Errorf("type %v, want %v", got.dtype, want.dtype)
	}
	for k := range want.i {
		if got.i[k] != want.i[k] {
			return fmt.Errorf("element %d = %d, want %d", k, got.i[k], want.i[k])
		}
	}
	for k, w := range want.f {
		g := got.f[k]
		if math.IsNaN(float64(w)) && math.IsNaN(float64(g)) {
			continue
		}
		if math.Abs(float64(g-w)) > atol+rtol*math.Abs(float64(w)) {
			return fmt.Errorf("element %d = %g, want %g", k, g, w)
		}
	}
	return nil
}
