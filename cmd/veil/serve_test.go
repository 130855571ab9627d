package main

import (
	"bytes"
	"testing"
)

func TestServeCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "-workers", "0"},
		{"serve", "-queue", "x"},
		{"serve", "-a", "cat"},
		{"serve", "-format", "pano:1"},
		{"serve", "-save-mask", "some"},
		{"serve", "-task-timeout", "0s"},
		{"serve", "-task-timeout", "-1m"},
		{"serve", "-task-timeout", "ten"},
		{"serve", "-max-uploads", "0"},
		{"serve", "-upload-idle-timeout", "0s"},
		{"serve", "-min-upload-rate", "0"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d (%s)", args, code, exitUsage, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "-h"}, &out, &errb); code != exitOK || !bytes.Contains(out.Bytes(), []byte("Celantur Container REST API")) ||
		!bytes.Contains(out.Bytes(), []byte("-save-mask")) || !bytes.Contains(out.Bytes(), []byte("-task-timeout")) ||
		!bytes.Contains(out.Bytes(), []byte("-max-uploads")) {
		t.Errorf("serve -h: %d %s", code, out.String())
	}
}
