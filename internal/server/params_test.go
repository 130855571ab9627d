package server

import (
	"net/url"
	"slices"
	"strings"
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
		{"face-threshold=1.5", `face-threshold: want a number in [0, 1], got "1.5"`},
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

// TestCheckUploadKeys checks that a parameter v1 does not have is
// refused, never ignored: a v2 spelling with its v1 spelling named.
func TestCheckUploadKeys(t *testing.T) {
	for _, tt := range []struct{ query, want string }{
		{"", ""},
		{"method=blur&face=true&face-threshold=0.3&webhook=http://h/&web-auth-header-value=x&keep-bit-rate=1", ""},
		{"face-anonymization-gradient-stop=0.1&segmentation-threshold=0.2", ""},
		{"face_threshold=0.9", "face_threshold: not a v1 parameter; v1 spells it face-threshold (face_threshold is the Cloud API v2's spelling)"},
		{"license_plate=true", "license_plate: not a v1 parameter; v1 spells it license-plate"},
		{"anonymization_method=blacken", "anonymization_method: not a v1 parameter; v1 spells it method"},
		{"kernel_size_face=0.5", "v1 spells it kernel-size-face"},
		{"Face-Threshold=0.9", "v1 spells it face-threshold"},
		{"method=blur&face-treshold=0.9", "face-treshold: not a v1 parameter (the v1 parameters are bbox, debug, face, "},
		{"z=1&a=1", "a: not a v1 parameter"},
	} {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		err = checkUploadKeys(q)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want no error", tt.query, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want an error with %q", tt.query, err, tt.want)
		}
	}
}

// TestThresholdZero checks that a threshold of 0, in the spec's range
// 0..1, is taken: every candidate down to the engine's floor.
func TestThresholdZero(t *testing.T) {
	q, err := url.ParseQuery("face-threshold=0&segmentation-threshold=0&vehicle-threshold=0.6")
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions(q, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := o.params
	if p.FaceThreshold != veil.MinThreshold || p.PersonThreshold != veil.MinThreshold || p.VehicleThreshold != 0.6 {
		t.Errorf("thresholds: face %v person %v vehicle %v, want %v %v 0.6", p.FaceThreshold, p.PersonThreshold, p.VehicleThreshold,
			veil.MinThreshold, veil.MinThreshold)
	}
}
