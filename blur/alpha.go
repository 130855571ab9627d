package blur

import (
	"image"
	"math"

	"github.com/veilkit/veil/mask"
)

// Alpha is a coverage mask: a mask.Mask, whose
// Pix[(y-Rect.Min.Y)*Rect.Dx()+(x-Rect.Min.X)] is the coverage of pixel
// (x, y), 255 = fully anonymized, 0 = unchanged (and whose Clear cuts out
// an ignore region).
//
// An Alpha whose Pix is shorter than Rect's area is treated as empty by
// every function of the package. The functions that make an Alpha return
// nil rather than one of more than 2³² pixels, far beyond any image.
type Alpha = mask.Mask

// Point is a point in image pixels, in continuous coordinates: pixel (x, y)
// covers [x, x+1)×[y, y+1).
type Point struct{ X, Y float64 }

// Gradient gives a shape a soft edge (Celantur's gradient-start and
// gradient-stop). The outer shape is the shape scaled about its centre by
// 1+2*Start (a box grows by Start times its size on each side), the inner
// shape the shape scaled by max(0, 1-2*Stop) (a box shrinks by Stop times
// its size on each side). Alpha is 255 inside the inner shape, 0 outside
// the outer shape, and falls smoothly (smoothstep of the gauge, see the
// package documentation) in between. Start = Stop = 0 gives a hard edge
// anti-aliased over about one pixel outside the shape. Negative and NaN
// values count as 0.
type Gradient struct{ Start, Stop float64 }

// maxAlphaPixels is the largest area of an Alpha the package allocates;
// a larger one is far beyond any image (and than a 32-bit int).
const maxAlphaPixels = min(1<<32, math.MaxInt)

// valid reports whether a is non-nil, covers a non-empty rectangle and has
// a byte for each of its pixels.
func valid(a *Alpha) bool {
	if a == nil {
		return false
	}
	w, h := a.Rect.Dx(), a.Rect.Dy() // which may overflow
	return w > 0 && h > 0 && a.Rect.Min.X < a.Rect.Max.X && a.Rect.Min.Y < a.Rect.Max.Y &&
		w <= len(a.Pix) && h <= len(a.Pix)/w
}

// newAlpha returns a zero Alpha over r, or nil if r is empty or too large.
func newAlpha(r image.Rectangle) *Alpha {
	w, h := r.Dx(), r.Dy()
	if r.Empty() || w <= 0 || h <= 0 || w > maxAlphaPixels || h > maxAlphaPixels/w {
		return nil
	}
	return &Alpha{Rect: r, Pix: make([]uint8, w*h)}
}

// Union returns the per-pixel maximum of the alphas over the union of their
// rectangles. Nil and empty alphas are skipped; Union returns nil if none
// is left.
func Union(as ...*Alpha) *Alpha {
	var r image.Rectangle
	for _, a := range as {
		if valid(a) {
			r = r.Union(a.Rect)
		}
	}
	u := newAlpha(r)
	if u == nil {
		return nil
	}
	uw := r.Dx()
	for _, a := range as {
		if !valid(a) {
			continue
		}
		w := a.Rect.Dx()
		for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
			src := a.Pix[(y-a.Rect.Min.Y)*w:][:w]
			dst := u.Pix[(y-r.Min.Y)*uw+a.Rect.Min.X-r.Min.X:][:w]
			for i, v := range src {
				dst[i] = max(dst[i], v)
			}
		}
	}
	return u
}

// ramp turns gauge values into alpha (see Gradient).
type ramp struct {
	si, so float64 // gauge of the inner and the outer shape
	inv    float64 // 1/(so-si)
}

// newRamp returns the ramp of g for a shape whose gauge grows by pixel per
// pixel of distance (1 over its smallest half size).
func newRamp(g Gradient, pixel float64) ramp {
	start, stop := g.Start, g.Stop
	if !(start > 0) {
		start = 0
	}
	if !(stop > 0) {
		stop = 0
	}
	si := math.Max(0, 1-2*stop)
	so := 1 + 2*start
	if so-si < pixel {
		so = si + pixel
	}
	return ramp{si: si, so: so, inv: 1 / (so - si)}
}

