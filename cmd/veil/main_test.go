package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDetectCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"detect", "-license-plate", "-license-plate-threshold", "0.6", "../../testdata/plate.jpg"}, &out, &errb); code != 0 {
		t.Fatalf("exit status %d: %s", code, errb.String())
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
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{}, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"detect"}, 2},
		{[]string{"detect", "-face-threshold", "abc", "x.jpg"}, 2},
		{[]string{"detect", "-face-threshold", "2", "../../testdata/plate.jpg"}, 2}, // a bad flag value, as in anonymize
		{[]string{"detect", "../../testdata/README.md"}, 1},
		{[]string{"detect", "no-such-file.jpg"}, 1},
		{[]string{"models", "extra"}, 2},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code {
			t.Errorf("%s: exit status %d, want %d", strings.Join(tc.args, " "), code, tc.code)
		}
		if out.Len() != 0 {
			t.Errorf("%s: wrote output despite the error: %q", strings.Join(tc.args, " "), out.String())
		}
		if errb.Len() == 0 {
			t.Errorf("%s: no error message", strings.Join(tc.args, " "))
		}
	}
}
