package server

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// multipartFrame returns the bytes of a multipart body before and after
// the content of a fileobject named name, and its Content-Type.
func multipartFrame(name string) (head, tail []byte, contentType string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="fileobject"; filename="`+name+`"`)
	h.Set("Content-Type", "image/jpeg")
	mw.CreatePart(h)
	head = bytes.Clone(b.Bytes())
	b.Reset()
	mw.Close()
	return head, b.Bytes(), mw.FormDataContentType()
}

// endlessBody yields head, then zeros without end, counting the bytes read.
type endlessBody struct {
	head []byte
	n    atomic.Int64
}

func (b *endlessBody) Read(p []byte) (int, error) {
	off := b.n.Load()
	var k int
	if off < int64(len(b.head)) {
		k = copy(p, b.head[off:])
	} else {
		clear(p)
		k = len(p)
	}
	b.n.Add(int64(k))
	return k, nil
}

func (b *endlessBody) Close() error { return nil }

// TestUploadTooLarge checks that a declared length over MaxUploadBytes is
// refused before the body is read, and that a body without a declared
// length is read no further than the limit: 413 either way, no file left.
func TestUploadTooLarge(t *testing.T) {
	const limit = 1 << 20
	s := newTestServer(t, func(c *Config) { c.MaxUploadBytes = limit }, nil)
	head, _, ct := multipartFrame("big.jpg")
	head = append(head, readFile(t, "plate.jpg")...)
	for _, c := range []struct {
		name      string
		declared  int64
		wantRead  int64 // at most
		wantInMsg string
	}{
		{"declared over the limit", limit + 1, 0, "declared"},
		{"declared far over the limit", 400 << 20, 0, "declared"},
		{"no declared length", -1, limit + 1, "the limit is"},
	} {
		body := &endlessBody{head: head}
		req := httptest.NewRequest("POST", "/v1/file", body)
		req.ContentLength = c.declared
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		wantDetail(t, c.name, rec.Code, rec.Body.Bytes(), http.StatusRequestEntityTooLarge, c.wantInMsg)
		if n := body.n.Load(); n > c.wantRead {
			t.Errorf("%s: %d bytes of the body read, want %d at most", c.name, n, c.wantRead)
		}
	}
	if n := dirLen(t, s.in); n != 0 {
		t.Errorf("%d files left in the input folder", n)
	}
	if n := len(s.store.list()); n != 0 {
		t.Errorf("%d task records left", n)
	}
}

// blockingUpload starts posting a fileobject of the JPEG jpg followed by
// zeros to s, sending the first sent bytes of it; the rest goes when the
// returned function is called with true, or the body stalls and is cut
// with false. The reply comes on the returned channel.
func blockingUpload(t *testing.T, s *testServer, jpg []byte, sent, total int, async bool) (func(finish bool), <-chan *http.Response) {
	t.Helper()
	head, tail, ct := multipartFrame("big.jpg")
	data := append(append(head, jpg...), make([]byte, total-len(jpg))...)
	data = append(data, tail...)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.ts.URL+"/v1/file", pr)
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", ct)
	if async {
		req.Header.Set("X-Is-Async", "true")
	}
	replies := make(chan *http.Response, 1)
	go func() {
		client := &http.Client{Timeout: 20 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("upload: %v", err)
			close(replies)
			return
		}
		replies <- resp
	}()
	sentDone := make(chan struct{})
	go func() {
		pw.Write(data[:sent])
		close(sentDone)
	}()
	return func(finish bool) {
		<-sentDone
		if finish {
			pw.Write(data[sent:])
			pw.Close()
		}
	}, replies
}

// TestUploadStreamsToDisk checks that an upload's body goes to disk as it
// arrives, not after it has all been read into memory.
func TestUploadStreamsToDisk(t *testing.T) {
	s := newTestServer(t, nil, nil)
	jpg := readFile(t, "plate.jpg")
	const sent = 3 << 20
	finish, replies := blockingUpload(t, s, jpg, sent, 8<<20, false)
	// Part of the body is on disk while the rest is yet to come.
	var size int64
	for deadline := time.Now().Add(20 * time.Second); size < sent-(512<<10) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		des, _ := os.ReadDir(s.in)
		for _, de := range des {
			if fi, err := de.Info(); err == nil && strings.HasPrefix(de.Name(), ".") {
				size = max(size, fi.Size())
			}
		}
	}
	if size < sent-(512<<10) {
		t.Errorf("%d bytes on disk with %d of the body sent, want the body written as it arrives", size, sent)
	}
	finish(true)
	resp := <-replies
	if resp == nil {
		t.Fatal("no reply")
	}
	r := decodeJSON[map[string]string](t, resp)
	if resp.StatusCode != 200 || r["status"] != StatusDone {
		t.Fatalf("upload: %d %v", resp.StatusCode, r)
	}
	if resp, b := s.do(t, "GET", "/v1/file/"+r["id"]+"/anonymised", nil); resp.StatusCode != 200 {
		t.Errorf("anonymised: %d %s", resp.StatusCode, b)
	}
	tk, _ := s.store.get(r["id"])
	if fi, err := os.Stat(filepath.Join(s.in, tk.Input)); err != nil || fi.Size() != 8<<20 || tk.InputSize != 8<<20 {
		t.Errorf("input: %v, recorded size %d, want %d bytes", err, tk.InputSize, 8<<20)
	}
}

// TestUploadStalled checks that a body that stops arriving is cut after
// UploadIdleTimeout: 408, and nothing of it is kept.
func TestUploadStalled(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.UploadIdleTimeout = 200 * time.Millisecond }, nil)
	finish, replies := blockingUpload(t, s, readFile(t, "plate.jpg"), 1<<20, 4<<20, true)
	defer finish(false)
	resp := <-replies
	if resp == nil {
		t.Fatal("no reply to a stalled upload")
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantDetail(t, "stalled upload", resp.StatusCode, b, http.StatusRequestTimeout, "upload too slow")
	if n := dirLen(t, s.in); n != 0 {
		t.Errorf("%d files left in the input folder", n)
	}
}

func TestUploadTime(t *testing.T) {
	s := &Server{cfg: Config{MaxUploadBytes: 512 << 20, MinUploadRate: 1 << 20, UploadIdleTimeout: 30 * time.Second}}
	for _, c := range []struct {
		declared int64
		want     time.Duration
	}{
		{-1, 30*time.Second + 512*time.Second}, // unknown: the limit's
		{0, 30 * time.Second},
		{10 << 20, 40 * time.Second},
		{1 << 40, 30*time.Second + 512*time.Second}, // over the limit: cut there
	} {
		if got := s.uploadTime(c.declared); got != c.want {
			t.Errorf("uploadTime(%d) = %v, want %v", c.declared, got, c.want)
		}
	}
}

// TestTooManyUploads checks that uploads beyond MaxUploads being received
// are answered 503 at once, and that a finished upload frees its place.
func TestTooManyUploads(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxUploads, c.RetryAfter = 1, 2*time.Second }, nil)
	jpg := readFile(t, "plate.jpg")
	finish, replies := blockingUpload(t, s, jpg, 64<<10, 1<<20, true)
	// Wait until the first upload holds its place.
	for deadline := time.Now().Add(10 * time.Second); len(s.uploads) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	resp := s.upload(t, "", "plate.jpg", "image/jpeg", jpg, nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantDetail(t, "second upload", resp.StatusCode, b, http.StatusServiceUnavailable, "Too many uploads in progress")
	if ra := resp.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2", ra)
	}
	finish(true)
	if resp := <-replies; resp == nil || resp.StatusCode != 200 {
		t.Fatalf("first upload: %v", resp)
	}
	resp = s.upload(t, "", "plate.jpg", "image/jpeg", jpg, nil)
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 {
		t.Errorf("upload after the first: %d %s", resp.StatusCode, b)
	}
}

// TestUploadWriteFails checks that an upload the server cannot write is
// 507 when the disk is full, 500 otherwise, and leaves nothing.
func TestUploadWriteFails(t *testing.T) {
	jpg := readFile(t, "plate.jpg")
	for _, c := range []struct {
		err  error
		code int
	}{
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, http.StatusInsufficientStorage},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, http.StatusInternalServerError},
		{errors.New("broken"), http.StatusInternalServerError},
	} {
		s := newTestServer(t, nil, nil)
		real := s.writeInput
		s.writeInput = func(name string, write func(io.Writer) error) error {
			return real(name, func(w io.Writer) error {
				return write(&failingWriter{w: w, after: 1000, err: c.err})
			})
		}
		resp := s.upload(t, "", "plate.jpg", "image/jpeg", jpg, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantDetail(t, c.err.Error(), resp.StatusCode, b, c.code, "cannot store the upload")
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			t.Errorf("%v: Retry-After %q", c.err, ra)
		}
		if n := dirLen(t, s.in); n != 0 {
			t.Errorf("%v: %d files left in the input folder", c.err, n)
		}
		if n := len(s.store.list()); n != 0 {
			t.Errorf("%v: %d task records left", c.err, n)
		}
	}
}

// failingWriter writes after bytes, then fails with err.
type failingWriter struct {
	w     io.Writer
	after int
	err   error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.after {
		n, _ := f.w.Write(p[:f.after])
		f.after = 0
		return n, f.err
	}
	f.after -= len(p)
	return f.w.Write(p)
}
