package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/onnx/internal/vmath"
)

// errShape reports a node whose inputs have shapes it cannot combine.
func errShape(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInput, fmt.Sprintf(format, args...))
}

// minParallel is the element count below which element-wise work stays on
// one goroutine, and minParallelScalar the same for work that calls a
// scalar function of several nanoseconds per element (exp, log).
const (
	minParallel       = 1 << 15
	minParallelScalar = minParallel / 8
)

// parallelChunks runs fn over [0, n) in chunks on up to threads goroutines.
func parallelChunks(threads, n int, fn func(lo, hi int)) {
	if n < minParallel {
		threads = 1
	}
	par.For(threads, n, fn)
}

// actKind names an activation that kernels can fuse.
type actKind uint8

const (
	actNone actKind = iota
	actRelu
	actLeakyRelu
	actClip
)

type activation struct {
	kind     actKind
	alpha    float32
	min, max float32
}

// apply applies a to every element of x in place (the kernels' own
// activation code, so that fused and standalone activations agree).
func (a activation) apply(x []float32) { kernAct(a).ApplySlice(x) }

// applyActivation computes dst = act(src), split over goroutines when
// src is large.
func applyActivation(rc *runCtx, act activation, dst, src []float32) {
	if rc.threads <= 1 || len(src) < minParallel {
		copy(dst, src)
		act.apply(dst)
		return
	}
	parallelChunks(rc.threads, len(src), func(lo, hi int) {
		copy(dst[lo:hi], src[lo:hi])
		act.apply(dst[lo:hi])
	})
}

// activationOf returns the activation node n computes, if it is one that
// a Conv can fuse (Clip only with constant bounds).
func activationOf(n *node, consts map[string]*Tensor) (activation, bool) {
	switch op := n.op.(type) {
	case *actOp:
		return op.act, true
	case *clipOp:
		act := activation{kind: actClip, min: op.min, max: op.max}
		for k, name := range n.inputs[1:] {
			if name == "" {
				continue
			}
			c := consts[name]
			if c == nil || c.dtype != Float32 || c.Len() != 1 {
				return activation{}, false
			}
			if k == 0 {
				act.min = c.f[0]
			} else {
				act.max = c.f[0]
			}
		}
		return act, true
	}
	return activation{}, false
}

// actOp is Relu or LeakyRelu.
type actOp struct{ act activation }

func (o *actOp) infer(in []*value, nOut int) ([]value, error) { return sameAsInput(in, Float32) }

func (o *actOp) run(rc *runCtx, in, out []*Tensor) error {
	applyActivation(rc, o.act, out[0].f, in[0].f)
	return nil
}

// clipOp is Clip: bounds from attributes before opset 11, from optional
// inputs after.
type clipOp struct{ min, max float32 }

func (o *clipOp) infer(in []*value, nOut int) ([]value, error) {
	for _, v := range in[1:] {
		if v != nil && v.len() != 1 {
			return nil, errShape("Clip bounds must be scalars, got shape %v", v.shape)
		}
	}
	return sameAsInput(in[:1], Float32)
}

func (o *clipOp) run(rc *runCtx, in, out []*Tensor) error {
	lo, hi := o.min, o.max
	if len(in) > 1 && in[1] != nil {
		lo = in[1].f[0]
	}
	if len(in) > 2 && in[2] != nil {
		hi = in[2].f[0]
	}
	applyActivation(rc, activation{kind: actClip, min: lo, max: hi}, out[0].f, in[0].f)
	return nil
}

// unaryOp applies a float32 function element by element.
type unaryOp struct {
	f   func(float32) float32
	vec func(dst, src []float32) // a vectorised f; used instead of f when set
}

func (o *unaryOp) infer(in []*value, nOut int) ([]value, error) { return sameAsInput(in, Float32) }

