// Package segment turns person and vehicle detections into pixel masks
// with a semantic segmentation network (DeepLabV3-MobileNetV2 trained on
// PASCAL VOC): each detection's surroundings are cropped, segmented, and
// the class mask is cut to the detection's box. Detections whose crops
// overlap share one network run.
package segment

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/onnx"
)

// VOC class indices of the DeepLab output.
const (
	vocBicycle   = 2
	vocBus       = 6
	vocCar       = 7
	vocMotorbike = 14
	vocPerson    = 15
	vocTrain     = 19
	vocClasses   = 21
)

// classSet is a bit set of VOC classes.
type classSet uint32

const (
	personSet  classSet = 1 << vocPerson
	vehicleSet classSet = 1<<vocBicycle | 1<<vocBus | 1<<vocCar | 1<<vocMotorbike | 1<<vocTrain
)

// targets returns the VOC classes that make up an object of class c, or 0
// for a class the model cannot segment. VOC has no truck: trucks come out
// as car or bus, so every vehicle takes the whole vehicle set.
func targets(c detect.Class) classSet {
	switch c {
	case detect.Person:
		return personSet
	case detect.Vehicle:
		return vehicleSet
	}
	return 0
}

// The model's input normalisation: value = raw/127.5 − 1, RGB, NHWC.
var deeplabNorm = detect.Norm{NHWC: true, Mean: [3]float32{127.5, 127.5, 127.5}, Std: [3]float32{127.5, 127.5, 127.5}}

// DeepLab segments persons and vehicles with DeepLabV3-MobileNetV2
// (PASCAL VOC, 257×257 input). Safe for concurrent use; its exported
// fields are set by NewDeepLab and may be changed before the first
// Segment, not during one.
type DeepLab struct {
	model         *onnx.Model
	input, output string
	size          int // network input side (257)

	// Margin grows each detection's box by this fraction of its width
	// (left and right) and height (top and bottom) to make its crop, so
	// the network sees the object's outline against its surroundings.
	Margin float32
	// MinAspect is the least ratio of a crop's shorter side to its longer
	// side: a thin person's crop is widened (a flat car's heightened)
	// around its centre to get context, before it is moved into the
	// image as far as it fits and clamped to it.
	MinAspect float32
	// MinCover is the least fraction of a detection's box its mask must
	// cover to be believed; a smaller mask (the network missed the
	// object) is replaced by the whole box. Privacy first.
	MinCover float32
	// GroupArea and GroupScale bound the grouping of detections into one
	// network run: crops are merged into their bounding rectangle while
	// its area is at most GroupArea times the sum of the member crops'
	// areas and its longer side at most GroupScale times every member
	// crop's longer side (so no member loses more than that factor of
	// resolution). GroupArea 0 gives every detection its own run.
	GroupArea, GroupScale float32
	// Spill is how far a mask may reach beyond its detection's box, as a
	// fraction of the box's width (left and right) and height (top and
	// bottom), within the crop: a detector's box often cuts off a hand, a
	// foot or a car's bumper that the segmentation still sees. 0 keeps
	// masks inside their boxes. NewDeepLab sets 0.15 (as far as Margin
	// lets the network see): on the COCO evaluation set, with YOLOX-nano's
	// boxes, person pixels left visible went from 16.0% to 12.1% and
	// the persons at least 80% covered from 79.4% to 83.7%, at a mask IoU
	// of 0.595 instead of 0.614.
	Spill float32
	// Grow dilates each mask by this fraction of its box's width (left
	// and right) and height (up and down), within the box grown by Spill:
	// a segmentation's edge runs along the object's outline, where hair,
	// fingers and a bumper's edge are lost. 0 leaves masks as the network
	// draws them. NewDeepLab sets 0.03, chosen on the COCO evaluation set:
	// there, with YOLOX-nano's boxes, persons at least 80% covered went
	// from 82.8% to 89.0% and person pixels left visible from 12.6% to
	// 9.4% (vehicles: 69.8% to 76.7%, 9.4% to 5.3%), at a person mask IoU
	// of 0.569 instead of 0.598 (0.02: 89.0%, 10.1%, 0.586; 0.04: 89.5%,
	// 9.0%, 0.555).
	Grow float32
	// Threshold is the score, in logits, above which a pixel is in a
	// mask: the score is the best logit of the object's classes minus the
	// best logit of the others, so 0 is the network's argmax and a
	// negative threshold leans to covering (privacy first). NewDeepLab
	// sets −2.
	Threshold float32
	// Flip also runs each crop mirrored and averages the two score maps
	// (twice the runs). NewDeepLab sets it.
	//
	// The defaults were chosen on the COCO evaluation set
	// (go run ./bench/cmd/eval -datasets coco): with threshold 0, no flip
	// and groups of 1.5, person mask IoU was 0.559 and 15.3% of person
	// pixels were left visible; with −2, flip and 1.25, 0.602 and 9.7%.
	Flip bool
	// Workers is the number of crops segmented concurrently, each run
	// using the model's Options.Threads; 1 runs them one after another.
	// NewDeepLab sets it to GOMAXPROCS, at most 4: a run of this small
	// network gains little from more threads (on 2 cores, 10 persons
	// took 85 ms with Threads 1 and 75–90 ms with Threads 2 one crop at a
	// time, 50 ms with 2 workers of 1 thread), so crops in parallel use
	// the cores better. Each worker holds about 15 MB of buffers.
	Workers int

	runs    atomic.Int64
	workers sync.Pool // of *worker
}

