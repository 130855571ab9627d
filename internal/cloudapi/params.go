package cloudapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/veilkit/veil"
)

// Params are a task's parameters: the create request completed with the
// defaults, stored as the task's Params and answered by its endpoints,
// in the spec's order and underscore spellings.
type Params struct {
	Debug                                  bool            `json:"debug"`
	Score                                  bool            `json:"score"`
	AnonymizationMethod                    string          `json:"anonymization_method"`
	Face                                   bool            `json:"face"`
	LicensePlate                           bool            `json:"license_plate"`
	Person                                 bool            `json:"person"`
	Vehicle                                bool            `json:"vehicle"`
	Format                                 json.RawMessage `json:"format"` // a string or an object, as given
	BBox                                   bool            `json:"bbox"`
	Ignores                                string          `json:"ignores"`
	MaskScale                              int             `json:"mask_scale"`
	Quality                                int             `json:"quality"`
	CompressLevel                          int             `json:"compress_level"`
	KernelSizeFace                         float64         `json:"kernel_size_face"`
	KernelSizePerson                       float64         `json:"kernel_size_person"`
	KernelSizeLicensePlate                 float64         `json:"kernel_size_license_plate"`
	KernelSizeVehicle                      float64         `json:"kernel_size_vehicle"`
	FaceAnonymizationGradientStart         float64         `json:"face_anonymization_gradient_start"`
	FaceAnonymizationGradientStop          float64         `json:"face_anonymization_gradient_stop"`
	LicensePlateAnonymizationGradientStart float64         `json:"license_plate_anonymization_gradient_start"`
	LicensePlateAnonymizationGradientStop  float64         `json:"license_plate_anonymization_gradient_stop"`
	Webhook                                *string         `json:"webhook"`
	StartOn                                string          `json:"start_on"`
	BinarySegmentationMask                 bool            `json:"binary_segmentation_mask"`
	InstanceSegmentationMask               bool            `json:"instance_segmentation_mask"`
	FaceThreshold                          float64         `json:"face_threshold"`
	VehicleThreshold                       float64         `json:"vehicle_threshold"`
	PersonThreshold                        float64         `json:"person_threshold"`
	LicensePlateThreshold                  float64         `json:"license_plate_threshold"`
}

// Values of start_on.
const (
	startOnUpload  = "upload"
	startOnRequest = "start_request"
)

// defaultParams are the spec's defaults.
func defaultParams() Params {
	return Params{
		Format:                                 json.RawMessage(`"whole"`),
		MaskScale:                              100,
		Quality:                                veil.DefaultQuality,
		CompressLevel:                          veil.DefaultCompressLevel,
		KernelSizeFace:                         0.35,
		KernelSizePerson:                       95,
		KernelSizeLicensePlate:                 0.5,
		KernelSizeVehicle:                      61,
		FaceAnonymizationGradientStart:         veil.DefaultGradient.Start,
		FaceAnonymizationGradientStop:          veil.DefaultGradient.Stop,
		LicensePlateAnonymizationGradientStart: veil.DefaultGradient.Start,
		LicensePlateAnonymizationGradientStop:  veil.DefaultGradient.Stop,
		StartOn:                                startOnUpload,
		FaceThreshold:                          veil.DefaultFaceThreshold,
		VehicleThreshold:                       veil.DefaultVehicleThreshold,
		PersonThreshold:                        veil.DefaultPersonThreshold,
		LicensePlateThreshold:                  veil.DefaultLicensePlateThreshold,
	}
}

// createError is a create request the spec refuses: 400 with its message.
type createError struct{ msg string }

func (e *createError) Error() string { return e.msg }

func errNoBody() error { return &createError{"Could not create task. Please add a JSON body."} }

func errBody(cause string) error {
	return &createError{"Could not create task. Request body is not correct. " + cause}
}

func errUnknown(name string) error {
	return &createError{fmt.Sprintf("Could not create task. %s parameter caused an error. This parameter does not exist.", clip(name))}
}

func errUnexpected(name string) error {
	return &createError{fmt.Sprintf("Could not create task. %s parameter received an unexpected value.", name)}
}

func errValue(name, cause string) error {
	return &createError{fmt.Sprintf("Could not create task. %s parameter value caused an error. %s", name, cause)}
}

// param is one parameter of the create request: set parses its JSON
// value into p.
type param struct {
	name string // the underscore spelling
	set  func(p *Params, name string, v json.RawMessage) error
}

