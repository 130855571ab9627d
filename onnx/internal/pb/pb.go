// Package pb decodes the parts of the ONNX protobuf format that an inference
// runtime needs: ModelProto with its graph, nodes, attributes, value infos and
// initializers, and stand-alone TensorProto messages.
//
// Decoding is done by hand with package protowire, following the field
// numbers of onnx/onnx.proto. Fields that are not needed (doc strings,
// metadata, training info, functions, sparse tensors, type protos in
// attributes) are skipped, as are unknown fields and known fields with an
// unexpected wire type, as the reference protobuf implementations do.
// Repeated scalar fields are accepted both packed and unpacked, and a
// message field that occurs more than once is merged.
//
// The byte slices in decoded values (Tensor.RawData, Tensor.StringData,
// Attribute.S and Attribute.Strings) alias the input buffer: they are not
// copied, so the input must not be modified while they are in use.
//
// Decoding never panics, checks every length against the input before
// allocating for it, and allocates memory in proportion to the input size,
// so it is safe to use on untrusted input.
package pb

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrMalformed is wrapped by every error that reports an input that is not a
// valid encoding of the expected message, and by the errors of
// Tensor.NumElements, Tensor.Float32s and Tensor.Int64s that report a tensor
// inconsistent with itself.
var ErrMalformed = errors.New("pb: malformed protobuf")

// ErrUnsupported is wrapped by the errors of Tensor.Float32s and
// Tensor.Int64s for a tensor whose data cannot be converted: an element type
// they do not convert, data stored outside the model, or a value that does
// not fit the result type.
var ErrUnsupported = errors.New("pb: unsupported tensor data")

// MaxDepth is the deepest nesting of graphs (subgraphs in attributes of
// nodes of a graph) that DecodeModel accepts; the model's graph is at
// depth 0.
const MaxDepth = 32

// A Model is a decoded ModelProto.
type Model struct {
	IRVersion       int64
	OpsetImport     []OpsetID
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	Graph           *Graph
}

// An OpsetID is a decoded OperatorSetIdProto: the operator set version
// imported for a domain. The empty domain is the default "ai.onnx".
type OpsetID struct {
	Domain  string
	Version int64
}

// A Graph is a decoded GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []*ValueInfo
	Outputs      []*ValueInfo
	ValueInfo    []*ValueInfo
}

// A Node is a decoded NodeProto. Inputs keeps empty names, which mark
// omitted optional inputs, and repeated names.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []*Attribute
}

// An Attribute is a decoded AttributeProto. Type tells which of the value
// fields is meaningful; for attributes written without a type (IR version 1)
// it is inferred from the first value field present. Sparse tensors and type
// protos are not decoded.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Tensors []*Tensor
	Graphs  []*Graph
}

// A Tensor is a decoded TensorProto. Its data is either in RawData
// (little-endian, aliasing the decoded buffer) or in one of the typed
// fields, as onnx.proto prescribes for its DataType; use Float32s or Int64s
// to read it whichever way it is stored.
type Tensor struct {
	Name       string
	Dims       []int64
	DataType   DataType
	RawData    []byte
	HasRawData bool // raw_data was present, possibly empty
	FloatData  []float32
	Int32Data  []int32
	Int64Data  []int64
	DoubleData []float64
	Uint64Data []uint64
	StringData [][]byte
	External   bool // data_location is EXTERNAL or external_data is present
}

// A ValueInfo is a decoded ValueInfoProto. IsTensor reports whether its type
// is a tensor type; ElemType, HasShape and Shape describe it only then.
// HasShape is false for a tensor of unknown rank.
type ValueInfo struct {
	Name     string
	ElemType DataType
	HasShape bool
	Shape    []Dim
	IsTensor bool
}

// A Dim is one dimension of a tensor shape: a known size (HasValue), a
// symbolic name (Param), or neither when unknown.
type Dim struct {
	Value    int64
	Param    string
	HasValue bool
}

// DecodeModel decodes a serialized ModelProto. It reports an error wrapping
// ErrMalformed if b is not a valid encoding, if graphs are nested deeper than
// MaxDepth, or if the model has no graph.
func DecodeModel(b []byte) (*Model, error) {
	m := new(Model)
	if err := decodeModel(m, b); err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, malformed("ModelProto", "no graph")
	}
	return m, nil
}

// DecodeTensor decodes a serialized TensorProto, such as the input_N.pb and
// output_N.pb files of the ONNX conformance tests. It reports an error
// wrapping ErrMalformed if b is not a valid encoding.
func DecodeTensor(b []byte) (*Tensor, error) {
	t := new(Tensor)
	if err := decodeTensor(t, b); err != nil {
		return nil, err
	}
	return t, nil
}

