package debugdraw

import (
	"image"
	"image/color"
	"math"
	"testing"
)

var (
	black = color.RGBA{A: 255}
	white = color.RGBA{R: 255, G: 255, B: 255, A: 255}
	red   = color.RGBA{R: 200, G: 10, B: 20, A: 255}
)

func blackImage(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

func at(img *image.RGBA, x, y int) color.RGBA { return img.RGBAAt(x, y) }

// count counts the pixels of r ∩ img.Rect equal to c.
func count(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if at(img, x, y) == c {
				n++
			}
		}
	}
	return n
}

// checkBox checks that exactly the t-wide outline inside box has c and
// every other pixel of img is black.
func checkBox(t *testing.T, img *image.RGBA, box image.Rectangle, th int, c color.RGBA) {
	t.Helper()
	inner := box.Inset(th)
	bad := 0
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			p := image.Pt(x, y)
			want := black
			if p.In(box) && !p.In(inner) {
				want = c
			}
			if got := at(img, x, y); got != want {
				if bad < 5 {
					t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d wrong pixels", bad)
	}
}

func TestBoxOutline(t *testing.T) {
	for _, th := range []int{1, 3} {
		img := blackImage(image.Rect(0, 0, 60, 40))
		box := image.Rect(10, 8, 40, 30)
		Draw(img, []Item{{Box: box, Color: red, Label: "face", Score: 0.9}}, Options{Thickness: th})
		checkBox(t, img, box, th, red)
		// Spot checks, for readability of failures.
		if at(img, 10, 8) != red || at(img, 39, 29) != red || at(img, 10+th-1, 20) != red {
			t.Errorf("th=%d: outline corner/side not drawn", th)
		}
		if at(img, 10+th, 20) != black || at(img, 25, 19) != black || at(img, 9, 8) != black || at(img, 40, 29) != black {
			t.Errorf("th=%d: interior or exterior touched", th)
		}
	}
}

func TestBoxNonZeroOrigin(t *testing.T) {
	r := image.Rect(-50, 100, 30, 180)
	img := blackImage(r)
	box := image.Rect(-20, 120, 10, 150)
	Draw(img, []Item{{Box: box, Color: red}}, Options{Thickness: 2})
	checkBox(t, img, box, 2, red)

	// A sub-image: drawing must stay inside it.
	big := blackImage(image.Rect(0, 0, 100, 100))
	sub := big.SubImage(image.Rect(20, 20, 60, 60)).(*image.RGBA)
	Draw(sub, []Item{{Box: image.Rect(0, 0, 100, 100), Color: red, Label: "x", Score: 1}}, Options{Thickness: 3, Scores: true})
	if n := count(big, big.Rect, red) - count(big, sub.Rect, red); n != 0 {
		t.Errorf("%d pixels drawn outside the sub-image", n)
	}
	if count(big, sub.Rect, red) == 0 {
		t.Errorf("nothing drawn in the sub-image")
	}
}

func TestClipping(t *testing.T) {
	huge := image.Rect(math.MinInt/2, math.MinInt/2, math.MaxInt/2, math.MaxInt/2)
	items := []Item{
		{Box: image.Rect(-10, -10, 20, 20), Color: red, Label: "face", Score: 0.5},        // partly outside, top left
		{Box: image.Rect(50, 30, 90, 70), Color: red, Label: "license-plate", Score: 0.7}, // partly outside, bottom right
		{Box: image.Rect(200, 200, 300, 300), Label: "person", Score: 0.1},                // entirely outside
		{Box: image.Rect(-300, 10, -200, 20), Label: "vehicle"},                           // entirely outside
		{Box: image.Rect(10, 10, 10, 30)},                                                 // empty
		{Box: image.Rect(30, 30, 20, 20), Color: red},                                     // not canonical
		{Box: image.Rectangle{}, Label: "face"},                                           // zero
		{Box: huge, Color: red, Label: "face", Score: 1},
		{Box: image.Rect(math.MinInt, math.MinInt, math.MaxInt, math.MaxInt), Color: red},
		{Box: image.Rect(5, 5, 10, 10), Polygon: []image.Point{{math.MinInt, 0}, {math.MaxInt, 10}, {0, math.MaxInt}}, Color: red},
		{Box: image.Rect(5, 5, 10, 10), Points: []image.Point{{-1, -1}, {math.MaxInt, math.MinInt}, {64, 48}}, Color: red},
		{Polygon: []image.Point{{3, 3}}},
		{Polygon: []image.Point{{3, 3}, {50, 40}}},
	}
	for _, opt := range []Options{{}, {Scores: true}, {Thickness: 1000, Scores: true}, {Thickness: math.MaxInt, Scores: true}} {
		for _, r := range []image.Rectangle{image.Rect(0, 0, 64, 48), image.Rect(-20, 7, 44, 55), image.Rect(0, 0, 1, 1), image.Rect(0, 0, 3, 200)} {
			img := blackImage(r)
			Draw(img, items, opt)
			if img.Rect != r || len(img.Pix) != 4*r.Dx()*r.Dy() {
				t.Fatalf("image changed shape")
			}
		}
	}
	// Degenerate images.
	Draw(nil, items, Options{Scores: true})
	Draw(&image.RGBA{}, items, Options{Scores: true})
	Draw(&image.RGBA{Rect: image.Rect(0, 0, 10, 10)}, items, Options{Scores: true}) // no Pix
	Draw(blackImage(image.Rect(0, 0, 10, 10)), nil, Options{})
}

func TestPartlyOutside(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 40, 40))
	box := image.Rect(-10, 20, 30, 60) // left and bottom sides outside
	Draw(img, []Item{{Box: box, Color: red}}, Options{Thickness: 2})
	checkBox(t, img, box, 2, red)
	if count(img, image.Rect(0, 0, 2, 40), red) != 2*2 { // only the top side reaches x<2
		t.Errorf("left side drawn although it is outside the image")
	}
}

