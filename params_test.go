package veil

import (
	"context"
	"errors"
	"image"
	"reflect"
	"testing"
	"time"
)

func TestParamsSet(t *testing.T) {
	g := func(start, stop float64) *Gradient { return &Gradient{Start: start, Stop: stop} }
	for _, tt := range []struct {
		name, value string
		want        Params
	}{
		{"method", " Pixelate ", Params{Method: Pixelate}},
		{"method", "detect", Params{Method: DetectOnly}},
		{"bbox", "True", Params{BBox: true}},
		{"debug", "1", Params{Debug: true}},
		{"score", "on", Params{Score: true}},
		{"format", "pano:8000", Params{Format: "pano:8000"}},
		{"format", `{"number":[2,1],"overlap":[0.1,0]}`, Params{Format: `{"number":[2,1],"overlap":[0.1,0]}`}},
		{"ignores", `[{"topLeftX":1,"topLeftY":2,"width":3,"height":4}]`, Params{Ignores: []image.Rectangle{image.Rect(1, 2, 4, 6)}}},
		{"face-threshold", "0.3", Params{FaceThreshold: 0.3}},
		{"face-threshold", "0", Params{FaceThreshold: MinThreshold}}, // every candidate: the engine's floor
		{"person-threshold", "0.001", Params{PersonThreshold: MinThreshold}},
		{"license-plate-threshold", "1", Params{LicensePlateThreshold: 1}},
		{"person-threshold", "0.25", Params{PersonThreshold: 0.25}},
		{"vehicle-threshold", "0.7", Params{VehicleThreshold: 0.7}},
		{"kernel-size-face", "0.5", Params{KernelSizeFace: 0.5}},
		{"kernel-size-license-plate", "10", Params{KernelSizeLicensePlate: 10}},
		{"kernel-size-person", "120", Params{KernelSizePerson: 120}},
		{"kernel-size-vehicle", "61.5", Params{KernelSizeVehicle: 61.5}},
		{"face-anonymization-gradient-start", "0", Params{FaceGradient: g(0, DefaultGradient.Stop)}},
		{"face-anonymization-gradient-stop", "0.5", Params{FaceGradient: g(DefaultGradient.Start, 0.5)}},
		{"license-plate-anonymization-gradient-start", "2", Params{LicensePlateGradient: g(2, DefaultGradient.Stop)}},
		{"license-plate-anonymization-gradient-stop", "0.1", Params{LicensePlateGradient: g(DefaultGradient.Start, 0.1)}},
		// The Cloud API v2 spellings.
		{"anonymization_method", "blacken", Params{Method: Blacken}},
		{"license_plate_threshold", "0.6", Params{LicensePlateThreshold: 0.6}},
		{"kernel_size_person", "91", Params{KernelSizePerson: 91}},
		{"face_anonymization_gradient_stop", "0.2", Params{FaceGradient: g(DefaultGradient.Start, 0.2)}},
	} {
		var p Params
		if err := p.Set(tt.name, tt.value); err != nil {
			t.Errorf("Set(%q, %q): %v", tt.name, tt.value, err)
			continue
		}
		if !reflect.DeepEqual(p, tt.want) {
			t.Errorf("Set(%q, %q) = %+v, want %+v", tt.name, tt.value, p, tt.want)
		}
	}
}

// TestParamsSetBad checks that bad values are ParamErrors wrapping
// ErrOption that leave the parameters as they were, and that every name
// in ParamNames is one Set knows.
func TestParamsSetBad(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"method", "smudge"},
		{"bbox", "maybe"},
		{"format", "pano:1"},
		{"ignores", `[{"topLeftX":1}]`},
		{"ignores", "[{"},
		{"face-threshold", "-0.1"},
		{"face-threshold", "1.5"},
		{"person-threshold", "NaN"},
		{"kernel-size-face", "11"},
		{"kernel-size-vehicle", "-1"},
		{"kernel-size-person", "x"},
		{"face-anonymization-gradient-start", "2.5"},
		{"license-plate-anonymization-gradient-stop", "0.6"},
	} {
		keep := &Gradient{Start: 0.1, Stop: 0.2}
		p := Params{Method: Blacken, Format: "whole", FaceThreshold: 0.6, FaceGradient: keep, LicensePlateGradient: keep}
		before := p
		err := p.Set(tt.name, tt.value)
		var pe *ParamError
		if !errors.As(err, &pe) || !errors.Is(err, ErrOption) || pe.Name != tt.name || pe.Value != tt.value || pe.Want == "" {
			t.Errorf("Set(%q, %q) = %v, want a ParamError wrapping ErrOption", tt.name, tt.value, err)
		}
		if !reflect.DeepEqual(p, before) || *keep != (Gradient{Start: 0.1, Stop: 0.2}) {
			t.Errorf("Set(%q, %q) changed the parameters: %+v", tt.name, tt.value, p)
		}
	}
	var p Params
	if err := p.Set("blur-radius", "3"); !errors.Is(err, ErrOption) {
		t.Errorf("unknown name: %v", err)
	}
	good := map[string]string{"method": "blur", "bbox": "false", "debug": "false", "score": "false", "format": "whole", "ignores": "[]"}
	for _, name := range ParamNames {
		v, ok := good[name]
		if !ok {
			v = "0.5"
		}
		if err := p.Set(name, v); err != nil {
			t.Errorf("Set(%q, %q): %v", name, v, err)
		}
	}
}

