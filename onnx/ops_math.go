package onnx

import (
	"math"
	"slices"

	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/onnx/internal/gemm"
)

// softmaxOp is Softmax or LogSoftmax. Before opset 13 the input is
// flattened to 2-D at axis and normalised over the second dimension;
// from 13 on, along axis alone.
type softmaxOp struct {
	axis   int64
	log    bool
	legacy bool
}

func init() {
	sm := func(log bool) opFactory {
		return func(a *attrs) (operator, error) {
			def := int64(-1)
			if a.opset < 13 {
				def = 1
			}
			return &softmaxOp{axis: a.int("axis", def), log: log, legacy: a.opset < 13}, nil
		}
	}
	register("Softmax", sm(false))
	register("LogSoftmax", sm(true))
}

func (o *softmaxOp) infer(in []*value, nOut int) ([]value, error) {
	if _, err := normAxis(o.axis, len(in[0].shape)); err != nil {
		return nil, err
	}
	return sameAsInput(in, Float32)
}

func (o *softmaxOp) run(rc *runCtx, in, out []*Tensor) error {
	shape := in[0].shape
	ax, _ := normAxis(o.axis, len(shape))
	outer := numElements(shape[:ax])
	d, inner := shape[ax], numElements(shape[ax+1:])
	if o.legacy {
		d, inner = numElements(shape[ax:]), 1
	}
	x, y := in[0].f, out[0].f
	if d == 0 {
		return nil
	}
	n := outer * inner
	if inner == 1 && d == 2 && !o.log {
		// Two classes, a detector's usual scores: one exponential a
		// row, of the smaller minus the larger (no overflow): the
		// larger's probability is 1/(1+e), the other's e/(1+e).
		two := func(lo, hi int) {
			for r := 2 * lo; r < 2*hi; r += 2 {
				a, b := x[r], x[r+1]
				if b > a {
					e := expf(a - b)
					p := 1 / (1 + e)
					y[r], y[r+1] = e*p, p
				} else {
					e := expf(b - a)
					p := 1 / (1 + e)
					y[r], y[r+1] = p, e*p
				}
			}
		}
		if 2*n < minParallelScalar {
			two(0, n)
		} else {
			par.For(rc.threads, n, two)
		}
		return nil
	}
	work := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			base := r * d
			if inner > 1 {
				base = (r/inner)*d*inner + r%inner
			}
			m := float32(math.Inf(-1))
			for j := 0; j < d; j++ {
				m = max(m, x[base+j*inner])
			}
			var sum float32
			for j := 0; j < d; j++ {
				e := expf(x[base+j*inner] - m)
				y[base+j*inner] = e
				sum += e
			}
			if o.log {
				ls := float32(math.Log(float64(sum)))
				for j := 0; j < d; j++ {
					y[base+j*inner] = x[base+j*inner] - m - ls
				}
				continue
			}
			inv := 1 / sum
			for j := 0; j < d; j++ {
				y[base+j*inner] *= inv
			}
		}
	}
	if n*d < minParallelScalar {
		work(0, n)
	} else {
		par.For(rc.threads, n, work)
	}
	return nil
}

// gemmOp is Gemm: Y = alpha·A'·B' + beta·C.
type gemmOp struct {
	alpha, beta    float32
	transA, transB bool
}

func init() {
	register("Gemm", func(a *attrs) (operator, error) {
		a.ignore("broadcast")
		return &gemmOp{alpha: a.float("alpha", 1), beta: a.float("beta", 1),
			transA: a.int("transA", 0) != 0, transB: a.int("transB", 0) != 0}, nil
	})
	register("MatMul", func(a *attrs) (operator, error) { return &matMulOp{}, nil })
}

func (o *gemmOp) dims(a, b []int) (m, n, k int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, errShape("Gemm of %v and %v", a, b)
	}
	m, k = a[0], a[1]
	if o.transA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if o.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, errShape("Gemm of %v and %v", a, b)
	}
	return m, n, k, nil
}

func (o *gemmOp) infer(in []*value, nOut int) ([]value, error) {
	if in[0].dtype != Float32 || in[1].dtype != Float32 {
		return nil, errShape("Gemm of integers")
	}
	m, n, _, err := o.dims(in[0].shape, in[1].shape)
	if err != nil {
		return nil, err
	}
	if len(in) > 2 && in[2] != nil {
		if s, err := broadcastShape(in[2].shape, []int{m, n}); err != nil || !sameShape(s, []int{m, n}) {
			return nil, errShape("Gemm C %v for output [%d %d]", in[2].shape, m, n)
		}
	}
	return []value{{shape: []int{m, n}, dtype: Float32}}, nil
}

func (o *gemmOp) run(rc *runCtx, in, out []*Tensor) error {
	m, n, k, err := o.dims(in[0].shape, in[1].shape)
	if err != nil {
		return err
	}
	y := out[0].f
	beta := float32(0)
	if len(in) > 2 && in[2] != nil && o.beta != 0 {
		c := in[2]
		broadcast(1, c.shape, []int{}, out[0].shape, c.f, []float32{0}, y, copyRow[float32])
		beta = o.beta
	}
	gemm.Gemm(o.transA, o.transB, m, n, k, o.alpha, in[0].f, in[0].shape[1], in[1].f, in[1].shape[1], beta, y, n, rc.threads)
	return nil
}

// matMulOp is MatMul with numpy semantics (1-D promotion, batch
// broadcasting).
type matMulOp struct{}

