package detect

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/veilkit/veil/onnx"
)

// COCO80 lists the 80 COCO class names in the order the COCO detectors
// (NanoDet, FastestDet) number them.
var COCO80 = []string{"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
	"traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep",
	"cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
	"skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
	"tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
	"orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
	"dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
	"toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush"}

// COCOClass maps a COCO-80 class index to a veil class: person is Person;
// bicycle, car, motorcycle, bus and truck are Vehicle; the rest are 0.
func COCOClass(i int) Class {
	switch i {
	case 0:
		return Person
	case 1, 2, 3, 5, 7:
		return Vehicle
	}
	return 0
}

// NanoDet detects persons and vehicles with the NanoDet-m COCO model:
// a letterboxed 416×416 BGR input normalised with ImageNet statistics,
// per-stride class scores and distribution-focal box outputs.
type NanoDet struct {
	model *onnx.Model
	input string
	size  int
	// NMSIoU is the overlap above which the weaker of two same-class
	// detections is dropped.
	NMSIoU float32
	// PersonOdds and VehicleOdds calibrate the person and vehicle scores
	// (see Calibrate). NanoDet is trained with Quality Focal Loss: its
	// class score estimates the IoU of its box with the object rather
	// than the probability that there is one, so a sure person with an
	// ordinary box scores 0.5–0.7. Person odds ×1.6 put the Celantur
	// default threshold 0.4 at a raw 0.29 (upstream NanoDet demos use
	// 0.35); chosen on the staged COCO subset, where with the tile pass
	// person recall is 0.75 at a precision of 0.63. Vehicle scores are
	// left raw (odds 1): there, at a raw 0.29 the vehicle precision falls
	// to 0.5 for little recall. 1 reports the raw score.
	PersonOdds, VehicleOdds float32
	// Tiles is the grid of the second pass on overlapping tiles of the
	// region (2: 2×2), for objects too small in the whole-region pass,
	// which shrinks the region to the network's input; 0 or 1: no tiles.
	// It runs when the region is larger than the input. A tile's
	// detection is kept only if it is small for the tile (under
	// tileMaxFrac of its side: larger objects are the whole pass's job)
	// and does not touch a tile edge inside the region (an object cut by
	// the edge).
	Tiles int
	// TileOverlap is the fraction of a tile its neighbours share.
	TileOverlap float32
	// levels are the output pairs by stride, found by shape.
	levels []nanoLevel
}

type nanoLevel struct {
	stride     int
	cls, boxes string
}

var nanodetNorm = Norm{BGR: true, Mean: [3]float32{103.53, 116.28, 123.675}, Std: [3]float32{57.375, 57.12, 58.395}}

const nanoBins = 8

// NewNanoDet loads a NanoDet model. Its outputs are told apart by shape:
// [1,K,80] class scores and [1,K,32] box distributions, K = (size/s)² for
// strides s of 8, 16 and 32.
func NewNanoDet(data []byte, opts onnx.Options) (*NanoDet, error) {
	m, err := onnx.Load(data, opts)
	if err != nil {
		return nil, fmt.Errorf("detect: NanoDet: %w", err)
	}
	names := m.InputNames()
	if len(names) != 1 {
		return nil, fmt.Errorf("detect: NanoDet: want one input, have %v", names)
	}
	shape, _ := m.InputShape(names[0])
	if len(shape) != 4 || shape[2] <= 0 || shape[2] != shape[3] {
		return nil, fmt.Errorf("detect: NanoDet: input shape %v is not [1,3,S,S]", shape)
	}
	nd := &NanoDet{model: m, input: names[0], size: shape[2], NMSIoU: 0.6, PersonOdds: 1.6, VehicleOdds: 1, Tiles: 2, TileOverlap: 0.25}
	// Find the outputs by running once on a blank input.
	s := nd.size
	out, err := m.Run(context.Background(), map[string]*onnx.Tensor{names[0]: onnx.NewTensor([]int{1, 3, s, s}, make([]float32, 3*s*s))})
	if err != nil {
		return nil, fmt.Errorf("detect: NanoDet: %w", err)
	}
	for _, stride := range []int{8, 16, 32} {
		k := (s / stride) * (s / stride)
		var lv = nanoLevel{stride: stride}
		for name, t := range out {
			sh := t.Shape()
			if len(sh) == 3 && sh[1] == k {
				switch sh[2] {
				case len(COCO80):
					lv.cls = name
				case 4 * nanoBins:
					lv.boxes = name
				}
			}
		}
		if lv.cls == "" || lv.boxes == "" {
			return nil, fmt.Errorf("detect: NanoDet: no [1,%d,80]/[1,%d,32] outputs for stride %d", k, k, stride)
		}
		nd.levels = append(nd.levels, lv)
	}
	return nd, nil
}

