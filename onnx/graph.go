package onnx

import (
	"fmt"
	"math"

	"github.com/veilkit/veil/onnx/internal/pb"
)

// graph is a decoded, validated and fused model graph, independent of the
// input shapes.
type graph struct {
	opset   int64
	inputs  []graphInput
	outputs []string
	consts  map[string]*Tensor
	nodes   []*node // topologically sorted
}

type graphInput struct {
	name  string
	dtype DType
	shape []int // -1 for a symbolic or unknown dimension
}

type node struct {
	name    string
	opType  string
	inputs  []string // "" for an absent optional input
	outputs []string
	op      operator
}

func (n *node) String() string {
	if n.name != "" {
		return fmt.Sprintf("%s node %q", n.opType, n.name)
	}
	return n.opType + " node"
}

// maxGraphNodes bounds the size of a graph the loader accepts.
const maxGraphNodes = 1 << 20

func buildGraph(mp *pb.Model) (*graph, error) {
	if mp.Graph == nil {
		return nil, fmt.Errorf("%w: no graph", ErrInvalidModel)
	}
	g := &graph{consts: make(map[string]*Tensor)}
	g.opset = -1
	for _, o := range mp.OpsetImport {
		switch o.Domain {
		case "", "ai.onnx":
			g.opset = o.Version
		case "ai.onnx.ml":
			// Declared by some converters; no ml operator is implemented,
			// so a node that uses one fails below.
		default:
			// A custom domain only matters if a node uses it.
		}
	}
	if g.opset < 0 {
		if len(mp.OpsetImport) == 0 {
			g.opset = 1 // IR version 2 models without opset_import.
		} else {
			return nil, fmt.Errorf("%w: no ai.onnx opset import", ErrInvalidModel)
		}
	}
	pg := mp.Graph
	if len(pg.Nodes) > maxGraphNodes {
		return nil, fmt.Errorf("%w: %d nodes", ErrInvalidModel, len(pg.Nodes))
	}
	for _, init := range pg.Initializers {
		t, err := tensorFromProto(init)
		if err != nil {
			return nil, fmt.Errorf("%w: initializer %q: %w", ErrInvalidModel, init.Name, err)
		}
		g.consts[init.Name] = t
	}
	for _, vi := range pg.Inputs {
		if _, isConst := g.consts[vi.Name]; isConst {
			continue // old exporters list initializers as inputs too
		}
		in := graphInput{name: vi.Name, dtype: Float32}
		if vi.ElemType != 0 {
			dt, err := dtypeFromProto(vi.ElemType)
			if err != nil {
				return nil, fmt.Errorf("%w: input %q: %w", ErrUnsupported, vi.Name, err)
			}
			in.dtype = dt
		}
		if vi.HasShape {
			in.shape = make([]int, len(vi.Shape))
			for k, d := range vi.Shape {
				in.shape[k] = -1
				if d.HasValue && d.Value >= 0 {
					in.shape[k] = int(d.Value)
				}
			}
		}
		g.inputs = append(g.inputs, in)
	}
	for _, vo := range pg.Outputs {
		g.outputs = append(g.outputs, vo.Name)
	}
	if len(g.outputs) == 0 {
		return nil, fmt.Errorf("%w: graph has no outputs", ErrInvalidModel)
	}

	for _, pn := range pg.Nodes {
		if pn.Domain != "" && pn.Domain != "ai.onnx" {
			return nil, fmt.Errorf("%w: operator %s.%s (node %q): only the ai.onnx domain is implemented", ErrUnsupported, pn.Domain, pn.OpType, pn.Name)
		}
		if pn.OpType == "Constant" {
			if len(pn.Outputs) != 1 {
				return nil, fmt.Errorf("%w: Constant node %q has %d outputs", ErrInvalidModel, pn.Name, len(pn.Outputs))
			}
			t, err := constantValue(pn)
			if err != nil {
				return nil, err
			}
			g.consts[pn.Outputs[0]] = t
			continue
		}
		n := &node{name: pn.Name, opType: pn.OpType, inputs: pn.Inputs, outputs: pn.Outputs}
		op, err := newOperator(pn, g.opset)
		if err != nil {
			return nil, err
		}
		n.op = op
		g.nodes = append(g.nodes, n)
	}
	if err := g.sort(); err != nil {
		return nil, err
	}
	g.fuse()
	g.fuseHardSwish()
	// A fused residual may be computed after its Conv in file order.
	if err := g.sort(); err != nil {
		return nil, err
	}
	return g, nil
}

