package mask

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// refRender renders the instance mask the slow way: at full resolution
// with At, then sampled at the scaled pixel centres.
func refRender(w, h int, objs []Object, scale int, ignores []image.Rectangle) (ow, oh int, g, b []uint8) {
	fg, fb := make([]uint8, w*h), make([]uint8, w*h)
	for i, o := range objs {
		for y := range h {
			for x := range w {
				if o.Mask.At(x, y) >= 128 {
					fg[y*w+x] = uint8(min(i+1, 255))
					fb[y*w+x] |= o.Flag
				}
			}
		}
	}
	for _, r := range ignores {
		for y := range h {
			for x := range w {
				if image.Pt(x, y).In(r) {
					fg[y*w+x], fb[y*w+x] = 0, 0
				}
			}
		}
	}
	ow = max(1, int(float64(w)*float64(scale)/100+0.5))
	oh = max(1, int(float64(h)*float64(scale)/100+0.5))
	g, b = make([]uint8, ow*oh), make([]uint8, ow*oh)
	for oy := range oh {
		for ox := range ow {
			// The centre of (ox, oy) is at ((ox+0.5)*w/ow, (oy+0.5)*h/oh).
			x := (2*ox + 1) * w / (2 * ow)
			y := (2*oy + 1) * h / (2 * oh)
			g[oy*ow+ox], b[oy*ow+ox] = fg[y*w+x], fb[y*w+x]
		}
	}
	return ow, oh, g, b
}

// checkRender compares Binary and Instances with refRender.
func checkRender(t *testing.T, w, h int, objs []Object, scale int, ignores []image.Rectangle) {
	t.Helper()
	ow, oh, g, b := refRender(w, h, objs, scale, ignores)
	bin, err := Binary(w, h, objs, scale, ignores)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Instances(w, h, objs, scale, ignores)
	if err != nil {
		t.Fatal(err)
	}
	want := image.Rect(0, 0, ow, oh)
	if bin.Rect != want || inst.Rect != want {
		t.Fatalf("bounds %v and %v, want %v", bin.Rect, inst.Rect, want)
	}
	for y := range oh {
		for x := range ow {
			i := y*ow + x
			wantGray := uint8(0)
			if g[i] != 0 {
				wantGray = 255
			}
			if got := bin.GrayAt(x, y).Y; got != wantGray {
				t.Fatalf("Binary at (%d, %d) = %d, want %d", x, y, got, wantGray)
			}
			wantRGBA := color.RGBA{0, g[i], b[i], 255}
			if got := inst.RGBAAt(x, y); got != wantRGBA {
				t.Fatalf("Instances at (%d, %d) = %v, want %v", x, y, got, wantRGBA)
			}
		}
	}
}

