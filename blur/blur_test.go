package blur

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/veilkit/veil/mask"
)

// noise returns an image over r of random pixels, alpha included.
func noise(r image.Rectangle, seed uint64) *image.RGBA {
	img := image.NewRGBA(r)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	return img
}

func clone(img *image.RGBA) *image.RGBA {
	c := *img
	c.Pix = bytes.Clone(img.Pix)
	return &c
}

// refBlur returns the exact triple box blur of img's channel c, in float64,
// over all of img (edge pixels replicated before each pass), with Blur's
// box radii for sigma.
func refBlur(img *image.RGBA, c int, sigma float64) [][]float64 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	v := make([][]float64, h)
	for y := range v {
		v[y] = make([]float64, w)
		for x := range v[y] {
			v[y][x] = float64(img.Pix[y*img.Stride+x*4+c])
		}
	}
	box := func(get func(i int) float64, set func(i int, v float64), n, r int) {
		out := make([]float64, n)
		for i := range out {
			var s float64
			for j := i - r; j <= i+r; j++ {
				s += get(min(max(j, 0), n-1))
			}
			out[i] = s / float64(2*r+1)
		}
		for i, o := range out {
			set(i, o)
		}
	}
	for _, r := range boxRadii(sigma) {
		for y := range h {
			box(func(i int) float64 { return v[y][i] }, func(i int, f float64) { v[y][i] = f }, w, r)
		}
	}
	for _, r := range boxRadii(sigma) {
		for x := range w {
			box(func(i int) float64 { return v[i][x] }, func(i int, f float64) { v[i][x] = f }, h, r)
		}
	}
	return v
}

// TestBlurMatchesTripleBox checks the blurs of sigma under 8, run at full
// size, against the exact triple box blur.
func TestBlurMatchesTripleBox(t *testing.T) {
	bounds := image.Rect(-7, 13, 113, 93) // 120×80, Min not at the origin
	tests := []struct {
		sigma float64
		r     image.Rectangle
	}{
		{2, bounds},
		{5, image.Rect(20, 30, 60, 70)},       // inside, padding inside the image
		{5, image.Rect(-20, 0, 30, 40)},       // past the top left corner
		{3.3, image.Rect(90, 60, 200, 200)},   // past the bottom right corner
		{5.9, image.Rect(40, 50, 41, 51)},     // 1×1
		{5.5, image.Rect(0, 20, 100, 80)},     // radius larger than the margins
		{0.7, image.Rect(10, 20, 30, 40)},     // small boxes
		{5.9, image.Rect(-100, 0, 300, 40)},   // radius larger than the image
		{4, image.Rect(-7, 13, -6, 93)},       // one column at the edge
		{1.5, image.Rect(100, 92, 113, 1000)}, // one row at the edge
	}
	for _, tt := range tests {
		orig := noise(bounds, 1)
		img := clone(orig)
		Blur(img, mask.FromRect(tt.r), tt.sigma)
		reg := tt.r.Intersect(bounds)
		for c := range 3 {
			ref := refBlur(orig, c, tt.sigma)
			for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
				for x := bounds.Min.X; x < bounds.Max.X; x++ {
					i := orig.PixOffset(x, y) + c
					got := float64(img.Pix[i])
					if !(image.Point{x, y}).In(reg) {
						if img.Pix[i] != orig.Pix[i] {
							t.Fatalf("σ=%v %v: (%d,%d) outside changed", tt.sigma, tt.r, x, y)
						}
						continue
					}
					if want := ref[y-bounds.Min.Y][x-bounds.Min.X]; math.Abs(got-want) > 1 {
						t.Fatalf("σ=%v %v: (%d,%d) channel %d = %v, want %.2f", tt.sigma, tt.r, x, y, c, got, want)
					}
				}
			}
		}
		if !sameAlpha(img, orig) {
			t.Errorf("σ=%v %v: alpha channel changed", tt.sigma, tt.r)
		}
	}
}

