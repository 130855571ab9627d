package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/veilkit/veil/onnx"
)

// YOLOX detects persons and vehicles with a YOLOX COCO model such as
// YOLOX-nano: a BGR input of raw 0–255 values, letterboxed at the top
// left with grey (114) padding, and one output [1,N,85] holding, for each
// cell of the stride-8, 16 and 32 grids in turn, the box (x and y offsets
// in cells, log width and height), the objectness and the 80 class
// probabilities.
type YOLOX struct {
	model  *onnx.Model
	input  string
	output string
	// fixedW and fixedH are the input size of a model with a fixed input;
	// 0 for a dynamic one.
	fixedW, fixedH int
	// LongSide is the longer side, in pixels, that a dynamic model's input
	// is scaled to (up or down, aspect kept; a multiple of 32). Larger
	// finds smaller persons and costs more (the cost grows with its
	// square).
	LongSide int
	// NMSIoU is the overlap above which the weaker of two same-class
	// detections is dropped.
	NMSIoU float32
	// PersonOdds and VehicleOdds calibrate the scores (see Calibrate); 1
	// reports the raw objectness × class probability.
	PersonOdds, VehicleOdds float32
	// Tiles is the grid of a second pass on overlapping tiles of regions
	// whose longer side is over TileAbove pixels (a 1080p frame scaled to
	// LongSide loses small persons); 0 or 1: no tiles. A tile's detection
	// is kept only if it is small for the tile and not cut by its edge, as
	// in NanoDet.
	Tiles int
	// TileAbove is the longer side of a region above which the tile pass
	// runs.
	TileAbove int
	// TileOverlap is the fraction of a tile its neighbours share.
	TileOverlap float32
}

// yoloxPad is the letterbox padding YOLOX was trained with.
const yoloxPad = 114

var yoloxNorm = Norm{BGR: true, Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1}}

var yoloxStrides = [...]int{8, 16, 32}

// NewYOLOX loads a YOLOX model with one input [1,3,H,W] (fixed, or
// dynamic with H and W multiples of 32) and one output [1,N,85].
func NewYOLOX(data []byte, opts onnx.Options) (*YOLOX, error) {
	m, err := onnx.Load(data, opts)
	if err != nil {
		return nil, fmt.Errorf("detect: YOLOX: %w", err)
	}
	in, out := m.InputNames(), m.OutputNames()
	if len(in) != 1 || len(out) != 1 {
		return nil, fmt.Errorf("detect: YOLOX: want one input and one output, have %v and %v", in, out)
	}
	shape, _ := m.InputShape(in[0])
	if len(shape) != 4 || shape[1] != 3 {
		return nil, fmt.Errorf("detect: YOLOX: input shape %v is not [1,3,H,W]", shape)
	}
	y := &YOLOX{model: m, input: in[0], output: out[0], LongSide: 832, NMSIoU: 0.6,
		PersonOdds: 1, VehicleOdds: 1, TileAbove: 1280, TileOverlap: 0.25}
	if shape[2] > 0 && shape[3] > 0 {
		if shape[2]%32 != 0 || shape[3]%32 != 0 {
			return nil, fmt.Errorf("detect: YOLOX: input %dx%d is not a multiple of 32", shape[3], shape[2])
		}
		y.fixedW, y.fixedH = shape[3], shape[2]
	}
	// Check the output's layout once on a small blank input.
	w, h := 64, 64
	if y.fixedW > 0 {
		w, h = y.fixedW, y.fixedH
	}
	res, err := m.Run(context.Background(), map[string]*onnx.Tensor{y.input: onnx.NewTensor([]int{1, 3, h, w}, make([]float32, 3*w*h))})
	if err != nil {
		return nil, fmt.Errorf("detect: YOLOX: %w", err)
	}
	if sh := res[y.output].Shape(); len(sh) != 3 || sh[1] != yoloxCells(w, h) || sh[2] != 5+len(COCO80) {
		return nil, fmt.Errorf("detect: YOLOX: output shape %v for a %dx%d input, want [1,%d,85]", sh, w, h, yoloxCells(w, h))
	}
	return y, nil
}

// yoloxCells is the number of output rows for a w×h input.
func yoloxCells(w, h int) int {
	n := 0
	for _, s := range yoloxStrides {
		n += (w / s) * (h / s)
	}
	return n
}

// Classes returns Person and Vehicle.
func (y *YOLOX) Classes() []Class { return []Class{Person, Vehicle} }

