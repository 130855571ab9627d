package detect

import (
	"context"
	"image"
	"image/color"
	"testing"
)

// TestTurnUnturn checks that Turn and unturn agree: each pixel of the
// turned image holds the source pixel whose centre its centre maps back
// to.
func TestTurnUnturn(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 7, 5))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	r := image.Rect(1, 1, 6, 4) // 5×3, off the origin
	for q := range 4 {
		out := Turn(src, r, q)
		want := image.Pt(5, 3)
		if q%2 == 1 {
			want = image.Pt(3, 5)
		}
		if out.Rect.Size() != want {
			t.Fatalf("q=%d: size %v, want %v", q, out.Rect.Size(), want)
		}
		for y := range out.Rect.Dy() {
			for x := range out.Rect.Dx() {
				p := unturn(Point{float32(x) + 0.5, float32(y) + 0.5}, q, 5, 3)
				sx, sy := r.Min.X+int(p.X), r.Min.Y+int(p.Y)
				if got, w := out.RGBAAt(x, y), src.RGBAAt(sx, sy); got != w {
					t.Errorf("q=%d: (%d,%d) = %v, want source (%d,%d) %v", q, x, y, got, sx, sy, w)
				}
			}
		}
	}
}

// pairFinder finds a red pixel with a green one right of it: a pattern
// with an orientation, like an upright face.
type pairFinder struct{}

func (pairFinder) Classes() []Class { return []Class{Face} }

func (pairFinder) Detect(_ context.Context, img *image.RGBA, r image.Rectangle, _ float32) ([]Detection, error) {
	red, green := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}
	var dets []Detection
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x+1 < r.Max.X; x++ {
			if img.RGBAAt(x, y) == red && img.RGBAAt(x+1, y) == green {
				x0, y0 := float32(x), float32(y)
				dets = append(dets, Detection{Class: Face, Score: 0.9, Box: Box{x0, y0, x0 + 2, y0 + 1},
					Points: []Point{{x0 + 0.5, y0 + 0.5}}})
			}
		}
	}
	return dets, nil
}

func TestTurned(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 20, 12))
	img.SetRGBA(2, 2, color.RGBA{255, 0, 0, 255}) // upright pair
	img.SetRGBA(3, 2, color.RGBA{0, 255, 0, 255})
	img.SetRGBA(9, 5, color.RGBA{255, 0, 0, 255}) // green below: upright after 3 quarter turns
	img.SetRGBA(9, 6, color.RGBA{0, 255, 0, 255})
	img.SetRGBA(14, 8, color.RGBA{255, 0, 0, 255}) // green left: upright after 2
	img.SetRGBA(13, 8, color.RGBA{0, 255, 0, 255})
	r := image.Rect(1, 1, 19, 11)
	tests := []struct {
		turns []int
		want  []Box
	}{
		{nil, []Box{{2, 2, 4, 3}}},
		{[]int{3}, []Box{{2, 2, 4, 3}, {9, 5, 10, 7}}},
		{[]int{1, 2, 3}, []Box{{2, 2, 4, 3}, {9, 5, 10, 7}, {13, 8, 15, 9}}},
	}
	for _, tt := range tests {
		d := &Turned{Detector: pairFinder{}, Turns: tt.turns, NMSIoU: 0.3}
		got, err := d.Detect(context.Background(), img, r, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("turns %v: %d detections %v, want %v", tt.turns, len(got), got, tt.want)
		}
		for _, w := range tt.want {
			found := false
			for _, g := range got {
				// The red pixel's centre comes back as the point.
				if g.Box == w && len(g.Points) == 1 && image.Pt(int(g.Points[0].X), int(g.Points[0].Y)).In(w.Rect()) &&
					img.RGBAAt(int(g.Points[0].X), int(g.Points[0].Y)).R == 255 {
					found = true
				}
			}
			if !found {
				t.Errorf("turns %v: no detection %v with its point on the red pixel in %v", tt.turns, w, got)
			}
		}
	}
	if _, err := (&Turned{Detector: pairFinder{}, Turns: []int{4}}).Detect(context.Background(), img, r, 0.5); err == nil {
		t.Error("4 quarter turns accepted")
	}
}
