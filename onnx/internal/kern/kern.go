// Package kern implements the hot NCHW float32 kernels of the ONNX runtime
// that are not dense matrix products: depthwise convolution, pooling,
// im2col and resizing.
//
// Every kernel works on flat []float32 slices in NCHW order with explicit
// shapes. Kernels that take a threads argument split their work over
// N·C planes with package par; none of them allocates in the steady state
// beyond par's goroutines.
package kern

import (
	"errors"
	"fmt"
	"math"
)

// ActKind selects the activation fused into a kernel's output.
type ActKind uint8

const (
	ActNone      ActKind = iota // y = x
	ActRelu                     // y = max(x, 0)
	ActLeakyRelu                // y = x if x >= 0, else Alpha·x
	ActClip                     // y = min(max(x, Min), Max)
)

// Act is an activation fused into a kernel's output.
// Alpha is used by ActLeakyRelu, Min and Max by ActClip.
type Act struct {
	Kind     ActKind
	Alpha    float32
	Min, Max float32
}

// Apply returns a applied to x.
func (a Act) Apply(x float32) float32 {
	switch a.Kind {
	case ActRelu:
		if x < 0 {
			x = 0
		}
	case ActLeakyRelu:
		if x < 0 {
			x *= a.Alpha
		}
	case ActClip:
		if x < a.Min {
			x = a.Min
		}
		if x > a.Max {
			x = a.Max
		}
	}
	return x
}

// ApplySlice applies a to every element of x in place.
func (a Act) ApplySlice(x []float32) {
	switch a.Kind {
	case ActRelu:
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case ActLeakyRelu:
		alpha := a.Alpha
		for i, v := range x {
			if v < 0 {
				x[i] = v * alpha
			}
		}
	case ActClip:
		lo, hi := a.Min, a.Max
		for i, v := range x {
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			x[i] = v
		}
	}
}

// clampArgs is the form in which the assembly kernels take a bias and an
// activation: y = min(max(max(x+bias, alpha·(x+bias)), lo), hi).
// It covers ActNone, ActRelu, ActClip and ActLeakyRelu with Alpha <= 1.
type clampArgs struct {
	bias, lo, hi, alpha float32
}

// clampForm reports the clampArgs for a and whether a can be expressed
// in that form.
func (a Act) clampForm() (clampArgs, bool) {
	inf := float32(math.Inf(1))
	switch a.Kind {
	case ActNone:
		return clampArgs{lo: -inf, hi: inf, alpha: 1}, true
	case ActRelu:
		return clampArgs{lo: 0, hi: inf, alpha: 1}, true
	case ActClip:
		return clampArgs{lo: a.Min, hi: a.Max, alpha: 1}, true
	case ActLeakyRelu:
		if a.Alpha <= 1 {
			return clampArgs{lo: -inf, hi: inf, alpha: a.Alpha}, true
		}
	}
	return clampArgs{lo: -inf, hi: inf, alpha: 1}, false
}

// Conv2DParams describe a 2-D window operation (convolution or pooling) on
// NCHW data: N images of C planes of H×W, a KH×KW window moved by
// StrideH×StrideW with DilH×DilW dilation over the input padded by
// PadTop, PadLeft, PadBottom and PadRight, producing OutH×OutW planes.
type Conv2DParams struct {
	N, C, H, W                           int
	KH, KW, StrideH, StrideW, DilH, DilW int
	PadTop, PadLeft, PadBottom, PadRight int
	OutH, OutW                           int
}

// OutSize returns the output length along one axis of a window operation
// with input length in, window k, stride and dilation dil, padded by
// padBegin and padEnd. With ceil it rounds the last partial window up as
// ONNX ceil_mode does, dropping a last window that would start in the end
// padding. It returns 0 if no window fits.
func OutSize(in, k, stride, dil, padBegin, padEnd int, ceil bool) int {
	span := in + padBegin + padEnd - dil*(k-1) - 1
	if span < 0 || stride < 1 {
		return 0
	}
	if !ceil {
		return span/stride + 1
	}
	out := (span+stride-1)/stride + 1
	if (out-1)*stride >= in+padBegin {
		out--
	}
	return out
}

// Validate reports whether p describes a well-formed window operation:
// positive sizes, strides and dilations, non-negative pads, and OutH and
// OutW equal to what OutSize gives with or without ceil.
func (p *Conv2DParams) Validate() error {
	switch {
	case p.N < 1 || p.C < 1 || p.H < 1 || p.W < 1:
		return fmt.Errorf("kern: bad input shape %dx%dx%dx%d", p.N, p.C, p.H, p.W)
	case p.KH < 1 || p.KW < 1:
		return fmt.Errorf("kern: bad kernel %dx%d", p.KH, p.KW)
	case p.StrideH < 1 || p.StrideW < 1:
		return fmt.Errorf("kern: bad strides %dx%d", p.StrideH, p.StrideW)
	case p.DilH < 1 || p.DilW < 1:
		return fmt.Errorf("kern: bad dilations %dx%d", p.DilH, p.DilW)
	case p.PadTop < 0 || p.PadLeft < 0 || p.PadBottom < 0 || p.PadRight < 0:
		return errors.New("kern: negative padding")
	}
	check := func(axis string, got, in, k, s, d, pb, pe int) error {
		lo := OutSize(in, k, s, d, pb, pe, false)
		hi := OutSize(in, k, s, d, pb, pe, true)
		if got < 1 || (got != lo && got != hi) {
			return fmt.Errorf("kern: output %s %d does not match input %d (want %d or %d)", axis, got, in, lo, hi)
		}
		return nil
	}
	if err := check("height", p.OutH, p.H, p.KH, p.StrideH, p.DilH, p.PadTop, p.PadBottom); err != nil {
		return err
	}
	return check("width", p.OutW, p.W, p.KW, p.StrideW, p.DilW, p.PadLeft, p.PadRight)
}

// check panics if the slices are too short for p.
func (p *Conv2DParams) check(in, out []float32) {
	if len(in) < p.N*p.C*p.H*p.W {
		panic(fmt.Sprintf("kern: input has %d elements, want %d", len(in), p.N*p.C*p.H*p.W))
	}
	if len(out) < p.N*p.C*p.OutH*p.OutW {
		panic(fmt.Sprintf("kern: output has %d elements, want %d", len(out), p.N*p.C*p.OutH*p.OutW))
	}
}

// colRange returns the range [lo, hi) of outputs along one axis whose
// whole window lies inside the unpadded input.
func colRange(out, in, k, stride, dil, pad int) (lo, hi int) {
	lo = (pad + stride - 1) / stride
	if lo > out {
		lo = out
	}
	last := in - 1 - (k-1)*dil + pad // largest ox·stride whose window fits
	if last < 0 {
		return lo, lo
	}
	hi = last/stride + 1
	if hi > out {
		hi = out
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}
