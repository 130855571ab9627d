// Command eval measures veil's detectors on labelled images: recall,
// precision and false detections per image at IoU >= 0.5, and the time of
// one Detect call per image; on COCO also the person and vehicle masks
// (mask_iou, leak_fraction).
//
//	go run ./bench/cmd/eval -data /work/shared/data [-json] [-datasets wider,openalpr,coco]
//	    [-threads N] [-format whole] [-bbox] [-face-model PATH] [-face-maxside N]
//	    [-face-minside N] [-face-union PATH] [-wider-aspect] [-wider-true-size]
//	    [-face-thr T] [-plate-thr T] [-person-thr T] [-vehicle-thr T]
//
// -data holds dataset folders found by name (each optional):
//
//   - wider*: WIDER-style labels*.txt (else label*.txt), a header
//     "# <relpath> [<W> <H> ...]" per image then "x1 y1 x2 y2" per face;
//     images under images/<relpath>; boxes are rescaled when the image is
//     not W×H. Rows: face, subsets all and >=16px. A header may go on with
//     "orig <W0> <H0>", the size the image was resized from: -wider-aspect
//     then runs the image at that aspect (see unsquash).
//   - openalpr*: region folders of images with same-name .txt labels
//     "<file>\t<x>\t<y>\t<w>\t<h>\t<text>". Row: license-plate, all.
//   - coco*: COCO instances *.json, images under images/. Rows: person;
//     vehicle (bicycle, car, motorcycle, bus, truck); car, the subset of
//     vehicle with the car label.
//
// Matching is greedy by decreasing score, each ground truth matched once
// (see match). ms/img is the wall time of Engine.Masks (detection and the
// anonymization masks; on COCO with segmentation), not decoding, after one
// untimed warm-up call per dataset.
//
// Coverage (every dataset): cov80 (cov90, JSON coverage80 and coverage90)
// is the share of the labelled objects counted in a row whose box (for an
// object with a polygon outline, a COCO person or vehicle: whose outline)
// the anonymization mask (Result.BinaryMask(100): face ellipses, plate
// quadrilaterals, person and vehicle segmentation masks) covers at least
// 80% (90%) of, whether a detection matched them or not: how much of each
// face, plate or person a user would find hidden. -wider-true-size runs
// and scores WIDER at each photo's original size (its "orig W H").
//
// Masks (COCO): each non-crowd object's polygon segmentation is rasterized
// (pixel centres, even-odd, polygons OR-ed; see rasterize). mask_iou is
// the mean, over the mask_n objects matched to a detection, of the IoU of
// the detection's Object.Mask and the polygon mask. leak_fraction is the
// fraction of the polygon pixels of all the row's non-crowd objects,
// matched or not, that the image's anonymization mask
// (Result.BinaryMask(100), the union of every object's mask) leaves
// uncovered: the pixels of persons (vehicles) left visible. leak_missed
// and leak_matched split it between objects no detection matched and
// matched ones; leak_in_matched is the matched objects' uncovered pixels
// over their own. -bbox sets Params.BBox: the masks are then the boxes,
// for comparing the box-only leak. Other datasets have these fields null.
//
// Inspection (inspect.go): -worst-dir DIR writes, for each dataset and
// class, crops of the anonymized output (Anonymize, same params) around
// the -worst N labelled objects the mask covers least (ties: the larger
// first; WIDER: faces >= 16 px), their outline drawn (green: a detection
// matched it, red: none did), and their index worst.tsv. -reid searches
// the anonymized output, through JPEG, again with Detect and, for faces,
// one plain pass of the face model at the image's own size, and counts
// per row what they find (JSON reid_*): on a labelled object, on what was
// anonymized, elsewhere; -reid-dir DIR writes a crop of each and their
// index reid.tsv.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/onnx"
	xdraw "golang.org/x/image/draw"
)

