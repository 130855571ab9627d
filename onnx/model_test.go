package onnx

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Hand-built protobuf messages for small test graphs.

func pbString(field protowire.Number, s string) []byte {
	b := protowire.AppendTag(nil, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func pbMsg(field protowire.Number, msg ...[]byte) []byte {
	var body []byte
	for _, m := range msg {
		body = append(body, m...)
	}
	b := protowire.AppendTag(nil, field, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

func pbInt(field protowire.Number, v int64) []byte {
	b := protowire.AppendTag(nil, field, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// testNode encodes a NodeProto.
func testNode(op string, inputs, outputs []string, attrs ...[]byte) []byte {
	var parts [][]byte
	for _, in := range inputs {
		parts = append(parts, pbString(1, in))
	}
	for _, out := range outputs {
		parts = append(parts, pbString(2, out))
	}
	parts = append(parts, pbString(4, op))
	for _, a := range attrs {
		parts = append(parts, pbMsg(5, a))
	}
	return pbMsg(1, parts...)
}

// testIntAttr encodes an INT AttributeProto (its body).
func testIntAttr(name string, v int64) []byte {
	return append(append(pbString(1, name), pbInt(20, 2)...), pbInt(3, v)...)
}

// testValueInfo encodes a float tensor ValueInfoProto with a fixed shape.
func testValueInfo(field protowire.Number, name string, shape ...int64) []byte {
	var dims [][]byte
	for _, d := range shape {
		dims = append(dims, pbMsg(1, pbInt(1, d)))
	}
	tensorType := pbMsg(1, pbInt(1, 1), pbMsg(2, dims...))
	return pbMsg(field, pbString(1, name), pbMsg(2, tensorType))
}

// testModel encodes a ModelProto at opset 13 around the given graph parts.
func testModel(graph ...[]byte) []byte {
	m := pbInt(1, 8)
	m = append(m, pbMsg(8, pbInt(2, 13))...)
	return append(m, pbMsg(7, graph...)...)
}

func TestLoadErrors(t *testing.T) {
	relu := testModel(testNode("Relu", []string{"x"}, []string{"y"}),
		testValueInfo(11, "x", 1, 4), testValueInfo(12, "y", 1, 4))
	tests := []struct {
		name    string
		data    []byte
		want    error
		mention string
	}{
		{"empty", nil, ErrInvalidModel, "no graph"},
		{"garbage", []byte{0xff, 0xff, 0xff}, ErrInvalidModel, ""},
		{"truncated", relu[:len(relu)-3], ErrInvalidModel, ""},
		{"unknown op", testModel(testNode("FancyOp", []string{"x"}, []string{"y"}),
			testValueInfo(11, "x", 1), testValueInfo(12, "y", 1)), ErrUnsupported, "FancyOp"},
		{"unknown attribute", testModel(testNode("Relu", []string{"x"}, []string{"y"}, testIntAttr("wobble", 1)),
			testValueInfo(11, "x", 1), testValueInfo(12, "y", 1)), ErrUnsupported, "wobble"},
		{"bad attribute value", testModel(testNode("Resize", []string{"x", "", "s"}, []string{"y"},
			append(append(pbString(1, "mode"), pbInt(20, 3)...), pbString(4, "cubic")...)),
			testValueInfo(11, "x", 1), testValueInfo(12, "y", 1)), ErrUnsupported, "cubic"},
		{"undefined input", testModel(testNode("Relu", []string{"nowhere"}, []string{"y"}),
			testValueInfo(12, "y", 1)), ErrInvalidModel, "nowhere"},
		{"cycle", testModel(testNode("Relu", []string{"b"}, []string{"a"}), testNode("Relu", []string{"a"}, []string{"b"}),
			testValueInfo(12, "b", 1)), ErrInvalidModel, "cycle"},
		{"no outputs", testModel(testNode("Relu", []string{"x"}, []string{"y"}), testValueInfo(11, "x", 1)),
			ErrInvalidModel, "no outputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.data, Options{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Load: %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	data := testModel(testNode("Relu", []string{"x"}, []string{"y"}),
		testValueInfo(11, "x", 1, 4), testValueInfo(12, "y", 1, 4))
	m, err := Load(data, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := NewTensor([]int{1, 4}, []float32{-1, 2, -3, 4})
	out, err := m.Run(ctx, map[string]*Tensor{"x": good})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["y"].Float32s(); got[0] != 0 || got[1] != 2 || got[2] != 0 || got[3] != 4 {
		t.Errorf("Relu = %v", got)
	}
	bad := []struct {
		name   string
		inputs map[string]*Tensor
	}{
		{"missing", map[string]*Tensor{}},
		{"unknown name", map[string]*Tensor{"x": good, "z": good}},
		{"wrong shape", map[string]*Tensor{"x": NewTensor([]int{2, 4}, make([]float32, 8))}},
		{"wrong type", map[string]*Tensor{"x": NewInt64Tensor([]int{1, 4}, make([]int64, 4))}},
	}
	for _, tt := range bad {
		if _, err := m.Run(ctx, tt.inputs); !errors.Is(err, ErrInput) {
			t.Errorf("%s: Run error %v, want ErrInput", tt.name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Run(cancelled, map[string]*Tensor{"x": good}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Run: %v", err)
	}
}

// TestFusion checks that Conv+BatchNormalization+Relu chains are fused
// away in a real model, and that the fused model still matches its
// golden outputs (TestGolden covers the values).
func TestFusion(t *testing.T) {
	m := loadModel(t, "face/ultraface_rfb_320.onnx", Options{})
	producer := map[string]*node{}
	counts := map[string]int{}
	for _, n := range m.g.nodes {
		counts[n.opType]++
		for _, o := range n.outputs {
			producer[o] = n
		}
	}
	if counts["BatchNormalization"] != 0 {
		t.Errorf("%d BatchNormalization nodes left after fusion", counts["BatchNormalization"])
	}
	for _, n := range m.g.nodes {
		if p := producer[n.inputs[0]]; n.opType == "Relu" && p != nil && p.opType == "Conv" {
			t.Errorf("Relu %q still follows Conv %q", n.name, p.name)
		}
		if n.opType == "Add" {
			for _, in := range n.inputs {
				if p := producer[in]; p != nil && p.opType == "Conv" {
					t.Errorf("Add %q still reads Conv %q", n.name, p.name)
				}
			}
		}
	}
	if counts["Conv"] == 0 || counts["Relu"] != 0 {
		t.Errorf("after fusion: %v", counts)
	}
}

// TestConcurrentRuns runs one Model from several goroutines (run it with
// -race) and checks that every run gives the same outputs.
func TestConcurrentRuns(t *testing.T) {
	m := loadModel(t, "face/yunet_n_320_320.onnx", Options{Threads: 2})
	in := map[string]*Tensor{"input": syntheticInput([]int{1, 3, 320, 320}, []float32{0, 0, 0}, []float32{1, 1, 1})}
	ref, err := m.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 2; r++ {
				out, err := m.Run(context.Background(), in)
				if err != nil {
					errs <- err
					return
				}
				for name, want := range ref {
					if err := compareTensors(out[name], want, 0, 0); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// loadModel loads the model rel (see modelPath) with opts.
func loadModel(t *testing.T, rel string, opts Options) *Model {
	t.Helper()
	data, err := os.ReadFile(modelPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestIdleSessions checks that Run reuses one Session for a stream of
// runs and drops it, with its buffers, after idleTTL without use.
func TestIdleSessions(t *testing.T) {
	m := loadModel(t, "face/yunet_n_320_320.onnx", Options{Threads: 1})
	m.idleTTL = 50 * time.Millisecond
	in := map[string]*Tensor{"input": syntheticInput([]int{1, 3, 320, 320}, []float32{0, 0, 0}, []float32{1, 1, 1})}
	idle := func() []*Session {
		m.idleMu.Lock()
		defer m.idleMu.Unlock()
		var ss []*Session
		for _, e := range m.idle {
			ss = append(ss, e.s)
		}
		return ss
	}
	var first *Session
	for r := 0; r < 3; r++ {
		if _, err := m.Run(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		ss := idle()
		if len(ss) != 1 || first != nil && ss[0] != first {
			t.Fatalf("run %d: idle sessions %p, want the one of the first run %p", r, ss, first)
		}
		first = ss[0]
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(idle()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(idle()); n != 0 {
		t.Fatalf("%d idle sessions %v after their time to live", n, m.idleTTL)
	}
	if _, err := m.Run(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if ss := idle(); len(ss) != 1 || ss[0] == first {
		t.Errorf("after expiry: idle sessions %p, want one new session", ss)
	}
}

// TestDynamicShapes runs the dynamic YuNet at two sizes, twice each, and
// checks that each size gets its own cached plan.
func TestDynamicShapes(t *testing.T) {
	m := loadModel(t, "face/yunet_n_dynamic.onnx", Options{Threads: 2})
	for _, hw := range [][2]int{{256, 384}, {320, 320}, {256, 384}} {
		in := syntheticInput([]int{1, 3, hw[0], hw[1]}, []float32{0, 0, 0}, []float32{1, 1, 1})
		out, err := m.Run(context.Background(), map[string]*Tensor{"input": in})
		if err != nil {
			t.Fatal(err)
		}
		cells := (hw[0] / 8) * (hw[1] / 8)
		if got := out["cls_8"].Shape(); got[1] != cells {
			t.Errorf("%v: cls_8 shape %v, want %d cells", hw, got, cells)
		}
	}
	if len(m.plans) != 2 {
		t.Errorf("%d cached plans, want 2", len(m.plans))
	}
	// A rank the graph does not take is refused before planning.
	in := NewTensor([]int{3, 64, 64}, make([]float32, 3*64*64))
	if _, err := m.Run(context.Background(), map[string]*Tensor{"input": in}); !errors.Is(err, ErrInput) {
		t.Errorf("rank-3 input: %v, want ErrInput", err)
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"face/yunet_n_320_320.onnx", "object/fastestdet_352.onnx"} {
		b, err := os.ReadFile(modelPath(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add(testModel(testNode("Relu", []string{"x"}, []string{"y"}), testValueInfo(11, "x", 1, 4), testValueInfo(12, "y", 1, 4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data, Options{Threads: 1})
		if err != nil {
			if !errors.Is(err, ErrInvalidModel) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Load error %v is neither ErrInvalidModel nor ErrUnsupported", err)
			}
			return
		}
		_ = m.InputNames()
	})
}

// TestPlanCacheBound feeds the dynamic model more input sizes than the
// caches hold and checks that they stay bounded and still give results.
func TestPlanCacheBound(t *testing.T) {
	m := loadModel(t, "face/yunet_n_dynamic.onnx", Options{Threads: 1})
	s := m.NewSession()
	for k := 0; k < maxPlans+3; k++ {
		in := syntheticInput([]int{1, 3, 32, 32 * (k + 1)}, []float32{0, 0, 0}, []float32{1, 1, 1})
		out, err := s.Run(context.Background(), map[string]*Tensor{"input": in})
		if err != nil {
			t.Fatal(err)
		}
		if got := out["cls_8"].Shape()[1]; got != 4*4*(k+1) {
			t.Fatalf("size %d: cls_8 has %d cells", k, got)
		}
	}
	if len(m.plans) > maxPlans || len(m.order) != len(m.plans) {
		t.Errorf("%d plans cached (%d keys), bound %d", len(m.plans), len(m.order), maxPlans)
	}
	if len(s.arenas) > maxArenas {
		t.Errorf("%d arenas kept, bound %d", len(s.arenas), maxArenas)
	}
}
