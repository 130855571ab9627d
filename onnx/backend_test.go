package onnx

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeBackend "runs" any model as y = 10·x, so that a test can tell its
// results from the pure-Go runtime's.
type fakeBackend struct {
	loadErr error
	data    []byte
	threads int
	runs    atomic.Int32
	omit    bool // return no outputs
}

func (b *fakeBackend) Name() string { return "fake" }

func (b *fakeBackend) Load(data []byte, threads int) (BackendModel, error) {
	if b.loadErr != nil {
		return nil, b.loadErr
	}
	b.data, b.threads = data, threads
	return fakeModel{b}, nil
}

type fakeModel struct{ b *fakeBackend }

func (m fakeModel) Run(ctx context.Context, inputs map[string]*Tensor, outputs []string) (map[string]*Tensor, error) {
	m.b.runs.Add(1)
	res := make(map[string]*Tensor)
	if m.b.omit {
		return res, nil
	}
	x := inputs["x"]
	y := make([]float32, x.Len())
	for k, v := range x.Float32s() {
		y[k] = 10 * v
	}
	for _, name := range outputs {
		res[name] = NewTensor(x.Shape(), y)
	}
	return res, nil
}

func (fakeModel) Close() error { return nil }

func TestBackendDelegation(t *testing.T) {
	data := testModel(testNode("Relu", []string{"x"}, []string{"y"}),
		testValueInfo(11, "x", 1, 4), testValueInfo(12, "y", 1, 4))
	b := &fakeBackend{}
	m, err := Load(data, Options{Threads: 3, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.data, data) || b.threads != 3 {
		t.Errorf("backend loaded %d bytes with %d threads, want %d bytes, 3 threads", len(b.data), b.threads, len(data))
	}
	// The model's description still comes from veil's own decoder.
	if got := m.InputNames(); len(got) != 1 || got[0] != "x" {
		t.Errorf("InputNames = %v", got)
	}
	if got := m.OutputNames(); len(got) != 1 || got[0] != "y" {
		t.Errorf("OutputNames = %v", got)
	}
	if shape, ok := m.InputShape("x"); !ok || len(shape) != 2 || shape[1] != 4 {
		t.Errorf("InputShape = %v, %v", shape, ok)
	}

	ctx := context.Background()
	in := map[string]*Tensor{"x": NewTensor([]int{1, 4}, []float32{-1, 2, -3, 4})}
	want := []float32{-10, 20, -30, 40} // the backend's answer, not Relu's
	check := func(what string, out map[string]*Tensor, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := out["y"].Float32s()
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("%s: y = %v, want %v", what, got, want)
			}
		}
	}
	out, err := m.Run(ctx, in)
	check("Model.Run", out, err)
	out, err = m.NewSession().Run(ctx, in)
	check("Session.Run", out, err)
	if n := b.runs.Load(); n != 2 {
		t.Errorf("backend ran %d times, want 2", n)
	}

	// Bad inputs are refused before the backend sees them.
	for name, bad := range map[string]map[string]*Tensor{
		"missing": {},
		"unknown": {"x": in["x"], "z": in["x"]},
	} {
		if _, err := m.Run(ctx, bad); !errors.Is(err, ErrInput) {
			t.Errorf("%s input: Run error %v, want ErrInput", name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Run(cancelled, in); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Run: %v", err)
	}
	if n := b.runs.Load(); n != 2 {
		t.Errorf("backend ran %d times, want 2 (bad inputs must not reach it)", n)
	}

	// A backend that forgets an output is an error, not a nil tensor.
	b.omit = true
	if _, err := m.Run(ctx, in); err == nil || !strings.Contains(err.Error(), `"y"`) {
		t.Errorf("Run with a missing backend output: %v", err)
	}
}

func TestBackendLoadErrors(t *testing.T) {
	data := testModel(testNode("Relu", []string{"x"}, []string{"y"}),
		testValueInfo(11, "x", 1, 4), testValueInfo(12, "y", 1, 4))
	boom := errors.New("boom")
	_, err := Load(data, Options{Backend: &fakeBackend{loadErr: boom}})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "fake") {
		t.Errorf("Load with a failing backend: %v", err)
	}
	// The model is still checked by veil's decoder first.
	bad := testModel(testNode("FancyOp", []string{"x"}, []string{"y"}),
		testValueInfo(11, "x", 1), testValueInfo(12, "y", 1))
	b := &fakeBackend{}
	if _, err := Load(bad, Options{Backend: b}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Load of an unsupported model: %v, want ErrUnsupported", err)
	}
	if b.data != nil {
		t.Error("the backend was handed a model veil rejected")
	}
}
