package onnx

import (
	"fmt"
	"math"
	"sync"

	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/onnx/internal/gemm"
	"github.com/veilkit/veil/onnx/internal/kern"
)

// window holds the spatial attributes shared by Conv, ConvTranspose and
// the pooling operators.
type window struct {
	autoPad   string
	kernel    []int // empty: from the weights (Conv)
	strides   []int
	dilations []int
	pads      []int // begin..., end...
	ceil      bool
}

func readWindow(a *attrs) (window, error) {
	w := window{
		autoPad:   a.string("auto_pad", "NOTSET"),
		kernel:    toInts(a.ints("kernel_shape")),
		strides:   toInts(a.ints("strides")),
		dilations: toInts(a.ints("dilations")),
		pads:      toInts(a.ints("pads")),
	}
	a.oneOf("auto_pad", w.autoPad, "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
	for _, v := range [][]int{w.kernel, w.strides, w.dilations} {
		for _, x := range v {
			if x < 1 {
				return w, fmt.Errorf("kernel_shape, strides and dilations must be positive")
			}
		}
	}
	for _, x := range w.pads {
		if x < 0 {
			return w, fmt.Errorf("negative pads")
		}
	}
	if n := len(w.kernel); n > 2 {
		return w, fmt.Errorf("%d-D windows (only 1-D and 2-D are implemented)", n)
	}
	return w, nil
}

// params2D resolves the window for an input of shape [N, C, spatial...]
// into 2-D parameters (a 1-D window becomes 1×k). kernel is the spatial
// kernel size.
func (w *window) params2D(in []int, kernel []int) (kern.Conv2DParams, error) {
	var p kern.Conv2DParams
	sp := len(in) - 2
	if sp < 1 || sp > 2 || len(kernel) != sp {
		return p, errShape("input shape %v with a %d-D kernel (only 1-D and 2-D are implemented)", in, len(kernel))
	}
	get := func(v []int, k, def int) int {
		if len(v) == 0 {
			return def
		}
		return v[k]
	}
	if (len(w.strides) != 0 && len(w.strides) != sp) || (len(w.dilations) != 0 && len(w.dilations) != sp) ||
		(len(w.pads) != 0 && len(w.pads) != 2*sp) {
		return p, errShape("strides %v, dilations %v or pads %v do not fit a %d-D window", w.strides, w.dilations, w.pads, sp)
	}
	size := [2]int{1, 1}
	k2 := [2]int{1, 1}
	s2 := [2]int{1, 1}
	d2 := [2]int{1, 1}
	var pb, pe [2]int
	out := [2]int{1, 1}
	for i := 0; i < sp; i++ {
		j := i + 2 - sp // 1-D fills the W axis
		size[j] = in[2+i]
		k2[j] = kernel[i]
		s2[j] = get(w.strides, i, 1)
		d2[j] = get(w.dilations, i, 1)
		ext := (k2[j]-1)*d2[j] + 1
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			o := (size[j] + s2[j] - 1) / s2[j]
			total := max(0, (o-1)*s2[j]+ext-size[j])
			pb[j], pe[j] = total/2, total-total/2
			if w.autoPad == "SAME_LOWER" {
				pb[j], pe[j] = pe[j], pb[j]
			}
		case "VALID":
		default:
			pb[j], pe[j] = get(w.pads, i, 0), get(w.pads, sp+i, 0)
		}
		span := size[j] + pb[j] + pe[j] - ext
		if span < 0 {
			return p, errShape("window %d (dilated %d) is larger than the padded input %v", kernel[i], ext, in)
		}
		if w.ceil {
			out[j] = (span+s2[j]-1)/s2[j] + 1
			// The last window must start inside the input or left padding.
			if (out[j]-1)*s2[j] >= size[j]+pb[j] {
				out[j]--
			}
		} else {
			out[j] = span/s2[j] + 1
		}
	}
	p = kern.Conv2DParams{
		N: in[0], C: in[1], H: size[0], W: size[1],
		KH: k2[0], KW: k2[1], StrideH: s2[0], StrideW: s2[1], DilH: d2[0], DilW: d2[1],
		PadTop: pb[0], PadLeft: pb[1], PadBottom: pe[0], PadRight: pe[1],
		OutH: out[0], OutW: out[1],
	}
	return p, nil
}

