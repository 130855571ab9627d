package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/veilkit/veil"
)

// options is the parsed options object of veil.anonymize.
type options struct {
	params veil.Params
	// encode is how the result is written; Format "" means the input's
	// format.
	encode veil.EncodeOptions
	// filename is the image's name in the metadata ("image" when not
	// given).
	filename string
}

// optionNames are the keys veil.anonymize accepts, with the Celantur
// parameter names (onProgress, a function, is taken by the JS side).
var optionNames = []string{
	"bbox",
	"classes",
	"compress-level",
	"debug",
	"face-anonymization-gradient-start",
	"face-anonymization-gradient-stop",
	"face-threshold",
	"filename",
	"format",
	"ignores",
	"kernel-size-face",
	"kernel-size-license-plate",
	"kernel-size-person",
	"kernel-size-vehicle",
	"license-plate-anonymization-gradient-start",
	"license-plate-anonymization-gradient-stop",
	"license-plate-threshold",
	"method",
	"onProgress",
	"output-format",
	"person-threshold",
	"quality",
	"score",
	"vehicle-threshold",
}

// parseOptions parses the options object of veil.anonymize, given as
// JSON (what JSON.stringify makes of it: functions are left out). Empty
// input, null and {} give the defaults: faces and licence plates, blurred,
// the input's format at quality 90. A null value is the option's default.
// Unknown keys and bad values are errors that name the option.
func parseOptions(data []byte) (*options, error) {
	o := &options{filename: "image"}
	p := &o.params
	p.Classes = []veil.Class{veil.Face, veil.LicensePlate}
	p.Format = "whole"
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" || string(data) == "undefined" {
		return o, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("options: want an object: %v", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw := m[k]
		if string(raw) == "null" {
			continue
		}
		var err error
		switch k {
		case "classes":
			p.Classes, err = parseClasses(raw)
		case "quality":
			o.encode.Quality, err = integer(raw, 1, 100)
		case "compress-level":
			var l int
			if l, err = integer(raw, 0, 9); err == nil {
				o.encode.CompressLevel = l
				if l == 0 {
					o.encode.CompressLevel = veil.NoCompression
				}
			}
		case "output-format":
			var s string
			if s, err = str(raw); err == nil {
				switch strings.ToLower(s) {
				case "jpeg", "jpg":
					o.encode.Format = "jpeg"
				case "png":
					o.encode.Format = "png"
				case "":
				default:
					err = fmt.Errorf("%q is not jpeg or png", s)
				}
			}
		case "filename":
			var s string
			if s, err = str(raw); err == nil && s != "" {
				o.filename = s
			}
		case "onProgress":
			err = errors.New("not a function")
		default:
			if !slices.Contains(veil.ParamNames, k) {
				return nil, fmt.Errorf("unknown option %q (the options are %s)", k, strings.Join(optionNames, ", "))
			}
			var pe *veil.ParamError
			if err = p.Set(k, text(raw)); errors.As(err, &pe) {
				return nil, &optionError{k, paramErrorText(pe, raw)}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", k, err)
		}
	}
	return o, nil
}

// An optionError is a bad value of an option of veil.Params. It wraps
// veil.ErrOption.
type optionError struct{ key, msg string }

func (e *optionError) Error() string { return fmt.Sprintf("option %q: %s", e.key, e.msg) }

func (e *optionError) Unwrap() error { return veil.ErrOption }

// paramErrorText is the message of a value veil.Params.Set refuses: the
// reason when Set knows it (it shows the faulty part of the value),
// otherwise what the option takes and the value as the caller wrote it in
// JSON (0, not "0"), cut short when long.
func paramErrorText(pe *veil.ParamError, raw json.RawMessage) string {
	if pe.Reason != "" {
		return pe.Detail()
	}
	const n = 64
	got := string(raw)
	if r := []rune(got); len(r) > n {
		got = string(r[:n]) + "…"
	}
	return fmt.Sprintf("want %s, got %s", pe.Want, got)
}

// text returns a JSON value as veil.Params.Set takes it: a string's
// contents, anything else (a number, true or false, the ignores' array, a
// tiling grid's object) as written.
func text(raw json.RawMessage) string {
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// parseClasses parses the classes option: an array of class names or
// one string of names separated by commas.
func parseClasses(raw json.RawMessage) ([]veil.Class, error) {
	var names []string
	if raw[0] == '"' {
		s, err := str(raw)
		if err != nil {
			return nil, err
		}
		for n := range strings.SplitSeq(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	} else if err := json.Unmarshal(raw, &names); err != nil {
		return nil, errors.New("want an array of class names (face, license-plate, person, vehicle)")
	}
	if len(names) == 0 {
		return nil, errors.New("no class given: choose at least one of face, license-plate, person, vehicle")
	}
	var cs []veil.Class
	for _, n := range names {
		c, err := veil.ParseClass(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

func str(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("want a string, got %s", raw)
	}
	return s, nil
}

// number parses a number (or a string holding one, as form fields give)
// in [lo, hi], or in (lo, hi] when loOpen.
func number(raw json.RawMessage, lo, hi float64, loOpen bool) (float64, error) {
	var f float64
	if raw[0] == '"' {
		s, err := str(raw)
		if err != nil {
			return 0, err
		}
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0, fmt.Errorf("not a number: %q", s)
		}
	} else if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("want a number, got %s", raw)
	}
	if math.IsNaN(f) || f > hi || f < lo || (loOpen && f == lo) {
		if loOpen {
			return 0, fmt.Errorf("%v is out of range: want %v < value ≤ %v", f, lo, hi)
		}
		return 0, fmt.Errorf("%v is out of range: want %v ≤ value ≤ %v", f, lo, hi)
	}
	return f, nil
}

func integer(raw json.RawMessage, lo, hi int) (int, error) {
	f, err := number(raw, float64(lo), float64(hi), false)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("%v is not a whole number", f)
	}
	return int(f), nil
}
