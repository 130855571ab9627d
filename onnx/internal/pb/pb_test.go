package pb

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// msg builds a protobuf message for tests, field by field.
type msg []byte

func (m msg) varint(num protowire.Number, v uint64) msg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

func (m msg) bytes(num protowire.Number, b []byte) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) str(num protowire.Number, s string) msg {
	return m.bytes(num, []byte(s))
}

func (m msg) fixed32(num protowire.Number, v uint32) msg {
	m = protowire.AppendTag(m, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, v)
}

func (m msg) fixed64(num protowire.Number, v uint64) msg {
	m = protowire.AppendTag(m, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(m, v)
}

func (m msg) float(num protowire.Number, f float32) msg {
	return m.fixed32(num, math.Float32bits(f))
}

func (m msg) double(num protowire.Number, f float64) msg {
	return m.fixed64(num, math.Float64bits(f))
}

func (m msg) group(num protowire.Number, body msg) msg {
	m = protowire.AppendTag(m, num, protowire.StartGroupType)
	m = append(m, body...)
	return protowire.AppendTag(m, num, protowire.EndGroupType)
}

// unknown appends fields of every wire type that no ONNX message defines.
func (m msg) unknown() msg {
	return m.varint(1000, 7).
		fixed32(1001, 1).
		fixed64(1002, 2).
		str(1003, "junk").
		group(1004, msg{}.varint(1, 1).str(2, "x").group(3, msg{}.fixed32(4, 4)))
}

func packedVarints(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

// le32 returns vs as little-endian float32s: packed float_data or raw_data.
func le32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return b
}

func le64(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed64(b, math.Float64bits(v))
	}
	return b
}

func dimValue(v int64) msg  { return msg{}.varint(1, uint64(v)) }
func dimParam(p string) msg { return msg{}.str(2, p) }
func tensorType(elem DataType, dims ...msg) msg {
	t := msg{}.varint(1, uint64(elem))
	if dims != nil {
		var shape msg
		for _, d := range dims {
			shape = shape.bytes(1, d)
		}
		t = t.bytes(2, shape)
	}
	return msg{}.bytes(1, t)
}

// testModel returns a ModelProto that uses every field that DecodeModel
// decodes, in both encodings where there are two, with unknown fields in
// every message; testModelWant is its decoding.
func testModel() []byte {
	input := msg{}.str(1, "x").
		bytes(2, tensorType(Float, dimParam("batch"), dimValue(3), msg{}.unknown(), dimValue(0))).
		str(3, "the input").unknown()
	output := msg{}.str(1, "y").bytes(2, tensorType(Int64)) // unknown rank
	seq := msg{}.str(1, "seq").bytes(2, msg{}.bytes(4, msg{}.bytes(1, tensorType(Float))))

	conv := msg{}.str(1, "x").str(1, "w").str(1, "w").str(2, "c").
		str(3, "conv0").str(4, "Conv").str(6, "doc").
		bytes(5, msg{}.str(1, "kernel_shape").varint(20, uint64(AttrInts)).bytes(8, packedVarints(3, 3))).
		bytes(5, msg{}.str(1, "strides").varint(20, uint64(AttrInts)).varint(8, 1).varint(8, 2).str(13, "doc")).
		bytes(5, msg{}.str(1, "neg").varint(20, uint64(AttrInts)).bytes(8, packedVarints(-1)).varint(8, uint64(1<<64-2))).
		bytes(5, msg{}.str(1, "alpha").varint(20, uint64(AttrFloat)).float(2, 0.5)).
		bytes(5, msg{}.str(1, "scales").varint(20, uint64(AttrFloats)).bytes(7, le32(1.5, 2.5)).float(7, 3.5)).
		bytes(5, msg{}.str(1, "names").varint(20, uint64(AttrStrings)).str(9, "a").str(9, "")).
		bytes(5, msg{}.str(1, "untyped").varint(3, 7).unknown()).
		unknown()
	resize := msg{}.str(1, "c").str(1, "").str(1, "scales").str(2, "r").
		str(4, "Resize").str(7, "").
		bytes(5, msg{}.str(1, "mode").varint(20, uint64(AttrString)).str(4, "nearest"))
	identity := msg{}.str(1, "r").str(2, "y").str(4, "Identity").str(7, "ai.onnx")
	body := msg{}.str(2, "body").bytes(1, identity)
	loop := msg{}.str(4, "Loop").str(2, "z").
		bytes(5, msg{}.str(1, "body").varint(20, uint64(AttrGraph)).bytes(6, body)).
		bytes(5, msg{}.str(1, "branches").varint(20, uint64(AttrGraphs)).bytes(11, body).bytes(11, msg{})).
		bytes(5, msg{}.str(1, "value").varint(20, uint64(AttrTensor)).
			bytes(5, msg{}.varint(2, uint64(Int64)).bytes(7, packedVarints(4, 5)).varint(1, 2))).
		bytes(5, msg{}.str(1, "values").varint(20, uint64(AttrTensors)).
			bytes(10, msg{}.varint(2, uint64(Float)).str(8, "t0")).
			bytes(10, msg{}.varint(2, uint64(Int32)).str(8, "t1")))

	w := msg{}.varint(1, 1).varint(1, 2).varint(2, uint64(Float)).str(8, "w").bytes(9, le32(1, 2)).unknown()
	scales := msg{}.bytes(1, packedVarints(4)).varint(2, uint64(Float)).str(8, "scales").bytes(4, le32(1, 1)).float(4, 2).float(4, 2)
	empty := msg{}.varint(1, 0).varint(1, 5).varint(2, uint64(Float)).str(8, "empty")

	graph := msg{}.bytes(1, conv).bytes(1, resize).bytes(1, loop).
		str(2, "main").str(10, "graph doc").
		bytes(5, w).bytes(5, scales).bytes(5, empty).
		bytes(11, input).bytes(12, output).bytes(13, seq).
		bytes(14, msg{}.str(1, "qa")).bytes(15, msg{}.bytes(1, msg{})).
		unknown()

	return msg{}.varint(1, 8).
		bytes(8, msg{}.str(1, "").varint(2, 13).unknown()).
		bytes(8, msg{}.str(1, "com.microsoft").varint(2, 1)).
		str(2, "veil-test").str(3, "1.0").str(4, "veilkit").varint(5, 3).str(6, "model doc").
		bytes(7, graph).
		bytes(14, msg{}.str(1, "key").str(2, "value")).
		bytes(20, msg{}.bytes(1, graph)).
		bytes(25, msg{}.str(1, "f")).
		unknown()
}