// outShape returns [N, channels, spatial out...] for the input rank.
func outShape(in []int, channels int, p *kern.Conv2DParams) []int {
	if len(in) == 3 {
		return []int{p.N, channels, p.OutW}
	}
	return []int{p.N, channels, p.OutH, p.OutW}
}

// convOp is Conv, with an optional fused activation (and, after graph
// fusion, a folded BatchNormalization).
type convOp struct {
	window
	group    int
	act      activation
	residual bool // a fourth input is added before the activation

	mu      sync.Mutex
	packedW *Tensor // the weights packed is from
	packed  []*gemm.PackedA
}

func init() {
	register("Conv", func(a *attrs) (operator, error) {
		w, err := readWindow(a)
		if err != nil {
			return nil, err
		}
		g := a.int("group", 1)
		if g < 1 {
			return nil, fmt.Errorf("group %d", g)
		}
		return &convOp{window: w, group: int(g)}, nil
	})
}

func (o *convOp) geometry(in []*value) (kern.Conv2DParams, []int, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return kern.Conv2DParams{}, nil, errShape("Conv needs X and W")
	}
	if in[0].dtype != Float32 || in[1].dtype != Float32 {
		return kern.Conv2DParams{}, nil, errShape("Conv of non-float tensors")
	}
	biasLen := -1
	if len(in) > 2 && in[2] != nil {
		biasLen = in[2].len()
	}
	return o.geom(in[0].shape, in[1].shape, biasLen)
}

// geom checks the shapes of X, W and the bias (biasLen -1 if absent) and
// returns the window parameters and W's shape.
func (o *convOp) geom(x, w []int, biasLen int) (kern.Conv2DParams, []int, error) {
	if len(w) != len(x) || len(x) < 3 {
		return kern.Conv2DParams{}, nil, errShape("Conv input %v and weights %v", x, w)
	}
	kernel := w[2:]
	if len(o.kernel) != 0 && !sameShape(o.kernel, kernel) {
		return kern.Conv2DParams{}, nil, errShape("kernel_shape %v but weights %v", o.kernel, w)
	}
	if x[1] != w[1]*o.group || w[0]%o.group != 0 {
		return kern.Conv2DParams{}, nil, errShape("Conv input %v, weights %v and group %d do not fit", x, w, o.group)
	}
	if biasLen >= 0 && biasLen != w[0] {
		return kern.Conv2DParams{}, nil, errShape("Conv bias of %d values for %d channels", biasLen, w[0])
	}
	p, err := o.params2D(x, kernel)
	return p, w, err
}

func (o *convOp) infer(in []*value, nOut int) ([]value, error) {
	p, w, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	if in[1].c != nil && !o.depthwise(&p, w) {
		o.pack(in[1].c, w)
	}
	shape := outShape(in[0].shape, w[0], &p)
	if o.residual {
		if len(in) != 4 || in[3] == nil || in[3].dtype != Float32 {
			return nil, errShape("fused Conv+Add lacks its residual")
		}
		if s, err := broadcastShape(shape, in[3].shape); err != nil || !sameShape(s, shape) {
			return nil, errShape("Conv output %v and Add input %v", shape, in[3].shape)
		}
	}
	return []value{{shape: shape, dtype: Float32}}, nil
}

func (o *convOp) depthwise(p *kern.Conv2DParams, w []int) bool {
	return o.group == p.C && w[0] == p.C && w[1] == 1
}

func (o *convOp) pointwise(p *kern.Conv2DParams) bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadTop == 0 && p.PadLeft == 0 && p.PadBottom == 0 && p.PadRight == 0
}

// pack packs the weights of every group for the GEMM, once per weight
// tensor.
func (o *convOp) pack(wt *Tensor, w []int) []*gemm.PackedA {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.packedW == wt {
		return o.packed
	}
	m := w[0] / o.group
	k := wt.Len() / w[0]
	packed := make([]*gemm.PackedA, o.group)
	for g := range packed {
		packed[g] = gemm.PackA(m, k, wt.f[g*m*k:(g+1)*m*k], k)
	}
	o.packed, o.packedW = packed, wt
	return packed
}

// im2colBand is about how many floats of im2col matrix a convolution
// builds at a time (512 KiB).
const im2colBand = 1 << 17

func (o *convOp) scratch(in []*value, out []value, threads int) int {
	p, w, err := o.geometry(in)
	if err != nil || o.depthwise(&p, w) || (o.group == 1 && o.pointwise(&p)) {
		return 0
	}
	k := (p.C / o.group) * p.KH * p.KW
	band := max(1, im2colBand/(k*p.OutW))
	return k * min(band, p.OutH) * p.OutW
}

