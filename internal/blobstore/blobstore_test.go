package blobstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openLocal opens a Store on dir whose signed URLs point at a test server
// serving its Handler; it returns the store and the server's client.
func openLocal(t *testing.T, dir string, opt Options) (*Store, *http.Client) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	opt.BaseURL = srv.URL + "/"
	s, err := Open(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h = s.Handler()
	if h == nil {
		t.Fatal("Handler of a local folder is nil")
	}
	return s, srv.Client()
}

// testObjects runs the object operations every kind of store must support.
func testObjects(t *testing.T, s *Store) {
	ctx := context.Background()
	objects := []struct {
		key, contentType, body string
	}{
		{"tasks/1/original", "image/jpeg", "\xff\xd8\xff jpeg"},
		{"tasks/1/result", "image/png", "\x89PNG result"},
		{"tasks/1/sub/meta.json", "application/json", `{"a":1}`},
		{"tasks/10/original", "image/jpeg", "other task"},
		{"tasks/2/empty", "application/octet-stream", ""},
	}
	for _, o := range objects {
		if err := s.Put(ctx, o.key, strings.NewReader(o.body), o.contentType); err != nil {
			t.Fatalf("Put(%s): %v", o.key, err)
		}
	}
	for _, o := range objects {
		a, err := s.Attributes(ctx, o.key)
		if err != nil {
			t.Fatalf("Attributes(%s): %v", o.key, err)
		}
		if a.Size != int64(len(o.body)) || a.ContentType != o.contentType {
			t.Errorf("Attributes(%s) = size %d, type %q; want %d, %q", o.key, a.Size, a.ContentType, len(o.body), o.contentType)
		}
		if d := time.Since(a.ModTime); d < -time.Minute || d > time.Minute {
			t.Errorf("Attributes(%s).ModTime = %v, not about now", o.key, a.ModTime)
		}
		if got := read(t, s, o.key); got != o.body {
			t.Errorf("NewReader(%s) read %q, want %q", o.key, got, o.body)
		}
	}

	// Replacing an object.
	if err := s.Put(ctx, "tasks/1/result", strings.NewReader("second"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, "tasks/1/result"); got != "second" {
		t.Errorf("after a second Put, read %q", got)
	}

	// A Put whose reader fails keeps nothing, and leaves an old object as it was.
	failing := io.MultiReader(strings.NewReader("half"), errReader{})
	if err := s.Put(ctx, "tasks/3/partial", failing, "text/plain"); err == nil {
		t.Error("Put of a failing reader: no error")
	}
	if _, err := s.Attributes(ctx, "tasks/3/partial"); !errors.Is(err, ErrNotExist) {
		t.Errorf("after a failed Put, Attributes: %v, want ErrNotExist", err)
	}
	failing = io.MultiReader(strings.NewReader("half"), errReader{})
	if err := s.Put(ctx, "tasks/1/result", failing, "text/plain"); err == nil {
		t.Error("Put of a failing reader: no error")
	}
	if got := read(t, s, "tasks/1/result"); got != "second" {
		t.Errorf("after a failed Put over it, read %q, want the old object", got)
	}

	if _, err := s.NewReader(ctx, "tasks/9/none"); !errors.Is(err, ErrNotExist) {
		t.Errorf("NewReader(missing): %v, want ErrNotExist", err)
	}
	if _, err := s.Attributes(ctx, "tasks/9/none"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Attributes(missing): %v, want ErrNotExist", err)
	}

	if err := s.Delete(ctx, "tasks/2/empty"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := s.Attributes(ctx, "tasks/2/empty"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Attributes after Delete: %v, want ErrNotExist", err)
	}
	if err := s.Delete(ctx, "tasks/2/empty"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}

	if err := s.DeletePrefix(ctx, "tasks/1/"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	for _, key := range []string{"tasks/1/original", "tasks/1/result", "tasks/1/sub/meta.json"} {
		if _, err := s.Attributes(ctx, key); !errors.Is(err, ErrNotExist) {
			t.Errorf("Attributes(%s) after DeletePrefix: %v, want ErrNotExist", key, err)
		}
	}
	if got := read(t, s, "tasks/10/original"); got != "other task" {
		t.Errorf("DeletePrefix(tasks/1/) touched tasks/10/original: read %q", got)
	}
	if err := s.DeletePrefix(ctx, "tasks/1/"); err != nil {
		t.Errorf("DeletePrefix of nothing: %v", err)
	}
	if err := s.DeletePrefix(ctx, ""); err == nil {
		t.Error("DeletePrefix(\"\"): no error")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }

func read(t *testing.T, s *Store, key string) string {
	t.Helper()
	r, err := s.NewReader(context.Background(), key)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return string(b)
}

func TestLocalObjects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := openLocal(t, filepath.Join(dir, "store"), Options{})
	testObjects(t, s)
	// DeletePrefix removed the emptied folders, but not the secret.
	if _, err := os.Stat(filepath.Join(dir, "store", "tasks", "1")); !os.IsNotExist(err) {
		t.Errorf("tasks/1 after DeletePrefix: %v, want it gone", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "store", secretName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != secretLen {
		t.Errorf("secret file: mode %v, size %d", fi.Mode(), fi.Size())
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	opt := Options{BaseURL: "http://127.0.0.1:7000/"}
	for _, u := range []string{
		filepath.Join(dir, "plain"),
		"file://" + filepath.ToSlash(filepath.Join(dir, "url")),
	} {
		s, err := Open(ctx, u, opt)
		if err != nil {
			t.Errorf("Open(%s): %v", u, err)
			continue
		}
		if err := s.Put(ctx, "a/b", strings.NewReader("x"), ""); err != nil {
			t.Errorf("Open(%s).Put: %v", u, err)
		}
		s.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "url", "a", "b")); err != nil {
		t.Errorf("file URL: %v", err)
	}
	for _, tc := range []struct {
		url     string
		baseURL string
	}{
		{filepath.Join(dir, "x"), ""},
		{filepath.Join(dir, "x"), "/relative/"},
		{"", "http://h/"},
		{"gs://bucket", "http://h/"},
		{"file://host/dir", "http://h/"},
		{"file://" + dir + "?create_dir=true", "http://h/"},
	} {
		if s, err := Open(ctx, tc.url, Options{BaseURL: tc.baseURL}); err == nil {
			s.Close()
			t.Errorf("Open(%q, BaseURL %q): no error", tc.url, tc.baseURL)
		}
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	s, _ := openLocal(t, t.TempDir(), Options{})
	ctx := context.Background()
	for _, key := range []string{
		"",
		"/tasks/1",
		"tasks/../secret",
		"..",
		"tasks/./1",
		"tasks//1",
		"tasks/1/",
		`tasks\1`,
		"tasks/1\n",
		".veil-url-secret",
		"tasks/.hidden",
		"tasks/1/original.attrs",
		"tasks/1/original.18a3f0c2.tmp",
		"bad\xff",
		strings.Repeat("k", 1025),
	} {
		if err := s.Put(ctx, key, strings.NewReader("x"), ""); err == nil {
			t.Errorf("Put(%q): no error", key)
		}
		if _, err := s.SignedURL(ctx, key, http.MethodGet, time.Minute); err == nil {
			t.Errorf("SignedURL(%q): no error", key)
		}
		if _, err := s.NewReader(ctx, key); err == nil || errors.Is(err, ErrNotExist) {
			t.Errorf("NewReader(%q): %v, want an invalid key", key, err)
		}
	}
	for _, key := range []string{"a", "tasks/12/original", "tasks/12/result.jpg", "x/y.tmp", "a b/ü"} {
		if err := s.Put(ctx, key, strings.NewReader("x"), ""); err != nil {
			t.Errorf("Put(%q): %v", key, err)
		}
	}
}

// do sends a request with body (nil: none) and returns the status and body
// of the answer.
func do(t *testing.T, c *http.Client, method, u string, body io.Reader, contentType string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	puts := map[string]int{}
	s, c := openLocal(t, t.TempDir(), Options{
		MaxPutBytes: 1000,
		OnPut: func(key string) {
			mu.Lock()
			puts[key]++
			mu.Unlock()
		},
	})
	sign := func(key, method string, expiry time.Duration) string {
		t.Helper()
		u, err := s.SignedURL(ctx, key, method, expiry)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	const key = "tasks/7/original"
	putURL := sign(key, http.MethodPut, time.Minute)
	if !strings.HasPrefix(putURL, s.opt.BaseURL+"blob/"+key+"?") {
		t.Errorf("signed URL %s does not begin with BaseURL + blob/ + key", putURL)
	}
	body := strings.Repeat("jpeg", 250) // 1000 bytes: exactly MaxPutBytes
	if code, msg, _ := do(t, c, http.MethodPut, putURL, strings.NewReader(body), "image/jpeg"); code != http.StatusOK {
		t.Fatalf("signed PUT: %d %s", code, msg)
	}
	if a, err := s.Attributes(ctx, key); err != nil || a.Size != 1000 || a.ContentType != "image/jpeg" {
		t.Errorf("after signed PUT, Attributes = %+v, %v", a, err)
	}
	mu.Lock()
	if puts[key] != 1 || len(puts) != 1 {
		t.Errorf("OnPut calls: %v, want %s once", puts, key)
	}
	mu.Unlock()

	getURL := sign(key, http.MethodGet, time.Minute)
	code, got, h := do(t, c, http.MethodGet, getURL, nil, "")
	if code != http.StatusOK || got != body {
		t.Errorf("signed GET: %d, %d bytes", code, len(got))
	}
	if h.Get("Content-Type") != "image/jpeg" || h.Get("Content-Length") != "1000" {
		t.Errorf("signed GET: Content-Type %q, Content-Length %q", h.Get("Content-Type"), h.Get("Content-Length"))
	}
	if code, _, _ := do(t, c, http.MethodHead, getURL, nil, ""); code != http.StatusOK {
		t.Errorf("HEAD of a GET URL: %d", code)
	}
	if code, _, _ := do(t, c, http.MethodGet, sign("tasks/7/none", http.MethodGet, time.Minute), nil, ""); code != http.StatusNotFound {
		t.Errorf("signed GET of a missing key: %d, want 404", code)
	}
	// A key that needs escaping in a URL.
	const odd = "tasks/7/a b?c&d=%/ü#x"
	if code, msg, _ := do(t, c, http.MethodPut, sign(odd, http.MethodPut, time.Minute), strings.NewReader("odd"), ""); code != http.StatusOK {
		t.Errorf("signed PUT of %q: %d %s", odd, code, msg)
	}
	if code, got, _ := do(t, c, http.MethodGet, sign(odd, http.MethodGet, time.Minute), nil, ""); code != http.StatusOK || got != "odd" {
		t.Errorf("signed GET of %q: %d %q", odd, code, got)
	}
	mu.Lock()
	delete(puts, odd)
	mu.Unlock()

	// Refused requests: 403 (413 for a large body), and nothing stored.
	tamper := func(u, param, value string) string {
		p, _ := url.Parse(u)
		q := p.Query()
		q.Set(param, value)
		p.RawQuery = q.Encode()
		return p.String()
	}
	otherURL := sign("tasks/8/original", http.MethodPut, time.Minute)
	otherPath := strings.Replace(otherURL, "tasks/8/original", "tasks/9/original", 1)
	otherPath = tamper(otherPath, "obj", "tasks/8/original")
	secretURL := strings.Replace(getURL, key, secretName, 1)
	for _, tc := range []struct {
		name   string
		method string
		url    string
		body   string
		want   int
		reason string
	}{
		{"PUT to a GET URL", http.MethodPut, getURL, "x", 403, "not signed for PUT"},
		{"GET of a PUT URL", http.MethodGet, putURL, "", 403, "not signed for GET"},
		{"DELETE", http.MethodDelete, getURL, "", 403, "not signed for DELETE"},
		{"tampered signature", http.MethodGet, tamper(getURL, "signature", "AAAA"), "", 403, "bad signature"},
		{"tampered key", http.MethodGet, tamper(getURL, "obj", "tasks/7/result"), "", 403, "bad signature"},
		{"tampered method", http.MethodPut, tamper(getURL, "method", "PUT"), "x", 403, "bad signature"},
		{"tampered expiry", http.MethodGet, tamper(getURL, "expiry", "99999999999"), "", 403, "bad signature"},
		{"path of another key", http.MethodPut, otherPath, "x", 403, "another key"},
		{"unsigned", http.MethodGet, strings.Split(getURL, "?")[0], "", 403, "bad signature"},
		{"the secret", http.MethodGet, secretURL, "", 403, "invalid key"},
		{"oversize PUT", http.MethodPut, otherURL, strings.Repeat("x", 1001), 413, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			code, msg, _ := do(t, c, tc.method, tc.url, body, "text/plain")
			if code != tc.want || !strings.Contains(msg, tc.reason) {
				t.Errorf("%s: %d %q, want %d and %q", tc.name, code, msg, tc.want, tc.reason)
			}
		})
	}
	// The oversize PUT again, without a Content-Length: refused while reading.
	req, _ := http.NewRequest(http.MethodPut, otherURL, io.MultiReader(strings.NewReader(strings.Repeat("y", 3000))))
	req.ContentLength = -1
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversize PUT: %d, want 413", resp.StatusCode)
	}
	for _, k := range []string{"tasks/7/result", "tasks/8/original", "tasks/9/original"} {
		if _, err := s.Attributes(ctx, k); !errors.Is(err, ErrNotExist) {
			t.Errorf("%s after refused requests: %v, want ErrNotExist", k, err)
		}
	}
	if got := read(t, s, key); got != body {
		t.Errorf("%s changed by refused requests", key)
	}
	mu.Lock()
	if len(puts) != 1 || puts[key] != 1 {
		t.Errorf("OnPut calls after refused requests: %v", puts)
	}
	mu.Unlock()
	if entries, err := os.ReadDir(filepath.Join(s.dir, "tasks", "8")); err == nil && len(entries) > 0 {
		t.Errorf("refused PUTs left files: %v", entries)
	}
}

func TestHandlerExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := openLocal(t, t.TempDir(), Options{})
	if err := s.Put(ctx, "k", strings.NewReader("x"), ""); err != nil {
		t.Fatal(err)
	}
	get, err := s.SignedURL(ctx, "k", http.MethodGet, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	put, err := s.SignedURL(ctx, "k", http.MethodPut, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// URLs carry their expiry in whole seconds.
	time.Sleep(2100 * time.Millisecond)
	if code, msg, _ := do(t, c, http.MethodGet, get, nil, ""); code != http.StatusForbidden || !strings.Contains(msg, "expired") {
		t.Errorf("expired GET: %d %q", code, msg)
	}
	if code, msg, _ := do(t, c, http.MethodPut, put, strings.NewReader("y"), ""); code != http.StatusForbidden || !strings.Contains(msg, "expired") {
		t.Errorf("expired PUT: %d %q", code, msg)
	}
	if got := read(t, s, "k"); got != "x" {
		t.Errorf("expired PUT changed k to %q", got)
	}
}

// TestSharedFolder checks that Stores on one folder, like several veil
// processes, accept each other's URLs, even when they open it at once.
func TestSharedFolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	const n = 4
	stores := make([]*Store, n)
	clients := make([]*http.Client, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], clients[i] = openLocal(t, dir, Options{}) })
	}
	wg.Wait()
	for i, s := range stores {
		key := "shared/" + string(rune('a'+i))
		u, err := s.SignedURL(ctx, key, http.MethodPut, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// Send the URL, signed by s, to the server of the next store.
		next := stores[(i+1)%n]
		u = next.opt.BaseURL + strings.TrimPrefix(u, s.opt.BaseURL)
		if code, msg, _ := do(t, clients[(i+1)%n], http.MethodPut, u, bytes.NewReader([]byte(key)), ""); code != http.StatusOK {
			t.Errorf("URL of store %d at store %d: %d %s", i, (i+1)%n, code, msg)
		}
		if got := read(t, s, key); got != key {
			t.Errorf("read %q, want %q", got, key)
		}
	}
	other, _ := openLocal(t, t.TempDir(), Options{})
	u, err := other.SignedURL(ctx, "shared/a", http.MethodGet, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u = stores[0].opt.BaseURL + strings.TrimPrefix(u, other.opt.BaseURL)
	if code, _, _ := do(t, clients[0], http.MethodGet, u, nil, ""); code != http.StatusForbidden {
		t.Errorf("URL of a store on another folder: %d, want 403", code)
	}
}