func main() {
	var (
		data       = flag.String("data", "", "folder holding wider*, openalpr* and coco* datasets (required)")
		asJSON     = flag.Bool("json", false, "print a JSON array instead of a table")
		datasets   = flag.String("datasets", "wider,openalpr,coco", "dataset kinds to run (comma list)")
		threads    = flag.Int("threads", 0, "threads per model run (0: GOMAXPROCS)")
		format     = flag.String("format", "whole", "Params.Format (tiling)")
		faceModel  = flag.String("face-model", "", "YuNet ONNX file for faces (default: the engine's embedded model)")
		faceMax    = flag.Int("face-maxside", -1, "MaxSide of a dynamic -face-model (-1: the detector's default; 0: native size)")
		faceMin    = flag.Int("face-minside", -1, "MinSide of a dynamic -face-model (-1: the detector's default)")
		faceUnion  = flag.String("face-union", "", "UltraFace ONNX file whose faces are merged with the face model's (detect.Union)")
		unionIoU   = flag.Float64("union-iou", 0.3, "detect.Union IoU for -face-union")
		unionIn    = flag.Float64("union-inside", 0.6, "detect.Union Inside for -face-union")
		turnsMin   = flag.Float64("face-turns-min", 0, "least score of a face of a -face-turns pass (detect.Turned.MinScore)")
		also       = flag.String("also", "", "classes anonymized besides each dataset's own (comma list, e.g. person): their masks count in cov80/cov90, their detections are not scored")
		faceTurns  = flag.String("face-turns", "", "quarter turns clockwise (comma list of 1, 2, 3) of extra face passes on the turned image (detect.Turned)")
		faceThr    = flag.Float64("face-thr", 0, "face threshold (0: engine default)")
		plateThr   = flag.Float64("plate-thr", 0, "licence-plate threshold (0: engine default)")
		personThr  = flag.Float64("person-thr", 0, "person threshold (0: engine default)")
		vehicleThr = flag.Float64("vehicle-thr", 0, "vehicle threshold (0: engine default)")
		bbox       = flag.Bool("bbox", false, "Params.BBox: anonymize (and score the masks of) the boxes instead of the shapes")
		aspect     = flag.Bool("wider-aspect", false, "run WIDER images at the aspect of their original size (the labels' \"orig W H\"), detections mapped back")
		trueSize   = flag.Bool("wider-true-size", false, "run WIDER images at their original size (the labels' \"orig W H\") and score them there: faces >= 16 px at that size")
	)
	flag.Parse()
	if *data == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: eval -data DIR [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	want := make(map[string]bool)
	for _, k := range list(*datasets) {
		if !slices.ContainsFunc(kinds, func(d kind) bool { return d.prefix == k }) {
			fail(fmt.Errorf("-datasets: unknown kind %q (want wider, openalpr, coco)", k))
		}
		want[k] = true
	}
	if *threads == 0 {
		*threads = runtime.GOMAXPROCS(0)
	}
	p := veil.Params{Format: *format, FaceThreshold: float32(*faceThr), LicensePlateThreshold: float32(*plateThr),
		PersonThreshold: float32(*personThr), VehicleThreshold: float32(*vehicleThr), BBox: *bbox}
	face := "embedded yunet_n_dynamic"
	opts := []veil.Option{veil.WithThreads(*threads)}
	var extra []veil.Class
	for _, f := range list(*also) {
		c, err := veil.ParseClass(f)
		if err != nil {
			fail(fmt.Errorf("-also: %w", err))
		}
		extra = append(extra, c)
	}
	turns, err := parseTurns(*faceTurns)
	if err != nil {
		fail(err)
	}
	if *faceModel != "" || *faceUnion != "" || *faceMin >= 0 || *faceMax >= 0 || len(turns) > 0 {
		path := *faceModel
		if path == "" {
			path = "models/face/yunet_n_dynamic.onnx"
		}
		y, err := loadFace(path, *threads, *faceMax, *faceMin)
		if err != nil {
			fail(err)
		}
		face = path
		if *faceMax >= 0 || *faceMin >= 0 {
			face += fmt.Sprintf(" (MaxSide %d, MinSide %d)", y.MaxSide, y.MinSide)
		}
		var d detect.Detector = y
		if *faceUnion != "" {
			b, err := os.ReadFile(*faceUnion)
			if err != nil {
				fail(err)
			}
			uf, err := detect.NewUltraFace(b, onnx.Options{Threads: *threads})
			if err != nil {
				fail(err)
			}
			d = &detect.Union{Detectors: []detect.Detector{d, uf}, IoU: float32(*unionIoU), Inside: float32(*unionIn)}
			face += " + " + *faceUnion
		}
		if len(turns) > 0 {
			d = &detect.Turned{Detector: d, Turns: turns, NMSIoU: y.NMSIoU, MinScore: float32(*turnsMin)}
			face += fmt.Sprintf(", turned %v (min score %.2f)", turns, *turnsMin)
		}
		opts = append(opts, veil.WithDetector(veil.Face, d))
	}
	objOpts, object, err := objectOptions(*threads)
	if err != nil {
		fail(err)
	}
	opts = append(opts, objOpts...)
	e, err := veil.New(opts...)
	if err != nil {
		fail(err)
	}
	sets, err := discover(*data, want)
	if err != nil {
		fail(err)
	}
	ins, err := newInspector(e, *faceModel, *threads)
	if err != nil {
		fail(err)
	}
	var rows []row
	var notes []string
	for _, ds := range sets {
		r, err := evaluate(context.Background(), e, ds, p, extra, *aspect, *trueSize, ins)
		if err != nil {
			fail(fmt.Errorf("%s: %w", ds.name, err))
		}
		rows = append(rows, r...)
		notes = append(notes, fmt.Sprintf("%s: %d images", ds.name, len(ds.samples)))
		if ds.note != "" && !slices.Contains(notes, ds.note) {
			notes = append(notes, ds.note)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			fail(err)
		}
		return
	}
	th := func(t, def float32) float32 {
		if t == 0 {
			return def
		}
		return t
	}
	notes = append([]string{fmt.Sprintf("settings: face model %s; object model %s; thresholds face %.2f, plate %.2f, person %.2f, vehicle %.2f; threads %d; format %s; bbox %t; wider-aspect %t; wider-true-size %t; also anonymized %v",
		face, object, th(p.FaceThreshold, veil.DefaultFaceThreshold), th(p.LicensePlateThreshold, veil.DefaultLicensePlateThreshold),
		th(p.PersonThreshold, veil.DefaultPersonThreshold), th(p.VehicleThreshold, veil.DefaultVehicleThreshold), *threads, *format, *bbox, *aspect, *trueSize, extra),
		"matching: IoU >= 0.5, greedy by decreasing score, each ground truth matched at most once; unmatched detections are false positives",
		"cov80, cov90: share of the labelled objects (not ignored) whose box (COCO: polygon outline) is at least 80% (90%) covered by the anonymization mask (Result.BinaryMask: face ellipses, plate quadrilaterals, person and vehicle segmentation masks), matched or not"},
		notes...)
	printTable(os.Stdout, rows, notes)
}

// list returns the items of a comma list, spaces trimmed, empty ones
// left out.
func list(s string) []string {
	var items []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			items = append(items, f)
		}
	}
	return items
}

