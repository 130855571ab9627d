//go:build js && wasm

package ortweb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"unsafe"

	"github.com/veilkit/veil/onnx"
)

// A Backend runs models on onnxruntime-web; it implements onnx.Backend.
type Backend struct {
	ort js.Value // the onnxruntime-web module (globalThis.ort)
	ep  string   // the execution provider: "wasm" or "webgpu"
}

var _ onnx.Backend = (*Backend)(nil)

// run serializes the sessions' runs (see the package comment).
var run sync.Mutex

// New returns a backend on the onnxruntime-web module ort (the object
// its script sets as globalThis.ort), running models with the execution
// provider ep: "wasm" (the default when "") or "webgpu" (which needs a
// bundle with WebGPU, such as ort.webgpu.min.js, and a browser with it;
// web/ uses wasm only). It fails when ort is not onnxruntime-web; whether
// its WebAssembly loads is only known at the first Load.
func New(ort js.Value, ep string) (*Backend, error) {
	if ep == "" {
		ep = "wasm"
	}
	if ep != "wasm" && ep != "webgpu" {
		return nil, fmt.Errorf("ortweb: unknown execution provider %q (want wasm or webgpu)", ep)
	}
	if ort.Type() != js.TypeObject || ort.Get("InferenceSession").Type() != js.TypeFunction ||
		ort.Get("Tensor").Type() != js.TypeFunction {
		return nil, errors.New("ortweb: onnxruntime-web is not loaded (no globalThis.ort)")
	}
	return &Backend{ort: ort, ep: ep}, nil
}

// Name names the backend: "onnxruntime-web wasm" or "onnxruntime-web
// webgpu".
func (b *Backend) Name() string { return "onnxruntime-web " + b.ep }

