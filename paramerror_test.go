package veil

import (
	"errors"
	"strings"
	"testing"
)

// TestParamErrorMessage checks the messages of bad parameter values: one
// "want" and one "got" at most (issue 18: "want …, got …, got …"), and
// the reason when Set knows it.
func TestParamErrorMessage(t *testing.T) {
	long := `[{"topLeftX":0,"topLeftY":0,"width":1,"height":1,"comment":"` + strings.Repeat("x", 1000) + `"}]`
	for _, tt := range []struct{ name, value, want string }{
		{"method", "smudge", `veil: bad option: method: want blur, pixelate, blacken or detect, got "smudge"`},
		{"face-threshold", "2", `veil: bad option: face-threshold: want a number in [0, 1], got "2"`},
		{"format", `{"number":[0,1]}`, `veil: bad option: format: "number" must be two positive integers, got [0,1]`},
		{"format", "pano:12", `veil: bad option: format: pano width 12 is not a preset (presets: 4096, 5400, 5640, 7060, 7680, 8000, 8192, 11000)`},
		{"ignores", `[{"topLeftX":1,"topLeftY":1,"width":0,"height":1}]`, `veil: bad option: ignores: region 1: width and height must be positive, got 0x1`},
		{"ignores", long, `veil: bad option: ignores: want a JSON array of regions {"topLeftX":X,"topLeftY":Y,"width":W,"height":H}: json: unknown field "comment"`},
	} {
		var p Params
		err := p.Set(tt.name, tt.value)
		var pe *ParamError
		if !errors.As(err, &pe) || !errors.Is(err, ErrOption) {
			t.Errorf("Set(%q, %q) = %v, want a ParamError", tt.name, tt.value, err)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("Set(%q, %q):\n got %s\nwant %s", tt.name, tt.value, got, tt.want)
		}
		if d := pe.Detail(); strings.Count(d, "got") > 1 || strings.Count(d, "want") > 1 || len(d) > 200 {
			t.Errorf("Set(%q, %q): detail %q", tt.name, tt.value, d)
		}
		if pe.Want == "" || strings.Contains(pe.Want, "got") {
			t.Errorf("Set(%q, %q): Want %q, want what the parameter takes", tt.name, tt.value, pe.Want)
		}
	}
	// A long value is cut short where the message quotes it.
	pe := &ParamError{Name: "method", Value: strings.Repeat("y", 1000), Want: "blur"}
	if d := pe.Detail(); len(d) > 100 || !strings.HasSuffix(d, `"…`) {
		t.Errorf("detail of a long value: %q", d)
	}
}

func TestParseMaskScale(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"100", 100, true},
		{" 1 ", 1, true},
		{"50", 50, true},
		{"0", 0, false},
		{"101", 0, false},
		{"-5", 0, false},
		{"12.5", 0, false},
		{"", 0, false},
		{"x", 0, false},
	} {
		got, err := ParseMaskScale(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseMaskScale(%q) = %d, %v", tt.in, got, err)
		}
		var pe *ParamError
		if err != nil && (!errors.As(err, &pe) || !errors.Is(err, ErrOption) || pe.Name != "mask-scale") {
			t.Errorf("ParseMaskScale(%q): %v is not a mask-scale ParamError", tt.in, err)
		}
	}
}
