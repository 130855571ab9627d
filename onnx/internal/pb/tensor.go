package pb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// MaxElements is the largest element count that NumElements accepts.
const MaxElements = 1 << 40

// NumElements returns the number of elements of t: the product of its
// dimensions, 1 for a scalar (no dimensions), 0 if any dimension is 0.
// It reports an error wrapping ErrMalformed if a dimension is negative or
// the count (or a single dimension) exceeds MaxElements.
func (t *Tensor) NumElements() (int64, error) {
	n := int64(1)
	zero := false
	for _, d := range t.Dims {
		switch {
		case d < 0:
			return 0, t.errorf(ErrMalformed, "negative dimension %d", d)
		case d > MaxElements:
			return 0, t.errorf(ErrMalformed, "dimension %d too large", d)
		case d == 0:
			zero = true
		default:
			if n > MaxElements/d {
				return 0, t.errorf(ErrMalformed, "shape %v has too many elements", t.Dims)
			}
			n *= d
		}
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// Float32s returns the elements of t converted to float32, reading them from
// RawData if it is not empty and from the typed field that onnx.proto
// prescribes for t.DataType otherwise. It converts FLOAT, DOUBLE, FLOAT16,
// BFLOAT16, BOOL and the signed and unsigned integer types of 8 to 64 bits.
// The result is newly allocated; for a tensor with no elements it is empty
// and not nil.
//
// It reports an error wrapping ErrMalformed if the number of elements
// stored differs from NumElements, and one wrapping ErrUnsupported for
// another element type or data stored outside the model.
func (t *Tensor) Float32s() ([]float32, error) {
	switch t.DataType {
	case Float, Double, Float16, BFloat16, Bool, Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64:
	default:
		return nil, t.unsupported("float32")
	}
	n, err := t.check()
	if err != nil {
		return nil, err
	}
	if len(t.RawData) > 0 {
		raw, err := t.raw(n)
		if err != nil {
			return nil, err
		}
		dst := make([]float32, n)
		switch t.DataType {
		case Float:
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case Double:
			for i := range dst {
				dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		case Float16:
			for i := range dst {
				dst[i] = float16to32(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case BFloat16:
			for i := range dst {
				dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
			}
		case Bool:
			for i, c := range raw {
				dst[i] = float32(bool01(c != 0))
			}
		case Int8:
			for i, c := range raw {
				dst[i] = float32(int8(c))
			}
		case Uint8:
			for i, c := range raw {
				dst[i] = float32(c)
			}
		case Int16:
			for i := range dst {
				dst[i] = float32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
			}
		case Uint16:
			for i := range dst {
				dst[i] = float32(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case Int32:
			for i := range dst {
				dst[i] = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		case Uint32:
			for i := range dst {
				dst[i] = float32(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case Int64:
			for i := range dst {
				dst[i] = float32(int64(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		case Uint64:
			for i := range dst {
				dst[i] = float32(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
		return dst, nil
	}
	switch t.DataType {
	case Float:
		return convert(t, n, t.FloatData, func(v float32) float32 { return v })
	case Double:
		return convert(t, n, t.DoubleData, func(v float64) float32 { return float32(v) })
	case Float16:
		return convert(t, n, t.Int32Data, func(v int32) float32 { return float16to32(uint16(v)) })
	case BFloat16:
		return convert(t, n, t.Int32Data, func(v int32) float32 { return math.Float32frombits(uint32(v) << 16) })
	case Bool:
		return convert(t, n, t.Int32Data, func(v int32) float32 { return float32(bool01(v != 0)) })
	case Int8, Uint8, Int16, Uint16, Int32:
		return convert(t, n, t.Int32Data, func(v int32) float32 { return float32(v) })
	case Int64:
		return convert(t, n, t.Int64Data, func(v int64) float32 { return float32(v) })
	default: // Uint32, Uint64
		return convert(t, n, t.Uint64Data, func(v uint64) float32 { return float32(v) })
	}
}

// Int64s returns the elements of t converted to int64, reading them from
// RawData if it is not empty and from the typed field that onnx.proto
// prescribes for t.DataType otherwise. It converts BOOL and the signed and
// unsigned integer types of 8 to 64 bits. The result is newly allocated;
// for a tensor with no elements it is empty and not nil.
//
// It reports an error wrapping ErrMalformed if the number of elements
// stored differs from NumElements, and one wrapping ErrUnsupported for
// another element type, data stored outside the model, or a UINT64 value
// above math.MaxInt64.
func (t *Tensor) Int64s() ([]int64, error) {
	switch t.DataType {
	case Bool, Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64:
	default:
		return nil, t.unsupported("int64")
	}
	n, err := t.check()
	if err != nil {
		return nil, err
	}
	if len(t.RawData) > 0 {
		raw, err := t.raw(n)
		if err != nil {
			return nil, err
		}
		dst := make([]int64, n)
		switch t.DataType {
		case Bool:
			for i, c := range raw {
				dst[i] = bool01(c != 0)
			}
		case Int8:
			for i, c := range raw {
				dst[i] = int64(int8(c))
			}
		case Uint8:
			for i, c := range raw {
				dst[i] = int64(c)
			}
		case Int16:
			for i := range dst {
				dst[i] = int64(int16(binary.LittleEndian.Uint16(raw[2*i:])))
			}
		case Uint16:
			for i := range dst {
				dst[i] = int64(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case Int32:
			for i := range dst {
				dst[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		case Uint32:
			for i := range dst {
				dst[i] = int64(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case Int64:
			for i := range dst {
				dst[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case Uint64:
			for i := range dst {
				v := binary.LittleEndian.Uint64(raw[8*i:])
				if v > math.MaxInt64 {
					return nil, t.errorf(ErrUnsupported, "UINT64 value %d overflows int64", v)
				}
				dst[i] = int64(v)
			}
		}
		return dst, nil
	}
	switch t.DataType {
	case Bool:
		return convert(t, n, t.Int32Data, func(v int32) int64 { return bool01(v != 0) })
	case Int8, Uint8, Int16, Uint16, Int32:
		return convert(t, n, t.Int32Data, func(v int32) int64 { return int64(v) })
	case Int64:
		return convert(t, n, t.Int64Data, func(v int64) int64 { return v })
	default: // Uint32, Uint64
		for _, v := range t.Uint64Data {
			if v > math.MaxInt64 {
				return nil, t.errorf(ErrUnsupported, "%v value %d overflows int64", t.DataType, v)
			}
		}
		return convert(t, n, t.Uint64Data, func(v uint64) int64 { return int64(v) })
	}
}

// check returns the element count of t for Float32s and Int64s, or an error
// if it is invalid or the data is not in t.
func (t *Tensor) check() (int64, error) {
	n, err := t.NumElements()
	if err != nil {
		return 0, err
	}
	if t.External {
		return 0, t.errorf(ErrUnsupported, "data stored externally")
	}
	return n, nil
}

// raw returns t.RawData after checking that it holds exactly n elements.
func (t *Tensor) raw(n int64) ([]byte, error) {
	size := t.DataType.Size() // not 0: the callers checked the type
	// n <= MaxElements and size <= 16, so this does not overflow.
	if int64(len(t.RawData)) != n*int64(size) {
		return nil, t.errorf(ErrMalformed, "raw_data has %d bytes, want %d for %d elements of %v",
			len(t.RawData), n*int64(size), n, t.DataType)
	}
	return t.RawData, nil
}

// convert returns src converted by conv, after checking that it has n
// elements.
func convert[D, S any](t *Tensor, n int64, src []S, conv func(S) D) ([]D, error) {
	if int64(len(src)) != n {
		return nil, t.errorf(ErrMalformed, "has %d %v elements, want %d", len(src), t.DataType, n)
	}
	dst := make([]D, len(src))
	for i, v := range src {
		dst[i] = conv(v)
	}
	return dst, nil
}

func (t *Tensor) errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("pb: tensor %q: %s: %w", t.Name, fmt.Sprintf(format, args...), sentinel)
}

func (t *Tensor) unsupported(to string) error {
	return t.errorf(ErrUnsupported, "cannot convert %v to %s", t.DataType, to)
}

func bool01(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// float16to32 converts an IEEE 754 half-precision value to float32, exactly.
func float16to32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
	// Zero or subnormal: mant * 2**-24, exact in float32.
	f := float32(mant) / (1 << 24)
	if sign != 0 {
		f = -f
	}
	return f
}