// Version returns the version of onnxruntime-web, "" if it does not say.
func (b *Backend) Version() string {
	v := b.ort.Get("env").Get("versions").Get("web")
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

// Load creates an inference session for data (ort.InferenceSession.create).
// threads is ignored: onnxruntime-web's thread pool is set for the page,
// by ort.env.wasm.numThreads before the first session.
func (b *Backend) Load(data []byte, threads int) (onnx.BackendModel, error) {
	buf := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(buf, data)
	opts := js.Global().Get("Object").New()
	opts.Set("executionProviders", js.ValueOf([]any{b.ep}))
	opts.Set("graphOptimizationLevel", "all")
	opts.Set("logSeverityLevel", 3) // errors only: not the shape warnings of dynamic models
	// Threads that spin waiting for work take the cores from the page
	// and from each other (as in onnx/ort).
	opts.Set("extra", js.ValueOf(map[string]any{"session": map[string]any{"intra_op": map[string]any{"allow_spinning": "0"}}}))
	run.Lock()
	s, err := Await(b.ort.Get("InferenceSession").Call("create", buf, opts))
	run.Unlock()
	if err != nil {
		return nil, fmt.Errorf("ortweb: creating the session: %w", err)
	}
	return &model{b: b, s: s, inNames: stringsOf(s.Get("inputNames"))}, nil
}

// A model is one onnxruntime-web session.
type model struct {
	b       *Backend
	s       js.Value // the ort.InferenceSession
	inNames []string
	once    sync.Once
}

// Close releases the session. It does not wait for onnxruntime-web (it
// may be called from a cleanup, which must not block): the release runs
// in a goroutine of its own, after any run in progress.
func (m *model) Close() error {
	m.once.Do(func() {
		go func() {
			run.Lock()
			defer run.Unlock()
			Await(m.s.Call("release"))
		}()
	})
	return nil
}

// Run copies the inputs to onnxruntime-web's tensors, runs the session
// (session.run) and copies the outputs back.
func (m *model) Run(ctx context.Context, inputs map[string]*onnx.Tensor, outputs []string) (map[string]*onnx.Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	feeds := js.Global().Get("Object").New()
	for _, name := range m.inNames {
		t := inputs[name]
		if t == nil {
			return nil, fmt.Errorf("%w: missing input %q", onnx.ErrInput, name)
		}
		feeds.Set(name, m.b.tensorToJS(t))
	}
	fetches := make([]any, len(outputs))
	for k, name := range outputs {
		fetches[k] = name
	}
	run.Lock()
	if err := ctx.Err(); err != nil {
		run.Unlock()
		return nil, err
	}
	res, err := Await(m.s.Call("run", feeds, js.ValueOf(fetches)))
	run.Unlock()
	if err != nil {
		return nil, fmt.Errorf("ortweb: %w", err)
	}
	out := make(map[string]*onnx.Tensor, len(outputs))
	for _, name := range outputs {
		v := res.Get(name)
		if v.Type() != js.TypeObject {
			return nil, fmt.Errorf("ortweb: no output %q", name)
		}
		t, err := tensorFromJS(v)
		if d := v.Get("dispose"); d.Type() == js.TypeFunction {
			v.Call("dispose")
		}
		if err != nil {
			return nil, fmt.Errorf("ortweb: output %q: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// tensorToJS makes an ort.Tensor of t's data: float32, or int64 as a
// BigInt64Array.
func (b *Backend) tensorToJS(t *onnx.Tensor) js.Value {
	dims := make([]any, len(t.Shape()))
	for k, d := range t.Shape() {
		dims[k] = d
	}
	var typ string
	var arr js.Value
	if t.DType() == onnx.Float32 {
		typ = "float32"
		arr = js.Global().Get("Float32Array").New(len(t.Float32s()))
		copyToJS(arr, t.Float32s())
	} else {
		typ = "int64"
		arr = js.Global().Get("BigInt64Array").New(len(t.Int64s()))
		copyToJS(arr, t.Int64s())
	}
	return b.ort.Get("Tensor").New(typ, arr, js.ValueOf(dims))
}

// tensorFromJS copies an ort.Tensor on the CPU to veil's tensor:
// floating types to float32, integer and bool types to int64, like
// onnx.Load.
func tensorFromJS(v js.Value) (*onnx.Tensor, error) {
	var shape []int
	dims := v.Get("dims")
	for k := range dims.Length() {
		shape = append(shape, dims.Index(k).Int())
	}
	data := v.Get("data")
	n := data.Length()
	switch typ := v.Get("type").String(); typ {
	case "float32":
		f := make([]float32, n)
		copyFromJS(f, data)
		return onnx.NewTensor(shape, f), nil
	case "int64":
		i := make([]int64, n)
		copyFromJS(i, data)
		return onnx.NewInt64Tensor(shape, i), nil
	case "float64":
		d := make([]float64, n)
		copyFromJS(d, data)
		return onnx.NewTensor(shape, convert[float64, float32](d)), nil
	case "int32":
		d := make([]int32, n)
		copyFromJS(d, data)
		return onnx.NewInt64Tensor(shape, convert[int32, int64](d)), nil
	case "uint8", "bool":
		d := make([]uint8, n)
		copyFromJS(d, data)
		return onnx.NewInt64Tensor(shape, convert[uint8, int64](d)), nil
	case "int8":
		d := make([]int8, n)
		copyFromJS(d, data)
		return onnx.NewInt64Tensor(shape, convert[int8, int64](d)), nil
	default:
		return nil, fmt.Errorf("unsupported onnxruntime-web output type %q", typ)
	}
}

type number interface {
	int8 | uint8 | int32 | int64 | float32 | float64
}

// bytesOf returns the memory of s as bytes.
func bytesOf[T number](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// copyToJS copies s into the typed array dst of the same element type.
func copyToJS[T number](dst js.Value, s []T) {
	u8 := js.Global().Get("Uint8Array").New(dst.Get("buffer"), dst.Get("byteOffset"), dst.Get("byteLength"))
	js.CopyBytesToJS(u8, bytesOf(s))
}

// copyFromJS copies the typed array src (of s's element type and length)
// into s.
func copyFromJS[T number](s []T, src js.Value) {
	u8 := js.Global().Get("Uint8Array").New(src.Get("buffer"), src.Get("byteOffset"), src.Get("byteLength"))
	js.CopyBytesToGo(bytesOf(s), u8)
}

func convert[From, To number](s []From) []To {
	d := make([]To, len(s))
	for k, v := range s {
		d[k] = To(v)
	}
	return d
}

func stringsOf(v js.Value) []string {
	var s []string
	for k := range v.Length() {
		s = append(s, v.Index(k).String())
	}
	return s
}

// Await waits for the promise p to settle and returns its value, or its
// rejection as an error (an Error's message). It blocks the calling
// goroutine, not the event loop: never call it from a js.FuncOf callback.
func Await(p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{v: arg(args)}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{err: jsError(arg(args))}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	s := <-ch
	return s.v, s.err
}

func arg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// jsError returns a rejection's reason as an error: an Error's message,
// anything else as JS writes it.
func jsError(v js.Value) error {
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return errors.New(m.String())
		}
	}
	return errors.New(js.Global().Get("String").Invoke(v).String())
}
