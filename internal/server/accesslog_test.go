package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// logLines collects the lines of a Config.Logf.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logLines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// matching returns the lines that match the regular expression re.
func (l *logLines) matching(re string) []string {
	var m []string
	for _, line := range l.get() {
		if regexp.MustCompile(re).MatchString(line) {
			m = append(m, line)
		}
	}
	return m
}

// TestAccessLog checks the line logged per request: address, method,
// path and query with the secrets left out, status, bytes and time.
func TestAccessLog(t *testing.T) {
	var log logLines
	s := newTestServer(t, func(cfg *Config) { cfg.Logf = log.logf }, nil)
	for _, c := range []struct {
		method, target string
		want           string // a regular expression the line matches
	}{
		{"GET", "/v1/status", `^127\.0\.0\.1:\d+ GET /v1/status 200 \d+B \d[.\dµmn]*s$`},
		{"GET", "/v1/nothing", `^127\.0\.0\.1:\d+ GET /v1/nothing 404 \d+B `},
		{"DELETE", "/v1/task/list", `^127\.0\.0\.1:\d+ DELETE /v1/task/list 422 \d+B `},
		{"GET", "/v1/task/list?x=1", `^127\.0\.0\.1:\d+ GET /v1/task/list\?x=1 200 3B `},
	} {
		n := len(log.get())
		resp, b := s.do(t, c.method, c.target, nil)
		lines := log.get()[n:]
		if len(lines) != 1 || !regexp.MustCompile(c.want).MatchString(lines[0]) {
			t.Errorf("%s %s (%d %d bytes): logged %q, want one line matching %s", c.method, c.target, resp.StatusCode, len(b), lines, c.want)
		}
		if len(lines) == 1 && !strings.Contains(lines[0], fmt.Sprintf(" %d %dB ", resp.StatusCode, len(b))) {
			t.Errorf("%s %s: logged %q, want status %d and %d bytes", c.method, c.target, lines[0], resp.StatusCode, len(b))
		}
	}
}

// TestLogTargetSecrets checks that the webhook, its header value and the
// signatures of signed URLs are never logged.
func TestLogTargetSecrets(t *testing.T) {
	for _, tt := range []struct{ target, want string }{
		{"/v1/file", "/v1/file"},
		{"/v1/file?method=blur&face=true", "/v1/file?method=blur&face=true"},
		{"/v1/file?webhook=https%3A%2F%2Fh.example%2F%3Ftoken%3Ds3cret&webhook-auth-header-name=X-Key&webhook-auth-header-value=s3cret",
			"/v1/file?webhook=REDACTED&webhook-auth-header-name=X-Key&webhook-auth-header-value=REDACTED"},
		{"/v1/file?web-auth-header-value=s3cret&method=blur", "/v1/file?method=blur&web-auth-header-value=REDACTED"},
		{"/v1/file?Webhook-Auth-Header-Value=s3cret", "/v1/file?Webhook-Auth-Header-Value=REDACTED"},
		{"/v1/file?a=%zz", "/v1/file?(unparsable query)"},
		{"/blob/tasks/1/original?expiry=1&method=PUT&obj=tasks%2F1%2Foriginal&signature=abc",
			"/blob/tasks/1/original?expiry=1&method=PUT&obj=tasks%2F1%2Foriginal&signature=REDACTED"},
		{"/b/k?X-Amz-Credential=id%2F20261206&X-Amz-Signature=abc",
			"/b/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
	} {
		u, err := url.Parse(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := logTarget(u); got != tt.want {
			t.Errorf("logTarget(%s) = %s, want %s", tt.target, got, tt.want)
		}
	}
}

// TestTaskStateLog checks the line logged per change of a task's state:
// queued, processing, done with its time, failed with its error.
func TestTaskStateLog(t *testing.T) {
	var log logLines
	s := newTestServer(t, func(cfg *Config) { cfg.Logf = log.logf }, nil)
	r := decodeJSON[map[string]string](t, s.upload(t, "?face=true&webhook-auth-header-value=s3cret", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
	id := r["id"]
	want := []string{
		`^task ` + id + `: queued$`,
		`^task ` + id + `: processing \(image "plate.jpg", attempt 1\)$`,
		`^task ` + id + `: done in \d+\.\d{3}s \(\d+ objects\)$`,
		`^127\.0\.0\.1:\d+ POST /v1/file\?face=true&webhook-auth-header-value=REDACTED 200 \d+B `,
	}
	var got []string
	for _, line := range log.get() {
		if strings.Contains(line, "s3cret") {
			t.Errorf("a secret is logged: %q", line)
		}
		if strings.Contains(line, id) || strings.Contains(line, "POST") {
			got = append(got, line)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("logged %q, want %d lines matching %q", got, len(want), want)
	}
	for k, line := range got {
		if !regexp.MustCompile(want[k]).MatchString(line) {
			t.Errorf("line %d: %q, want a match of %s", k+1, line, want[k])
		}
	}

	// A failed task: its error. Every task runs past a time limit of 1 ns.
	s = newTestServer(t, func(cfg *Config) { cfg.Logf, cfg.TaskTimeout = log.logf, 1 }, nil)
	resp := s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), http.Header{"X-Is-Async": {"true"}})
	id = decodeJSON[map[string]string](t, resp)["id"]
	waitEnded(t, s, id)
	// The line is logged just after the record changes: wait for it.
	failed := `^task ` + id + `: failed after \d+\.\d{3}s: the task ran past the server's time limit`
	for end := time.Now().Add(5 * time.Second); len(log.matching(failed)) == 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if m := log.matching(failed); len(m) != 1 {
		t.Errorf("failed task: logged %q", log.matching(id))
	}
}

// waitEnded waits until the task id is done or failed.
func waitEnded(t *testing.T, s *testServer, id string) {
	t.Helper()
	for range 1000 {
		if tk, ok := s.store.get(id); ok && !tk.active() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("task %s did not end", id)
}
