package veil

import (
	"image"
	"testing"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
)

// TestPlateQuad checks which shape anonymizes a plate: its quadrilateral
// when that fills the box, the whole box when the corners were found
// along a diagonal or crossed, which would leave most of the plate
// readable.
func TestPlateQuad(t *testing.T) {
	box := detect.Box{X1: 10, Y1: 10, X2: 110, Y2: 60}
	bounds := image.Rect(0, 0, 120, 70)
	pt := func(x, y float32) detect.Point { return detect.Point{X: x, Y: y} }
	for _, tc := range []struct {
		name    string
		pts     []detect.Point
		least   float64 // share of the box covered
		corners bool    // whether the box's corners are covered
	}{
		{"tilted", []detect.Point{pt(10, 20), pt(100, 10), pt(110, 50), pt(20, 60)}, 0.7, false},
		{"diagonal band", []detect.Point{pt(10, 10), pt(30, 10), pt(110, 60), pt(90, 60)}, 0.99, true},
		{"crossed", []detect.Point{pt(10, 10), pt(110, 60), pt(110, 10), pt(10, 60)}, 0.99, true},
	} {
		p := &Params{}
		a := p.alpha(Detection{Class: LicensePlate, Box: box, Points: tc.pts}, Gradient{}, bounds)
		c := covered(a, box.Rect())
		corner := a.At(11, 11) > 0 && a.At(108, 58) > 0
		if c < tc.least || corner != tc.corners {
			t.Errorf("%s: covers %.2f of the box (want ≥ %.2f), corners covered %t (want %t)", tc.name, c, tc.least, corner, tc.corners)
		}
	}
}

// covered returns the share of r's pixels that a covers fully.
func covered(a *mask.Mask, r image.Rectangle) float64 {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) == 255 {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}