func (o *unaryOp) run(rc *runCtx, in, out []*Tensor) error {
	src, dst := in[0].f, out[0].f
	// A function called per element (an exponential takes about 5 ns) is
	// worth splitting at an eighth of the size of a vectorised one.
	least := minParallel
	if o.vec == nil {
		least = minParallelScalar
	}
	if rc.threads <= 1 || len(src) < least {
		o.apply(dst, src)
		return nil
	}
	par.For(rc.threads, len(src), func(lo, hi int) { o.apply(dst[lo:hi], src[lo:hi]) })
	return nil
}

func (o *unaryOp) apply(dst, src []float32) {
	if o.vec != nil {
		o.vec(dst, src)
		return
	}
	dst = dst[:len(src)]
	for k, v := range src {
		dst[k] = o.f(v)
	}
}

// sameAsInput is the infer of ops whose single output has the shape of
// their first input; want is the element type the op computes with (0 for
// any).
func sameAsInput(in []*value, want DType) ([]value, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, errShape("missing input")
	}
	if want != 0 && in[0].dtype != want {
		return nil, errShape("input is %v, want %v", in[0].dtype, want)
	}
	return []value{{shape: in[0].shape, dtype: in[0].dtype}}, nil
}

func init() {
	register("Relu", func(a *attrs) (operator, error) { return &actOp{activation{kind: actRelu}}, nil })
	register("LeakyRelu", func(a *attrs) (operator, error) {
		return &actOp{activation{kind: actLeakyRelu, alpha: a.float("alpha", 0.01)}}, nil
	})
	register("Clip", func(a *attrs) (operator, error) {
		o := &clipOp{min: float32(math.Inf(-1)), max: float32(math.Inf(1))}
		if a.opset < 11 {
			o.min = a.float("min", o.min)
			o.max = a.float("max", o.max)
		}
		return o, nil
	})
	unary := func(name string, f func(float32) float32) {
		register(name, func(a *attrs) (operator, error) { return &unaryOp{f: f}, nil })
	}
	register("Sigmoid", func(a *attrs) (operator, error) { return &unaryOp{f: vmath.Logistic1, vec: vmath.Logistic}, nil })
	unary("Exp", expf)
	unary("Tanh", tanhf)
	unary("Neg", func(x float32) float32 { return -x })
	unary("Abs", func(x float32) float32 { return float32(math.Abs(float64(x))) })
	unary("Sqrt", func(x float32) float32 { return float32(math.Sqrt(float64(x))) })
	unary("Reciprocal", func(x float32) float32 { return 1 / x })
	unary("Floor", func(x float32) float32 { return float32(math.Floor(float64(x))) })
	unary("Ceil", func(x float32) float32 { return float32(math.Ceil(float64(x))) })
	unary("Log", func(x float32) float32 { return float32(math.Log(float64(x))) })
	unary("Erf", func(x float32) float32 { return float32(math.Erf(float64(x))) })
	unary("Softsign", func(x float32) float32 { return x / (1 + float32(math.Abs(float64(x)))) })
	unary("Softplus", func(x float32) float32 { return float32(math.Log1p(math.Exp(float64(x)))) })
	unary("Sign", func(x float32) float32 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	})
	register("Elu", func(a *attrs) (operator, error) {
		alpha := a.float("alpha", 1)
		return &unaryOp{f: func(x float32) float32 {
			if x < 0 {
				return alpha * (expf(x) - 1)
			}
			return x
		}}, nil
	})
	register("Selu", func(a *attrs) (operator, error) {
		alpha := a.float("alpha", 1.67326319217681884765625)
		gamma := a.float("gamma", 1.05070102214813232421875)
		return &unaryOp{f: func(x float32) float32 {
			if x <= 0 {
				return gamma * (alpha*expf(x) - alpha)
			}
			return gamma * x
		}}, nil
	})
	register("HardSigmoid", func(a *attrs) (operator, error) {
		alpha, beta := a.float("alpha", 0.2), a.float("beta", 0.5)
		return &unaryOp{f: func(x float32) float32 { return max(0, min(1, alpha*x+beta)) }}, nil
	})
	register("HardSwish", func(a *attrs) (operator, error) {
		return &unaryOp{f: func(x float32) float32 { return x * max(0, min(1, x/6+0.5)) }}, nil
	})
	register("Shrink", func(a *attrs) (operator, error) {
		bias, lambd := a.float("bias", 0), a.float("lambd", 0.5)
		return &unaryOp{f: func(x float32) float32 {
			switch {
			case x < -lambd:
				return x + bias
			case x > lambd:
				return x - bias
			}
			return 0
		}}, nil
	})
}

