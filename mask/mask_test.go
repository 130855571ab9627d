package mask

import (
	"image"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomMask returns a mask over r with soft coverage values, about
// density of them >= 128.
func randomMask(rng *rand.Rand, r image.Rectangle, density float64) *Mask {
	m := New(r)
	for i := range m.Pix {
		if rng.Float64() < density {
			m.Pix[i] = uint8(128 + rng.IntN(128))
		} else {
			m.Pix[i] = uint8(rng.IntN(128))
		}
	}
	return m
}

// maskOf returns a mask over r whose rows are given as strings: '#' is
// 255, '+' 128, '-' 127 and anything else 0.
func maskOf(r image.Rectangle, rows ...string) *Mask {
	m := New(r)
	for y, row := range rows {
		for x, ch := range row {
			var c uint8
			switch ch {
			case '#':
				c = 255
			case '+':
				c = 128
			case '-':
				c = 127
			}
			m.Pix[y*r.Dx()+x] = c
		}
	}
	return m
}

// sameMask reports where a and b differ, comparing At over both Rects.
func sameMask(t *testing.T, got, want *Mask) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Errorf("Rect = %v, want %v", got.Rect, want.Rect)
	}
	if len(got.Pix) != area(got.Rect) {
		t.Errorf("len(Pix) = %d, want %d", len(got.Pix), area(got.Rect))
	}
	u := got.Rect.Union(want.Rect)
	for y := u.Min.Y; y < u.Max.Y; y++ {
		for x := u.Min.X; x < u.Max.X; x++ {
			if g, w := got.At(x, y), want.At(x, y); g != w {
				t.Fatalf("At(%d, %d) = %d, want %d", x, y, g, w)
			}
		}
	}
}

func TestFromRect(t *testing.T) {
	for _, r := range []image.Rectangle{
		image.Rect(0, 0, 1, 1),
		image.Rect(-3, 2, 4, 9),
		image.Rect(5, 5, 5, 9), // empty
		{},
	} {
		m := FromRect(r)
		if m.Rect != r || len(m.Pix) != area(r) {
			t.Errorf("FromRect(%v): Rect %v, len(Pix) %d", r, m.Rect, len(m.Pix))
		}
		if got := m.Area(); got != area(r) {
			t.Errorf("FromRect(%v).Area() = %d, want %d", r, got, area(r))
		}
		for _, c := range m.Pix {
			if c != 255 {
				t.Fatalf("FromRect(%v) has coverage %d", r, c)
			}
		}
	}
}

