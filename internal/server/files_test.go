package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/veilkit/veil"
)

// TestMaskScaleParam checks that mask-scale follows the command line's
// rule, veil.ParseMaskScale: 0 is refused (it was taken as 100), as are
// values out of 1..100 and non-integers; a missing one is the default.
func TestMaskScaleParam(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  int
		ok    bool
	}{
		{"", veil.DefaultMaskScale, true},
		{"mask-scale=100", 100, true},
		{"mask-scale=1", 1, true},
		{"mask-scale=+50", 50, true},
		{"mask-scale=%2050%20", 50, true},
		{"mask-scale=0", 0, false},
		{"mask-scale=101", 0, false},
		{"mask-scale=-1", 0, false},
		{"mask-scale=12.5", 0, false},
		{"mask-scale=", 0, false},
		{"mask-scale=x", 0, false},
	} {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := maskScaleParam(q)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("%q: %d, %v", tt.query, got, err)
			continue
		}
		if err == nil {
			continue
		}
		if _, ok := err.(*paramError); !ok {
			t.Errorf("%q: %T %v, want a *paramError", tt.query, err, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "mask-scale: ") || !strings.Contains(msg, "1..100") {
			t.Errorf("%q: %q does not say mask-scale takes 1..100", tt.query, msg)
		}
	}
}

// TestMaskScaleZero checks that GET …/binary-mask?mask-scale=0 and
// …/instance-mask?mask-scale=0 are 422 with the server's error body, as
// --mask-scale 0 is an error of the command line.
func TestMaskScaleZero(t *testing.T) {
	s := newTestServer(t, nil, nil)
	for _, m := range []string{"binary-mask", "instance-mask"} {
		resp, b := s.do(t, "GET", "/v1/file/"+newID()+"/"+m+"?mask-scale=0", nil)
		wantDetail(t, m+" mask-scale=0", resp.StatusCode, b, 422, "mask-scale: want an integer percent in 1..100")
	}
}
