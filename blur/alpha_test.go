package blur

import (
	"image"
	"math"
	"testing"
)

// alphaAt returns the alpha of pixel (x, y), 0 outside a.
func alphaAt(a *Alpha, x, y int) uint8 {
	if a == nil || !(image.Point{x, y}).In(a.Rect) {
		return 0
	}
	return a.Pix[(y-a.Rect.Min.Y)*a.Rect.Dx()+x-a.Rect.Min.X]
}

var big = image.Rect(-1000, -1000, 1000, 1000)

func TestBoxAlphaHardEdge(t *testing.T) {
	tests := []struct {
		x0, y0, x1, y1 int
		bounds         image.Rectangle
	}{
		{10, 20, 30, 35, big},
		{-5, -7, 3, 2, big},
		{0, 0, 1, 1, big},
		{0, 0, 100, 3, big},
		{10, 20, 30, 35, image.Rect(15, 0, 100, 100)}, // clipped
	}
	for _, tt := range tests {
		a := BoxAlpha(float64(tt.x0), float64(tt.y0), float64(tt.x1), float64(tt.y1), Gradient{}, tt.bounds)
		if a == nil {
			t.Fatalf("%v: nil", tt)
		}
		if !a.Rect.In(tt.bounds) {
			t.Errorf("%v: rect %v not in bounds", tt, a.Rect)
		}
		for y := tt.y0 - 4; y < tt.y1+4; y++ {
			for x := tt.x0 - 4; x < tt.x1+4; x++ {
				got := alphaAt(a, x, y)
				in := x >= tt.x0 && x < tt.x1 && y >= tt.y0 && y < tt.y1
				far := x < tt.x0-1 || x > tt.x1 || y < tt.y0-1 || y > tt.y1
				inBounds := (image.Point{x, y}).In(tt.bounds)
				switch {
				case in && inBounds && got != 255:
					t.Errorf("%v: alpha(%d,%d) = %d inside, want 255", tt, x, y, got)
				case far && got != 0:
					t.Errorf("%v: alpha(%d,%d) = %d two pixels outside, want 0", tt, x, y, got)
				}
			}
		}
	}
}

func TestBoxAlphaStart(t *testing.T) {
	const x0, y0, x1, y1 = 100, 100, 140, 120 // 40×20
	a := BoxAlpha(x0, y0, x1, y1, Gradient{Start: 0.3}, big)
	// The outer box: grown by 0.3·40 = 12 left and right, 0.3·20 = 6 top and bottom.
	outer := image.Rect(x0-12, y0-6, x1+12, y1+6)
	if !a.Rect.In(outer) {
		t.Errorf("rect %v not in the outer box %v", a.Rect, outer)
	}
	for y := outer.Min.Y - 5; y < outer.Max.Y+5; y++ {
		for x := outer.Min.X - 5; x < outer.Max.X+5; x++ {
			got := alphaAt(a, x, y)
			switch p := (image.Point{x, y}); {
			case p.In(image.Rect(x0, y0, x1, y1)) && got != 255:
				t.Errorf("alpha(%d,%d) = %d inside the box, want 255", x, y, got)
			case !p.In(outer) && got != 0:
				t.Errorf("alpha(%d,%d) = %d outside the outer box, want 0", x, y, got)
			}
		}
	}
	// The ramp is the smoothstep of the gauge: at pixel centre x+0.5 on the
	// middle row, the gauge is (x+0.5-120)/20, from 1 to 1.6.
	for _, x := range []int{140, 143, 145, 148, 151} {
		u := ((float64(x)+0.5-120)/20 - 1) / 0.6
		want := 255 * (1 - u*u*(3-2*u))
		if got := float64(alphaAt(a, x, 110)); math.Abs(got-want) > 0.51 {
			t.Errorf("alpha(%d,110) = %v, want %.2f", x, got, want)
		}
	}
	// Rays from the box's edges out to the outer box's.
	rays := []struct {
		x, y, dx, dy, n int
	}{
		{x1, 110, 1, 0, 12},
		{x0 - 1, 110, -1, 0, 12},
		{120, y1, 0, 1, 6},
		{120, y0 - 1, 0, -1, 6},
	}
	for _, r := range rays {
		prev := uint8(255)
		for i := 0; i < r.n; i++ {
			got := alphaAt(a, r.x+i*r.dx, r.y+i*r.dy)
			if got > prev {
				t.Errorf("ray %v: alpha rises from %d to %d at step %d", r, prev, got, i)
			}
			if i == 0 && got == 255 {
				t.Errorf("ray %v: alpha 255 just outside the box", r)
			}
			if i == r.n/2 && (got == 0 || got == 255) {
				t.Errorf("ray %v: alpha %d halfway, want a ramp", r, got)
			}
			prev = got
		}
		if last := alphaAt(a, r.x+r.n*r.dx, r.y+r.n*r.dy); last != 0 {
			t.Errorf("ray %v: alpha %d at the outer edge, want 0", r, last)
		}
	}
}