// params are the parameters of the create request, by their underscore
// spelling; each is also accepted with hyphens.
var params = func() map[string]param {
	list := []param{
		{"anonymization_method", setMethod},
		{"face", setBool(func(p *Params) *bool { return &p.Face })},
		{"license_plate", setBool(func(p *Params) *bool { return &p.LicensePlate })},
		{"person", setBool(func(p *Params) *bool { return &p.Person })},
		{"vehicle", setBool(func(p *Params) *bool { return &p.Vehicle })},
		{"debug", setBool(func(p *Params) *bool { return &p.Debug })},
		{"score", setBool(func(p *Params) *bool { return &p.Score })},
		{"bbox", setBool(func(p *Params) *bool { return &p.BBox })},
		{"binary_segmentation_mask", setBool(func(p *Params) *bool { return &p.BinarySegmentationMask })},
		{"instance_segmentation_mask", setBool(func(p *Params) *bool { return &p.InstanceSegmentationMask })},
		{"format", setFormat},
		{"ignores", setIgnores},
		{"webhook", setWebhook},
		{"start_on", setStartOn},
		{"mask_scale", setInt(func(p *Params) *int { return &p.MaskScale }, 1, 100)},
		{"quality", setInt(func(p *Params) *int { return &p.Quality }, 0, 100)},
		{"compress_level", setInt(func(p *Params) *int { return &p.CompressLevel }, 0, 9)},
		{"kernel_size_face", setEngine(func(p *Params) *float64 { return &p.KernelSizeFace })},
		{"kernel_size_person", setEngine(func(p *Params) *float64 { return &p.KernelSizePerson })},
		{"kernel_size_license_plate", setEngine(func(p *Params) *float64 { return &p.KernelSizeLicensePlate })},
		{"kernel_size_vehicle", setEngine(func(p *Params) *float64 { return &p.KernelSizeVehicle })},
		{"face_anonymization_gradient_start", setEngine(func(p *Params) *float64 { return &p.FaceAnonymizationGradientStart })},
		{"face_anonymization_gradient_stop", setEngine(func(p *Params) *float64 { return &p.FaceAnonymizationGradientStop })},
		{"license_plate_anonymization_gradient_start", setEngine(func(p *Params) *float64 { return &p.LicensePlateAnonymizationGradientStart })},
		{"license_plate_anonymization_gradient_stop", setEngine(func(p *Params) *float64 { return &p.LicensePlateAnonymizationGradientStop })},
		{"face_threshold", setEngine(func(p *Params) *float64 { return &p.FaceThreshold })},
		{"vehicle_threshold", setEngine(func(p *Params) *float64 { return &p.VehicleThreshold })},
		{"person_threshold", setEngine(func(p *Params) *float64 { return &p.PersonThreshold })},
		{"license_plate_threshold", setEngine(func(p *Params) *float64 { return &p.LicensePlateThreshold })},
	}
	m := make(map[string]param, len(list))
	for _, p := range list {
		m[p.name] = p
	}
	return m
}()

// maxBody bounds the create request's body.
const maxBody = 1 << 20

// parseCreate parses the body of POST /v2/task: a JSON object of the
// spec's parameters, each at most once (in either spelling). It returns
// a *createError for what the spec refuses.
func parseCreate(body io.Reader) (Params, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return Params{}, errBody("The body could not be read.")
	}
	if len(data) > maxBody {
		return Params{}, errBody(fmt.Sprintf("The body is larger than %d bytes.", maxBody))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Params{}, errNoBody()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Params{}, errBody("It must be a JSON object.")
	}
	p := defaultParams()
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Params{}, errBody("It is not valid JSON.")
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return Params{}, errBody("It is not valid JSON.")
		}
		canon := strings.ReplaceAll(key, "-", "_")
		pm, ok := params[canon]
		if !ok {
			return Params{}, errUnknown(key)
		}
		if prev, ok := seen[canon]; ok {
			return Params{}, errValue(key, fmt.Sprintf("It is given twice (%s and %s).", prev, key))
		}
		seen[canon] = key
		if err := pm.set(&p, key, v); err != nil {
			return Params{}, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return Params{}, errBody("It is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Params{}, errBody("There is data after the JSON object.")
	}
	if _, ok := seen["anonymization_method"]; !ok {
		return Params{}, errBody("The anonymization_method parameter is required: blur, pixelate or blacken.")
	}
	if !p.Face && !p.LicensePlate && !p.Person && !p.Vehicle {
		return Params{}, errBody("At least one of face, license_plate, person or vehicle must be true.")
	}
	return p, nil
}

// isNull reports whether v is JSON null.
func isNull(v json.RawMessage) bool { return string(v) == "null" }

func setMethod(p *Params, name string, v json.RawMessage) error {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return errUnexpected(name)
	}
	switch s {
	case "blur", "pixelate", "blacken":
		p.AnonymizationMethod = s
		return nil
	}
	return errUnexpected(name)
}

func setBool(field func(*Params) *bool) func(*Params, string, json.RawMessage) error {
	return func(p *Params, name string, v json.RawMessage) error {
		if json.Unmarshal(v, field(p)) != nil || isNull(v) {
			return errUnexpected(name)
		}
		return nil
	}
}

// numberText returns the text of a JSON number, or of a string holding
// one (the spec's GET answers show numbers as strings).
func numberText(v json.RawMessage) (string, bool) {
	var n json.Number
	if json.Unmarshal(v, &n) == nil && !isNull(v) {
		if _, err := strconv.ParseFloat(n.String(), 64); err == nil {
			return n.String(), true
		}
	}
	return "", false
}