func testModelWant() *Model {
	body := &Graph{Name: "body", Nodes: []*Node{{OpType: "Identity", Domain: "ai.onnx", Inputs: []string{"r"}, Outputs: []string{"y"}}}}
	return &Model{
		IRVersion:       8,
		OpsetImport:     []OpsetID{{"", 13}, {"com.microsoft", 1}},
		ProducerName:    "veil-test",
		ProducerVersion: "1.0",
		Domain:          "veilkit",
		ModelVersion:    3,
		Graph: &Graph{
			Name: "main",
			Nodes: []*Node{
				{
					Name: "conv0", OpType: "Conv",
					Inputs: []string{"x", "w", "w"}, Outputs: []string{"c"},
					Attrs: []*Attribute{
						{Name: "kernel_shape", Type: AttrInts, Ints: []int64{3, 3}},
						{Name: "strides", Type: AttrInts, Ints: []int64{1, 2}},
						{Name: "neg", Type: AttrInts, Ints: []int64{-1, -2}},
						{Name: "alpha", Type: AttrFloat, F: 0.5},
						{Name: "scales", Type: AttrFloats, Floats: []float32{1.5, 2.5, 3.5}},
						{Name: "names", Type: AttrStrings, Strings: [][]byte{[]byte("a"), {}}},
						{Name: "untyped", Type: AttrInt, I: 7},
					},
				},
				{
					OpType: "Resize",
					Inputs: []string{"c", "", "scales"}, Outputs: []string{"r"},
					Attrs: []*Attribute{{Name: "mode", Type: AttrString, S: []byte("nearest")}},
				},
				{
					OpType:  "Loop",
					Outputs: []string{"z"},
					Attrs: []*Attribute{
						{Name: "body", Type: AttrGraph, G: body},
						{Name: "branches", Type: AttrGraphs, Graphs: []*Graph{body, {}}},
						{Name: "value", Type: AttrTensor, T: &Tensor{DataType: Int64, Int64Data: []int64{4, 5}, Dims: []int64{2}}},
						{Name: "values", Type: AttrTensors, Tensors: []*Tensor{{Name: "t0", DataType: Float}, {Name: "t1", DataType: Int32}}},
					},
				},
			},
			Initializers: []*Tensor{
				{Name: "w", Dims: []int64{1, 2}, DataType: Float, RawData: le32(1, 2), HasRawData: true},
				{Name: "scales", Dims: []int64{4}, DataType: Float, FloatData: []float32{1, 1, 2, 2}},
				{Name: "empty", Dims: []int64{0, 5}, DataType: Float},
			},
			Inputs: []*ValueInfo{{
				Name: "x", ElemType: Float, IsTensor: true, HasShape: true,
				Shape: []Dim{{Param: "batch"}, {Value: 3, HasValue: true}, {}, {Value: 0, HasValue: true}},
			}},
			Outputs:   []*ValueInfo{{Name: "y", ElemType: Int64, IsTensor: true}},
			ValueInfo: []*ValueInfo{{Name: "seq"}},
		},
	}
}

