package veil

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/veilkit/veil/blur"
	"github.com/veilkit/veil/internal/debugdraw"
	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/tiling"
)

// Method is how Anonymize hides an object.
type Method uint8

// The anonymization methods, as the Celantur API names them.
const (
	Blur       Method = iota // Gaussian-like blur (the default)
	Pixelate                 // mean colour of square cells
	Blacken                  // black
	DetectOnly               // "detect": find the objects, leave the image as it is
)

// String returns the method's name in the Celantur API.
func (m Method) String() string {
	switch m {
	case Blur:
		return "blur"
	case Pixelate:
		return "pixelate"
	case Blacken:
		return "blacken"
	case DetectOnly:
		return "detect"
	}
	return fmt.Sprintf("Method(%d)", m)
}

// ParseMethod returns the method named s: blur, pixelate, blacken or
// detect.
func ParseMethod(s string) (Method, error) {
	for m := Blur; m <= DetectOnly; m++ {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: method %q (want blur, pixelate, blacken or detect)", ErrOption, s)
}

// ParseClass returns the class named s as the Celantur API spells it:
// face, license-plate, person or vehicle.
func ParseClass(s string) (Class, error) {
	for c := Face; c <= Vehicle; c++ {
		if strings.EqualFold(s, c.String()) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: class %q (want face, license-plate, person or vehicle)", ErrOption, s)
}

// Gradient is the soft edge of a face or licence plate (Celantur's
// *-anonymization-gradient-start and -stop): full strength inside the
// object shrunk by Stop × its size on each side, fading to nothing at the
// object grown by Start × its size on each side.
type Gradient = blur.Gradient

// Default anonymization parameters (Celantur's).
const (
	// DefaultKernelSizeFace and DefaultKernelSizeLicensePlate are
	// relative: the blur kernel is this fraction of the object's larger
	// side.
	DefaultKernelSizeFace         = 0.35
	DefaultKernelSizeLicensePlate = 0.5
	// DefaultKernelSizePerson and DefaultKernelSizeVehicle are in pixels.
	DefaultKernelSizePerson  = 95
	DefaultKernelSizeVehicle = 61
)

// DefaultGradient is the default gradient of faces and licence plates.
var DefaultGradient = Gradient{Start: 0.3, Stop: 0}

// Kernel sizes: a blur of kernel size k pixels is three box passes of
// radius k (a Gaussian-like blur of σ = √(k² + k), see Sigma); pixelation
// uses square cells of 2k + 1 pixels (CellSize). For faces and licence
// plates k is relative (k = KernelSize × the larger side of the object's
// box), so small and large faces are equally unrecognisable; for persons
// and vehicles it is in pixels.

// kernelSize returns the kernel size in pixels for detection d.
func (p *Params) kernelSize(d Detection) float64 {
	side := float64(max(d.Box.W(), d.Box.H()))
	switch d.Class {
	case Face:
		return orDefault(p.KernelSizeFace, DefaultKernelSizeFace) * side
	case LicensePlate:
		return orDefault(p.KernelSizeLicensePlate, DefaultKernelSizeLicensePlate) * side
	case Person:
		return orDefault(p.KernelSizePerson, DefaultKernelSizePerson)
	case Vehicle:
		return orDefault(p.KernelSizeVehicle, DefaultKernelSizeVehicle)
	}
	return side
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// gradient returns the gradient of class c: faces' and plates' from p
// (DefaultGradient when nil), none for the other classes.
func (p *Params) gradient(c Class) Gradient {
	var g *Gradient
	switch c {
	case Face:
		g = p.FaceGradient
	case LicensePlate:
		g = p.LicensePlateGradient
	default:
		return Gradient{}
	}
	if g == nil {
		return DefaultGradient
	}
	return *g
}

// Sigma returns the standard deviation of the blur of kernel size k
// pixels: three box passes of radius k (width 2k + 1), σ = √(k² + k).
// (OpenCV's σ for a k×k Gaussian kernel, about k/6, leaves blurred faces
// findable by a face detector: see TestReidentification.)
func Sigma(k float64) float64 {
	return max(math.Sqrt(k*k+k), 0.5)
}

// CellSize returns the side of the pixelation cells for kernel size k:
// the width of the blur's box, 2k + 1, so a pixelated object is as
// unrecognisable as a blurred one.
func CellSize(k float64) int {
	return max(2, int(math.Round(2*k+1)))
}

// faceMargin grows a face's box, on each side, by this fraction of its
// size before the face's ellipse is fitted in it. YuNet's boxes run from
// the brows to the chin; the forehead, hairline, ears and jaw left around
// a blurred oval are what let a face detector find a face again
// (TestReidentification: with the box itself, 20 of 52 blurred faces of
// the group photo are found again, with 0.1 five, with 0.2 none).
const faceMargin = 0.2

// Object is a detection and what Anonymize did with it.
type Object struct {
	Detection
	// Anonymized reports whether the object's pixels were changed: false
	// for the detect method and for an object wholly inside the ignore
	// regions.
	Anonymized bool
	// Offset is the top-left corner of the tile the object was found in
	// (Celantur's offset): (0, 0) with the whole format.
	Offset image.Point
	// Mask is the object's shape in the image's pixels, 255 inside, with
	// the ignore regions cleared: a person's or vehicle's segmentation
	// mask, the ellipse of a face, the quadrilateral of a plate, or with
	// BBox the box. The gradient's soft edge around a face or plate is
	// not part of it. Nil for DetectOnly results of Anonymize (Masks
	// computes it).
	Mask *mask.Mask
	// TrackID is the object's track in a video (1, 2, …), the same in
	// every frame it is in; 0 for images and with tracking off.
	TrackID int
	// Predicted reports an object of a video frame the detector did not
	// report: the tracker carried it over from neighbouring frames.
	Predicted bool
}

// drawOrder ranks the classes for Result.Objects.
var drawOrder = map[Class]int{Vehicle: 0, Person: 1, LicensePlate: 2, Face: 3}

// Result is what Anonymize and Masks return.
type Result struct {
	// Image is the anonymized image, a new image with bounds starting at
	// (0, 0); the input image is never changed. With DetectOnly it is a
	// copy of the input (with the debug drawing when asked); Masks
	// returns no image.
	Image *image.RGBA
	// Bounds are the input image's bounds.
	Bounds image.Rectangle
	// Objects are the objects found: vehicles, persons, licence plates,
	// then faces, each class by decreasing score.
	Objects []Object
}

// Anonymize detects the objects of p.Classes in img and hides them with
// p.Method. Any error (bad option, failed detection or segmentation,
// cancelled context) returns no image: privacy fails closed.
func (e *Engine) Anonymize(ctx context.Context, img image.Image, p Params) (*Result, error) {
	return e.process(ctx, img, p, p.Method != DetectOnly)
}

// Masks detects the objects of p.Classes in img and returns them with
// their masks (Object.Mask), leaving the image as it is: Result.Image is
// nil. Render them with Result.BinaryMask and Result.InstanceMask.
func (e *Engine) Masks(ctx context.Context, img image.Image, p Params) (*Result, error) {
	p.Method = DetectOnly
	p.Debug = false
	return e.process(ctx, img, p, true)
}

// process detects, computes the objects' masks when masks is set, and
// anonymizes unless p.Method is DetectOnly. Masks gets no image: it
// returns before the copy is made.
func (e *Engine) process(ctx context.Context, img image.Image, p Params, masks bool) (*Result, error) {
	if err := p.validateAnonymize(); err != nil {
		return nil, err
	}
	src, tiles, err := p.prepare(img)
	if err != nil {
		return nil, err
	}
	dets, err := e.detect(ctx, src, tiles, p)
	if err != nil {
		return nil, err
	}
	objs := make([]Object, len(dets))
	for k, d := range dets {
		objs[k] = Object{Detection: d}
	}
	res, err := e.render(ctx, src, tiles, objs, p, masks, false)
	if err != nil {
		return nil, err
	}
	// Back to img's coordinates.
	res.Bounds = img.Bounds()
	if min := res.Bounds.Min; min != (image.Point{}) {
		for k := range res.Objects {
			o := &res.Objects[k]
			o.Detection = translate(o.Detection, float32(min.X), float32(min.Y))
			o.Offset = o.Offset.Add(min)
			if o.Mask != nil {
				o.Mask.Rect = o.Mask.Rect.Add(min)
			}
		}
	}
	return res, nil
}

// render finishes the objects found in src (bounds at (0, 0)): their
// order, offsets and, when masks is set, masks; and unless p.Method is
// DetectOnly anonymizes them, in src itself when inPlace is set,
// otherwise in a copy. Masks of a DetectOnly render get no image.
func (e *Engine) render(ctx context.Context, src *image.RGBA, tiles []tiling.Tile, objs []Object, p Params, masks, inPlace bool) (*Result, error) {
	// Large objects first: in the instance mask a later object's id wins
	// where objects overlap, so a plate on a car or a face on a person
	// stays visible.
	slices.SortStableFunc(objs, func(a, b Object) int { return cmp.Compare(drawOrder[a.Class], drawOrder[b.Class]) })
	for k := range objs {
		d := objs[k].Box
		c := image.Pt(int(d.X1+d.X2)/2, int(d.Y1+d.Y2)/2)
		for _, t := range tiles {
			if c.In(t.Rect) {
				objs[k].Offset = t.Rect.Min
				break
			}
		}
	}
	if masks {
		dets := make([]Detection, len(objs))
		for k, o := range objs {
			dets[k] = o.Detection
		}
		segs, err := e.segment(ctx, src, dets, p)
		if err != nil {
			return nil, err
		}
		for k := range objs {
			objs[k].Mask = p.shape(objs[k].Detection, segs[k], src.Rect)
		}
	}
	res := &Result{Bounds: src.Rect, Objects: objs}
	if p.Method == DetectOnly && masks {
		return res, nil
	}
	out := src
	if !inPlace {
		out = image.NewRGBA(src.Rect)
		copy(out.Pix, src.Pix)
	}
	if p.Method != DetectOnly {
		for k := range objs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			objs[k].Anonymized = p.anonymize(out, objs[k])
		}
	}
	if p.Debug {
		debugdraw.Draw(out, debugItems(objs), debugdraw.Options{Scores: p.Score})
	}
	res.Image = out
	return res, nil
}

// segment returns the segmentation masks of dets' persons and vehicles
// (nil for the other classes and with BBox).
func (e *Engine) segment(ctx context.Context, img *image.RGBA, dets []Detection, p Params) ([]*mask.Mask, error) {
	segs := make([]*mask.Mask, len(dets))
	if p.BBox || e.segmenter == nil {
		return segs, nil
	}
	var idx []int
	var sub []Detection
	for k, d := range dets {
		if d.Class == Person || d.Class == Vehicle {
			idx = append(idx, k)
			sub = append(sub, d)
		}
	}
	if len(sub) == 0 {
		return segs, nil
	}
	ms, err := e.segmenter.Segment(ctx, img, sub)
	if err != nil {
		return nil, fmt.Errorf("segmentation: %w", err)
	}
	if len(ms) != len(sub) {
		return nil, fmt.Errorf("segmentation: %d masks for %d objects", len(ms), len(sub))
	}
	for j, k := range idx {
		segs[k] = ms[j]
	}
	return segs, nil
}

// shape returns the hard-edged shape of d (see Object.Mask) within
// bounds, with the ignore regions cleared; seg is d's segmentation mask,
// if any.
func (p *Params) shape(d Detection, seg *mask.Mask, bounds image.Rectangle) *mask.Mask {
	var m *mask.Mask
	if seg != nil {
		m = seg.Intersect(bounds)
	} else {
		m = p.alpha(d, Gradient{}, bounds)
	}
	if m == nil {
		return nil
	}
	m = m.Binary()
	p.clearIgnores(m)
	return m
}

// anonymize hides o in img (bounds at (0, 0)) and reports whether any
// pixel was changed. A person or vehicle with a mask is anonymized by its
// mask; a face or plate by its shape with the class's gradient.
func (p *Params) anonymize(img *image.RGBA, o Object) bool {
	var a *mask.Mask
	if o.Mask != nil && (o.Class == Person || o.Class == Vehicle) {
		a = o.Mask // ignores already cleared
	} else {
		a = p.alpha(o.Detection, p.gradient(o.Class), img.Rect)
		p.clearIgnores(a)
	}
	if a == nil || !covers(a) {
		return false
	}
	k := p.kernelSize(o.Detection)
	switch p.Method {
	case Blur:
		blur.Blur(img, a, Sigma(k))
	case Pixelate:
		r := o.Box.Rect()
		blur.Pixelate(img, a, CellSize(k), r.Min)
	case Blacken:
		blur.Blacken(img, a)
	}
	return true
}

// alpha returns the coverage of d with gradient g: with BBox its box,
// otherwise its shape — an ellipse around a face's box (see faceMargin),
// a plate's four-corner quadrilateral, the box of a person or vehicle.
func (p *Params) alpha(d Detection, g Gradient, bounds image.Rectangle) *mask.Mask {
	b := d.Box
	x0, y0, x1, y1 := float64(b.X1), float64(b.Y1), float64(b.X2), float64(b.Y2)
	switch {
	case !p.BBox && d.Class == Face:
		mx, my := faceMargin*(x1-x0), faceMargin*(y1-y0)
		return blur.EllipseAlpha(x0-mx, y0-my, x1+mx, y1+my, g, bounds)
	case !p.BBox && d.Class == LicensePlate && len(d.Points) == 4:
		pts := make([]blur.Point, 4)
		for k, q := range d.Points {
			pts[k] = blur.Point{X: float64(q.X), Y: float64(q.Y)}
		}
		if polygonArea(pts) >= minPlateFill*(x1-x0)*(y1-y0) {
			return blur.PolygonAlpha(pts, g, bounds)
		}
	}
	return blur.BoxAlpha(x0, y0, x1, y1, g, bounds)
}

// minPlateFill is the least share of its box a plate's quadrilateral must
// fill to be anonymized as the plate's shape; a thinner one (corners
// found along a diagonal, or crossed) would leave most of the plate
// readable, so the box is anonymized instead. A 2:1 plate turned by 15°
// still fills 0.62 of its box.
const minPlateFill = 0.6

// polygonArea returns the area of the polygon pts (the shoelace formula;
// a crossed polygon's lobes cancel, so it counts as small).
func polygonArea(pts []blur.Point) float64 {
	var a float64
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		a += p.X*q.Y - q.X*p.Y
	}
	return math.Abs(a) / 2
}

// covers reports whether a has any non-zero coverage.
func covers(a *mask.Mask) bool {
	for _, v := range a.Pix {
		if v != 0 {
			return true
		}
	}
	return false
}

func debugItems(objs []Object) []debugdraw.Item {
	items := make([]debugdraw.Item, len(objs))
	for k, o := range objs {
		it := debugdraw.Item{Box: o.Box.Rect(), Label: o.Class.String(), Score: o.Score,
			Color: debugdraw.ClassColor(o.Class.String())}
		pts := make([]image.Point, len(o.Points))
		for j, q := range o.Points {
			pts[j] = image.Pt(int(q.X+0.5), int(q.Y+0.5))
		}
		if o.Class == LicensePlate && len(pts) == 4 {
			it.Polygon = pts
		} else {
			it.Points = pts
		}
		items[k] = it
	}
	return items
}

func (p *Params) validateAnonymize() error {
	if p.Method > DetectOnly {
		return fmt.Errorf("%w: %v", ErrOption, p.Method)
	}
	for _, k := range []struct {
		name string
		v    float64
		rel  bool
	}{
		{"kernel-size-face", p.KernelSizeFace, true},
		{"kernel-size-license-plate", p.KernelSizeLicensePlate, true},
		{"kernel-size-person", p.KernelSizePerson, false},
		{"kernel-size-vehicle", p.KernelSizeVehicle, false},
	} {
		if k.v < 0 || k.v != k.v || math.IsInf(k.v, 0) || k.rel && k.v > 10 || !k.rel && k.v > 10000 {
			return fmt.Errorf("%w: %s %v", ErrOption, k.name, k.v)
		}
	}
	for name, g := range map[string]*Gradient{"face": p.FaceGradient, "license-plate": p.LicensePlateGradient} {
		if g == nil {
			continue
		}
		if !(g.Start >= 0 && g.Start <= 2) || !(g.Stop >= 0 && g.Stop <= 0.5) {
			return fmt.Errorf("%w: %s gradient start %v stop %v (want start in [0, 2], stop in [0, 0.5])", ErrOption, name, g.Start, g.Stop)
		}
	}
	return p.validIgnores()
}

// Region is an ignore region as the Celantur API writes it.
type Region struct {
	TopLeftX int `json:"topLeftX"`
	TopLeftY int `json:"topLeftY"`
	Width    int `json:"width"`
	Height   int `json:"height"`
}

// Rect returns the region as a rectangle: the pixels x, y with
// TopLeftX <= x < TopLeftX+Width and TopLeftY <= y < TopLeftY+Height. A
// region of no width or height is the empty rectangle, and a far edge
// beyond the largest int is cut there, so that the rectangle never holds
// a pixel the region does not.
func (r Region) Rect() image.Rectangle {
	if r.Width <= 0 || r.Height <= 0 {
		return image.Rectangle{}
	}
	return image.Rectangle{
		Min: image.Pt(r.TopLeftX, r.TopLeftY),
		Max: image.Pt(addClamped(r.TopLeftX, r.Width), addClamped(r.TopLeftY, r.Height)),
	}
}

// addClamped returns a + n for n > 0, or math.MaxInt where that
// overflows.
func addClamped(a, n int) int {
	if a > math.MaxInt-n {
		return math.MaxInt
	}
	return a + n
}

// region is a Region as decoded, with its missing and null fields nil.
type region struct {
	TopLeftX *int `json:"topLeftX"`
	TopLeftY *int `json:"topLeftY"`
	Width    *int `json:"width"`
	Height   *int `json:"height"`
}

// ParseIgnores parses the ignores option, a JSON array of regions such as
// [{"topLeftX": 182, "topLeftY": 154, "width": 2000, "height": 2000}]; an
// empty string is no regions. Every region needs its four fields: the
// corner at least 0, the width and height at least 1. A region is the
// pixels it names and no other (see Region.Rect): one that lies outside
// an image ignores nothing of it. Errors name a region by its place in
// the array, counting from 1.
func ParseIgnores(s string) ([]image.Rectangle, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var regs []region
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&regs); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("%w: ignores: %s: want an integer in [0, %d], got %s", ErrOption, te.Field, math.MaxInt, te.Value)
		}
		return nil, fmt.Errorf(`%w: ignores: want a JSON array of regions {"topLeftX":X,"topLeftY":Y,"width":W,"height":H}: %v`, ErrOption, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: ignores: trailing data after the JSON array", ErrOption)
	}
	rs := make([]image.Rectangle, len(regs))
	for k, r := range regs {
		for _, f := range []struct {
			name string
			v    *int
		}{{"topLeftX", r.TopLeftX}, {"topLeftY", r.TopLeftY}, {"width", r.Width}, {"height", r.Height}} {
			if f.v == nil {
				return nil, fmt.Errorf("%w: ignores: region %d: missing %q", ErrOption, k+1, f.name)
			}
		}
		reg := Region{TopLeftX: *r.TopLeftX, TopLeftY: *r.TopLeftY, Width: *r.Width, Height: *r.Height}
		if reg.TopLeftX < 0 || reg.TopLeftY < 0 {
			return nil, fmt.Errorf("%w: ignores: region %d: topLeftX and topLeftY must be at least 0, got %d, %d", ErrOption, k+1, reg.TopLeftX, reg.TopLeftY)
		}
		if reg.Width <= 0 || reg.Height <= 0 {
			return nil, fmt.Errorf("%w: ignores: region %d: width and height must be positive, got %dx%d", ErrOption, k+1, reg.Width, reg.Height)
		}
		rs[k] = reg.Rect()
	}
	return rs, nil
}

// validIgnores checks the ignore regions of p: a rectangle whose Min is
// not above and left of its Max (which image.Rect would turn into one
// holding pixels the caller did not name) is an error.
func (p *Params) validIgnores() error {
	for k, r := range p.Ignores {
		if r.Min.X > r.Max.X || r.Min.Y > r.Max.Y {
			return fmt.Errorf("%w: ignores[%d] %v: Min is not above and left of Max", ErrOption, k, r)
		}
	}
	return nil
}

// clearIgnores clears the ignore regions of p in m.
func (p *Params) clearIgnores(m *mask.Mask) {
	for _, r := range p.Ignores {
		if r.Min.X > r.Max.X || r.Min.Y > r.Max.Y {
			continue // refused by validIgnores; never a region that covers more
		}
		m.Clear(r)
	}
}