func TestBoxAlphaStop(t *testing.T) {
	const x0, y0, x1, y1 = 100, 100, 140, 120
	a := BoxAlpha(x0, y0, x1, y1, Gradient{Stop: 0.2}, big)
	inner := image.Rect(x0+8, y0+4, x1-8, y1-4) // shrunk by 0.2·40 and 0.2·20
	box := image.Rect(x0, y0, x1, y1)
	for y := y0 - 3; y < y1+3; y++ {
		for x := x0 - 3; x < x1+3; x++ {
			got := alphaAt(a, x, y)
			p := image.Point{x, y}
			switch {
			case p.In(inner) && got != 255:
				t.Errorf("alpha(%d,%d) = %d inside the inner box, want 255", x, y, got)
			case p.In(box) && !p.In(inner) && got == 255:
				t.Errorf("alpha(%d,%d) = 255 between the inner box and the edge", x, y)
			case !p.In(box) && got != 0:
				t.Errorf("alpha(%d,%d) = %d outside the box, want 0", x, y, got)
			}
		}
	}
	// The ramp runs from the inner box to the edge.
	if got := alphaAt(a, x1-5, 110); got == 0 || got == 255 {
		t.Errorf("alpha mid-ramp = %d", got)
	}
}

func TestEllipseAlpha(t *testing.T) {
	tests := []struct {
		x0, y0, x1, y1 float64
	}{
		{0, 0, 40, 20},
		{10.5, -3.25, 31, 60},
		{-50, -50, 50, 50},
	}
	for _, tt := range tests {
		a := EllipseAlpha(tt.x0, tt.y0, tt.x1, tt.y1, Gradient{}, big)
		cx, cy := (tt.x0+tt.x1)/2, (tt.y0+tt.y1)/2
		hw, hh := (tt.x1-tt.x0)/2, (tt.y1-tt.y0)/2
		if got := alphaAt(a, int(math.Floor(cx)), int(math.Floor(cy))); got != 255 {
			t.Errorf("%v: centre alpha %d, want 255", tt, got)
		}
		corners := [][2]float64{{tt.x0, tt.y0}, {tt.x1 - 1, tt.y0}, {tt.x0, tt.y1 - 1}, {tt.x1 - 1, tt.y1 - 1}}
		for _, c := range corners {
			x, y := int(math.Floor(c[0])), int(math.Floor(c[1]))
			if got := alphaAt(a, x, y); got != 0 {
				t.Errorf("%v: corner (%d,%d) alpha %d, want 0", tt, x, y, got)
			}
		}
		for y := int(tt.y0) - 3; y < int(tt.y1)+3; y++ {
			for x := int(tt.x0) - 3; x < int(tt.x1)+3; x++ {
				dx, dy := (float64(x)+0.5-cx)/hw, (float64(y)+0.5-cy)/hh
				g := math.Hypot(dx, dy)
				got := alphaAt(a, x, y)
				switch {
				case g <= 1 && got != 255:
					t.Errorf("%v: alpha(%d,%d) = %d inside (gauge %.3f)", tt, x, y, got, g)
				case g >= 1+1.01/math.Min(hw, hh) && got != 0:
					t.Errorf("%v: alpha(%d,%d) = %d outside (gauge %.3f)", tt, x, y, got, g)
				}
			}
		}
	}
}