// Classes returns Person and Vehicle.
func (nd *NanoDet) Classes() []Class { return []Class{Person, Vehicle} }

// tileMaxFrac bounds the size of the objects a tile pass reports, as a
// fraction of the tile's longer side (160 of NanoDet's 416 pixels).
const tileMaxFrac = 160.0 / 416

// WithTiles returns a copy of nd, sharing its model, whose tile pass uses
// a tiles×tiles grid (0: none).
func (nd *NanoDet) WithTiles(tiles int) *NanoDet {
	c := *nd
	c.Tiles = tiles
	return &c
}

// Detect finds persons and vehicles in the part r of img: one pass on the
// whole region, letterboxed, and when the region is larger than the
// network's input a second pass on Tiles×Tiles overlapping tiles.
func (nd *NanoDet) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return nil, nil
	}
	dets, err := nd.detect(ctx, img, r, minScore)
	if err != nil {
		return nil, err
	}
	if nd.Tiles > 1 && max(r.Dx(), r.Dy()) > nd.size {
		if dets, err = tilePass(ctx, img, r, nd.Tiles, nd.TileOverlap, minScore, dets, nd.detect); err != nil {
			return nil, err
		}
	}
	// NMS by veil class also drops a car that is scored as a truck too.
	return NMS(dets, nd.NMSIoU), nil
}

// tilePass appends to dets the detections of pass on tiles×tiles
// overlapping tiles of r that are small for their tile (under
// tileMaxFrac of its longer side: larger objects are the whole pass's
// job) and not cut by a tile edge inside r.
func tilePass(ctx context.Context, img *image.RGBA, r image.Rectangle, tiles int, overlap, minScore float32, dets []Detection,
	pass func(context.Context, *image.RGBA, image.Rectangle, float32) ([]Detection, error)) ([]Detection, error) {
	for _, t := range Grid(r, tiles, overlap) {
		td, err := pass(ctx, img, t, minScore)
		if err != nil {
			return nil, err
		}
		limit := tileMaxFrac * float32(max(t.Dx(), t.Dy()))
		for _, d := range td {
			if max(d.Box.W(), d.Box.H()) <= limit && !CutByTile(d.Box, t, r) {
				dets = append(dets, d)
			}
		}
	}
	return dets, nil
}

// Grid cuts r into n×n tiles of equal size that overlap by the fraction
// overlap of a tile, the outer ones flush with r's edges.
func Grid(r image.Rectangle, n int, overlap float32) []image.Rectangle {
	if n <= 1 {
		return []image.Rectangle{r}
	}
	div := float32(n) - overlap*float32(n-1)
	tw, th := int(float32(r.Dx())/div+0.5), int(float32(r.Dy())/div+0.5)
	return GridOf(r, n, tw, th)
}