// TestParamsSetGradientCopies checks that setting one end of a gradient
// does not change the Gradient the parameters pointed at.
func TestParamsSetGradientCopies(t *testing.T) {
	shared := Gradient{Start: 0.1, Stop: 0.2}
	p := Params{FaceGradient: &shared}
	if err := p.Set("face-anonymization-gradient-stop", "0.4"); err != nil {
		t.Fatal(err)
	}
	if shared != (Gradient{Start: 0.1, Stop: 0.2}) || *p.FaceGradient != (Gradient{Start: 0.1, Stop: 0.4}) {
		t.Errorf("shared %+v, face gradient %+v", shared, *p.FaceGradient)
	}
}

// FuzzParamsSet checks that Set never panics, that what it refuses is an
// ErrOption, and that what it accepts the engine accepts too.
func FuzzParamsSet(f *testing.F) {
	for k, v := range []string{"pixelate", "true", "1", "on", "pano:8000", `[{"topLeftX":1,"topLeftY":2,"width":3,"height":4}]`,
		"0.3", "1", "NaN", "-0", "1e309", "Inf", `{"number":[2,1],"overlap":[0.1,0]}`, "0x1p-2", " 0.5 ", "2", "0.5", "10000"} {
		f.Add(uint8(k), v)
	}
	f.Fuzz(func(t *testing.T, k uint8, v string) {
		name := ParamNames[int(k)%len(ParamNames)]
		var p Params
		err := p.Set(name, v)
		if err != nil {
			if !errors.Is(err, ErrOption) {
				t.Fatalf("Set(%q, %q): %v is not an ErrOption", name, v, err)
			}
			return
		}
		if err := p.validate(); err != nil {
			t.Fatalf("Set(%q, %q) accepted what Detect refuses: %v", name, v, err)
		}
		if err := p.validateAnonymize(); err != nil {
			t.Fatalf("Set(%q, %q) accepted what Anonymize refuses: %v", name, v, err)
		}
		if _, _, err := p.prepare(image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
			t.Fatalf("Set(%q, %q) accepted what prepare refuses: %v", name, v, err)
		}
	})
}

// TestThresholdZero checks that a threshold of 0 (Celantur's range is
// 0..1) keeps every candidate down to MinThreshold, more than the
// defaults do, in bounded time; a threshold below MinThreshold given in
// Params counts as MinThreshold.
func TestThresholdZero(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	img := decodeFile(t, "testdata/street.jpg")
	all := []Class{Face, LicensePlate, Person, Vehicle}
	def, err := e.Detect(context.Background(), img, Params{Classes: all})
	if err != nil {
		t.Fatal(err)
	}
	zero := Params{Classes: all}
	for _, name := range []string{"face-threshold", "license-plate-threshold", "person-threshold", "vehicle-threshold"} {
		if err := zero.Set(name, "0"); err != nil {
			t.Fatal(err)
		}
	}
	tiny := Params{Classes: all, FaceThreshold: 1e-9, LicensePlateThreshold: 1e-9, PersonThreshold: 1e-9, VehicleThreshold: 1e-9}
	for _, tc := range []struct {
		name string
		p    Params
	}{{"Set 0", zero}, {"1e-9", tiny}} {
		// Far below a threshold of 0, the candidates and the plate
		// searches in them would not end in this time.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		ds, err := e.Detect(ctx, img, tc.p)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(ds) <= len(def) {
			t.Errorf("%s: %d detections, want more than the defaults' %d", tc.name, len(ds), len(def))
		}
		for _, d := range ds {
			if d.Score < MinThreshold {
				t.Errorf("%s: a %v of score %v, below MinThreshold", tc.name, d.Class, d.Score)
			}
		}
	}
}
