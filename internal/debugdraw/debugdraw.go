// Package debugdraw draws detections on an image: Celantur's `debug`
// option (each detection's box, plus a licence plate's corner polygon or a
// face's landmarks) and its `score` option (a "face 0.93" label above each
// box).
//
// Everything is drawn straight into the image's Pix slice, clipped to its
// bounds, so boxes partly or wholly outside the image are fine.
package debugdraw

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Item is one thing to draw.
type Item struct {
	Box     image.Rectangle // in img's pixels
	Label   string          // e.g. "face"; drawn only when Score is shown
	Score   float32
	Color   color.RGBA    // outline colour; the zero value means ClassColor(Label)
	Points  []image.Point // optional: landmarks (drawn as dots)
	Polygon []image.Point // optional: closed outline (e.g. plate corners)
}

// Options say what Draw draws.
type Options struct {
	Scores    bool // draw "Label 0.93" above each box
	Thickness int  // line width in pixels; 0 = automatic: max(2, min(img w,h)/400)
}

// Class colours: saturated and dark enough that white label text reads on
// them, and distinct from each other.
var (
	colorFace    = color.RGBA{R: 230, G: 30, B: 60, A: 255}   // red
	colorPlate   = color.RGBA{R: 225, G: 110, B: 0, A: 255}   // orange
	colorPerson  = color.RGBA{R: 20, G: 110, B: 230, A: 255}  // blue
	colorVehicle = color.RGBA{R: 0, G: 150, B: 70, A: 255}    // green
	colorOther   = color.RGBA{R: 128, G: 128, B: 128, A: 255} // grey
)

// ClassColor returns the colour veil uses for a class label: face,
// license-plate, person, vehicle (distinct, readable on photos); grey for
// anything else.
func ClassColor(label string) color.RGBA {
	switch label {
	case "face":
		return colorFace
	case "license-plate":
		return colorPlate
	case "person":
		return colorPerson
	case "vehicle":
		return colorVehicle
	}
	return colorOther
}

// autoThickness is the line width used when Options.Thickness is 0.
func autoThickness(b image.Rectangle) int {
	return max(2, min(b.Dx(), b.Dy())/400)
}

// labelScale is the integer factor labels are enlarged by.
func labelScale(b image.Rectangle) int {
	return max(1, min(b.Dx(), b.Dy())/600)
}

// Draw draws items on img in place. Boxes partly outside img are clipped;
// nothing panics.
//
// A box's outline lies inside the box (Box.Min is the outline's outer
// corner, Box.Max is exclusive). Polygon edges are centred on the lines
// between consecutive points, the last joined to the first. Points are
// drawn as discs of diameter about 2×thickness. A zero Item.Color means
// ClassColor(Label). The score label is drawn only for an item whose Box
// overlaps img.
func Draw(img *image.RGBA, items []Item, o Options) {
	if img == nil {
		return
	}
	b := img.Rect
	if b.Empty() || len(img.Pix) < pixLen(img) {
		return
	}
	t := o.Thickness
	if t <= 0 {
		t = autoThickness(b)
	}
	t = min(t, max(b.Dx(), b.Dy()))
	for i := range items {
		it := &items[i]
		c := it.Color
		if c == (color.RGBA{}) {
			c = ClassColor(it.Label)
		}
		box := it.Box.Canon()
		drawBox(img, box, t, c)
		if len(it.Polygon) > 0 {
			drawPolygon(img, it.Polygon, t, c)
		}
		for _, p := range it.Points {
			fillDisc(img, p, t, c)
		}
		if o.Scores {
			drawLabel(img, box, labelText(it.Label, it.Score), c)
		}
	}
}

// pixLen is the Pix length the image's Rect and Stride need.
func pixLen(img *image.RGBA) int {
	b := img.Rect
	if img.Stride < 4*b.Dx() {
		return math.MaxInt
	}
	return (b.Dy()-1)*img.Stride + 4*b.Dx()
}

func labelText(label string, score float32) string {
	s := strconv.FormatFloat(float64(score), 'f', 2, 32)
	if label == "" {
		return s
	}
	return label + " " + s
}

// fillRect fills r ∩ img.Rect with c (opaque colours are written, others
// composited over the image).
func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	if c.A != 255 {
		draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Over)
		return
	}
	px := [4]uint8{c.R, c.G, c.B, c.A}
	w := 4 * r.Dx()
	i0 := img.PixOffset(r.Min.X, r.Min.Y)
	row := img.Pix[i0 : i0+w]
	for i := 0; i < w; i += 4 {
		copy(row[i:i+4], px[:])
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		i := img.PixOffset(r.Min.X, y)
		copy(img.Pix[i:i+w], row)
	}
}

// drawBox draws the outline of box, t pixels wide, inside the box.
func drawBox(img *image.RGBA, box image.Rectangle, t int, c color.RGBA) {
	// Sides more than t outside the image are invisible; clipping to the
	// image grown by t keeps the visible ones and the arithmetic small.
	box = box.Intersect(img.Rect.Inset(-t))
	if box.Empty() {
		return
	}
	if box.Dx() <= 2*t || box.Dy() <= 2*t {
		fillRect(img, box, c)
		return
	}
	fillRect(img, image.Rect(box.Min.X, box.Min.Y, box.Max.X, box.Min.Y+t), c)     // top
	fillRect(img, image.Rect(box.Min.X, box.Max.Y-t, box.Max.X, box.Max.Y), c)     // bottom
	fillRect(img, image.Rect(box.Min.X, box.Min.Y+t, box.Min.X+t, box.Max.Y-t), c) // left
	fillRect(img, image.Rect(box.Max.X-t, box.Min.Y+t, box.Max.X, box.Max.Y-t), c) // right
}

