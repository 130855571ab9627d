package tiling

import (
	"image"
	"math"

	"github.com/veilkit/veil/detect"
)

// A Tile is one region to run the detectors on.
//
// Most tiles are a rectangle of the image. A wrap-around tile of a
// panorama straddles the seam where the image's right edge meets its left
// edge: Rect is its part at the right edge and Wrap the part that goes on
// from the left edge, on the same rows. Such a tile is seen "unrolled":
// its pixels are those of Rect followed by those of Wrap, in the region
// Bounds of the image Image returns, where x ≥ Rect.Max.X stands for
// x − width of the image. Map brings the detections back.
//
// To run a detector d on a tile t of img:
//
//	dets, err := d.Detect(ctx, t.Image(img), t.Bounds(), minScore)
//	dets = t.Map(dets)
type Tile struct {
	Rect image.Rectangle
	// Wrap is empty except for a wrap-around tile.
	Wrap image.Rectangle
}

// Wraps reports whether t is a wrap-around tile.
func (t Tile) Wraps() bool { return !t.Wrap.Empty() }

// Bounds returns the region the detectors look at: Rect for an ordinary
// tile; for a wrap-around tile, Rect widened to the right by Wrap's width.
func (t Tile) Bounds() image.Rectangle {
	if !t.Wraps() {
		return t.Rect
	}
	r := t.Rect
	r.Max.X += t.Wrap.Dx()
	return r
}

// period returns the width of the panorama a wrap-around tile wraps.
func (t Tile) period() int { return t.Rect.Max.X - t.Wrap.Min.X }

// Image returns the image the detectors look at for t: img itself for an
// ordinary tile; for a wrap-around tile, a new image whose bounds are
// t.Bounds(), holding Rect's pixels of img followed by Wrap's.
func (t Tile) Image(img *image.RGBA) *image.RGBA {
	if !t.Wraps() {
		return img
	}
	b := t.Bounds()
	out := image.NewRGBA(b)
	copyRect(out, b.Min, img, t.Rect)
	copyRect(out, image.Pt(t.Rect.Max.X, b.Min.Y), img, t.Wrap)
	return out
}

// copyRect copies the part r of src to dst, r.Min going to at; pixels
// outside src or dst are skipped.
func copyRect(dst *image.RGBA, at image.Point, src *image.RGBA, r image.Rectangle) {
	d := r.Intersect(src.Rect).Sub(r.Min).Add(at).Intersect(dst.Rect)
	if d.Empty() {
		return
	}
	c := d.Sub(at).Add(r.Min) // d in src's coordinates
	n := d.Dx() * 4
	for y := range d.Dy() {
		i := dst.PixOffset(d.Min.X, d.Min.Y+y)
		j := src.PixOffset(c.Min.X, c.Min.Y+y)
		copy(dst.Pix[i:i+n], src.Pix[j:j+n])
	}
}

// Map returns the detections found in t.Bounds() of t.Image(img) in the
// image's coordinates, clipped to the tile, reusing dets' storage when it
// can. A detection of a wrap-around tile that lies past Rect.Max.X moves
// left by the width of the image; one that crosses that seam becomes two,
// its part at the right edge and its part at the left edge, without
// points (they would span the whole image). Empty boxes are dropped.
func (t Tile) Map(dets []detect.Detection) []detect.Detection {
	b := t.Bounds()
	if !t.Wraps() {
		out := dets[:0]
		for _, d := range dets {
			d.Box = d.Box.Clip(b)
			if d.Box.Area() > 0 {
				out = append(out, d)
			}
		}
		return out
	}
	seam := float32(t.Rect.Max.X)
	p := float32(t.period())
	var out []detect.Detection
	for _, d := range dets {
		d.Box = d.Box.Clip(b)
		switch {
		case d.Box.Area() == 0:
		case d.Box.X2 <= seam:
			d.Points = wrapPoints(d.Points, seam, p)
			out = append(out, d)
		case d.Box.X1 >= seam:
			d.Box = d.Box.Translate(-p, 0)
			d.Points = wrapPoints(d.Points, seam, p)
			out = append(out, d)
		default:
			right, left := d, d
			right.Box.X2 = seam
			left.Box = detect.Box{X1: seam, Y1: d.Box.Y1, X2: d.Box.X2, Y2: d.Box.Y2}.Translate(-p, 0)
			right.Points, left.Points = nil, nil
			out = append(out, right, left)
		}
	}
	return out
}

