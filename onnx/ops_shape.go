package onnx

import (
	"fmt"
	"slices"

	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/onnx/internal/pb"
)

// stridedCopy fills dst, of shape shape, with src[off + Σ i_k·st[k]],
// its rows split over up to threads goroutines. It covers Transpose,
// Slice, Expand and the copy part of Pad.
func stridedCopy[T float32 | int64](threads int, dst []T, shape []int, src []T, off int, st []int) {
	n := len(dst)
	if n == 0 {
		return
	}
	if len(shape) == 0 {
		dst[0] = src[off]
		return
	}
	// Coalesced, a slice's rows stay rows and contiguous runs become one.
	var shBuf, stBuf [8]int
	sh, ss := shBuf[:0], stBuf[:0]
	if len(shape) > len(shBuf) {
		sh, ss = make([]int, 0, len(shape)), make([]int, 0, len(shape))
	}
	sh, ss = append(sh, shape...), append(ss, st...)
	rank := coalesce(sh, ss)
	sh, ss = sh[:rank], ss[:rank]
	rows := n / sh[rank-1]
	// Short rows cost a few nanoseconds an element.
	if rows < 2 || n < minParallelScalar || n < minParallel && sh[rank-1] >= 64 {
		stridedRows(dst, sh, ss, src, off, 0, rows)
		return
	}
	par.For(threads, rows, func(lo, hi int) { stridedRows(dst, sh, ss, src, off, lo, hi) })
}

// stridedRows copies the rows [r0, r1) of stridedCopy's coalesced copy:
// dst's rows of sh[rank-1] elements, row r at the odometer position of r
// over the outer axes sh[:rank-1].
func stridedRows[T float32 | int64](dst []T, sh, ss []int, src []T, off, r0, r1 int) {
	rank := len(sh)
	inner, is := sh[rank-1], ss[rank-1]
	row := func(o, pos int) {
		r := dst[o : o+inner]
		switch {
		case is == 1 && inner >= 16:
			copy(r, src[pos:pos+inner])
		case is == 1:
			s := src[pos : pos+inner]
			for j := range r {
				r[j] = s[j]
			}
		default:
			for j := range r {
				r[j] = src[pos]
				pos += is
			}
		}
	}
	if rank == 1 {
		if r0 < r1 {
			row(0, off)
		}
		return
	}
	if rank == 2 {
		for r := r0; r < r1; r++ {
			row(r*inner, off+r*ss[0])
		}
		return
	}
	var idxBuf [8]int
	idx := idxBuf[:rank]
	if rank > len(idxBuf) {
		idx = make([]int, rank)
	}
	// The odometer at row r0.
	pos := off
	for k, q := rank-2, r0; k >= 0; k-- {
		idx[k] = q % sh[k]
		q /= sh[k]
		pos += idx[k] * ss[k]
	}
	for r := r0; r < r1; r++ {
		row(r*inner, pos)
		// Advance the odometer over the outer axes.
		for k := rank - 2; k >= 0; k-- {
			idx[k]++
			pos += ss[k]
			if idx[k] < sh[k] {
				break
			}
			pos -= ss[k] * idx[k]
			idx[k] = 0
		}
	}
}

// copyStrided dispatches stridedCopy on the tensors' element type.
func copyStrided(threads int, dst *Tensor, src *Tensor, off int, st []int) {
	if dst.dtype == Int64 {
		stridedCopy(threads, dst.i, dst.shape, src.i, off, st)
	} else {
		stridedCopy(threads, dst.f, dst.shape, src.f, off, st)
	}
}

