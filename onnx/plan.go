package onnx

import (
	"context"
	"fmt"
	"slices"

	"github.com/veilkit/veil/onnx/internal/gemm"
)

// A value is what the planner knows of a tensor before running: its shape
// and element type, and its data when it is a constant (an initializer or
// a folded result).
type value struct {
	shape []int
	dtype DType
	c     *Tensor
}

func (v *value) len() int { return numElements(v.shape) }

// An operator is one node's computation.
type operator interface {
	// infer returns the nOut output values for the given inputs (nil for
	// an absent optional input). It may fill in the constant data of an
	// output that depends only on shapes.
	infer(in []*value, nOut int) ([]value, error)
	// run computes out from in; out tensors have the inferred shapes.
	run(rc *runCtx, in, out []*Tensor) error
}

// An aliaser is an operator whose first output is a reshaped view of its
// first input: the planner gives both the same buffer and run is not
// called.
type aliaser interface{ alias() bool }

// A scratcher needs temporary float32 space while it runs.
type scratcher interface {
	scratch(in []*value, out []value, threads int) int
}

// A preparer computes, once per plan, what its run needs from the input
// shapes and constant inputs; run finds it in runCtx.state.
type preparer interface {
	prepare(in []*value, out []value) (any, error)
}

// runCtx carries what every kernel needs while a plan runs.
type runCtx struct {
	threads int
	scratch []float32
	state   any           // the step's prepare result, if its op is a preparer
	ep      gemm.Epilogue // reused so that kernels can pass a pointer without allocating
}

type step struct {
	n       *node
	in, out []int // value ids; -1 for an absent input
	state   any   // from preparer.prepare
}

// A plan is a graph specialised to one set of input shapes: constants
// folded, shapes known, buffers assigned.
type plan struct {
	g       *graph
	vals    []value
	steps   []step
	inputs  []int // value ids of g.inputs
	outputs []int // value ids of g.outputs
	root    []int // value id whose storage a value views (itself if none)
	buf     []int // for a root computed at run time: its buffer; else -1
	bufLen  []int
	scratch int
	threads int
}

