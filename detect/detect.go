// Package detect finds objects in images with ONNX detectors: it owns each
// model family's pre-processing, output decoding and non-maximum
// suppression. It knows nothing of tiling or anonymization.
package detect

import (
	"context"
	"image"
	"sort"
)

// Class is the kind of object a detection is.
type Class uint8

// The classes veil anonymizes.
const (
	Face Class = iota + 1
	LicensePlate
	Person
	Vehicle
)

// String returns the class name as the Celantur API spells it.
func (c Class) String() string {
	switch c {
	case Face:
		return "face"
	case LicensePlate:
		return "license-plate"
	case Person:
		return "person"
	case Vehicle:
		return "vehicle"
	}
	return "unknown"
}

// Point is a position in image pixels.
type Point struct{ X, Y float32 }

// Box is an axis-aligned box in image pixels, X2 and Y2 exclusive.
type Box struct{ X1, Y1, X2, Y2 float32 }

// W returns the box width (0 if empty).
func (b Box) W() float32 { return max(0, b.X2-b.X1) }

// H returns the box height (0 if empty).
func (b Box) H() float32 { return max(0, b.Y2-b.Y1) }

// Area returns the box area.
func (b Box) Area() float32 { return b.W() * b.H() }

// Intersect returns the intersection of b and o (possibly empty).
func (b Box) Intersect(o Box) Box {
	return Box{max(b.X1, o.X1), max(b.Y1, o.Y1), min(b.X2, o.X2), min(b.Y2, o.Y2)}
}

// IoU returns the intersection over union of b and o.
func (b Box) IoU(o Box) float32 {
	in := b.Intersect(o).Area()
	if in == 0 {
		return 0
	}
	return in / (b.Area() + o.Area() - in)
}

// Rect returns the smallest integer rectangle that covers b.
func (b Box) Rect() image.Rectangle {
	return image.Rect(int(floor(b.X1)), int(floor(b.Y1)), int(ceil(b.X2)), int(ceil(b.Y2)))
}

// Clip returns b clipped to r.
func (b Box) Clip(r image.Rectangle) Box {
	return b.Intersect(Box{float32(r.Min.X), float32(r.Min.Y), float32(r.Max.X), float32(r.Max.Y)})
}

// Translate returns b moved by (dx, dy).
func (b Box) Translate(dx, dy float32) Box { return Box{b.X1 + dx, b.Y1 + dy, b.X2 + dx, b.Y2 + dy} }

func floor(v float32) float32 {
	i := float32(int(v))
	if i > v {
		i--
	}
	return i
}

func ceil(v float32) float32 { return -floor(-v) }

// Detection is one object found in an image.
type Detection struct {
	Class Class
	Label string // the detector's own label, e.g. "car" for a Vehicle
	Score float32
	Box   Box
	// Points are the detector's key points in image pixels: a face's five
	// landmarks (right eye, left eye, nose, right and left mouth corner) or
	// a plate's four corners; nil when the detector has none.
	Points []Point
}

// A Detector finds objects in an image. Implementations must be safe for
// concurrent use.
type Detector interface {
	// Classes returns the classes the detector can report.
	Classes() []Class
	// Detect returns the detections in the part r of img with a score of
	// at least minScore, in img's coordinates.
	Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error)
}

// A Tiled detector adds a pass over tiles of the image for small
// objects. A caller that runs it on regions already small, such as the
// vehicles of a plate cascade, turns that pass off.
type Tiled interface {
	Detector
	// WithoutTiles returns the detector, sharing its model, without its
	// tile pass.
	WithoutTiles() Detector
}

// An InputSizer is a detector whose network has a fixed input size. A
// region is stretched to that size, so the engine sizes its zoom passes
// (tiles, crops) by it.
type InputSizer interface {
	InputSize() (w, h int)
}

// Calibrate maps a raw detector score s in [0, 1] to a confidence by
// multiplying its odds by k: k·s / (1 + (k−1)·s). The map is strictly
// increasing and keeps 0 and 1; k = 1 leaves s unchanged and k > 1 raises
// it (a logit shifted by ln k, i.e. Platt scaling with unit slope).
func Calibrate(s, k float32) float32 {
	if k == 1 || k <= 0 {
		return s
	}
	return k * s / (1 + (k-1)*s)
}

// NMS performs greedy non-maximum suppression per class: detections are
// taken by decreasing score and one is dropped when its IoU with a kept
// detection of the same class exceeds iou. It returns the kept detections
// by decreasing score, reusing dets' storage.
func NMS(dets []Detection, iou float32) []Detection {
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
	kept := dets[:0]
	for _, d := range dets {
		ok := true
		for _, k := range kept {
			if k.Class == d.Class && k.Box.IoU(d.Box) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
		}
	}
	return kept
}

// Superset returns kept followed by each detection of must that no
// detection of kept of the same class overlaps with IoU at least iou:
// what a merge of several passes (NMS) dropped for a stronger detection
// that does not cover it comes back, once. kept may be appended to in
// place.
func Superset(kept, must []Detection, iou float32) []Detection {
	for _, m := range must {
		found := false
		for _, k := range kept {
			if k.Class == m.Class && k.Box.IoU(m.Box) >= iou {
				found = true
				break
			}
		}
		if !found {
			kept = append(kept, m)
		}
	}
	return kept
}