func matMulShapes(a, b []int) (out []int, m, n, k int, err error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, 0, 0, 0, errShape("MatMul of a scalar")
	}
	pa, pb := a, b
	if len(a) == 1 {
		pa = []int{1, a[0]}
	}
	if len(b) == 1 {
		pb = []int{b[0], 1}
	}
	m, k = pa[len(pa)-2], pa[len(pa)-1]
	n = pb[len(pb)-1]
	if pb[len(pb)-2] != k {
		return nil, 0, 0, 0, errShape("MatMul of %v and %v", a, b)
	}
	batch, err := broadcastShape(pa[:len(pa)-2], pb[:len(pb)-2])
	if err != nil {
		return nil, 0, 0, 0, err
	}
	out = slices.Clone(batch)
	if len(a) != 1 {
		out = append(out, m)
	}
	if len(b) != 1 {
		out = append(out, n)
	}
	return out, m, n, k, nil
}

func (o *matMulOp) infer(in []*value, nOut int) ([]value, error) {
	if in[0].dtype != Float32 || in[1].dtype != Float32 {
		return nil, errShape("MatMul of integers")
	}
	out, _, _, _, err := matMulShapes(in[0].shape, in[1].shape)
	if err != nil {
		return nil, err
	}
	return []value{{shape: out, dtype: Float32}}, nil
}

func (o *matMulOp) run(rc *runCtx, in, out []*Tensor) error {
	a, b := in[0].shape, in[1].shape
	_, m, n, k, err := matMulShapes(a, b)
	if err != nil {
		return err
	}
	ba, bb := []int{}, []int{}
	if len(a) > 2 {
		ba = a[:len(a)-2]
	}
	if len(b) > 2 {
		bb = b[:len(b)-2]
	}
	batch, _ := broadcastShape(ba, bb)
	nb := numElements(batch)
	stA, stB := broadcastStrides(ba, batch), broadcastStrides(bb, batch)
	y := out[0].f
	for i := 0; i < nb; i++ {
		rem, offA, offB := i, 0, 0
		for d := len(batch) - 1; d >= 0; d-- {
			c := rem % batch[d]
			rem /= batch[d]
			offA += c * stA[d]
			offB += c * stB[d]
		}
		gemm.Gemm(false, false, m, n, k, 1, in[0].f[offA*m*k:], k, in[1].f[offB*k*n:], n, 0, y[i*m*n:], n, rc.threads)
	}
	return nil
}

// reduceOp is ReduceMean, ReduceSum, ReduceMax or ReduceMin.
type reduceOp struct {
	name     string
	axes     []int64 // attribute form
	keepDims bool
	noopAll  bool // noop_with_empty_axes
	fromIn   bool // axes come from the second input
}

func init() {
	red := func(name string, inputSince int64) {
		register(name, func(a *attrs) (operator, error) {
			o := &reduceOp{name: name, keepDims: a.int("keepdims", 1) != 0, noopAll: a.int("noop_with_empty_axes", 0) != 0}
			if a.opset < inputSince {
				o.axes = a.ints("axes")
			} else {
				o.fromIn = true
			}
			return o, nil
		})
	}
	red("ReduceMean", 18)
	red("ReduceSum", 13)
	red("ReduceMax", 18)
	red("ReduceMin", 18)
}

func (o *reduceOp) reduced(in []*value) ([]bool, error) {
	r := len(in[0].shape)
	axes := o.axes
	if o.fromIn && len(in) > 1 && in[1] != nil {
		var err error
		if axes, err = constInts(in[1], o.name+" axes"); err != nil {
			return nil, err
		}
	}
	red := make([]bool, r)
	if len(axes) == 0 {
		for k := range red {
			red[k] = !o.noopAll
		}
	}
	for _, a := range axes {
		k, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		red[k] = true
	}
	return red, nil
}

func (o *reduceOp) infer(in []*value, nOut int) ([]value, error) {
	if in[0].dtype != Float32 {
		return nil, errShape("%s of integers", o.name)
	}
	red, err := o.reduced(in)
	if err != nil {
		return nil, err
	}
	var shape []int
	for k, d := range in[0].shape {
		switch {
		case !red[k]:
			shape = append(shape, d)
		case o.keepDims:
			shape = append(shape, 1)
		}
	}
	return []value{{shape: append([]int{}, shape...), dtype: Float32}}, nil
}

func (o *reduceOp) run(rc *runCtx, in, out []*Tensor) error {
	vals := []*value{{shape: in[0].shape, dtype: Float32}}
	if len(in) > 1 && in[1] != nil {
		vals = append(vals, &value{shape: in[1].shape, dtype: in[1].dtype, c: in[1]})
	}
	red, err := o.reduced(vals)
	if err != nil {
		return err
	}
	x := in[0]
	r := len(x.shape)
	// Output strides over the input's axes (0 on reduced axes).
	oshape := make([]int, r)
	for k, d := range x.shape {
		oshape[k] = d
		if red[k] {
			oshape[k] = 1
		}
	}
	ost := broadcastStrides(oshape, x.shape)
	y := out[0].f
	switch o.name {
	case "ReduceMax":
		for k := range y {
			y[k] = float32(math.Inf(-1))
		}
	case "ReduceMin":
		for k := range y {
			y[k] = float32(math.Inf(1))
		}
	default:
		clear(y)
	}
	for i, v := range x.f {
		rem, dst := i, 0
		for k := r - 1; k >= 0; k-- {
			dst += (rem % x.shape[k]) * ost[k]
			rem /= x.shape[k]
		}
		switch o.name {
		case "ReduceMax":
			y[dst] = max(y[dst], v)
		case "ReduceMin":
			y[dst] = min(y[dst], v)
		default:
			y[dst] += v
		}
	}
	if o.name == "ReduceMean" && len(y) > 0 {
		cnt := float32(len(x.f) / len(y))
		for k := range y {
			y[k] /= cnt
		}
	}
	return nil
}