// Wire types, as uint64 so that they combine with field numbers into the
// constant tags that the decoders switch on: num<<3 | type.
const (
	wVarint  = uint64(protowire.VarintType)
	wFixed32 = uint64(protowire.Fixed32Type)
	wFixed64 = uint64(protowire.Fixed64Type)
	wBytes   = uint64(protowire.BytesType)
)

// A field is one field of a message, as read by next.
type field struct {
	tag uint64 // field number << 3 | wire type
	v   uint64 // value of a varint, fixed32 or fixed64 field
	b   []byte // value of a bytes field
}

// next reads the field at the start of b, which must not be empty, and
// returns it with the rest of b. Groups are skipped whole and returned with
// their tag only. msg names the message being decoded, for errors.
func next(b []byte, msg string) (field, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, nil, parseError(msg, n)
	}
	b = b[n:]
	f := field{tag: uint64(num)<<3 | uint64(typ)}
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.v = uint64(v)
	case protowire.Fixed64Type:
		f.v, n = protowire.ConsumeFixed64(b)
	case protowire.BytesType:
		f.b, n = protowire.ConsumeBytes(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return field{}, nil, parseError(fmt.Sprintf("%s field %d", msg, num), n)
	}
	return f, b[n:], nil
}

func malformed(where, what string) error {
	return fmt.Errorf("pb: %s: %s: %w", where, what, ErrMalformed)
}

func parseError(where string, n int) error {
	return fmt.Errorf("pb: %s: %v: %w", where, protowire.ParseError(n), ErrMalformed)
}

func decodeModel(m *Model, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "ModelProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wVarint: // ir_version
			m.IRVersion = int64(f.v)
		case 2<<3 | wBytes: // producer_name
			m.ProducerName = string(f.b)
		case 3<<3 | wBytes: // producer_version
			m.ProducerVersion = string(f.b)
		case 4<<3 | wBytes: // domain
			m.Domain = string(f.b)
		case 5<<3 | wVarint: // model_version
			m.ModelVersion = int64(f.v)
		case 7<<3 | wBytes: // graph
			if m.Graph == nil {
				m.Graph = new(Graph)
			}
			if err := decodeGraph(m.Graph, f.b, 0); err != nil {
				return err
			}
		case 8<<3 | wBytes: // opset_import
			var o OpsetID
			if err := decodeOpsetID(&o, f.b); err != nil {
				return err
			}
			m.OpsetImport = append(m.OpsetImport, o)
		}
	}
	return nil
}

func decodeOpsetID(o *OpsetID, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "OperatorSetIdProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wBytes: // domain
			o.Domain = string(f.b)
		case 2<<3 | wVarint: // version
			o.Version = int64(f.v)
		}
	}
	return nil
}

