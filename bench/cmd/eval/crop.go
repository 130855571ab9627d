package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/veilkit/veil/detect"
	xdraw "golang.org/x/image/draw"
)

// Crop geometry: the context around an object, as a fraction of its size
// on each side but at least contextMin pixels, and the longer side a
// small crop is enlarged to (by a whole factor, at most maxZoom).
const (
	contextFrac = 0.5
	contextMin  = 8
	cropMinSide = 192
	maxZoom     = 8
)

// Outline colours: a labelled object the engine detected, one it missed,
// and a detection found again on the anonymized output.
var (
	hitColor   = color.RGBA{0, 255, 0, 255}
	missColor  = color.RGBA{255, 0, 0, 255}
	againColor = color.RGBA{0, 255, 255, 255}
)

// cropRect returns the part of bounds shown around box: box grown on each
// side by contextFrac of its width (height) or contextMin pixels, whichever
// is more.
func cropRect(box detect.Box, bounds image.Rectangle) image.Rectangle {
	mx := max(contextFrac*float64(box.W()), contextMin)
	my := max(contextFrac*float64(box.H()), contextMin)
	r := image.Rect(int(math.Floor(float64(box.X1)-mx)), int(math.Floor(float64(box.Y1)-my)),
		int(math.Ceil(float64(box.X2)+mx)), int(math.Ceil(float64(box.Y2)+my)))
	return r.Intersect(bounds)
}

// crop returns the part of img around box (cropRect), enlarged by a whole
// factor (nearest neighbour) so that its longer side is at least
// cropMinSide when maxZoom allows, with outline drawn on it in c: the
// polygons [x1, y1, x2, y2, …] in img's pixels, or box itself when there
// are none. It returns nil when box lies outside img.
func crop(img *image.RGBA, box detect.Box, outline [][]float32, c color.RGBA) *image.RGBA {
	r := cropRect(box, img.Rect)
	if r.Empty() {
		return nil
	}
	f := min(max(1, (cropMinSide+max(r.Dx(), r.Dy())-1)/max(r.Dx(), r.Dy())), maxZoom)
	out := image.NewRGBA(image.Rect(0, 0, r.Dx()*f, r.Dy()*f))
	xdraw.NearestNeighbor.Scale(out, out.Rect, img, r, xdraw.Src, nil)
	if len(outline) == 0 {
		outline = [][]float32{{box.X1, box.Y1, box.X2, box.Y1, box.X2, box.Y2, box.X1, box.Y2}}
	}
	// A pixel edge x of img is at x' = (x - r.Min.X)·f in out.
	at := func(v float32, o int) float64 { return (float64(v) - float64(o)) * float64(f) }
	for _, p := range outline {
		n := len(p) / 2
		for i := range n {
			j := (i + 1) % n
			line(out, at(p[2*i], r.Min.X), at(p[2*i+1], r.Min.Y), at(p[2*j], r.Min.X), at(p[2*j+1], r.Min.Y), c)
		}
	}
	return out
}

// line draws the segment from (x0, y0) to (x1, y1), in pixel-edge
// coordinates, two pixels wide in c: at each point, in steps of at most
// half a pixel, the 2×2 pixels around it (for a point on a pixel corner,
// the four pixels that share it), clipped to img. A box's outline thus
// runs along its edges, a pixel inside and a pixel outside.
func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Ceil(2*max(math.Abs(x1-x0), math.Abs(y1-y0)))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		x, y := int(math.Floor(x0+t*(x1-x0)-0.5)), int(math.Floor(y0+t*(y1-y0)-0.5))
		for _, p := range []image.Point{{x, y}, {x + 1, y}, {x, y + 1}, {x + 1, y + 1}} {
			if p.In(img.Rect) {
				img.SetRGBA(p.X, p.Y, c)
			}
		}
	}
}

// fileName returns a file name made of parts joined by "_", each with
// every character other than an ASCII letter, digit, '.' or '-' replaced
// by '_', and ext appended.
func fileName(ext string, parts ...string) string {
	clean := func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return r
		}
		return '_'
	}
	for i, p := range parts {
		parts[i] = strings.Map(clean, p)
	}
	return strings.Join(parts, "_") + ext
}

// imageName returns the name of the image file at path without its
// folder and extension.
func imageName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// writePNG writes img as a PNG file.
func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// boxString formats a box as "x1 y1 x2 y2", to one decimal.
func boxString(b detect.Box) string {
	return fmt.Sprintf("%.1f %.1f %.1f %.1f", b.X1, b.Y1, b.X2, b.Y2)
}
