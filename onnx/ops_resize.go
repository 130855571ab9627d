package onnx

import (
	"fmt"
	"math"

	"github.com/veilkit/veil/onnx/internal/kern"
)

// resizeOp is Resize (opsets 10–19) and Upsample (opsets 7–9), over the
// last two axes.
type resizeOp struct {
	name    string
	mode    kern.ResizeMode
	coord   kern.CoordMode
	nearest kern.NearestMode
	scales  []float32 // Upsample-7 attribute form
	legacy  bool      // opset-10 Resize or Upsample: X, scales inputs
}

func init() {
	register("Upsample", func(a *attrs) (operator, error) {
		o := &resizeOp{name: "Upsample", coord: kern.Asymmetric, nearest: kern.Floor, legacy: true}
		if err := o.setMode(a.string("mode", "nearest")); err != nil {
			return nil, err
		}
		o.scales = a.floats("scales")
		a.ignore("height_scale", "width_scale")
		return o, nil
	})
	register("Resize", func(a *attrs) (operator, error) {
		o := &resizeOp{name: "Resize", coord: kern.HalfPixel, nearest: kern.RoundPreferFloor}
		if err := o.setMode(a.string("mode", "nearest")); err != nil {
			return nil, err
		}
		if a.opset < 11 {
			o.legacy = true
			o.coord, o.nearest = kern.Asymmetric, kern.Floor
			return o, nil
		}
		switch c := a.string("coordinate_transformation_mode", "half_pixel"); c {
		case "half_pixel":
			o.coord = kern.HalfPixel
		case "pytorch_half_pixel":
			o.coord = kern.PytorchHalfPixel
		case "align_corners":
			o.coord = kern.AlignCorners
		case "asymmetric":
			o.coord = kern.Asymmetric
		default:
			return nil, fmt.Errorf("coordinate_transformation_mode=%q", c)
		}
		switch n := a.string("nearest_mode", "round_prefer_floor"); n {
		case "round_prefer_floor":
			o.nearest = kern.RoundPreferFloor
		case "round_prefer_ceil":
			o.nearest = kern.RoundPreferCeil
		case "floor":
			o.nearest = kern.Floor
		case "ceil":
			o.nearest = kern.Ceil
		default:
			return nil, fmt.Errorf("nearest_mode=%q", n)
		}
		a.ignore("cubic_coeff_a") // only read in cubic mode, which is rejected
		if a.int("exclude_outside", 0) != 0 {
			return nil, fmt.Errorf("exclude_outside=1")
		}
		if a.int("antialias", 0) != 0 {
			return nil, fmt.Errorf("antialias=1")
		}
		if a.has("axes") {
			return nil, fmt.Errorf("axes")
		}
		a.ignore("extrapolation_value") // only used by tf_crop_and_resize
		if p := a.string("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
			return nil, fmt.Errorf("keep_aspect_ratio_policy=%q", p)
		}
		return o, nil
	})
}

func (o *resizeOp) setMode(m string) error {
	switch m {
	case "nearest":
		o.mode = kern.Nearest
	case "linear", "bilinear":
		o.mode = kern.Linear
	default:
		return fmt.Errorf("mode=%q", m)
	}
	return nil
}

// geometry returns the output shape and the scales of the last two axes.
func (o *resizeOp) geometry(in []*value) ([]int, float32, float32, error) {
	x := in[0]
	if x == nil || x.dtype != Float32 || len(x.shape) < 2 {
		return nil, 0, 0, errShape("%s needs a float tensor of rank >= 2", o.name)
	}
	r := len(x.shape)
	var scales []float32
	var sizes []int64
	switch {
	case o.legacy && o.scales != nil:
		scales = o.scales
	case o.legacy:
		if len(in) < 2 || in[1] == nil || in[1].c == nil || in[1].dtype != Float32 {
			return nil, 0, 0, fmt.Errorf("%w: %s scales must be a constant", ErrUnsupported, o.name)
		}
		scales = in[1].c.f
	default:
		if len(in) > 3 && in[3] != nil && in[3].len() > 0 {
			var err error
			if sizes, err = constInts(in[3], "Resize sizes"); err != nil {
				return nil, 0, 0, err
			}
		} else if len(in) > 2 && in[2] != nil && in[2].len() > 0 {
			if in[2].c == nil || in[2].dtype != Float32 {
				return nil, 0, 0, fmt.Errorf("%w: Resize scales must be a constant", ErrUnsupported)
			}
			scales = in[2].c.f
		} else {
			return nil, 0, 0, errShape("Resize needs scales or sizes")
		}
	}
	shape := make([]int, r)
	var sh, sw float32
	if sizes != nil {
		if len(sizes) != r {
			return nil, 0, 0, errShape("Resize sizes %v for rank %d", sizes, r)
		}
		for k, s := range sizes {
			if s < 0 || s > maxModelElements {
				return nil, 0, 0, errShape("Resize sizes %v", sizes)
			}
			shape[k] = int(s)
		}
		sh = float32(shape[r-2]) / float32(x.shape[r-2])
		sw = float32(shape[r-1]) / float32(x.shape[r-1])
	} else {
		if len(scales) != r {
			return nil, 0, 0, errShape("%s scales %v for rank %d", o.name, scales, r)
		}
		for k, s := range scales {
			if !(s > 0) || s > 1<<16 {
				return nil, 0, 0, errShape("%s scales %v", o.name, scales)
			}
			shape[k] = int(math.Floor(float64(x.shape[k]) * float64(s)))
		}
		sh, sw = scales[r-2], scales[r-1]
	}
	for k := 0; k < r-2; k++ {
		if shape[k] != x.shape[k] {
			return nil, 0, 0, fmt.Errorf("%w: %s of an axis other than the last two (%v to %v)", ErrUnsupported, o.name, x.shape, shape)
		}
	}
	return shape, sh, sw, nil
}

func (o *resizeOp) infer(in []*value, nOut int) ([]value, error) {
	shape, _, _, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	if numElements(shape) > maxModelElements {
		return nil, errShape("%s to %v", o.name, shape)
	}
	return []value{{shape: shape, dtype: Float32}}, nil
}

// resizeScales are the scales of the last two axes, prepared per plan.
type resizeScales struct{ h, w float32 }

func (o *resizeOp) prepare(in []*value, out []value) (any, error) {
	_, sh, sw, err := o.geometry(in)
	return &resizeScales{sh, sw}, err
}

func (o *resizeOp) run(rc *runCtx, in, out []*Tensor) error {
	sc := rc.state.(*resizeScales)
	sh, sw := sc.h, sc.w
	xs, ys := in[0].shape, out[0].shape
	r := len(xs)
	planes := numElements(xs[:r-2])
	kern.Resize2D(planes, 1, xs[r-2], xs[r-1], ys[r-2], ys[r-1], sh, sw, o.mode, o.coord, o.nearest, in[0].f, out[0].f, rc.threads)
	return nil
}
