// Package veil anonymizes images and videos: it finds faces, licence
// plates, persons and vehicles with small ONNX detectors run by a pure-Go
// runtime, and blurs, pixelates or blackens them.
//
// New returns an Engine with the default models embedded. Detect finds
// the objects; Anonymize hides them and returns the image with the
// objects and their masks; Masks returns the masks alone (binary and
// instance masks, RLE in the metadata); AnonymizeVideo and
// AnonymizeFrames do videos and frame streams with object tracking.
// Encode writes the result (JPEG quality, PNG level, EXIF only on request
// and without GPS or thumbnail) and Metadata describes it in Celantur's
// JSON schema. Any error returns no image: privacy fails closed.
//
// The option names and defaults follow the Celantur anonymization API
// (face-threshold, license-plate-threshold, format, ignores,
// kernel-size-face, …), Go-cased.
package veil

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"reflect"
	"runtime"
	"sync"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/onnx"
	"github.com/veilkit/veil/segment"
	"github.com/veilkit/veil/tiling"
)

// Class is the kind of object a detection is.
type Class = detect.Class

// The classes veil detects.
const (
	Face         = detect.Face
	LicensePlate = detect.LicensePlate
	Person       = detect.Person
	Vehicle      = detect.Vehicle
)

// Detection is one object found in an image: class, score, box in the
// image's pixels, and the detector's key points (a face's five landmarks,
// a plate's four corners).
type Detection = detect.Detection

// Box is an axis-aligned box in image pixels.
type Box = detect.Box

// Errors returned by the engine, wrapped with detail; test with errors.Is.
var (
	// ErrOption reports a bad option or parameter value.
	ErrOption = errors.New("veil: bad option")
	// ErrImage reports an image that cannot be processed (empty, too large,
	// undecodable).
	ErrImage = errors.New("veil: bad image")
)

// MaxPixels bounds the images the engine accepts, so that a hostile image
// cannot make it allocate without bound.
const MaxPixels = 1 << 28

// The default models, embedded so that New needs no files: YuNet-n with
// a dynamic input (faces at native resolution), LPD-YuNet (plates),
// YOLOX-nano with a dynamic input (persons; vehicles = car, bus, truck,
// motorcycle, bicycle) and DeepLabV3-MobileNetV2 (person and vehicle
// masks).
var (
	//go:embed models/face/yunet_n_dynamic.onnx
	faceModel []byte
	//go:embed models/plate/lpd_yunet_2023mar.onnx
	plateModel []byte
	//go:embed models/object/yolox_nano_dynamic.onnx
	objectModel []byte
	//go:embed models/seg/deeplabv3_mnv2_voc_257.onnx
	segModel []byte
)

// A Segmenter computes the pixel masks of person and vehicle detections
// (segment.DeepLab is the default). Implementations must be safe for
// concurrent use.
type Segmenter interface {
	// Segment returns one mask per detection, in img's pixels; a nil mask
	// means the box.
	Segment(ctx context.Context, img *image.RGBA, dets []Detection) ([]*mask.Mask, error)
}

// An Engine detects and anonymizes. It is safe for concurrent use.
type Engine struct {
	detectors map[Class]detect.Detector
	// untiled are the person and vehicle detectors without their tile
	// pass (the same detector when it has none, one for both classes when
	// they share one). When neither class is asked for itself, they find
	// the vehicles the plate cascade searches and the persons of the head
	// backstop: the tile pass finds small vehicles, whose plates are too
	// small to read anyway, and small persons, whose faces the face model
	// searches at full resolution, and costs several passes.
	untiled      map[Class]detect.Detector
	segmenter    Segmenter
	plateCascade bool
}

type config struct {
	threads      int
	backend      onnx.Backend
	detectors    map[Class]detect.Detector
	segmenter    Segmenter
	plateCascade bool
}

// An Option configures New.
type Option func(*config) error

// WithThreads sets how many goroutines one model run may use (default
// GOMAXPROCS).
func WithThreads(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: threads %d", ErrOption, n)
		}
		c.threads = n
		return nil
	}
}

