package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/veilkit/veil/onnx"
)

// YuNet detects faces, with five landmarks each, with a YuNet model
// (libfacedetection.train): BGR input, raw 0..255 values, outputs
// cls_/obj_/bbox_/kps_ at strides 8, 16 and 32.
type YuNet struct {
	model *onnx.Model
	w, h  int // fixed input size; 0 for a dynamic model
	// MaxSide bounds the longer side of a dynamic model's scaled passes.
	// A region larger than that still runs at native resolution, in
	// overlapping windows of at most Window pixels a side (so small faces
	// keep their pixels and memory stays bounded), plus one pass scaled
	// down to MaxSide for the faces too big for a window. 0 means no
	// bound. The default, 960, halves a 1080p frame exactly (no
	// filtering); at native size YuNet's score drops from about 600 px
	// faces and misses some of 900 px, which the 960 pass finds at 0.92 or
	// more (a 1280 pass did no better, at 1.8× the cost).
	MaxSide int
	// Window is the largest side of a native-resolution window (at least
	// MaxSide): 1920, so a 1080p video frame is one window.
	Window int
	// MinSide is the longer side a dynamic model's input is scaled up to
	// when the region is smaller: YuNet is trained on 640×640 crops and
	// misses faces under about 10 px, so a small image (a 416×416
	// thumbnail, a crop) is run at 640 instead of its own size, which
	// brings its small faces into the network's range. 0 means no
	// upscaling.
	MinSide int
	// Overlap is how many pixels neighbouring native windows share: faces
	// up to this size are whole in some window.
	Overlap int
	// NMSIoU is the overlap above which the weaker of two faces is dropped.
	NMSIoU float32
	// Scales are the factors a dynamic model's region is resized by before
	// detection, one pass each, merged with NMS: above 1 finds faces too
	// small for the network at native size. A pass whose input size equals
	// an earlier one's (MaxSide capping) is skipped. Empty means {1}.
	Scales []float32
}

// NewYuNet loads a YuNet model. A model with a fixed input size is
// stretched to it; a dynamic one runs at the region's own size, up to
// MaxSide.
func NewYuNet(data []byte, opts onnx.Options) (*YuNet, error) {
	m, err := onnx.Load(data, opts)
	if err != nil {
		return nil, fmt.Errorf("detect: YuNet: %w", err)
	}
	shape, ok := m.InputShape("input")
	if !ok || len(shape) != 4 || shape[1] != 3 && shape[1] != -1 {
		return nil, fmt.Errorf("detect: YuNet: model has no [N,3,H,W] input named \"input\" (inputs %v)", m.InputNames())
	}
	for _, s := range []string{"cls_8", "obj_8", "bbox_8", "kps_8", "cls_32"} {
		if !contains(m.OutputNames(), s) {
			return nil, fmt.Errorf("detect: YuNet: model lacks output %q", s)
		}
	}
	y := &YuNet{model: m, MaxSide: 960, Window: 1920, MinSide: 640, Overlap: 160, NMSIoU: 0.3}
	if shape[2] > 0 && shape[3] > 0 {
		y.h, y.w = shape[2], shape[3]
	}
	return y, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Classes returns Face.
func (y *YuNet) Classes() []Class { return []Class{Face} }

var yunetNorm = Norm{BGR: true, Std: [3]float32{1, 1, 1}}

// inputSize returns the size a region of w×h pixels is resized to: by
// scale, then up to MinSide and down to MaxSide (aspect kept), or a
// fixed-size model's input size. A dynamic model's input is that size
// padded to a multiple of 32 (see detect).
func (y *YuNet) inputSize(w, h int, scale float32) (int, int) {
	if y.w > 0 {
		return y.w, y.h
	}
	s := float64(scale)
	if long := float64(max(w, h)) * s; long < float64(y.MinSide) {
		s = float64(y.MinSide) / float64(max(w, h))
	}
	if long := float64(max(w, h)) * s; y.MaxSide > 0 && long > float64(y.MaxSide) {
		s = float64(y.MaxSide) / float64(max(w, h))
	}
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}

// Detect finds the faces in the part r of img.
//
// Its passes together always find what one plain pass of the model over
// r at its own resolution finds: a region under MinSide, which the
// scaled passes enlarge, also gets that plain pass, and a face of a
// native pass (the plain pass, or the windows of a region over MaxSide)
// that the merge of the passes would drop for an overlapping stronger
// face that does not cover it (IoU under 0.5) is kept.
func (y *YuNet) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return nil, nil
	}
	scales := y.Scales
	if len(scales) == 0 {
		scales = []float32{1}
	}
	var dets, native []Detection
	if y.w == 0 && y.MaxSide > 0 && max(r.Dx(), r.Dy()) > y.MaxSide {
		// Native resolution in windows; the scaled passes below then see
		// the whole region at MaxSide.
		for _, win := range windows(r, max(y.Window, y.MaxSide), y.Overlap) {
			d, err := y.detect(ctx, img, win, win.Dx(), win.Dy(), minScore)
			if err != nil {
				return nil, err
			}
			dets, native = append(dets, d...), append(native, d...)
		}
	}
	var done [][2]int
	pass := func(w, h int) ([]Detection, error) {
		if containsSize(done, w, h) {
			return nil, nil
		}
		done = append(done, [2]int{w, h})
		d, err := y.detect(ctx, img, r, w, h, minScore)
		dets = append(dets, d...)
		return d, err
	}
	for _, sc := range scales {
		w, h := y.inputSize(r.Dx(), r.Dy(), sc)
		d, err := pass(w, h)
		if err != nil {
			return nil, err
		}
		if w == r.Dx() && h == r.Dy() {
			native = append(native, d...)
		}
	}
	if y.w == 0 && !containsSize(done, r.Dx(), r.Dy()) && (y.MaxSide == 0 || max(r.Dx(), r.Dy()) <= y.MaxSide) {
		// The plain pass, unless a scale above ran it.
		d, err := pass(r.Dx(), r.Dy())
		if err != nil {
			return nil, err
		}
		native = append(native, d...)
	}
	return Superset(NMS(dets, y.NMSIoU), native, supersetIoU), nil
}

