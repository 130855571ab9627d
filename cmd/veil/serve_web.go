package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

const serveWebDescription = `
Serve-web serves the browser page of veil (the folder web/ of the repository)
on a local address: open the URL it prints. The page anonymizes images in the
browser with veil compiled to WebAssembly; the images never leave the device
(this server only hands out the page's static files and accepts no uploads).

Build the WebAssembly first with web/build.sh: it writes web/veil.wasm and
copies Go's wasm_exec.js beside it, and, when npm is installed, installs the
pinned onnxruntime-web (web/package.json) and copies the files the page runs
the models with to web/ort/. Without them the page runs the models on veil's
pure-Go runtime, several times slower, and says so. The server sends the
cross-origin isolation headers that onnxruntime-web's WebAssembly threads
need.

The server binds to 127.0.0.1 by default; -addr 127.0.0.1:0 picks a free port.`

// webORT are the files of onnxruntime-web (npm onnxruntime-web, dist/)
// that the page loads from ort/ when they are there: the script that sets
// globalThis.ort and its WebAssembly with SIMD and threads.
var webORT = []string{"ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"}

// webRequired are the files the page cannot run without.
var webRequired = []struct{ name, hint string }{
	{"index.html", "is -dir the web folder of the repository?"},
	{"worker.js", "is -dir the web folder of the repository?"},
	{"veil.wasm", "run web/build.sh first"},
	{"wasm_exec.js", "run web/build.sh first"},
}

func runServeWeb(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve-web", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `host:port` (port 0: a free port)")
	dir := fs.String("dir", "web", "serve the page from `folder`")
	fs.Usage = commandUsage(fs, "veil serve-web [-addr 127.0.0.1:8080] [-dir web]", serveWebDescription)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"serve-web", fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := checkWebDir(*dir); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           webHandler(*dir),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(stdout, "serving %s at http://%s/ (Ctrl-C to stop)\n", *dir, ln.Addr())
	if missing := missingORT(*dir); missing != "" {
		fmt.Fprintf(stdout, "%s is missing: the page runs the models on the pure-Go runtime (web/build.sh with npm installed copies onnxruntime-web to %s)\n",
			missing, filepath.Join(*dir, "ort"))
	} else {
		fmt.Fprintf(stdout, "the page runs the models on onnxruntime-web (%s)\n", filepath.Join(*dir, "ort"))
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// checkWebDir reports a folder that lacks a file the page needs, saying
// how to make it.
func checkWebDir(dir string) error {
	for _, f := range webRequired {
		p := filepath.Join(dir, f.name)
		if info, err := os.Stat(p); err != nil || info.IsDir() {
			return fmt.Errorf("%s is missing: %s", p, f.hint)
		}
	}
	return nil
}

// missingORT returns the first onnxruntime-web file that dir/ort lacks,
// "" when none is missing.
func missingORT(dir string) string {
	for _, f := range webORT {
		p := filepath.Join(dir, "ort", f)
		if info, err := os.Stat(p); err != nil || info.IsDir() {
			return p
		}
	}
	return ""
}

// webHandler serves the static files of dir: GET and HEAD only, no
// folder listings, no dot files, .wasm as application/wasm (what
// WebAssembly.instantiateStreaming wants). The Content-Security-Policy
// lets the page and its worker talk to this origin only. Every file is
// sent cross-origin isolated (COOP same-origin, COEP require-corp, CORP
// same-origin): onnxruntime-web's threads need SharedArrayBuffer, which
// only an isolated page (and its workers) has.
func webHandler(dir string) http.Handler {
	files := http.FileServerFS(os.DirFS(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: this server only serves the page's files", http.StatusMethodNotAllowed)
			return
		}
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") && name != "/" {
			name += "/"
		}
		for _, part := range strings.Split(name, "/") {
			if strings.HasPrefix(part, ".") || part == "node_modules" {
				http.NotFound(w, r)
				return
			}
		}
		rel := strings.TrimPrefix(name, "/")
		if rel == "" || strings.HasSuffix(rel, "/") {
			rel += "index.html"
		}
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || info.IsDir() {
			http.NotFound(w, r) // no listings
			return
		}
		h := w.Header()
		if ct := webContentType(rel); ct != "" {
			h.Set("Content-Type", ct)
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "+
			"worker-src 'self'; connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; "+
			"object-src 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		files.ServeHTTP(w, r)
	})
}

// webContentType returns the content type of the file name, "" to let
// net/http decide.
func webContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return mime.TypeByExtension(path.Ext(name))
}