func constInts(v *value, what string) ([]int64, error) {
	if v == nil {
		return nil, nil
	}
	if v.c == nil {
		return nil, fmt.Errorf("%w: %s must be a constant (computed at run time here)", ErrUnsupported, what)
	}
	if v.dtype != Int64 {
		return nil, errShape("%s must be integers", what)
	}
	return v.c.i, nil
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, errShape("axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

// shapeOp is Shape.
type shapeOp struct{ start, end int64 }

func (o *shapeOp) infer(in []*value, nOut int) ([]value, error) {
	s := in[0].shape
	r := int64(len(s))
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	lo, hi := clamp(o.start), clamp(o.end)
	dims := []int64{}
	for _, d := range s[lo:max(lo, hi)] {
		dims = append(dims, int64(d))
	}
	c := &Tensor{shape: []int{len(dims)}, dtype: Int64, i: dims}
	return []value{{shape: c.shape, dtype: Int64, c: c}}, nil
}

func (o *shapeOp) run(rc *runCtx, in, out []*Tensor) error { return nil }

// viewOp is an operator whose output is its input with another shape:
// Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout.
type viewOp struct {
	name  string
	shape func(in []*value) ([]int, error)
}

func (o *viewOp) alias() bool { return true }

func (o *viewOp) infer(in []*value, nOut int) ([]value, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, errShape("%s needs an input", o.name)
	}
	s, err := o.shape(in)
	if err != nil {
		return nil, err
	}
	if numElements(s) != in[0].len() {
		return nil, errShape("%s of %v to %v changes the element count", o.name, in[0].shape, s)
	}
	out := []value{{shape: s, dtype: in[0].dtype}}
	if nOut > 1 { // Dropout's mask: all true in inference.
		if o.name != "Dropout" || nOut != 2 {
			return nil, errShape("%s has %d outputs", o.name, nOut)
		}
		mask := make([]int64, in[0].len())
		for k := range mask {
			mask[k] = 1
		}
		c := &Tensor{shape: in[0].shape, dtype: Int64, i: mask}
		out = append(out, value{shape: c.shape, dtype: Int64, c: c})
	}
	return out, nil
}

// run copies; the planner skips it when the output is a view.
func (o *viewOp) run(rc *runCtx, in, out []*Tensor) error {
	copy(out[0].f, in[0].f)
	copy(out[0].i, in[0].i)
	return nil
}

func init() {
	register("Shape", func(a *attrs) (operator, error) {
		return &shapeOp{start: a.int("start", 0), end: a.int("end", 1<<62)}, nil
	})
	register("Identity", func(a *attrs) (operator, error) {
		return &viewOp{name: "Identity", shape: func(in []*value) ([]int, error) { return in[0].shape, nil }}, nil
	})
	register("Dropout", func(a *attrs) (operator, error) {
		a.ignore("ratio", "seed", "is_test")
		return &viewOp{name: "Dropout", shape: func(in []*value) ([]int, error) { return in[0].shape, nil }}, nil
	})
	register("Reshape", func(a *attrs) (operator, error) {
		attrShape := a.ints("shape")
		allowZero := a.int("allowzero", 0) != 0
		return &viewOp{name: "Reshape", shape: func(in []*value) ([]int, error) {
			target := attrShape
			if len(in) > 1 {
				var err error
				if target, err = constInts(in[1], "Reshape shape"); err != nil {
					return nil, err
				}
			}
			return reshapeTarget(in[0].shape, target, allowZero)
		}}, nil
	})
	register("Flatten", func(a *attrs) (operator, error) {
		axis := a.int("axis", 1)
		return &viewOp{name: "Flatten", shape: func(in []*value) ([]int, error) {
			s := in[0].shape
			ax := int(axis)
			if ax < 0 {
				ax += len(s)
			}
			if ax < 0 || ax > len(s) {
				return nil, errShape("Flatten axis %d for rank %d", axis, len(s))
			}
			return []int{numElements(s[:ax]), numElements(s[ax:])}, nil
		}}, nil
	})
	register("Squeeze", func(a *attrs) (operator, error) {
		attrAxes := a.ints("axes")
		return &viewOp{name: "Squeeze", shape: func(in []*value) ([]int, error) {
			axes := attrAxes
			if len(in) > 1 {
				var err error
				if axes, err = constInts(in[1], "Squeeze axes"); err != nil {
					return nil, err
				}
			}
			s := in[0].shape
			drop := make([]bool, len(s))
			if len(axes) == 0 {
				for k, d := range s {
					drop[k] = d == 1
				}
			}
			for _, ax := range axes {
				k, err := normAxis(ax, len(s))
				if err != nil {
					return nil, err
				}
				if s[k] != 1 {
					return nil, errShape("Squeeze axis %d of shape %v is not 1", ax, s)
				}
				drop[k] = true
			}
			var out []int
			for k, d := range s {
				if !drop[k] {
					out = append(out, d)
				}
			}
			return append([]int{}, out...), nil
		}}, nil
	})
	register("Unsqueeze", func(a *attrs) (operator, error) {
		attrAxes := a.ints("axes")
		return &viewOp{name: "Unsqueeze", shape: func(in []*value) ([]int, error) {
			axes := attrAxes
			if len(in) > 1 {
				var err error
				if axes, err = constInts(in[1], "Unsqueeze axes"); err != nil {
					return nil, err
				}
			}
			s := in[0].shape
			r := len(s) + len(axes)
			ins := make([]bool, r)
			for _, ax := range axes {
				k, err := normAxis(ax, r)
				if err != nil {
					return nil, err
				}
				if ins[k] {
					return nil, errShape("Unsqueeze axis %d repeated", ax)
				}
				ins[k] = true
			}
			out := make([]int, 0, r)
			j := 0
			for k := 0; k < r; k++ {
				if ins[k] {
					out = append(out, 1)
				} else {
					out = append(out, s[j])
					j++
				}
			}
			return out, nil
		}}, nil
	})
}

// reshapeTarget resolves Reshape's 0 and -1 entries.
func reshapeTarget(in []int, target []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(target))
	infer := -1
	known := 1
	for k, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, errShape("Reshape target %v has two -1", target)
			}
			infer = k
			continue
		case d == 0 && !allowZero:
			if k >= len(in) {
				return nil, errShape("Reshape target %v copies axis %d of %v", target, k, in)
			}
			out[k] = in[k]
		case d < 0:
			return nil, errShape("Reshape target %v", target)
		default:
			out[k] = int(d)
		}
		if out[k] > maxModelElements {
			return nil, errShape("Reshape target %v", target)
		}
		known *= out[k]
		if known > maxModelElements {
			return nil, errShape("Reshape target %v", target)
		}
	}
	n := numElements(in)
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return nil, errShape("Reshape %v to %v", in, target)
		}
		out[infer] = n / known
	}
	return out, nil
}