func TestEntirelyOutsideUntouched(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 40, 40))
	Draw(img, []Item{
		{Box: image.Rect(41, 0, 80, 40), Color: red, Label: "face", Score: 1},
		{Box: image.Rect(-30, -30, 0, 0), Color: red, Label: "face", Score: 1},
		{Box: image.Rect(10, 10, 10, 20), Color: red, Label: "face", Score: 1},
	}, Options{Thickness: 2, Scores: true})
	if n := count(img, img.Rect, black); n != 40*40 {
		t.Errorf("%d pixels touched", 40*40-n)
	}
}

func TestScores(t *testing.T) {
	box := image.Rect(40, 50, 120, 100)
	above := image.Rect(0, 0, 200, 50)
	item := Item{Box: box, Color: red, Label: "face", Score: 0.93}

	img := blackImage(image.Rect(0, 0, 200, 150))
	Draw(img, []Item{item}, Options{Thickness: 2, Scores: true})
	bg, fg := count(img, above, red), count(img, above, white)
	if bg == 0 || fg == 0 {
		t.Errorf("label above the box: %d background, %d text pixels; want both > 0", bg, fg)
	}
	// The label sits right above the box, starting at its left edge.
	if at(img, 40, 49) != red {
		t.Errorf("no label background just above the box's top-left corner")
	}
	// Width grows with the text.
	w := 0
	for x := 40; x < 200 && at(img, x, 49) == red; x++ {
		w++
	}
	if want := 7 * len("face 0.93"); w < want {
		t.Errorf("label %d px wide, want at least %d", w, want)
	}

	img = blackImage(image.Rect(0, 0, 200, 150))
	Draw(img, []Item{item}, Options{Thickness: 2})
	if n := count(img, above, black); n != above.Dx()*above.Dy() {
		t.Errorf("Scores off: %d pixels above the box touched", above.Dx()*above.Dy()-n)
	}
	checkBox(t, img, box, 2, red)
}

