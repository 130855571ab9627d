package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/veilkit/veil/onnx"
)

// LPDYuNet detects licence plates, with their four corners, with the
// opencv_zoo LPD-YuNet model: a fixed 320×240 BGR input of raw values and
// SSD-style priors decoded here.
type LPDYuNet struct {
	model  *onnx.Model
	priors []prior
	// NMSIoU is the overlap above which the weaker of two plates is dropped.
	NMSIoU float32
	// ScoreOdds calibrates the score (see Calibrate). The raw score is
	// sqrt(conf·iou), the plate probability and the predicted IoU of the
	// box; trained on Chinese (CCPD) plates, the model gives European
	// and US plates a low probability, so correct plates often score
	// 0.3–0.5. Odds ×2.25 put the Celantur default threshold 0.5 at a raw
	// 0.31, chosen on the OpenALPR EU and US benchmarks together (go run
	// ./bench/cmd/eval -datasets openalpr; one plate labelled per photo,
	// so other plates count as false): with the engine's zoom passes, EU
	// recall 0.982 at 0.046 unlabelled-or-false plates per image, US
	// 0.926 at 0.086. At odds ×1.5 (a raw 0.4, chosen on EU alone) they
	// were 0.935 at 0.037 and 0.895 at 0.068. 1 reports the raw score.
	ScoreOdds float32
}

type prior struct{ cx, cy, w, h float32 }

const lpdW, lpdH = 320, 240

// NewLPDYuNet loads an LPD-YuNet model.
func NewLPDYuNet(data []byte, opts onnx.Options) (*LPDYuNet, error) {
	m, err := onnx.Load(data, opts)
	if err != nil {
		return nil, fmt.Errorf("detect: LPD-YuNet: %w", err)
	}
	for _, s := range []string{"loc", "conf", "iou"} {
		if !contains(m.OutputNames(), s) {
			return nil, fmt.Errorf("detect: LPD-YuNet: model lacks output %q", s)
		}
	}
	return &LPDYuNet{model: m, priors: lpdPriors(lpdW, lpdH), NMSIoU: 0.3, ScoreOdds: 2.25}, nil
}

// lpdPriors returns the model's priors: feature maps from repeated
// halving (with floor) of the input, levels at steps 8, 16, 32 and 64.
func lpdPriors(w, h int) []prior {
	fh, fw := (h+1)/2/2, (w+1)/2/2
	steps := []int{8, 16, 32, 64}
	sizes := [][]float32{{10, 16, 24}, {32, 48}, {64, 96}, {128, 192, 256}}
	var ps []prior
	for l, step := range steps {
		fh, fw = fh/2, fw/2
		for i := 0; i < fh; i++ {
			for j := 0; j < fw; j++ {
				for _, s := range sizes[l] {
					ps = append(ps, prior{
						cx: (float32(j) + 0.5) * float32(step) / float32(w),
						cy: (float32(i) + 0.5) * float32(step) / float32(h),
						w:  s / float32(w), h: s / float32(h)})
				}
			}
		}
	}
	return ps
}

// InputSize returns the model's fixed input size, 320×240: a region is
// stretched to it.
func (l *LPDYuNet) InputSize() (w, h int) { return lpdW, lpdH }

// Classes returns LicensePlate.
func (l *LPDYuNet) Classes() []Class { return []Class{LicensePlate} }

// Detect finds the licence plates in the part r of img. A box is the
// bounds of the plate's four corners and may reach outside r (a plate cut
// by r's edge).
func (l *LPDYuNet) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return nil, nil
	}
	data := make([]float32, 3*lpdW*lpdH)
	Tensor(data, img, r, lpdW, lpdH, yunetNorm)
	out, err := l.model.Run(ctx, map[string]*onnx.Tensor{"input": onnx.NewTensor([]int{1, 3, lpdH, lpdW}, data)})
	if err != nil {
		return nil, fmt.Errorf("detect: LPD-YuNet: %w", err)
	}
	n := len(l.priors)
	loc, conf, iou := out["loc"], out["conf"], out["iou"]
	if loc.Len() != 14*n || conf.Len() != 2*n || iou.Len() != n {
		return nil, fmt.Errorf("detect: LPD-YuNet: outputs %v %v %v do not fit %d priors", loc.Shape(), conf.Shape(), iou.Shape(), n)
	}
	lf, cf, io := loc.Float32s(), conf.Float32s(), iou.Float32s()
	sx, sy := float32(r.Dx()), float32(r.Dy()) // normalised → region pixels
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	var dets []Detection
	for k, p := range l.priors {
		score := Calibrate(float32(math.Sqrt(float64(clamp01(cf[2*k+1])*clamp01(io[k])))), l.ScoreOdds)
		if score < minScore {
			continue
		}
		v := lf[14*k : 14*k+14]
		pts := make([]Point, 4)
		b := Box{X1: float32(math.Inf(1)), Y1: float32(math.Inf(1)), X2: float32(math.Inf(-1)), Y2: float32(math.Inf(-1))}
		for j, c := range [4]int{4, 6, 10, 12} {
			x := ox + (p.cx+v[c]*0.1*p.w)*sx
			y := oy + (p.cy+v[c+1]*0.1*p.h)*sy
			pts[j] = Point{x, y}
			b.X1, b.Y1, b.X2, b.Y2 = min(b.X1, x), min(b.Y1, y), max(b.X2, x), max(b.Y2, y)
		}
		dets = append(dets, Detection{Class: LicensePlate, Label: "license-plate", Score: score, Box: b, Points: pts})
	}
	return NMS(dets, l.NMSIoU), nil
}