// concatOp is Concat.
type concatOp struct{ axis int64 }

func (o *concatOp) infer(in []*value, nOut int) ([]value, error) {
	var first *value
	for _, v := range in {
		if v != nil {
			first = v
			break
		}
	}
	if first == nil {
		return nil, errShape("Concat of nothing")
	}
	ax, err := normAxis(o.axis, len(first.shape))
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(first.shape)
	shape[ax] = 0
	for _, v := range in {
		if v == nil {
			continue
		}
		if len(v.shape) != len(shape) || v.dtype != first.dtype {
			return nil, errShape("Concat of %v and %v", first.shape, v.shape)
		}
		for k := range shape {
			if k != ax && v.shape[k] != shape[k] {
				return nil, errShape("Concat on axis %d of %v and %v", ax, first.shape, v.shape)
			}
		}
		shape[ax] += v.shape[ax]
	}
	return []value{{shape: shape, dtype: first.dtype}}, nil
}

func (o *concatOp) run(rc *runCtx, in, out []*Tensor) error {
	ax, _ := normAxis(o.axis, len(out[0].shape))
	joinParts(rc.threads, out[0], in, ax, true)
	return nil
}

// joinParts copies the parts into whole, their concatenation along axis
// ax (join, for Concat), or whole into the parts (Split), over up to
// threads goroutines. A nil part is empty.
func joinParts(threads int, whole *Tensor, parts []*Tensor, ax int, join bool) {
	if whole.dtype == Int64 {
		joinRange(threads, whole.i, whole.shape, parts, ax, join, func(t *Tensor) []int64 { return t.i })
	} else {
		joinRange(threads, whole.f, whole.shape, parts, ax, join, func(t *Tensor) []float32 { return t.f })
	}
}

func joinRange[T float32 | int64](threads int, whole []T, shape []int, parts []*Tensor, ax int, join bool, data func(*Tensor) []T) {
	rowW := numElements(shape[ax:]) // elements of whole per outer index
	if rowW == 0 {
		return
	}
	var widthBuf [16]int
	var dataBuf [16][]T
	widths, datas := widthBuf[:0], dataBuf[:0]
	if len(parts) > len(widthBuf) {
		widths, datas = make([]int, 0, len(parts)), make([][]T, 0, len(parts))
	}
	for _, t := range parts {
		w := 0
		var d []T
		if t != nil {
			w, d = numElements(t.shape[ax:]), data(t)
		}
		widths, datas = append(widths, w), append(datas, d)
	}
	// The elements [lo, hi) of whole, row by row, part by part.
	work := func(lo, hi int) {
		for i := lo; i < hi; {
			k := i / rowW
			j0, j1 := i-k*rowW, min(hi-k*rowW, rowW)
			off := 0
			for p, w := range widths {
				if a, b := max(j0, off), min(j1, off+w); a < b {
					wh := whole[k*rowW+a : k*rowW+b]
					pt := datas[p][k*w+a-off : k*w+b-off]
					switch {
					case b-a >= 16 && join:
						copy(wh, pt)
					case b-a >= 16:
						copy(pt, wh)
					case join: // a short run: cheaper than a call
						for j := range wh {
							wh[j] = pt[j]
						}
					default:
						for j := range pt {
							pt[j] = wh[j]
						}
					}
				}
				off += w
			}
			i = k*rowW + j1
		}
	}
	// Short rows cost a few nanoseconds an element.
	if len(whole) < minParallelScalar || len(whole) < minParallel && rowW >= 64 {
		work(0, len(whole))
		return
	}
	par.For(threads, len(whole), work)
}