func TestScoreLabelNoRoomAbove(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 200, 150))
	box := image.Rect(150, 5, 199, 60) // no room above, label wider than the space to the right
	Draw(img, []Item{{Box: box, Color: red, Label: "license-plate", Score: 0.5}}, Options{Thickness: 1, Scores: true})
	in := image.Rect(0, 5, 200, 30)
	if count(img, in, white) == 0 {
		t.Errorf("no label text below the box's top edge")
	}
	if n := count(img, image.Rect(0, 0, 200, 5), black); n != 200*5 {
		t.Errorf("%d pixels above the box's top edge touched", 200*5-n)
	}
	// Kept inside the image by moving left: 18 characters of 7 px and 2+2
	// px of padding end at the right edge.
	lx := 200 - (7*len("license-plate 0.50") + 4)
	if at(img, lx, 5) != red || at(img, lx-1, 5) != black || at(img, 199, 5) != red {
		t.Errorf("label not shifted left into the image")
	}
}

func TestLabelScale(t *testing.T) {
	small := labelWidth(t, 400)
	big := labelWidth(t, 1900)
	if big != 3*small {
		t.Errorf("label width %d on 1900 px image, want 3×%d", big, small)
	}
}

// labelWidth draws a labelled box on an n×n image and measures the label.
func labelWidth(t *testing.T, n int) int {
	img := blackImage(image.Rect(0, 0, n, n))
	Draw(img, []Item{{Box: image.Rect(10, n/2, n/2, n-10), Color: red, Label: "face", Score: 0.5}}, Options{Thickness: 1, Scores: true})
	w := 0
	for x := 10; x < n && at(img, x, n/2-1) == red; x++ {
		w++
	}
	if w == 0 {
		t.Fatalf("no label on %d px image", n)
	}
	return w
}

func TestPolygon(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 100, 100))
	poly := []image.Point{{10, 10}, {80, 80}, {10, 80}}
	Draw(img, []Item{{Box: image.Rect(0, 0, 0, 0), Color: red, Polygon: poly}}, Options{Thickness: 3})
	for i := 10; i <= 80; i++ {
		if at(img, i, i) != red { // the diagonal edge
			t.Fatalf("diagonal pixel (%d,%d) = %v", i, i, at(img, i, i))
		}
		if at(img, 10, i) != red || at(img, i, 80) != red { // closed: the last edge back to the first point too
			t.Fatalf("vertical/horizontal edge missing at %d", i)
		}
	}
	// Off the lines stays black.
	if at(img, 60, 30) != black || at(img, 30, 60) != black || at(img, 90, 90) != black {
		t.Errorf("pixels off the polygon drawn")
	}
}

func TestPolygonThin(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 100, 100))
	Draw(img, []Item{{Color: red, Polygon: []image.Point{{10, 10}, {80, 45}}}}, Options{Thickness: 1})
	// A 1 px line from (10,10) to (80,45): one pixel per column, within
	// half a pixel of the ideal line.
	for x := 10; x <= 80; x++ {
		n := 0
		for y := 0; y < 100; y++ {
			if at(img, x, y) == red {
				n++
				if d := float64(y) - (10 + float64(x-10)/2); d < -0.5 || d > 0.5 {
					t.Errorf("(%d,%d) is %.1f px off the line", x, y, d)
				}
			}
		}
		if n != 1 {
			t.Errorf("column %d: %d pixels drawn, want 1", x, n)
		}
	}
	if n := count(img, img.Rect, red); n != 71 {
		t.Errorf("%d pixels drawn, want 71", n)
	}
}

func TestPoints(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 50, 50))
	Draw(img, []Item{{Box: image.Rect(0, 0, 0, 0), Color: red, Points: []image.Point{{20, 20}, {49, 0}}}}, Options{Thickness: 2})
	if at(img, 20, 20) != red || at(img, 22, 20) != red || at(img, 20, 18) != red {
		t.Errorf("dot not drawn")
	}
	if at(img, 24, 20) != black || at(img, 22, 22) != black {
		t.Errorf("dot too large")
	}
	if at(img, 49, 0) != red {
		t.Errorf("dot on the corner not drawn")
	}
}

