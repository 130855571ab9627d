package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/veilkit/veil"
)

// TestLongValuesClipped checks that an id or a parameter value of the
// client's is not echoed whole in an error's detail.
func TestLongValuesClipped(t *testing.T) {
	s := newTestServer(t, nil, nil)
	long := strings.Repeat("a", 100_000)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/task/" + long},
		{"DELETE", "/v1/task/" + long},
		{"GET", "/v1/file/" + long + "/anonymised"},
		{"GET", "/v1/file/" + long + "/metadata"},
		{"DELETE", "/v1/task/list?confirm=" + long},
		{"DELETE", "/v1/task/list?confirm=true&delete-scope=" + long},
		{"GET", "/v1/file/" + newID() + "/anonymised?download=" + long},
		{"GET", "/v1/file/" + newID() + "/anonymised?quality=" + long},
	} {
		resp, b := s.do(t, c.method, c.path, nil)
		if resp.StatusCode != 422 {
			t.Errorf("%s %.40s…: status %d, want 422", c.method, c.path, resp.StatusCode)
		}
		if len(b) > 400 {
			t.Errorf("%s %.40s…: a %d-byte reply: %.200s…", c.method, c.path, len(b), b)
		}
	}
	for _, q := range []string{"face=", "face-threshold=", "method=", "format=", "webhook=http:"} {
		resp := s.upload(t, "?"+q+long, "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil)
		var d detail
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != 422 {
			t.Errorf("%s…: %d %v", q, resp.StatusCode, err)
		}
		resp.Body.Close()
		if len(d.Detail) > 400 || !strings.Contains(d.Detail, "…") {
			t.Errorf("%s…: detail of %d bytes: %.200s…", q, len(d.Detail), d.Detail)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc… (4 bytes)"},
		{"aé", 2, "a… (3 bytes)"}, // never half a character
		{"", 0, ""},
	} {
		if got := clip(c.s, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// TestParamErrorsSayGotOnce checks that a refused parameter's detail
// reports the value once, whether or not the engine's text already does.
func TestParamErrorsSayGotOnce(t *testing.T) {
	for _, q := range []string{
		"method=smudge",
		"format=tiles",
		`format={"number":[0,2]}`,
		`format={"number":[2,2],"overlap":[1.5,0]}`,
		"format=pano:0",
		`ignores=[{"topLeftX":-1}]`,
		"face-threshold=0",
		"bbox=2",
	} {
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseOptions(v, &Config{})
		if err == nil {
			t.Errorf("%s: accepted", q)
			continue
		}
		if n := strings.Count(err.Error(), "got "); n > 1 {
			t.Errorf("%s: %q says got %d times", q, err, n)
		}
		name, _, _ := strings.Cut(q, "=")
		if !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s: %q does not start with the parameter's name", q, err)
		}
	}
	for _, c := range []struct {
		pe   veil.ParamError
		want string
	}{
		{veil.ParamError{Name: "bbox", Value: "2", Want: "true or false"}, `bbox: want true or false, got "2"`},
		{veil.ParamError{Name: "format", Value: "[0]", Want: "a grid; number must be positive, got [0]"}, `format: want a grid; number must be positive, got [0]`},
		{veil.ParamError{Name: "format", Value: "x", Want: `whole; unknown format "x"`}, `format: want whole; unknown format "x"`},
	} {
		if got := paramErrorText(&c.pe); got != c.want {
			t.Errorf("paramErrorText(%+v) = %q, want %q", c.pe, got, c.want)
		}
	}
}

// TestDiskFull checks that an upload the server cannot store for want of
// disk space is 507 with what failed, not a 503 inviting a retry, and
// leaves nothing behind.
func TestDiskFull(t *testing.T) {
	for _, failing := range []string{StatusNew, StatusQueued} {
		s := newTestServer(t, nil, nil)
		s.store.failWrite = func(tk Task) error {
			if tk.Status == failing {
				return &os.PathError{Op: "write", Path: s.store.path(tk.ID), Err: syscall.ENOSPC}
			}
			return nil
		}
		for _, h := range []http.Header{nil, {"X-Is-Async": {"true"}}} {
			resp := s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), h)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			what := fmt.Sprintf("record write failing when %s, %v", failing, h)
			wantDetail(t, what, resp.StatusCode, b, http.StatusInsufficientStorage, "no space left on device")
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				t.Errorf("%s: Retry-After %q", what, ra)
			}
		}
		if n := dirLen(t, s.in); n != 0 {
			t.Errorf("record write failing when %s: %d files left in the input folder", failing, n)
		}
		if list := s.store.list(); len(list) != 0 {
			t.Errorf("record write failing when %s: tasks %v left", failing, list)
		}
	}
}

func TestStorageStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, http.StatusInsufficientStorage},
		{fmt.Errorf("store: %w", syscall.EDQUOT), http.StatusInsufficientStorage},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, http.StatusInternalServerError},
		{errors.New("other"), http.StatusInternalServerError},
	} {
		if got := storageStatus(c.err); got != c.want {
			t.Errorf("storageStatus(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