// sort orders the nodes topologically and checks that every input is
// defined.
func (g *graph) sort() error {
	defined := make(map[string]bool, len(g.consts)+len(g.inputs))
	for name := range g.consts {
		defined[name] = true
	}
	for _, in := range g.inputs {
		defined[in.name] = true
	}
	producer := make(map[string]int)
	for k, n := range g.nodes {
		for _, o := range n.outputs {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup || defined[o] {
				return fmt.Errorf("%w: value %q is defined twice", ErrInvalidModel, o)
			}
			producer[o] = k
		}
	}
	// Kahn's algorithm over node indices; ties keep file order.
	pending := make([]int, len(g.nodes))
	users := make([][]int, len(g.nodes))
	for k, n := range g.nodes {
		for _, in := range n.inputs {
			if in == "" || defined[in] {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return fmt.Errorf("%w: %v reads %q, which nothing defines", ErrInvalidModel, n, in)
			}
			pending[k]++
			users[p] = append(users[p], k)
		}
	}
	order := make([]*node, 0, len(g.nodes))
	queue := make([]int, 0, len(g.nodes))
	for k := range g.nodes {
		if pending[k] == 0 {
			queue = append(queue, k)
		}
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		order = append(order, g.nodes[k])
		for _, u := range users[k] {
			pending[u]--
			if pending[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(order) != len(g.nodes) {
		return fmt.Errorf("%w: the graph has a cycle", ErrInvalidModel)
	}
	g.nodes = order
	for _, o := range g.outputs {
		if !defined[o] {
			if _, ok := producer[o]; !ok {
				return fmt.Errorf("%w: graph output %q is never computed", ErrInvalidModel, o)
			}
		}
	}
	return nil
}

// fuse folds BatchNormalization into the Conv before it and moves a
// following Relu, LeakyRelu or Clip into the Conv's epilogue, where the
// intermediate value has no other reader.
func (g *graph) fuse() {
	readers := make(map[string]int)
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			readers[in]++
		}
	}
	for _, o := range g.outputs {
		readers[o]++
	}
	consumer := make(map[string]*node)
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			consumer[in] = n
		}
	}
	removed := make(map[*node]bool)
	for _, n := range g.nodes {
		c, ok := n.op.(*convOp)
		if !ok || removed[n] || len(n.outputs) != 1 {
			continue
		}
		for {
			out := n.outputs[0]
			if readers[out] != 1 {
				break
			}
			next := consumer[out]
			if next == nil || removed[next] || len(next.outputs) != 1 {
				break
			}
			if bn, ok := next.op.(*batchNormOp); ok && c.act.kind == actNone && next.inputs[0] == out {
				if !g.foldBatchNorm(n, next, bn) {
					break
				}
			} else if act, ok := activationOf(next, g.consts); ok && c.act.kind == actNone {
				c.act = act
			} else if other, ok := residualOf(next, out); ok && c.act.kind == actNone && !c.residual {
				c.residual = true
				for len(n.inputs) < 3 {
					n.inputs = append(n.inputs, "")
				}
				n.inputs = append(n.inputs, other)
			} else {
				break
			}
			n.outputs[0] = next.outputs[0]
			removed[next] = true
		}
	}
	g.drop(removed)
}

// drop removes the given nodes, keeping the others' order.
func (g *graph) drop(removed map[*node]bool) {
	if len(removed) == 0 {
		return
	}
	kept := g.nodes[:0]
	for _, n := range g.nodes {
		if !removed[n] {
			kept = append(kept, n)
		}
	}
	g.nodes = kept
}