// splitOp is Split.
type splitOp struct {
	axis    int64
	split   []int64 // from the attribute (before opset 13)
	outputs int64   // num_outputs (opset 18)
}

func (o *splitOp) sizes(in []*value, nOut int) ([]int, int, error) {
	x := in[0]
	ax, err := normAxis(o.axis, len(x.shape))
	if err != nil {
		return nil, 0, err
	}
	split := o.split
	if len(in) > 1 && in[1] != nil {
		if split, err = constInts(in[1], "Split sizes"); err != nil {
			return nil, 0, err
		}
	}
	d := x.shape[ax]
	sizes := make([]int, nOut)
	if len(split) == 0 {
		each := (d + nOut - 1) / nOut
		for k := range sizes {
			sizes[k] = min(each, d-k*each)
		}
		if d%nOut != 0 && o.outputs == 0 {
			return nil, 0, errShape("Split of %d into %d equal parts", d, nOut)
		}
	} else {
		if len(split) != nOut {
			return nil, 0, errShape("Split sizes %v for %d outputs", split, nOut)
		}
		sum := 0
		for k, s := range split {
			if s < 0 {
				return nil, 0, errShape("Split sizes %v", split)
			}
			sizes[k] = int(s)
			sum += int(s)
		}
		if sum != d {
			return nil, 0, errShape("Split sizes %v for axis of %d", split, d)
		}
	}
	return sizes, ax, nil
}

func (o *splitOp) infer(in []*value, nOut int) ([]value, error) {
	sizes, ax, err := o.sizes(in, nOut)
	if err != nil {
		return nil, err
	}
	out := make([]value, nOut)
	for k, s := range sizes {
		shape := slices.Clone(in[0].shape)
		shape[ax] = s
		out[k] = value{shape: shape, dtype: in[0].dtype}
	}
	return out, nil
}

func (o *splitOp) run(rc *runCtx, in, out []*Tensor) error {
	ax, _ := normAxis(o.axis, len(in[0].shape))
	joinParts(rc.threads, in[0], out, ax, false)
	return nil
}

func init() {
	register("Concat", func(a *attrs) (operator, error) { return &concatOp{axis: a.int("axis", 0)}, nil })
	register("Split", func(a *attrs) (operator, error) {
		return &splitOp{axis: a.int("axis", 0), split: a.ints("split"), outputs: a.int("num_outputs", 0)}, nil
	})
}

// sliceOp is Slice, in the attribute form (before opset 10) and the
// input form.
type sliceOp struct{ starts, ends, axes []int64 }

// layout returns the output shape, the offset of the first element and
// the per-axis source strides.
func (o *sliceOp) layout(in []*value) ([]int, int, []int, error) {
	x := in[0]
	starts, ends, axes := o.starts, o.ends, o.axes
	var steps []int64
	if len(in) > 1 {
		var err error
		get := func(k int, what string) []int64 {
			if err != nil || len(in) <= k {
				return nil
			}
			var v []int64
			v, err = constInts(in[k], what)
			return v
		}
		starts, ends, axes, steps = get(1, "Slice starts"), get(2, "Slice ends"), get(3, "Slice axes"), get(4, "Slice steps")
		if err != nil {
			return nil, 0, nil, err
		}
	}
	if len(starts) != len(ends) || (len(axes) != 0 && len(axes) != len(starts)) || (len(steps) != 0 && len(steps) != len(starts)) {
		return nil, 0, nil, errShape("Slice starts %v, ends %v, axes %v, steps %v", starts, ends, axes, steps)
	}
	rank := len(x.shape)
	shape := slices.Clone(x.shape)
	st := strides(x.shape)
	src := slices.Clone(st)
	off := 0
	seen := make([]bool, rank)
	for k := range starts {
		ax := int64(k)
		if len(axes) != 0 {
			ax = axes[k]
		}
		a, err := normAxis(ax, rank)
		if err != nil {
			return nil, 0, nil, err
		}
		if seen[a] {
			return nil, 0, nil, errShape("Slice axis %d repeated", ax)
		}
		seen[a] = true
		step := int64(1)
		if len(steps) != 0 {
			step = steps[k]
		}
		if step == 0 {
			return nil, 0, nil, errShape("Slice step 0")
		}
		d := int64(x.shape[a])
		s, e := starts[k], ends[k]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var count int64
		if step > 0 {
			s, e = min(max(s, 0), d), min(max(e, 0), d)
			if e > s {
				count = (e - s + step - 1) / step
			}
		} else {
			s, e = min(max(s, 0), d-1), min(max(e, -1), d-1)
			if s > e {
				count = (s - e - step - 1) / -step
			}
		}
		shape[a] = int(count)
		if count > 0 {
			off += int(s) * st[a]
		}
		src[a] = int(step) * st[a]
	}
	return shape, off, src, nil
}