// TestBlurScaled checks the blurs of sigma 8 and more, run on a reduced
// copy, against the exact triple box blur, on noise (the harshest case):
// where the boxes stay inside the image, within 2.5 levels and on average
// within half a level; everywhere, at least as smooth (the spread of the
// blurred values no more than the exact blur's). At the image's edges the
// exact blur repeats one edge pixel, the reduced one the mean of a
// block, so the two values differ there.
func TestBlurScaled(t *testing.T) {
	bounds := image.Rect(-7, 13, 313, 253) // 320×240, Min not at the origin
	tests := []struct {
		sigma float64
		r     image.Rectangle
	}{
		{8, image.Rect(100, 80, 180, 160)},
		{11, image.Rect(140, 120, 141, 121)}, // 1×1
		{12.5, image.Rect(60, 50, 260, 220)},
		{25, image.Rect(0, 20, 300, 240)},   // radius larger than the margins
		{40, image.Rect(-100, 0, 400, 300)}, // past every edge
		{200, image.Rect(-100, 0, 400, 40)}, // radius larger than the image
		{9, image.Rect(-7, 13, -6, 253)},    // one column at the edge
	}
	for _, tt := range tests {
		if scaleFor(tt.sigma) == 1 {
			t.Fatalf("σ=%v is not blurred on a reduced copy", tt.sigma)
		}
		orig := noise(bounds, 1)
		img := clone(orig)
		Blur(img, mask.FromRect(tt.r), tt.sigma)
		reg := tt.r.Intersect(bounds)
		inner := bounds.Inset(3 * int(math.Ceil(tt.sigma)))
		var got, want, diff stats
		for c := range 3 {
			ref := refBlur(orig, c, tt.sigma)
			for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
				for x := bounds.Min.X; x < bounds.Max.X; x++ {
					i := orig.PixOffset(x, y) + c
					if !(image.Point{x, y}).In(reg) {
						if img.Pix[i] != orig.Pix[i] {
							t.Fatalf("σ=%v %v: (%d,%d) outside changed", tt.sigma, tt.r, x, y)
						}
						continue
					}
					v, w := float64(img.Pix[i]), ref[y-bounds.Min.Y][x-bounds.Min.X]
					got.add(v)
					want.add(w)
					if !(image.Point{x, y}).In(inner) {
						continue
					}
					diff.add(math.Abs(v - w))
					if math.Abs(v-w) > 2.5 {
						t.Fatalf("σ=%v %v: (%d,%d) channel %d = %v, want %.2f", tt.sigma, tt.r, x, y, c, v, w)
					}
				}
			}
		}
		if diff.n > 0 && diff.mean() > 0.5 {
			t.Errorf("σ=%v %v: mean difference %.2f levels from the exact blur, want ≤ 0.5", tt.sigma, tt.r, diff.mean())
		}
		if got.std() > want.std()+0.1 {
			t.Errorf("σ=%v %v: values spread %.2f, the exact blur's %.2f: less smooth", tt.sigma, tt.r, got.std(), want.std())
		}
		if !sameAlpha(img, orig) {
			t.Errorf("σ=%v %v: alpha channel changed", tt.sigma, tt.r)
		}
	}
}

// stats accumulates a mean and standard deviation.
type stats struct {
	n         int
	sum, sum2 float64
}

func (s *stats) add(v float64) { s.n, s.sum, s.sum2 = s.n+1, s.sum+v, s.sum2+v*v }
func (s *stats) mean() float64 { return s.sum / float64(s.n) }
func (s *stats) std() float64 {
	m := s.mean()
	return math.Sqrt(max(0, s.sum2/float64(s.n)-m*m))
}

// sameAlpha reports whether a and b have the same alpha channel.
func sameAlpha(a, b *image.RGBA) bool {
	for i := 3; i < len(a.Pix); i += 4 {
		if a.Pix[i] != b.Pix[i] {
			return false
		}
	}
	return true
}

func TestBlurConstant(t *testing.T) {
	bounds := image.Rect(5, -3, 205, 147)
	col := color.RGBA{200, 17, 99, 77}
	for _, sigma := range []float64{0.5, 2, 7.3, 30, 500} {
		for _, r := range []image.Rectangle{bounds, image.Rect(0, -10, 50, 40), image.Rect(150, 100, 300, 300), image.Rect(60, 50, 90, 80)} {
			img := image.NewRGBA(bounds)
			for i := 0; i < len(img.Pix); i += 4 {
				img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = col.R, col.G, col.B, col.A
			}
			Blur(img, EllipseAlpha(float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y), Gradient{Start: 0.2}, bounds), sigma)
			for i := 0; i < len(img.Pix); i += 4 {
				p := img.Pix[i : i+4 : i+4]
				if absDiff(p[0], col.R) > 1 || absDiff(p[1], col.G) > 1 || absDiff(p[2], col.B) > 1 || p[3] != col.A {
					t.Fatalf("σ=%v %v: pixel %d = %v, want %v", sigma, r, i/4, p, col)
				}
			}
		}
	}
}

func absDiff(a, b uint8) int {
	return max(int(a)-int(b), int(b)-int(a))
}

