package blur

import (
	"image"
	"image/draw"
	"math"
	"sync"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/veilkit/veil/mask"
)

// A region of a street photo to anonymize.
type benchRegion struct {
	r       image.Rectangle
	ellipse bool // a face
	sigma   float64
}

// streetRegions is a region set typical of a 4000×3000 street photo: 12
// faces (60..240 px squares), 4 persons (300×800), 2 vehicles (900×600)
// and 3 licence plates (120×40). Faces and plates are blurred with
// sigma = 0.1·max(w, h), persons and vehicles with sigma = 15.
func streetRegions() []benchRegion {
	var rs []benchRegion
	for i := range 12 {
		s := 60 + i*180/11
		x, y := 150+i*310, 400+(i%4)*600
		rs = append(rs, benchRegion{image.Rect(x, y, x+s, y+s), true, 0.1 * float64(s)})
	}
	for i := range 4 {
		x := 200 + i*950
		rs = append(rs, benchRegion{image.Rect(x, 1100, x+300, 1900), false, 15})
	}
	for i := range 2 {
		x := 300 + i*2400
		rs = append(rs, benchRegion{image.Rect(x, 2150, x+900, 2750), false, 15})
	}
	for i := range 3 {
		x := 500 + i*1300
		rs = append(rs, benchRegion{image.Rect(x, 2600, x+120, 2640), false, 12})
	}
	return rs
}

var (
	benchOnce sync.Once
	benchImg  *image.RGBA
)

// benchImage returns a 4000×3000 image of noise, the same on every call.
func benchImage() *image.RGBA {
	benchOnce.Do(func() { benchImg = noise(image.Rect(0, 0, 4000, 3000), 42) })
	return clone(benchImg)
}

func BenchmarkBlurRegions(b *testing.B) {
	img := benchImage()
	regions := streetRegions()
	b.ResetTimer()
	for range b.N {
		for _, r := range regions {
			x0, y0, x1, y1 := float64(r.r.Min.X), float64(r.r.Min.Y), float64(r.r.Max.X), float64(r.r.Max.Y)
			var a *Alpha
			if r.ellipse {
				a = EllipseAlpha(x0, y0, x1, y1, Gradient{}, img.Rect)
			} else {
				a = BoxAlpha(x0, y0, x1, y1, Gradient{}, img.Rect)
			}
			Blur(img, a, r.sigma)
		}
	}
}

// BenchmarkImagingRegions does the work of BenchmarkBlurRegions with
// github.com/disintegration/imaging: for each region, crop the region
// padded by 3 sigma, blur it with the same sigma and paste the region back.
func BenchmarkImagingRegions(b *testing.B) {
	img := benchImage()
	regions := streetRegions()
	b.ResetTimer()
	for range b.N {
		for _, r := range regions {
			pad := int(math.Ceil(3 * r.sigma))
			p := r.r.Inset(-pad).Intersect(img.Rect)
			blurred := imaging.Blur(imaging.Crop(img, p), r.sigma)
			draw.Draw(img, r.r, blurred, r.r.Min.Sub(p.Min), draw.Src)
		}
	}
}

func BenchmarkBlur12MPFull(b *testing.B) {
	img := benchImage()
	a := mask.FromRect(img.Rect)
	b.ResetTimer()
	for range b.N {
		Blur(img, a, 10)
	}
}

func BenchmarkAlphaRegions(b *testing.B) {
	bounds := image.Rect(0, 0, 4000, 3000)
	regions := streetRegions()
	for range b.N {
		for _, r := range regions {
			x0, y0, x1, y1 := float64(r.r.Min.X), float64(r.r.Min.Y), float64(r.r.Max.X), float64(r.r.Max.Y)
			if r.ellipse {
				EllipseAlpha(x0, y0, x1, y1, Gradient{Start: 0.1}, bounds)
			} else {
				BoxAlpha(x0, y0, x1, y1, Gradient{Start: 0.1}, bounds)
			}
		}
	}
}

// BenchmarkBlurFaces blurs 52 faces of a 1080p video frame, the
// videobench group photo's: ellipses of about 50 px, σ 12.5.
func BenchmarkBlurFaces(b *testing.B) {
	img := noise(image.Rect(0, 0, 1920, 1080), 7)
	for b.Loop() {
		for k := range 52 {
			x, y := float64(60+(k%13)*105), float64(150+(k/13)*200)
			Blur(img, EllipseAlpha(x, y, x+49, y+49, Gradient{}, img.Rect), 12.5)
		}
	}
}
