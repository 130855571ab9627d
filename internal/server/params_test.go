package server

import (
	"net/url"
	"testing"

	"github.com/veilkit/veil"
)

// TestParseOptionsParams checks that the anonymization parameters reach
// veil.Params by their Celantur names (the gradients too), that an empty
// value is the default, and that the deprecated segmentation-threshold
// fills only the person and vehicle thresholds not given.
func TestParseOptionsParams(t *testing.T) {
	q, err := url.ParseQuery("method=pixelate&kernel-size-face=0.5&face-anonymization-gradient-stop=0.1" +
		"&person-threshold=0.7&segmentation-threshold=0.2&format=&ignores=&score=true")
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions(q)
	if err != nil {
		t.Fatal(err)
	}
	p := o.params
	if p.Method != veil.Pixelate || p.KernelSizeFace != 0.5 || !p.Score || p.Format != "" || p.Ignores != nil {
		t.Errorf("params %+v", p)
	}
	if g := p.FaceGradient; g == nil || *g != (veil.Gradient{Start: veil.DefaultGradient.Start, Stop: 0.1}) {
		t.Errorf("face gradient %v", g)
	}
	if p.PersonThreshold != 0.7 || p.VehicleThreshold != 0.2 || p.FaceThreshold != 0 {
		t.Errorf("thresholds: person %v vehicle %v face %v", p.PersonThreshold, p.VehicleThreshold, p.FaceThreshold)
	}
}
