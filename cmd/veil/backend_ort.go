//go:build ort && cgo

package main

import (
	"github.com/veilkit/veil/onnx"
	"github.com/veilkit/veil/onnx/ort"
)

// newORTBackend returns onnxruntime on provider (cpu, cuda or tensorrt),
// its library from $VEIL_ORT_LIB.
func newORTBackend(provider string, device int, warn func(string)) (onnx.Backend, error) {
	return ort.New(ort.Options{Provider: provider, DeviceID: device, Warn: warn})
}