// TestBlurGaussianVariance measures the blur's kernel: its variance is
// within 15% of sigma², and it is centred (on a reduced copy, within half
// a block: a block's mean stands for its centre).
func TestBlurGaussianVariance(t *testing.T) {
	for _, sigma := range []float64{3, 4.5, 6, 10, 17, 30} {
		// A vertical line of 255 on black; the blurred row is the kernel.
		const w, h = 301, 20
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			img.Pix[y*img.Stride+w/2*4] = 255
		}
		Blur(img, mask.FromRect(img.Rect), sigma)
		var s, m, v float64
		row := img.Pix[h/2*img.Stride:]
		for x := range w {
			f := float64(row[x*4])
			s += f
			m += f * float64(x)
		}
		m /= s
		for x := range w {
			d := float64(x) - m
			v += float64(row[x*4]) * d * d
		}
		v /= s
		if math.Abs(v-sigma*sigma) > 0.15*sigma*sigma || math.Abs(m-w/2) > 0.01+float64(scaleFor(sigma)-1)/2 {
			t.Errorf("σ=%v: mean %.2f variance %.2f, want %d and %.2f", sigma, m, v, w/2, sigma*sigma)
		}
	}
}

func TestBlurBlend(t *testing.T) {
	bounds := image.Rect(0, 0, 64, 48)
	orig := noise(bounds, 2)
	r := image.Rect(10, 5, 50, 40)
	blurred := clone(orig)
	Blur(blurred, mask.FromRect(r), 4)
	// A horizontal ramp of alpha, 0 to 255.
	a := &Alpha{Rect: r, Pix: make([]uint8, r.Dx()*r.Dy())}
	for y := range r.Dy() {
		for x := range r.Dx() {
			a.Pix[y*r.Dx()+x] = uint8(x * 255 / (r.Dx() - 1))
		}
	}
	img := clone(orig)
	Blur(img, a, 4)
	for _, p := range []image.Point{{10, 5}, {11, 20}, {20, 6}, {30, 30}, {40, 39}, {49, 10}} {
		k := int(alphaAt(a, p.X, p.Y))
		i := img.PixOffset(p.X, p.Y)
		for c := range 3 {
			want := (k*int(blurred.Pix[i+c]) + (255-k)*int(orig.Pix[i+c]) + 127) / 255
			if got := int(img.Pix[i+c]); got < want-1 || got > want+1 {
				t.Errorf("%v channel %d (alpha %d): %d, want %d", p, c, k, got, want)
			}
		}
		if img.Pix[i+3] != orig.Pix[i+3] {
			t.Errorf("%v: alpha channel changed", p)
		}
	}
	if k := alphaAt(a, 10, 5); k != 0 || !bytes.Equal(img.Pix[img.PixOffset(10, 5):][:4], orig.Pix[orig.PixOffset(10, 5):][:4]) {
		t.Errorf("alpha 0 pixel changed")
	}
}

func TestBlurParallel(t *testing.T) {
	// Large enough to split across goroutines; the result must match the
	// one-goroutine reference.
	bounds := image.Rect(0, 0, 400, 300)
	orig := noise(bounds, 3)
	img := clone(orig)
	r := image.Rect(-10, 20, 390, 310)
	Blur(img, mask.FromRect(r), 6)
	ref := refBlur(orig, 1, 6)
	for y := 20; y < 300; y++ {
		for x := 0; x < 390; x++ {
			got := float64(img.Pix[img.PixOffset(x, y)+1])
			if want := ref[y][x]; math.Abs(got-want) > 1 {
				t.Fatalf("(%d,%d) = %v, want %.2f", x, y, got, want)
			}
		}
	}
}

// oddImages are images to run the operations on: Min not at the origin,
// 1×1, empty, nil, and Pix too short for Rect.
func oddImages() []*image.RGBA {
	short := image.NewRGBA(image.Rect(0, 0, 10, 10))
	short.Pix = short.Pix[:100]
	narrow := image.NewRGBA(image.Rect(0, 0, 10, 10))
	narrow.Stride = 8
	return []*image.RGBA{
		noise(image.Rect(-30, 17, 70, 97), 4),
		noise(image.Rect(3, 3, 4, 4), 5),
		noise(image.Rect(0, 0, 1, 200), 6),
		image.NewRGBA(image.Rectangle{}),
		nil,
		short,
		narrow,
		{Rect: image.Rect(0, 0, 2, 2), Stride: 0, Pix: make([]uint8, 16)},
	}
}

