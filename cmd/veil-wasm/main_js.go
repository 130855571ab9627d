//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"image"
	"runtime/debug"
	"strings"
	"sync"
	"syscall/js"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/onnx"
	"github.com/veilkit/veil/onnx/ortweb"
)

// The engine is made once, when the program starts, and shared by every
// call; backend says which runtime runs its models ("ort-web" or "go")
// and note, for the pure-Go fallback, why onnxruntime-web does not.
var (
	engineOnce    sync.Once
	engine        *veil.Engine
	engineBackend string
	engineNote    string
	engineEP      string // onnxruntime-web's execution provider: "wasm" or "webgpu"
	engineEPNote  string // why not WebGPU, when it was asked for and failed
	engineErr     error
)

// Backend names, as veil.backend and the results' backend field give
// them.
const (
	backendORTWeb = "ort-web" // onnxruntime-web, package onnx/ortweb
	backendGo     = "go"      // the pure-Go runtime
)

func getEngine() (*veil.Engine, error) {
	engineOnce.Do(func() {
		var l loaded
		l, engineErr = loadEngine(js.Global().Get("veilOptions"), js.Global().Get("ort"))
		engine, engineBackend, engineNote, engineEP, engineEPNote = l.e, l.backend, l.note, l.ep, l.epNote
	})
	return engine, engineErr
}

// loaded is the engine loadEngine made: the backend that runs its
// models and, for the pure-Go runtime in auto, why not onnxruntime-web
// (note); on onnxruntime-web, its execution provider (ep) and, when
// WebGPU was asked for and failed, why (epNote).
type loaded struct {
	e                         *veil.Engine
	backend, note, ep, epNote string
}

// loadEngine makes the engine as cfg (globalThis.veilOptions, read when
// the program starts) asks: its backend ("auto", the default:
// onnxruntime-web when the page loaded it (ort, globalThis.ort), else the
// pure-Go runtime; "ort-web": onnxruntime-web or an error; "go": the
// pure-Go runtime), ep, onnxruntime-web's execution provider ("wasm", the
// default, or "webgpu", which falls back to "wasm" when it fails), and
// onLoad, a function called with what is being loaded.
func loadEngine(cfg, ort js.Value) (l loaded, err error) {
	want, ep, report := "auto", "wasm", func(string) {}
	if cfg.Type() == js.TypeObject {
		if b := cfg.Get("backend"); b.Type() == js.TypeString && b.String() != "" {
			want = b.String()
		}
		if v := cfg.Get("ep"); v.Type() == js.TypeString && v.String() != "" {
			ep = v.String()
		}
		if f := cfg.Get("onLoad"); f.Type() == js.TypeFunction {
			report = func(msg string) {
				defer func() { recover() }() // a throwing callback does not stop the loading
				f.Invoke(msg)
			}
		}
	}
	switch want {
	case "auto", backendORTWeb, backendGo:
	default:
		return l, fmt.Errorf("veilOptions.backend: want auto, ort-web or go, got %q", want)
	}
	if ep != "wasm" && ep != "webgpu" {
		return l, fmt.Errorf("veilOptions.ep: want wasm or webgpu, got %q", ep)
	}
	if want != backendGo {
		e, err := newORTWebEngine(ort, ep, report)
		if err != nil && ep == "webgpu" {
			// The WebGPU bundle runs WebAssembly too.
			l.epNote = "WebGPU failed: " + err.Error()
			ep = "wasm"
			report("WebGPU failed; loading the models on onnxruntime-web's WebAssembly")
			e, err = newORTWebEngine(ort, ep, report)
		}
		if err == nil {
			l.e, l.backend, l.ep = e, backendORTWeb, ep
			return l, nil
		}
		if want == backendORTWeb {
			return loaded{}, fmt.Errorf("loading the models on onnxruntime-web: %w", err)
		}
		l.note = err.Error()
		if l.epNote != "" {
			l.note += " (after " + l.epNote + ")"
		}
		l.epNote = ""
	}
	report("loading the models (pure Go)")
	l.e, err = veil.New()
	if err != nil {
		return loaded{}, fmt.Errorf("loading the models: %w", err)
	}
	l.backend = backendGo
	return l, nil
}

// newORTWebEngine makes an engine whose models run on onnxruntime-web
// (ort, the module) with the execution provider ep, reporting each model
// as it loads.
func newORTWebEngine(ort js.Value, ep string, report func(string)) (*veil.Engine, error) {
	b, err := ortweb.New(ort, ep)
	if err != nil {
		return nil, err
	}
	report("loading the models on onnxruntime-web (" + ep + ")")
	e, err := veil.New(veil.WithBackend(&reportingBackend{Backend: b, report: report}))
	if err != nil {
		return nil, err
	}
	report("warming up onnxruntime-web")
	if err := warmUp(e); err != nil {
		return nil, fmt.Errorf("warming up: %w", err)
	}
	return e, nil
}

// warmUp runs e once on a blank 1024×768 image, faces and plates (and so
// the vehicles of the plate cascade). onnxruntime-web's first run of a
// model grows its WebAssembly memory and arenas, which takes several
// times as long as a later run: done here, the first image is as fast as
// the next.
func warmUp(e *veil.Engine) error {
	img := image.NewRGBA(image.Rect(0, 0, 1024, 768))
	for k := range img.Pix {
		img.Pix[k] = 128
	}
	_, err := e.Anonymize(context.Background(), img, veil.Params{Method: veil.DetectOnly})
	return err
}