// supersetIoU is the overlap with a kept face above which a face of a
// native pass counts as found.
const supersetIoU = 0.5

// windows cuts r into overlapping windows of at most size pixels a side.
func windows(r image.Rectangle, size, overlap int) []image.Rectangle {
	overlap = min(overlap, size/2)
	starts := func(lo, hi int) []int {
		if hi-lo <= size {
			return []int{lo}
		}
		n := (hi - lo - overlap + size - overlap - 1) / (size - overlap)
		var s []int
		for k := 0; k < n; k++ {
			s = append(s, lo+k*(hi-lo-size)/max(1, n-1))
		}
		return s
	}
	var ws []image.Rectangle
	for _, y0 := range starts(r.Min.Y, r.Max.Y) {
		for _, x0 := range starts(r.Min.X, r.Max.X) {
			ws = append(ws, image.Rect(x0, y0, min(x0+size, r.Max.X), min(y0+size, r.Max.Y)))
		}
	}
	return ws
}

func roundUp32(v int) int { return max(32, (v+31)/32*32) }

func containsSize(sizes [][2]int, w, h int) bool {
	for _, s := range sizes {
		if s == [2]int{w, h} {
			return true
		}
	}
	return false
}

// detect runs one pass on the region r resized to w×h. A dynamic model's
// input is padded with black to the next multiple of 32 rather than
// stretched to it: a native-size region needs no resampling, and a 1080p
// frame halved (960×540) none but the halving.
func (y *YuNet) detect(ctx context.Context, img *image.RGBA, r image.Rectangle, w, h int, minScore float32) ([]Detection, error) {
	nw, nh := w, h
	if y.w == 0 {
		nw, nh = roundUp32(w), roundUp32(h)
	}
	data := make([]float32, 3*nw*nh)
	TensorInto(data, nw, nh, img, r, w, h, yunetNorm)
	sx, sy := float32(r.Dx())/float32(w), float32(r.Dy())/float32(h)
	w, h = nw, nh
	out, err := y.model.Run(ctx, map[string]*onnx.Tensor{"input": onnx.NewTensor([]int{1, 3, h, w}, data)})
	if err != nil {
		return nil, fmt.Errorf("detect: YuNet: %w", err)
	}
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	var dets []Detection
	for _, s := range []int{8, 16, 32} {
		cls, obj := out[fmt.Sprint("cls_", s)], out[fmt.Sprint("obj_", s)]
		bbox, kps := out[fmt.Sprint("bbox_", s)], out[fmt.Sprint("kps_", s)]
		if cls == nil || obj == nil || bbox == nil {
			return nil, fmt.Errorf("detect: YuNet: missing outputs for stride %d", s)
		}
		cols := w / s
		n := (w / s) * (h / s)
		if cls.Len() != n || obj.Len() != n || bbox.Len() != 4*n || (kps != nil && kps.Len() != 10*n) {
			return nil, fmt.Errorf("detect: YuNet: stride %d outputs do not fit a %dx%d input", s, w, h)
		}
		c, o, b := cls.Float32s(), obj.Float32s(), bbox.Float32s()
		fs := float32(s)
		for k := 0; k < n; k++ {
			score := float32(math.Sqrt(float64(clamp01(c[k]) * clamp01(o[k]))))
			if score < minScore {
				continue
			}
			col, row := float32(k%cols), float32(k/cols)
			cx, cy := (col+b[4*k])*fs, (row+b[4*k+1])*fs
			bw, bh := expf(b[4*k+2])*fs, expf(b[4*k+3])*fs
			d := Detection{Class: Face, Label: "face", Score: score, Box: Box{
				ox + (cx-bw/2)*sx, oy + (cy-bh/2)*sy, ox + (cx+bw/2)*sx, oy + (cy+bh/2)*sy}}
			if kps != nil {
				kp := kps.Float32s()[10*k : 10*k+10]
				d.Points = make([]Point, 5)
				for j := range d.Points {
					d.Points[j] = Point{ox + (col+kp[2*j])*fs*sx, oy + (row+kp[2*j+1])*fs*sy}
				}
			}
			dets = append(dets, d)
		}
	}
	return dets, nil
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

func expf(v float32) float32 { return float32(math.Exp(float64(v))) }
