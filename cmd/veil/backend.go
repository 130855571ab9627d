package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/veilkit/veil"
)

// backendFlags are the --backend and --device flags of anonymize and
// detect: which runtime runs the models, on which device.
type backendFlags struct {
	backend string // "go" or "ort"
	device  string // "cpu", "cuda:N" or "tensorrt:N"
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.backend, "backend", "go",
		"the `runtime` of the models: go (pure Go) or ort (onnxruntime: needs veil built\nwith -tags ort and $VEIL_ORT_LIB naming libonnxruntime.so)")
	fs.StringVar(&b.device, "device", "cpu",
		"the `device` of --backend ort: cpu, cuda:N or tensorrt:N (a GPU build of onnxruntime;\nwithout one it warns and runs on the CPU)")
}

// check validates the flags' syntax.
func (b *backendFlags) check() error {
	if _, _, err := parseDevice(b.device); err != nil {
		return err
	}
	switch b.backend {
	case "go":
		if b.device != "cpu" {
			return fmt.Errorf("--device %s needs --backend ort", b.device)
		}
	case "ort":
	default:
		return fmt.Errorf("--backend %q: want go or ort", b.backend)
	}
	return nil
}

// option returns the engine option of the flags; warnings (a GPU
// provider that falls back to the CPU) go to stderr.
func (b *backendFlags) option(stderr io.Writer) (veil.Option, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if b.backend == "go" {
		return veil.WithBackend(nil), nil
	}
	provider, id, _ := parseDevice(b.device)
	be, err := newORTBackend(provider, id, func(msg string) { fmt.Fprintln(stderr, msg) })
	if err != nil {
		return nil, err
	}
	return veil.WithBackend(be), nil
}

// parseDevice splits "cpu", "cuda", "cuda:N", "tensorrt:N" into the
// onnxruntime provider and device id.
func parseDevice(s string) (provider string, id int, err error) {
	provider, n, hasN := strings.Cut(s, ":")
	switch {
	case provider == "cpu" && !hasN:
		return provider, 0, nil
	case provider == "cuda" || provider == "tensorrt":
		if !hasN {
			return provider, 0, nil
		}
		if id, err := strconv.Atoi(n); err == nil && id >= 0 {
			return provider, id, nil
		}
	}
	return "", 0, fmt.Errorf("--device %q: want cpu, cuda:N or tensorrt:N", s)
}
