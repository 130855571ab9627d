//go:build ort && cgo

package ort

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/veilkit/veil/onnx"
)

// env is the process's one ONNX Runtime environment.
var env struct {
	mu  sync.Mutex
	lib string // the library it was initialised with
}

// initEnv loads lib and initialises the ONNX Runtime environment, once
// per process; a later call must name the same library.
func initEnv(lib string) error {
	env.mu.Lock()
	defer env.mu.Unlock()
	if ort.IsInitialized() {
		if lib != env.lib {
			return fmt.Errorf("ort: onnxruntime is already initialised with %s, not %s", env.lib, lib)
		}
		return nil
	}
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("ort: onnxruntime library: %w", err)
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("ort: initialising onnxruntime from %s: %w", lib, err)
	}
	env.lib = lib
	return nil
}

// A Backend runs models on ONNX Runtime; it implements onnx.Backend.
type Backend struct {
	o        Options
	warnOnce sync.Once
}

var _ onnx.Backend = (*Backend)(nil)

// New loads the onnxruntime library (once per process) and returns a
// backend running models with the provider o asks for.
func New(o Options) (*Backend, error) {
	switch o.Provider {
	case "":
		o.Provider = "cpu"
	case "cpu", "cuda", "tensorrt":
	default:
		return nil, fmt.Errorf("ort: unknown provider %q (want cpu, cuda or tensorrt)", o.Provider)
	}
	if o.DeviceID < 0 {
		return nil, fmt.Errorf("ort: device id %d", o.DeviceID)
	}
	if o.Library == "" {
		o.Library = os.Getenv("VEIL_ORT_LIB")
	}
	if o.Library == "" {
		return nil, errors.New("ort: no onnxruntime library: set VEIL_ORT_LIB (or Options.Library) to the path of libonnxruntime.so")
	}
	if err := initEnv(o.Library); err != nil {
		return nil, err
	}
	return &Backend{o: o}, nil
}

// Name names the backend and its provider, e.g. "onnxruntime cuda:0".
func (b *Backend) Name() string {
	if b.o.Provider == "cpu" {
		return "onnxruntime cpu"
	}
	return fmt.Sprintf("onnxruntime %s:%d", b.o.Provider, b.o.DeviceID)
}

// Version returns the loaded onnxruntime's version.
func Version() string { return ort.GetVersion() }

func (b *Backend) warn(msg string) {
	if b.o.Warn != nil {
		b.o.Warn(msg)
		return
	}
	log.Print(msg)
}

// Load makes an onnxruntime session for data, with threads intra-op
// threads (0: onnxruntime's default).
func (b *Backend) Load(data []byte, threads int) (onnx.BackendModel, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, err
	}
	m := &model{ins: ins}
	for _, in := range ins {
		m.inNames = append(m.inNames, in.Name)
	}
	for _, out := range outs {
		m.outNames = append(m.outNames, out.Name)
	}
	s, err := b.session(data, threads, b.o.Provider, m)
	if err != nil && b.o.Provider != "cpu" && !b.o.Require {
		b.warnOnce.Do(func() {
			b.warn(fmt.Sprintf("veil: onnxruntime %s provider unavailable, running on the CPU: %v", b.o.Provider, err))
		})
		s, err = b.session(data, threads, "cpu", m)
	}
	if err != nil {
		return nil, err
	}
	m.s = s
	return m, nil
}

// session makes a session for data on provider.
func (b *Backend) session(data []byte, threads int, provider string, m *model) (*ort.DynamicAdvancedSession, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			return nil, err
		}
		if err := so.SetInterOpNumThreads(1); err != nil {
			return nil, err
		}
	}
	// veil runs several models at once (detectors, tiles, the plate
	// cascade): threads that spin waiting for work steal the cores the
	// other sessions need (measured: 2× slower on 2 cores).
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return nil, err
	}
	dev := map[string]string{"device_id": strconv.Itoa(b.o.DeviceID)}
	if provider == "tensorrt" {
		to, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return nil, fmt.Errorf("ort: tensorrt provider: %w", err)
		}
		defer to.Destroy()
		if err := to.Update(dev); err != nil {
			return nil, fmt.Errorf("ort: tensorrt provider: %w", err)
		}
		if err := so.AppendExecutionProviderTensorRT(to); err != nil {
			return nil, fmt.Errorf("ort: tensorrt provider: %w", err)
		}
	}
	if provider == "cuda" || provider == "tensorrt" {
		co, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return nil, fmt.Errorf("ort: cuda provider: %w", err)
		}
		defer co.Destroy()
		if err := co.Update(dev); err != nil {
			return nil, fmt.Errorf("ort: cuda provider: %w", err)
		}
		if err := so.AppendExecutionProviderCUDA(co); err != nil {
			return nil, fmt.Errorf("ort: cuda provider: %w", err)
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, m.inNames, m.outNames, so)
	if err != nil {
		return nil, fmt.Errorf("ort: %s session: %w", provider, err)
	}
	return s, nil
}

