//go:build !(ort && cgo)

package ort

import (
	"errors"

	"github.com/veilkit/veil/onnx"
)

// ErrNotBuilt is returned by New in a build without the ort tag or cgo.
var ErrNotBuilt = errors.New("ort: veil was built without -tags ort (and cgo)")

// A Backend runs models on ONNX Runtime. In this build it cannot be made.
type Backend struct{}

// New returns ErrNotBuilt: this build has no ONNX Runtime.
func New(o Options) (*Backend, error) { return nil, ErrNotBuilt }

// Name names the backend.
func (b *Backend) Name() string { return "onnxruntime (not built)" }

// Load returns ErrNotBuilt.
func (b *Backend) Load(data []byte, threads int) (onnx.BackendModel, error) {
	return nil, ErrNotBuilt
}

var _ onnx.Backend = (*Backend)(nil)