func (o *sliceOp) infer(in []*value, nOut int) ([]value, error) {
	shape, _, _, err := o.layout(in)
	if err != nil {
		return nil, err
	}
	return []value{{shape: shape, dtype: in[0].dtype}}, nil
}

// sliceLayout is a Slice's source offset and strides, prepared per plan.
type sliceLayout struct {
	off int
	st  []int
}

func (o *sliceOp) prepare(in []*value, out []value) (any, error) {
	_, off, st, err := o.layout(in)
	return &sliceLayout{off, st}, err
}

func (o *sliceOp) run(rc *runCtx, in, out []*Tensor) error {
	l := rc.state.(*sliceLayout)
	copyStrided(rc.threads, out[0], in[0], l.off, l.st)
	return nil
}

func init() {
	register("Slice", func(a *attrs) (operator, error) {
		o := &sliceOp{}
		if a.opset < 10 {
			o.starts, o.ends, o.axes = a.ints("starts"), a.ints("ends"), a.ints("axes")
		}
		return o, nil
	})
}

// transposeOp is Transpose.
type transposeOp struct{ perm []int64 }

func (o *transposeOp) permFor(rank int) ([]int, error) {
	perm := make([]int, rank)
	if len(o.perm) == 0 {
		for k := range perm {
			perm[k] = rank - 1 - k
		}
		return perm, nil
	}
	if len(o.perm) != rank {
		return nil, errShape("Transpose perm %v for rank %d", o.perm, rank)
	}
	seen := make([]bool, rank)
	for k, p := range o.perm {
		if p < 0 || p >= int64(rank) || seen[p] {
			return nil, errShape("Transpose perm %v", o.perm)
		}
		seen[p] = true
		perm[k] = int(p)
	}
	return perm, nil
}

func (o *transposeOp) infer(in []*value, nOut int) ([]value, error) {
	perm, err := o.permFor(len(in[0].shape))
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(perm))
	for k, p := range perm {
		shape[k] = in[0].shape[p]
	}
	return []value{{shape: shape, dtype: in[0].dtype}}, nil
}

func (o *transposeOp) run(rc *runCtx, in, out []*Tensor) error {
	x := in[0]
	rank := len(x.shape)
	var permBuf, stBuf [8]int
	if rank > 8 {
		return errShape("Transpose of rank %d", rank)
	}
	perm := permBuf[:rank]
	for k := range perm {
		perm[k] = rank - 1 - k
		if len(o.perm) != 0 {
			perm[k] = int(o.perm[k])
		}
	}
	acc := 1
	var inSt [8]int
	for k := rank - 1; k >= 0; k-- {
		inSt[k] = acc
		acc *= x.shape[k]
	}
	st := stBuf[:rank]
	for k, p := range perm {
		st[k] = inSt[p]
	}
	var shBuf [8]int
	shape := shBuf[:copy(shBuf[:], out[0].shape)]
	r := coalesce(shape, st)
	shape, cst := shape[:r], st[:r]
	switch {
	case x.dtype == Int64:
		stridedCopy(rc.threads, out[0].i, shape, x.i, 0, cst)
	case !transpose2D(rc.threads, shape, x.f, out[0].f, cst):
		stridedCopy(rc.threads, out[0].f, shape, x.f, 0, cst)
	}
	return nil
}

// coalesce drops the axes of length 1 from shape and merges each axis
// into the one before it where every stride vector in sts steps over the
// two evenly (st[k-1] == shape[k]·st[k]: a contiguous run, or a
// broadcast axis in each), in place, and returns how many axes are left
// (at least one). A copy of [1, 4420, 4] sliced to [1, 4420, 2] becomes
// 4420 rows of 2; a channel scale [1, C, 1, 1] broadcast over
// [1, C, H, W] becomes C rows of H·W.
func coalesce(shape []int, sts ...[]int) int {
	k := 0
	for i, d := range shape {
		if d == 1 {
			continue
		}
		merge := k > 0
		for _, st := range sts {
			merge = merge && st[k-1] == d*st[i]
		}
		if merge {
			shape[k-1] *= d
			for _, st := range sts {
				st[k-1] = st[i]
			}
			continue
		}
		shape[k] = d
		for _, st := range sts {
			st[k] = st[i]
		}
		k++
	}
	if k == 0 {
		shape[0] = 1
		for _, st := range sts {
			st[0] = 1
		}
		k = 1
	}
	return k
}