// parseTurns parses -face-turns.
func parseTurns(s string) ([]int, error) {
	var turns []int
	for _, f := range list(s) {
		q, err := strconv.Atoi(f)
		if err != nil || q < 1 || q > 3 {
			return nil, fmt.Errorf("-face-turns: %q is not 1, 2 or 3", f)
		}
		turns = append(turns, q)
	}
	return turns, nil
}

// unsquash returns img resized to the aspect of a w×h original: the
// squashed axis enlarged, the other kept. Scaling both boxes of a pair by
// the same factors per axis leaves their IoU unchanged, so detections on
// it mapped back to img's pixels (mapBack) are scored as the unsquashed
// image's, against the same ground truth (and the same faces >= 16 px).
func unsquash(img image.Image, w, h int) *image.RGBA {
	b := img.Bounds()
	a := float64(w) * float64(b.Dy()) / (float64(h) * float64(b.Dx())) // wanted aspect over img's
	nw, nh := b.Dx(), b.Dy()
	if a > 1 {
		nw = int(math.Round(float64(nw) * a))
	} else {
		nh = int(math.Round(float64(nh) / a))
	}
	big := image.NewRGBA(image.Rect(0, 0, nw, nh))
	xdraw.BiLinear.Scale(big, big.Rect, img, b, xdraw.Src, nil)
	return big
}

