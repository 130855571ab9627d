//go:build ort && cgo

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestORTDetectCommand runs detect with --backend ort and checks its JSON
// against the pure-Go backend's, but for the timing.
func TestORTDetectCommand(t *testing.T) {
	if os.Getenv("VEIL_ORT_LIB") == "" {
		lib, _ := filepath.Abs("../../bench/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")
		if _, err := os.Stat(lib); err != nil {
			t.Skip("no onnxruntime library: set VEIL_ORT_LIB or run (cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci)")
		}
		t.Setenv("VEIL_ORT_LIB", lib)
	}
	detect := func(backend string) []byte {
		var out, errb bytes.Buffer
		if code := run([]string{"detect", "--backend", backend, "--license-plate", "--face", "../../testdata/plate.jpg"}, &out, &errb); code != 0 {
			t.Fatalf("--backend %s: exit status %d: %s", backend, code, errb.String())
		}
		return out.Bytes()
	}
	goOut, ortOut := detect("go"), detect("ort")
	strip := func(b []byte) []byte { // the timing differs
		var lines [][]byte
		for _, l := range bytes.Split(b, []byte("\n")) {
			if !bytes.Contains(l, []byte(`"duration`)) && !bytes.Contains(l, []byte(`time`)) {
				lines = append(lines, l)
			}
		}
		return bytes.Join(lines, []byte("\n"))
	}
	if !bytes.Equal(strip(goOut), strip(ortOut)) {
		t.Errorf("detect --backend ort:\n%s\nwant (--backend go):\n%s", ortOut, goOut)
	}
}