// oddAlphas are alphas for oddImages: partly outside, outside, empty,
// 1×1, malformed, nil.
func oddAlphas() []*Alpha {
	return []*Alpha{
		mask.FromRect(image.Rect(-50, 0, 20, 40)),
		mask.FromRect(image.Rect(60, 90, 200, 200)),
		mask.FromRect(image.Rect(1000, 1000, 1010, 1010)),
		mask.FromRect(image.Rect(3, 3, 4, 4)),
		mask.FromRect(image.Rect(0, 0, 1, 1)),
		mask.FromRect(image.Rect(-1000, -1000, 1000, 1000)),
		{Rect: image.Rect(0, 0, 10, 10), Pix: make([]uint8, 99)},
		{Rect: image.Rect(10, 10, 0, 0), Pix: make([]uint8, 100)},
		{Rect: image.Rect(0, 0, 0, 10)},
		{},
		nil,
	}
}

func TestOddInputs(t *testing.T) {
	ops := []struct {
		name string
		f    func(*image.RGBA, *Alpha)
	}{
		{"Blur 3", func(m *image.RGBA, a *Alpha) { Blur(m, a, 3) }},
		{"Blur 0", func(m *image.RGBA, a *Alpha) { Blur(m, a, 0) }},
		{"Blur -1", func(m *image.RGBA, a *Alpha) { Blur(m, a, -1) }},
		{"Blur NaN", func(m *image.RGBA, a *Alpha) { Blur(m, a, math.NaN()) }},
		{"Blur Inf", func(m *image.RGBA, a *Alpha) { Blur(m, a, math.Inf(1)) }},
		{"Blur 1e9", func(m *image.RGBA, a *Alpha) { Blur(m, a, 1e9) }},
		{"Blur 0.1", func(m *image.RGBA, a *Alpha) { Blur(m, a, 0.1) }},
		{"Pixelate 4", func(m *image.RGBA, a *Alpha) { Pixelate(m, a, 4, image.Pt(-3, 5)) }},
		{"Pixelate 0", func(m *image.RGBA, a *Alpha) { Pixelate(m, a, 0, image.Point{}) }},
		{"Pixelate -5", func(m *image.RGBA, a *Alpha) { Pixelate(m, a, -5, image.Point{}) }},
		{"Pixelate huge", func(m *image.RGBA, a *Alpha) { Pixelate(m, a, math.MaxInt, image.Pt(math.MinInt/2, math.MaxInt/2)) }},
		{"Blacken", Blacken},
	}
	for _, op := range ops {
		for i, img := range oddImages() {
			for j, a := range oddAlphas() {
				var before *image.RGBA
				if img != nil {
					before = clone(img)
				}
				func() {
					defer func() {
						if e := recover(); e != nil {
							t.Errorf("%s image %d alpha %d: panic %v", op.name, i, j, e)
						}
					}()
					op.f(img, a)
				}()
				if img == nil || !pixOK(img) {
					continue
				}
				// Outside a.Rect, and the alpha channel, nothing changes.
				for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
					for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
						o := img.PixOffset(x, y)
						in := valid(a) && (image.Point{x, y}).In(a.Rect)
						if !in && !bytes.Equal(img.Pix[o:o+4], before.Pix[o:o+4]) || img.Pix[o+3] != before.Pix[o+3] {
							t.Fatalf("%s image %d alpha %d: (%d,%d) changed", op.name, i, j, x, y)
						}
					}
				}
			}
		}
	}
}

func TestBoxRadii(t *testing.T) {
	for _, sigma := range []float64{0.1, 0.5, 1, 2, 3, 5, 10, 33.3, 100, maxSigma} {
		r := boxRadii(sigma)
		var v float64
		for _, ri := range r {
			w := float64(2*ri + 1)
			v += (w*w - 1) / 12
		}
		// The boxes' variance is near sigma² (integer widths cannot match a
		// sigma below about 1.5).
		if sigma >= 1.5 && math.Abs(v-sigma*sigma) > 0.2*sigma*sigma {
			t.Errorf("σ=%v: radii %v, variance %.2f", sigma, r, v)
		}
		if r[0] > r[1] || r[1] > r[2] || r[2]-r[0] > 1 {
			t.Errorf("σ=%v: radii %v", sigma, r)
		}
	}
}

func ExampleBlur() {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	faces := []image.Rectangle{image.Rect(100, 80, 180, 180), image.Rect(400, 120, 460, 200)}
	var as []*Alpha
	for _, f := range faces {
		as = append(as, EllipseAlpha(float64(f.Min.X), float64(f.Min.Y), float64(f.Max.X), float64(f.Max.Y), Gradient{Start: 0.1}, img.Rect))
	}
	a := Union(as...)
	a.Clear(image.Rect(0, 0, 120, 100)) // an ignore region
	Blur(img, a, 8)
	fmt.Println(a.Rect)
	// Output: (92,70)-(466,208)
}
