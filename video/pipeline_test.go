package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"testing"
	"time"

	"github.com/veilkit/veil/detect"
)

// scene is a synthetic video: a face moving across frames [appear, leave)
// of n frames of size w×h, which the fake detector misses in the first
// missFirst frames of its appearance and in every frame whose index is a
// multiple of missEvery (0: none).
type scene struct {
	n, w, h         int
	appear, leave   int
	face            mover
	missFirst       int
	missEvery       int
	detectErrAt     int // Detect fails at this frame (-1: never)
	renderErrAt     int // Render fails at this frame (-1: never)
	emitErrAt       int // emit fails at this frame (-1: never)
	cancelAtEmit    int // emit cancels the context at this frame (-1: never)
	renderNewImages bool
}

var errFake = errors.New("test error")

func newScene() scene {
	return scene{
		n: 40, w: 96, h: 64, appear: 5, leave: 35,
		face:      mover{detect.Face, 20, 20, 2, 0.5, 20, 20},
		missFirst: 2, missEvery: 3,
		detectErrAt: -1, renderErrAt: -1, emitErrAt: -1, cancelAtEmit: -1,
	}
}

// truth returns the face's box in frame i and whether it is there.
func (s scene) truth(i int) (detect.Box, bool) {
	return s.face.at(i - s.appear), i >= s.appear && i < s.leave
}

// detected reports whether the fake detector finds the face in frame i.
func (s scene) detected(i int) bool {
	_, in := s.truth(i)
	return in && i >= s.appear+s.missFirst && (s.missEvery == 0 || i%s.missEvery != 0)
}

// runResult is what a run of a scene saw.
type runResult struct {
	err      error
	emitted  []Frame
	rendered map[int][]Object // frame index → Render's objects
	maxLive  int              // most frames read and not yet emitted
	nexts    int              // calls to next
}

// run runs p on s; p's Detect and Render are set here.
func (s scene) run(ctx context.Context, p Pipeline) runResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := runResult{rendered: map[int][]Object{}}
	index := map[*image.RGBA]int{} // frame → index, for Detect and Render
	live := 0
	p.Detect = func(ctx context.Context, frame *image.RGBA) ([]detect.Detection, error) {
		i, ok := index[frame]
		if !ok {
			return nil, errors.New("Detect: unknown frame")
		}
		if i == s.detectErrAt {
			return nil, errFake
		}
		if !s.detected(i) {
			return nil, nil
		}
		d := s.face.det(i - s.appear)
		return []detect.Detection{d}, nil
	}
	p.Render = func(ctx context.Context, frame *image.RGBA, objs []Object) (*image.RGBA, error) {
		i, ok := index[frame]
		if !ok {
			return nil, errors.New("Render: unknown frame")
		}
		if i == s.renderErrAt {
			return nil, errFake
		}
		r.rendered[i] = objs
		if s.renderNewImages {
			out := image.NewRGBA(frame.Bounds())
			index[out] = i
			return out, nil
		}
		return frame, nil
	}
	next := func() (*image.RGBA, error) {
		if r.nexts == s.n {
			return nil, io.EOF
		}
		img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
		index[img] = r.nexts
		r.nexts++
		live++
		r.maxLive = max(r.maxLive, live)
		return img, nil
	}
	emit := func(f Frame) error {
		live--
		r.emitted = append(r.emitted, f)
		if f.Index == s.cancelAtEmit {
			cancel()
		}
		if f.Index == s.emitErrAt {
			return errFake
		}
		return nil
	}
	r.err = p.Run(ctx, next, emit)
	return r
}

// covered reports whether an object of objs covers at least 90% of b.
func covered(objs []Object, b detect.Box) bool {
	for _, o := range objs {
		if o.Class == detect.Face && o.Box.Intersect(b).Area() >= 0.9*b.Area() {
			return true
		}
	}
	return false
}

// visible returns the frames of s in which the face is but no object of
// r covers it.
func (s scene) visible(r runResult) []int {
	var vis []int
	for _, f := range r.emitted {
		if b, in := s.truth(f.Index); in && !covered(f.Objects, b) {
			vis = append(vis, f.Index)
		}
	}
	return vis
}