// WithBackend runs the default models (faces, plates, objects and
// segmentation) on b instead of the pure-Go runtime: for example
// onnxruntime on the CPU or a GPU, from package onnx/ort (build with
// -tags ort). Detectors and segmenters given with WithDetector and
// WithSegmenter run as they were made.
func WithBackend(b onnx.Backend) Option {
	return func(c *config) error {
		c.backend = b
		return nil
	}
}

// WithDetector makes d the detector for class c, replacing the default
// model: any ONNX model with a decoder that implements detect.Detector.
func WithDetector(c Class, d detect.Detector) Option {
	return func(cfg *config) error {
		if d == nil {
			return fmt.Errorf("%w: nil detector for %v", ErrOption, c)
		}
		cfg.detectors[c] = d
		return nil
	}
}

// WithSegmenter makes s the segmenter of persons and vehicles, replacing
// the default DeepLabV3 model.
func WithSegmenter(s Segmenter) Option {
	return func(c *config) error {
		if s == nil {
			return fmt.Errorf("%w: nil segmenter", ErrOption)
		}
		c.segmenter = s
		return nil
	}
}

// WithPlateCascade sets whether licence plates are also searched inside
// vehicle boxes (default true): the plate detector has a small fixed
// input, so a plate that is tiny in a large image is found in the crop of
// its car.
func WithPlateCascade(on bool) Option {
	return func(c *config) error {
		c.plateCascade = on
		return nil
	}
}

// New returns an engine with the embedded default models, changed by
// opts.
func New(opts ...Option) (*Engine, error) {
	cfg := &config{detectors: make(map[Class]detect.Detector), plateCascade: true}
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.threads == 0 {
		cfg.threads = runtime.GOMAXPROCS(0)
	}
	mo := onnx.Options{Threads: cfg.threads, Backend: cfg.backend}
	if cfg.detectors[Face] == nil {
		y, err := detect.NewYuNet(faceModel, mo)
		if err != nil {
			return nil, err
		}
		cfg.detectors[Face] = y
	}
	if cfg.detectors[LicensePlate] == nil {
		l, err := detect.NewLPDYuNet(plateModel, mo)
		if err != nil {
			return nil, err
		}
		cfg.detectors[LicensePlate] = l
	}
	if cfg.detectors[Person] == nil || cfg.detectors[Vehicle] == nil {
		y, err := newObjectDetector(mo)
		if err != nil {
			return nil, err
		}
		if cfg.detectors[Person] == nil {
			cfg.detectors[Person] = y
		}
		if cfg.detectors[Vehicle] == nil {
			cfg.detectors[Vehicle] = y
		}
	}
	if cfg.segmenter == nil {
		s, err := segment.NewDeepLab(segModel, mo)
		if err != nil {
			return nil, err
		}
		cfg.segmenter = s
	}
	untiled := make(map[Class]detect.Detector)
	for _, c := range []Class{Person, Vehicle} {
		d := cfg.detectors[c]
		if c == Vehicle && sameDetector(d, cfg.detectors[Person]) {
			untiled[c] = untiled[Person]
			continue
		}
		if t, ok := d.(detect.Tiled); ok {
			d = t.WithoutTiles()
		}
		untiled[c] = d
	}
	return &Engine{detectors: cfg.detectors, untiled: untiled, segmenter: cfg.segmenter, plateCascade: cfg.plateCascade}, nil
}

// objectOdds calibrates YOLOX-nano's person and vehicle scores (see
// detect.Calibrate): odds ×8/3 put the default threshold 0.4 at a raw
// objectness × class probability of 0.2. Chosen on the staged COCO
// subset (80 images, go run ./bench/cmd/eval -datasets coco), where at a
// raw 0.2 person recall is 0.785 at precision 0.77 (0.727 at 0.85 for a
// raw 0.3, 0.799 at 0.73 for 0.15).
const objectOdds = 8.0 / 3

// newObjectDetector loads the default person and vehicle detector:
// YOLOX-nano with its input's longer side at 832 pixels, and a 2×2 tile
// pass on regions over 1280 pixels.
func newObjectDetector(mo onnx.Options) (*detect.YOLOX, error) {
	y, err := detect.NewYOLOX(objectModel, mo)
	if err != nil {
		return nil, err
	}
	y.PersonOdds, y.VehicleOdds = objectOdds, objectOdds
	y.Tiles = 2
	return y, nil
}

