package onnx

import (
	"context"
	"fmt"
	"runtime"
	"slices"
)

// A Backend runs models in place of the pure-Go runtime (for example
// ONNX Runtime through cgo, in package onnx/ort). Load still decodes and
// checks the model itself, so a Model's InputNames, OutputNames and
// InputShape work the same, but its runs go to the backend.
type Backend interface {
	// Load prepares data (an ONNX model) for running; threads is the
	// number of threads one run may use.
	Load(data []byte, threads int) (BackendModel, error)
	// Name names the backend for messages, e.g. "onnxruntime cpu".
	Name() string
}

// A BackendModel runs one model loaded by a Backend. It must be safe for
// concurrent use.
type BackendModel interface {
	// Run evaluates the model on inputs (name → tensor, only read) and
	// returns the named outputs in freshly allocated tensors.
	Run(ctx context.Context, inputs map[string]*Tensor, outputs []string) (map[string]*Tensor, error)
	// Close releases the model; it is not used after.
	Close() error
}

// loadBackend hands the model to o.Backend, and makes the backend model
// be closed once m is unreachable.
func (m *Model) loadBackend(data []byte, o Options) error {
	bm, err := o.Backend.Load(data, m.threads)
	if err != nil {
		return fmt.Errorf("onnx: backend %s: %w", o.Backend.Name(), err)
	}
	m.backend = bm
	runtime.AddCleanup(m, func(bm BackendModel) { bm.Close() }, bm)
	return nil
}

// runBackend is Run on the backend: the inputs are checked like the
// pure-Go runtime checks them, then every graph output is asked for.
func (m *Model) runBackend(ctx context.Context, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, in := range m.g.inputs {
		t, ok := inputs[in.name]
		if !ok || t == nil {
			return nil, fmt.Errorf("%w: missing input %q", ErrInput, in.name)
		}
	}
	if len(inputs) != len(m.g.inputs) {
		for name := range inputs {
			if !slices.ContainsFunc(m.g.inputs, func(in graphInput) bool { return in.name == name }) {
				return nil, fmt.Errorf("%w: unknown input %q (model inputs: %v)", ErrInput, name, m.InputNames())
			}
		}
	}
	out, err := m.backend.Run(ctx, inputs, m.g.outputs)
	if err != nil {
		return nil, err
	}
	for _, name := range m.g.outputs {
		if out[name] == nil {
			return nil, fmt.Errorf("onnx: backend returned no output %q", name)
		}
	}
	return out, nil
}