// GridOf cuts r into n×n tiles of tw×th pixels (at most r's size), spread
// evenly, the outer ones flush with r's edges.
func GridOf(r image.Rectangle, n, tw, th int) []image.Rectangle {
	tw, th = min(max(tw, 1), r.Dx()), min(max(th, 1), r.Dy())
	var ts []image.Rectangle
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x0 := r.Min.X + j*(r.Dx()-tw)/max(1, n-1)
			y0 := r.Min.Y + i*(r.Dy()-th)/max(1, n-1)
			ts = append(ts, image.Rect(x0, y0, x0+tw, y0+th))
		}
	}
	return ts
}

// edgeTol is how close (pixels) a box may come to a tile's inner edge
// before it counts as cut by it.
const edgeTol = 2

// CutByTile reports whether b reaches (within 2 pixels) an edge of the
// tile t that lies inside the region r: an object there may be cut by the
// tile, its box only the part inside.
func CutByTile(b Box, t, r image.Rectangle) bool {
	return t.Min.X > r.Min.X && b.X1 <= float32(t.Min.X+edgeTol) ||
		t.Min.Y > r.Min.Y && b.Y1 <= float32(t.Min.Y+edgeTol) ||
		t.Max.X < r.Max.X && b.X2 >= float32(t.Max.X-edgeTol) ||
		t.Max.Y < r.Max.Y && b.Y2 >= float32(t.Max.Y-edgeTol)
}

// detect runs one letterboxed pass on r.
func (nd *NanoDet) detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	s := nd.size
	scale := min(float32(s)/float32(r.Dx()), float32(s)/float32(r.Dy()))
	w := max(1, min(s, int(math.Round(float64(float32(r.Dx())*scale)))))
	h := max(1, min(s, int(math.Round(float64(float32(r.Dy())*scale)))))
	data := make([]float32, 3*s*s)
	Fill(data, s, s, 0, nanodetNorm)
	TensorInto(data, s, s, img, r, w, h, nanodetNorm)
	out, err := nd.model.Run(ctx, map[string]*onnx.Tensor{nd.input: onnx.NewTensor([]int{1, 3, s, s}, data)})
	if err != nil {
		return nil, fmt.Errorf("detect: NanoDet: %w", err)
	}
	sx, sy := float32(r.Dx())/float32(w), float32(r.Dy())/float32(h)
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	var dets []Detection
	var dist [4]float32
	for _, lv := range nd.levels {
		cls, box := out[lv.cls].Float32s(), out[lv.boxes].Float32s()
		cols := s / lv.stride
		n := cols * cols
		st := float32(lv.stride)
		for k := 0; k < n; k++ {
			best, bi := float32(-1), -1
			for c, v := range cls[k*80 : k*80+80] {
				if COCOClass(c) != 0 && v > best {
					best, bi = v, c
				}
			}
			class := COCOClass(bi)
			if class == Person {
				best = Calibrate(clamp01(best), nd.PersonOdds)
			} else {
				best = Calibrate(clamp01(best), nd.VehicleOdds)
			}
			if best < minScore {
				continue
			}
			for side := 0; side < 4; side++ {
				dist[side] = expectBin(box[k*32+side*nanoBins:k*32+(side+1)*nanoBins]) * st
			}
			cx := float32(k%cols)*st + (st-1)/2
			cy := float32(k/cols)*st + (st-1)/2
			b := Box{cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]}
			b = Box{ox + b.X1*sx, oy + b.Y1*sy, ox + b.X2*sx, oy + b.Y2*sy}.Clip(r)
			dets = append(dets, Detection{Class: class, Label: COCO80[bi], Score: best, Box: b})
		}
	}
	return dets, nil
}

// expectBin returns the expected bin index of a softmax over logits.
func expectBin(logits []float32) float32 {
	m := logits[0]
	for _, v := range logits[1:] {
		m = max(m, v)
	}
	var sum, ev float32
	for i, v := range logits {
		e := expf(v - m)
		sum += e
		ev += e * float32(i)
	}
	return ev / sum
}

// WithoutTiles returns nd.WithTiles(0): the NanoDet without its tile pass.
func (nd *NanoDet) WithoutTiles() Detector { return nd.WithTiles(0) }