// worker holds one goroutine's session and buffers.
type worker struct {
	sess   *onnx.Session
	in     []float32
	inputs map[string]*onnx.Tensor
	score  [2][]float32 // per class set (person, vehicle): target − other logit
	// flipped is the score map of the mirrored crop (Flip).
	flipped []float32
}

// NewDeepLab loads the DeepLabV3 VOC model (one [1,S,S,3] NHWC input,
// one [1,S,S,21] NHWC logit output).
func NewDeepLab(model []byte, o onnx.Options) (*DeepLab, error) {
	m, err := onnx.Load(model, o)
	if err != nil {
		return nil, fmt.Errorf("segment: DeepLab: %w", err)
	}
	ins, outs := m.InputNames(), m.OutputNames()
	if len(ins) != 1 || len(outs) != 1 {
		return nil, fmt.Errorf("segment: DeepLab: want one input and one output, have %v and %v", ins, outs)
	}
	shape, _ := m.InputShape(ins[0])
	if len(shape) != 4 || shape[1] <= 0 || shape[1] != shape[2] || shape[3] != 3 {
		return nil, fmt.Errorf("segment: DeepLab: input shape %v is not [1,S,S,3]", shape)
	}
	d := &DeepLab{
		model: m, input: ins[0], output: outs[0], size: shape[1],
		Margin: 0.15, MinAspect: 0.5, MinCover: 0.15,
		GroupArea: 1.25, GroupScale: 1.25, Threshold: -2, Flip: true, Spill: 0.15, Grow: 0.03,
		Workers: min(4, runtime.GOMAXPROCS(0)),
	}
	d.workers.New = func() any { return d.newWorker() }
	// Check the output's shape with one run on a blank input.
	w := d.workers.Get().(*worker)
	defer d.workers.Put(w)
	out, err := w.sess.Run(context.Background(), w.inputs)
	if err != nil {
		return nil, fmt.Errorf("segment: DeepLab: %w", err)
	}
	if sh := out[d.output].Shape(); len(sh) != 4 || sh[1] != d.size || sh[2] != d.size || sh[3] != vocClasses {
		return nil, fmt.Errorf("segment: DeepLab: output shape %v is not [1,%d,%d,%d]", sh, d.size, d.size, vocClasses)
	}
	return d, nil
}

func (d *DeepLab) newWorker() *worker {
	s := d.size
	w := &worker{sess: d.model.NewSession(), in: make([]float32, s*s*3)}
	w.inputs = map[string]*onnx.Tensor{d.input: onnx.NewTensor([]int{1, s, s, 3}, w.in)}
	return w
}

// Runs returns the number of crops Segment has run the network on so far
// (each crop is one run, two with Flip).
func (d *DeepLab) Runs() int64 { return d.runs.Load() }

// group is a crop segmented in one run and the detections it serves.
type group struct {
	rect    image.Rectangle
	sumArea int // sum of the member crops' areas
	minLong int // shortest of the member crops' longer sides
	members []int
}

// Crops returns the regions of img.Rect that Segment would run the network
// on for dets, one per group of detections, and for each detection the
// index of its crop (-1 for a detection that gets no mask).
func (d *DeepLab) Crops(bounds image.Rectangle, dets []detect.Detection) (crops []image.Rectangle, of []int) {
	groups := d.plan(bounds, dets)
	of = make([]int, len(dets))
	for i := range of {
		of[i] = -1
	}
	for k, g := range groups {
		crops = append(crops, g.rect)
		for _, i := range g.members {
			of[i] = k
		}
	}
	return crops, of
}