// wrapPoints returns pts with those at or past the seam moved left by p.
func wrapPoints(pts []detect.Point, seam, p float32) []detect.Point {
	if pts == nil {
		return nil
	}
	out := make([]detect.Point, len(pts))
	for i, q := range pts {
		if q.X >= seam {
			q.X -= p
		}
		out[i] = q
	}
	return out
}

// Tiles returns the tiles to run the detectors on for an image with the
// given bounds, row by row, each row's wrap-around tile (if f.Wrap) after
// its others. A whole format gives one tile, the bounds; empty bounds give
// none.
//
// The grid always spans the actual bounds. Along a length L cut into n
// tiles with overlap o, a tile is T = L / (n − (n−1)·o) long and tiles
// start every T·(1−o); the integer rectangles are widened outwards to
// whole pixels, so that every pixel is covered, and the last one ends at
// the edge. No tile is cut shorter than [MinTile] pixels: along an axis
// shorter than n·MinTile the grid has fewer tiles (one below 2·MinTile),
// so that a grid asked of a small image does not multiply the work by
// thousands of slivers. A wrap-around tile is as wide as the others (at most
// the image), half of it at each edge.
func (f Format) Tiles(bounds image.Rectangle) []Tile {
	if bounds.Empty() {
		return nil
	}
	if f.Whole() {
		return []Tile{{Rect: bounds}}
	}
	ox, oy := clampOverlap(f.OverlapX), clampOverlap(f.OverlapY)
	xs, tw := spans(bounds.Dx(), f.Cols, ox)
	ys, _ := spans(bounds.Dy(), f.Rows, oy)
	var wa, wb int // a wrap-around tile's widths at the right and left edge
	if f.Wrap && bounds.Dx() >= 2 {
		w := min(max(int(math.Round(tw)), 2), bounds.Dx())
		wa = (w + 1) / 2
		wb = w - wa
	}
	out := make([]Tile, 0, len(ys)*(len(xs)+1))
	for _, y := range ys {
		y0, y1 := bounds.Min.Y+y[0], bounds.Min.Y+y[1]
		for _, x := range xs {
			out = append(out, Tile{Rect: image.Rect(bounds.Min.X+x[0], y0, bounds.Min.X+x[1], y1)})
		}
		if wa > 0 {
			out = append(out, Tile{
				Rect: image.Rect(bounds.Max.X-wa, y0, bounds.Max.X, y1),
				Wrap: image.Rect(bounds.Min.X, y0, bounds.Min.X+wb, y1),
			})
		}
	}
	return out
}

func clampOverlap(o float64) float64 {
	if !(o >= 0) { // NaN too
		return 0
	}
	return min(o, MaxOverlap)
}

// spans cuts [0, l) into at most n overlapping intervals, none shorter than
// MinTile unless l is, and returns them with the nominal interval length.
func spans(l, n int, o float64) ([][2]int, float64) {
	n = max(min(n, l/MinTile), 1)
	t := float64(l) / (float64(n) - float64(n-1)*o)
	step := t * (1 - o)
	const eps = 1e-9
	out := make([][2]int, 0, n)
	for i := range n {
		s := int(math.Floor(float64(i)*step + eps))
		e := int(math.Ceil(float64(i)*step + t - eps))
		if i == n-1 {
			e = l
		}
		s, e = max(s, 0), min(e, l)
		if k := len(out) - 1; k >= 0 {
			s = min(s, out[k][1]) // never leave a gap
			if s <= out[k][0] {   // would repeat the last one: widen it
				out[k][1] = max(out[k][1], e)
				continue
			}
		}
		out = append(out, [2]int{s, e})
	}
	return out, t
}