// A reportingBackend reports each model it loads.
type reportingBackend struct {
	*ortweb.Backend
	report func(string)
	n      int
}

func (b *reportingBackend) Load(data []byte, threads int) (onnx.BackendModel, error) {
	b.n++
	b.report(fmt.Sprintf("loading model %d (%.1f MB) on onnxruntime-web", b.n, float64(len(data))/1e6))
	return b.Backend.Load(data, threads)
}

func main() {
	register()
	select {} // keep the callbacks alive
}

// register sets globalThis.veil and starts loading the engine.
func register() {
	api := js.Global().Get("Object").New()
	api.Set("version", version())
	api.Set("ready", promise(func() (any, error) {
		if _, err := getEngine(); err != nil {
			return nil, err
		}
		api.Set("backend", engineBackend)
		if engineNote != "" {
			api.Set("backendNote", engineNote)
		}
		if engineEP != "" {
			api.Set("executionProvider", engineEP)
		}
		if engineEPNote != "" {
			api.Set("executionProviderNote", engineEPNote)
		}
		return true, nil
	}))
	api.Set("anonymize", js.FuncOf(jsAnonymize))
	js.Global().Set("veil", api)
}

// jsAnonymize is veil.anonymize. The arguments are read before it returns
// (the caller may reuse its buffer); the work runs in a goroutine.
func jsAnonymize(_ js.Value, args []js.Value) any {
	fail := func(err error) any {
		return promise(func() (any, error) { return nil, err })
	}
	if len(args) == 0 {
		return fail(fmt.Errorf("veil.anonymize: no image: want a Uint8Array or ArrayBuffer of a JPEG or PNG file"))
	}
	data, err := bytesFromJS(args[0])
	if err != nil {
		return fail(err)
	}
	optv := js.Undefined()
	if len(args) > 1 {
		optv = args[1]
	}
	var progress func(string)
	var opts *options
	switch optv.Type() {
	case js.TypeUndefined, js.TypeNull:
		opts, err = parseOptions(nil)
	case js.TypeObject:
		if cb := optv.Get("onProgress"); cb.Type() == js.TypeFunction {
			progress = func(stage string) {
				defer func() { recover() }() // a throwing callback does not stop the work
				cb.Invoke(stage)
			}
		}
		j := js.Global().Get("JSON").Call("stringify", optv)
		if j.Type() != js.TypeString {
			opts, err = parseOptions(nil)
		} else {
			opts, err = parseOptions([]byte(j.String()))
		}
	default:
		err = fmt.Errorf("options: want an object, got %s", optv.Type())
	}
	if err != nil {
		return fail(fmt.Errorf("veil.anonymize: %w", err))
	}
	return promise(func() (any, error) {
		e, err := getEngine()
		if err != nil {
			return nil, err
		}
		r, err := anonymize(context.Background(), e, data, opts, progress)
		if err != nil {
			return nil, fmt.Errorf("veil.anonymize: %w", err)
		}
		img := js.Global().Get("Uint8Array").New(len(r.image))
		js.CopyBytesToJS(img, r.image)
		out := js.Global().Get("Object").New()
		out.Set("image", img)
		out.Set("format", r.format)
		out.Set("detections", r.detections)
		out.Set("count", r.count)
		out.Set("width", r.width)
		out.Set("height", r.height)
		out.Set("backend", engineBackend)
		if engineEP != "" {
			out.Set("executionProvider", engineEP)
		}
		return out, nil
	})
}

// bytesFromJS copies a Uint8Array (or an ArrayBuffer or other typed
// array's bytes) into Go.
func bytesFromJS(v js.Value) ([]byte, error) {
	g := js.Global()
	switch {
	case v.Type() != js.TypeObject:
	case v.InstanceOf(g.Get("Uint8Array")) || v.InstanceOf(g.Get("Uint8ClampedArray")):
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return b, nil
	case v.InstanceOf(g.Get("ArrayBuffer")):
		return bytesFromJS(g.Get("Uint8Array").New(v))
	case g.Get("ArrayBuffer").Call("isView", v).Bool():
		return bytesFromJS(g.Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength")))
	}
	return nil, fmt.Errorf("veil.anonymize: the image must be a Uint8Array or ArrayBuffer of a JPEG or PNG file, got %s", v.Type())
}

// promise returns a JS Promise settled by f, which runs in a goroutine:
// resolved with its value, or rejected with an Error of its error's
// message.
func promise(f func() (any, error)) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			var v any
			var err error
			func() {
				// A panic would end the Go program and every later call
				// with it: it rejects this call only.
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("veil: internal error: %v", r)
					}
				}()
				v, err = f()
			}()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	defer executor.Release()
	return js.Global().Get("Promise").New(executor)
}

// version returns veil's version as the build recorded it: the module
// version, or for a build from a checkout "devel" with the commit.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	v = "devel"
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return strings.TrimSpace(v + " " + bi.GoVersion)
}