// transpose2D handles the common case of swapping the last two of the
// effective axes (like NCHW→NHWC) with a cache-blocked loop, in bands of
// rows split over up to threads goroutines; it reports whether it
// applied.
func transpose2D(threads int, shape []int, src, dst []float32, st []int) bool {
	rank := len(shape)
	// Looking for shape [B..., R, C] with source strides [.., 1, R'] where
	// the output's last axis walks the source with stride rows and the
	// one before it with stride 1.
	if rank < 2 || st[rank-2] != 1 {
		return false
	}
	rows, cols := shape[rank-2], shape[rank-1]
	if st[rank-1] != rows {
		return false
	}
	plane := rows * cols
	for k := rank - 3; k >= 0; k-- {
		if shape[k] != 1 && st[k] != plane*numElements(shape[k+1:rank-2]) {
			return false
		}
	}
	batches := len(dst) / max(plane, 1)
	const blk = 32
	bands := (rows + blk - 1) / blk // per batch
	// Item i is the band of rows i%bands of batch i/bands.
	work := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b, r0 := i/bands, i%bands*blk
			s, d := src[b*plane:(b+1)*plane], dst[b*plane:(b+1)*plane]
			// d[r][c] = s[c][r]; s is cols×rows.
			r1 := min(r0+blk, rows)
			for c0 := 0; c0 < cols; c0 += blk {
				c1 := min(c0+blk, cols)
				for r := r0; r < r1; r++ {
					row := d[r*cols : (r+1)*cols]
					for c := c0; c < c1; c++ {
						row[c] = s[c*rows+r]
					}
				}
			}
		}
	}
	if len(dst) < minParallel {
		work(0, batches*bands)
	} else {
		par.For(threads, batches*bands, work)
	}
	return true
}

func init() {
	register("Transpose", func(a *attrs) (operator, error) { return &transposeOp{perm: a.ints("perm")}, nil })
}

// gatherOp is Gather.
type gatherOp struct{ axis int64 }

func (o *gatherOp) infer(in []*value, nOut int) ([]value, error) {
	x, idx := in[0], in[1]
	if idx == nil || idx.dtype != Int64 {
		return nil, errShape("Gather indices must be integers")
	}
	ax, err := normAxis(o.axis, len(x.shape))
	if err != nil {
		return nil, err
	}
	shape := append(append(slices.Clone(x.shape[:ax]), idx.shape...), x.shape[ax+1:]...)
	return []value{{shape: shape, dtype: x.dtype}}, nil
}

func (o *gatherOp) run(rc *runCtx, in, out []*Tensor) error {
	x, idx := in[0], in[1]
	ax, _ := normAxis(o.axis, len(x.shape))
	outer := numElements(x.shape[:ax])
	d := x.shape[ax]
	inner := numElements(x.shape[ax+1:])
	n := len(idx.i)
	for k, j := range idx.i {
		if j < 0 {
			j += int64(d)
		}
		if j < 0 || j >= int64(d) {
			return fmt.Errorf("%w: Gather index %d out of range [0,%d)", ErrInput, idx.i[k], d)
		}
		for b := 0; b < outer; b++ {
			so := (b*d + int(j)) * inner
			do := (b*n + k) * inner
			if x.dtype == Int64 {
				copy(out[0].i[do:do+inner], x.i[so:so+inner])
			} else {
				copy(out[0].f[do:do+inner], x.f[so:so+inner])
			}
		}
	}
	return nil
}

func init() {
	register("Gather", func(a *attrs) (operator, error) { return &gatherOp{axis: a.int("axis", 0)}, nil })
}

// padOp is Pad (constant, reflect and edge modes).
type padOp struct {
	mode  string
	pads  []int64 // attribute form (before opset 11)
	value float32
}

func (o *padOp) padsFor(in []*value) ([]int64, float32, error) {
	pads, val := o.pads, o.value
	x := in[0]
	if len(in) > 1 {
		var err error
		if pads, err = constInts(in[1], "Pad pads"); err != nil {
			return nil, 0, err
		}
		if len(in) > 2 && in[2] != nil {
			if in[2].c == nil {
				return nil, 0, fmt.Errorf("%w: Pad value must be a constant", ErrUnsupported)
			}
			if in[2].c.Len() > 0 {
				if in[2].dtype == Float32 {
					val = in[2].c.f[0]
				} else {
					val = float32(in[2].c.i[0])
				}
			}
		}
		if len(in) > 3 && in[3] != nil {
			axes, err := constInts(in[3], "Pad axes")
			if err != nil {
				return nil, 0, err
			}
			full := make([]int64, 2*len(x.shape))
			if len(pads) != 2*len(axes) {
				return nil, 0, errShape("Pad pads %v for axes %v", pads, axes)
			}
			for k, a := range axes {
				ax, err := normAxis(a, len(x.shape))
				if err != nil {
					return nil, 0, err
				}
				full[ax], full[len(x.shape)+ax] = pads[k], pads[len(axes)+k]
			}
			pads = full
		}
	}
	if len(pads) != 2*len(x.shape) {
		return nil, 0, errShape("Pad pads %v for rank %d", pads, len(x.shape))
	}
	return pads, val, nil
}

