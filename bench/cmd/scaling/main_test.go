package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestRunJSON runs the tool on one small model and the 1080p Anonymize
// and checks the JSON it prints.
func TestRunJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	var out bytes.Buffer
	if err := run("yunet_n_320_320", "../../../models", 16, 1, true, &out); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v in %s", err, out.Bytes())
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the model and Anonymize: %s", len(rows), out.Bytes())
	}
	for _, r := range rows {
		f, ok1 := r["serial_fraction"].(float64)
		a, ok2 := r["amdahl_16"].(float64)
		if _, ok := r["name"].(string); !ok || !ok1 || !ok2 {
			t.Fatalf("row %v lacks name, serial_fraction or amdahl_16", r)
		}
		// Both workloads do most of their work in parallel loops.
		if f <= 0 || f > 0.5 || a < 1.5 || a > 16 {
			t.Errorf("%v: serial fraction %v, Amdahl bound %v", r["name"], f, a)
		}
		if loops, _ := r["loops"].(float64); loops < 10 {
			t.Errorf("%v: %v parallel loops recorded", r["name"], loops)
		}
	}
}
