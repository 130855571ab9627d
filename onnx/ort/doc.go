// Package ort runs veil's models on ONNX Runtime (onnxruntime) through
// cgo, with github.com/yalue/onnxruntime_go: on the CPU, or on a GPU with
// the CUDA or TensorRT execution providers of a GPU build of the library.
//
// It is only compiled with the build tag ort (and cgo):
//
//	go build -tags ort ./cmd/veil
//
// Without the tag the package exists but New returns an error, so the
// default build of veil stays pure Go with no cgo. The onnxruntime shared
// library is loaded at run time, from Options.Library or $VEIL_ORT_LIB.
//
// A *Backend implements onnx.Backend; hand it to veil.WithBackend or to
// onnx.Options.Backend.
package ort

// Options configure New.
type Options struct {
	// Library is the path of the onnxruntime shared library
	// (libonnxruntime.so); "" means $VEIL_ORT_LIB.
	Library string
	// Provider is the execution provider: "cpu" (the default), "cuda" or
	// "tensorrt" (TensorRT, with CUDA for what TensorRT does not take).
	Provider string
	// DeviceID is the GPU of the cuda and tensorrt providers.
	DeviceID int
	// Require makes a provider that fails to start an error; otherwise
	// the model falls back to the CPU with a warning.
	Require bool
	// Warn receives the warnings (a provider fallback); nil means the
	// standard log package.
	Warn func(string)
}
