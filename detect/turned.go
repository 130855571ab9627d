package detect

import (
	"context"
	"fmt"
	"image"
)

// Turned runs a detector on a region as it is and once more turned by
// each of Turns quarter turns, and merges what the passes find. A face
// model trained on upright faces misses faces lying on their side or
// upside down (a person lying down, a head thrown back); turned, they
// are upright. Each turn costs one more pass of the detector.
//
// What the unturned pass finds is always kept: the merge drops a
// detection of a turned pass for a stronger overlapping one (IoU above
// NMSIoU), but a detection of the unturned pass only for one that covers
// it (IoU 0.5 or more).
type Turned struct {
	Detector
	// Turns are the extra passes' quarter turns clockwise: 1, 2 or 3.
	Turns []int
	// NMSIoU is the overlap above which the weaker of two detections of
	// one class is dropped.
	NMSIoU float32
	// MinScore, when above the caller's threshold, is the least score of
	// a detection of a turned pass: a turned image shows the detector
	// scenes unlike those it was trained on, where it finds more false
	// objects.
	MinScore float32
}

// Detect finds the objects in the part r of img, upright and turned.
func (t *Turned) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	for _, q := range t.Turns {
		if q < 1 || q > 3 {
			return nil, fmt.Errorf("detect: Turned: %d quarter turns, want 1, 2 or 3", q)
		}
	}
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return nil, nil
	}
	upright, err := t.Detector.Detect(ctx, img, r, minScore)
	if err != nil {
		return nil, err
	}
	all := append([]Detection(nil), upright...)
	for _, q := range t.Turns {
		turned := Turn(img, r, q)
		dets, err := t.Detector.Detect(ctx, turned, turned.Rect, max(minScore, t.MinScore))
		if err != nil {
			return nil, err
		}
		w, h := float32(r.Dx()), float32(r.Dy())
		back := func(p Point) Point {
			p = unturn(p, q, w, h)
			return Point{p.X + float32(r.Min.X), p.Y + float32(r.Min.Y)}
		}
		for _, d := range dets {
			a, b := back(Point{d.Box.X1, d.Box.Y1}), back(Point{d.Box.X2, d.Box.Y2})
			d.Box = Box{min(a.X, b.X), min(a.Y, b.Y), max(a.X, b.X), max(a.Y, b.Y)}
			if d.Points != nil {
				ps := make([]Point, len(d.Points))
				for i, p := range d.Points {
					ps[i] = back(p)
				}
				d.Points = ps
			}
			all = append(all, d)
		}
	}
	return Superset(NMS(all, t.NMSIoU), upright, supersetIoU), nil
}

// Turn returns the part r of img turned clockwise by q quarter turns
// (0 to 3), as a new image whose bounds start at (0, 0).
func Turn(img *image.RGBA, r image.Rectangle, q int) *image.RGBA {
	r = r.Intersect(img.Rect)
	w, h := r.Dx(), r.Dy()
	q = (q%4 + 4) % 4
	dw, dh := w, h
	if q%2 == 1 {
		dw, dh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):]
		for x := 0; x < w; x++ {
			// Source pixel (x, y) lands on (dx, dy).
			var dx, dy int
			switch q {
			case 0:
				dx, dy = x, y
			case 1:
				dx, dy = h-1-y, x
			case 2:
				dx, dy = w-1-x, h-1-y
			case 3:
				dx, dy = y, w-1-x
			}
			o := dy*out.Stride + dx*4
			copy(out.Pix[o:o+4], row[x*4:x*4+4])
		}
	}
	return out
}

// unturn maps a point of a w×h region turned clockwise by q quarter turns
// back to the region's own coordinates (pixel edges, origin at its
// top-left corner).
func unturn(p Point, q int, w, h float32) Point {
	switch q {
	case 1: // (x, y) went to (h−y, x)
		return Point{p.Y, h - p.X}
	case 2: // (x, y) went to (w−x, h−y)
		return Point{w - p.X, h - p.Y}
	case 3: // (x, y) went to (y, w−x)
		return Point{w - p.Y, p.X}
	}
	return p
}