// binaryOp is an element-wise operator with numpy-style broadcasting.
type binaryOp struct {
	name       string
	f          rowFunc[float32]
	i          rowFunc[int64] // nil if the op has no integer form
	legacyAxis int            // opset < 7 broadcast axis; -1 for numpy rules
	channel    bool           // PRelu: a 1-D slope of length C is per channel
}

// bShape returns the shape B broadcasts with, after the legacy (opset < 7)
// axis rule or PRelu's per-channel slope rule.
func (o *binaryOp) bShape(a, b []int) []int {
	at := -1
	switch {
	case o.legacyAxis >= 0 && len(b) < len(a):
		at = o.legacyAxis
	case o.channel && len(b) == 1 && len(a) > 2 && b[0] == a[1] && b[0] != a[len(a)-1]:
		at = 1
	}
	if at < 0 || at+len(b) > len(a) {
		return b
	}
	s := make([]int, len(a))
	for k := range s {
		s[k] = 1
	}
	copy(s[at:], b)
	return s
}

func (o *binaryOp) infer(in []*value, nOut int) ([]value, error) {
	if len(in) != 2 || in[0] == nil || in[1] == nil {
		return nil, errShape("%s needs two inputs", o.name)
	}
	if in[0].dtype != in[1].dtype {
		return nil, errShape("%s of %v and %v", o.name, in[0].dtype, in[1].dtype)
	}
	if in[0].dtype == Int64 && o.i == nil {
		return nil, errShape("%s of int64 is not implemented", o.name)
	}
	shape, err := broadcastShape(in[0].shape, o.bShape(in[0].shape, in[1].shape))
	if err != nil {
		return nil, err
	}
	return []value{{shape: shape, dtype: in[0].dtype}}, nil
}

func (o *binaryOp) run(rc *runCtx, in, out []*Tensor) error {
	sb := in[1].shape
	if o.legacyAxis >= 0 || o.channel {
		sb = o.bShape(in[0].shape, sb)
	}
	if out[0].dtype == Int64 {
		broadcast(rc.threads, in[0].shape, sb, out[0].shape, in[0].i, in[1].i, out[0].i, o.i)
		return nil
	}
	broadcast(rc.threads, in[0].shape, sb, out[0].shape, in[0].f, in[1].f, out[0].f, o.f)
	return nil
}

// broadcastShape returns the numpy broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for k := 0; k < n; k++ {
		da, db := 1, 1
		if j := k - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := k - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[k] = da
		case da == 1:
			out[k] = db
		default:
			return nil, errShape("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastStrides returns the strides of shape viewed as outShape, with
// 0 for broadcast axes.
func broadcastStrides(shape, outShape []int) []int {
	st := make([]int, len(outShape))
	broadcastStridesInto(st, shape, outShape)
	return st
}

// broadcastStridesInto is broadcastStrides writing into st.
func broadcastStridesInto(st, shape, outShape []int) {
	clear(st)
	off := len(outShape) - len(shape)
	acc := 1
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] != 1 {
			st[off+k] = acc
		}
		acc *= shape[k]
	}
}

// A rowFunc computes o[j] = op(a[j·ia], b[j·ib]) for every j.
type rowFunc[T float32 | int64] func(o, a, b []T, ia, ib int)

// rowOf makes a rowFunc from an element function.
func rowOf[T float32 | int64](f func(x, y T) T) rowFunc[T] {
	return func(o, a, b []T, ia, ib int) {
		for j := range o {
			o[j] = f(a[j*ia], b[j*ib])
		}
	}
}

