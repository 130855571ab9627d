package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
		"face-threshold=-0.1",
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
		{veil.ParamError{Name: "format", Value: `{"number":[0]}`, Want: "a grid", Reason: `"number" must be two positive integers, got [0]`},
			`format: "number" must be two positive integers, got [0]`},
		{veil.ParamError{Name: "method", Value: strings.Repeat("x", 1000), Want: "blur"}, `method: want blur, got "` + strings.Repeat("x", 64) + `"…`},
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
				return &os.PathError{Op: "write", Path: "tasks.db", Err: syscall.ENOSPC}
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

// TestRestartRequeues checks that a restart re-queues the tasks it
// interrupted whose input is intact, at most maxAttempts starts in all,
// says so in their records, and fails the others saying why.
func TestRestartRequeues(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Engine: testEngine(t), InputDir: filepath.Join(dir, "in"), OutputDir: filepath.Join(dir, "out"),
		Logf: t.Logf,
	}
	if err := os.MkdirAll(cfg.InputDir, 0o755); err != nil {
		t.Fatal(err)
	}
	jpg := readFile(t, "plate.jpg")
	type crashed struct {
		status   string
		attempts int
		input    []byte // nil: none
		size     int64  // recorded input size
		want     string // status after the restart
		says     string // in its note or error
	}
	cases := map[string]crashed{
		"processing, input intact":       {StatusProcessing, 1, jpg, int64(len(jpg)), StatusDone, "re-queued after a restart interrupted it (attempt 2 of 3 next)"},
		"queued, never started":          {StatusQueued, 0, jpg, int64(len(jpg)), StatusDone, "before it had started"},
		"processing, old record no size": {StatusProcessing, 1, jpg, 0, StatusDone, "re-queued"},
		"processing, started 3 times":    {StatusProcessing, 3, jpg, int64(len(jpg)), StatusFailed, "started 3 times"},
		"processing, input missing":      {StatusProcessing, 1, nil, int64(len(jpg)), StatusFailed, "input is missing"},
		"queued, input cut short":        {StatusQueued, 0, jpg[:1000], int64(len(jpg)), StatusFailed, "input is missing or incomplete"},
	}
	ids := map[string]string{}
	for name, c := range cases {
		id := newID()
		ids[name] = id
		tk := Task{ID: id, Status: c.status, Kind: "image", ContentType: "image/jpeg", Input: id + ".jpg",
			InputSize: c.size, Attempts: c.attempts, Query: "license-plate=true", Created: time.Now().UTC()}
		putRecords(t, cfg.OutputDir, tk)
		if c.input != nil {
			os.WriteFile(filepath.Join(cfg.InputDir, tk.Input), c.input, 0o644)
		}
		os.MkdirAll(filepath.Join(cfg.OutputDir, id), 0o755)
		os.WriteFile(filepath.Join(cfg.OutputDir, id, fileBinary), []byte("partial"), 0o644)
	}
	s := startTestServer(t, cfg, nil)
	deadline := time.Now().Add(2 * time.Minute) // for all: a hang fails, not a slow run
	for name, c := range cases {
		id := ids[name]
		var tk Task
		for ; ; time.Sleep(20 * time.Millisecond) {
			var ok bool
			if tk, ok = s.store.get(id); !ok {
				t.Fatalf("%s: no record", name)
			}
			if !tk.active() || time.Now().After(deadline) {
				break
			}
		}
		if tk.Status != c.want || !strings.Contains(tk.Note+tk.Error, c.says) {
			t.Errorf("%s: %s, note %q, error %q; want %s saying %q", name, tk.Status, tk.Note, tk.Error, c.want, c.says)
		}
		if c.want == StatusDone {
			if tk.Attempts != c.attempts+1 {
				t.Errorf("%s: attempts %d, want %d", name, tk.Attempts, c.attempts+1)
			}
			if resp, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil); resp.StatusCode != 200 {
				t.Errorf("%s: anonymised: %d %s", name, resp.StatusCode, b)
			}
			_, b := s.do(t, "GET", "/v1/task/"+id, nil)
			if !bytes.Contains(b, []byte(c.says)) {
				t.Errorf("%s: GET /v1/task does not say %q: %s", name, c.says, b)
			}
		} else if _, err := os.Stat(filepath.Join(cfg.OutputDir, id)); !os.IsNotExist(err) {
			t.Errorf("%s: partial outputs kept", name)
		}
		rec := storedRecords(t, cfg.OutputDir)[id]
		if !bytes.Contains(rec, []byte(`"`+c.want+`"`)) || !bytes.Contains(rec, []byte(c.says)) {
			t.Errorf("%s: record in the store: %s", name, rec)
		}
	}
}