func (o *padOp) infer(in []*value, nOut int) ([]value, error) {
	pads, _, err := o.padsFor(in)
	if err != nil {
		return nil, err
	}
	x := in[0]
	r := len(x.shape)
	shape := make([]int, r)
	for k := range shape {
		shape[k] = x.shape[k] + int(pads[k]) + int(pads[r+k])
		if shape[k] < 0 || shape[k] > maxModelElements {
			return nil, errShape("Pad %v of %v", pads, x.shape)
		}
		if o.mode == "reflect" && (pads[k] >= int64(x.shape[k]) || pads[r+k] >= int64(x.shape[k])) {
			return nil, errShape("reflect Pad %v of %v", pads, x.shape)
		}
		if o.mode == "edge" && x.shape[k] == 0 && shape[k] > 0 {
			return nil, errShape("edge Pad of an empty axis")
		}
	}
	if x.dtype != Float32 && o.mode != "constant" {
		return nil, errShape("Pad %s of integers", o.mode)
	}
	return []value{{shape: shape, dtype: x.dtype}}, nil
}

// padParams are a Pad's resolved pads and value, prepared per plan.
type padParams struct {
	pads []int64
	val  float32
}

func (o *padOp) prepare(in []*value, out []value) (any, error) {
	pads, val, err := o.padsFor(in)
	return &padParams{pads, val}, err
}

func (o *padOp) run(rc *runCtx, in, out []*Tensor) error {
	pp := rc.state.(*padParams)
	pads, val := pp.pads, pp.val
	x, y := in[0], out[0]
	r := len(x.shape)
	if o.mode == "constant" {
		if y.dtype == Int64 {
			for k := range y.i {
				y.i[k] = int64(val)
			}
		} else {
			for k := range y.f {
				y.f[k] = val
			}
		}
		// Copy the (possibly cropped, for negative pads) input into place.
		inner := &Tensor{shape: make([]int, r), dtype: y.dtype}
		ySt, xSt := strides(y.shape), strides(x.shape)
		srcOff, dstOff := 0, 0
		for k := 0; k < r; k++ {
			lo := int(pads[k])
			inner.shape[k] = x.shape[k] + min(lo, 0) + min(int(pads[r+k]), 0)
			if inner.shape[k] <= 0 {
				return nil
			}
			if lo < 0 {
				srcOff += -lo * xSt[k]
			} else {
				dstOff += lo * ySt[k]
			}
		}
		// Write through a strided view of y: walk inner's shape, reading x
		// contiguously per row and writing y rows.
		return padCopy(y, x, inner.shape, srcOff, dstOff, xSt, ySt)
	}
	// reflect / edge: map every output coordinate to a source coordinate.
	idx := make([]int, r)
	xSt := strides(x.shape)
	for o2 := range y.f {
		rem := o2
		src := 0
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % y.shape[k]
			rem /= y.shape[k]
			c := idx[k] - int(pads[k])
			n := x.shape[k]
			if o.mode == "edge" {
				c = min(max(c, 0), n-1)
			} else if n > 1 {
				period := 2 * (n - 1)
				c = ((c % period) + period) % period
				if c >= n {
					c = period - c
				}
			} else {
				c = 0
			}
			src += c * xSt[k]
		}
		y.f[o2] = x.f[src]
	}
	return nil
}

