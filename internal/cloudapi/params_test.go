package cloudapi

import (
	"strings"
	"testing"

	"github.com/veilkit/veil"
)

// TestEngineThresholds checks that a task's thresholds reach the engine
// as asked: 0 (in the spec's range 0..1) keeps every candidate, the
// engine's floor, and does not fall back to the default.
func TestEngineThresholds(t *testing.T) {
	for _, tt := range []struct {
		body string
		want float32 // the engine's face threshold
	}{
		{`{"anonymization_method":"blur","face":true}`, veil.DefaultFaceThreshold},
		{`{"anonymization_method":"blur","face":true,"face_threshold":0}`, veil.MinThreshold},
		{`{"anonymization_method":"blur","face":true,"face_threshold":0.005}`, veil.MinThreshold},
		{`{"anonymization_method":"blur","face":true,"face_threshold":0.7}`, 0.7},
		{`{"anonymization_method":"blur","face":true,"face_threshold":1}`, 1},
	} {
		p, err := parseCreate(strings.NewReader(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		vp, err := p.engineParams()
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if vp.FaceThreshold != tt.want {
			t.Errorf("%s: engine face threshold %v, want %v", tt.body, vp.FaceThreshold, tt.want)
		}
	}
}