// fuseHardSwish replaces the hard-swish chain converters emit for
// MobileNetV3-style models, y = x · (c · Clip(x + 3, 0, 6)) with c = 1/6 —
// Add, Clip, Mul, Mul — by one element-wise operator that reads x once.
func (g *graph) fuseHardSwish() {
	readers := make(map[string][]*node)
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			readers[in] = append(readers[in], n)
		}
	}
	isOutput := make(map[string]bool)
	for _, o := range g.outputs {
		isOutput[o] = true
	}
	// only returns the single reader of v, if v has one and is no graph
	// output.
	only := func(v string) *node {
		if r := readers[v]; len(r) == 1 && !isOutput[v] {
			return r[0]
		}
		return nil
	}
	removed := make(map[*node]bool)
	for _, add := range g.nodes {
		b, ok := add.op.(*binaryOp)
		if !ok || b.name != "Add" || len(add.inputs) != 2 || removed[add] {
			continue
		}
		x, three, ok := g.scalarOperand(add.inputs)
		if !ok || three != 3 {
			continue
		}
		clip := only(add.outputs[0])
		if clip == nil {
			continue
		}
		act, ok := activationOf(clip, g.consts)
		if !ok || act.kind != actClip || act.min != 0 || act.max != 6 || clip.inputs[0] != add.outputs[0] {
			continue
		}
		scale := only(clip.outputs[0])
		if scale == nil || !isBinary(scale, "Mul") {
			continue
		}
		v, c, ok := g.scalarOperand(scale.inputs)
		if !ok || v != clip.outputs[0] {
			continue
		}
		mul := only(scale.outputs[0])
		if mul == nil || !isBinary(mul, "Mul") || len(mul.inputs) != 2 ||
			!(mul.inputs[0] == x && mul.inputs[1] == scale.outputs[0] || mul.inputs[1] == x && mul.inputs[0] == scale.outputs[0]) {
			continue
		}
		shape := g.consts[add.inputs[0]]
		if shape == nil {
			shape = g.consts[add.inputs[1]]
		}
		add.opType = "HardSwish(fused)"
		add.op = newHardSwish(c, shape.shape)
		add.inputs = []string{x}
		add.outputs = mul.outputs
		removed[clip], removed[scale], removed[mul] = true, true, true
	}
	g.drop(removed)
}

func isBinary(n *node, name string) bool {
	b, ok := n.op.(*binaryOp)
	return ok && b.name == name && b.legacyAxis < 0
}

// scalarOperand splits a binary node's inputs into a value and a constant
// float scalar (a tensor of one element), if it has that form.
func (g *graph) scalarOperand(inputs []string) (string, float32, bool) {
	if len(inputs) != 2 {
		return "", 0, false
	}
	for k := 0; k < 2; k++ {
		c := g.consts[inputs[k]]
		if c != nil && c.dtype == Float32 && c.Len() == 1 && g.consts[inputs[1-k]] == nil {
			return inputs[1-k], c.f[0], true
		}
	}
	return "", 0, false
}

// residualOf reports whether n is an Add of out and another value, and
// returns the other value's name.
func residualOf(n *node, out string) (string, bool) {
	b, ok := n.op.(*binaryOp)
	if !ok || b.name != "Add" || b.legacyAxis >= 0 || len(n.inputs) != 2 || n.inputs[0] == n.inputs[1] {
		return "", false
	}
	switch out {
	case n.inputs[0]:
		return n.inputs[1], true
	case n.inputs[1]:
		return n.inputs[0], true
	}
	return "", false
}

// foldBatchNorm rewrites conv's weight and bias so that it also applies
// bn, if all the parameters involved are constants of matching sizes.
func (g *graph) foldBatchNorm(conv, bnNode *node, bn *batchNormOp) bool {
	if len(bnNode.inputs) != 5 || len(conv.inputs) < 2 {
		return false
	}
	w := g.consts[conv.inputs[1]]
	var params [4]*Tensor
	for k := range params {
		params[k] = g.consts[bnNode.inputs[1+k]]
		if params[k] == nil || params[k].dtype != Float32 {
			return false
		}
	}
	if w == nil || w.dtype != Float32 || len(w.shape) < 1 {
		return false
	}
	m := w.shape[0]
	for _, p := range params {
		if p.Len() != m {
			return false
		}
	}
	var bias *Tensor
	if len(conv.inputs) > 2 && conv.inputs[2] != "" {
		bias = g.consts[conv.inputs[2]]
		if bias == nil || bias.Len() != m || bias.dtype != Float32 {
			return false
		}
	}
	scale, beta, mean, variance := params[0].f, params[1].f, params[2].f, params[3].f
	per := w.Len() / m
	nw := make([]float32, w.Len())
	nb := make([]float32, m)
	for o := 0; o < m; o++ {
		f := scale[o] / float32(math.Sqrt(float64(variance[o])+float64(bn.epsilon)))
		for k := 0; k < per; k++ {
			nw[o*per+k] = w.f[o*per+k] * f
		}
		b := float32(0)
		if bias != nil {
			b = bias.f[o]
		}
		nb[o] = (b-mean[o])*f + beta[o]
	}
	wName := g.uniqueName(conv.inputs[1] + "/bn_folded")
	bName := g.uniqueName(bnNode.outputs[0] + "/bn_bias")
	g.consts[wName] = &Tensor{shape: w.shape, dtype: Float32, f: nw}
	g.consts[bName] = &Tensor{shape: []int{m}, dtype: Float32, f: nb}
	conv.inputs = []string{conv.inputs[0], wName, bName}
	return true
}

