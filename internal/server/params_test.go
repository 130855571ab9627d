package server

import (
	"net/url"
	"slices"
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
	o, err := parseOptions(q, &Config{})
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

// TestParseOptionsDefaults checks the server's start-up defaults: the
// classes of an upload that names none (less those it turns off) and the
// format of one that gives none.
func TestParseOptionsDefaults(t *testing.T) {
	cfg := &Config{Classes: []veil.Class{veil.Person, veil.Vehicle}, Format: "pano:4096"}
	for _, c := range []struct {
		query   string
		classes []veil.Class
		format  string
	}{
		{"", []veil.Class{veil.Person, veil.Vehicle}, "pano:4096"},
		{"person=false&format=whole", []veil.Class{veil.Vehicle}, "whole"},
		{"face=true&format=", []veil.Class{veil.Face}, "pano:4096"},
	} {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseOptions(q, cfg)
		if err != nil {
			t.Fatalf("%q: %v", c.query, err)
		}
		if !slices.Equal(o.params.Classes, c.classes) || o.params.Format != c.format {
			t.Errorf("%q: classes %v format %q, want %v %q", c.query, o.params.Classes, o.params.Format, c.classes, c.format)
		}
	}
	q, _ := url.ParseQuery("person=false&vehicle=0")
	if _, err := parseOptions(q, cfg); err == nil {
		t.Error("every default class turned off: no error")
	}
}

// TestParamErrorDetail checks that the detail of a refused parameter
// says what was wrong with it (the engine's reason, not only what the
// parameter takes), with the value said once.
func TestParamErrorDetail(t *testing.T) {
	for _, tt := range []struct{ query, want string }{
		{"method=smudge", `method: want blur, pixelate, blacken or detect, got "smudge"`},
		{"face-threshold=0", `face-threshold: want a number in (0, 1], got "0"`},
		{`format={"number":[0,2]}`, `format: "number" must be two positive integers, got [0,2]`},
		{"format=pano:0", `format: pano width 0 is not a preset (presets: 4096, 5400, 5640, 7060, 7680, 8000, 8192, 11000)`},
		{`ignores=[{"topLeftX":1,"topLeftY":1,"width":0,"height":1}]`, `ignores: region 1: width and height must be positive, got 0x1`},
		{`ignores=[{"topLeftX":-1}]`, `ignores: region 1: missing "topLeftY"`},
	} {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseOptions(q, &Config{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.query, err, tt.want)
		}
	}
}
