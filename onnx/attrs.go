package onnx

import (
	"fmt"
	"strings"

	"github.com/veilkit/veil/onnx/internal/pb"
)

// attrs reads a node's attributes and remembers which were read, so that
// an attribute the operator does not understand is reported at load time.
type attrs struct {
	node  *pb.Node
	opset int64
	byKey map[string]*pb.Attribute
	used  map[string]bool
	err   error
}

func newAttrs(n *pb.Node, opset int64) *attrs {
	a := &attrs{node: n, opset: opset, byKey: make(map[string]*pb.Attribute), used: make(map[string]bool)}
	for _, at := range n.Attrs {
		a.byKey[at.Name] = at
	}
	return a
}

func (a *attrs) get(name string, want pb.AttrType) *pb.Attribute {
	at := a.byKey[name]
	if at == nil {
		return nil
	}
	a.used[name] = true
	if at.Type != want && at.Type != 0 {
		a.fail("attribute %q has type %d, want %d", name, at.Type, want)
		return nil
	}
	return at
}

func (a *attrs) fail(format string, args ...any) {
	if a.err == nil {
		a.err = fmt.Errorf(format, args...)
	}
}

func (a *attrs) has(name string) bool { return a.byKey[name] != nil }

func (a *attrs) int(name string, def int64) int64 {
	if at := a.get(name, pb.AttrInt); at != nil {
		return at.I
	}
	return def
}

func (a *attrs) float(name string, def float32) float32 {
	if at := a.get(name, pb.AttrFloat); at != nil {
		return at.F
	}
	return def
}

func (a *attrs) string(name, def string) string {
	if at := a.get(name, pb.AttrString); at != nil {
		return string(at.S)
	}
	return def
}

func (a *attrs) ints(name string) []int64 {
	if at := a.get(name, pb.AttrInts); at != nil {
		return at.Ints
	}
	return nil
}

func (a *attrs) floats(name string) []float32 {
	if at := a.get(name, pb.AttrFloats); at != nil {
		return at.Floats
	}
	return nil
}

func (a *attrs) tensor(name string) *pb.Tensor {
	if at := a.get(name, pb.AttrTensor); at != nil {
		return at.T
	}
	return nil
}

// ignore marks attributes that do not change inference results.
func (a *attrs) ignore(names ...string) {
	for _, n := range names {
		a.used[n] = true
	}
}

// oneOf checks that a string attribute has one of the allowed values.
func (a *attrs) oneOf(name, val string, allowed ...string) {
	for _, v := range allowed {
		if v == val {
			return
		}
	}
	a.fail("%s=%q is not implemented (have %s)", name, val, strings.Join(allowed, ", "))
}

// finish reports the first problem: a bad value or an attribute nobody read.
func (a *attrs) finish() error {
	if a.err != nil {
		return a.err
	}
	for _, at := range a.node.Attrs {
		if !a.used[at.Name] {
			return fmt.Errorf("attribute %q is not implemented", at.Name)
		}
	}
	return nil
}

func toInts(v []int64) []int {
	r := make([]int, len(v))
	for k, x := range v {
		r[k] = int(x)
	}
	return r
}

// opFactory builds an operator from a node's attributes.
type opFactory func(a *attrs) (operator, error)

var registry = map[string]opFactory{}

func register(name string, f opFactory) { registry[name] = f }

func newOperator(n *pb.Node, opset int64) (operator, error) {
	f := registry[n.OpType]
	if f == nil {
		return nil, fmt.Errorf("%w: operator %s (node %q)", ErrUnsupported, n.OpType, n.Name)
	}
	a := newAttrs(n, opset)
	op, err := f(a)
	if err == nil {
		err = a.finish()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: operator %s (node %q): %w", ErrUnsupported, n.OpType, n.Name, err)
	}
	return op, nil
}

// SupportedOps returns the operator types the runtime implements.
func SupportedOps() []string {
	names := make([]string, 0, len(registry)+1)
	names = append(names, "Constant")
	for n := range registry {
		names = append(names, n)
	}
	return names
}
