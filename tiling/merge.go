package tiling

import (
	"cmp"
	"slices"
	"sort"

	"github.com/veilkit/veil/detect"
)

// Rule parameters of Merge.
const (
	// seamTol is the distance, as a fraction of the largest tile's extent
	// (and at least seamTolMin pixels), within which a box edge counts as
	// lying on a seam.
	seamTol    = 0.01
	seamTolMin = 2
	// alongMin is the least overlap, as a fraction of the shorter extent,
	// of two parts of an object cut by a seam, measured along the seam.
	alongMin = 0.5
	// insideMin is the least fraction of a cut box's area inside another
	// box for it to be a partial view of that box's object.
	insideMin = 0.7
)

// Merge joins the detections found in overlapping tiles, given in the
// image's coordinates (as Tile.Map returns them), and returns them by
// decreasing score, reusing dets' storage.
//
// A seam is an edge of a tile (or of either part of a wrap-around tile)
// that is not an edge of the image, the union of the tiles; the image's
// left and right edges are not seams even for a panorama, since a box
// cannot cross them (Map has already split such objects in two). A box's
// left edge is on a seam when it lies within tol of some tile's left edge
// that is a seam, and likewise for the right, top and bottom edges;
// tol = max(2 px, 1% of the largest tile's width, or height for the top
// and bottom edges).
//
// Two detections of the same class are one object, and are joined, when
//
//  1. they are the two parts of an object cut by a vertical seam: the
//     left one's right edge and the right one's left edge are on seams,
//     the right one starts at most 2·tol after the left one ends (the
//     parts touch or overlap across the seam line) and ends further
//     right, and their vertical extents overlap by at least half the
//     shorter one; or the same across a horizontal seam; or
//  2. one is a view of the other cut by a seam: the smaller box has an
//     edge on a seam and at least 70% of its area lies in the other box.
//
// The joined detection has the union of the two boxes, the higher of the
// two scores, and the label and points of the better one: the one whose
// own box is larger, having seen more of the object (for rule 2, the
// whole view), or at equal areas the higher-scoring one; a detection
// joined before competes with the box it took its points from, not with
// the union. Joining goes on until no two detections join, so an object
// cut by several seams becomes one box. Last, detect.NMS with the given
// iou drops the duplicates of objects seen whole by more than one tile;
// a detection of a class in keep that it dropped and that no kept one
// matches with IoU at least 0.5 is put back (detect.Superset): for those
// classes Merge may join and drop duplicates, never lose what a detector
// found. Different classes never merge. With a single tile there are no
// seams and Merge is that NMS.
func Merge(dets []detect.Detection, tiles []Tile, iou float32, keep ...detect.Class) []detect.Detection {
	s := seamsOf(tiles)
	if len(dets) > 1 && !s.none() {
		items := make([]item, len(dets))
		for i, d := range dets {
			items[i] = item{d: d, cut: s.cuts(d.Box), size: d.Box.Area()}
		}
		// Sweep by left edge: two boxes can only join when the second
		// starts at most 2·tol after the first ends. Joined boxes grow,
		// so sweep again until nothing joins.
		for changed := true; changed; {
			changed = false
			slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.d.Box.X1, b.d.Box.X1) })
			for i := range items {
				if items[i].dead {
					continue
				}
				for j := i + 1; j < len(items) && items[j].d.Box.X1 <= items[i].d.Box.X2+2*s.tolX; j++ {
					if !items[j].dead && items[i].d.Class == items[j].d.Class && s.same(items[i], items[j]) {
						items[i] = s.join(items[i], items[j])
						items[j].dead = true
						changed = true
					}
				}
			}
			items = slices.DeleteFunc(items, func(it item) bool { return it.dead })
		}
		dets = dets[:len(items)]
		for i, it := range items {
			dets[i] = it.d
		}
	}
	if len(keep) == 0 {
		return detect.NMS(dets, iou)
	}
	// NMS keeps the strongest of overlapping boxes; what of keep's classes
	// it drops comes back unless a kept box matches it (IoU ≥ 0.5), so
	// that a weaker detection of another object (or a differently framed
	// one of the same object, whose pixels the kept box leaves out) stays
	// anonymized.
	var must []detect.Detection
	for _, d := range dets {
		if slices.Contains(keep, d.Class) {
			must = append(must, d)
		}
	}
	return detect.Superset(detect.NMS(dets, iou), must, keepIoU)
}

// keepIoU is the overlap with a kept detection above which Merge lets NMS
// drop a detection.
const keepIoU = 0.5

// Which edges of a box lie on a seam.
const (
	cutLeft = 1 << iota
	cutRight
	cutTop
	cutBottom
)

// An item is a detection, which of its edges lie on seams, and the area
// of the box whose label and points it carries (before any join).
type item struct {
	d    detect.Detection
	cut  uint8
	size float32
	dead bool // joined into another
}

// seams are the tiles' edges that are not the image's, by side, sorted.
type seams struct {
	left, right, top, bottom []float32
	tolX, tolY               float32
}