// TestRestartRequeueBounded checks that the tasks re-queued after a
// restart are no more than the queue holds; the others fail, saying why.
func TestRestartRequeueBounded(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Engine: testEngine(t), InputDir: filepath.Join(dir, "in"), OutputDir: filepath.Join(dir, "out"),
		Queue: 2, Workers: 1, Logf: t.Logf,
	}
	os.MkdirAll(cfg.InputDir, 0o755)
	jpg := readFile(t, "plate.jpg")
	var ids []string
	for k := range 3 {
		id := newID()
		ids = append(ids, id)
		tk := Task{ID: id, Status: StatusQueued, Kind: "image", ContentType: "image/jpeg", Input: id + ".jpg",
			InputSize: int64(len(jpg)), Created: time.Now().UTC().Add(time.Duration(k) * time.Second)}
		putRecords(t, cfg.OutputDir, tk)
		os.WriteFile(filepath.Join(cfg.InputDir, tk.Input), jpg, 0o644)
	}
	release := make(chan struct{})
	s := startTestServer(t, cfg, func(string) { <-release })
	tk, _ := s.store.get(ids[2])
	if tk.Status != StatusFailed || !strings.Contains(tk.Error, "queue had no room") {
		t.Errorf("the newest task: %s %q, want failed for want of room", tk.Status, tk.Error)
	}
	close(release)
	for _, id := range ids[:2] {
		waitDone(t, s, id)
	}
}

// TestRestartRemovesLeftovers checks that a start removes what a crash
// left with no record (a partial upload, an input or outputs whose record
// is gone) and keeps the rest.
func TestRestartRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Engine: testEngine(t), InputDir: filepath.Join(dir, "in"), OutputDir: filepath.Join(dir, "out"),
		Logf: t.Logf,
	}
	s1 := startTestServer(t, cfg, nil)
	r := decodeJSON[map[string]string](t, s1.upload(t, "?license-plate=true", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
	kept := r["id"]
	s1.ts.Close()
	s1.Close(t.Context())

	orphan := newID()
	gone := []string{
		filepath.Join(cfg.InputDir, "."+newID()+".jpg.tmp123456"),
		filepath.Join(cfg.InputDir, "."+newID()+".mp4.tmp42"),
		filepath.Join(cfg.InputDir, orphan+".png"),
		filepath.Join(cfg.OutputDir, orphan, fileAnonymised),
	}
	stay := []string{
		filepath.Join(cfg.InputDir, kept+".jpg"),
		filepath.Join(cfg.OutputDir, kept, fileAnonymised),
		filepath.Join(cfg.InputDir, "notes.txt"),
		filepath.Join(cfg.InputDir, ".hidden.tmp1"),
		filepath.Join(cfg.InputDir, orphan+".txt"),
	}
	for _, p := range append(gone, stay...) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if _, err := os.Stat(p); os.IsNotExist(err) {
			os.WriteFile(p, []byte("partial"), 0o644)
		}
	}
	s2 := startTestServer(t, cfg, nil)
	for _, p := range gone {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s kept after a restart", p)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.OutputDir, orphan)); !os.IsNotExist(err) {
		t.Errorf("the output folder of %s kept", orphan)
	}
	for _, p := range stay {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if resp, b := s2.do(t, "GET", "/v1/file/"+kept+"/anonymised", nil); resp.StatusCode != 200 {
		t.Errorf("anonymised after restart: %d %s", resp.StatusCode, b)
	}
}

// TestTaskTimeout checks that a task that runs past Config.TaskTimeout
// ends failed, saying so, with no output; a synchronous upload is told
// with 422.
func TestTaskTimeout(t *testing.T) {
	jpg := readFile(t, "plate.jpg")
	for _, c := range []struct {
		name  string
		query string
		hold  time.Duration // the worker waits this long before processing
	}{
		{"held worker", "?license-plate=true", 300 * time.Millisecond},
		{"heavy tiling", `?license-plate=true&format={"number":[8,8],"overlap":[0.5,0.5]}`, 0},
	} {
		s := newTestServer(t, func(cfg *Config) { cfg.TaskTimeout = 100 * time.Millisecond },
			func(string) { time.Sleep(c.hold) })
		resp := s.upload(t, c.query, "plate.jpg", "image/jpeg", jpg, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantDetail(t, c.name+": sync", resp.StatusCode, b, 422, "--task-timeout")

		r := decodeJSON[map[string]string](t, s.upload(t, c.query, "plate.jpg", "image/jpeg", jpg, http.Header{"X-Is-Async": {"true"}}))
		id := r["id"]
		var tk Task
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			tk, _ = s.store.get(id)
			if !tk.active() || time.Now().After(deadline) {
				break
			}
		}
		if tk.Status != StatusFailed || !strings.Contains(tk.Error, "time limit of 100ms") {
			t.Errorf("%s: async task %s %q, want failed past the time limit", c.name, tk.Status, tk.Error)
		}
		if _, err := os.Stat(s.outDir(id)); !os.IsNotExist(err) {
			t.Errorf("%s: outputs of the failed task kept: %v", c.name, err)
		}
		resp2, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil)
		wantDetail(t, c.name+": anonymised", resp2.StatusCode, b, 422, "failed")
	}
}
