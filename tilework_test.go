package veil

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync/atomic"
	"testing"
)

// countingDetector counts its runs and finds nothing.
type countingDetector struct{ runs *atomic.Int64 }

func (c countingDetector) Classes() []Class { return []Class{Face} }

func (c countingDetector) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	c.runs.Add(1)
	return nil, nil
}

// TestFormatWork checks that a format asking the detectors for too much
// work is an ErrOption before any detector runs (issue 18: a 64×64 grid
// with 0.9 overlap kept a worker busy 139 s), from Set as from the engine,
// and that sane grids and the pano presets run.
func TestFormatWork(t *testing.T) {
	var runs atomic.Int64
	e, err := New(WithThreads(1), WithDetector(Face, countingDetector{&runs}), WithPlateCascade(false))
	if err != nil {
		t.Fatal(err)
	}
	src := noise(1280, 960)
	for _, tt := range []struct {
		format string
		runs   int64 // of the face detector; 0: refused
		reason string
	}{
		{`{"number":[64,64],"overlap":[0.9,0.9]}`, 0, `"number" [64,64] makes 4096 tiles, at most 100 in all`},
		{`{"number":[10,10],"overlap":[0.9,0.9]}`, 0, `makes tiles that add up to 27.7 times the image, at most 9`},
		{`{"number":[20,20]}`, 0, "makes 400 tiles, at most 100 in all"},
		{`{"number":[8,8],"overlap":[0.5,0.5]}`, 64, ""},
		{`{"number":[2,2],"overlap":[0.9,0.9]}`, 4, ""},
		{"pano:11000", 50, ""},
		{"whole", 1, ""},
	} {
		runs.Store(0)
		p := Params{Classes: []Class{Face}}
		err := p.Set("format", tt.format)
		if tt.runs == 0 {
			var pe *ParamError
			if !errors.As(err, &pe) || !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Set(format, %s) = %v, want a ParamError saying %q", tt.format, err, tt.reason)
			}
			p.Format = tt.format // as a Go caller may set it
		} else if err != nil {
			t.Errorf("Set(format, %s): %v", tt.format, err)
			continue
		}
		res, err := e.Anonymize(context.Background(), src, p)
		if tt.runs == 0 {
			if !errors.Is(err, ErrOption) || res != nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Anonymize with format %s = %v, %v; want an ErrOption saying %q", tt.format, res, err, tt.reason)
			}
			if _, err := e.Detect(context.Background(), src, p); !errors.Is(err, ErrOption) {
				t.Errorf("Detect with format %s: %v, want an ErrOption", tt.format, err)
			}
		} else if err != nil {
			t.Errorf("Anonymize with format %s: %v", tt.format, err)
		}
		if got := runs.Load(); got != tt.runs {
			t.Errorf("format %s: the face detector ran %d times, want %d", tt.format, got, tt.runs)
		}
	}
}