func TestRenderLayout(t *testing.T) {
	// An 8×6 image with a vehicle, a plate on it and a person, the plate
	// after the vehicle.
	car := FromRect(image.Rect(1, 1, 6, 5))
	plate := FromRect(image.Rect(3, 3, 7, 4))
	person := maskOf(image.Rect(6, 0, 8, 3), "#-", "+#", "##")
	objs := []Object{{car, FlagVehicle}, {plate, FlagLicensePlate}, {person, FlagPerson}}
	inst, err := Instances(8, 6, objs, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, color.RGBA{0, 0, 0, 255}},   // nothing
		{1, 1, color.RGBA{0, 1, 16, 255}},  // car only
		{3, 3, color.RGBA{0, 2, 80, 255}},  // plate over car: 64|16, plate's id
		{6, 3, color.RGBA{0, 2, 64, 255}},  // plate only
		{7, 0, color.RGBA{0, 0, 0, 255}},   // person, coverage 127
		{6, 1, color.RGBA{0, 3, 128, 255}}, // person, coverage 128
		{7, 5, color.RGBA{0, 0, 0, 255}},   // corner
	}
	for _, tt := range tests {
		if got := inst.RGBAAt(tt.x, tt.y); got != tt.want {
			t.Errorf("Instances at (%d, %d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}

	// With the plate first, the car's id wins but the flags are still OR-ed.
	inst, err = Instances(8, 6, []Object{{plate, FlagLicensePlate}, {car, FlagVehicle}}, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := inst.RGBAAt(3, 3), (color.RGBA{0, 2, 80, 255}); got != want {
		t.Errorf("plate under car: %v, want %v", got, want)
	}
	if got, want := inst.RGBAAt(6, 3), (color.RGBA{0, 1, 64, 255}); got != want {
		t.Errorf("plate alone: %v, want %v", got, want)
	}
	checkRender(t, 8, 6, objs, 100, nil)
}

func TestBinaryThreshold(t *testing.T) {
	// Every coverage value 0..255 in a 16×16 mask: white from 128 on.
	m := New(image.Rect(0, 0, 16, 16))
	for i := range m.Pix {
		m.Pix[i] = uint8(i)
	}
	bin, err := Binary(16, 16, []Object{{Mask: m}}, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range bin.Pix {
		want := uint8(0)
		if i >= 128 {
			want = 255
		}
		if c != want {
			t.Fatalf("coverage %d: Binary = %d, want %d", i, c, want)
		}
	}
}

func TestRenderIgnores(t *testing.T) {
	objs := []Object{
		{FromRect(image.Rect(0, 0, 10, 10)), FlagPerson},
		{FromRect(image.Rect(2, 2, 5, 5)), FlagFace},
	}
	ignores := []image.Rectangle{image.Rect(1, 1, 4, 3), image.Rect(8, -5, 20, 20)}
	bin, err := Binary(10, 10, objs, 100, ignores)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Instances(10, 10, objs, 100, ignores)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []image.Point{{1, 1}, {3, 2}, {8, 0}, {9, 9}} {
		if got := bin.GrayAt(p.X, p.Y).Y; got != 0 {
			t.Errorf("Binary at %v = %d, want 0 (ignored)", p, got)
		}
		if got, want := inst.RGBAAt(p.X, p.Y), (color.RGBA{0, 0, 0, 255}); got != want {
			t.Errorf("Instances at %v = %v, want %v (ignored)", p, got, want)
		}
	}
	for _, p := range []image.Point{{0, 0}, {4, 2}, {3, 3}, {7, 9}} {
		if got := bin.GrayAt(p.X, p.Y).Y; got != 255 {
			t.Errorf("Binary at %v = %d, want 255", p, got)
		}
	}
	if got, want := inst.RGBAAt(3, 3), (color.RGBA{0, 2, 160, 255}); got != want {
		t.Errorf("Instances at (3, 3) = %v, want %v", got, want)
	}
	for _, scale := range []int{100, 50, 30, 1} {
		checkRender(t, 10, 10, objs, scale, ignores)
	}
}

func TestRenderScale(t *testing.T) {
	tests := []struct {
		w, h, scale int
		ow, oh      int
	}{
		{4000, 3000, 100, 4000, 3000},
		{4000, 3000, 50, 2000, 1500},
		{4000, 3000, 1, 40, 30},
		{5, 3, 50, 3, 2}, // 2.5 → 3, 1.5 → 2
		{333, 333, 33, 110, 110},
		{10, 10, 1, 1, 1},
		{1, 1, 1, 1, 1},
		{1, 7, 50, 1, 4},
		{149, 150, 1, 1, 2}, // 1.49 → 1, 1.5 → 2
	}
	for _, tt := range tests {
		bin, err := Binary(tt.w, tt.h, nil, tt.scale, nil)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := Instances(tt.w, tt.h, nil, tt.scale, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := image.Rect(0, 0, tt.ow, tt.oh)
		if bin.Rect != want || inst.Rect != want {
			t.Errorf("%dx%d at %d%%: %v and %v, want %v", tt.w, tt.h, tt.scale, bin.Rect, inst.Rect, want)
		}
	}

	// At 50% a 4×4 image shows its pixels (1,1), (3,1), (1,3) and (3,3).
	m := maskOf(image.Rect(0, 0, 4, 4), "####", "### ", "####", "# ##")
	bin, err := Binary(4, 4, []Object{{Mask: m}}, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{255, 0, 0, 255}; string(bin.Pix) != string(want) {
		t.Errorf("4x4 at 50%%: %v, want %v", bin.Pix, want)
	}
}

func TestRenderRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 40 {
		w, h := 1+rng.IntN(60), 1+rng.IntN(60)
		var objs []Object
		for range rng.IntN(6) {
			r := image.Rect(rng.IntN(w+10)-10, rng.IntN(h+10)-10, 0, 0)
			r.Max = r.Min.Add(image.Pt(1+rng.IntN(w), 1+rng.IntN(h)))
			flag := []uint8{FlagPerson, FlagLicensePlate, FlagFace, FlagVehicle, 0}[rng.IntN(5)]
			objs = append(objs, Object{randomMask(rng, r, 0.7), flag})
		}
		if rng.IntN(4) == 0 {
			objs = append(objs, Object{nil, FlagFace})
		}
		var ignores []image.Rectangle
		for range rng.IntN(3) {
			ignores = append(ignores, image.Rect(rng.IntN(w), rng.IntN(h), rng.IntN(w+5), rng.IntN(h+5)))
		}
		scale := []int{100, 99, 50, 33, 10, 1, 1 + rng.IntN(100)}[i%7]
		t.Run(fmt.Sprintf("%dx%d@%d", w, h, scale), func(t *testing.T) {
			checkRender(t, w, h, objs, scale, ignores)
		})
	}
}

func TestInstancesManyObjects(t *testing.T) {
	// 300 one-pixel objects along a row: ids 1..255, then 255.
	var objs []Object
	for i := range 300 {
		objs = append(objs, Object{FromRect(image.Rect(i, 0, i+1, 1)), FlagFace})
	}
	inst, err := Instances(300, 1, objs, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	for x, want := range map[int]uint8{0: 1, 9: 10, 253: 254, 254: 255, 299: 255} {
		if got := inst.RGBAAt(x, 0).G; got != want {
			t.Errorf("object %d: id %d, want %d", x, got, want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	ok := []Object{{FromRect(image.Rect(0, 0, 2, 2)), FlagPerson}}
	tests := []struct {
		name        string
		w, h, scale int
		objs        []Object
		want        error
	}{
		{"scale 0", 10, 10, 0, ok, ErrScale},
		{"scale 101", 10, 10, 101, ok, ErrScale},
		{"scale -1", 10, 10, -1, ok, ErrScale},
		{"zero width", 0, 10, 100, ok, ErrSize},
		{"negative height", 10, -1, 100, ok, ErrSize},
		{"too large", 1 << 15, 1 << 14, 100, ok, ErrSize},
		{"huge", math.MaxInt, math.MaxInt, 100, ok, ErrSize},
		{"short Pix", 10, 10, 100, []Object{{&Mask{Rect: image.Rect(0, 0, 4, 4), Pix: make([]uint8, 15)}, 0}}, ErrFormat},
	}
	for _, tt := range tests {
		bin, err := Binary(tt.w, tt.h, tt.objs, tt.scale, nil)
		if !errors.Is(err, tt.want) || bin != nil {
			t.Errorf("%s: Binary error %v, want %v", tt.name, err, tt.want)
		}
		inst, err := Instances(tt.w, tt.h, tt.objs, tt.scale, nil)
		if !errors.Is(err, tt.want) || inst != nil {
			t.Errorf("%s: Instances error %v, want %v", tt.name, err, tt.want)
		}
	}
}

// BenchmarkRender renders the binary and the instance mask of a 12 MP
// image with ten person-sized masks.
func BenchmarkRender(b *testing.B) {
	const w, h = 4000, 3000
	rng := rand.New(rand.NewPCG(7, 8))
	var objs []Object
	for i := range 10 {
		r := image.Rect(i*380, 800+rng.IntN(400), 0, 0)
		r.Max = r.Min.Add(image.Pt(500, 1500))
		m := New(r)
		// An ellipse, soft at the edge.
		cx, cy := float64(r.Dx())/2, float64(r.Dy())/2
		for y := range r.Dy() {
			for x := range r.Dx() {
				dx, dy := (float64(x)+0.5-cx)/cx, (float64(y)+0.5-cy)/cy
				if d := dx*dx + dy*dy; d < 1 {
					m.Pix[y*r.Dx()+x] = uint8(255 * (1 - d))
				}
			}
		}
		objs = append(objs, Object{m, FlagPerson})
	}
	ignores := []image.Rectangle{image.Rect(0, 0, 400, 400)}
	for _, scale := range []int{100, 50} {
		b.Run(fmt.Sprintf("scale=%d", scale), func(b *testing.B) {
			for b.Loop() {
				if _, err := Binary(w, h, objs, scale, ignores); err != nil {
					b.Fatal(err)
				}
				if _, err := Instances(w, h, objs, scale, ignores); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestScale checks that scaling a full-size rendering equals rendering at
// the scale, for both mask kinds.
func TestScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 20 {
		w, h := 1+rng.IntN(80), 1+rng.IntN(80)
		var objs []Object
		for range 1 + rng.IntN(5) {
			r := image.Rect(rng.IntN(w), rng.IntN(h), 0, 0)
			r.Max = r.Min.Add(image.Pt(1+rng.IntN(w), 1+rng.IntN(h)))
			objs = append(objs, Object{randomMask(rng, r, 0.7), []uint8{FlagPerson, FlagFace, FlagVehicle}[rng.IntN(3)]})
		}
		scale := []int{100, 50, 33, 7, 1, 1 + rng.IntN(100)}[i%6]
		fullBin, _ := Binary(w, h, objs, 100, nil)
		fullIns, _ := Instances(w, h, objs, 100, nil)
		wantBin, _ := Binary(w, h, objs, scale, nil)
		wantIns, _ := Instances(w, h, objs, scale, nil)
		gotBin, err := Scale(fullBin, scale)
		if err != nil {
			t.Fatal(err)
		}
		gotIns, err := Scale(fullIns, scale)
		if err != nil {
			t.Fatal(err)
		}
		if g := gotBin.(*image.Gray); g.Rect != wantBin.Rect || !bytes.Equal(g.Pix, wantBin.Pix) {
			t.Errorf("%dx%d@%d: scaled binary mask differs", w, h, scale)
		}
		if g := gotIns.(*image.RGBA); g.Rect != wantIns.Rect || !bytes.Equal(g.Pix, wantIns.Pix) {
			t.Errorf("%dx%d@%d: scaled instance mask differs", w, h, scale)
		}
	}
	if _, err := Scale(image.NewGray(image.Rect(0, 0, 4, 4)), 0); !errors.Is(err, ErrScale) {
		t.Errorf("scale 0: %v", err)
	}
}