// gemmEpilogue returns the GEMM epilogue that applies act.
func gemmEpilogue(act activation) gemm.Epilogue {
	ep := gemm.Epilogue{Alpha: act.alpha, Min: act.min, Max: act.max}
	switch act.kind {
	case actRelu:
		ep.Act = gemm.ActRelu
	case actLeakyRelu:
		ep.Act = gemm.ActLeakyRelu
	case actClip:
		ep.Act = gemm.ActClip
	}
	return ep
}

// kernAct returns act in the kern package's terms.
func kernAct(act activation) kern.Act {
	a := kern.Act{Alpha: act.alpha, Min: act.min, Max: act.max}
	switch act.kind {
	case actRelu:
		a.Kind = kern.ActRelu
	case actLeakyRelu:
		a.Kind = kern.ActLeakyRelu
	case actClip:
		a.Kind = kern.ActClip
	}
	return a
}

func (o *convOp) run(rc *runCtx, in, out []*Tensor) error {
	var bias []float32
	biasLen := -1
	if len(in) > 2 && in[2] != nil {
		bias, biasLen = in[2].f, in[2].Len()
	}
	p, w, err := o.geom(in[0].shape, in[1].shape, biasLen)
	if err != nil {
		return err
	}
	x, y := in[0].f, out[0].f
	var res *Tensor
	if o.residual {
		res = in[3]
	}
	// The residual goes into the GEMM epilogue when it has the output's
	// shape; otherwise (depthwise, or a broadcast residual) it is added,
	// and the activation applied, after the convolution.
	fused := res == nil || (!o.depthwise(&p, w) && len(res.f) == len(y))
	act := o.act
	if !fused {
		act = activation{}
	}
	if o.depthwise(&p, w) {
		kern.Depthwise(&p, x, in[1].f, bias, y, kernAct(act), rc.threads)
	} else {
		o.gemmConv(rc, &p, in[1], w, x, bias, y, res, act)
	}
	if !fused {
		broadcast(rc.threads, out[0].shape, res.shape, out[0].shape, y, res.f, y, arithRowOf(1, func(a, b float32) float32 { return a + b }))
		o.act.apply(y)
	}
	return nil
}

// gemmConv runs a dense or grouped convolution as GEMMs (after im2col
// unless it is pointwise), with bias, residual (if res is not nil) and
// act in the epilogue.
func (o *convOp) gemmConv(rc *runCtx, p *kern.Conv2DParams, wt *Tensor, w []int, x, bias, y []float32, res *Tensor, act activation) {
	packed := o.pack(wt, w)
	m := w[0] / o.group
	cg := p.C / o.group
	inPlane, outPlane := p.H*p.W, p.OutH*p.OutW
	for n := 0; n < p.N; n++ {
		for g := 0; g < o.group; g++ {
			xs := x[(n*p.C+g*cg)*inPlane : (n*p.C+(g+1)*cg)*inPlane]
			lo, hi := (n*w[0]+g*m)*outPlane, (n*w[0]+(g+1)*m)*outPlane
			ep := &rc.ep
			*ep = gemmEpilogue(act)
			if bias != nil {
				ep.Bias = bias[g*m : (g+1)*m]
			}
			if res != nil {
				ep.Add = res.f[lo:hi]
			}
			if o.pointwise(p) {
				gemm.Mul(packed[g], xs, inPlane, outPlane, y[lo:hi], outPlane, ep, rc.threads)
				continue
			}
			// Build the im2col matrix a band of output rows at a time, so
			// that it is still in cache when the GEMM reads it.
			gp := *p
			gp.N, gp.C = 1, cg
			k := cg * p.KH * p.KW
			band := max(1, im2colBand/(k*p.OutW))
			for oy := 0; oy < p.OutH; oy += band {
				oy1 := min(oy+band, p.OutH)
				n := (oy1 - oy) * p.OutW
				col := rc.scratch[:k*n]
				kern.Im2colRows(&gp, xs, col, oy, oy1, rc.threads)
				if res != nil {
					ep.Add = res.f[lo+oy*p.OutW : hi]
				}
				gemm.Mul(packed[g], col, n, n, y[lo+oy*p.OutW:hi], outPlane, ep, rc.threads)
			}
		}
	}
}