func (g *graph) uniqueName(base string) string {
	name := base
	for k := 1; ; k++ {
		if _, taken := g.consts[name]; !taken {
			return name
		}
		name = fmt.Sprintf("%s#%d", base, k)
	}
}

// constantValue returns the tensor a Constant node produces.
func constantValue(pn *pb.Node) (*Tensor, error) {
	if len(pn.Attrs) != 1 {
		return nil, fmt.Errorf("%w: Constant node %q needs exactly one attribute, has %d", ErrInvalidModel, pn.Name, len(pn.Attrs))
	}
	a := pn.Attrs[0]
	var t *Tensor
	var err error
	switch a.Name {
	case "value":
		if a.T == nil {
			return nil, fmt.Errorf("%w: Constant node %q: value has no tensor", ErrInvalidModel, pn.Name)
		}
		t, err = tensorFromProto(a.T)
	case "value_float":
		t = &Tensor{shape: []int{}, dtype: Float32, f: []float32{a.F}}
	case "value_floats":
		t = &Tensor{shape: []int{len(a.Floats)}, dtype: Float32, f: append([]float32(nil), a.Floats...)}
	case "value_int":
		t = &Tensor{shape: []int{}, dtype: Int64, i: []int64{a.I}}
	case "value_ints":
		t = &Tensor{shape: []int{len(a.Ints)}, dtype: Int64, i: append([]int64(nil), a.Ints...)}
	default:
		return nil, fmt.Errorf("%w: Constant attribute %q (node %q)", ErrUnsupported, a.Name, pn.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: Constant node %q: %w", ErrInvalidModel, pn.Name, err)
	}
	return t, nil
}

func dtypeFromProto(dt pb.DataType) (DType, error) {
	switch dt {
	case pb.DataType(1), pb.DataType(10), pb.DataType(11), pb.DataType(16): // FLOAT, FLOAT16, DOUBLE, BFLOAT16
		return Float32, nil
	case pb.DataType(2), pb.DataType(3), pb.DataType(4), pb.DataType(5), pb.DataType(6),
		pb.DataType(7), pb.DataType(9), pb.DataType(12), pb.DataType(13): // integer types and BOOL
		return Int64, nil
	}
	return 0, fmt.Errorf("element type %v", dt)
}

// tensorFromProto converts a decoded TensorProto into a Tensor, turning
// floating types into float32 and integer types into int64.
func tensorFromProto(p *pb.Tensor) (*Tensor, error) {
	if p.External {
		return nil, fmt.Errorf("%w: external tensor data (%q)", ErrUnsupported, p.Name)
	}
	n, err := p.NumElements()
	if err != nil {
		return nil, err
	}
	if n > maxModelElements {
		return nil, fmt.Errorf("tensor %q has %d elements", p.Name, n)
	}
	shape := make([]int, len(p.Dims))
	for k, d := range p.Dims {
		shape[k] = int(d)
	}
	dt, err := dtypeFromProto(p.DataType)
	if err != nil {
		return nil, fmt.Errorf("%w: tensor %q: %w", ErrUnsupported, p.Name, err)
	}
	t := &Tensor{shape: shape, dtype: dt}
	if dt == Float32 {
		t.f, err = p.Float32s()
	} else {
		t.i, err = p.Int64s()
	}
	if err != nil {
		return nil, err
	}
	if t.Len() != len(t.f)+len(t.i) {
		return nil, fmt.Errorf("tensor %q: shape %v but %d values", p.Name, shape, len(t.f)+len(t.i))
	}
	return t, nil
}