// crop returns a detection box's crop: grown by Margin, widened or
// heightened to MinAspect, moved into bounds as far as it fits (an object
// at the image's edge keeps its context inside) and clamped to bounds, as
// an integer rectangle.
func (d *DeepLab) crop(b detect.Box, bounds image.Rectangle) image.Rectangle {
	w, h := b.W(), b.H()
	cx, cy := (b.X1+b.X2)/2, (b.Y1+b.Y2)/2
	w, h = w*(1+2*d.Margin), h*(1+2*d.Margin)
	w, h = max(w, d.MinAspect*h), max(h, d.MinAspect*w)
	r := detect.Box{X1: cx - w/2, Y1: cy - h/2, X2: cx + w/2, Y2: cy + h/2}.Rect()
	r = r.Add(image.Pt(shift(r.Min.X, r.Max.X, bounds.Min.X, bounds.Max.X), shift(r.Min.Y, r.Max.Y, bounds.Min.Y, bounds.Max.Y)))
	return r.Intersect(bounds)
}

// shift returns how far to move the span [a, b) to bring it inside
// [lo, hi), as far as it fits; a span longer than [lo, hi) is not moved.
func shift(a, b, lo, hi int) int {
	switch {
	case b-a >= hi-lo:
		return 0
	case a < lo:
		return lo - a
	case b > hi:
		return hi - b
	}
	return 0
}

// plan groups the segmentable detections into crops.
func (d *DeepLab) plan(bounds image.Rectangle, dets []detect.Detection) []*group {
	var gs []*group
	for i, det := range dets {
		if targets(det.Class) == 0 || det.Box.Rect().Intersect(bounds).Empty() {
			continue
		}
		r := d.crop(det.Box, bounds)
		gs = append(gs, &group{rect: r, sumArea: area(r), minLong: max(r.Dx(), r.Dy()), members: []int{i}})
	}
	if d.GroupArea <= 0 {
		return gs
	}
	// Greedily merge the pair whose union wastes least (largest ratio of
	// member area to union area) while the union stays small enough.
	for len(gs) > 1 {
		bi, bj, best := -1, -1, 0.0
		for i := range gs {
			for j := i + 1; j < len(gs); j++ {
				a, b := gs[i], gs[j]
				u := a.rect.Union(b.rect)
				ua := float64(area(u))
				sum := float64(a.sumArea + b.sumArea)
				if ua > float64(d.GroupArea)*sum ||
					float32(max(u.Dx(), u.Dy())) > d.GroupScale*float32(min(a.minLong, b.minLong)) {
					continue
				}
				if q := sum / ua; q > best {
					bi, bj, best = i, j, q
				}
			}
		}
		if bi < 0 {
			break
		}
		a, b := gs[bi], gs[bj]
		a.rect = a.rect.Union(b.rect)
		a.sumArea += b.sumArea
		a.minLong = min(a.minLong, b.minLong)
		a.members = append(a.members, b.members...)
		gs = append(gs[:bj], gs[bj+1:]...)
	}
	return gs
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

// Segment returns one mask per detection, in img's pixel coordinates, for
// Person and Vehicle detections; nil for other classes and for boxes
// outside img. Each mask is the network's class mask (person; or any of
// bicycle, bus, car, motorbike, train for a vehicle) within the
// detection's box grown by Spill: its Rect is that grown box's integer
// rectangle ∩ img.Rect and its values are 0 or 255. A mask covering less than MinCover of its box
// is replaced by the whole box. Detections whose crops overlap are
// segmented in one run (see GroupArea), the runs spread over Workers
// goroutines. ctx cancels between network runs; a cancelled Segment
// returns no masks and ctx's error.
func (d *DeepLab) Segment(ctx context.Context, img *image.RGBA, dets []detect.Detection) ([]*mask.Mask, error) {
	masks := make([]*mask.Mask, len(dets))
	groups := d.plan(img.Rect, dets)
	if len(groups) == 0 {
		return masks, ctx.Err()
	}
	nw := min(max(1, d.Workers), len(groups))
	if nw == 1 {
		var err error
		par.Loop(len(groups), func() {
			for _, g := range groups {
				if err = d.segmentGroup(ctx, img, dets, g, masks); err != nil {
					return
				}
			}
		})
		if err != nil {
			return nil, err
		}
		d.finish(masks, dets)
		return masks, nil
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, nw)
	)
	par.Loop(len(groups), func() {
		for k := range nw {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(groups) {
						return
					}
					// Each group writes only its own members' masks.
					if err := d.segmentGroup(ctx, img, dets, groups[i], masks); err != nil {
						errs[k] = err
						next.Store(int64(len(groups)))
						return
					}
				}
			})
		}
		wg.Wait()
	})
	if err := errors.Join(errs...); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	d.finish(masks, dets)
	return masks, nil
}