func seamsOf(tiles []Tile) *seams {
	img := emptyRect()
	pieces := make([][4]int, 0, 2*len(tiles))
	var tw, th int
	for _, t := range tiles {
		for _, r := range [...][4]int{
			{t.Rect.Min.X, t.Rect.Min.Y, t.Rect.Max.X, t.Rect.Max.Y},
			{t.Wrap.Min.X, t.Wrap.Min.Y, t.Wrap.Max.X, t.Wrap.Max.Y},
		} {
			if r[0] >= r[2] || r[1] >= r[3] {
				continue
			}
			pieces = append(pieces, r)
			img = [4]int{min(img[0], r[0]), min(img[1], r[1]), max(img[2], r[2]), max(img[3], r[3])}
		}
		b := t.Bounds()
		tw, th = max(tw, b.Dx()), max(th, b.Dy())
	}
	s := &seams{
		tolX: max(seamTolMin, seamTol*float32(tw)),
		tolY: max(seamTolMin, seamTol*float32(th)),
	}
	for _, r := range pieces {
		if r[0] > img[0] {
			s.left = append(s.left, float32(r[0]))
		}
		if r[2] < img[2] {
			s.right = append(s.right, float32(r[2]))
		}
		if r[1] > img[1] {
			s.top = append(s.top, float32(r[1]))
		}
		if r[3] < img[3] {
			s.bottom = append(s.bottom, float32(r[3]))
		}
	}
	for _, l := range []*[]float32{&s.left, &s.right, &s.top, &s.bottom} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return s
}

func emptyRect() [4]int {
	const big = int(^uint(0) >> 1)
	return [4]int{big, big, -big, -big}
}

func (s *seams) none() bool {
	return len(s.left)+len(s.right)+len(s.top)+len(s.bottom) == 0
}

// near reports whether some v in the sorted list lies within tol of x.
func near(list []float32, x, tol float32) bool {
	i := sort.Search(len(list), func(i int) bool { return list[i] >= x-tol })
	return i < len(list) && list[i] <= x+tol
}

// cuts returns which edges of b lie on seams.
func (s *seams) cuts(b detect.Box) uint8 {
	var c uint8
	if near(s.left, b.X1, s.tolX) {
		c |= cutLeft
	}
	if near(s.right, b.X2, s.tolX) {
		c |= cutRight
	}
	if near(s.top, b.Y1, s.tolY) {
		c |= cutTop
	}
	if near(s.bottom, b.Y2, s.tolY) {
		c |= cutBottom
	}
	return c
}

// same reports whether a and b (of one class) are one object by Merge's
// rules 1 and 2.
func (s *seams) same(a, b item) bool {
	if a.cut == 0 && b.cut == 0 {
		return false
	}
	if s.partsX(a, b) || s.partsX(b, a) || s.partsY(a, b) || s.partsY(b, a) {
		return true
	}
	small, large := a, b
	if b.d.Box.Area() < a.d.Box.Area() {
		small, large = b, a
	}
	sa := small.d.Box.Area()
	return small.cut != 0 && sa > 0 && small.d.Box.Intersect(large.d.Box).Area() >= insideMin*sa
}

// partsX reports whether p and q are the left and right parts of an
// object cut by a vertical seam.
func (s *seams) partsX(p, q item) bool {
	a, b := p.d.Box, q.d.Box
	return p.cut&cutRight != 0 && q.cut&cutLeft != 0 &&
		b.X1 > a.X1 && b.X2 > a.X2 && b.X1 <= a.X2+2*s.tolX &&
		along(a.Y1, a.Y2, b.Y1, b.Y2)
}

// partsY reports whether p and q are the upper and lower parts of an
// object cut by a horizontal seam.
func (s *seams) partsY(p, q item) bool {
	a, b := p.d.Box, q.d.Box
	return p.cut&cutBottom != 0 && q.cut&cutTop != 0 &&
		b.Y1 > a.Y1 && b.Y2 > a.Y2 && b.Y1 <= a.Y2+2*s.tolY &&
		along(a.X1, a.X2, b.X1, b.X2)
}

// along reports whether [a1, a2) and [b1, b2) overlap by at least
// alongMin of the shorter.
func along(a1, a2, b1, b2 float32) bool {
	short := min(a2-a1, b2-b1)
	return short > 0 && min(a2, b2)-max(a1, b1) >= alongMin*short
}

// join returns the detection that a and b, one object, become.
func (s *seams) join(a, b item) item {
	better := a
	if b.size > a.size || b.size == a.size && b.d.Score > a.d.Score {
		better = b
	}
	d := better.d
	d.Score = max(a.d.Score, b.d.Score)
	x, y := a.d.Box, b.d.Box
	d.Box = detect.Box{X1: min(x.X1, y.X1), Y1: min(x.Y1, y.Y1), X2: max(x.X2, y.X2), Y2: max(x.Y2, y.Y2)}
	return item{d: d, cut: s.cuts(d.Box), size: better.size}
}