// mapBack scales the boxes and points of dets from the pixels of an image
// with bounds from to those of one with bounds to.
func mapBack(dets []veil.Detection, from, to image.Rectangle) {
	sx, sy := float32(to.Dx())/float32(from.Dx()), float32(to.Dy())/float32(from.Dy())
	pt := func(x, y float32) (float32, float32) {
		return (x-float32(from.Min.X))*sx + float32(to.Min.X), (y-float32(from.Min.Y))*sy + float32(to.Min.Y)
	}
	for i := range dets {
		d := &dets[i]
		d.Box.X1, d.Box.Y1 = pt(d.Box.X1, d.Box.Y1)
		d.Box.X2, d.Box.Y2 = pt(d.Box.X2, d.Box.Y2)
		for k := range d.Points {
			d.Points[k].X, d.Points[k].Y = pt(d.Points[k].X, d.Points[k].Y)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "eval:", err)
	os.Exit(1)
}

// loadFace builds a YuNet face detector from an ONNX file.
func loadFace(path string, threads, maxSide, minSide int) (*detect.YuNet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	y, err := detect.NewYuNet(b, onnx.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	if maxSide >= 0 {
		y.MaxSide = maxSide
	}
	if minSide >= 0 {
		y.MinSide = minSide
	}
	return y, nil
}

// A row is one line of the report. Recall (precision) is null when there
// is no ground truth (no counted detection). The mask fields are null
// where masks are not scored (datasets other than COCO), and mask_iou and
// the leak fractions also when there is nothing to average (see
// maskStats).
type row struct {
	Dataset    string   `json:"dataset"`
	Class      string   `json:"class"`
	Subset     string   `json:"subset"`
	NGT        int      `json:"n_gt"`
	Recall     *float64 `json:"recall"`
	Precision  *float64 `json:"precision"`
	FPPerImage float64  `json:"fp_per_image"`
	MsPerImage float64  `json:"ms_per_image"`
	// HeadsPerImage is, on face rows, how many head regions (faces with
	// Label veil.HeadLabel: the head backstop's, not scored) an image
	// got on average.
	HeadsPerImage *float64 `json:"heads_per_image,omitempty"`
	// MaskIoU is the mean IoU of the masks of the matched objects, over
	// MaskN of them.
	MaskIoU *float64 `json:"mask_iou"`
	MaskN   *int     `json:"mask_n"`
	// LeakFraction is the fraction of the ground-truth objects' polygon
	// pixels left out of the anonymization mask; LeakMissed and
	// LeakMatched split it (same denominator) between the objects no
	// detection matched and the matched ones; LeakInMatched is the
	// fraction of the matched objects' own pixels left out.
	LeakFraction  *float64 `json:"leak_fraction"`
	LeakMissed    *float64 `json:"leak_missed"`
	LeakMatched   *float64 `json:"leak_matched"`
	LeakInMatched *float64 `json:"leak_in_matched"`
	// Coverage80 (Coverage90) is the share of the labelled objects whose
	// box the anonymization mask covers at least 80% (90%) of.
	Coverage80 *float64 `json:"coverage80"`
	Coverage90 *float64 `json:"coverage90"`
	reidFields
}

// evaluate runs Masks (detection and the anonymization masks) on every
// image of ds and scores each subset; the extra classes are anonymized
// too, unscored. ins, when not nil, looks at the anonymized output.
func evaluate(ctx context.Context, e *veil.Engine, ds dataset, p veil.Params, extra []veil.Class, aspect, trueSize bool, ins *inspector) ([]row, error) {
	p.Classes = slices.Clone(ds.classes)
	for _, c := range extra {
		if !slices.Contains(p.Classes, c) {
			p.Classes = append(p.Classes, c)
		}
	}
	look := ins.dataset(ds, p)
	acc := make([]counts, len(ds.subsets))
	macc := make([]maskStats, len(ds.subsets))
	cov := make([]coverCounts, len(ds.subsets))
	var spent time.Duration
	heads := 0
	for i, s := range ds.samples {
		img, err := decode(s.path)
		if err != nil {
			return nil, err
		}
		// src is the image run; frame the pixels detections and labels
		// are scored in.
		src, frame := img, img.Bounds()
		switch {
		case trueSize && s.ow > 0 && !ds.masks:
			src = resize(img, s.ow, s.oh)
			frame = src.Bounds()
		case aspect && s.ow > 0 && !ds.masks:
			src = unsquash(img, s.ow, s.oh)
		}
		run := func() ([]veil.Detection, *veil.Result, error) {
			res, err := e.Masks(ctx, src, p)
			if err != nil {
				return nil, nil, err
			}
			dets := make([]veil.Detection, len(res.Objects))
			for k, o := range res.Objects {
				dets[k] = o.Detection
			}
			if src.Bounds() != frame {
				mapBack(dets, src.Bounds(), frame)
			}
			return dets, res, nil
		}
		if i == 0 { // warm-up: first runs allocate the models' buffers
			if _, _, err := run(); err != nil {
				return nil, fmt.Errorf("%s: %w", s.path, err)
			}
		}
		t := time.Now()
		dets, res, err := run()
		spent += time.Since(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		for _, d := range dets {
			if d.Label == veil.HeadLabel {
				heads++
			}
		}
		anon, err := res.BinaryMask(100) // in src's pixels
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		objs := s.scaled(frame)
		var ms *imageMasks
		if ds.masks {
			ms = newImageMasks(res, objs, anon)
		}
		for k, sub := range ds.subsets {
			db, gb := sub.dets(dets), sub.truth(objs)
			c, by, _ := assign(db, gb)
			acc[k].add(c)
			if ms != nil {
				macc[k].add(scoreMasks(gb, by, db, ms.dets, ms.gts, ms.anon))
			}
			var outlines []*mask.Mask
			if ms != nil {
				outlines = ms.gts
			}
			cov[k].add(toFrame(gb, frame, src.Bounds()), outlines, anon)
		}
		sh := shot{path: s.path, src: src, frame: frame, objs: objs, dets: dets, anon: anon}
		if ms != nil {
			sh.outlines = ms.gts
		}
		if err := look.image(ctx, sh); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
	}
	if err := look.done(); err != nil {
		return nil, err
	}
	n := float64(len(ds.samples))
	var rows []row
	for k, sub := range ds.subsets {
		c := acc[k]
		r := row{Dataset: ds.name, Class: sub.class.String(), Subset: sub.name, NGT: c.ngt,
			Recall: ratio(c.tp, c.ngt), Precision: ratio(c.tp, c.tp+c.fp),
			FPPerImage: round(float64(c.fp) / n), MsPerImage: round(spent.Seconds() * 1000 / n),
			Coverage80: ratio(cov[k].c80, cov[k].n), Coverage90: ratio(cov[k].c90, cov[k].n), reidFields: look.row(k)}
		if sub.class == veil.Face {
			v := round(float64(heads) / n)
			r.HeadsPerImage = &v
		}
		if ds.masks {
			m := macc[k]
			r.MaskN = &m.n
			if m.n > 0 {
				v := round(m.iouSum / float64(m.n))
				r.MaskIoU = &v
			}
			r.LeakFraction = ratio(m.leftMissed+m.leftHit, m.area)
			r.LeakMissed = ratio(m.leftMissed, m.area)
			r.LeakMatched = ratio(m.leftHit, m.area)
			r.LeakInMatched = ratio(m.leftHit, m.areaHit)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// imageMasks are one image's masks, all in pixels with (0, 0) the image's
// top-left corner.
type imageMasks struct {
	dets []*mask.Mask // each detection's Object.Mask, by index in Result.Objects
	gts  []*mask.Mask // each object's polygon mask (nil without polygons)
	anon *image.Gray  // Result.BinaryMask(100)
}

func newImageMasks(res *veil.Result, objs []object, anon *image.Gray) *imageMasks {
	b := res.Bounds
	ms := &imageMasks{dets: make([]*mask.Mask, len(res.Objects)), gts: make([]*mask.Mask, len(objs)), anon: anon}
	for k, o := range res.Objects {
		if o.Mask != nil {
			m := *o.Mask
			m.Rect = m.Rect.Sub(b.Min)
			ms.dets[k] = &m
		}
	}
	frame := image.Rect(0, 0, b.Dx(), b.Dy())
	for k, o := range objs {
		if len(o.polys) > 0 {
			ms.gts[k] = rasterize(o.polys, frame)
		}
	}
	return ms
}

// toFrame returns gts with their boxes scaled from the pixels of an image
// with bounds from to those of one with bounds to.
func toFrame(gts []gtBox, from, to image.Rectangle) []gtBox {
	if from == to {
		return gts
	}
	sx, sy := float32(to.Dx())/float32(from.Dx()), float32(to.Dy())/float32(from.Dy())
	out := make([]gtBox, len(gts))
	for i, g := range gts {
		g.box = detect.Box{X1: g.box.X1 * sx, Y1: g.box.Y1 * sy, X2: g.box.X2 * sx, Y2: g.box.Y2 * sy}
		out[i] = g
	}
	return out
}

// resize returns img scaled to w×h.
func resize(img image.Image, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(out, out.Rect, img, img.Bounds(), xdraw.Src, nil)
	return out
}

func decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// scaled returns s's objects in the pixels of an image with bounds b.
func (s sample) scaled(b image.Rectangle) []object {
	if s.w <= 0 || s.h <= 0 || (s.w == b.Dx() && s.h == b.Dy()) {
		return s.objects
	}
	sx, sy := float32(b.Dx())/float32(s.w), float32(b.Dy())/float32(s.h)
	out := make([]object, len(s.objects))
	for i, o := range s.objects {
		o.box = detect.Box{X1: o.box.X1 * sx, Y1: o.box.Y1 * sy, X2: o.box.X2 * sx, Y2: o.box.Y2 * sy}
		if o.polys != nil {
			polys := make([][]float32, len(o.polys))
			for k, p := range o.polys {
				q := make([]float32, len(p))
				for j := 0; j+1 < len(p); j += 2 {
					q[j], q[j+1] = p[j]*sx, p[j+1]*sy
				}
				polys[k] = q
			}
			o.polys = polys
		}
		out[i] = o
	}
	return out
}

func shortSide(b detect.Box) float32 { return min(b.W(), b.H()) }

// truth returns the ground truth of sub among objs.
func (sub subset) truth(objs []object) []gtBox {
	var out []gtBox
	for i, o := range objs {
		if o.class == sub.class && (sub.label == "" || o.label == sub.label) {
			out = append(out, gtBox{box: o.box, crowd: o.crowd, ignore: shortSide(o.box) < sub.minSide, src: i})
		}
	}
	return out
}

// dets returns the detections of sub among dets.
func (sub subset) dets(dets []veil.Detection) []detBox {
	var out []detBox
	for i, d := range dets {
		// The head backstop's faces are the top of a person's box, not
		// face detections: they count for coverage only.
		if d.Class == sub.class && (sub.label == "" || d.Label == sub.label) && d.Label != veil.HeadLabel {
			out = append(out, detBox{box: d.Box, score: d.Score, ignore: shortSide(d.Box) < sub.minSide, src: i})
		}
	}
	return out
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := round(float64(a) / float64(b))
	return &v
}

func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// printTable writes rows as a markdown table, then the notes.
func printTable(w io.Writer, rows []row, notes []string) {
	opt := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *v)
	}
	fmt.Fprintln(w, "| dataset | class | subset | n_gt | recall | precision | fp/img | cov80 | cov90 | ms/img |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %.3f | %s | %s | %.1f |\n", r.Dataset, r.Class, r.Subset, r.NGT,
			opt(r.Recall), opt(r.Precision), r.FPPerImage, opt(r.Coverage80), opt(r.Coverage90), r.MsPerImage)
	}
	fmt.Fprintln(w)
	if slices.ContainsFunc(rows, func(r row) bool { return r.MaskN != nil }) {
		fmt.Fprintln(w, "| dataset | class | subset | mask_n | mask_iou | leak | leak: missed | leak: matched | leak in matched |")
		fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|")
		for _, r := range rows {
			if r.MaskN == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", r.Dataset, r.Class, r.Subset, *r.MaskN,
				opt(r.MaskIoU), opt(r.LeakFraction), opt(r.LeakMissed), opt(r.LeakMatched), opt(r.LeakInMatched))
		}
		fmt.Fprintln(w)
	}
	for _, r := range rows {
		if r.HeadsPerImage != nil && r.Subset == "all" {
			notes = append(notes, fmt.Sprintf("%s: %.2f head regions per image (the head backstop's faces: in cov80/cov90, not scored)", r.Dataset, *r.HeadsPerImage))
		}
	}
	if printReid(w, rows) {
		notes = append(notes, reidNote)
	}
	for _, n := range notes {
		fmt.Fprintln(w, "- "+n)
	}
}