// finish splits the pixels the masks of dets share (split) and grows each
// mask by Grow.
func (d *DeepLab) finish(masks []*mask.Mask, dets []detect.Detection) {
	split(masks, dets)
	if d.Grow <= 0 {
		return
	}
	for i, m := range masks {
		if m != nil {
			b := dets[i].Box
			m.Dilate(int(math.Round(float64(d.Grow*b.W()))), int(math.Round(float64(d.Grow*b.H()))))
		}
	}
}

// flipNHWC mirrors an s×s image of c channels left to right in place.
func flipNHWC(a []float32, s, c int) {
	for y := 0; y < s; y++ {
		row := a[y*s*c : (y+1)*s*c]
		for i, j := 0, s-1; i < j; i, j = i+1, j-1 {
			for k := 0; k < c; k++ {
				row[i*c+k], row[j*c+k] = row[j*c+k], row[i*c+k]
			}
		}
	}
}

// split gives each pixel that the masks of two detections of one class
// both cover to the detection whose box it lies more centrally in, so
// that overlapping people do not each take the other's pixels. The union
// of the masks stays as it was.
func split(masks []*mask.Mask, dets []detect.Detection) {
	gauge := func(b detect.Box, x, y int) float32 {
		hw, hh := max(b.W()/2, 0.5), max(b.H()/2, 0.5)
		dx := (float32(x) + 0.5 - (b.X1+b.X2)/2) / hw
		dy := (float32(y) + 0.5 - (b.Y1+b.Y2)/2) / hh
		return dx*dx + dy*dy
	}
	for i, mi := range masks {
		if mi == nil {
			continue
		}
		for j := i + 1; j < len(masks); j++ {
			mj := masks[j]
			if mj == nil || targets(dets[i].Class) != targets(dets[j].Class) {
				continue
			}
			r := mi.Rect.Intersect(mj.Rect)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					pi := &mi.Pix[(y-mi.Rect.Min.Y)*mi.Rect.Dx()+x-mi.Rect.Min.X]
					pj := &mj.Pix[(y-mj.Rect.Min.Y)*mj.Rect.Dx()+x-mj.Rect.Min.X]
					if *pi == 0 || *pj == 0 {
						continue
					}
					if gauge(dets[i].Box, x, y) <= gauge(dets[j].Box, x, y) {
						*pj = 0
					} else {
						*pi = 0
					}
				}
			}
		}
	}
}

// segmentGroup runs the network on g's crop and writes its members' masks.
func (d *DeepLab) segmentGroup(ctx context.Context, img *image.RGBA, dets []detect.Detection, g *group, masks []*mask.Mask) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := d.workers.Get().(*worker)
	defer d.workers.Put(w)
	s := d.size
	detect.Tensor(w.in, img, g.rect, s, s, deeplabNorm)
	d.runs.Add(1)
	out, err := w.sess.Run(ctx, w.inputs)
	if err != nil {
		return fmt.Errorf("segment: DeepLab: %w", err)
	}
	logits := out[d.output].Float32s()
	var have classSet
	for _, i := range g.members {
		have |= targets(dets[i].Class)
	}
	for k, set := range [2]classSet{personSet, vehicleSet} {
		if have&set != 0 {
			if w.score[k] == nil {
				w.score[k] = make([]float32, s*s)
			}
			scoreMap(w.score[k], logits, set)
		}
	}
	if d.Flip {
		flipNHWC(w.in, s, 3)
		out, err := w.sess.Run(ctx, w.inputs)
		if err != nil {
			return fmt.Errorf("segment: DeepLab: %w", err)
		}
		logits := out[d.output].Float32s()
		if w.flipped == nil {
			w.flipped = make([]float32, s*s)
		}
		tmp := w.flipped
		for k, set := range [2]classSet{personSet, vehicleSet} {
			if have&set != 0 {
				scoreMap(tmp, logits, set)
				flipNHWC(tmp, s, 1)
				for i := range tmp {
					w.score[k][i] = (w.score[k][i] + tmp[i]) / 2
				}
			}
		}
	}
	for _, i := range g.members {
		k := 0
		if targets(dets[i].Class) == vehicleSet {
			k = 1
		}
		masks[i] = d.boxMask(w.score[k], g.rect, dets[i].Box.Rect().Intersect(img.Rect), d.spill(dets[i].Box).Intersect(img.Rect))
	}
	return nil
}

