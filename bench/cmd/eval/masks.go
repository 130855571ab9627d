package main

import (
	"image"
	"math"
	"slices"

	"github.com/veilkit/veil/mask"
)

// rasterize returns the pixels of the image rectangle r covered by the
// polygons (each [x1, y1, x2, y2, …], at least three points, else it is
// skipped): a pixel (x, y) is covered when its centre (x+0.5, y+0.5) is
// inside a polygon by the even-odd rule, with the scanline convention that
// a centre exactly on a left edge is inside and one on a right edge is
// not. The polygons are OR-ed (an overlap of two of them stays covered).
// The mask's Rect is the polygons' bounding box clipped to r, 255 inside.
func rasterize(polys [][]float32, r image.Rectangle) *mask.Mask {
	bound := image.Rectangle{}
	for _, p := range polys {
		if len(p) < 6 {
			continue
		}
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for i := 0; i+1 < len(p); i += 2 {
			x, y := float64(p[i]), float64(p[i+1])
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
		}
		// A covered column x has x0 <= x+0.5 < x1, so floor(x0) <= x <
		// ceil(x1); likewise for rows.
		b := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1)))
		bound = bound.Union(b)
	}
	m := mask.New(bound.Intersect(r))
	if m.Rect.Empty() {
		return m
	}
	w := m.Rect.Dx()
	var xs []float64
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		yc := float64(y) + 0.5
		row := m.Pix[(y-m.Rect.Min.Y)*w : (y-m.Rect.Min.Y+1)*w]
		for _, p := range polys {
			if len(p) < 6 {
				continue
			}
			xs = xs[:0]
			n := len(p) / 2
			for i := range n {
				j := (i + 1) % n
				ax, ay := float64(p[2*i]), float64(p[2*i+1])
				bx, by := float64(p[2*j]), float64(p[2*j+1])
				// Half-open in y, so a vertex on the scanline is counted
				// once and horizontal edges never.
				if (ay <= yc && yc < by) || (by <= yc && yc < ay) {
					xs = append(xs, ax+(yc-ay)*(bx-ax)/(by-ay))
				}
			}
			slices.Sort(xs)
			for k := 0; k+1 < len(xs); k += 2 {
				// Columns whose centre x+0.5 is in [xs[k], xs[k+1]).
				lo := max(int(math.Ceil(xs[k]-0.5)), m.Rect.Min.X)
				hi := min(int(math.Ceil(xs[k+1]-0.5)), m.Rect.Max.X)
				for x := lo; x < hi; x++ {
					row[x-m.Rect.Min.X] = 255
				}
			}
		}
	}
	return m
}

// covered reports whether m covers (x, y) (coverage >= 128, mask's rule);
// a nil mask covers nothing.
func covered(m *mask.Mask, x, y int) bool {
	return m != nil && m.At(x, y) >= 128
}

// maskIoU returns the intersection over union of the pixels covered by a
// and b, 0 when neither covers any.
func maskIoU(a, b *mask.Mask) float64 {
	var r image.Rectangle
	for _, m := range []*mask.Mask{a, b} {
		if m != nil {
			r = r.Union(m.Rect)
		}
	}
	inter, union := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca, cb := covered(a, x, y), covered(b, x, y)
			if ca && cb {
				inter++
			}
			if ca || cb {
				union++
			}
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// leaked returns how many pixels gt covers and how many of them the
// anonymization mask anon (white = anonymized, in the same pixels as gt)
// leaves black or does not reach.
func leaked(gt *mask.Mask, anon *image.Gray) (area, left int) {
	if gt == nil {
		return 0, 0
	}
	for y := gt.Rect.Min.Y; y < gt.Rect.Max.Y; y++ {
		for x := gt.Rect.Min.X; x < gt.Rect.Max.X; x++ {
			if !covered(gt, x, y) {
				continue
			}
			area++
			if anon == nil || !image.Pt(x, y).In(anon.Rect) || anon.Pix[anon.PixOffset(x, y)] < 128 {
				left++
			}
		}
	}
	return area, left
}

// maskStats accumulate the segmentation scores of one subset over the
// images of a dataset.
//
//   - iouSum, n: the sum and number of the mask IoUs of the counted
//     ground-truth objects that have a non-empty polygon mask and are
//     matched to a detection (IoU of the detection's Object.Mask and the
//     polygon mask);
//   - area: the polygon pixels of all counted ground-truth objects of the
//     subset (matched or not; crowd regions and ignored objects are left
//     out), summed per object;
//   - areaHit: the part of area in matched objects;
//   - leftMissed, leftHit: the pixels of area not covered by the image's
//     anonymization mask (Result.BinaryMask), in objects no detection
//     matched and in matched ones. leak = (leftMissed + leftHit) / area.
type maskStats struct {
	iouSum              float64
	n                   int
	area, areaHit       int
	leftMissed, leftHit int
}

func (s *maskStats) add(o maskStats) {
	s.iouSum += o.iouSum
	s.n += o.n
	s.area += o.area
	s.leftMissed += o.leftMissed
	s.leftHit += o.leftHit
	s.areaHit += o.areaHit
}

// scoreMasks scores one image's subset: gts are its ground truth, by
// the index in dets (or -1) of the detection matched to each (assign),
// dmasks the detections' masks, gtMask the polygon mask of each object
// of the sample (by gtBox.src; nil for an object without polygons) and
// anon the anonymization mask. All masks are in the same pixels.
func scoreMasks(gts []gtBox, by []int, dets []detBox, dmasks []*mask.Mask, gtMask []*mask.Mask, anon *image.Gray) maskStats {
	var s maskStats
	for k, g := range gts {
		gm := gtMask[g.src]
		if g.crowd || g.ignore || gm == nil {
			continue
		}
		area, left := leaked(gm, anon)
		s.area += area
		if by[k] < 0 {
			s.leftMissed += left
			continue
		}
		s.leftHit += left
		s.areaHit += area
		if area > 0 {
			s.iouSum += maskIoU(dmasks[dets[by[k]].src], gm)
			s.n++
		}
	}
	return s
}
