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
	// Want says what the parameter takes ("a number in [0, 1]").
	Want string
	// Reason says what is wrong with Value, where more can be said than
	// Want ("region 1: width and height must be positive, got 0x1");
	// empty otherwise.
	Reason string
}

// Detail returns the message of e without its "veil: bad option: NAME: "
// prefix: Reason when there is one (it shows the faulty part of Value),
// otherwise "want WANT, got VALUE" with a long Value cut short.
func (e *ParamError) Detail() string {
	if e.Reason != "" {
		return e.Reason
	}
	return fmt.Sprintf("want %s, got %s", e.Want, quoteClipped(e.Value))
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrOption, e.Name, e.Detail())
}

func (e *ParamError) Unwrap() error { return ErrOption }

// quoteClipped quotes s for a message, cut to its first 64 characters.
func quoteClipped(s string) string {
	const n = 64
	if r := []rune(s); len(r) > n {
		return strconv.Quote(string(r[:n])) + "…"
	}
	return strconv.Quote(s)
}

// ParseMaskScale parses the mask-scale option, the size of the binary and
// instance masks in percent of the image's: an integer in 1..100. The
// command line and the REST server share this rule. A bad value is a
// *ParamError.
func ParseMaskScale(s string) (int, error) {
	x, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || x < 1 || x > 100 {
		return 0, &ParamError{Name: "mask-scale", Value: s, Want: "an integer percent in 1..100"}
	}
	return x, nil
}

// Set sets the parameter name (one of ParamNames) from its text s, as a
// query string, a command-line flag or a form gives it:
//
//   - method: blur, pixelate, blacken or detect;
//   - bbox, debug, score: true or false (also 1/0, yes/no, on/off);
//   - format: whole, pano:N or a JSON grid (see package tiling);
//   - ignores: a JSON array of regions (see ParseIgnores);
//   - the thresholds: a score in [0, 1], where 0 keeps every candidate
//     (stored as MinThreshold, as is any threshold below it);
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
	// badBecause is bad with the reason err gives, less its sentinel's
	// prefix and "ignores: ".
	badBecause := func(want string, err, sentinel error) error {
		reason := strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
		reason = strings.TrimPrefix(reason, "ignores: ")
		return &ParamError{Name: name, Value: s, Want: want, Reason: reason}
	}
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
		x, err := num(0, 1, false)
		if err == nil {
			// 0 is every candidate: the engine's floor, not the
			// default that a zero Params field means.
			*dst = max(float32(x), MinThreshold)
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
			return badBecause(`whole, pano:N or {"number":[nx,ny],"overlap":[ox,oy]}`, err, tiling.ErrFormat)
		}
		p.Format = v
	case "ignores":
		rs, err := ParseIgnores(v)
		if err != nil {
			return badBecause(`a JSON array of regions [{"topLeftX":X,"topLeftY":Y,"width":W,"height":H}]`, err, ErrOption)
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