// at returns the alpha at gauge g.
func (r *ramp) at(g float64) uint8 {
	if g <= r.si {
		return 255
	}
	if !(g < r.so) {
		return 0
	}
	t := (g - r.si) * r.inv
	return uint8(255*(1-t*t*(3-2*t)) + 0.5)
}

// finite reports whether all of vs are finite.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// alphaFor returns a zero Alpha over the pixels that meet the continuous
// rectangle [x0,x1)×[y0,y1), clipped to bounds; nil if that is empty.
func alphaFor(x0, y0, x1, y1 float64, bounds image.Rectangle) *Alpha {
	fx0 := math.Max(math.Floor(x0), float64(bounds.Min.X))
	fy0 := math.Max(math.Floor(y0), float64(bounds.Min.Y))
	fx1 := math.Min(math.Ceil(x1), float64(bounds.Max.X))
	fy1 := math.Min(math.Ceil(y1), float64(bounds.Max.Y))
	if !(fx0 < fx1 && fy0 < fy1) {
		return nil
	}
	return newAlpha(image.Rect(int(fx0), int(fy0), int(fx1), int(fy1)).Intersect(bounds))
}

// box returns the centre and half sizes of the box with corners (x0, y0)
// and (x1, y1), in either order; ok is false if it is empty or not finite.
func box(x0, y0, x1, y1 float64) (cx, cy, hw, hh float64, ok bool) {
	if !finite(x0, y0, x1, y1) {
		return 0, 0, 0, 0, false
	}
	// Halve before subtracting, so that huge boxes do not overflow.
	hw, hh = math.Abs(x1/2-x0/2), math.Abs(y1/2-y0/2)
	cx, cy = x0/2+x1/2, y0/2+y1/2
	return cx, cy, hw, hh, hw > 0 && hh > 0
}

// BoxAlpha returns the alpha of the axis-aligned box [x0,x1)×[y0,y1) with
// gradient g, clipped to bounds; nil if that is empty. Swapped corners are
// put in order; a box with a non-finite coordinate is empty.
func BoxAlpha(x0, y0, x1, y1 float64, g Gradient, bounds image.Rectangle) *Alpha {
	cx, cy, hw, hh, ok := box(x0, y0, x1, y1)
	if !ok {
		return nil
	}
	// A box's gauge is max(gx, gy), and a ramp does not increase, so its
	// alpha is min(ramp(gx), ramp(gy)). The smallest ramp is one pixel wide
	// on each axis, so that a long thin box too is anti-aliased over one
	// pixel at its ends.
	rx, ry := newRamp(g, 1/hw), newRamp(g, 1/hh)
	a := alphaFor(cx-rx.so*hw, cy-ry.so*hh, cx+rx.so*hw, cy+ry.so*hh, bounds)
	if a == nil {
		return nil
	}
	w := a.Rect.Dx()
	col := make([]uint8, w)
	for i := range col {
		col[i] = rx.at(math.Abs(float64(a.Rect.Min.X+i)+0.5-cx) / hw)
	}
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		ay := ry.at(math.Abs(float64(y)+0.5-cy) / hh)
		row := a.Pix[(y-a.Rect.Min.Y)*w:][:w]
		for i, c := range col {
			row[i] = min(c, ay)
		}
	}
	return a
}

// EllipseAlpha returns the alpha of the ellipse inscribed in the box
// [x0,x1)×[y0,y1), with gradient g, clipped to bounds; nil if that is
// empty. Swapped corners are put in order; an ellipse with a non-finite
// coordinate is empty.
func EllipseAlpha(x0, y0, x1, y1 float64, g Gradient, bounds image.Rectangle) *Alpha {
	cx, cy, hw, hh, ok := box(x0, y0, x1, y1)
	if !ok {
		return nil
	}
	rp := newRamp(g, 1/math.Min(hw, hh))
	a := alphaFor(cx-rp.so*hw, cy-rp.so*hh, cx+rp.so*hw, cy+rp.so*hh, bounds)
	if a == nil {
		return nil
	}
	si2, so2 := rp.si*rp.si, rp.so*rp.so
	w := a.Rect.Dx()
	gx2 := make([]float64, w)
	for i := range gx2 {
		d := (float64(a.Rect.Min.X+i) + 0.5 - cx) / hw
		gx2[i] = d * d
	}
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		d := (float64(y) + 0.5 - cy) / hh
		gy2 := d * d
		row := a.Pix[(y-a.Rect.Min.Y)*w:][:w]
		for i, gx := range gx2 {
			switch g2 := gx + gy2; {
			case g2 <= si2:
				row[i] = 255
			case g2 < so2:
				row[i] = rp.at(math.Sqrt(g2))
			}
		}
	}
	return a
}

