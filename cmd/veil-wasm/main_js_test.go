//go:build js && wasm

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall/js"
	"testing"

	"github.com/veilkit/veil/onnx/ortweb"
)

// nodeORT returns onnxruntime-web as web/build.sh's npm ci installs it,
// loaded with node's require, or undefined when it is not installed.
func nodeORT(t *testing.T) js.Value {
	t.Helper()
	dir, err := filepath.Abs("../../web/node_modules/onnxruntime-web")
	if err != nil {
		t.Fatal(err)
	}
	req := js.Global().Get("require")
	if _, err := os.Stat(dir); err != nil || req.Type() != js.TypeFunction {
		return js.Undefined()
	}
	return req.Invoke(dir)
}

// TestJSAPI calls globalThis.veil as a page would (under node, with
// go_js_wasm_exec), on onnxruntime-web when web/node_modules has it.
func TestJSAPI(t *testing.T) {
	wantBackend := backendGo
	if ort := nodeORT(t); ort.Type() == js.TypeObject {
		js.Global().Set("ort", ort)
		defer js.Global().Delete("ort")
		wantBackend = backendORTWeb
	} else {
		t.Log("no web/node_modules/onnxruntime-web: the pure-Go runtime only")
	}
	register()
	veil := js.Global().Get("veil")
	if v := veil.Get("version"); v.Type() != js.TypeString || v.String() == "" {
		t.Errorf("veil.version = %v", v)
	}
	if _, err := ortweb.Await(veil.Get("ready")); err != nil {
		t.Fatal("veil.ready:", err)
	}
	if b := veil.Get("backend"); b.Type() != js.TypeString || b.String() != wantBackend {
		t.Errorf("veil.backend = %v, want %s", b, wantBackend)
	}
	data, err := os.ReadFile("../../testdata/group.jpg")
	if err != nil {
		t.Fatal(err)
	}
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)

	var stages []string
	onProgress := js.FuncOf(func(_ js.Value, args []js.Value) any {
		stages = append(stages, args[0].String())
		return nil
	})
	defer onProgress.Release()
	opts := js.Global().Get("Object").New()
	opts.Set("classes", js.ValueOf([]any{"face"}))
	opts.Set("method", "pixelate")
	opts.Set("face-threshold", 0.5)
	opts.Set("onProgress", onProgress)
	r, err := ortweb.Await(veil.Call("anonymize", arr, opts))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stages, ","); got != "decoding,detecting,encoding" {
		t.Errorf("progress %q", got)
	}
	if r.Get("format").String() != "jpeg" || !r.Get("image").InstanceOf(js.Global().Get("Uint8Array")) ||
		r.Get("image").Length() < 1000 || r.Get("width").Int() != 720 || r.Get("height").Int() != 478 {
		t.Errorf("result format %v image %v size %vx%v", r.Get("format"), r.Get("image"), r.Get("width"), r.Get("height"))
	}
	if b := r.Get("backend"); b.Type() != js.TypeString || b.String() != wantBackend {
		t.Errorf("result backend %v, want %s", b, wantBackend)
	}
	dets := js.Global().Get("JSON").Call("parse", r.Get("detections")).Get("detections")
	if n := r.Get("count").Int(); dets.Length() != n || n < 40 {
		t.Errorf("count %d, %d detections in the metadata", n, dets.Length())
	}

	// An ArrayBuffer works too; bad input and options reject with a message.
	if _, err := ortweb.Await(veil.Call("anonymize", arr.Get("buffer"), map[string]any{"method": "detect"})); err != nil {
		t.Errorf("ArrayBuffer: %v", err)
	}
	for _, c := range []struct {
		args []any
		want string
	}{
		{nil, "no image"},
		{[]any{"group.jpg"}, "must be a Uint8Array or ArrayBuffer"},
		{[]any{arr, map[string]any{"method": "smudge"}}, `option "method"`},
		{[]any{arr, map[string]any{"classes": []any{}}}, "no class given"},
		{[]any{arr, "blur"}, "options: want an object"},
		{[]any{js.Global().Get("Uint8Array").New(10)}, "veil: bad image"},
	} {
		_, err := ortweb.Await(veil.Call("anonymize", c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("anonymize(%v): error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

// TestLoadEngine makes the engine with each backend and execution
// provider veilOptions may ask for, with and without onnxruntime-web.
func TestLoadEngine(t *testing.T) {
	ort := nodeORT(t)
	for _, c := range []struct {
		backend, ep  string
		ort          js.Value
		want, epWant string // the backend, "" for an error; the execution provider
		note, error  string // what the note (or, on onnxruntime-web, the execution provider's note) or the error contains
	}{
		{"go", "", ort, backendGo, "", "", ""},
		{"", "", js.Undefined(), backendGo, "", "onnxruntime-web is not loaded", ""},
		{"auto", "", js.Global().Get("Object").New(), backendGo, "", "onnxruntime-web is not loaded", ""},
		{"ort-web", "", js.Undefined(), "", "", "", "loading the models on onnxruntime-web: ortweb: onnxruntime-web is not loaded"},
		{"webgl", "", ort, "", "", "", `want auto, ort-web or go, got "webgl"`},
		{"auto", "cuda", ort, "", "", "", `veilOptions.ep: want wasm or webgpu, got "cuda"`},
		{"auto", "", ort, backendORTWeb, "wasm", "", ""},
		// node has no WebGPU: the WebAssembly execution provider, saying why.
		{"auto", "webgpu", ort, backendORTWeb, "wasm", "WebGPU failed", ""},
	} {
		name := c.backend + "/" + c.ep
		if c.want == backendORTWeb && c.ort.Type() != js.TypeObject {
			t.Logf("%s: skipped: no web/node_modules/onnxruntime-web", name)
			continue
		}
		var loads []string
		onLoad := js.FuncOf(func(_ js.Value, args []js.Value) any {
			loads = append(loads, args[0].String())
			return nil
		})
		cfg := js.Global().Get("Object").New()
		cfg.Set("backend", c.backend)
		if c.ep != "" {
			cfg.Set("ep", c.ep)
		}
		cfg.Set("onLoad", onLoad)
		l, err := loadEngine(cfg, c.ort)
		onLoad.Release()
		if c.want == "" {
			if err == nil || !strings.Contains(err.Error(), c.error) {
				t.Errorf("%q: error %v, want one containing %q", name, err, c.error)
			}
			continue
		}
		note := l.note
		if c.want == backendORTWeb {
			note = l.epNote
		}
		if err != nil || l.e == nil || l.backend != c.want || l.ep != c.epWant || !strings.Contains(note, c.note) || (c.note == "") != (note == "") {
			t.Errorf("%q: engine %v backend %q ep %q note %q error %v; want backend %s, ep %q, note containing %q",
				name, l.e != nil, l.backend, l.ep, note, err, c.want, c.epWant, c.note)
		}
		if len(loads) == 0 || (c.want == backendORTWeb && !strings.Contains(strings.Join(loads, "; "), "loading model 4")) {
			t.Errorf("%q: onLoad was called with %q", name, loads)
		}
	}
}