func setInt(field func(*Params) *int, lo, hi int) func(*Params, string, json.RawMessage) error {
	return func(p *Params, name string, v json.RawMessage) error {
		s, ok := numberText(v)
		if !ok {
			return errUnexpected(name)
		}
		x, err := strconv.Atoi(s)
		if err != nil || x < lo || x > hi {
			return errValue(name, fmt.Sprintf("It must be an integer in %d..%d, got %s.", lo, hi, clip(s)))
		}
		*field(p) = x
		return nil
	}
}

// setEngine sets a number the engine checks (veil.Params.Set): its
// range is the engine's.
func setEngine(field func(*Params) *float64) func(*Params, string, json.RawMessage) error {
	return func(p *Params, name string, v json.RawMessage) error {
		s, ok := numberText(v)
		if !ok {
			return errUnexpected(name)
		}
		var vp veil.Params
		if err := vp.Set(name, s); err != nil {
			return engineError(name, err)
		}
		x, _ := strconv.ParseFloat(s, 64)
		*field(p) = x
		return nil
	}
}

// engineError is the create error of a value veil.Params.Set refuses.
func engineError(name string, err error) error {
	var pe *veil.ParamError
	if errors.As(err, &pe) {
		d := pe.Detail()
		return errValue(name, strings.ToUpper(d[:1])+d[1:]+".")
	}
	return errValue(name, err.Error())
}

func setFormat(p *Params, name string, v json.RawMessage) error {
	var text string
	switch {
	case json.Unmarshal(v, &text) == nil && !isNull(v):
	case len(v) > 0 && v[0] == '{':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return errUnexpected(name)
		}
		text = b.String()
	default:
		return errUnexpected(name)
	}
	var vp veil.Params
	if err := vp.Set("format", text); err != nil {
		return engineError(name, err)
	}
	var b bytes.Buffer
	json.Compact(&b, v)
	p.Format = b.Bytes()
	return nil
}

// formatText is the engine's format of the stored value: a string as it
// is, an object as its JSON.
func formatText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// setIgnores takes the regions as a string holding their JSON (the
// spec's type) or as the JSON array itself.
func setIgnores(p *Params, name string, v json.RawMessage) error {
	var text string
	switch {
	case isNull(v):
	case json.Unmarshal(v, &text) == nil:
	case len(v) > 0 && v[0] == '[':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return errUnexpected(name)
		}
		text = b.String()
	default:
		return errUnexpected(name)
	}
	var vp veil.Params
	if err := vp.Set("ignores", text); err != nil {
		return engineError(name, err)
	}
	p.Ignores = text
	return nil
}

func setWebhook(p *Params, name string, v json.RawMessage) error {
	if isNull(v) {
		p.Webhook = nil
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return errUnexpected(name)
	}
	if s == "" {
		p.Webhook = nil
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errValue(name, "It must be an http or https URL.")
	}
	p.Webhook = &s
	return nil
}

func setStartOn(p *Params, name string, v json.RawMessage) error {
	var s string
	if json.Unmarshal(v, &s) != nil || (s != startOnUpload && s != startOnRequest) {
		return errUnexpected(name)
	}
	p.StartOn = s
	return nil
}

// engineParams are the engine's parameters of p.
func (p *Params) engineParams() (veil.Params, error) {
	var vp veil.Params
	m, err := veil.ParseMethod(p.AnonymizationMethod)
	if err != nil {
		return vp, err
	}
	vp.Method = m
	for _, c := range []struct {
		on    bool
		class veil.Class
	}{{p.Face, veil.Face}, {p.LicensePlate, veil.LicensePlate}, {p.Person, veil.Person}, {p.Vehicle, veil.Vehicle}} {
		if c.on {
			vp.Classes = append(vp.Classes, c.class)
		}
	}
	vp.Format = formatText(p.Format)
	if vp.Ignores, err = veil.ParseIgnores(p.Ignores); err != nil {
		return vp, err
	}
	vp.BBox, vp.Debug, vp.Score = p.BBox, p.Debug, p.Score
	// A threshold of 0 (the spec's range is 0..1) keeps every candidate:
	// the engine's floor. Passed on as 0 it would mean "the default".
	vp.FaceThreshold = max(float32(p.FaceThreshold), veil.MinThreshold)
	vp.LicensePlateThreshold = max(float32(p.LicensePlateThreshold), veil.MinThreshold)
	vp.PersonThreshold = max(float32(p.PersonThreshold), veil.MinThreshold)
	vp.VehicleThreshold = max(float32(p.VehicleThreshold), veil.MinThreshold)
	vp.KernelSizeFace, vp.KernelSizeLicensePlate = p.KernelSizeFace, p.KernelSizeLicensePlate
	vp.KernelSizePerson, vp.KernelSizeVehicle = p.KernelSizePerson, p.KernelSizeVehicle
	vp.FaceGradient = &veil.Gradient{Start: p.FaceAnonymizationGradientStart, Stop: p.FaceAnonymizationGradientStop}
	vp.LicensePlateGradient = &veil.Gradient{Start: p.LicensePlateAnonymizationGradientStart, Stop: p.LicensePlateAnonymizationGradientStop}
	return vp, nil
}

// clip cuts a value echoed in a message to 64 characters.
func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
