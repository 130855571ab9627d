package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"
	"time"

	"github.com/veilkit/veil/detect"
)

// defaultLookahead is Pipeline.Lookahead's default with tracking.
const defaultLookahead = 4

// Pipeline anonymizes a stream of frames with tracking.
//
// Run calls next, Detect, Render and emit one at a time, from the
// goroutine that called Run: Detect and Render are never called
// concurrently by one Run. A Pipeline may be used by several Runs at
// once (each has its own tracker) when its functions allow it.
type Pipeline struct {
	// Detect finds the objects of one frame (required).
	Detect func(ctx context.Context, frame *image.RGBA) ([]detect.Detection, error)
	// Render anonymizes frame given its final objects and returns the
	// output image: frame itself, changed in place, or a new image
	// (required).
	Render func(ctx context.Context, frame *image.RGBA, objs []Object) (*image.RGBA, error)
	// Tracking follows objects across frames; without it each frame is
	// anonymized by its own detections only (Celantur's
	// no-object-tracking).
	Tracking bool
	// Lookahead is the number of frames held back so that a track born
	// at frame t also covers frames t-Lookahead..t-1 (default 4 with
	// Tracking; negative: none). It is ignored without Tracking.
	Lookahead int
	// Tracker tunes the tracker.
	Tracker TrackerOptions
}

// Frame is one output frame.
type Frame struct {
	Index   int         // 0-based
	Image   *image.RGBA // the anonymized frame
	Objects []Object
	Took    time.Duration // time spent detecting, tracking and rendering this frame
}

// lookahead returns the number of frames Run holds back.
func (p *Pipeline) lookahead() int {
	switch {
	case !p.Tracking || p.Lookahead < 0:
		return 0
	case p.Lookahead == 0:
		return defaultLookahead
	}
	return p.Lookahead
}

// pending is a frame detected but not yet emitted.
type pending struct {
	index int
	img   *image.RGBA
	objs  []Object
	took  time.Duration
}

// Run reads frames with next until it returns io.EOF, and calls emit
// with each anonymized frame, in order. It holds at most Lookahead+1
// frames: emit runs Lookahead frames behind next.
//
// A track's predicted boxes (coasting, and backfill) are clipped to the
// frame, and dropped when wholly outside it. When a track is born at
// frame t, each held frame t-k (k = 1..Lookahead) gets an object of that
// track with the birth detection's box grown on each side by 10% of its
// size per frame back, up to 50%, and Predicted set. A track found again
// after a gap of at most Tracker.MaxAge frames was carried through the
// gap by the tracker; one found after a longer gap is a new track,
// backfilled like any other.
//
// An error from next, Detect, Render or emit, or ctx being done, stops
// Run and is returned (next's and emit's unchanged, ctx.Err() for ctx);
// the frames not yet emitted are dropped, never emitted unanonymized.
func (p *Pipeline) Run(ctx context.Context, next func() (*image.RGBA, error), emit func(Frame) error) error {
	switch {
	case p.Detect == nil:
		return errors.New("video: Pipeline.Detect is nil")
	case p.Render == nil:
		return errors.New("video: Pipeline.Render is nil")
	case next == nil || emit == nil:
		return errors.New("video: Pipeline.Run needs next and emit")
	}
	look := p.lookahead()
	var tracker *Tracker
	if p.Tracking {
		tracker = NewTracker(p.Tracker)
	}
	buf := make([]pending, 0, look+1)
	// out renders and emits the oldest held frame.
	out := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f := buf[0]
		copy(buf, buf[1:])
		buf[len(buf)-1] = pending{}
		buf = buf[:len(buf)-1]
		start := time.Now()
		img, err := p.Render(ctx, f.img, f.objs)
		if err != nil {
			return fmt.Errorf("video: frame %d: %w", f.index, err)
		}
		if img == nil {
			return fmt.Errorf("video: frame %d: Render returned no image", f.index)
		}
		f.took += time.Since(start)
		if err := ctx.Err(); err != nil {
			return err
		}
		return emit(Frame{Index: f.index, Image: img, Objects: f.objs, Took: f.took})
	}

	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		img, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if img == nil {
			return fmt.Errorf("video: frame %d: next returned no image", i)
		}
		start := time.Now()
		dets, err := p.Detect(ctx, img)
		if err != nil {
			return fmt.Errorf("video: frame %d: %w", i, err)
		}
		var objs []Object
		if tracker == nil {
			objs = make([]Object, len(dets))
			for k, d := range dets {
				objs[k] = Object{Detection: d}
			}
		} else {
			var born []int
			objs, born = tracker.Update(dets)
			objs = clipPredicted(objs, img.Bounds())
			backfill(buf, objs, born)
		}
		buf = append(buf, pending{index: i, img: img, objs: objs, took: time.Since(start)})
		if len(buf) > look {
			if err := out(); err != nil {
				return err
			}
		}
	}
	for len(buf) > 0 {
		if err := out(); err != nil {
			return err
		}
	}
	return nil
}

// clipPredicted clips the boxes of objs' predicted objects to r, in
// place, and drops those left empty.
func clipPredicted(objs []Object, r image.Rectangle) []Object {
	kept := objs[:0]
	for _, o := range objs {
		if o.Predicted {
			o.Box = o.Box.Clip(r)
			if o.Box.W() == 0 || o.Box.H() == 0 {
				continue
			}
		}
		kept = append(kept, o)
	}
	return kept
}

// backfill adds to the held frames buf (oldest first, the newest just
// before the frame of objs) an object for each track born in objs' frame.
func backfill(buf []pending, objs []Object, born []int) {
	for _, id := range born {
		i := slices.IndexFunc(objs, func(o Object) bool { return o.TrackID == id && !o.Predicted })
		if i < 0 {
			continue
		}
		birth := objs[i]
		for k := 1; k <= len(buf); k++ {
			f := &buf[len(buf)-k]
			d := birth.Detection
			d.Box = grow(d.Box, min(backfillMargin*float32(k), maxBackfillMargin)).Clip(f.img.Bounds())
			if d.Box.W() == 0 || d.Box.H() == 0 {
				continue
			}
			d.Points = slices.Clone(d.Points)
			f.objs = append(f.objs, Object{Detection: d, TrackID: id, Predicted: true})
		}
	}
}
