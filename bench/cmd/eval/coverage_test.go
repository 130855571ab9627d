package main

import (
	"image"
	"testing"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
)

func TestCoverage(t *testing.T) {
	anon := image.NewGray(image.Rect(0, 0, 100, 100))
	for y := 0; y < 50; y++ {
		for x := 0; x < 100; x++ {
			anon.Pix[anon.PixOffset(x, y)] = 255 // the top half is anonymized
		}
	}
	tests := []struct {
		box  detect.Box
		want float64
	}{
		{detect.Box{X1: 10, Y1: 10, X2: 20, Y2: 20}, 1},    // inside
		{detect.Box{X1: 10, Y1: 60, X2: 20, Y2: 70}, 0},    // outside
		{detect.Box{X1: 0, Y1: 40, X2: 10, Y2: 60}, 0.5},   // across the edge
		{detect.Box{X1: 90, Y1: 45, X2: 130, Y2: 55}, 0.5}, // partly off the image: only its pixels in it
		{detect.Box{X1: 200, Y1: 0, X2: 210, Y2: 10}, 0},   // off the image
	}
	for _, tt := range tests {
		if got := coverage(tt.box, anon); got != tt.want {
			t.Errorf("coverage(%v) = %v, want %v", tt.box, got, tt.want)
		}
	}
	var c coverCounts
	c.add([]gtBox{
		{box: tests[0].box},
		{box: tests[2].box},
		{box: tests[1].box, ignore: true},
		{box: tests[1].box, crowd: true},
	}, nil, anon)
	if c != (coverCounts{n: 2, c80: 1, c90: 1}) {
		t.Errorf("coverCounts = %+v, want 2 objects, 1 covered", c)
	}
	// An outline: a 10×10 mask whose top 5 rows (y 45..49) are anonymized
	// and whose left half only is the object: half of it covered.
	m := mask.New(image.Rect(0, 45, 10, 55))
	for y := range 10 {
		for x := range 5 {
			m.Pix[y*10+x] = 255
		}
	}
	if got := coverageOf(m, anon); got != 0.5 {
		t.Errorf("coverageOf = %v, want 0.5", got)
	}
	var o coverCounts
	o.add([]gtBox{{box: detect.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}, src: 0}}, []*mask.Mask{m}, anon)
	if o != (coverCounts{n: 1}) {
		t.Errorf("with its outline, a half-covered object counted %+v", o)
	}
}