// MinThreshold is the least score threshold the engine applies: a
// threshold of 0 (Celantur's range is 0..1), which Params.Set stores as
// MinThreshold, keeps every candidate the detectors score at least this
// much. Below it the candidates are noise whose number grows without
// bound — thousands of faces on one photo, and a plate search in every
// vehicle candidate — and so does the time.
const MinThreshold = 0.01

// Default thresholds (Celantur's).
const (
	DefaultFaceThreshold         = 0.5
	DefaultLicensePlateThreshold = 0.5
	DefaultPersonThreshold       = 0.4
	DefaultVehicleThreshold      = 0.4
)

// Params are the per-image parameters of Detect. The zero value detects
// faces and licence plates with the default thresholds on the whole image.
type Params struct {
	// Classes to detect; empty means Face and LicensePlate.
	Classes []Class
	// Per-class score thresholds in [0, 1]; 0 means the default. A
	// threshold below MinThreshold counts as MinThreshold.
	FaceThreshold, LicensePlateThreshold, PersonThreshold, VehicleThreshold float32
	// NoHeads turns the head backstop off. With it on (the default), a
	// search for faces also runs the person detector, and each person it
	// finds (at PersonThreshold) whose head region holds no face gets
	// that region reported as a face, with Label "head": a face the face
	// model misses (turned away, lying down, covered, blurred) is still
	// anonymized when its person is found.
	NoHeads bool
	// Format is the tiling: "whole" (or ""), "pano:N" for an
	// equirectangular panorama of width N (presets 4096, 5400, 5640, 7060,
	// 7680, 8000, 8192, 11000) or a JSON grid
	// {"number":[nx,ny],"overlap":[ox,oy]} where the overlap is the
	// fraction of a tile that neighbouring tiles share (0.1 = 10%).
	Format string

	// The rest is read by Anonymize only.

	// Method hides the objects: Blur (the zero value), Pixelate, Blacken,
	// or DetectOnly.
	Method Method
	// BBox anonymizes each object's box instead of its shape (a face's
	// ellipse, a plate's quadrilateral).
	BBox bool
	// Debug draws the boxes (and the plate corners and face landmarks) on
	// the output; Score adds each object's class and score.
	Debug, Score bool
	// Ignores are regions, in the image's pixels with (0, 0) its top-left
	// corner, where nothing is anonymized (see ParseIgnores); objects in
	// them are still reported.
	Ignores []image.Rectangle
	// Blur kernel sizes; 0 means the default. Faces' and licence plates'
	// are relative to the object (fraction of the larger side of its box;
	// defaults 0.35 and 0.5), persons' and vehicles' are in pixels
	// (defaults 95 and 61). See Sigma for the blur a kernel size gives and
	// CellSize for the pixelation.
	KernelSizeFace, KernelSizeLicensePlate, KernelSizePerson, KernelSizeVehicle float64
	// FaceGradient and LicensePlateGradient soften the edge of faces and
	// plates; nil means DefaultGradient (start 0.3, stop 0), &Gradient{}
	// a hard edge.
	FaceGradient, LicensePlateGradient *Gradient
}

func (p *Params) threshold(c Class) float32 {
	var t, def float32
	switch c {
	case Face:
		t, def = p.FaceThreshold, DefaultFaceThreshold
	case LicensePlate:
		t, def = p.LicensePlateThreshold, DefaultLicensePlateThreshold
	case Person:
		t, def = p.PersonThreshold, DefaultPersonThreshold
	case Vehicle:
		t, def = p.VehicleThreshold, DefaultVehicleThreshold
	}
	if t == 0 {
		return def
	}
	return max(t, MinThreshold)
}