func newPlan(g *graph, inputs map[string]*Tensor, threads int) (*plan, error) {
	p := &plan{g: g, threads: threads}
	ids := make(map[string]int)
	add := func(v value) int {
		p.vals = append(p.vals, v)
		return len(p.vals) - 1
	}
	for _, in := range g.inputs {
		t := inputs[in.name]
		if t.dtype != in.dtype {
			return nil, fmt.Errorf("%w: input %q is %v, the model wants %v", ErrInput, in.name, t.dtype, in.dtype)
		}
		if in.shape != nil {
			if len(t.shape) != len(in.shape) {
				return nil, fmt.Errorf("%w: input %q has shape %v, the model wants rank %d (%v)", ErrInput, in.name, t.shape, len(in.shape), in.shape)
			}
			for k, d := range in.shape {
				if d >= 0 && t.shape[k] != d {
					return nil, fmt.Errorf("%w: input %q has shape %v, the model wants %v", ErrInput, in.name, t.shape, in.shape)
				}
			}
		}
		if t.Len() != len(t.f)+len(t.i) {
			return nil, fmt.Errorf("%w: input %q: shape %v but %d values", ErrInput, in.name, t.shape, len(t.f)+len(t.i))
		}
		id := add(value{shape: slices.Clone(t.shape), dtype: t.dtype})
		ids[in.name] = id
		p.inputs = append(p.inputs, id)
	}
	lookup := func(name string) (int, error) {
		if name == "" {
			return -1, nil
		}
		if id, ok := ids[name]; ok {
			return id, nil
		}
		if c, ok := g.consts[name]; ok {
			id := add(value{shape: c.shape, dtype: c.dtype, c: c})
			ids[name] = id
			return id, nil
		}
		return 0, fmt.Errorf("%w: value %q is undefined", ErrInvalidModel, name)
	}
	var folded []float32 // scratch for folding
	for _, n := range g.nodes {
		s := step{n: n, in: make([]int, len(n.inputs))}
		in := make([]*value, len(n.inputs))
		allConst := true
		for k, name := range n.inputs {
			id, err := lookup(name)
			if err != nil {
				return nil, err
			}
			s.in[k] = id
			if id >= 0 {
				in[k] = &p.vals[id]
				if in[k].c == nil {
					allConst = false
				}
			}
		}
		// in points into p.vals, which add may grow: copy the values.
		for k := range in {
			if in[k] != nil {
				v := *in[k]
				in[k] = &v
			}
		}
		outs, err := n.op.infer(in, len(n.outputs))
		if err != nil {
			return nil, fmt.Errorf("%v: %w", n, err)
		}
		if len(outs) != len(n.outputs) {
			return nil, fmt.Errorf("%w: %v has %d outputs, the operator makes %d", ErrInvalidModel, n, len(n.outputs), len(outs))
		}
		for k := range outs {
			if l := outs[k].len(); l > maxModelElements || l < 0 {
				return nil, fmt.Errorf("%w: %v: output %q would have shape %v", ErrInvalidModel, n, n.outputs[k], outs[k].shape)
			}
		}
		if allConst {
			// Fold: run the node now, once.
			ot := make([]*Tensor, len(outs))
			it := make([]*Tensor, len(in))
			for k := range in {
				if in[k] != nil {
					it[k] = in[k].c
				}
			}
			need := 0
			if sc, ok := n.op.(scratcher); ok {
				need = sc.scratch(in, outs, 1)
			}
			if len(folded) < need {
				folded = make([]float32, need)
			}
			for k := range outs {
				if outs[k].c == nil {
					ot[k] = newTensorFor(&outs[k])
				} else {
					ot[k] = outs[k].c
				}
			}
			rc := &runCtx{threads: 1, scratch: folded[:need]}
			if pr, ok := n.op.(preparer); ok {
				if rc.state, err = pr.prepare(in, outs); err != nil {
					return nil, fmt.Errorf("%v: %w", n, err)
				}
			}
			if err := n.op.run(rc, it, ot); err != nil {
				return nil, fmt.Errorf("%v: %w", n, err)
			}
			for k := range outs {
				outs[k].c = ot[k]
			}
		}
		runtime := false
		for k, name := range n.outputs {
			id := add(outs[k])
			if name != "" {
				ids[name] = id
			}
			s.out = append(s.out, id)
			if outs[k].c == nil {
				runtime = true
			}
		}
		if runtime {
			if pr, ok := n.op.(preparer); ok {
				if s.state, err = pr.prepare(in, outs); err != nil {
					return nil, fmt.Errorf("%v: %w", n, err)
				}
			}
			p.steps = append(p.steps, s)
		}
	}
	for _, name := range g.outputs {
		id, err := lookup(name)
		if err != nil {
			return nil, err
		}
		p.outputs = append(p.outputs, id)
	}
	p.assignBuffers()
	for _, s := range p.steps {
		if sc, ok := s.n.op.(scratcher); ok {
			in := make([]*value, len(s.in))
			for k, id := range s.in {
				if id >= 0 {
					in[k] = &p.vals[id]
				}
			}
			out := make([]value, len(s.out))
			for k, id := range s.out {
				out[k] = p.vals[id]
			}
			p.scratch = max(p.scratch, sc.scratch(in, out, p.threads))
		}
	}
	return p, nil
}

// fits reports whether inputs have exactly the names, types and shapes p
// was planned for.
func (p *plan) fits(inputs map[string]*Tensor) bool {
	if len(inputs) != len(p.inputs) {
		return false
	}
	for k, in := range p.g.inputs {
		t := inputs[in.name]
		v := &p.vals[p.inputs[k]]
		if t == nil || t.dtype != v.dtype || !sameShape(t.shape, v.shape) || t.Len() != len(t.f)+len(t.i) {
			return false
		}
	}
	return true
}

func newTensorFor(v *value) *Tensor {
	t := &Tensor{shape: v.shape, dtype: v.dtype}
	if v.dtype == Int64 {
		t.i = make([]int64, v.len())
	} else {
		t.f = make([]float32, v.len())
	}
	return t
}