// convTransposeOp is ConvTranspose, computed as a GEMM followed by col2im.
type convTransposeOp struct {
	window
	group       int
	outPadding  []int
	outputShape []int
}

func init() {
	register("ConvTranspose", func(a *attrs) (operator, error) {
		w, err := readWindow(a)
		if err != nil {
			return nil, err
		}
		g := a.int("group", 1)
		if g < 1 {
			return nil, fmt.Errorf("group %d", g)
		}
		return &convTransposeOp{window: w, group: int(g),
			outPadding: toInts(a.ints("output_padding")), outputShape: toInts(a.ints("output_shape"))}, nil
	})
}

// geometry returns the equivalent forward-conv parameters (input and
// output swapped) and the output channel count.
func (o *convTransposeOp) geometry(in []*value) (kern.Conv2DParams, int, error) {
	var p kern.Conv2DParams
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return p, 0, errShape("ConvTranspose needs X and W")
	}
	x, w := in[0].shape, in[1].shape
	if len(x) != 4 || len(w) != 4 {
		return p, 0, errShape("ConvTranspose is implemented for 2-D only (X %v, W %v)", x, w)
	}
	if x[1] != w[0] || w[0]%o.group != 0 {
		return p, 0, errShape("ConvTranspose input %v and weights %v with group %d", x, w, o.group)
	}
	cout := w[1] * o.group
	get := func(v []int, k, def int) int {
		if len(v) == 0 {
			return def
		}
		return v[k]
	}
	var size, pb, pe [2]int
	for i := 0; i < 2; i++ {
		s, d, k := get(o.strides, i, 1), get(o.dilations, i, 1), w[2+i]
		full := s*(x[2+i]-1) + get(o.outPadding, i, 0) + (k-1)*d + 1
		switch {
		case len(o.outputShape) != 0:
			os := o.outputShape[len(o.outputShape)-2+i]
			total := full - os
			if o.autoPad == "SAME_UPPER" {
				pb[i], pe[i] = total/2, total-total/2
			} else {
				pb[i], pe[i] = total-total/2, total/2
			}
		case o.autoPad == "SAME_UPPER" || o.autoPad == "SAME_LOWER":
			total := full - x[2+i]*s
			pb[i], pe[i] = total/2, total-total/2
			if o.autoPad == "SAME_LOWER" {
				pb[i], pe[i] = pe[i], pb[i]
			}
		case o.autoPad == "VALID":
		default:
			pb[i], pe[i] = get(o.pads, i, 0), get(o.pads, 2+i, 0)
		}
		size[i] = full - pb[i] - pe[i]
		if size[i] <= 0 {
			return p, 0, errShape("ConvTranspose output would be empty")
		}
	}
	p = kern.Conv2DParams{N: x[0], C: cout, H: size[0], W: size[1], KH: w[2], KW: w[3],
		StrideH: get(o.strides, 0, 1), StrideW: get(o.strides, 1, 1),
		DilH: get(o.dilations, 0, 1), DilW: get(o.dilations, 1, 1),
		PadTop: pb[0], PadLeft: pb[1], PadBottom: pe[0], PadRight: pe[1],
		OutH: x[2], OutW: x[3]}
	return p, cout, nil
}

func (o *convTransposeOp) infer(in []*value, nOut int) ([]value, error) {
	p, cout, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	return []value{{shape: []int{p.N, cout, p.H, p.W}, dtype: Float32}}, nil
}

func (o *convTransposeOp) scratch(in []*value, out []value, threads int) int {
	p, cout, err := o.geometry(in)
	if err != nil {
		return 0
	}
	return cout / o.group * p.KH * p.KW * p.OutH * p.OutW
}