// inConvex reports whether p is inside the convex polygon pts and at least
// margin from its edges (in), or outside and at least margin from them (out).
func inConvex(pts []Point, p Point, margin float64) (in, out bool) {
	var area float64
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		area += a.X*b.Y - b.X*a.Y
	}
	in = true
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		ex, ey := b.X-a.X, b.Y-a.Y
		// Signed distance, positive inside.
		d := (ex*(p.Y-a.Y) - ey*(p.X-a.X)) / math.Hypot(ex, ey)
		if area < 0 {
			d = -d
		}
		if d < margin {
			in = false
		}
		if d < -margin {
			out = true
		}
	}
	return in, out
}

func TestPolygonAlphaRotatedSquare(t *testing.T) {
	for _, deg := range []float64{0, 17, 30, 45, 71} {
		for _, cw := range []bool{false, true} {
			var pts []Point
			for i := 0; i < 4; i++ {
				th := (deg + 90*float64(i)) * math.Pi / 180
				if cw {
					th = -th
				}
				pts = append(pts, Point{50 + 20*math.Cos(th), 40 + 20*math.Sin(th)})
			}
			a := PolygonAlpha(pts, Gradient{}, big)
			if a == nil {
				t.Fatalf("%v°: nil", deg)
			}
			for y := 10; y < 70; y++ {
				for x := 20; x < 80; x++ {
					in, out := inConvex(pts, Point{float64(x) + 0.5, float64(y) + 0.5}, 1.5)
					got := alphaAt(a, x, y)
					if in && got != 255 || out && got != 0 {
						t.Errorf("%v° cw=%v: alpha(%d,%d) = %d, in %v out %v", deg, cw, x, y, got, in, out)
					}
				}
			}
		}
	}
}

func TestPolygonAlphaGradient(t *testing.T) {
	// A plate-like parallelogram; Start 0.5 doubles it about its centre.
	pts := []Point{{100, 100}, {220, 110}, {220, 150}, {100, 140}}
	a := PolygonAlpha(pts, Gradient{Start: 0.5}, big)
	c := Point{160, 125}
	var outer []Point
	for _, p := range pts {
		outer = append(outer, Point{c.X + 2*(p.X-c.X), c.Y + 2*(p.Y-c.Y)})
	}
	for y := 40; y < 210; y++ {
		for x := 20; x < 300; x++ {
			p := Point{float64(x) + 0.5, float64(y) + 0.5}
			in, _ := inConvex(pts, p, 0)
			_, out := inConvex(outer, p, 0)
			got := alphaAt(a, x, y)
			if in && got != 255 || out && got != 0 {
				t.Errorf("alpha(%d,%d) = %d, in %v outside outer %v", x, y, got, in, out)
			}
		}
	}
}

func TestPolygonAlphaFallback(t *testing.T) {
	tests := []struct {
		name string
		pts  []Point
	}{
		{"chevron", []Point{{0, 0}, {20, 10}, {40, 0}, {20, 30}}},
		{"bowtie", []Point{{0, 0}, {40, 30}, {40, 0}, {0, 30}}},
		{"pentagram", []Point{{20, 0}, {32, 30}, {0, 11}, {40, 11}, {8, 30}}},
		{"back and forth", []Point{{0, 0}, {40, 0}, {20, 30}, {40, 0}}},
		{"retraced edge", []Point{{0, 0}, {40, 0}, {20, 30}, {40, 0}, {20, 30}}},
		{"collinear", []Point{{0, 0}, {20, 15}, {40, 30}}},
		{"two points", []Point{{0, 0}, {40, 30}}},
	}
	for _, tt := range tests {
		a := PolygonAlpha(tt.pts, Gradient{}, big)
		for y := 0; y < 30; y++ {
			for x := 0; x < 40; x++ {
				if got := alphaAt(a, x, y); got != 255 {
					t.Fatalf("%s: alpha(%d,%d) = %d, want the bounding box", tt.name, x, y, got)
				}
			}
		}
	}
}