func TestDecodeModel(t *testing.T) {
	node := func(op string) msg { return msg{}.str(4, op) }
	tests := []struct {
		name string
		in   []byte
		want *Model
	}{
		{"full", testModel(), testModelWant()},
		{"empty graph", msg{}.bytes(7, nil), &Model{Graph: &Graph{}}},
		{
			"repeated graph field is merged",
			msg{}.bytes(7, msg{}.str(2, "a").bytes(1, node("Relu"))).varint(1, 7).bytes(7, msg{}.bytes(1, node("Sigmoid"))),
			&Model{IRVersion: 7, Graph: &Graph{Name: "a", Nodes: []*Node{{OpType: "Relu"}, {OpType: "Sigmoid"}}}},
		},
		{
			"known field with wrong wire type is skipped",
			msg{}.varint(2, 1).fixed32(1, 5).bytes(7, msg{}.bytes(1, msg{}.varint(4, 1).str(4, "Add"))),
			&Model{Graph: &Graph{Nodes: []*Node{{OpType: "Add"}}}},
		},
		{
			"dim_value and dim_param are a oneof",
			msg{}.bytes(7, msg{}.bytes(11, msg{}.str(1, "x").bytes(2,
				tensorType(Float, msg{}.varint(1, 2).str(2, "n"), msg{}.str(2, "n").varint(1, 2))))),
			&Model{Graph: &Graph{Inputs: []*ValueInfo{{
				Name: "x", ElemType: Float, IsTensor: true, HasShape: true,
				Shape: []Dim{{Param: "n"}, {Value: 2, HasValue: true}},
			}}}},
		},
		{
			"external tensor",
			msg{}.bytes(7, msg{}.
				bytes(5, msg{}.str(8, "a").varint(14, 1)).
				bytes(5, msg{}.str(8, "b").bytes(13, msg{}.str(1, "location").str(2, "b.bin")))),
			&Model{Graph: &Graph{Initializers: []*Tensor{{Name: "a", External: true}, {Name: "b", External: true}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeModel(tt.in)
			if err != nil {
				t.Fatalf("DecodeModel: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeModel mismatch\ngot:  %s\nwant: %s", dump(got), dump(tt.want))
			}
		})
	}
}

// dump formats v with the contents of its pointers, for error messages.
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestDecodeModelErrors(t *testing.T) {
	graph := func(b []byte) msg { return msg{}.bytes(7, b) }
	node := func(b []byte) msg { return graph(msg{}.bytes(1, b)) }
	attr := func(b []byte) msg { return node(msg{}.bytes(5, b)) }
	tensor := func(b []byte) msg { return graph(msg{}.bytes(5, b)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty input", nil},
		{"no graph", msg{}.varint(1, 8)},
		{"truncated tag", []byte{0x80}},
		{"truncated varint", []byte{0x08, 0x80}},
		{"varint overflow", append([]byte{0x08}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"field number 0", []byte{0x00, 0x00}},
		{"reserved wire type", []byte{1<<3 | 6, 0x00}},
		{"truncated fixed32", []byte{1<<3 | 5, 0x00, 0x00}},
		{"truncated fixed64", []byte{1<<3 | 1, 0x00, 0x00, 0x00, 0x00}},
		{"bytes past end", []byte{7<<3 | 2, 0x05, 0x01}},
		{"bytes length overflow", []byte{7<<3 | 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"lone end group", protowire.AppendTag(nil, 1000, protowire.EndGroupType)},
		{"unterminated group", protowire.AppendTag(nil, 1000, protowire.StartGroupType)},
		{"mismatched end group", protowire.AppendTag(protowire.AppendTag(nil, 1000, protowire.StartGroupType), 1001, protowire.EndGroupType)},
		{"bad opset_import", msg{}.bytes(8, []byte{0x08}).bytes(7, nil)},
		{"bad graph", graph([]byte{0x0a})},
		{"bad node", node([]byte{0x0a, 0x09, 'x'})},
		{"bad attribute", attr([]byte{0x12})},
		{"packed floats length", attr(msg{}.bytes(7, []byte{1, 2, 3}))},
		{"packed ints truncated", attr(msg{}.bytes(8, []byte{0x01, 0x80}))},
		{"bad attribute tensor", attr(msg{}.bytes(5, []byte{0x08}))},
		{"bad attribute tensors", attr(msg{}.bytes(10, []byte{0x08}))},
		{"bad attribute graph", attr(msg{}.bytes(6, []byte{0x08}))},
		{"bad attribute graphs", attr(msg{}.bytes(11, []byte{0x08}))},
		{"bad initializer", tensor([]byte{0x4a, 0x01})},
		{"packed dims truncated", tensor(msg{}.bytes(1, []byte{0x80}))},
		{"packed float_data length", tensor(msg{}.bytes(4, []byte{1, 2, 3, 4, 5}))},
		{"packed int32_data truncated", tensor(msg{}.bytes(5, []byte{0xff}))},
		{"packed int64_data truncated", tensor(msg{}.bytes(7, []byte{0xff}))},
		{"packed double_data length", tensor(msg{}.bytes(10, []byte{1, 2, 3, 4, 5, 6, 7}))},
		{"packed uint64_data truncated", tensor(msg{}.bytes(11, []byte{0xff}))},
		{"bad input", graph(msg{}.bytes(11, []byte{0x0a, 0x01}))},
		{"bad output", graph(msg{}.bytes(12, []byte{0x0a, 0x01}))},
		{"bad value_info", graph(msg{}.bytes(13, []byte{0x0a, 0x01}))},
		{"bad type", graph(msg{}.bytes(11, msg{}.bytes(2, []byte{0x0a, 0x01})))},
		{"bad tensor type", graph(msg{}.bytes(11, msg{}.bytes(2, msg{}.bytes(1, []byte{0x08}))))},
		{"bad shape", graph(msg{}.bytes(11, msg{}.bytes(2, msg{}.bytes(1, msg{}.bytes(2, []byte{0x0a, 0x01})))))},
		{"bad dim", graph(msg{}.bytes(11, msg{}.bytes(2, tensorType(Float, msg{0x08}))))},
		{"too deep", msg{}.bytes(7, nestedGraph(MaxDepth+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeModel(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeModel = %v, %v; want error wrapping ErrMalformed", m, err)
			}
		})
	}
}

// nestedGraph returns a GraphProto with subgraphs nested depth deep.
func nestedGraph(depth int) msg {
	g := msg{}.str(2, "leaf")
	for range depth {
		a := msg{}.str(1, "body").varint(20, uint64(AttrGraph)).bytes(6, g)
		g = msg{}.bytes(1, msg{}.str(4, "Loop").bytes(5, a))
	}
	return g
}

func TestDepth(t *testing.T) {
	m, err := DecodeModel(msg{}.bytes(7, nestedGraph(MaxDepth)))
	if err != nil {
		t.Fatalf("DecodeModel with depth %d: %v", MaxDepth, err)
	}
	g := m.Graph
	for range MaxDepth {
		g = g.Nodes[0].Attrs[0].G
	}
	if g.Name != "leaf" {
		t.Errorf("innermost graph name = %q, want leaf", g.Name)
	}
	if _, err := DecodeModel(msg{}.bytes(7, nestedGraph(MaxDepth+1))); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeModel with depth %d: err = %v, want ErrMalformed", MaxDepth+1, err)
	}
}

// TestTruncated checks that every prefix of a model either decodes or fails
// with ErrMalformed.
func TestTruncated(t *testing.T) {
	b := testModel()
	failed := 0
	for n := range len(b) {
		m, err := DecodeModel(b[:n])
		switch {
		case err != nil:
			failed++
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeModel(b[:%d]) = %v, does not wrap ErrMalformed", n, err)
			}
		case m.Graph == nil:
			t.Fatalf("DecodeModel(b[:%d]) returned no graph and no error", n)
		}
	}
	if failed == 0 {
		t.Errorf("no truncation of the test model failed")
	}
}

func TestDecodeTensor(t *testing.T) {
	tests := []struct {
		name string
		in   msg
		want *Tensor
	}{
		{"empty message", nil, &Tensor{}},
		{
			"raw float",
			msg{}.str(8, "w").varint(1, 2).varint(1, 1).varint(2, uint64(Float)).bytes(9, le32(1, -2)),
			&Tensor{Name: "w", Dims: []int64{2, 1}, DataType: Float, RawData: le32(1, -2), HasRawData: true},
		},
		{
			"empty raw_data",
			msg{}.bytes(1, packedVarints(0)).varint(2, uint64(Float)).bytes(9, nil),
			&Tensor{Dims: []int64{0}, DataType: Float, RawData: []byte{}, HasRawData: true},
		},
		{
			"packed dims and float_data",
			msg{}.bytes(1, packedVarints(1, 3)).varint(2, uint64(Float)).bytes(4, le32(1, 2, 3)),
			&Tensor{Dims: []int64{1, 3}, DataType: Float, FloatData: []float32{1, 2, 3}},
		},
		{
			"unpacked float_data",
			msg{}.varint(1, 2).float(4, 1).float(4, 2),
			&Tensor{Dims: []int64{2}, FloatData: []float32{1, 2}},
		},
		{
			"mixed packed and unpacked",
			msg{}.varint(1, 1).bytes(1, packedVarints(2, 3)).varint(1, 4).
				float(4, 1).bytes(4, le32(2, 3)).float(4, 4).
				varint(7, 1).bytes(7, packedVarints(-2, 3)).
				varint(5, 1).bytes(5, packedVarints(-2)).
				bytes(10, le64(1.5)).double(10, 2.5).
				bytes(11, packedVarints(1, -1)).varint(11, 2),
			&Tensor{
				Dims:       []int64{1, 2, 3, 4},
				FloatData:  []float32{1, 2, 3, 4},
				Int64Data:  []int64{1, -2, 3},
				Int32Data:  []int32{1, -2},
				DoubleData: []float64{1.5, 2.5},
				Uint64Data: []uint64{1, 1<<64 - 1, 2},
			},
		},
		{
			"int32 from 64-bit varint",
			msg{}.varint(5, uint64(1<<64-5)).varint(2, uint64(1<<64-3)),
			&Tensor{Int32Data: []int32{-5}, DataType: -3},
		},
		{
			"strings",
			msg{}.varint(2, uint64(String)).str(6, "a").str(6, "").str(6, "ccc"),
			&Tensor{DataType: String, StringData: [][]byte{[]byte("a"), {}, []byte("ccc")}},
		},
		{
			"external",
			msg{}.varint(14, 0).varint(14, 1),
			&Tensor{External: true},
		},
		{
			"last data_location wins",
			msg{}.varint(14, 1).varint(14, 0),
			&Tensor{},
		},
		{
			"external_data",
			msg{}.bytes(13, msg{}.str(1, "location").str(2, "w.bin")).varint(14, 0),
			&Tensor{External: true},
		},
		{
			"skipped fields",
			msg{}.unknown().bytes(3, msg{}.varint(1, 1)).str(12, "doc").str(8, "n").
				bytes(16, msg{}.str(1, "k")).varint(8, 3).str(2, "x"),
			&Tensor{Name: "n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeTensor(tt.in)
			if err != nil {
				t.Fatalf("DecodeTensor: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeTensor:\ngot  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeTensorErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated tag", []byte{0x80}},
		{"truncated raw_data", []byte{9<<3 | 2, 0x04, 0x00}},
		{"truncated dims", []byte{1 << 3}},
		{"packed float_data length", msg{}.bytes(4, []byte{0})},
		{"packed double_data length", msg{}.bytes(10, []byte{0, 0, 0, 0})},
		{"packed varints truncated", msg{}.bytes(1, []byte{0x01, 0xff})},
		{"lone end group", protowire.AppendTag(nil, 1000, protowire.EndGroupType)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tn, err := DecodeTensor(tt.in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeTensor = %+v, %v; want error wrapping ErrMalformed", tn, err)
			}
		})
	}
}

func TestRawDataAliasesInput(t *testing.T) {
	b := msg{}.varint(2, uint64(Uint8)).bytes(9, []byte{1, 2, 3})
	tn, err := DecodeTensor(b)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 9
	if tn.RawData[2] != 9 {
		t.Errorf("RawData does not alias the input")
	}
}

func TestNumElements(t *testing.T) {
	tests := []struct {
		dims []int64
		want int64
		err  bool
	}{
		{nil, 1, false},
		{[]int64{5}, 5, false},
		{[]int64{1, 3, 640, 640}, 1228800, false},
		{[]int64{0}, 0, false},
		{[]int64{3, 0, 7}, 0, false},
		{[]int64{1 << 20, 1 << 20}, 1 << 40, false},
		{[]int64{MaxElements}, MaxElements, false},
		{[]int64{MaxElements + 1}, 0, true},
		{[]int64{1 << 20, 1<<20 + 1}, 0, true},
		{[]int64{1 << 30, 1 << 30, 1 << 30}, 0, true},
		{[]int64{0, 1 << 62}, 0, true},
		{[]int64{2, -1}, 0, true},
		{[]int64{0, -1}, 0, true},
		{[]int64{math.MaxInt64, math.MaxInt64}, 0, true},
	}
	for _, tt := range tests {
		got, err := (&Tensor{Dims: tt.dims}).NumElements()
		if tt.err {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("NumElements(%v) = %d, %v; want ErrMalformed", tt.dims, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NumElements(%v) = %d, %v; want %d", tt.dims, got, err, tt.want)
		}
	}
}

func TestFloat32s(t *testing.T) {
	raw := func(dt DataType, dims []int64, b ...byte) *Tensor {
		return &Tensor{DataType: dt, Dims: dims, RawData: b, HasRawData: true}
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		t    *Tensor
		want []float32
		err  error
	}{
		{"raw float", raw(Float, []int64{2}, le32(1.5, -2)...), []float32{1.5, -2}, nil},
		{"raw float scalar", raw(Float, nil, le32(3)...), []float32{3}, nil},
		{"float_data", &Tensor{DataType: Float, Dims: []int64{1, 2}, FloatData: []float32{1, 2}}, []float32{1, 2}, nil},
		{"raw double", raw(Double, []int64{2}, le64(0.25, -1e300)...), []float32{0.25, float32(math.Inf(-1))}, nil},
		{"double_data", &Tensor{DataType: Double, Dims: []int64{1}, DoubleData: []float64{0.5}}, []float32{0.5}, nil},
		{
			"raw float16", raw(Float16, []int64{8},
				0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b, 0x00, 0x7c, 0x00, 0x7e, 0x00, 0x80, 0xff, 0x03),
			[]float32{1, -2, 0x1p-24, 65504, inf, nan, float32(math.Copysign(0, -1)), 0x3ffp-24},
			nil,
		},
		{"float16 int32_data", &Tensor{DataType: Float16, Dims: []int64{2}, Int32Data: []int32{0x3800, 0xbc00}}, []float32{0.5, -1}, nil},
		{"raw bfloat16", raw(BFloat16, []int64{2}, 0x80, 0x3f, 0x00, 0xc0), []float32{1, -2}, nil},
		{"bfloat16 int32_data", &Tensor{DataType: BFloat16, Dims: []int64{1}, Int32Data: []int32{0x3f80}}, []float32{1}, nil},
		{"raw bool", raw(Bool, []int64{3}, 0, 1, 2), []float32{0, 1, 1}, nil},
		{"bool int32_data", &Tensor{DataType: Bool, Dims: []int64{2}, Int32Data: []int32{0, 5}}, []float32{0, 1}, nil},
		{"raw int8", raw(Int8, []int64{2}, 0xff, 0x7f), []float32{-1, 127}, nil},
		{"raw uint8", raw(Uint8, []int64{2}, 0xff, 0x7f), []float32{255, 127}, nil},
		{"raw int16", raw(Int16, []int64{1}, 0xfe, 0xff), []float32{-2}, nil},
		{"raw uint16", raw(Uint16, []int64{1}, 0xfe, 0xff), []float32{65534}, nil},
		{"raw int32", raw(Int32, []int64{1}, 0xfd, 0xff, 0xff, 0xff), []float32{-3}, nil},
		{"raw uint32", raw(Uint32, []int64{1}, 0x00, 0x00, 0x00, 0x80), []float32{1 << 31}, nil},
		{"raw int64", raw(Int64, []int64{1}, packedInt64LE(-4)...), []float32{-4}, nil},
		{"raw uint64", raw(Uint64, []int64{1}, packedInt64LE(-1)...), []float32{1 << 64}, nil},
		{"int32_data", &Tensor{DataType: Int8, Dims: []int64{2}, Int32Data: []int32{-1, 3}}, []float32{-1, 3}, nil},
		{"int64_data", &Tensor{DataType: Int64, Dims: []int64{2}, Int64Data: []int64{-1, 3}}, []float32{-1, 3}, nil},
		{"uint64_data", &Tensor{DataType: Uint32, Dims: []int64{1}, Uint64Data: []uint64{7}}, []float32{7}, nil},
		{"empty", &Tensor{DataType: Float, Dims: []int64{2, 0}}, []float32{}, nil},
		{"empty with empty raw_data", raw(Float, []int64{0}), []float32{}, nil},
		{"raw takes precedence", &Tensor{DataType: Float, Dims: []int64{1}, RawData: le32(2), FloatData: []float32{1}}, []float32{2}, nil},
		{"short raw_data", raw(Float, []int64{2}, le32(1)...), nil, ErrMalformed},
		{"long raw_data", raw(Float, []int64{1}, le32(1, 2)...), nil, ErrMalformed},
		{"raw_data for empty tensor", raw(Float, []int64{0}, le32(1)...), nil, ErrMalformed},
		{"huge dims, small raw_data", raw(Float, []int64{1 << 20, 1 << 20}, le32(1)...), nil, ErrMalformed},
		{"too few float_data", &Tensor{DataType: Float, Dims: []int64{3}, FloatData: []float32{1, 2}}, nil, ErrMalformed},
		{"too many float_data", &Tensor{DataType: Float, Dims: []int64{1}, FloatData: []float32{1, 2}}, nil, ErrMalformed},
		{"no data", &Tensor{DataType: Float, Dims: []int64{1}}, nil, ErrMalformed},
		{"data in the wrong field", &Tensor{DataType: Float, Dims: []int64{1}, DoubleData: []float64{1}}, nil, ErrMalformed},
		{"negative dim", &Tensor{DataType: Float, Dims: []int64{-1}}, nil, ErrMalformed},
		{"string", &Tensor{DataType: String, Dims: []int64{1}, StringData: [][]byte{nil}}, nil, ErrUnsupported},
		{"complex", raw(Complex64, []int64{1}, le32(1, 2)...), nil, ErrUnsupported},
		{"undefined", &Tensor{}, nil, ErrUnsupported},
		{"external", &Tensor{DataType: Float, Dims: []int64{1}, External: true}, nil, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Float32s()
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Float32s = %v, %v; want error wrapping %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Float32s: %v", err)
			}
			if got == nil || len(got) != len(tt.want) {
				t.Fatalf("Float32s = %#v, want %v", got, tt.want)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(tt.want[i]) &&
					!(got[i] != got[i] && tt.want[i] != tt.want[i]) {
					t.Errorf("Float32s()[%d] = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func packedInt64LE(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed64(b, uint64(v))
	}
	return b
}

func TestInt64s(t *testing.T) {
	raw := func(dt DataType, dims []int64, b ...byte) *Tensor {
		return &Tensor{DataType: dt, Dims: dims, RawData: b, HasRawData: true}
	}
	tests := []struct {
		name string
		t    *Tensor
		want []int64
		err  error
	}{
		{"raw int64", raw(Int64, []int64{3}, packedInt64LE(1, -1, math.MaxInt64)...), []int64{1, -1, math.MaxInt64}, nil},
		{"int64_data", &Tensor{DataType: Int64, Dims: []int64{2}, Int64Data: []int64{-5, 5}}, []int64{-5, 5}, nil},
		{"raw int32", raw(Int32, []int64{1}, 0xfd, 0xff, 0xff, 0xff), []int64{-3}, nil},
		{"int32_data", &Tensor{DataType: Int32, Dims: []int64{2}, Int32Data: []int32{-5, 5}}, []int64{-5, 5}, nil},
		{"raw int16", raw(Int16, []int64{1}, 0xfe, 0xff), []int64{-2}, nil},
		{"raw uint16", raw(Uint16, []int64{1}, 0xfe, 0xff), []int64{65534}, nil},
		{"raw int8", raw(Int8, []int64{2}, 0xff, 0x01), []int64{-1, 1}, nil},
		{"raw uint8", raw(Uint8, []int64{2}, 0xff, 0x01), []int64{255, 1}, nil},
		{"raw bool", raw(Bool, []int64{2}, 0x00, 0x03), []int64{0, 1}, nil},
		{"bool int32_data", &Tensor{DataType: Bool, Dims: []int64{2}, Int32Data: []int32{1, 0}}, []int64{1, 0}, nil},
		{"uint8 int32_data", &Tensor{DataType: Uint8, Dims: []int64{1}, Int32Data: []int32{200}}, []int64{200}, nil},
		{"raw uint32", raw(Uint32, []int64{1}, 0xff, 0xff, 0xff, 0xff), []int64{1<<32 - 1}, nil},
		{"uint64_data", &Tensor{DataType: Uint64, Dims: []int64{1}, Uint64Data: []uint64{math.MaxInt64}}, []int64{math.MaxInt64}, nil},
		{"raw uint64", raw(Uint64, []int64{1}, packedInt64LE(9)...), []int64{9}, nil},
		{"scalar", &Tensor{DataType: Int64, Int64Data: []int64{7}}, []int64{7}, nil},
		{"empty", &Tensor{DataType: Int64, Dims: []int64{0}}, []int64{}, nil},
		{"raw uint64 overflow", raw(Uint64, []int64{1}, packedInt64LE(-1)...), nil, ErrUnsupported},
		{"uint64_data overflow", &Tensor{DataType: Uint64, Dims: []int64{1}, Uint64Data: []uint64{1 << 63}}, nil, ErrUnsupported},
		{"short raw_data", raw(Int64, []int64{2}, packedInt64LE(1)...), nil, ErrMalformed},
		{"ragged raw_data", raw(Int32, []int64{1}, 1, 2, 3), nil, ErrMalformed},
		{"too many int64_data", &Tensor{DataType: Int64, Int64Data: []int64{1, 2}}, nil, ErrMalformed},
		{"int64 in int32_data", &Tensor{DataType: Int64, Dims: []int64{1}, Int32Data: []int32{1}}, nil, ErrMalformed},
		{"overflowing dims", &Tensor{DataType: Int64, Dims: []int64{1 << 40, 2}}, nil, ErrMalformed},
		{"float", &Tensor{DataType: Float, Dims: []int64{1}, FloatData: []float32{1}}, nil, ErrUnsupported},
		{"external", &Tensor{DataType: Int64, External: true}, nil, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Int64s()
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Int64s = %v, %v; want error wrapping %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Int64s: %v", err)
			}
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Int64s = %#v, want %v", got, tt.want)
			}
		})
	}
}

func TestTypeStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Float.String(), "FLOAT"},
		{Int64.String(), "INT64"},
		{Uint64.String(), "UINT64"},
		{BFloat16.String(), "BFLOAT16"},
		{Float4E2M1.String(), "FLOAT4E2M1"},
		{DataType(99).String(), "DataType(99)"},
		{DataType(-1).String(), "DataType(-1)"},
		{AttrInts.String(), "INTS"},
		{AttrTypeProtos.String(), "TYPE_PROTOS"},
		{AttrType(15).String(), "AttrType(15)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

// modelsDir holds the models shipped in the repository; sharedModelsDir
// (../shared/models beside the repository: present in CI, usually absent
// elsewhere) also holds the ones veil does not ship.
const (
	modelsDir       = "../../../models"
	sharedModelsDir = "../../../../shared/models"
)

// notShipped lists the models that are not in the repository, with why;
// they are read from sharedModelsDir and skipped when it is absent.
var notShipped = map[string]string{
	"seg/mediapipe_selfie_seg_256.onnx": "GPL-hosted copy",
}

// stagedModels returns the paths of the shipped models and of the
// not-shipped ones found in sharedModelsDir, failing tb if no model is
// shipped.
func stagedModels(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(modelsDir, "*", "*.onnx"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatalf("no models in %s", modelsDir)
	}
	for _, rel := range slices.Sorted(maps.Keys(notShipped)) {
		p := filepath.Join(sharedModelsDir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	return paths
}

// modelName is a staged model's path relative to its models folder, as
// "seg/deeplabv3_mnv2_voc_257.onnx".
func modelName(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}

func TestStagedModels(t *testing.T) {
	// The first graph input of some models, with its shape: a number for a
	// fixed dimension, a name for a symbolic one.
	inputs := map[string]struct {
		name  string
		shape string
	}{
		"face/ultraface_rfb_320.onnx":       {"input", "1,3,240,320"},
		"face/ultraface_slim_320.onnx":      {"input", "1,3,240,320"},
		"face/yunet_n_640_640.onnx":         {"input", "1,3,640,640"},
		"face/yunet_n_320_320.onnx":         {"input", "1,3,320,320"},
		"face/yunet_n_dynamic.onnx":         {"input", "batch,3,height,width"},
		"object/nanodet_m_416.onnx":         {"input.1", "1,3,416,416"},
		"object/fastestdet_352.onnx":        {"input.1", "1,3,352,352"},
		"plate/lpd_yunet_2023mar.onnx":      {"input", "1,3,240,320"},
		"seg/deeplabv3_mnv2_voc_257.onnx":   {"sub_7", "1,257,257,3"},
		"seg/mediapipe_selfie_seg_256.onnx": {"input_1:0", "1,256,256,3"},
	}
	paths := stagedModels(t)
	found := map[string]bool{}
	shipped := 0
	for _, path := range paths {
		rel := modelName(path)
		found[rel] = true
		if filepath.Dir(filepath.Dir(path)) == filepath.Clean(modelsDir) {
			shipped++
			if why, ok := notShipped[rel]; ok {
				t.Errorf("%s is in %s, but it must not be shipped (%s)", rel, modelsDir, why)
			}
		}
	}
	if shipped < 11 {
		t.Errorf("found %d shipped models, want 11", shipped)
	}
	for _, rel := range slices.Sorted(maps.Keys(notShipped)) {
		if !found[rel] {
			t.Run(rel, func(t *testing.T) {
				t.Skipf("%s is not shipped (%s); it is read from ../shared/models, which is absent", rel, notShipped[rel])
			})
		}
	}
	for _, path := range paths {
		rel := modelName(path)
		t.Run(rel, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := DecodeModel(b)
			if err != nil {
				t.Fatalf("DecodeModel: %v", err)
			}
			g := m.Graph
			if g == nil {
				t.Fatal("no graph")
			}
			if len(m.OpsetImport) == 0 {
				t.Error("no opset_import")
			}
			if len(g.Nodes) == 0 {
				t.Error("no nodes")
			}
			if len(g.Inputs) == 0 || len(g.Outputs) == 0 {
				t.Errorf("%d inputs and %d outputs", len(g.Inputs), len(g.Outputs))
			}
			for i, n := range g.Nodes {
				if n.OpType == "" {
					t.Errorf("node %d (%q) has no op_type", i, n.Name)
				}
				for _, a := range n.Attrs {
					if a.Type == AttrTensor {
						checkTensorData(t, a.T)
					}
				}
			}
			for _, tn := range g.Initializers {
				checkTensorData(t, tn)
			}
			want, ok := inputs[rel]
			if !ok {
				return
			}
			in := g.Inputs[0]
			if in.Name != want.name || !in.IsTensor || in.ElemType != Float || !in.HasShape {
				t.Errorf("input 0 = %+v, want FLOAT tensor %q with a shape", in, want.name)
			}
			if got := shapeString(in.Shape); got != want.shape {
				t.Errorf("input %q shape = %s, want %s", in.Name, got, want.shape)
			}
		})
	}
}

func shapeString(shape []Dim) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		if d.HasValue {
			s[i] = strconv.FormatInt(d.Value, 10)
		} else {
			s[i] = d.Param
		}
	}
	return strings.Join(s, ",")
}

// checkTensorData checks that the data of tn can be read according to its
// type.
func checkTensorData(t *testing.T, tn *Tensor) {
	t.Helper()
	n, err := tn.NumElements()
	if err != nil {
		t.Errorf("tensor %q: %v", tn.Name, err)
		return
	}
	var got int
	switch tn.DataType {
	case Float, Double, Float16:
		var v []float32
		v, err = tn.Float32s()
		got = len(v)
	case Int64, Int32, Int16, Int8, Uint8, Uint16, Uint32, Uint64, Bool:
		var v []int64
		v, err = tn.Int64s()
		got = len(v)
	default:
		t.Errorf("tensor %q has unexpected type %v", tn.Name, tn.DataType)
		return
	}
	if err != nil {
		t.Errorf("tensor %q: %v", tn.Name, err)
	} else if int64(got) != n {
		t.Errorf("tensor %q: %d elements, want %d", tn.Name, got, n)
	}
}

func TestConformanceTensor(t *testing.T) {
	const shared = "../../../../shared"
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("no shared data at %s: %v", shared, err)
	}
	b, err := os.ReadFile(filepath.Join(shared, "onnx-conformance/pytorch-converted/test_Conv2d/test_data_set_0/input_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	tn, err := DecodeTensor(b)
	if err != nil {
		t.Fatalf("DecodeTensor: %v", err)
	}
	if tn.DataType != Float || !reflect.DeepEqual(tn.Dims, []int64{2, 3, 7, 5}) {
		t.Errorf("tensor is %v %v, want FLOAT [2 3 7 5]", tn.DataType, tn.Dims)
	}
	v, err := tn.Float32s()
	if err != nil {
		t.Fatalf("Float32s: %v", err)
	}
	if len(v) != 2*3*7*5 {
		t.Errorf("Float32s returned %d values, want %d", len(v), 2*3*7*5)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("value %d is %v", i, x)
		}
	}
}

func BenchmarkDecodeModel(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(modelsDir, "object", "nanodet_m_416.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeModel(data); err != nil {
			b.Fatal(err)
		}
	}
}