func (o *convTransposeOp) run(rc *runCtx, in, out []*Tensor) error {
	p, cout, err := o.geometry([]*value{{shape: in[0].shape}, {shape: in[1].shape}})
	if err != nil {
		return err
	}
	cin := in[0].shape[1]
	cig, cog := cin/o.group, cout/o.group
	kk := p.KH * p.KW
	inPlane, outPlane := p.OutH*p.OutW, p.H*p.W
	col := rc.scratch[:cog*kk*inPlane]
	y := out[0].f
	clear(y)
	for n := 0; n < p.N; n++ {
		for g := 0; g < o.group; g++ {
			wg := in[1].f[g*cig*cog*kk : (g+1)*cig*cog*kk] // [cig][cog*kk]
			xg := in[0].f[(n*cin+g*cig)*inPlane : (n*cin+(g+1)*cig)*inPlane]
			gemm.Gemm(true, false, cog*kk, inPlane, cig, 1, wg, cog*kk, xg, inPlane, 0, col, inPlane, rc.threads)
			yg := y[(n*cout+g*cog)*outPlane : (n*cout+(g+1)*cog)*outPlane]
			col2im(&p, cog, col, yg)
		}
	}
	if len(in) > 2 && in[2] != nil {
		b := in[2].f
		for n := 0; n < p.N; n++ {
			for c := 0; c < cout; c++ {
				plane := y[(n*cout+c)*outPlane : (n*cout+c+1)*outPlane]
				for k := range plane {
					plane[k] += b[c]
				}
			}
		}
	}
	return nil
}

// col2im adds col ([c·KH·KW][OutH·OutW] in forward-conv terms, where the
// forward output is the transposed conv's input) into img [c][H][W].
func col2im(p *kern.Conv2DParams, c int, col, img []float32) {
	inPlane := p.OutH * p.OutW
	for ch := 0; ch < c; ch++ {
		for ky := 0; ky < p.KH; ky++ {
			for kx := 0; kx < p.KW; kx++ {
				row := col[((ch*p.KH+ky)*p.KW+kx)*inPlane:][:inPlane]
				for iy := 0; iy < p.OutH; iy++ {
					oy := iy*p.StrideH - p.PadTop + ky*p.DilH
					if oy < 0 || oy >= p.H {
						continue
					}
					dst := img[(ch*p.H+oy)*p.W:][:p.W]
					for ix := 0; ix < p.OutW; ix++ {
						ox := ix*p.StrideW - p.PadLeft + kx*p.DilW
						if ox >= 0 && ox < p.W {
							dst[ox] += row[iy*p.OutW+ix]
						}
					}
				}
			}
		}
	}
}

// batchNormOp is BatchNormalization in inference mode.
type batchNormOp struct{ epsilon float32 }

func init() {
	register("BatchNormalization", func(a *attrs) (operator, error) {
		a.ignore("momentum", "spatial", "is_test", "consumed_inputs")
		if a.int("training_mode", 0) != 0 {
			return nil, fmt.Errorf("training_mode=1")
		}
		return &batchNormOp{epsilon: a.float("epsilon", 1e-5)}, nil
	})
}

func (o *batchNormOp) infer(in []*value, nOut int) ([]value, error) {
	if len(in) != 5 || nOut != 1 {
		return nil, errShape("BatchNormalization needs 5 inputs and 1 output (inference mode)")
	}
	x := in[0]
	if x == nil || len(x.shape) < 2 {
		return nil, errShape("BatchNormalization input shape")
	}
	for _, v := range in[1:] {
		if v == nil || v.len() != x.shape[1] {
			return nil, errShape("BatchNormalization parameters for %d channels", x.shape[1])
		}
	}
	return sameAsInput(in[:1], Float32)
}

func (o *batchNormOp) run(rc *runCtx, in, out []*Tensor) error {
	shape := in[0].shape
	c := shape[1]
	plane := numElements(shape[2:])
	scale, beta, mean, variance := in[1].f, in[2].f, in[3].f, in[4].f
	x, y := in[0].f, out[0].f
	planes := shape[0] * c
	par.For(rc.threads, planes, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			ch := pl % c
			f := scale[ch] / float32(math.Sqrt(float64(variance[ch])+float64(o.epsilon)))
			b := beta[ch] - mean[ch]*f
			src, dst := x[pl*plane:(pl+1)*plane], y[pl*plane:(pl+1)*plane]
			for k, v := range src {
				dst[k] = v*f + b
			}
		}
	})
	return nil
}

// poolOp is MaxPool or AveragePool.
type poolOp struct {
	window
	isMax           bool
	countIncludePad bool
}

func init() {
	pool := func(isMax bool) opFactory {
		return func(a *attrs) (operator, error) {
			w, err := readWindow(a)
			if err != nil {
				return nil, err
			}
			if len(w.kernel) == 0 {
				return nil, fmt.Errorf("kernel_shape is required")
			}
			w.ceil = a.int("ceil_mode", 0) != 0
			o := &poolOp{window: w, isMax: isMax}
			if isMax {
				if a.int("storage_order", 0) != 0 {
					return nil, fmt.Errorf("storage_order=1")
				}
			} else {
				o.countIncludePad = a.int("count_include_pad", 0) != 0
				if len(w.dilations) != 0 {
					for _, d := range w.dilations {
						if d != 1 {
							return nil, fmt.Errorf("dilated AveragePool")
						}
					}
				}
			}
			return o, nil
		}
	}
	register("MaxPool", pool(true))
	register("AveragePool", pool(false))
}