func TestAlphaEmpty(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name           string
		x0, y0, x1, y1 float64
		g              Gradient
		bounds         image.Rectangle
	}{
		{"zero width", 5, 5, 5, 10, Gradient{}, big},
		{"zero height", 5, 5, 10, 5, Gradient{}, big},
		{"outside bounds", 5, 5, 10, 10, Gradient{}, image.Rect(20, 20, 30, 30)},
		{"empty bounds", 5, 5, 10, 10, Gradient{}, image.Rectangle{}},
		{"NaN", nan, 5, 10, 10, Gradient{}, big},
		{"Inf", 5, 5, inf, 10, Gradient{}, big},
	}
	for _, tt := range tests {
		if a := BoxAlpha(tt.x0, tt.y0, tt.x1, tt.y1, tt.g, tt.bounds); a != nil {
			t.Errorf("%s: BoxAlpha = %v, want nil", tt.name, a.Rect)
		}
		if a := EllipseAlpha(tt.x0, tt.y0, tt.x1, tt.y1, tt.g, tt.bounds); a != nil {
			t.Errorf("%s: EllipseAlpha = %v, want nil", tt.name, a.Rect)
		}
		pts := []Point{{tt.x0, tt.y0}, {tt.x1, tt.y0}, {tt.x1, tt.y1}, {tt.x0, tt.y1}}
		if a := PolygonAlpha(pts, tt.g, tt.bounds); a != nil {
			t.Errorf("%s: PolygonAlpha = %v, want nil", tt.name, a.Rect)
		}
	}
	if a := PolygonAlpha(nil, Gradient{}, big); a != nil {
		t.Errorf("PolygonAlpha(nil) = %v, want nil", a.Rect)
	}
}

func TestAlphaOddGradients(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, g := range []Gradient{{-1, -1}, {nan, nan}, {inf, 0}, {0, inf}, {0, 0.5}, {0, 3}, {2, 2}} {
		for _, sz := range []float64{0.2, 1, 30} {
			as := []*Alpha{
				BoxAlpha(10, 10, 10+sz, 10+sz, g, big),
				EllipseAlpha(10, 10, 10+sz, 10+sz, g, big),
				PolygonAlpha([]Point{{10, 10}, {10 + sz, 10}, {10, 10 + sz}}, g, big),
			}
			for i, a := range as {
				if a == nil {
					t.Errorf("%v size %v shape %d: nil", g, sz, i)
					continue
				}
				// The shape's centre is always covered, whatever the gradient.
				if sz >= 1 && alphaAt(a, 10+int(sz/4), 10+int(sz/4)) == 0 {
					t.Errorf("%v size %v shape %d: centre not covered", g, sz, i)
				}
			}
		}
	}
}

func TestUnion(t *testing.T) {
	a := BoxAlpha(0, 0, 10, 10, Gradient{Start: 0.2}, big)
	b := EllipseAlpha(5, 3, 30, 20, Gradient{}, big)
	u := Union(a, nil, b, &Alpha{Rect: image.Rect(0, 0, 5, 5)}) // the last is malformed: skipped
	if want := a.Rect.Union(b.Rect); u.Rect != want {
		t.Fatalf("rect %v, want %v", u.Rect, want)
	}
	for y := u.Rect.Min.Y; y < u.Rect.Max.Y; y++ {
		for x := u.Rect.Min.X; x < u.Rect.Max.X; x++ {
			if got, want := alphaAt(u, x, y), max(alphaAt(a, x, y), alphaAt(b, x, y)); got != want {
				t.Errorf("union(%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
	if u := Union(); u != nil {
		t.Errorf("Union() = %v, want nil", u.Rect)
	}
	if u := Union(nil, nil); u != nil {
		t.Errorf("Union(nil, nil) = %v, want nil", u.Rect)
	}
}

func TestClear(t *testing.T) {
	a := BoxAlpha(0, 0, 20, 10, Gradient{}, big)
	b := Union(a)
	r := image.Rect(5, -3, 8, 4)
	b.Clear(r)
	for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
		for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
			want := alphaAt(a, x, y)
			if (image.Point{x, y}).In(r) {
				want = 0
			}
			if got := alphaAt(b, x, y); got != want {
				t.Errorf("(%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
	var n *Alpha
	n.Clear(r) // no panic
	(&Alpha{Rect: image.Rect(0, 0, 10, 10)}).Clear(r)
	b.Clear(image.Rect(100, 100, 200, 200))
}
