package main

import (
	"bytes"
	"testing"
)

func TestParseDevice(t *testing.T) {
	for _, tt := range []struct {
		in       string
		provider string
		id       int
		ok       bool
	}{
		{"cpu", "cpu", 0, true},
		{"cuda", "cuda", 0, true},
		{"cuda:1", "cuda", 1, true},
		{"tensorrt:0", "tensorrt", 0, true},
		{"cpu:0", "", 0, false},
		{"cuda:-1", "", 0, false},
		{"cuda:x", "", 0, false},
		{"gpu", "", 0, false},
	} {
		p, id, err := parseDevice(tt.in)
		if (err == nil) != tt.ok || p != tt.provider || id != tt.id {
			t.Errorf("parseDevice(%q) = %q, %d, %v", tt.in, p, id, err)
		}
	}
}

func TestBackendFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"detect", "--backend", "tpu", "x.jpg"},
		{"detect", "--device", "cuda:0", "x.jpg"}, // the go backend has no devices
		{"detect", "--backend", "ort", "--device", "gpu", "x.jpg"},
		{"anonymize", "--backend", "tpu", "x.jpg", "-o", "out"},
		{"anonymize", "--device", "cuda:0", "x.jpg", "-o", "out"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit status %d, want 2 (usage); %s", args, code, errb.String())
		}
	}
}