// fillDisc draws a filled disc of radius t centred on p.
func fillDisc(img *image.RGBA, p image.Point, t int, c color.RGBA) {
	if !p.In(img.Rect.Inset(-t)) {
		return
	}
	r := t
	for dy := -r; dy <= r; dy++ {
		hw := int(math.Sqrt(float64(r*r - dy*dy)))
		fillRect(img, image.Rect(p.X-hw, p.Y+dy, p.X+hw+1, p.Y+dy+1), c)
	}
}

// drawPolygon draws the closed polygon through pts with lines t wide.
func drawPolygon(img *image.RGBA, pts []image.Point, t int, c color.RGBA) {
	switch len(pts) {
	case 1:
		drawLine(img, pts[0], pts[0], t, c)
	case 2:
		drawLine(img, pts[0], pts[1], t, c)
	default:
		for i, p := range pts {
			drawLine(img, p, pts[(i+1)%len(pts)], t, c)
		}
	}
}

// stamp fills the t×t square centred on (x, y).
func stamp(img *image.RGBA, x, y, t int, c color.RGBA) {
	x0, y0 := x-t/2, y-t/2
	fillRect(img, image.Rect(x0, y0, x0+t, y0+t), c)
}

// drawLine draws a line t wide from p to q: the segment is first clipped to
// the image (grown by t) so far-off end points cost nothing, then walked
// with Bresenham's algorithm, stamping a t×t square at each step.
func drawLine(img *image.RGBA, p, q image.Point, t int, c color.RGBA) {
	clip := img.Rect.Inset(-t)
	x0, y0, x1, y1, ok := clipSegment(
		float64(p.X), float64(p.Y), float64(q.X), float64(q.Y),
		float64(clip.Min.X), float64(clip.Min.Y), float64(clip.Max.X-1), float64(clip.Max.Y-1))
	if !ok {
		return
	}
	ax, ay := int(math.Round(x0)), int(math.Round(y0))
	bx, by := int(math.Round(x1)), int(math.Round(y1))
	dx, dy := abs(bx-ax), -abs(by-ay)
	sx, sy := 1, 1
	if ax > bx {
		sx = -1
	}
	if ay > by {
		sy = -1
	}
	err := dx + dy
	for {
		stamp(img, ax, ay, t, c)
		if ax == bx && ay == by {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			ax += sx
		}
		if e2 <= dx {
			err += dx
			ay += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// clipSegment clips the segment (x0,y0)–(x1,y1) to the closed box
// [xmin,xmax]×[ymin,ymax] (Liang–Barsky). ok is false when nothing is left.
func clipSegment(x0, y0, x1, y1, xmin, ymin, xmax, ymax float64) (cx0, cy0, cx1, cy1 float64, ok bool) {
	dx, dy := x1-x0, y1-y0
	t0, t1 := 0.0, 1.0
	edge := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return false
			}
			t0 = max(t0, r)
		} else {
			if r < t0 {
				return false
			}
			t1 = min(t1, r)
		}
		return true
	}
	if !edge(-dx, x0-xmin) || !edge(dx, xmax-x0) || !edge(-dy, y0-ymin) || !edge(dy, ymax-y0) {
		return 0, 0, 0, 0, false
	}
	return x0 + t0*dx, y0 + t0*dy, x0 + t1*dx, y0 + t1*dy, true
}

// Label rendering.

const labelPad = 2 // pixels of background around the text, before scaling

// renderLabel renders text in white on a c background, unscaled.
func renderLabel(text string, c color.RGBA) *image.RGBA {
	face := basicfont.Face7x13
	w := font.MeasureString(face, text).Ceil() + 2*labelPad
	m := face.Metrics()
	h := (m.Ascent + m.Descent).Ceil() + 2*labelPad
	lbl := image.NewRGBA(image.Rect(0, 0, w, h))
	fillRect(lbl, lbl.Rect, color.RGBA{R: c.R, G: c.G, B: c.B, A: 255})
	d := font.Drawer{
		Dst:  lbl,
		Src:  image.White,
		Face: face,
		Dot:  fixed.Point26_6{X: fixed.I(labelPad), Y: fixed.I(labelPad) + m.Ascent},
	}
	d.DrawString(text)
	return lbl
}

// drawLabel draws text above box (or just below its top edge when there is
// no room above), enlarged for big images and kept inside the image.
func drawLabel(img *image.RGBA, box image.Rectangle, text string, c color.RGBA) {
	b := img.Rect
	vis := box.Intersect(b)
	if vis.Empty() {
		return
	}
	lbl := renderLabel(text, c)
	s := labelScale(b)
	lw, lh := lbl.Rect.Dx()*s, lbl.Rect.Dy()*s

	x := max(b.Min.X, min(vis.Min.X, b.Max.X-lw))
	// vis.Min.Y is box.Min.Y unless the box is cut off at the top, and
	// then there is no room above it anyway.
	y := vis.Min.Y - lh
	if y < b.Min.Y {
		y = vis.Min.Y
	}
	y = max(b.Min.Y, min(y, b.Max.Y-lh))

	dst := image.Rect(x, y, x+lw, y+lh).Intersect(b)
	for py := dst.Min.Y; py < dst.Max.Y; py++ {
		sy := (py - y) / s
		srow := lbl.Pix[sy*lbl.Stride:]
		di := img.PixOffset(dst.Min.X, py)
		for px := dst.Min.X; px < dst.Max.X; px++ {
			si := 4 * ((px - x) / s)
			copy(img.Pix[di:di+4], srow[si:si+4])
			di += 4
		}
	}
}
