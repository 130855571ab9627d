package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDetectCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"detect", "-license-plate", "-license-plate-threshold", "0.6", "../../testdata/plate.jpg"}, &out); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Detections []struct {
			BBox      [4]int  `json:"bbox"`
			TypeLabel string  `json:"type_label"`
			Score     float64 `json:"score"`
		} `json:"detections"`
		Size [2]int `json:"size"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if len(m.Detections) != 1 || m.Detections[0].TypeLabel != "license-plate" || m.Detections[0].Score < 0.6 {
		t.Errorf("detections = %+v", m.Detections)
	}
	if m.Size != [2]int{1160, 720} {
		t.Errorf("size = %v, want [1160 720] (height, width)", m.Size)
	}
}

func TestCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"detect"},
		{"detect", "-face-threshold", "abc", "x.jpg"},
		{"detect", "-face-threshold", "2", "../../testdata/plate.jpg"},
		{"detect", "../../testdata/README.md"},
		{"detect", "no-such-file.jpg"},
	} {
		var out bytes.Buffer
		if err := run(args, &out); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
		if out.Len() != 0 {
			t.Errorf("%s: wrote output despite the error: %q", strings.Join(args, " "), out.String())
		}
	}
}