func (p *Params) validate() error {
	for _, t := range []float32{p.FaceThreshold, p.LicensePlateThreshold, p.PersonThreshold, p.VehicleThreshold} {
		if t < 0 || t > 1 || t != t {
			return fmt.Errorf("%w: threshold %v outside [0, 1]", ErrOption, t)
		}
	}
	for _, c := range p.Classes {
		if c < Face || c > Vehicle {
			return fmt.Errorf("%w: class %d", ErrOption, c)
		}
	}
	return nil
}

func (p *Params) classes() []Class {
	if len(p.Classes) == 0 {
		return []Class{Face, LicensePlate}
	}
	return p.Classes
}

// toRGBA returns img as an *image.RGBA whose bounds start at (0, 0).
func toRGBA(img image.Image) (*image.RGBA, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrImage)
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("%w: empty image", ErrImage)
	}
	if b.Dx() > MaxPixels/b.Dy() {
		return nil, fmt.Errorf("%w: %dx%d is over %d pixels", ErrImage, b.Dx(), b.Dy(), MaxPixels)
	}
	if r, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return r, nil
	}
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	// Converting a 12 MP JPEG's YCbCr takes a tenth of a second: in bands,
	// one per CPU.
	n := min(runtime.GOMAXPROCS(0), max(1, b.Dy()/64))
	par.Loop(b.Dy(), func() {
		var wg sync.WaitGroup
		for k := range n {
			y0, y1 := b.Dy()*k/n, b.Dy()*(k+1)/n
			wg.Go(func() {
				draw.Draw(r, image.Rect(0, y0, b.Dx(), y1), img, b.Min.Add(image.Pt(0, y0)), draw.Src)
			})
		}
		wg.Wait()
	})
	return r, nil
}

// Detect finds the objects of p.Classes in img. Boxes are in img's
// pixels, relative to img.Bounds().Min.
func (e *Engine) Detect(ctx context.Context, img image.Image, p Params) ([]Detection, error) {
	rgba, tiles, err := p.prepare(img)
	if err != nil {
		return nil, err
	}
	all, err := e.detect(ctx, rgba, tiles, p)
	if err != nil {
		return nil, err
	}
	// Back to img's coordinates.
	if o := img.Bounds().Min; o != (image.Point{}) {
		for k := range all {
			all[k] = translate(all[k], float32(o.X), float32(o.Y))
		}
	}
	return all, nil
}

// prepare checks p and returns img from (0, 0) as RGBA and its tiles.
func (p *Params) prepare(img image.Image) (*image.RGBA, []tiling.Tile, error) {
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	tiles, err := tilesFor(p.Format, img)
	if err != nil {
		return nil, nil, err
	}
	rgba, err := toRGBA(img)
	if err != nil {
		return nil, nil, err
	}
	return rgba, tiles, nil
}