// padCopy copies the shape-sized block at srcOff in x to dstOff in y.
func padCopy(y, x *Tensor, shape []int, srcOff, dstOff int, xSt, ySt []int) error {
	r := len(shape)
	inner := shape[r-1]
	idx := make([]int, r)
	n := numElements(shape)
	for o := 0; o < n; o += inner {
		s, d := srcOff, dstOff
		for k := 0; k < r-1; k++ {
			s += idx[k] * xSt[k]
			d += idx[k] * ySt[k]
		}
		if y.dtype == Int64 {
			copy(y.i[d:d+inner], x.i[s:s+inner])
		} else {
			copy(y.f[d:d+inner], x.f[s:s+inner])
		}
		for k := r - 2; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return nil
}

func init() {
	register("Pad", func(a *attrs) (operator, error) {
		o := &padOp{mode: a.string("mode", "constant")}
		a.oneOf("mode", o.mode, "constant", "reflect", "edge")
		if a.opset < 11 {
			o.pads = a.ints("pads")
			o.value = a.float("value", 0)
			if a.opset < 2 && a.has("paddings") {
				o.pads = a.ints("paddings")
			}
		}
		return o, nil
	})
}

// castOp is Cast between the runtime's two element types.
type castOp struct{ to DType }

func (o *castOp) infer(in []*value, nOut int) ([]value, error) {
	return []value{{shape: in[0].shape, dtype: o.to}}, nil
}

func (o *castOp) run(rc *runCtx, in, out []*Tensor) error {
	x, y := in[0], out[0]
	switch {
	case x.dtype == y.dtype:
		copy(y.f, x.f)
		copy(y.i, x.i)
	case y.dtype == Int64:
		for k, v := range x.f {
			y.i[k] = int64(v)
		}
	default:
		for k, v := range x.i {
			y.f[k] = float32(v)
		}
	}
	return nil
}

// constantOfShapeOp is ConstantOfShape.
type constantOfShapeOp struct {
	dtype DType
	f     float32
	i     int64
}

func (o *constantOfShapeOp) infer(in []*value, nOut int) ([]value, error) {
	dims, err := constInts(in[0], "ConstantOfShape shape")
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(dims))
	n := 1
	for k, d := range dims {
		if d < 0 || d > maxModelElements {
			return nil, errShape("ConstantOfShape %v", dims)
		}
		shape[k] = int(d)
		n *= int(d)
		if n > maxModelElements {
			return nil, errShape("ConstantOfShape %v", dims)
		}
	}
	return []value{{shape: shape, dtype: o.dtype}}, nil
}

func (o *constantOfShapeOp) run(rc *runCtx, in, out []*Tensor) error {
	for k := range out[0].f {
		out[0].f[k] = o.f
	}
	for k := range out[0].i {
		out[0].i[k] = o.i
	}
	return nil
}

// expandOp is Expand.
type expandOp struct{}

func (o *expandOp) infer(in []*value, nOut int) ([]value, error) {
	dims, err := constInts(in[1], "Expand shape")
	if err != nil {
		return nil, err
	}
	target := toInts(dims)
	shape, err := broadcastShape(in[0].shape, target)
	if err != nil {
		return nil, err
	}
	return []value{{shape: shape, dtype: in[0].dtype}}, nil
}

func (o *expandOp) run(rc *runCtx, in, out []*Tensor) error {
	copyStrided(rc.threads, out[0], in[0], 0, broadcastStrides(in[0].shape, out[0].shape))
	return nil
}

// tileOp is Tile.
type tileOp struct{}

func (o *tileOp) infer(in []*value, nOut int) ([]value, error) {
	reps, err := constInts(in[1], "Tile repeats")
	if err != nil {
		return nil, err
	}
	if len(reps) != len(in[0].shape) {
		return nil, errShape("Tile repeats %v for shape %v", reps, in[0].shape)
	}
	shape := make([]int, len(reps))
	for k, r := range reps {
		if r < 0 || r > maxModelElements {
			return nil, errShape("Tile repeats %v", reps)
		}
		shape[k] = in[0].shape[k] * int(r)
	}
	return []value{{shape: shape, dtype: in[0].dtype}}, nil
}

func (o *tileOp) run(rc *runCtx, in, out []*Tensor) error {
	x, y := in[0], out[0]
	r := len(y.shape)
	xSt := strides(x.shape)
	idx := make([]int, r)
	n := y.Len()
	for o2 := 0; o2 < n; o2++ {
		rem, src := o2, 0
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % y.shape[k]
			rem /= y.shape[k]
			src += (idx[k] % x.shape[k]) * xSt[k]
		}
		if y.dtype == Int64 {
			y.i[o2] = x.i[src]
		} else {
			y.f[o2] = x.f[src]
		}
	}
	return nil
}

func init() {
	register("Cast", func(a *attrs) (operator, error) {
		to := a.int("to", 1)
		dt, err := dtypeFromProto(pb.DataType(to))
		if err != nil {
			return nil, err
		}
		return &castOp{to: dt}, nil
	})
	register("ConstantOfShape", func(a *attrs) (operator, error) {
		o := &constantOfShapeOp{dtype: Float32}
		if pt := a.tensor("value"); pt != nil {
			t, err := tensorFromProto(pt)
			if err != nil {
				return nil, err
			}
			if t.Len() != 1 {
				return nil, fmt.Errorf("value must hold one element")
			}
			o.dtype = t.dtype
			if t.dtype == Int64 {
				o.i = t.i[0]
			} else {
				o.f = t.f[0]
			}
		}
		return o, nil
	})
	register("Expand", func(a *attrs) (operator, error) { return &expandOp{}, nil })
	register("Tile", func(a *attrs) (operator, error) { return &tileOp{}, nil })
}
