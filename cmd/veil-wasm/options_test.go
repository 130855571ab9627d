package main

import (
	"errors"
	"image"
	"reflect"
	"strings"
	"testing"

	"github.com/veilkit/veil"
)

func TestParseOptionsDefaults(t *testing.T) {
	for _, in := range []string{"", "null", "{}", " { } "} {
		o, err := parseOptions([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		want := veil.Params{Classes: []veil.Class{veil.Face, veil.LicensePlate}, Format: "whole"}
		if !reflect.DeepEqual(o.params, want) {
			t.Errorf("%q: params %+v, want %+v", in, o.params, want)
		}
		if !reflect.DeepEqual(o.encode, veil.EncodeOptions{}) || o.filename != "image" {
			t.Errorf("%q: encode %+v filename %q, want the defaults", in, o.encode, o.filename)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]byte(`{
		"classes": ["person", "Face", "face"], "method": "pixelate", "bbox": true,
		"debug": true, "score": false, "format": "pano:8000",
		"ignores": [{"topLeftX": 1, "topLeftY": 2, "width": 3, "height": 4}],
		"face-threshold": 0.3, "license-plate-threshold": "0.6", "person-threshold": 1,
		"vehicle-threshold": null, "kernel-size-face": 0.5, "kernel-size-person": 20,
		"face-anonymization-gradient-stop": 0.1, "quality": 75, "compress-level": 0,
		"output-format": "PNG", "filename": "holiday.jpg"}`))
	if err != nil {
		t.Fatal(err)
	}
	p := o.params
	if !reflect.DeepEqual(p.Classes, []veil.Class{veil.Person, veil.Face}) {
		t.Errorf("classes %v", p.Classes)
	}
	if p.Method != veil.Pixelate || !p.BBox || !p.Debug || p.Score || p.Format != "pano:8000" {
		t.Errorf("method %v bbox %v debug %v score %v format %q", p.Method, p.BBox, p.Debug, p.Score, p.Format)
	}
	if !reflect.DeepEqual(p.Ignores, []image.Rectangle{image.Rect(1, 2, 4, 6)}) {
		t.Errorf("ignores %v", p.Ignores)
	}
	if p.FaceThreshold != 0.3 || p.LicensePlateThreshold != 0.6 || p.PersonThreshold != 1 || p.VehicleThreshold != 0 {
		t.Errorf("thresholds %v %v %v %v", p.FaceThreshold, p.LicensePlateThreshold, p.PersonThreshold, p.VehicleThreshold)
	}
	if p.KernelSizeFace != 0.5 || p.KernelSizePerson != 20 || p.KernelSizeLicensePlate != 0 {
		t.Errorf("kernel sizes %v %v %v", p.KernelSizeFace, p.KernelSizePerson, p.KernelSizeLicensePlate)
	}
	if p.FaceGradient == nil || *p.FaceGradient != (veil.Gradient{Start: veil.DefaultGradient.Start, Stop: 0.1}) || p.LicensePlateGradient != nil {
		t.Errorf("gradients %v %v", p.FaceGradient, p.LicensePlateGradient)
	}
	if !reflect.DeepEqual(o.encode, veil.EncodeOptions{Format: "png", Quality: 75, CompressLevel: veil.NoCompression}) {
		t.Errorf("encode %+v", o.encode)
	}
	if o.filename != "holiday.jpg" {
		t.Errorf("filename %q", o.filename)
	}

	o, err = parseOptions([]byte(`{"classes": "vehicle, license-plate", "ignores": "[]"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.params.Classes, []veil.Class{veil.Vehicle, veil.LicensePlate}) || len(o.params.Ignores) != 0 {
		t.Errorf("classes %v ignores %v", o.params.Classes, o.params.Ignores)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[]`, "want an object"},
		{`{"classes": []}`, `"classes": no class given`},
		{`{"classes": ["face", "cat"]}`, `class "cat"`},
		{`{"classes": 3}`, `"classes": want an array`},
		{`{"method": "smudge"}`, `option "method": want blur, pixelate, blacken or detect, got "smudge"`},
		{`{"method": 1}`, `"method": want blur`},
		{`{"face-threshold": -0.5}`, `option "face-threshold": want a number in [0, 1], got -0.5`},
		{`{"face-threshold": 1.5}`, `want a number in [0, 1]`},
		{`{"face-threshold": "high"}`, `got "high"`},
		{`{"kernel-size-person": 20000}`, `want a number in (0, 10000]`},
		{`{"face-anonymization-gradient-stop": 0.7}`, `want a number in [0, 0.5]`},
		{`{"quality": 0}`, `"quality": 0 is out of range`},
		{`{"quality": 80.5}`, `not a whole number`},
		{`{"compress-level": 10}`, `out of range`},
		{`{"bbox": "maybe"}`, `"bbox": want true or false`},
		{`{"format": "tiles"}`, `"format"`},
		{`{"ignores": [{"topLeftX": "a"}]}`, `"ignores"`},
		// The engine's reason, not only what the option takes (issue 18).
		{`{"format": {"number": [0, 2]}}`, `option "format": "number" must be two positive integers, got [0,2]`},
		{`{"format": "pano:0"}`, `option "format": pano width 0 is not a preset`},
		{`{"ignores": [{"topLeftX": 1, "topLeftY": 1, "width": 0, "height": 1}]}`,
			`option "ignores": region 1: width and height must be positive, got 0x1`},
		{`{"method": "` + strings.Repeat("x", 500) + `"}`, `got "` + strings.Repeat("x", 63) + `…`},
		{`{"output-format": "gif"}`, `"gif" is not jpeg or png`},
		{`{"onProgress": "x"}`, `"onProgress": not a function`},
		{`{"face_threshold": 0.5}`, `unknown option "face_threshold"`},
	} {
		_, err := parseOptions([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.in, err, c.want)
			continue
		}
		if msg := err.Error(); strings.Count(msg, "got") > 1 {
			t.Errorf("%s: error %q says got more than once", c.in, msg)
		}
	}
	if _, err := parseOptions([]byte(`{"method": "smudge"}`)); !errors.Is(err, veil.ErrOption) {
		t.Errorf("method error %v does not wrap veil.ErrOption", err)
	}
}