// detect finds the objects of p.Classes in rgba (bounds at (0, 0)).
func (e *Engine) detect(ctx context.Context, rgba *image.RGBA, tiles []tiling.Tile, p Params) ([]Detection, error) {
	want := make(map[Class]bool)
	for _, c := range p.classes() {
		want[c] = true
	}
	// The score each class is detected down to: its threshold, and for
	// vehicles the cascade's threshold when plates are searched in them.
	need := make(map[Class]float32)
	for c := range want {
		need[c] = p.threshold(c)
	}
	heads := want[Face] && !p.NoHeads
	if heads {
		if t, ok := need[Person]; !ok || t > p.threshold(Person) {
			need[Person] = p.threshold(Person)
		}
	}
	cascade := want[LicensePlate] && e.plateCascade
	if cascade {
		if t, ok := need[Vehicle]; !ok || t > cascadeVehicleThreshold {
			need[Vehicle] = cascadeVehicleThreshold
		}
	}
	// Persons and vehicles wanted only for the head backstop and the plate
	// cascade come from the detectors without their tile pass.
	untiled := !want[Vehicle] && !want[Person]
	found, err := e.run(ctx, rgba, tiles, need, untiled)
	if err != nil {
		return nil, err
	}
	if want[LicensePlate] {
		plates, err := e.plateZoom(ctx, rgba, tiles, found, need[LicensePlate], cascade)
		if err != nil {
			return nil, err
		}
		found = dropNested(append(found, plates...), LicensePlate, nestedFrac)
	}
	var all []Detection
	for _, d := range found {
		if want[d.Class] && d.Score >= p.threshold(d.Class) {
			all = append(all, d)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all = mergeTiles(all, tiles)
	if heads {
		// From the persons merged across seams: the lower half of a
		// person cut by a seam has no head.
		var persons []Detection
		for _, d := range found {
			if d.Class == Person {
				persons = append(persons, d)
			}
		}
		all = append(all, headsWithoutFaces(mergeTiles(persons, tiles), all, p.threshold(Person))...)
	}
	return all, nil
}

// HeadLabel is the Label of a face reported by the head backstop (see
// Params.NoHeads).
const HeadLabel = "head"

// headsWithoutFaces returns, for each person of found scoring at least
// minScore, its head region as a face (Label HeadLabel, the person's
// score) unless a face of faces lies there: its centre, or half its
// box, in the region. The head region is the top of the person's box, as
// wide as the box and headHeight of its width high (at most the box's
// height): a standing person's head with room to spare, and most of a
// portrait's.
func headsWithoutFaces(found, faces []Detection, minScore float32) []Detection {
	var heads []Detection
	for _, d := range found {
		if d.Class != Person || d.Score < minScore {
			continue
		}
		b := d.Box
		b.Y2 = min(b.Y2, b.Y1+headHeight*b.W())
		covered := false
		for _, f := range faces {
			cx, cy := (f.Box.X1+f.Box.X2)/2, (f.Box.Y1+f.Box.Y2)/2
			inside := cx >= b.X1 && cx < b.X2 && cy >= b.Y1 && cy < b.Y2
			if f.Class == Face && (inside || f.Box.Intersect(b).Area() >= f.Box.Area()/2) {
				covered = true
				break
			}
		}
		if !covered {
			heads = append(heads, Detection{Class: Face, Label: HeadLabel, Score: d.Score, Box: b})
		}
	}
	return heads
}

// headHeight is a head region's height as a fraction of its person's
// box width.
const headHeight = 0.75

// cascadeVehicleThreshold is the vehicle score down to which licence
// plates are also searched inside vehicle boxes.
const cascadeVehicleThreshold = 0.3

// run runs each distinct detector once per tile, concurrently, for the
// classes in need, and returns what scores at least need[class]. With
// untiled, persons and vehicles come from e.untiled.
func (e *Engine) run(ctx context.Context, img *image.RGBA, tiles []tiling.Tile, need map[Class]float32, untiled bool) ([]Detection, error) {
	// A panorama's wrap-around tile is stitched once, for every detector.
	imgs := make([]*image.RGBA, len(tiles))
	for k, t := range tiles {
		imgs[k] = t.Image(img)
	}
	type job struct {
		d        detect.Detector
		minScore float32
	}
	var jobs []*job
classes:
	for _, c := range []Class{Face, LicensePlate, Person, Vehicle} {
		t, ok := need[c]
		if !ok {
			continue
		}
		d := e.detectors[c]
		if untiled && (c == Person || c == Vehicle) {
			d = e.untiled[c]
		}
		for _, j := range jobs {
			if sameDetector(j.d, d) {
				j.minScore = min(j.minScore, t)
				continue classes
			}
		}
		jobs = append(jobs, &job{d: d, minScore: t})
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	// Each job's detections, joined in the jobs' order: the result does
	// not depend on which detector finishes first.
	byJob := make([][]Detection, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		run := func() {
			defer wg.Done()
			var found []Detection
			for k, t := range tiles {
				dets, err := j.d.Detect(ctx, imgs[k], t.Bounds(), j.minScore)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("tile %d: %w", k, err))
					mu.Unlock()
					return
				}
				for _, d := range t.Map(dets) {
					if t, ok := need[d.Class]; ok && d.Score >= t {
						found = append(found, d)
					}
				}
			}
			byJob[i] = found
		}
		// The detectors run concurrently; while bench/cmd/scaling records
		// the parallel loops, in turn, so that no loop's time takes in
		// another detector's.
		if par.Active() {
			run()
		} else {
			go run()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var all []Detection
	for _, found := range byJob {
		all = append(all, found...)
	}
	return all, nil
}

// sameDetector reports whether a and b are the same detector. A user's
// detector may be of a type that == cannot compare (a struct holding a
// slice): such a detector is only ever itself.
func sameDetector(a, b detect.Detector) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// Plate zoom passes. The plate detector stretches a region to its small
// fixed input (LPD-YuNet: 320×240), so in a whole photo a plate covers few
// of the network's pixels (opencv_zoo runs LPD-YuNet at the image's native
// size, which our fixed-shape model cannot). When the detector reports
// its input size (detect.InputSizer), plates are also searched where a
// pass zooms in at least minZoomGain times more than the passes already
// run on that part of the image:
//
//   - windows: a tile up to plateWindowMax inputs a side is also run in
//     2×2 overlapping windows, each at least the input's size (a 640×480
//     photo runs at native resolution). Larger tiles leave plates to the
//     cascade: four windows would still shrink them too much.
//   - the cascade (WithPlateCascade): every vehicle box, grown by a margin
//     and to at least half the input's size (a zoom of at most 2: the
//     detector sees some context and no blown-up pixels).
//
// A plate from a window or a crop must lie at least plateInside inside it
// and not touch its edges inside the tile: at a crop's edge the detector
// reads cut plate-like things as plates (with boxes often reaching far
// outside), and a plate cut by the edge is whole in the whole-tile pass
// or a neighbouring window. A detector without an input size gets no
// windows and the cascade in every vehicle.
const (
	minZoomGain    = 1.25
	plateWindowMax = 4
	plateOverlap   = 0.25
	plateInside    = 0.9
)

// plateZoom runs the plate zoom passes over the tiles and, when cascade
// is set, inside the vehicles of found.
func (e *Engine) plateZoom(ctx context.Context, img *image.RGBA, tiles []tiling.Tile, found []Detection, minScore float32, cascade bool) ([]Detection, error) {
	d := e.detectors[LicensePlate]
	var iw, ih int
	if s, ok := d.(detect.InputSizer); ok {
		iw, ih = s.InputSize()
	}
	zoomOf := func(w, h int) float64 {
		return min(float64(iw)/float64(max(w, 1)), float64(ih)/float64(max(h, 1)))
	}
	var plates []Detection
	// reached[k] is the largest zoom tile k's passes ran at.
	reached := make([]float64, len(tiles))
	for k, t := range tiles {
		if iw <= 0 || ih <= 0 {
			break
		}
		b := t.Bounds()
		reached[k] = zoomOf(b.Dx(), b.Dy())
		if b.Dx() > plateWindowMax*iw || b.Dy() > plateWindowMax*ih {
			continue
		}
		ww := max(iw, int(float64(b.Dx())/(2-plateOverlap)+0.5))
		wh := max(ih, int(float64(b.Dy())/(2-plateOverlap)+0.5))
		z := zoomOf(min(ww, b.Dx()), min(wh, b.Dy()))
		if z < minZoomGain*reached[k] {
			continue
		}
		reached[k] = z
		timg := t.Image(img)
		for _, w := range detect.GridOf(b, 2, ww, wh) {
			dets, err := d.Detect(ctx, timg, w, minScore)
			if err != nil {
				return nil, err
			}
			plates = append(plates, t.Map(whollyInside(dets, w, b))...)
		}
	}
	if !cascade {
		return plates, nil
	}
	for _, v := range found {
		if v.Class != Vehicle {
			continue
		}
		r := v.Box.Rect()
		m := max(r.Dx(), r.Dy()) / 10
		r = r.Inset(-m)
		if iw > 0 && ih > 0 {
			r = grow(r, iw/2, ih/2, img.Rect)
		}
		r = r.Intersect(img.Rect)
		if r.Dx() < 32 || r.Dy() < 32 {
			continue
		}
		if iw > 0 && ih > 0 {
			c := image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
			var zp float64
			for k, t := range tiles {
				if c.In(t.Rect) {
					zp = max(zp, reached[k])
				}
			}
			if zoomOf(r.Dx(), r.Dy()) < minZoomGain*zp {
				continue
			}
		}
		dets, err := d.Detect(ctx, img, r, minScore)
		if err != nil {
			return nil, err
		}
		plates = append(plates, whollyInside(dets, r, img.Rect)...)
	}
	return plates, nil
}

// nestedFrac is how much of a plate may lie inside a stronger plate:
// plates do not nest, so more is a part of that plate (its dealer strip,
// half its characters) that a zoomed pass saw as a plate of its own.
const nestedFrac = 0.7

// dropNested removes the detections of class c that lie more than frac
// inside a higher-scoring detection of c, reusing dets' storage.
func dropNested(dets []Detection, c Class, frac float32) []Detection {
	var cs []Detection
	for _, d := range dets {
		if d.Class == c {
			cs = append(cs, d)
		}
	}
	out := dets[:0]
	for _, d := range dets {
		if d.Class == c && nested(d, cs, frac) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// nested reports whether more than frac of d lies inside a detection of
// others that scores higher.
func nested(d Detection, others []Detection, frac float32) bool {
	for _, o := range others {
		if o.Score > d.Score && d.Box.Intersect(o.Box).Area() > frac*d.Box.Area() {
			return true
		}
	}
	return false
}

// grow returns r widened (heightened) about its centre to at least w (h)
// pixels, shifted to stay inside bounds where it can.
func grow(r image.Rectangle, w, h int, bounds image.Rectangle) image.Rectangle {
	span := func(lo, hi, n, blo, bhi int) (int, int) {
		if hi-lo >= n {
			return lo, hi
		}
		lo = (lo+hi)/2 - n/2
		lo = max(min(lo, bhi-n), blo)
		return lo, lo + n
	}
	r.Min.X, r.Max.X = span(r.Min.X, r.Max.X, w, bounds.Min.X, bounds.Max.X)
	r.Min.Y, r.Max.Y = span(r.Min.Y, r.Max.Y, h, bounds.Min.Y, bounds.Max.Y)
	return r
}

// whollyInside keeps the detections whose box lies at least plateInside
// inside r and does not reach an edge of r inside bounds, reusing dets'
// storage.
func whollyInside(dets []Detection, r, bounds image.Rectangle) []Detection {
	out := dets[:0]
	for _, d := range dets {
		if d.Box.Clip(r).Area() >= plateInside*d.Box.Area() && !detect.CutByTile(d.Box, r, bounds) {
			out = append(out, d)
		}
	}
	return out
}

func translate(d Detection, dx, dy float32) Detection {
	d.Box = d.Box.Translate(dx, dy)
	if d.Points != nil {
		pts := make([]detect.Point, len(d.Points))
		for k, p := range d.Points {
			pts[k] = detect.Point{X: p.X + dx, Y: p.Y + dy}
		}
		d.Points = pts
	}
	return d
}

// tilesFor returns the regions to run the detectors on, for the format
// option (see package tiling).
func tilesFor(format string, img image.Image) ([]tiling.Tile, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrImage)
	}
	f, err := tiling.Parse(format)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOption, err)
	}
	b := img.Bounds()
	return f.Tiles(image.Rect(0, 0, b.Dx(), b.Dy())), nil
}

// mergeIoU is the overlap above which two detections of a class are one
// object, when merging tiles and the plate cascade.
const mergeIoU = 0.3

// mergeTiles joins the detections of overlapping tiles (objects cut by a
// seam become one box) and of the plate cascade (a plate found both in
// the whole image and in its car).
func mergeTiles(dets []Detection, tiles []tiling.Tile) []Detection {
	return tiling.Merge(dets, tiles, mergeIoU, supersetClasses...)
}

// supersetClasses are the classes whose detections the merge of tiles and
// passes never drops for an overlapping stronger one that does not match
// them (IoU under 0.5): each face or plate a detector found stays
// anonymized. (Persons and vehicles are merged as before: restoring them
// too raised person recall on COCO-tiny from 0.756 to 0.794 and lowered
// the person pixels left visible from 9.7% to 7.6%, at a precision of
// 0.555 against 0.634 and a mask IoU of 0.562 against 0.602.)
var supersetClasses = []Class{Face, LicensePlate}
