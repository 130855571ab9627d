package blobstore

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veilkit/veil/internal/s3test"
)

func openS3(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), s3test.Start(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.Handler() != nil {
		t.Error("Handler of an s3 store is not nil")
	}
	return s
}

func TestS3Objects(t *testing.T) {
	t.Parallel()
	testObjects(t, openS3(t))
}

func TestS3SignedURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openS3(t)
	c := http.DefaultClient
	const key = "tasks/5/original"
	body := strings.Repeat("raw jpeg bytes ", 1000)

	put, err := s.SignedURL(ctx, key, http.MethodPut, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code, msg, _ := do(t, c, http.MethodPut, put, strings.NewReader(body), "image/jpeg"); code != http.StatusOK {
		t.Fatalf("pre-signed PUT: %d %s", code, msg)
	}
	a, err := s.Attributes(ctx, key)
	if err != nil || a.Size != int64(len(body)) || a.ContentType != "image/jpeg" {
		t.Errorf("after a pre-signed PUT, Attributes = %+v, %v", a, err)
	}
	if got := read(t, s, key); got != body {
		t.Errorf("after a pre-signed PUT, read %d bytes, want %d", len(got), len(body))
	}

	get, err := s.SignedURL(ctx, key, http.MethodGet, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	code, got, h := do(t, c, http.MethodGet, get, nil, "")
	if code != http.StatusOK || got != body || h.Get("Content-Type") != "image/jpeg" {
		t.Errorf("pre-signed GET: %d, %d bytes, Content-Type %q", code, len(got), h.Get("Content-Type"))
	}
	if code, _, _ := do(t, c, http.MethodPut, get, strings.NewReader("x"), ""); code != http.StatusForbidden {
		t.Errorf("PUT to a pre-signed GET URL: %d, want 403", code)
	}

	short, err := s.SignedURL(ctx, key, http.MethodGet, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	shortPut, err := s.SignedURL(ctx, "tasks/5/late", http.MethodPut, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if code, _, _ := do(t, c, http.MethodGet, short, nil, ""); code != http.StatusForbidden {
		t.Errorf("expired pre-signed GET: %d, want 403", code)
	}
	if code, _, _ := do(t, c, http.MethodPut, shortPut, strings.NewReader("late"), ""); code != http.StatusForbidden {
		t.Errorf("expired pre-signed PUT: %d, want 403", code)
	}
	if _, err := s.Attributes(ctx, "tasks/5/late"); err == nil {
		t.Error("an expired pre-signed PUT stored its object")
	}
}