func TestClassColor(t *testing.T) {
	grey := ClassColor("something-else")
	if grey.R != grey.G || grey.G != grey.B || grey.A != 255 {
		t.Errorf("unknown label colour %v, want opaque grey", grey)
	}
	seen := map[color.RGBA]string{}
	for _, l := range []string{"face", "license-plate", "person", "vehicle"} {
		c := ClassColor(l)
		if c == grey || (c.R == c.G && c.G == c.B) {
			t.Errorf("%s: grey colour %v", l, c)
		}
		if c.A != 255 {
			t.Errorf("%s: colour %v not opaque", l, c)
		}
		if o, ok := seen[c]; ok {
			t.Errorf("%s and %s share colour %v", l, o, c)
		}
		seen[c] = l
	}
}

func TestDefaultColor(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 20, 20))
	Draw(img, []Item{{Box: image.Rect(2, 2, 18, 18), Label: "vehicle"}}, Options{Thickness: 1})
	if at(img, 2, 2) != ClassColor("vehicle") {
		t.Errorf("zero Color: got %v, want ClassColor(label)", at(img, 2, 2))
	}
}

func TestAutoThickness(t *testing.T) {
	prev := 0
	for _, n := range []int{100, 800, 1600, 4000} {
		th := drawnThickness(t, n)
		if th < prev || th < 2 {
			t.Errorf("%d px: thickness %d (previous %d)", n, th, prev)
		}
		prev = th
	}
	// Only the short side counts.
	if a, b := autoThickness(image.Rect(0, 0, 12000, 20)), autoThickness(image.Rect(0, 0, 4000, 3000)); a != 2 || b != 7 {
		t.Errorf("autoThickness: 12000×20 → %d, 4000×3000 → %d; want 2, 7", a, b)
	}
	if a, b := drawnThickness(t, 400), drawnThickness(t, 4000); b <= a {
		t.Errorf("thickness %d on 4000 px not above %d on 400 px", b, a)
	}
}

// drawnThickness draws a box with automatic thickness on an n×n image and
// measures its top side.
func drawnThickness(t *testing.T, n int) int {
	t.Helper()
	img := blackImage(image.Rect(0, 0, n, n))
	Draw(img, []Item{{Box: image.Rect(n/4, n/4, 3*n/4, 3*n/4), Color: red}}, Options{})
	th := 0
	for y := n / 4; y < n && at(img, n/2, y) == red; y++ {
		th++
	}
	if want := max(2, n/400); th != want {
		t.Errorf("%d px image: thickness %d, want %d", n, th, want)
	}
	return th
}

func TestNonOpaqueColor(t *testing.T) {
	img := blackImage(image.Rect(0, 0, 20, 20))
	half := color.RGBA{R: 128, A: 128} // premultiplied half-transparent red
	Draw(img, []Item{{Box: image.Rect(2, 2, 18, 18), Color: half}}, Options{Thickness: 1})
	got := at(img, 2, 2)
	if got.R < 120 || got.R > 136 || got.G != 0 || got.A != 255 {
		t.Errorf("half-transparent red over black = %v", got)
	}
}

func BenchmarkDraw12MP(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	var items []Item
	for i := range 50 {
		x, y := (i*73)%3800, (i*131)%2800
		items = append(items, Item{
			Box: image.Rect(x, y, x+200, y+150), Label: "face", Score: 0.9,
			Points:  []image.Point{{x + 50, y + 50}, {x + 150, y + 50}, {x + 100, y + 80}, {x + 60, y + 120}, {x + 140, y + 120}},
			Polygon: []image.Point{{x, y}, {x + 200, y + 20}, {x + 190, y + 150}, {x + 5, y + 140}},
		})
	}
	for b.Loop() {
		Draw(img, items, Options{Scores: true})
	}
}