func TestPipelineTracking(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tracking  bool
		lookahead int
		newImages bool
		wantLook  int // frames held back
	}{
		{"tracking", true, 0, false, 4},
		{"tracking/lookahead=2", true, 2, false, 2},
		{"tracking/lookahead=7/new images", true, 7, true, 7},
		{"no tracking", false, 0, false, 0},
		{"no tracking/lookahead=4", false, 4, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene()
			s.renderNewImages = tc.newImages
			r := s.run(context.Background(), Pipeline{Tracking: tc.tracking, Lookahead: tc.lookahead})
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(r.emitted) != s.n {
				t.Fatalf("%d frames emitted, want %d", len(r.emitted), s.n)
			}
			for i, f := range r.emitted {
				if f.Index != i || f.Image == nil || f.Image.Bounds() != image.Rect(0, 0, s.w, s.h) {
					t.Fatalf("frame %d emitted as index %d with image %v", i, f.Index, f.Image.Bounds())
				}
				if fmt.Sprint(f.Objects) != fmt.Sprint(r.rendered[i]) {
					t.Errorf("frame %d: emitted objects %v, rendered %v", i, f.Objects, r.rendered[i])
				}
			}
			if r.maxLive > tc.wantLook+1 {
				t.Errorf("%d frames held at once, want at most %d", r.maxLive, tc.wantLook+1)
			}
			for _, f := range r.emitted {
				for _, o := range f.Objects {
					if tc.tracking == (o.TrackID == 0) {
						t.Errorf("frame %d: object with track %d, tracking %v", f.Index, o.TrackID, tc.tracking)
					}
					if !o.Box.Rect().In(image.Rect(0, 0, s.w, s.h)) && o.Predicted {
						t.Errorf("frame %d: predicted box %v outside the frame", f.Index, o.Box)
					}
				}
			}
			vis := s.visible(r)
			if tc.tracking {
				if len(vis) != 0 {
					t.Errorf("face visible in frames %v", vis)
				}
				ids := map[int]bool{}
				for _, f := range r.emitted {
					for _, o := range f.Objects {
						ids[o.TrackID] = true
					}
				}
				if len(ids) != 1 {
					t.Errorf("track IDs %v, want one track", ids)
				}
				return
			}
			var missed []int
			for i := range s.n {
				if _, in := s.truth(i); in && !s.detected(i) {
					missed = append(missed, i)
				}
			}
			if fmt.Sprint(vis) != fmt.Sprint(missed) {
				t.Errorf("face visible in frames %v, want the missed frames %v", vis, missed)
			}
		})
	}
}

// TestPipelineVisibleFrames compares the frames showing the face with and
// without tracking.
func TestPipelineVisibleFrames(t *testing.T) {
	s := newScene()
	on := s.run(context.Background(), Pipeline{Tracking: true})
	off := s.run(context.Background(), Pipeline{})
	if on.err != nil || off.err != nil {
		t.Fatal(on.err, off.err)
	}
	von, voff := s.visible(on), s.visible(off)
	if len(von) >= len(voff) {
		t.Errorf("visible in %d frames with tracking %v, %d without %v; want fewer with", len(von), von, len(voff), voff)
	}
}

func TestPipelineBackfill(t *testing.T) {
	// A face that is never missed, but appears at frame 5 and leaves at
	// frame 20: the 4 frames before it are backfilled with boxes growing
	// back in time, the 8 after are coasted.
	s := newScene()
	s.missFirst, s.missEvery, s.leave = 0, 0, 20
	r := s.run(context.Background(), Pipeline{Tracking: true})
	if r.err != nil {
		t.Fatal(r.err)
	}
	birth, _ := s.truth(s.appear)
	for _, f := range r.emitted {
		i := f.Index
		var want int // predicted objects
		switch {
		case i >= s.appear-4 && i < s.appear:
			want = 1
			k := float32(s.appear - i)
			b := grow(birth, min(backfillMargin*k, maxBackfillMargin)).Clip(image.Rect(0, 0, s.w, s.h))
			if len(f.Objects) != 1 || f.Objects[0].Box != b {
				t.Errorf("frame %d: objects %v, want box %v", i, f.Objects, b)
			}
		case i >= s.leave && i < s.leave+8:
			want = 1
		}
		n := 0
		for _, o := range f.Objects {
			if o.Predicted {
				n++
			}
		}
		if n != want {
			t.Errorf("frame %d: %d predicted objects %v, want %d", i, n, f.Objects, want)
		}
	}
}

func TestPipelineErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tracking  bool
		lookahead int
		set       func(*scene)
		wantErr   error
		wantLast  int // the last frame emitted (-1: none)
	}{
		{"detect", true, 0, func(s *scene) { s.detectErrAt = 5 }, errFake, 0},
		{"detect/lookahead=2", true, 2, func(s *scene) { s.detectErrAt = 5 }, errFake, 2},
		{"detect/lookahead=6", true, 6, func(s *scene) { s.detectErrAt = 5 }, errFake, -1},
		{"detect/no tracking", false, 0, func(s *scene) { s.detectErrAt = 5 }, errFake, 4},
		{"detect/first", true, 0, func(s *scene) { s.detectErrAt = 0 }, errFake, -1},
		{"render", true, 0, func(s *scene) { s.renderErrAt = 3 }, errFake, 2},
		{"render/last", true, 0, func(s *scene) { s.renderErrAt = 39 }, errFake, 38},
		{"emit", true, 0, func(s *scene) { s.emitErrAt = 3 }, errFake, 3},
		{"emit/no tracking", false, 0, func(s *scene) { s.emitErrAt = 0 }, errFake, 0},
		{"cancel", true, 0, func(s *scene) { s.cancelAtEmit = 2 }, context.Canceled, 2},
		{"cancel/last", true, 0, func(s *scene) { s.cancelAtEmit = 36 }, context.Canceled, 36},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene()
			tc.set(&s)
			r := s.run(context.Background(), Pipeline{Tracking: tc.tracking, Lookahead: tc.lookahead})
			if !errors.Is(r.err, tc.wantErr) {
				t.Fatalf("Run returned %v, want %v", r.err, tc.wantErr)
			}
			for i, f := range r.emitted {
				if f.Index != i {
					t.Fatalf("frame %d emitted as %d", i, f.Index)
				}
			}
			if got := len(r.emitted) - 1; got != tc.wantLast {
				t.Errorf("last frame emitted %d, want %d", got, tc.wantLast)
			}
			if tc.wantErr == context.Canceled && r.nexts > tc.wantLast+1+4 {
				t.Errorf("next called %d times after the cancel at frame %d", r.nexts, tc.wantLast)
			}
		})
	}
}

func TestPipelineNextError(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  *image.RGBA
		err  error
	}{
		{"error", nil, errFake},
		{"nil image", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			p := Pipeline{
				Tracking: true,
				Detect:   func(context.Context, *image.RGBA) ([]detect.Detection, error) { return nil, nil },
				Render:   func(_ context.Context, f *image.RGBA, _ []Object) (*image.RGBA, error) { return f, nil },
			}
			emitted := 0
			err := p.Run(context.Background(), func() (*image.RGBA, error) {
				if n++; n > 3 {
					return tc.img, tc.err
				}
				return image.NewRGBA(image.Rect(0, 0, 4, 4)), nil
			}, func(Frame) error { emitted++; return nil })
			if err == nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("Run returned %v, want %v", err, tc.err)
			}
			if emitted != 0 {
				t.Errorf("%d frames emitted, want none", emitted)
			}
		})
	}
}

func TestPipelineCancelBlocked(t *testing.T) {
	// Detect blocks until ctx is done; Run returns soon after the cancel.
	ctx, cancel := context.WithCancel(context.Background())
	p := Pipeline{
		Tracking: true,
		Detect: func(ctx context.Context, _ *image.RGBA) ([]detect.Detection, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		Render: func(_ context.Context, f *image.RGBA, _ []Object) (*image.RGBA, error) { return f, nil },
	}
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, func() (*image.RGBA, error) { return image.NewRGBA(image.Rect(0, 0, 4, 4)), nil },
			func(Frame) error { return errors.New("emitted") })
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want %v", err, context.Canceled)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the cancel")
	}

	// A cancelled context stops Run before it reads a frame.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	reads := 0
	err := p.Run(ctx, func() (*image.RGBA, error) { reads++; return nil, io.EOF }, func(Frame) error { return nil })
	if !errors.Is(err, context.Canceled) || reads != 0 {
		t.Errorf("Run returned %v after %d reads, want %v after none", err, reads, context.Canceled)
	}
}

func TestPipelineMisuse(t *testing.T) {
	det := func(context.Context, *image.RGBA) ([]detect.Detection, error) { return nil, nil }
	ren := func(_ context.Context, f *image.RGBA, _ []Object) (*image.RGBA, error) { return f, nil }
	next := func() (*image.RGBA, error) { return image.NewRGBA(image.Rect(0, 0, 4, 4)), nil }
	emit := func(Frame) error { return nil }
	for _, tc := range []struct {
		name string
		p    Pipeline
		next func() (*image.RGBA, error)
		emit func(Frame) error
	}{
		{"nil Detect", Pipeline{Render: ren}, next, emit},
		{"nil Render", Pipeline{Detect: det}, next, emit},
		{"nil next", Pipeline{Detect: det, Render: ren}, nil, emit},
		{"nil emit", Pipeline{Detect: det, Render: ren}, next, nil},
		{"Render returns nil", Pipeline{Detect: det, Tracking: true,
			Render: func(context.Context, *image.RGBA, []Object) (*image.RGBA, error) { return nil, nil }}, next, emit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emitted := 0
			emit := tc.emit
			if emit != nil {
				emit = func(f Frame) error { emitted++; return tc.emit(f) }
			}
			if err := tc.p.Run(context.Background(), tc.next, emit); err == nil {
				t.Error("Run returned no error")
			}
			if emitted != 0 {
				t.Errorf("%d frames emitted, want none", emitted)
			}
		})
	}
}