func TestArea(t *testing.T) {
	r := image.Rect(10, 20, 14, 22)
	tests := []struct {
		name string
		m    *Mask
		want int
	}{
		{"nil", nil, 0},
		{"zero", &Mask{}, 0},
		{"empty", New(r), 0},
		{"full", FromRect(r), 8},
		{"threshold", maskOf(r, "#+- ", "-+#+"), 5},
		{"short Pix", &Mask{Rect: r, Pix: []uint8{255}}, 0},
	}
	for _, tt := range tests {
		if got := tt.m.Area(); got != tt.want {
			t.Errorf("%s: Area() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestClear(t *testing.T) {
	r := image.Rect(1, 1, 5, 4)
	tests := []struct {
		name  string
		clear image.Rectangle
		want  []string
	}{
		{"inside", image.Rect(2, 2, 4, 3), []string{"####", "#  #", "####"}},
		{"overlapping", image.Rect(3, 0, 9, 3), []string{"##  ", "##  ", "####"}},
		{"all", image.Rect(-10, -10, 10, 10), []string{"    ", "    ", "    "}},
		{"outside", image.Rect(5, 1, 8, 4), []string{"####", "####", "####"}},
		{"empty", image.Rectangle{}, []string{"####", "####", "####"}},
	}
	for _, tt := range tests {
		m := FromRect(r)
		m.Clear(tt.clear)
		t.Run(tt.name, func(t *testing.T) { sameMask(t, m, maskOf(r, tt.want...)) })
	}
	// Nil and invalid masks are left alone, without panicking.
	var nilMask *Mask
	nilMask.Clear(r)
	short := &Mask{Rect: r, Pix: []uint8{255, 255}}
	short.Clear(r)
	if short.Pix[0] != 255 {
		t.Errorf("Clear changed a mask with a short Pix")
	}
}

func TestBinary(t *testing.T) {
	r := image.Rect(-1, 3, 3, 5)
	m := maskOf(r, "#+- ", "-+#+")
	b := m.Binary()
	sameMask(t, b, maskOf(r, "##  ", " ###"))
	if m.Pix[1] != 128 {
		t.Errorf("Binary changed its receiver")
	}

	var nilMask *Mask
	if b := nilMask.Binary(); b == nil || !b.Rect.Empty() || len(b.Pix) != 0 {
		t.Errorf("nil.Binary() = %+v, want an empty mask", b)
	}
	short := &Mask{Rect: r, Pix: []uint8{255}}
	sameMask(t, short.Binary(), New(r))
}

func TestIntersect(t *testing.T) {
	r := image.Rect(0, 0, 4, 3)
	m := maskOf(r, "#+- ", "-+#+", "# # ")
	tests := []struct {
		name string
		r    image.Rectangle
		want *Mask
	}{
		{"inside", image.Rect(1, 1, 3, 3), maskOf(image.Rect(1, 1, 3, 3), "+#", " #")},
		{"overlapping", image.Rect(2, -5, 9, 2), maskOf(image.Rect(2, 0, 4, 2), "- ", "#+")},
		{"all", image.Rect(-1, -1, 10, 10), m},
		{"disjoint", image.Rect(10, 10, 12, 12), &Mask{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.Intersect(tt.r)
			sameMask(t, got, tt.want)
			if len(got.Pix) > 0 && &got.Pix[0] == &m.Pix[0] {
				t.Errorf("Intersect shares Pix with its receiver")
			}
		})
	}
	var nilMask *Mask
	if got := nilMask.Intersect(r); got == nil || !got.Rect.Empty() {
		t.Errorf("nil.Intersect = %+v, want an empty mask", got)
	}
	short := &Mask{Rect: r, Pix: []uint8{255}}
	sameMask(t, short.Intersect(image.Rect(0, 0, 2, 2)), New(image.Rect(0, 0, 2, 2)))
}

func TestDilate(t *testing.T) {
	// dilateSlow is the definition: 255 where a covered pixel lies within
	// rx, ry.
	dilateSlow := func(m *Mask, rx, ry int) []uint8 {
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := make([]uint8, w*h)
		for y := range h {
			for x := range w {
				for yy := max(0, y-max(ry, 0)); yy <= min(h-1, y+max(ry, 0)); yy++ {
					for xx := max(0, x-max(rx, 0)); xx <= min(w-1, x+max(rx, 0)); xx++ {
						if m.Pix[yy*w+xx] >= 128 {
							out[y*w+x] = 255
						}
					}
				}
			}
		}
		return out
	}
	tests := []struct {
		name   string
		w, h   int
		on     []image.Point
		rx, ry int
	}{
		{"one pixel, square", 9, 7, []image.Point{{4, 3}}, 2, 2},
		{"one pixel, wide", 9, 7, []image.Point{{4, 3}}, 3, 1},
		{"across only", 9, 7, []image.Point{{4, 3}}, 2, 0},
		{"corner pixel, clipped", 6, 5, []image.Point{{0, 0}}, 2, 3},
		{"two pixels, windows overlap", 12, 4, []image.Point{{2, 1}, {5, 2}}, 2, 1},
		{"radius beyond the mask", 5, 5, []image.Point{{2, 2}}, 9, 9},
		{"empty", 5, 5, nil, 2, 2},
		{"faint pixel not covered", 5, 5, []image.Point{{-1, -1}}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(image.Rect(10, 20, 10+tt.w, 20+tt.h))
			for _, p := range tt.on {
				if p.X < 0 {
					m.Pix[0] = 100 // under the coverage threshold
					continue
				}
				m.Pix[p.Y*tt.w+p.X] = 200
			}
			want := dilateSlow(m, tt.rx, tt.ry)
			m.Dilate(tt.rx, tt.ry)
			if !slices.Equal(m.Pix, want) {
				t.Errorf("Dilate(%d, %d) =\n%v\nwant\n%v", tt.rx, tt.ry, m.Pix, want)
			}
		})
	}
	var nilMask *Mask
	nilMask.Dilate(2, 2) // no panic
}
