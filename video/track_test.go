package video

import (
	"fmt"
	"math"
	"testing"

	"github.com/veilkit/veil/detect"
)

// centredBox returns the box of centre (cx, cy) and size w×h.
func centredBox(cx, cy, w, h float32) detect.Box {
	return detect.Box{X1: cx - w/2, Y1: cy - h/2, X2: cx + w/2, Y2: cy + h/2}
}

func boxCenter(b detect.Box) (x, y float32) { return (b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2 }

// mover is a box moving at constant velocity.
type mover struct {
	class  detect.Class
	x, y   float32 // centre at frame 0
	vx, vy float32 // per frame
	w, h   float32
}

func (m mover) at(t int) detect.Box {
	return centredBox(m.x+m.vx*float32(t), m.y+m.vy*float32(t), m.w, m.h)
}

func (m mover) det(t int) detect.Detection {
	return detect.Detection{Class: m.class, Label: m.class.String(), Score: 0.9, Box: m.at(t)}
}

func TestTrackConstantVelocity(t *testing.T) {
	for _, m := range []mover{
		{detect.Face, 100, 100, 0, 0, 40, 40},
		{detect.Face, 100, 100, 3, 1, 40, 40},
		{detect.Face, 300, 100, -6, 2, 40, 48},
		{detect.LicensePlate, 50, 200, 12, 0, 60, 20},
		{detect.Person, 100, 300, 1.5, -4, 30, 80},
	} {
		t.Run(fmt.Sprintf("%v/%v,%v", m.class, m.vx, m.vy), func(t *testing.T) {
			tr := NewTracker(TrackerOptions{})
			id := 0
			for f := range 30 {
				objs, born := tr.Update([]detect.Detection{m.det(f)})
				if len(objs) != 1 || objs[0].Predicted || objs[0].Box != m.at(f) {
					t.Fatalf("frame %d: objects %+v, want the detection", f, objs)
				}
				if f == 0 {
					id = objs[0].TrackID
					if id != 1 || len(born) != 1 || born[0] != 1 {
						t.Fatalf("frame 0: ID %d, born %v; want 1, [1]", id, born)
					}
					continue
				}
				if objs[0].TrackID != id || len(born) != 0 {
					t.Fatalf("frame %d: ID %d, born %v; want %d, none", f, objs[0].TrackID, born, id)
				}
			}
		})
	}
}

func TestTrackTwoObjects(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b mover
	}{
		{"crossing classes", mover{detect.Face, 20, 100, 5, 0, 40, 40}, mover{detect.LicensePlate, 170, 100, -5, 0, 40, 40}},
		{"crossing classes diagonally", mover{detect.Face, 20, 20, 4, 4, 40, 40}, mover{detect.Person, 140, 20, -4, 4, 40, 40}},
		{"same class apart", mover{detect.Face, 100, 100, -3, 0, 40, 40}, mover{detect.Face, 130, 100, 3, 0, 40, 40}},
		{"same class apart diagonally", mover{detect.Face, 100, 100, -2, -2, 40, 40}, mover{detect.Face, 110, 110, 2, 2, 40, 40}},
		{"same class crossing", mover{detect.Face, 20, 100, 5, 0, 40, 40}, mover{detect.Face, 170, 110, -5, 0, 40, 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(TrackerOptions{})
			var ida, idb int
			for f := range 30 {
				objs, _ := tr.Update([]detect.Detection{tc.a.det(f), tc.b.det(f)})
				if len(objs) != 2 || objs[0].Predicted || objs[1].Predicted {
					t.Fatalf("frame %d: objects %+v, want the 2 detections", f, objs)
				}
				if f == 0 {
					ida, idb = objs[0].TrackID, objs[1].TrackID
					if ida == idb {
						t.Fatalf("frame 0: both objects have ID %d", ida)
					}
					continue
				}
				if objs[0].TrackID != ida || objs[1].TrackID != idb {
					t.Fatalf("frame %d: IDs %d, %d; want %d, %d", f, objs[0].TrackID, objs[1].TrackID, ida, idb)
				}
			}
		})
	}
}

