package detect

import (
	"context"
	"fmt"
	"image"

	"github.com/veilkit/veil/onnx"
)

// UltraFace detects faces with an Ultra-Light-Fast-Generic-Face-Detector
// model (ultraface_rfb_320/640, ultraface_slim_320): a fixed RGB input,
// value (raw − 127) / 128, the region stretched to it; outputs scores
// [1,N,2] (softmaxed, column 1 the face) and boxes [1,N,4] (x1, y1, x2,
// y2 as fractions of the input: the priors are decoded in the graph).
type UltraFace struct {
	model *onnx.Model
	w, h  int
	// NMSIoU is the overlap above which the weaker of two faces is dropped.
	NMSIoU float32
}

var ultraFaceNorm = Norm{Mean: [3]float32{127, 127, 127}, Std: [3]float32{128, 128, 128}}

// NewUltraFace loads an UltraFace model.
func NewUltraFace(data []byte, opts onnx.Options) (*UltraFace, error) {
	m, err := onnx.Load(data, opts)
	if err != nil {
		return nil, fmt.Errorf("detect: UltraFace: %w", err)
	}
	shape, ok := m.InputShape("input")
	if !ok || len(shape) != 4 || shape[1] != 3 || shape[2] <= 0 || shape[3] <= 0 {
		return nil, fmt.Errorf("detect: UltraFace: model has no fixed [1,3,H,W] input named \"input\" (inputs %v)", m.InputNames())
	}
	for _, s := range []string{"scores", "boxes"} {
		if !contains(m.OutputNames(), s) {
			return nil, fmt.Errorf("detect: UltraFace: model lacks output %q", s)
		}
	}
	return &UltraFace{model: m, w: shape[3], h: shape[2], NMSIoU: 0.3}, nil
}

// Classes returns Face.
func (u *UltraFace) Classes() []Class { return []Class{Face} }

// InputSize returns the network's input size.
func (u *UltraFace) InputSize() (int, int) { return u.w, u.h }

// Detect finds the faces in the part r of img.
func (u *UltraFace) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return nil, nil
	}
	data := make([]float32, 3*u.w*u.h)
	Tensor(data, img, r, u.w, u.h, ultraFaceNorm)
	out, err := u.model.Run(ctx, map[string]*onnx.Tensor{"input": onnx.NewTensor([]int{1, 3, u.h, u.w}, data)})
	if err != nil {
		return nil, fmt.Errorf("detect: UltraFace: %w", err)
	}
	scores, boxes := out["scores"], out["boxes"]
	if scores == nil || boxes == nil || scores.Len()%2 != 0 || boxes.Len() != 2*scores.Len() {
		return nil, fmt.Errorf("detect: UltraFace: outputs do not match (scores %v, boxes %v)", scores, boxes)
	}
	s, b := scores.Float32s(), boxes.Float32s()
	fw, fh := float32(r.Dx()), float32(r.Dy())
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	var dets []Detection
	for k := 0; k < len(s)/2; k++ {
		score := clamp01(s[2*k+1])
		if score < minScore {
			continue
		}
		q := b[4*k : 4*k+4]
		dets = append(dets, Detection{Class: Face, Label: "face", Score: score,
			Box: Box{ox + q[0]*fw, oy + q[1]*fh, ox + q[2]*fw, oy + q[3]*fh}})
	}
	return NMS(dets, u.NMSIoU), nil
}
