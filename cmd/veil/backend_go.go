//go:build !(ort && cgo)

package main

import (
	"errors"

	"github.com/veilkit/veil/onnx"
)

// newORTBackend fails: this veil has no onnxruntime.
func newORTBackend(provider string, device int, warn func(string)) (onnx.Backend, error) {
	return nil, errors.New("--backend ort: veil was built without -tags ort (rebuild with: go build -tags ort ./cmd/veil; cgo must be on)")
}