// A model is one onnxruntime session. onnxruntime's Run is safe for
// concurrent use, and so is model's.
type model struct {
	s        *ort.DynamicAdvancedSession
	ins      []ort.InputOutputInfo
	inNames  []string
	outNames []string
	once     sync.Once
}

func (m *model) Close() error {
	var err error
	m.once.Do(func() { err = m.s.Destroy() })
	return err
}

func (m *model) Run(ctx context.Context, inputs map[string]*onnx.Tensor, outputs []string) (map[string]*onnx.Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := make([]ort.Value, 0, len(m.ins))
	defer func() {
		for _, v := range in {
			v.Destroy()
		}
	}()
	for _, info := range m.ins {
		t := inputs[info.Name]
		if t == nil {
			return nil, fmt.Errorf("%w: missing input %q", onnx.ErrInput, info.Name)
		}
		v, err := toORT(t, info.DataType)
		if err != nil {
			return nil, fmt.Errorf("%w: input %q: %w", onnx.ErrInput, info.Name, err)
		}
		in = append(in, v)
	}
	out := make([]ort.Value, len(m.outNames))
	defer func() {
		for _, v := range out {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := m.s.Run(in, out); err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	res := make(map[string]*onnx.Tensor, len(outputs))
	for _, name := range outputs {
		k := indexOf(m.outNames, name)
		if k < 0 {
			return nil, fmt.Errorf("ort: no output %q", name)
		}
		t, err := fromORT(out[k])
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", name, err)
		}
		res[name] = t
	}
	return res, nil
}

func indexOf(names []string, name string) int {
	for k, n := range names {
		if n == name {
			return k
		}
	}
	return -1
}

// toORT converts t to an onnxruntime tensor of the element type the model
// declares. A tensor of that type already shares t's data.
func toORT(t *onnx.Tensor, want ort.TensorElementDataType) (ort.Value, error) {
	shape := make(ort.Shape, len(t.Shape()))
	for k, d := range t.Shape() {
		shape[k] = int64(d)
	}
	if t.DType() == onnx.Float32 {
		f := t.Float32s()
		switch want {
		case ort.TensorElementDataTypeFloat:
			return ort.NewTensor(shape, f)
		case ort.TensorElementDataTypeDouble:
			return ort.NewTensor(shape, convert[float32, float64](f))
		}
	} else {
		i := t.Int64s()
		switch want {
		case ort.TensorElementDataTypeInt64:
			return ort.NewTensor(shape, i)
		case ort.TensorElementDataTypeInt32:
			return ort.NewTensor(shape, convert[int64, int32](i))
		case ort.TensorElementDataTypeUint8:
			return ort.NewTensor(shape, convert[int64, uint8](i))
		case ort.TensorElementDataTypeInt8:
			return ort.NewTensor(shape, convert[int64, int8](i))
		case ort.TensorElementDataTypeBool:
			b := make([]bool, len(i))
			for k, v := range i {
				b[k] = v != 0
			}
			return ort.NewTensor(shape, b)
		}
	}
	return nil, fmt.Errorf("cannot pass a %v tensor as %v", t.DType(), want)
}

// fromORT converts an onnxruntime output to veil's tensor: floating
// types to float32, integer and bool types to int64, like onnx.Load.
func fromORT(v ort.Value) (*onnx.Tensor, error) {
	var shape []int
	for _, d := range v.GetShape() {
		shape = append(shape, int(d))
	}
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		// The library copied the output into Go memory: keep it.
		return onnx.NewTensor(shape, t.GetData()), nil
	case *ort.Tensor[float64]:
		return onnx.NewTensor(shape, convert[float64, float32](t.GetData())), nil
	case *ort.Tensor[int64]:
		return onnx.NewInt64Tensor(shape, t.GetData()), nil
	case *ort.Tensor[int32]:
		return onnx.NewInt64Tensor(shape, convert[int32, int64](t.GetData())), nil
	case *ort.Tensor[uint8]:
		return onnx.NewInt64Tensor(shape, convert[uint8, int64](t.GetData())), nil
	case *ort.Tensor[int8]:
		return onnx.NewInt64Tensor(shape, convert[int8, int64](t.GetData())), nil
	case *ort.Tensor[bool]:
		i := make([]int64, len(t.GetData()))
		for k, b := range t.GetData() {
			if b {
				i[k] = 1
			}
		}
		return onnx.NewInt64Tensor(shape, i), nil
	}
	return nil, fmt.Errorf("unsupported onnxruntime output type %v", v.GetONNXType())
}

func convert[From, To int8 | uint8 | int32 | int64 | float32 | float64](s []From) []To {
	d := make([]To, len(s))
	for k, v := range s {
		d[k] = To(v)
	}
	return d
}
