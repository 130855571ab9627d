package veil

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/veilkit/veil/tiling"
)

// ParamNames are the parameters Params.Set takes, by their Celantur
// names: those of one image's anonymization. (The classes, and the
// options of output, masks, video and running, are the callers' own: the
// command line, the browser build and the REST server spell them
// differently.)
var ParamNames = []string{
	"method", "bbox", "debug", "score", "format", "ignores",
	"face-threshold", "license-plate-threshold", "person-threshold", "vehicle-threshold",
	"kernel-size-face", "kernel-size-license-plate", "kernel-size-person", "kernel-size-vehicle",
	"face-anonymization-gradient-start", "face-anonymization-gradient-stop",
	"license-plate-anonymization-gradient-start", "license-plate-anonymization-gradient-stop",
}

// A ParamError is a parameter value Params.Set rejects. It wraps
// ErrOption.
type ParamError struct {
	Name, Value string
	// Want says what the parameter takes ("a number in (0, 1]"), or what
	// is wrong with Value.
	Want string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%v: %s: want %s, got %q", ErrOption, e.Name, e.Want, e.Value)
}

func (e *ParamError) Unwrap() error { return ErrOption }

// Set sets the parameter name (one of ParamNames) from its text s, as a
// query string, a command-line flag or a form gives it:
//
//   - method: blur, pixelate, blacken or detect;
//   - bbox, debug, score: true or false (also 1/0, yes/no, on/off);
//   - format: whole, pano:N or a JSON grid (see package tiling);
//   - ignores: a JSON array of regions (see ParseIgnores);
//   - the thresholds: a score in (0, 1];
//   - kernel-size-face and kernel-size-license-plate: a fraction of the
//     object's size in (0, 10]; kernel-size-person and
//     kernel-size-vehicle: pixels in (0, 10000];
//   - the gradients' start: [0, 2]; their stop: [0, 0.5]. Setting one of
//     a class's two starts its gradient from DefaultGradient.
//
// The Cloud API v2 spellings are accepted too: underscores for hyphens
// (face_threshold, kernel_size_face) and anonymization_method for method.
//
// A bad value is a *ParamError, and leaves p unchanged; an unknown name
// is an error wrapping ErrOption.
func (p *Params) Set(name, s string) error {
	v := strings.TrimSpace(s)
	canon := strings.ReplaceAll(name, "_", "-")
	if canon == "anonymization-method" {
		canon = "method"
	}
	bad := func(want string) error { return &ParamError{Name: name, Value: s, Want: want} }
	num := func(lo, hi float64, loOpen bool) (float64, error) {
		want := fmt.Sprintf("a number in [%g, %g]", lo, hi)
		if loOpen {
			want = fmt.Sprintf("a number in (%g, %g]", lo, hi)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || x < lo || loOpen && x == lo || x > hi {
			return 0, bad(want)
		}
		return x, nil
	}
	threshold := func(dst *float32) error {
		x, err := num(0, 1, true)
		if err == nil {
			*dst = float32(x)
		}
		return err
	}
	kernel := func(dst *float64, hi float64) error {
		x, err := num(0, hi, true)
		if err == nil {
			*dst = x
		}
		return err
	}
	gradient := func(g **Gradient, stop bool) error {
		hi := 2.0
		if stop {
			hi = 0.5
		}
		x, err := num(0, hi, false)
		if err != nil {
			return err
		}
		ng := DefaultGradient
		if *g != nil {
			ng = **g // a copy: the caller's Gradient is not changed
		}
		if stop {
			ng.Stop = x
		} else {
			ng.Start = x
		}
		*g = &ng
		return nil
	}
	boolean := func(dst *bool) error {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "on":
			*dst = true
		case "false", "0", "no", "off":
			*dst = false
		default:
			return bad("true or false")
		}
		return nil
	}
	switch canon {
	case "method":
		m, err := ParseMethod(v)
		if err != nil {
			return bad("blur, pixelate, blacken or detect")
		}
		p.Method = m
	case "bbox":
		return boolean(&p.BBox)
	case "debug":
		return boolean(&p.Debug)
	case "score":
		return boolean(&p.Score)
	case "format":
		if _, err := tiling.Parse(v); err != nil {
			return bad(`whole, pano:N or {"number":[nx,ny],"overlap":[ox,oy]}; ` +
				strings.TrimPrefix(err.Error(), tiling.ErrFormat.Error()+": "))
		}
		p.Format = v
	case "ignores":
		rs, err := ParseIgnores(v)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), ErrOption.Error()+": ")
			return bad(strings.TrimPrefix(msg, "ignores: "))
		}
		p.Ignores = rs
	case "face-threshold":
		return threshold(&p.FaceThreshold)
	case "license-plate-threshold":
		return threshold(&p.LicensePlateThreshold)
	case "person-threshold":
		return threshold(&p.PersonThreshold)
	case "vehicle-threshold":
		return threshold(&p.VehicleThreshold)
	case "kernel-size-face":
		return kernel(&p.KernelSizeFace, 10)
	case "kernel-size-license-plate":
		return kernel(&p.KernelSizeLicensePlate, 10)
	case "kernel-size-person":
		return kernel(&p.KernelSizePerson, 10000)
	case "kernel-size-vehicle":
		return kernel(&p.KernelSizeVehicle, 10000)
	case "face-anonymization-gradient-start":
		return gradient(&p.FaceGradient, false)
	case "face-anonymization-gradient-stop":
		return gradient(&p.FaceGradient, true)
	case "license-plate-anonymization-gradient-start":
		return gradient(&p.LicensePlateGradient, false)
	case "license-plate-anonymization-gradient-stop":
		return gradient(&p.LicensePlateGradient, true)
	default:
		return fmt.Errorf("%w: unknown parameter %q (the parameters are %s)", ErrOption, name, strings.Join(ParamNames, ", "))
	}
	return nil
}