func (o *poolOp) infer(in []*value, nOut int) ([]value, error) {
	if nOut != 1 {
		return nil, errShape("MaxPool Indices output is not implemented")
	}
	if in[0] == nil || in[0].dtype != Float32 {
		return nil, errShape("pooling needs a float input")
	}
	p, err := o.params2D(in[0].shape, o.kernel)
	if err != nil {
		return nil, err
	}
	return []value{{shape: outShape(in[0].shape, p.C, &p), dtype: Float32}}, nil
}

func (o *poolOp) run(rc *runCtx, in, out []*Tensor) error {
	p, err := o.params2D(in[0].shape, o.kernel)
	if err != nil {
		return err
	}
	if o.isMax {
		kern.MaxPool(&p, in[0].f, out[0].f, rc.threads)
	} else {
		kern.AveragePool(&p, in[0].f, out[0].f, o.countIncludePad, rc.threads)
	}
	return nil
}

// globalPoolOp is GlobalAveragePool or GlobalMaxPool.
type globalPoolOp struct{ isMax bool }

func init() {
	register("GlobalAveragePool", func(a *attrs) (operator, error) { return &globalPoolOp{}, nil })
	register("GlobalMaxPool", func(a *attrs) (operator, error) { return &globalPoolOp{isMax: true}, nil })
}

func (o *globalPoolOp) infer(in []*value, nOut int) ([]value, error) {
	if in[0] == nil || len(in[0].shape) < 3 || in[0].dtype != Float32 {
		return nil, errShape("global pooling needs a float [N,C,...] input")
	}
	shape := []int{in[0].shape[0], in[0].shape[1]}
	for range in[0].shape[2:] {
		shape = append(shape, 1)
	}
	return []value{{shape: shape, dtype: Float32}}, nil
}

func (o *globalPoolOp) run(rc *runCtx, in, out []*Tensor) error {
	plane := numElements(in[0].shape[2:])
	x, y := in[0].f, out[0].f
	for pl := range y {
		src := x[pl*plane : (pl+1)*plane]
		if o.isMax {
			m := float32(math.Inf(-1))
			for _, v := range src {
				m = max(m, v)
			}
			y[pl] = m
			continue
		}
		var s float32
		for _, v := range src {
			s += v
		}
		y[pl] = s / float32(plane)
	}
	return nil
}

// instanceNormOp is InstanceNormalization.
type instanceNormOp struct{ epsilon float32 }

func init() {
	register("InstanceNormalization", func(a *attrs) (operator, error) {
		return &instanceNormOp{epsilon: a.float("epsilon", 1e-5)}, nil
	})
}

func (o *instanceNormOp) infer(in []*value, nOut int) ([]value, error) {
	if len(in) != 3 || in[0] == nil || len(in[0].shape) < 3 || in[1] == nil || in[2] == nil ||
		in[1].len() != in[0].shape[1] || in[2].len() != in[0].shape[1] {
		return nil, errShape("InstanceNormalization needs X [N,C,...], scale [C] and B [C]")
	}
	return sameAsInput(in[:1], Float32)
}

func (o *instanceNormOp) run(rc *runCtx, in, out []*Tensor) error {
	shape := in[0].shape
	c := shape[1]
	plane := numElements(shape[2:])
	x, y := in[0].f, out[0].f
	par.For(rc.threads, shape[0]*c, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src, dst := x[pl*plane:(pl+1)*plane], y[pl*plane:(pl+1)*plane]
			var mean, v float64
			for _, e := range src {
				mean += float64(e)
			}
			mean /= float64(plane)
			for _, e := range src {
				d := float64(e) - mean
				v += d * d
			}
			v /= float64(plane)
			f := float64(in[1].f[pl%c]) / math.Sqrt(v+float64(o.epsilon))
			b := float64(in[2].f[pl%c])
			for k, e := range src {
				dst[k] = float32((float64(e)-mean)*f + b)
			}
		}
	})
	return nil
}
