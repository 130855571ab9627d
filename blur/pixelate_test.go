package blur

import (
	"image"
	"testing"

	"github.com/veilkit/veil/mask"
)

// cellMean returns the mean colour of img over r ∩ img.Rect, rounded.
func cellMean(img *image.RGBA, r image.Rectangle) [3]int {
	r = r.Intersect(img.Rect)
	var s [3]int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			s[0], s[1], s[2] = s[0]+int(c.R), s[1]+int(c.G), s[2]+int(c.B)
		}
	}
	n := r.Dx() * r.Dy()
	return [3]int{(s[0] + n/2) / n, (s[1] + n/2) / n, (s[2] + n/2) / n}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func TestPixelate(t *testing.T) {
	bounds := image.Rect(-5, 7, 95, 67)
	tests := []struct {
		cell   int
		origin image.Point
		r      image.Rectangle
	}{
		{8, image.Pt(3, -2), image.Rect(10, 10, 60, 50)},
		{8, image.Pt(0, 0), bounds},
		{5, image.Pt(-1000, 1001), image.Rect(-20, 0, 30, 30)}, // partly outside the image
		{13, image.Pt(50, 50), image.Rect(40, 40, 90, 100)},
		{1, image.Pt(0, 0), image.Rect(0, 10, 10, 20)},
		{200, image.Pt(17, 30), bounds}, // a cell larger than the image
	}
	for _, tt := range tests {
		orig := noise(bounds, 7)
		img := clone(orig)
		Pixelate(img, mask.FromRect(tt.r), tt.cell, tt.origin)
		reg := tt.r.Intersect(bounds)
		for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
			for x := bounds.Min.X; x < bounds.Max.X; x++ {
				got := img.RGBAAt(x, y)
				if !(image.Point{x, y}).In(reg) {
					if got != orig.RGBAAt(x, y) {
						t.Fatalf("%+v: (%d,%d) outside changed", tt, x, y)
					}
					continue
				}
				// The cell of (x, y) in the grid anchored at origin.
				cx := tt.origin.X + floorDiv(x-tt.origin.X, tt.cell)*tt.cell
				cy := tt.origin.Y + floorDiv(y-tt.origin.Y, tt.cell)*tt.cell
				want := cellMean(orig, image.Rect(cx, cy, cx+tt.cell, cy+tt.cell))
				if abs(int(got.R)-want[0]) > 1 || abs(int(got.G)-want[1]) > 1 || abs(int(got.B)-want[2]) > 1 {
					t.Fatalf("%+v: (%d,%d) = %v, want cell mean %v", tt, x, y, got, want)
				}
				if got.A != orig.RGBAAt(x, y).A {
					t.Fatalf("%+v: (%d,%d) alpha channel changed", tt, x, y)
				}
			}
		}
	}
}

func TestPixelateGridAnchor(t *testing.T) {
	// Columns of distinct grey: a cell's pixels are one colour, and cell
	// borders lie on origin.X + k·cell.
	img := image.NewRGBA(image.Rect(0, 0, 40, 4))
	for x := range 40 {
		for y := range 4 {
			img.Pix[img.PixOffset(x, y)] = uint8(x * 6)
		}
	}
	Pixelate(img, mask.FromRect(img.Rect), 4, image.Pt(2, 0))
	for x := 1; x < 40; x++ {
		same := img.Pix[img.PixOffset(x, 0)] == img.Pix[img.PixOffset(x-1, 0)]
		if border := (x-2)%4 == 0; same == border {
			t.Errorf("x=%d: same colour as x-1 %v, grid border %v", x, same, border)
		}
	}
}

func TestPixelateBlend(t *testing.T) {
	orig := noise(image.Rect(0, 0, 16, 16), 8)
	px := clone(orig)
	Pixelate(px, mask.FromRect(orig.Rect), 4, image.Point{})
	a := mask.FromRect(orig.Rect)
	for i := range a.Pix {
		a.Pix[i] = uint8(i)
	}
	img := clone(orig)
	Pixelate(img, a, 4, image.Point{})
	for i, k := range a.Pix {
		for c := range 3 {
			o := i*4 + c
			want := (int(k)*int(px.Pix[o]) + (255-int(k))*int(orig.Pix[o]) + 127) / 255
			if got := int(img.Pix[o]); abs(got-want) > 1 {
				t.Fatalf("pixel %d channel %d (alpha %d): %d, want %d", i, c, k, got, want)
			}
		}
	}
}

func TestBlacken(t *testing.T) {
	bounds := image.Rect(3, -4, 43, 26)
	orig := noise(bounds, 9)
	img := clone(orig)
	r := image.Rect(10, 0, 30, 20)
	a := mask.FromRect(r)
	for i := range a.Pix[:len(a.Pix)/2] {
		a.Pix[i] = 128 // the top half
	}
	Blacken(img, a)
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			got, o := img.RGBAAt(x, y), orig.RGBAAt(x, y)
			switch {
			case !(image.Point{x, y}).In(r):
				if got != o {
					t.Fatalf("(%d,%d) outside changed", x, y)
				}
			case y < r.Min.Y+r.Dy()/2:
				for _, p := range [][2]uint8{{got.R, o.R}, {got.G, o.G}, {got.B, o.B}} {
					if abs(2*int(p[0])-int(p[1])) > 2 {
						t.Fatalf("(%d,%d) alpha 128: %v, want half of %v", x, y, got, o)
					}
				}
			default:
				if got.R != 0 || got.G != 0 || got.B != 0 {
					t.Fatalf("(%d,%d) alpha 255: %v, want black", x, y, got)
				}
			}
			if got.A != o.A {
				t.Fatalf("(%d,%d) alpha channel changed", x, y)
			}
		}
	}
}

func abs(x int) int { return max(x, -x) }
