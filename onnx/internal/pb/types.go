package pb

import "strconv"

// DataType is the element type of a tensor, TensorProto.DataType in onnx.proto.
type DataType int32

// Tensor element types.
const (
	Undefined      DataType = 0
	Float          DataType = 1
	Uint8          DataType = 2
	Int8           DataType = 3
	Uint16         DataType = 4
	Int16          DataType = 5
	Int32          DataType = 6
	Int64          DataType = 7
	String         DataType = 8
	Bool           DataType = 9
	Float16        DataType = 10
	Double         DataType = 11
	Uint32         DataType = 12
	Uint64         DataType = 13
	Complex64      DataType = 14
	Complex128     DataType = 15
	BFloat16       DataType = 16
	Float8E4M3FN   DataType = 17
	Float8E4M3FNUZ DataType = 18
	Float8E5M2     DataType = 19
	Float8E5M2FNUZ DataType = 20
	Uint4          DataType = 21
	Int4           DataType = 22
	Float4E2M1     DataType = 23
)

var dataTypeNames = [...]string{
	Undefined:      "UNDEFINED",
	Float:          "FLOAT",
	Uint8:          "UINT8",
	Int8:           "INT8",
	Uint16:         "UINT16",
	Int16:          "INT16",
	Int32:          "INT32",
	Int64:          "INT64",
	String:         "STRING",
	Bool:           "BOOL",
	Float16:        "FLOAT16",
	Double:         "DOUBLE",
	Uint32:         "UINT32",
	Uint64:         "UINT64",
	Complex64:      "COMPLEX64",
	Complex128:     "COMPLEX128",
	BFloat16:       "BFLOAT16",
	Float8E4M3FN:   "FLOAT8E4M3FN",
	Float8E4M3FNUZ: "FLOAT8E4M3FNUZ",
	Float8E5M2:     "FLOAT8E5M2",
	Float8E5M2FNUZ: "FLOAT8E5M2FNUZ",
	Uint4:          "UINT4",
	Int4:           "INT4",
	Float4E2M1:     "FLOAT4E2M1",
}

// String returns the onnx.proto name of the type, such as "FLOAT",
// or "DataType(N)" for a value it does not know.
func (d DataType) String() string {
	if d >= 0 && int(d) < len(dataTypeNames) {
		return dataTypeNames[d]
	}
	return "DataType(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the size in bytes of one element of type d as stored in
// TensorProto.raw_data, or 0 for types that have no fixed byte size
// (STRING, the sub-byte types) or that it does not know.
func (d DataType) Size() int {
	switch d {
	case Uint8, Int8, Bool, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Uint64, Double, Complex64:
		return 8
	case Complex128:
		return 16
	}
	return 0
}

// AttrType is the type of an attribute value, AttributeProto.AttributeType
// in onnx.proto.
type AttrType int32

// Attribute value types.
const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensor  AttrType = 11
	AttrSparseTensors AttrType = 12
	AttrTypeProto     AttrType = 13
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = [...]string{
	AttrUndefined:     "UNDEFINED",
	AttrFloat:         "FLOAT",
	AttrInt:           "INT",
	AttrString:        "STRING",
	AttrTensor:        "TENSOR",
	AttrGraph:         "GRAPH",
	AttrFloats:        "FLOATS",
	AttrInts:          "INTS",
	AttrStrings:       "STRINGS",
	AttrTensors:       "TENSORS",
	AttrGraphs:        "GRAPHS",
	AttrSparseTensor:  "SPARSE_TENSOR",
	AttrSparseTensors: "SPARSE_TENSORS",
	AttrTypeProto:     "TYPE_PROTO",
	AttrTypeProtos:    "TYPE_PROTOS",
}

// String returns the onnx.proto name of the type, such as "INTS",
// or "AttrType(N)" for a value it does not know.
func (a AttrType) String() string {
	if a >= 0 && int(a) < len(attrTypeNames) {
		return attrTypeNames[a]
	}
	return "AttrType(" + strconv.Itoa(int(a)) + ")"
}
