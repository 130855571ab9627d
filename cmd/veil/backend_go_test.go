//go:build !(ort && cgo)

package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBackendOrtNotBuilt(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"detect", "--backend", "ort", "../../testdata/plate.jpg"}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "built without -tags ort") {
		t.Errorf("--backend ort in a build without it: exit status %d, %q", code, errb.String())
	}
}