// arithRowOf makes a rowFunc for an arithRow operator code, falling back
// to f for strides arithRow does not take.
func arithRowOf(code uint8, f func(x, y float32) float32) rowFunc[float32] {
	slow := rowOf(f)
	return func(o, a, b []float32, ia, ib int) {
		if !arithRow(code, o, a, b, ia, ib) {
			slow(o, a, b, ia, ib)
		}
	}
}

// copyRow is the rowFunc that copies a, broadcast.
func copyRow[T float32 | int64](o, a, _ []T, ia, _ int) {
	for j := range o {
		o[j] = a[j*ia]
	}
}

// broadcast computes out = row(a, b) with numpy broadcasting.
func broadcast[T float32 | int64](threads int, sa, sb, so []int, a, b, out []T, row rowFunc[T]) {
	n := len(out)
	if n == 0 {
		return
	}
	if n < minParallel {
		threads = 1
	}
	switch {
	case len(a) == n && len(b) == n:
		broadcastFlat(threads, a, b, out, row, 1, 1)
		return
	case len(b) == 1 && len(a) == n:
		broadcastFlat(threads, a, b, out, row, 1, 0)
		return
	case len(a) == 1 && len(b) == n:
		broadcastFlat(threads, a, b, out, row, 0, 1)
		return
	}
	// General case: walk the output one innermost row at a time.
	var bufA, bufB, bufO [8]int
	var stA, stB []int
	if len(so) <= 8 {
		stA, stB = bufA[:len(so)], bufB[:len(so)]
		broadcastStridesInto(stA, sa, so)
		broadcastStridesInto(stB, sb, so)
		so = bufO[:copy(bufO[:], so)]
	} else {
		stA, stB, so = broadcastStrides(sa, so), broadcastStrides(sb, so), slices.Clone(so)
	}
	r := coalesce(so, stA, stB)
	so, stA, stB = so[:r], stA[:r], stB[:r]
	rows := n / so[len(so)-1]
	if threads <= 1 {
		broadcastRows(0, rows, so, stA, stB, a, b, out, row)
		return
	}
	// The closure gets its own copies, so that the stride arrays above
	// stay on the stack of the single-threaded path.
	pa, pb := slices.Clone(stA), slices.Clone(stB)
	par.For(threads, rows, func(lo, hi int) { broadcastRows(lo, hi, so, pa, pb, a, b, out, row) })
}

// broadcastFlat runs row over whole slices whose strides are 0 or 1.
// Its closure is made only on the parallel path, so that the
// single-threaded one allocates nothing.
func broadcastFlat[T float32 | int64](threads int, a, b, out []T, row rowFunc[T], ia, ib int) {
	if threads <= 1 {
		row(out, a, b, ia, ib)
		return
	}
	par.For(threads, len(out), func(lo, hi int) {
		row(out[lo:hi], a[lo*ia:], b[lo*ib:], ia, ib)
	})
}

// broadcastRows computes the innermost output rows [rlo, rhi).
func broadcastRows[T float32 | int64](rlo, rhi int, so, stA, stB []int, a, b, out []T, row rowFunc[T]) {
	rank := len(so)
	inner := so[rank-1]
	ia, ib := stA[rank-1], stB[rank-1]
	for r := rlo; r < rhi; r++ {
		// Decompose the row index into the outer coordinates.
		rem := r
		offA, offB := 0, 0
		for k := rank - 2; k >= 0; k-- {
			c := rem % so[k]
			rem /= so[k]
			offA += c * stA[k]
			offB += c * stB[k]
		}
		row(out[r*inner:(r+1)*inner], a[offA:], b[offB:], ia, ib)
	}
}