func TestTrackGap(t *testing.T) {
	m := mover{detect.Face, 100, 100, 3, 1, 40, 40}
	const seen = 10 // frames detected before the gap
	for _, tc := range []struct {
		maxAge, gap int
		same        bool // the ID continues after the gap
	}{
		{0, 1, true},
		{0, 3, true},
		{0, 8, true},
		{0, 9, false},
		{0, 20, false},
		{2, 2, true},
		{2, 3, false},
		{-1, 1, false},
	} {
		t.Run(fmt.Sprintf("maxAge=%d/gap=%d", tc.maxAge, tc.gap), func(t *testing.T) {
			maxAge := tc.maxAge
			switch {
			case maxAge == 0:
				maxAge = 8
			case maxAge < 0:
				maxAge = 0
			}
			tr := NewTracker(TrackerOptions{MaxAge: tc.maxAge})
			for f := range seen {
				tr.Update([]detect.Detection{m.det(f)})
			}
			for k := 1; k <= tc.gap; k++ {
				f := seen - 1 + k
				objs, born := tr.Update(nil)
				if len(born) != 0 {
					t.Fatalf("frame %d: born %v", f, born)
				}
				if k > maxAge {
					if len(objs) != 0 {
						t.Fatalf("frame %d (%d after the last detection): objects %+v, want none", f, k, objs)
					}
					continue
				}
				if len(objs) != 1 || !objs[0].Predicted || objs[0].TrackID != 1 || objs[0].Score != 0.9 || objs[0].Label != "face" {
					t.Fatalf("frame %d: objects %+v, want track 1 predicted", f, objs)
				}
				truth := m.at(f)
				if iou := objs[0].Box.IoU(truth); k <= 3 && iou < 0.5 {
					t.Errorf("frame %d: predicted %v, truth %v: IoU %.2f < 0.5", f, objs[0].Box, truth, iou)
				}
				if in := objs[0].Box.Intersect(truth).Area() / truth.Area(); in < 0.99 {
					t.Errorf("frame %d: predicted %v covers %.2f of truth %v", f, objs[0].Box, in, truth)
				}
			}
			f := seen + tc.gap
			objs, born := tr.Update([]detect.Detection{m.det(f)})
			if len(objs) != 1 || objs[0].Predicted {
				t.Fatalf("frame %d: objects %+v, want the detection", f, objs)
			}
			if got := objs[0].TrackID == 1; got != tc.same {
				t.Errorf("after the gap: ID %d, born %v; same track %v, want %v", objs[0].TrackID, born, got, tc.same)
			}
			if !tc.same && (len(born) != 1 || born[0] != 2 || objs[0].TrackID != 2) {
				t.Errorf("after the gap: ID %d, born %v; want 2, [2]", objs[0].TrackID, born)
			}
		})
	}
}

func TestTrackVelocityConverges(t *testing.T) {
	for _, m := range []mover{
		{detect.Face, 100, 100, 4, -2, 40, 30},
		{detect.Face, 300, 200, -8, 5, 60, 60},
		{detect.Vehicle, 100, 100, 15, 0, 120, 80},
		{detect.Face, 100, 100, 0.5, 0.25, 16, 16},
	} {
		t.Run(fmt.Sprintf("%v,%v", m.vx, m.vy), func(t *testing.T) {
			tr := NewTracker(TrackerOptions{})
			for f := range 10 {
				tr.Update([]detect.Detection{m.det(f)})
			}
			objs, _ := tr.Update(nil)
			if len(objs) != 1 || !objs[0].Predicted {
				t.Fatalf("objects %+v, want one predicted", objs)
			}
			b := objs[0].Box
			cx, cy := boxCenter(b)
			tx, ty := boxCenter(m.at(10))
			// Undo the coast margin of 1 frame.
			w, h := b.W()/(1+2*coastMargin), b.H()/(1+2*coastMargin)
			const tol = 2
			if absf(cx-tx) > tol || absf(cy-ty) > tol || absf(w-m.w) > tol || absf(h-m.h) > tol {
				t.Errorf("predicted centre (%.1f, %.1f) size %.1f×%.1f, want (%.1f, %.1f) %v×%v within %v px",
					cx, cy, w, h, tx, ty, m.w, m.h, tol)
			}
		})
	}
}