// assignBuffers gives every value computed at run time a buffer, reusing
// the buffers of values no step reads any more.
func (p *plan) assignBuffers() {
	nv := len(p.vals)
	p.root = make([]int, nv)
	p.buf = make([]int, nv)
	for k := range p.root {
		p.root[k] = k
		p.buf[k] = -1
	}
	for _, s := range p.steps {
		if a, ok := s.n.op.(aliaser); ok && a.alias() && s.in[0] >= 0 && p.vals[s.in[0]].c == nil {
			p.root[s.out[0]] = p.root[s.in[0]]
		}
	}
	const forever = 1 << 30
	last := make([]int, nv) // last step reading a root's storage
	for k := range last {
		last[k] = -1
	}
	for i, s := range p.steps {
		for _, id := range s.in {
			if id >= 0 {
				last[p.root[id]] = i
			}
		}
	}
	for _, id := range p.outputs {
		last[p.root[id]] = forever
	}
	var free []int // buffer ids
	for i, s := range p.steps {
		for _, id := range s.out {
			if p.root[id] != id || p.vals[id].c != nil {
				continue
			}
			need := p.vals[id].len()
			if p.vals[id].dtype == Int64 {
				need *= 2 // int64 storage is carved from float32 buffers
			}
			best := -1
			for k, b := range free {
				if p.bufLen[b] >= need && (best < 0 || p.bufLen[b] < p.bufLen[free[best]]) {
					best = k
				}
			}
			if best < 0 && len(free) > 0 {
				// Grow the largest free buffer rather than adding one.
				best = 0
				for k, b := range free {
					if p.bufLen[b] > p.bufLen[free[best]] {
						best = k
					}
				}
			}
			if best >= 0 {
				b := free[best]
				free = slices.Delete(free, best, best+1)
				p.bufLen[b] = max(p.bufLen[b], need)
				p.buf[id] = b
			} else {
				p.bufLen = append(p.bufLen, need)
				p.buf[id] = len(p.bufLen) - 1
			}
		}
		release := func(id int) {
			r := p.root[id]
			if p.buf[r] >= 0 && last[r] <= i && !slices.Contains(free, p.buf[r]) {
				free = append(free, p.buf[r])
			}
		}
		for _, id := range s.in {
			if id >= 0 {
				release(id)
			}
		}
		for _, id := range s.out {
			release(id)
		}
	}
}

// An arena holds one Session's buffers and tensor headers for a plan.
type arena struct {
	tensors []*Tensor
	stepIn  [][]*Tensor
	stepOut [][]*Tensor
	outs    map[string]*Tensor
	rc      runCtx
}

func (p *plan) newArena() *arena {
	a := &arena{tensors: make([]*Tensor, len(p.vals))}
	bufs := make([][]float32, len(p.bufLen))
	for k, n := range p.bufLen {
		bufs[k] = make([]float32, n)
	}
	for id := range p.vals {
		v := &p.vals[id]
		if v.c != nil {
			a.tensors[id] = v.c
			continue
		}
		t := &Tensor{shape: v.shape, dtype: v.dtype}
		if b := p.buf[p.root[id]]; b >= 0 {
			if v.dtype == Int64 {
				t.i = int64View(bufs[b], v.len())
			} else {
				t.f = bufs[b][:v.len()]
			}
		}
		a.tensors[id] = t
	}
	for _, s := range p.steps {
		in := make([]*Tensor, len(s.in))
		for k, id := range s.in {
			if id >= 0 {
				in[k] = a.tensors[id]
			}
		}
		out := make([]*Tensor, len(s.out))
		for k, id := range s.out {
			out[k] = a.tensors[id]
		}
		a.stepIn = append(a.stepIn, in)
		a.stepOut = append(a.stepOut, out)
	}
	a.outs = make(map[string]*Tensor, len(p.outputs))
	for k, id := range p.outputs {
		a.outs[p.g.outputs[k]] = a.tensors[id]
	}
	a.rc = runCtx{threads: p.threads, scratch: make([]float32, p.scratch)}
	return a
}

func (p *plan) run(ctx context.Context, a *arena, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	// Point the input values, and views of them, at the caller's data.
	for k, in := range p.g.inputs {
		t := inputs[in.name]
		id := p.inputs[k]
		a.tensors[id].f, a.tensors[id].i = t.f, t.i
	}
	for id := range p.vals {
		if r := p.root[id]; r != id && p.buf[r] < 0 && p.vals[id].c == nil {
			src := a.tensors[r]
			a.tensors[id].f, a.tensors[id].i = src.f, src.i
		}
	}
	done := ctx.Done()
	for i, s := range p.steps {
		if done != nil {
			select {
			case <-done:
				return nil, ctx.Err()
			default:
			}
		}
		if al, ok := s.n.op.(aliaser); ok && al.alias() && p.root[s.out[0]] != s.out[0] {
			continue
		}
		a.rc.state = s.state
		if err := s.n.op.run(&a.rc, a.stepIn[i], a.stepOut[i]); err != nil {
			return nil, fmt.Errorf("%v: %w", s.n, err)
		}
	}
	return a.outs, nil
}