func init() {
	bin := func(name string, code uint8, f func(a, b float32) float32, i func(a, b int64) int64) {
		register(name, func(a *attrs) (operator, error) {
			o := &binaryOp{name: name, f: rowOf(f), legacyAxis: -1}
			if code != 0 {
				o.f = arithRowOf(code, f)
			}
			if i != nil {
				o.i = rowOf(i)
			}
			if a.opset < 7 && a.int("broadcast", 0) != 0 {
				// Legacy broadcasting: B's axes line up with A's from
				// axis on (by default so that B's last axis is A's last).
				o.legacyAxis = int(a.int("axis", -1))
			} else {
				a.ignore("axis")
			}
			a.ignore("consumed_inputs")
			return o, nil
		})
	}
	bin("Add", 1, func(a, b float32) float32 { return a + b }, func(a, b int64) int64 { return a + b })
	bin("Sub", 2, func(a, b float32) float32 { return a - b }, func(a, b int64) int64 { return a - b })
	bin("Mul", 3, func(a, b float32) float32 { return a * b }, func(a, b int64) int64 { return a * b })
	bin("Div", 4, func(a, b float32) float32 { return a / b }, func(a, b int64) int64 {
		if b == 0 {
			return 0
		}
		return a / b
	})
	bin("Pow", 0, func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) }, nil)
	register("PRelu", func(a *attrs) (operator, error) {
		a.ignore("consumed_inputs")
		return &binaryOp{name: "PRelu", legacyAxis: -1, channel: true, f: rowOf(func(a, b float32) float32 {
			if a < 0 {
				return a * b
			}
			return a
		})}, nil
	})
}

// variadicOp is Max, Min, Sum or Mean over any number of inputs.
type variadicOp struct {
	name string
	f    rowFunc[float32]
	mean bool
}

func (o *variadicOp) infer(in []*value, nOut int) ([]value, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, errShape("%s needs inputs", o.name)
	}
	shape := in[0].shape
	for _, v := range in[1:] {
		if v == nil || v.dtype != Float32 {
			return nil, errShape("%s needs float inputs", o.name)
		}
		s, err := broadcastShape(shape, v.shape)
		if err != nil {
			return nil, err
		}
		shape = s
	}
	return []value{{shape: shape, dtype: Float32}}, nil
}

func (o *variadicOp) run(rc *runCtx, in, out []*Tensor) error {
	dst := out[0]
	// Start from the first input broadcast to the output shape.
	broadcast(rc.threads, in[0].shape, []int{}, dst.shape, in[0].f, []float32{0}, dst.f, copyRow[float32])
	for _, t := range in[1:] {
		broadcast(rc.threads, dst.shape, t.shape, dst.shape, dst.f, t.f, dst.f, o.f)
	}
	if o.mean {
		s := 1 / float32(len(in))
		for k := range dst.f {
			dst.f[k] *= s
		}
	}
	return nil
}

func init() {
	register("Max", func(a *attrs) (operator, error) {
		return &variadicOp{name: "Max", f: rowOf(func(a, b float32) float32 { return max(a, b) })}, nil
	})
	register("Min", func(a *attrs) (operator, error) {
		return &variadicOp{name: "Min", f: rowOf(func(a, b float32) float32 { return min(a, b) })}, nil
	})
	register("Sum", func(a *attrs) (operator, error) {
		return &variadicOp{name: "Sum", f: arithRowOf(1, func(a, b float32) float32 { return a + b })}, nil
	})
	register("Mean", func(a *attrs) (operator, error) {
		return &variadicOp{name: "Mean", f: arithRowOf(1, func(a, b float32) float32 { return a + b }), mean: true}, nil
	})
}

// hardSwishOp is the fused chain x · (scale · Clip(x + 3, 0, 6)), in the
// order of the operators it replaces. The Add's constant had shape
// constShape (all ones), which may add leading axes to x's shape.
type hardSwishOp struct {
	unaryOp    // run: vmath.HardSwish with the chain's scale
	constShape []int
}

func newHardSwish(scale float32, constShape []int) *hardSwishOp {
	return &hardSwishOp{
		unaryOp:    unaryOp{vec: func(dst, src []float32) { vmath.HardSwish(dst, src, scale) }},
		constShape: constShape,
	}
}

func (o *hardSwishOp) infer(in []*value, nOut int) ([]value, error) {
	if len(in) != 1 || in[0] == nil || in[0].dtype != Float32 {
		return nil, errShape("HardSwish needs a float input")
	}
	shape, err := broadcastShape(in[0].shape, o.constShape)
	if err != nil {
		return nil, err
	}
	return []value{{shape: shape, dtype: Float32}}, nil
}
