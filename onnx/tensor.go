package onnx

import (
	"fmt"
	"strings"
)

// DType is the element type of a Tensor.
type DType uint8

// The element types the runtime computes with. Other ONNX types are
// converted on load: floating types to Float32, integer and bool types to
// Int64.
const (
	Float32 DType = iota + 1
	Int64
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// A Tensor is a dense, row-major n-dimensional array of float32 or int64
// values. A zero-dimensional tensor (empty shape) holds one scalar.
type Tensor struct {
	shape []int
	dtype DType
	f     []float32
	i     []int64
}

// NewTensor returns a float32 tensor of the given shape backed by data
// (not copied). It panics if len(data) does not match the shape, like
// slicing out of range would: the mismatch is a programming error.
func NewTensor(shape []int, data []float32) *Tensor {
	if n := numElements(shape); n != len(data) {
		panic(fmt.Sprintf("onnx: NewTensor: shape %v needs %d values, got %d", shape, n, len(data)))
	}
	return &Tensor{shape: append([]int(nil), shape...), dtype: Float32, f: data}
}

// NewInt64Tensor returns an int64 tensor of the given shape backed by data
// (not copied). It panics if len(data) does not match the shape.
func NewInt64Tensor(shape []int, data []int64) *Tensor {
	if n := numElements(shape); n != len(data) {
		panic(fmt.Sprintf("onnx: NewInt64Tensor: shape %v needs %d values, got %d", shape, n, len(data)))
	}
	return &Tensor{shape: append([]int(nil), shape...), dtype: Int64, i: data}
}

// Shape returns the tensor's dimensions. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Len returns the number of elements.
func (t *Tensor) Len() int { return numElements(t.shape) }

// Float32s returns the float32 data (nil for an int64 tensor).
func (t *Tensor) Float32s() []float32 { return t.f }

// Int64s returns the int64 data (nil for a float32 tensor).
func (t *Tensor) Int64s() []int64 { return t.i }

func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor(%s %v", t.dtype, t.shape)
	n := t.Len()
	if n > 8 {
		n = 8
	}
	b.WriteString(" [")
	for k := 0; k < n; k++ {
		if k > 0 {
			b.WriteByte(' ')
		}
		if t.dtype == Int64 {
			fmt.Fprint(&b, t.i[k])
		} else {
			fmt.Fprint(&b, t.f[k])
		}
	}
	if t.Len() > n {
		b.WriteString(" …")
	}
	b.WriteString("])")
	return b.String()
}

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// strides returns the row-major element strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for k := len(shape) - 1; k >= 0; k-- {
		s[k] = acc
		acc *= shape[k]
	}
	return s
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