func TestTrackPoints(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	m := mover{detect.Face, 100, 100, 4, 0, 40, 40}
	for f := range 10 {
		d := m.det(f)
		cx, cy := boxCenter(d.Box)
		d.Points = []detect.Point{{X: cx, Y: cy}}
		tr.Update([]detect.Detection{d})
		d.Points[0] = detect.Point{X: -1, Y: -1} // the tracker keeps its own copy
	}
	objs, _ := tr.Update(nil)
	if len(objs) != 1 || len(objs[0].Points) != 1 {
		t.Fatalf("objects %+v, want one with a point", objs)
	}
	px, py := objs[0].Points[0].X, objs[0].Points[0].Y
	cx, cy := boxCenter(objs[0].Box)
	if absf(px-cx) > 0.5 || absf(py-cy) > 0.5 {
		t.Errorf("point (%.1f, %.1f), want it moved with the box to (%.1f, %.1f)", px, py, cx, cy)
	}
}

func TestTrackBadInput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		box  detect.Box
	}{
		{"NaN", detect.Box{X1: nan, Y1: 0, X2: 10, Y2: 10}},
		{"Inf", detect.Box{X1: 0, Y1: 0, X2: inf, Y2: 10}},
		{"empty", detect.Box{X1: 10, Y1: 10, X2: 10, Y2: 20}},
		{"inverted", detect.Box{X1: 10, Y1: 10, X2: 0, Y2: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(TrackerOptions{MaxAge: 2, IoU: float32(math.NaN())})
			good := mover{detect.Face, 100, 100, 1, 0, 20, 20}
			for f := range 5 {
				bad := detect.Detection{Class: detect.Face, Box: tc.box}
				objs, born := tr.Update([]detect.Detection{bad, good.det(f)})
				if len(objs) != 2 || objs[0].TrackID != 0 || objs[0].Predicted || objs[1].TrackID != 1 {
					t.Fatalf("frame %d: objects %+v, want the bad box untracked and track 1", f, objs)
				}
				if f > 0 && len(born) != 0 {
					t.Fatalf("frame %d: born %v", f, born)
				}
			}
		})
	}
	t.Run("tiny", func(t *testing.T) {
		tr := NewTracker(TrackerOptions{})
		for f := range 5 {
			b := detect.Box{X1: 5, Y1: 5, X2: 5.001, Y2: 5.001}
			objs, _ := tr.Update([]detect.Detection{{Class: detect.Face, Box: b}})
			if objs[0].TrackID != 1 {
				t.Fatalf("frame %d: objects %+v, want track 1", f, objs)
			}
		}
		objs, _ := tr.Update(nil)
		if len(objs) != 1 || !trackable(objs[0].Box) {
			t.Fatalf("objects %+v, want one finite predicted box", objs)
		}
	})
	t.Run("nil", func(t *testing.T) {
		tr := NewTracker(TrackerOptions{})
		for range 3 {
			if objs, born := tr.Update(nil); len(objs) != 0 || len(born) != 0 {
				t.Fatalf("got %v, %v; want nothing", objs, born)
			}
		}
	})
}

func absf(v float32) float32 { return max(v, -v) }

func BenchmarkTrackUpdate(b *testing.B) {
	// 20 faces on a 4×5 grid, each moving its own way.
	var ms []mover
	for i := range 20 {
		ms = append(ms, mover{detect.Face, 100 + float32(i%5)*150, 100 + float32(i/5)*150,
			float32(i%3) - 1, float32(i%4) - 1.5, 40, 40})
	}
	dets := make([]detect.Detection, len(ms))
	tr := NewTracker(TrackerOptions{})
	b.ReportAllocs()
	f := 0
	for b.Loop() {
		dets = dets[:0]
		for i, m := range ms {
			if (f+i)%7 != 0 { // a few missed detections
				dets = append(dets, m.det(f%50))
			}
		}
		tr.Update(dets)
		f++
	}
}
