package main

import (
	"image"
	"math"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
)

// coverage returns the share of the pixels of box (those whose centres
// lie in it, within the mask) that anon marks as anonymized (non-zero): how
// much of a labelled object the anonymization hides. A box with no pixel
// in the mask is not covered at all.
func coverage(box detect.Box, anon *image.Gray) float64 {
	r := image.Rect(int(math.Round(float64(box.X1))), int(math.Round(float64(box.Y1))),
		int(math.Round(float64(box.X2))), int(math.Round(float64(box.Y2)))).Intersect(anon.Rect)
	if r.Empty() {
		return 0
	}
	var in int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := anon.Pix[anon.PixOffset(r.Min.X, y):][:r.Dx()]
		for _, v := range row {
			if v != 0 {
				in++
			}
		}
	}
	return float64(in) / float64(r.Dx()*r.Dy())
}

// coverageOf returns the share of the pixels of m (non-zero) that anon
// marks as anonymized: coverage for an object with a polygon outline (a
// COCO person or vehicle), which fills only part of its box.
func coverageOf(m *mask.Mask, anon *image.Gray) float64 {
	var n, in int
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		row := m.Pix[(y-m.Rect.Min.Y)*m.Rect.Dx():][:m.Rect.Dx()]
		for k, v := range row {
			if v == 0 {
				continue
			}
			n++
			if p := image.Pt(m.Rect.Min.X+k, y); p.In(anon.Rect) && anon.Pix[anon.PixOffset(p.X, p.Y)] != 0 {
				in++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(in) / float64(n)
}

// objectCoverage returns the share of g covered by anon: of its outline
// in outlines (indexed by gtBox.src) when it has one, else of its box.
func objectCoverage(g gtBox, outlines []*mask.Mask, anon *image.Gray) float64 {
	if g.src < len(outlines) && outlines[g.src] != nil {
		return coverageOf(outlines[g.src], anon)
	}
	return coverage(g.box, anon)
}

// coverCounts counts the labelled objects of a subset (neither ignored nor
// crowd regions) and those at least 80% and 90% covered.
type coverCounts struct{ n, c80, c90 int }

// add counts gts, each covered by anon as far as its outline in outlines
// (indexed by gtBox.src; nil or absent: its box) is.
func (c *coverCounts) add(gts []gtBox, outlines []*mask.Mask, anon *image.Gray) {
	for _, g := range gts {
		if g.ignore || g.crowd {
			continue
		}
		v := objectCoverage(g, outlines, anon)
		c.n++
		if v >= 0.8 {
			c.c80++
		}
		if v >= 0.9 {
			c.c90++
		}
	}
}
