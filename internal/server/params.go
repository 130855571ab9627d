package server

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/veilkit/veil"
)

// paramError is a bad request parameter: 422 with its message as detail.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

func badParam(format string, args ...any) error {
	return &paramError{fmt.Sprintf(format, args...)}
}

// options are the parsed query parameters of POST /v1/file.
type options struct {
	params veil.Params
	video  veil.VideoOptions
	hook   *webhook
}

// hookKeys are the query parameters of the webhook: not stored with the
// task (the header value may be a secret).
var hookKeys = []string{"webhook", "webhook-auth-header-name", "webhook-auth-header-value",
	"web-auth-header-name", "web-auth-header-value"}

// storedQuery returns q without the webhook parameters.
func storedQuery(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	for _, k := range hookKeys {
		delete(c, k)
	}
	return c.Encode()
}

// parseBool accepts the spellings of the Celantur API's clients: True,
// true, 1 (and False, false, 0).
func parseBool(name, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, badParam("%s: want true or false, got %q", name, echo(s))
}

// boolParam returns the boolean parameter name and whether it was given.
func boolParam(q url.Values, name string) (v, given bool, err error) {
	if !q.Has(name) {
		return false, false, nil
	}
	v, err = parseBool(name, q.Get(name))
	return v, true, err
}

func floatParam(q url.Values, name string, lo, hi float64, loOpen bool) (float64, bool, error) {
	if !q.Has(name) {
		return 0, false, nil
	}
	s := q.Get(name)
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(x) {
		return 0, false, badParam("%s: want a number, got %q", name, echo(s))
	}
	if x < lo || loOpen && x == lo || x > hi {
		if loOpen {
			return 0, false, badParam("%s: want a number in (%g, %g], got %s", name, lo, hi, echo(s))
		}
		return 0, false, badParam("%s: want a number in [%g, %g], got %s", name, lo, hi, echo(s))
	}
	return x, true, nil
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	if !q.Has(name) {
		return def, nil
	}
	s := q.Get(name)
	x, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, badParam("%s: want an integer, got %q", name, echo(s))
	}
	if x < lo || x > hi {
		return 0, badParam("%s: want %d..%d, got %d", name, lo, hi, x)
	}
	return x, nil
}

var classParams = []struct {
	name  string
	class veil.Class
}{
	{"face", veil.Face}, {"license-plate", veil.LicensePlate}, {"person", veil.Person}, {"vehicle", veil.Vehicle},
}

// uploadKeys are the query parameters of POST /v1/file: the spec's, and
// the anonymization gradients (veil.ParamNames).
var uploadKeys = func() map[string]bool {
	m := make(map[string]bool)
	for _, ks := range [][]string{veil.ParamNames, hookKeys,
		{"face", "license-plate", "person", "vehicle", "segmentation-threshold", "no-object-tracking", "keep-bit-rate"}} {
		for _, k := range ks {
			m[k] = true
		}
	}
	return m
}()

// checkUploadKeys refuses a query parameter of POST /v1/file that v1 does
// not have: one ignored would leave the upload processed otherwise than
// its client asked (a threshold, a class), and no one would know. The
// Cloud API v2's spellings (face_threshold, anonymization_method) are
// named with their v1 spelling.
func checkUploadKeys(q url.Values) error {
	var unknown []string
	for k := range q {
		if !uploadKeys[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	k := unknown[0]
	v1 := strings.ReplaceAll(strings.ToLower(k), "_", "-")
	if v1 == "anonymization-method" {
		v1 = "method"
	}
	if uploadKeys[v1] {
		return badParam("%s: not a v1 parameter; v1 spells it %s (%s is the Cloud API v2's spelling)", echo(k), v1, echo(k))
	}
	return badParam("%s: not a v1 parameter (the v1 parameters are %s)", echo(k), strings.Join(slices.Sorted(maps.Keys(uploadKeys)), ", "))
}

// parseOptions parses the query parameters of POST /v1/file, with the
// server's start-up defaults of classes and format (see Config). It reads
// the known parameters only: checkUploadKeys refuses the others.
func parseOptions(q url.Values, cfg *Config) (*options, error) {
	o := &options{}
	p := &o.params

	// The anonymization parameters, by their Celantur names; an empty
	// value is the default.
	for _, name := range veil.ParamNames {
		v := q.Get(name)
		if strings.TrimSpace(v) == "" {
			continue
		}
		if err := p.Set(name, v); err != nil {
			var pe *veil.ParamError
			if errors.As(err, &pe) {
				return nil, badParam("%s", paramErrorText(pe))
			}
			return nil, badParam("%s: %v", name, err)
		}
	}

	if strings.TrimSpace(q.Get("format")) == "" {
		p.Format = cfg.Format
	}

	// Classes: those given true; when none is, the server's default (face
	// and license-plate unless started otherwise) less those given false.
	var on, off []veil.Class
	for _, c := range classParams {
		v, given, err := boolParam(q, c.name)
		if err != nil {
			return nil, err
		}
		if given && v {
			on = append(on, c.class)
		} else if given {
			off = append(off, c.class)
		}
	}
	if len(on) > 0 {
		p.Classes = on
	} else {
		def := cfg.Classes
		if len(def) == 0 {
			def = []veil.Class{veil.Face, veil.LicensePlate}
		}
		for _, c := range def {
			if !containsClass(off, c) {
				p.Classes = append(p.Classes, c)
			}
		}
		if len(p.Classes) == 0 {
			return nil, badParam("no object class to anonymize: set face, license-plate, person or vehicle to true")
		}
	}

	var err error
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"no-object-tracking", &o.video.NoObjectTracking}, {"keep-bit-rate", &o.video.KeepBitRate},
	} {
		if *b.dst, _, err = boolParam(q, b.name); err != nil {
			return nil, err
		}
	}

	// segmentation-threshold is deprecated: it sets the person and vehicle
	// thresholds not given themselves.
	seg, segGiven, err := floatParam(q, "segmentation-threshold", 0, 1, false)
	if err != nil {
		return nil, err
	}
	if segGiven {
		for _, t := range []struct {
			name string
			dst  *float32
		}{{"person-threshold", &p.PersonThreshold}, {"vehicle-threshold", &p.VehicleThreshold}} {
			if strings.TrimSpace(q.Get(t.name)) == "" {
				*t.dst = max(float32(seg), veil.MinThreshold) // 0: every candidate, as the others
			}
		}
	}

	if s := q.Get("webhook"); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badParam("webhook: want an http or https URL, got %q", echo(s))
		}
		h := &webhook{url: u.String()}
		h.name = firstOf(q, "webhook-auth-header-name", "web-auth-header-name")
		h.value = firstOf(q, "webhook-auth-header-value", "web-auth-header-value")
		if h.name != "" && !validHeaderName(h.name) {
			return nil, badParam("webhook-auth-header-name: %q is not a header name", echo(h.name))
		}
		if strings.ContainsAny(h.value, "\r\n") {
			return nil, badParam("webhook-auth-header-value: must not hold line breaks")
		}
		o.hook = h
	}
	return o, nil
}

// paramErrorText is the detail of a parameter value the engine refuses:
// its name and what was wrong, said once — the reason when the engine
// knows it (it shows the faulty part of the value), otherwise what the
// parameter takes and the value, cut short when long (see
// veil.ParamError.Detail).
func paramErrorText(pe *veil.ParamError) string {
	return pe.Name + ": " + clip(pe.Detail(), maxDetail/2)
}

func containsClass(cs []veil.Class, c veil.Class) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func firstOf(q url.Values, names ...string) string {
	for _, n := range names {
		if v := q.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return s != ""
}