// PolygonAlpha returns the alpha of the convex polygon pts (in either
// winding, e.g. the four corners of a licence plate) with gradient g,
// clipped to bounds; nil if that is empty. A polygon that is not convex, has
// fewer than three corners or no area falls back to its bounding box, so
// that it is never covered less; one with a non-finite coordinate is empty.
func PolygonAlpha(pts []Point, g Gradient, bounds image.Rectangle) *Alpha {
	if len(pts) == 0 {
		return nil
	}
	x0, y0, x1, y1 := pts[0].X, pts[0].Y, pts[0].X, pts[0].Y
	for _, p := range pts {
		if !finite(p.X, p.Y) {
			return nil
		}
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	edges, c, minH, ok := convexEdges(pts)
	if !ok {
		return BoxAlpha(x0, y0, x1, y1, g, bounds)
	}
	rp := newRamp(g, 1/minH)
	// The outer polygon is the polygon scaled by so about c.
	a := alphaFor(c.X+rp.so*(x0-c.X), c.Y+rp.so*(y0-c.Y), c.X+rp.so*(x1-c.X), c.Y+rp.so*(y1-c.Y), bounds)
	if a == nil {
		return nil
	}
	w := a.Rect.Dx()
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		dy := float64(y) + 0.5 - c.Y
		row := a.Pix[(y-a.Rect.Min.Y)*w:][:w]
		for i := range row {
			dx := float64(a.Rect.Min.X+i) + 0.5 - c.X
			gg := 0.0
			for _, e := range edges {
				gg = math.Max(gg, e.X*dx+e.Y*dy)
			}
			row[i] = rp.at(gg)
		}
	}
	return a
}

// convexEdges returns, for the convex polygon pts, the outward normals of
// its edges divided by their distances from the centre c (the mean of the
// vertices), so that the gauge at p is the largest dot product with p−c,
// and the smallest of those distances. ok is false if pts is not a convex
// polygon with an area.
func convexEdges(pts []Point) (edges []Point, c Point, minH float64, ok bool) {
	n := len(pts)
	if n < 3 {
		return nil, c, 0, false
	}
	var size float64
	for _, p := range pts {
		c.X += p.X
		c.Y += p.Y
	}
	c.X /= float64(n)
	c.Y /= float64(n)
	for _, p := range pts {
		size = math.Max(size, math.Max(math.Abs(p.X-c.X), math.Abs(p.Y-c.Y)))
	}
	eps := 1e-9 * size
	minH = math.Inf(1)
	var prev Point // the previous edge's direction
	for i, p := range pts {
		q := pts[(i+1)%n]
		ex, ey := q.X-p.X, q.Y-p.Y
		l := math.Hypot(ex, ey)
		if !(l > eps) {
			continue // a repeated vertex
		}
		// With every vertex on c's side of every edge's line (below), the
		// edges run along the outline of the vertices' convex hull; one
		// that turns straight back, retracing the outline, may leave a
		// side of the hull without an edge.
		d := Point{ex / l, ey / l}
		if len(edges) > 0 && math.Abs(prev.X*d.Y-prev.Y*d.X) <= 1e-12 && prev.X*d.X+prev.Y*d.Y < 0 {
			return nil, c, 0, false
		}
		prev = d
		nx, ny := ey/l, -ex/l
		h := nx*(p.X-c.X) + ny*(p.Y-c.Y)
		if h < 0 {
			nx, ny, h = -nx, -ny, -h
		}
		if !(h > eps) {
			return nil, c, 0, false // c on the edge's line: no area, or not convex
		}
		// Every vertex must lie on c's side of the edge's line.
		for _, v := range pts {
			if nx*(v.X-c.X)+ny*(v.Y-c.Y) > h+eps {
				return nil, c, 0, false
			}
		}
		edges = append(edges, Point{nx / h, ny / h})
		minH = math.Min(minH, h)
	}
	return edges, c, minH, len(edges) >= 3
}