// scoreMap writes, per pixel of an NHWC logit map, the largest logit of
// the classes in set minus the largest logit of the others: positive
// where the argmax class is in set.
func scoreMap(dst, logits []float32, set classSet) {
	const inf = float32(3.4e38)
	for p := range dst {
		l := logits[p*vocClasses : p*vocClasses+vocClasses : p*vocClasses+vocClasses]
		in, out := -inf, -inf
		for c, v := range l {
			if set&(1<<c) != 0 {
				if v > in {
					in = v
				}
			} else if v > out {
				out = v
			}
		}
		dst[p] = in - out
	}
}

// spill returns the rectangle a mask of a detection with box b may cover:
// b grown by Spill.
func (d *DeepLab) spill(b detect.Box) image.Rectangle {
	dx, dy := d.Spill*b.W(), d.Spill*b.H()
	return detect.Box{X1: b.X1 - dx, Y1: b.Y1 - dy, X2: b.X2 + dx, Y2: b.Y2 + dy}.Rect()
}

// boxMask samples the score map of the crop c bilinearly at each pixel of
// the mask rectangle mr (holding the box rectangle br) that lies in c,
// and thresholds it; where the mask covers less than MinCover of br, the
// whole of br is added to it.
func (d *DeepLab) boxMask(score []float32, c, br, mr image.Rectangle) *mask.Mask {
	mr = mr.Union(br)
	m := mask.New(mr)
	bw, bh := br.Dx(), br.Dy()
	sr := mr.Intersect(c)
	if bw <= 0 || bh <= 0 || sr.Empty() {
		return m
	}
	mw := mr.Dx()
	s := d.size
	xs := sampleTaps(sr.Min.X-c.Min.X, sr.Dx(), c.Dx(), s)
	ys := sampleTaps(sr.Min.Y-c.Min.Y, sr.Dy(), c.Dy(), s)
	n := 0
	for k, ty := range ys {
		y := sr.Min.Y + k
		r0 := score[ty.i*s : ty.i*s+s]
		r1 := score[ty.j*s : ty.j*s+s]
		row := m.Pix[(y-mr.Min.Y)*mw+sr.Min.X-mr.Min.X:][:sr.Dx()]
		inBox := y >= br.Min.Y && y < br.Max.Y
		for i, tx := range xs {
			top := r0[tx.i] + tx.f*(r0[tx.j]-r0[tx.i])
			bot := r1[tx.i] + tx.f*(r1[tx.j]-r1[tx.i])
			if top+ty.f*(bot-top) > d.Threshold {
				row[i] = 255
				if x := sr.Min.X + i; inBox && x >= br.Min.X && x < br.Max.X {
					n++
				}
			}
		}
	}
	if float32(n) < d.MinCover*float32(bw*bh) {
		for y := br.Min.Y; y < br.Max.Y; y++ {
			row := m.Pix[(y-mr.Min.Y)*mw+br.Min.X-mr.Min.X:][:bw]
			for x := range row {
				row[x] = 255
			}
		}
	}
	return m
}

// tap is a bilinear sample between grid cells i and j (j = i or i+1) at
// fraction f from i.
type tap struct {
	i, j int
	f    float32
}

// sampleTaps returns, for n crop pixels from offset off of a crop of size
// in stretched to s grid cells, each pixel centre's position in the grid
// (pixel centres map to pixel centres, as the stretch does), clamped to
// the grid's edge cells.
func sampleTaps(off, n, in, s int) []tap {
	ts := make([]tap, n)
	scale := float32(s) / float32(in)
	for k := range ts {
		u := (float32(off+k)+0.5)*scale - 0.5
		switch {
		case u <= 0:
			ts[k] = tap{0, 0, 0}
		case u >= float32(s-1):
			ts[k] = tap{s - 1, s - 1, 0}
		default:
			i := int(u)
			ts[k] = tap{i, i + 1, u - float32(i)}
		}
	}
	return ts
}
