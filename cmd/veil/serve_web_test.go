package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webDir makes a folder with the files of the page.
func webDir(t *testing.T, skip ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":   "<!doctype html><title>veil</title>",
		"worker.js":    "importScripts('wasm_exec.js')",
		"app.js":       "'use strict'",
		"style.css":    "body{}",
		"veil.wasm":    "\x00asm\x01\x00\x00\x00",
		"wasm_exec.js": "'use strict'",
		"e2e/e2e.mjs":  "//",
		".secret":      "x",
		"node_modules/onnxruntime-web/dist/ort.wasm.min.js": "var ort",
		"ort/ort.wasm.min.js":                               "var ort",
		"ort/ort-wasm-simd-threaded.mjs":                    "export default 1",
		"ort/ort-wasm-simd-threaded.wasm":                   "\x00asm\x01\x00\x00\x00",
	}
	for name, body := range files {
		if strings.Contains(strings.Join(skip, " "), name) {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWebHandler(t *testing.T) {
	srv := httptest.NewServer(webHandler(webDir(t)))
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/veil.wasm", 200, "application/wasm"},
		{"HEAD", "/veil.wasm", 200, "application/wasm"},
		{"GET", "/wasm_exec.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/worker.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/style.css", 200, "text/css; charset=utf-8"},
		{"GET", "/e2e/e2e.mjs", 200, "text/javascript; charset=utf-8"},
		{"GET", "/ort/ort.wasm.min.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/ort/ort-wasm-simd-threaded.mjs", 200, "text/javascript; charset=utf-8"},
		{"GET", "/ort/ort-wasm-simd-threaded.wasm", 200, "application/wasm"},
		{"GET", "/node_modules/onnxruntime-web/dist/ort.wasm.min.js", 404, ""},
		{"GET", "/e2e/", 404, ""}, // no listings
		{"GET", "/e2e", 404, ""},
		{"GET", "/.secret", 404, ""},
		{"GET", "/../serve_web.go", 404, ""},
		{"GET", "/missing.js", 404, ""},
		{"POST", "/", 405, ""},
		{"PUT", "/image.jpg", 405, ""},
	} {
		req, err := http.NewRequest(c.method, srv.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, resp.StatusCode, c.status)
			continue
		}
		if c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.path, resp.Header.Get("Content-Type"), c.ctype)
		}
		if c.status != 200 {
			continue
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
			t.Errorf("%s %s: Content-Security-Policy %q", c.method, c.path, resp.Header.Get("Content-Security-Policy"))
		}
		// Cross-origin isolated: onnxruntime-web's threads need it.
		for h, want := range map[string]string{
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Embedder-Policy": "require-corp",
			"Cross-Origin-Resource-Policy": "same-origin",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s %s: %s %q, want %q", c.method, c.path, h, got, want)
			}
		}
	}
}

func TestServeWebMissingWasm(t *testing.T) {
	dir := webDir(t, "veil.wasm")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve-web", "-dir", dir}, &stdout, &stderr); code != exitFailed {
		t.Errorf("exit status %d, want %d", code, exitFailed)
	}
	if !strings.Contains(stderr.String(), "veil.wasm is missing: run web/build.sh first") {
		t.Errorf("stderr %q", stderr.String())
	}
	if code := run([]string{"serve-web", "-dir", dir, "extra"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("extra argument: exit status %d, want %d", code, exitUsage)
	}
}

func TestServeWeb(t *testing.T) {
	dir := webDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- runContext(ctx, []string{"serve-web", "-addr", "127.0.0.1:0", "-dir", dir}, pw, &stderr)
		pw.Close()
	}()
	buf := make([]byte, 256)
	n, err := pr.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	line := string(buf[:n])
	i := strings.Index(line, "http://127.0.0.1:")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	url := strings.Fields(line[i:])[0]
	resp, err := http.Get(url + "veil.wasm")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("GET veil.wasm: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit status %d after cancel, want 0; stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve-web did not stop when its context ended")
	}
}

func TestMissingORT(t *testing.T) {
	if got := missingORT(webDir(t)); got != "" {
		t.Errorf("all files there: missingORT = %q", got)
	}
	dir := webDir(t, "ort/ort-wasm-simd-threaded.wasm")
	if got, want := missingORT(dir), filepath.Join(dir, "ort", "ort-wasm-simd-threaded.wasm"); got != want {
		t.Errorf("no .wasm: missingORT = %q, want %q", got, want)
	}
}