func decodeGraph(g *Graph, b []byte, depth int) error {
	if depth > MaxDepth {
		return malformed("GraphProto", fmt.Sprintf("graphs nested deeper than %d", MaxDepth))
	}
	for len(b) > 0 {
		f, rest, err := next(b, "GraphProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wBytes: // node
			n := new(Node)
			if err := decodeNode(n, f.b, depth); err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, n)
		case 2<<3 | wBytes: // name
			g.Name = string(f.b)
		case 5<<3 | wBytes: // initializer
			t := new(Tensor)
			if err := decodeTensor(t, f.b); err != nil {
				return err
			}
			g.Initializers = append(g.Initializers, t)
		case 11<<3 | wBytes: // input
			if g.Inputs, err = appendValueInfo(g.Inputs, f.b); err != nil {
				return err
			}
		case 12<<3 | wBytes: // output
			if g.Outputs, err = appendValueInfo(g.Outputs, f.b); err != nil {
				return err
			}
		case 13<<3 | wBytes: // value_info
			if g.ValueInfo, err = appendValueInfo(g.ValueInfo, f.b); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeNode(n *Node, b []byte, depth int) error {
	for len(b) > 0 {
		f, rest, err := next(b, "NodeProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wBytes: // input
			n.Inputs = append(n.Inputs, string(f.b))
		case 2<<3 | wBytes: // output
			n.Outputs = append(n.Outputs, string(f.b))
		case 3<<3 | wBytes: // name
			n.Name = string(f.b)
		case 4<<3 | wBytes: // op_type
			n.OpType = string(f.b)
		case 5<<3 | wBytes: // attribute
			a := new(Attribute)
			if err := decodeAttribute(a, f.b, depth); err != nil {
				return err
			}
			n.Attrs = append(n.Attrs, a)
		case 7<<3 | wBytes: // domain
			n.Domain = string(f.b)
		}
	}
	return nil
}

// decodeAttribute decodes an AttributeProto of a node of a graph at depth.
func decodeAttribute(a *Attribute, b []byte, depth int) error {
	var guess AttrType // first value field seen, for attributes without type
	seen := func(t AttrType) {
		if guess == AttrUndefined {
			guess = t
		}
	}
	for len(b) > 0 {
		f, rest, err := next(b, "AttributeProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wBytes: // name
			a.Name = string(f.b)
		case 20<<3 | wVarint: // type
			a.Type = AttrType(int32(f.v))
		case 2<<3 | wFixed32: // f
			a.F = math.Float32frombits(uint32(f.v))
			seen(AttrFloat)
		case 3<<3 | wVarint: // i
			a.I = int64(f.v)
			seen(AttrInt)
		case 4<<3 | wBytes: // s
			a.S = f.b
			seen(AttrString)
		case 5<<3 | wBytes: // t
			if a.T == nil {
				a.T = new(Tensor)
			}
			if err := decodeTensor(a.T, f.b); err != nil {
				return err
			}
			seen(AttrTensor)
		case 6<<3 | wBytes: // g
			if a.G == nil {
				a.G = new(Graph)
			}
			if err := decodeGraph(a.G, f.b, depth+1); err != nil {
				return err
			}
			seen(AttrGraph)
		case 7<<3 | wFixed32: // floats, unpacked
			a.Floats = append(a.Floats, math.Float32frombits(uint32(f.v)))
			seen(AttrFloats)
		case 7<<3 | wBytes: // floats, packed
			if a.Floats, err = appendPackedFloat32s(a.Floats, f.b, "AttributeProto.floats"); err != nil {
				return err
			}
			seen(AttrFloats)
		case 8<<3 | wVarint: // ints, unpacked
			a.Ints = append(a.Ints, int64(f.v))
			seen(AttrInts)
		case 8<<3 | wBytes: // ints, packed
			if a.Ints, err = appendPackedVarints(a.Ints, f.b, "AttributeProto.ints", toInt64); err != nil {
				return err
			}
			seen(AttrInts)
		case 9<<3 | wBytes: // strings
			a.Strings = append(a.Strings, f.b)
			seen(AttrStrings)
		case 10<<3 | wBytes: // tensors
			t := new(Tensor)
			if err := decodeTensor(t, f.b); err != nil {
				return err
			}
			a.Tensors = append(a.Tensors, t)
			seen(AttrTensors)
		case 11<<3 | wBytes: // graphs
			g := new(Graph)
			if err := decodeGraph(g, f.b, depth+1); err != nil {
				return err
			}
			a.Graphs = append(a.Graphs, g)
			seen(AttrGraphs)
		}
	}
	if a.Type == AttrUndefined {
		a.Type = guess
	}
	return nil
}

func decodeTensor(t *Tensor, b []byte) error {
	var externalData, externalLocation bool
	for len(b) > 0 {
		f, rest, err := next(b, "TensorProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wVarint: // dims, unpacked
			t.Dims = append(t.Dims, int64(f.v))
		case 1<<3 | wBytes: // dims, packed
			if t.Dims, err = appendPackedVarints(t.Dims, f.b, "TensorProto.dims", toInt64); err != nil {
				return err
			}
		case 2<<3 | wVarint: // data_type
			t.DataType = DataType(int32(f.v))
		case 4<<3 | wFixed32: // float_data, unpacked
			t.FloatData = append(t.FloatData, math.Float32frombits(uint32(f.v)))
		case 4<<3 | wBytes: // float_data, packed
			if t.FloatData, err = appendPackedFloat32s(t.FloatData, f.b, "TensorProto.float_data"); err != nil {
				return err
			}
		case 5<<3 | wVarint: // int32_data, unpacked
			t.Int32Data = append(t.Int32Data, int32(f.v))
		case 5<<3 | wBytes: // int32_data, packed
			if t.Int32Data, err = appendPackedVarints(t.Int32Data, f.b, "TensorProto.int32_data", toInt32); err != nil {
				return err
			}
		case 6<<3 | wBytes: // string_data
			t.StringData = append(t.StringData, f.b)
		case 7<<3 | wVarint: // int64_data, unpacked
			t.Int64Data = append(t.Int64Data, int64(f.v))
		case 7<<3 | wBytes: // int64_data, packed
			if t.Int64Data, err = appendPackedVarints(t.Int64Data, f.b, "TensorProto.int64_data", toInt64); err != nil {
				return err
			}
		case 8<<3 | wBytes: // name
			t.Name = string(f.b)
		case 9<<3 | wBytes: // raw_data
			t.RawData = f.b
			t.HasRawData = true
		case 10<<3 | wFixed64: // double_data, unpacked
			t.DoubleData = append(t.DoubleData, math.Float64frombits(f.v))
		case 10<<3 | wBytes: // double_data, packed
			if t.DoubleData, err = appendPackedFloat64s(t.DoubleData, f.b, "TensorProto.double_data"); err != nil {
				return err
			}
		case 11<<3 | wVarint: // uint64_data, unpacked
			t.Uint64Data = append(t.Uint64Data, f.v)
		case 11<<3 | wBytes: // uint64_data, packed
			if t.Uint64Data, err = appendPackedVarints(t.Uint64Data, f.b, "TensorProto.uint64_data", toUint64); err != nil {
				return err
			}
		case 13<<3 | wBytes: // external_data
			externalData = true
		case 14<<3 | wVarint: // data_location
			externalLocation = int32(f.v) == 1 // EXTERNAL
		}
	}
	t.External = t.External || externalData || externalLocation
	return nil
}

func appendValueInfo(dst []*ValueInfo, b []byte) ([]*ValueInfo, error) {
	v := new(ValueInfo)
	if err := decodeValueInfo(v, b); err != nil {
		return dst, err
	}
	return append(dst, v), nil
}

func decodeValueInfo(v *ValueInfo, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "ValueInfoProto")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wBytes: // name
			v.Name = string(f.b)
		case 2<<3 | wBytes: // type
			if err := decodeTypeProto(v, f.b); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeTypeProto decodes a TypeProto into v, keeping only tensor types.
func decodeTypeProto(v *ValueInfo, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "TypeProto")
		if err != nil {
			return err
		}
		b = rest
		if f.tag == 1<<3|wBytes { // tensor_type
			v.IsTensor = true
			if err := decodeTensorType(v, f.b); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeTensorType(v *ValueInfo, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "TypeProto.Tensor")
		if err != nil {
			return err
		}
		b = rest
		switch f.tag {
		case 1<<3 | wVarint: // elem_type
			v.ElemType = DataType(int32(f.v))
		case 2<<3 | wBytes: // shape
			v.HasShape = true
			if err := decodeShape(v, f.b); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeShape(v *ValueInfo, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "TensorShapeProto")
		if err != nil {
			return err
		}
		b = rest
		if f.tag == 1<<3|wBytes { // dim
			var d Dim
			if err := decodeDim(&d, f.b); err != nil {
				return err
			}
			v.Shape = append(v.Shape, d)
		}
	}
	return nil
}

func decodeDim(d *Dim, b []byte) error {
	for len(b) > 0 {
		f, rest, err := next(b, "TensorShapeProto.Dimension")
		if err != nil {
			return err
		}
		b = rest
		// dim_value and dim_param are a oneof: the last one wins.
		switch f.tag {
		case 1<<3 | wVarint: // dim_value
			d.Value, d.Param, d.HasValue = int64(f.v), "", true
		case 2<<3 | wBytes: // dim_param
			d.Value, d.Param, d.HasValue = 0, string(f.b), false
		}
	}
	return nil
}

func toInt64(v uint64) int64   { return int64(v) }
func toInt32(v uint64) int32   { return int32(v) }
func toUint64(v uint64) uint64 { return v }

// appendPackedVarints appends the packed varints in b to dst, converted by
// conv. where names the field, for errors.
func appendPackedVarints[T any](dst []T, b []byte, where string, conv func(uint64) T) ([]T, error) {
	// Every varint ends with exactly one byte below 0x80, so counting them
	// gives the number of elements without trusting anything but len(b).
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n++
		}
	}
	dst = slices.Grow(dst, n)
	for len(b) > 0 {
		v, k := protowire.ConsumeVarint(b)
		if k < 0 {
			return dst, parseError(where, k)
		}
		dst = append(dst, conv(v))
		b = b[k:]
	}
	return dst, nil
}

func appendPackedFloat32s(dst []float32, b []byte, where string) ([]float32, error) {
	if len(b)%4 != 0 {
		return dst, malformed(where, "packed length not a multiple of 4")
	}
	dst = slices.Grow(dst, len(b)/4)
	for ; len(b) >= 4; b = b[4:] {
		v, _ := protowire.ConsumeFixed32(b)
		dst = append(dst, math.Float32frombits(v))
	}
	return dst, nil
}

func appendPackedFloat64s(dst []float64, b []byte, where string) ([]float64, error) {
	if len(b)%8 != 0 {
		return dst, malformed(where, "packed length not a multiple of 8")
	}
	dst = slices.Grow(dst, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		v, _ := protowire.ConsumeFixed64(b)
		dst = append(dst, math.Float64frombits(v))
	}
	return dst, nil
}
