package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/veilkit/veil/internal/modelpath"
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

// TestModelsRun runs veil models on street.jpg and checks that it prints
// a row for every shipped model.
func TestModelsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every model")
	}
	var out, errs bytes.Buffer
	if err := runModels([]string{"-image", "../../testdata/street.jpg", "-dir", "../../models"}, &out, &errs); err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	for _, mi := range modelpath.Inputs {
		if mi.NotShipped == "" && !strings.Contains(out.String(), mi.File) {
			t.Errorf("no row for %s in:\n%s", mi.File, out.String())
		}
	}
}

// TestDetectClasses checks that detect takes the classes as anonymize
// does (-a), as its own flags, or both.
func TestDetectClasses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]bool // type labels that may appear
	}{
		{[]string{"-a", "person"}, map[string]bool{"person": true}},
		{[]string{"-a", "person,vehicle"}, map[string]bool{"person": true, "vehicle": true}},
		{[]string{"-person", "-a", "vehicle"}, map[string]bool{"person": true, "vehicle": true}},
		{[]string{"-person"}, map[string]bool{"person": true}},
	} {
		var out, errb bytes.Buffer
		args := append(append([]string{"detect"}, tc.args...), "../../testdata/street.jpg")
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit status %d: %s", tc.args, code, errb.String())
		}
		var m struct {
			Detections []struct {
				TypeLabel string `json:"type_label"`
			} `json:"detections"`
		}
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%v: %v in %s", tc.args, err, out.String())
		}
		seen := make(map[string]bool)
		for _, d := range m.Detections {
			if !tc.want[d.TypeLabel] {
				t.Errorf("%v: a %s detection", tc.args, d.TypeLabel)
			}
			seen[d.TypeLabel] = true
		}
		for l := range tc.want {
			if !seen[l] {
				t.Errorf("%v: no %s found in street.jpg", tc.args, l)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"detect", "-a", "dog", "../../testdata/street.jpg"}, &out, &errb); code != 2 {
		t.Errorf("-a dog: exit status %d, want 2", code)
	}
}