// WithTiles returns a copy of y, sharing its model, whose tile pass uses
// a tiles×tiles grid (0: none).
func (y *YOLOX) WithTiles(tiles int) *YOLOX {
	c := *y
	c.Tiles = tiles
	return &c
}

// Detect finds persons and vehicles in the part r of img: one letterboxed
// pass on the whole region and, for a region over TileAbove, a pass on
// Tiles×Tiles overlapping tiles.
func (y *YOLOX) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return nil, nil
	}
	dets, err := y.detect(ctx, img, r, minScore)
	if err != nil {
		return nil, err
	}
	if y.Tiles > 1 && max(r.Dx(), r.Dy()) > y.TileAbove {
		if dets, err = tilePass(ctx, img, r, y.Tiles, y.TileOverlap, minScore, dets, y.detect); err != nil {
			return nil, err
		}
	}
	return NMS(dets, y.NMSIoU), nil
}

// inputSize returns the input size for a w×h region and the size the
// region is scaled to inside it.
func (y *YOLOX) inputSize(w, h int) (iw, ih, sw, sh int) {
	iw, ih = y.fixedW, y.fixedH
	if iw == 0 {
		long := max(32, y.LongSide/32*32)
		iw, ih = long, long
	}
	scale := min(float64(iw)/float64(w), float64(ih)/float64(h))
	sw = max(1, min(iw, int(math.Round(float64(w)*scale))))
	sh = max(1, min(ih, int(math.Round(float64(h)*scale))))
	if y.fixedW == 0 {
		// A dynamic input is only as large as the scaled region needs.
		iw, ih = (sw+31)/32*32, (sh+31)/32*32
	}
	return iw, ih, sw, sh
}

// detect runs one letterboxed pass on r.
func (y *YOLOX) detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	iw, ih, w, h := y.inputSize(r.Dx(), r.Dy())
	data := make([]float32, 3*iw*ih)
	Fill(data, iw, ih, yoloxPad, yoloxNorm)
	TensorInto(data, iw, ih, img, r, w, h, yoloxNorm)
	out, err := y.model.Run(ctx, map[string]*onnx.Tensor{y.input: onnx.NewTensor([]int{1, 3, ih, iw}, data)})
	if err != nil {
		return nil, fmt.Errorf("detect: YOLOX: %w", err)
	}
	o := out[y.output]
	const stride = 5 + 80
	if sh := o.Shape(); len(sh) != 3 || sh[1] != yoloxCells(iw, ih) || sh[2] != stride {
		return nil, fmt.Errorf("detect: YOLOX: output shape %v for a %dx%d input", sh, iw, ih)
	}
	v := o.Float32s()
	sx, sy := float32(r.Dx())/float32(w), float32(r.Dy())/float32(h)
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	odds := max(y.PersonOdds, y.VehicleOdds)
	var dets []Detection
	k := 0
	for _, s := range yoloxStrides {
		cols, rows := iw/s, ih/s
		st := float32(s)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				row := v[k*stride : (k+1)*stride]
				k++
				obj := clamp01(row[4])
				if Calibrate(obj, odds) < minScore {
					continue // a score is obj·cls ≤ obj, calibrated by at most odds
				}
				// The best person and the best vehicle class of the cell.
				person, vehicle, vi := row[5], float32(-1), -1
				for c, p := range row[5:] {
					if COCOClass(c) == Vehicle && p > vehicle {
						vehicle, vi = p, c
					}
				}
				cx, cy := (row[0]+float32(j))*st, (row[1]+float32(i))*st
				bw, bh := expf(min(row[2], 20))*st, expf(min(row[3], 20))*st
				b := Box{cx - bw/2, cy - bh/2, cx + bw/2, cy + bh/2}
				b = Box{ox + b.X1*sx, oy + b.Y1*sy, ox + b.X2*sx, oy + b.Y2*sy}.Clip(r)
				if b.Area() <= 0 {
					continue
				}
				if sc := Calibrate(clamp01(obj*person), y.PersonOdds); sc >= minScore {
					dets = append(dets, Detection{Class: Person, Label: COCO80[0], Score: sc, Box: b})
				}
				if sc := Calibrate(clamp01(obj*vehicle), y.VehicleOdds); vi >= 0 && sc >= minScore {
					dets = append(dets, Detection{Class: Vehicle, Label: COCO80[vi], Score: sc, Box: b})
				}
			}
		}
	}
	return dets, nil
}

// WithoutTiles returns y.WithTiles(0): the YOLOX without its tile pass.
func (y *YOLOX) WithoutTiles() Detector { return y.WithTiles(0) }
