package video

import (
	"cmp"
	"math"
	"slices"

	"github.com/veilkit/veil/detect"
)

// Object is a detection in a video frame with its track.
type Object struct {
	detect.Detection
	// TrackID is the object's track, 1, 2, … per video; 0 when tracking
	// is off or the detection's box cannot be tracked (a coordinate not
	// finite, or an empty box).
	TrackID int
	// Predicted reports that the detector did not report the object in
	// this frame: the tracker carried it (coasting after a loss, or
	// backfilled before the track's first detection).
	Predicted bool
}

// TrackerOptions tune a Tracker; zero values mean the defaults.
type TrackerOptions struct {
	// MaxAge is the number of frames a track is carried after its last
	// detection (default 8; negative: none). A track found again within
	// MaxAge frames keeps its ID; after a longer gap it is a new track.
	MaxAge int
	// IoU is the least IoU to match a detection to a track's predicted
	// box (default 0.2: faces move).
	IoU float32
}

// Defaults and margins. A margin is a fraction of the box's width
// (height) added on each side, so a margin m makes the box 1+2m times
// as wide and as high.
const (
	defaultMaxAge = 8
	defaultIoU    = 0.2

	// coastMargin per frame since the track's last detection, up to
	// maxCoastMargin: the further the prediction, the less sure it is.
	coastMargin    = 0.05
	maxCoastMargin = 0.25
	// backfillMargin per frame before the track's first detection, up
	// to maxBackfillMargin: the birth box does not move, the object may.
	backfillMargin    = 0.1
	maxBackfillMargin = 0.5
)

// The Kalman filter's standard deviations, as fractions of the box size
// (the larger of its width and height) per frame: position measurement
// and process noise stdPos and velocity process noise stdVel as in Deep
// SORT (Wojke et al. 2017); a new track's position 2·stdPos and velocity
// initVel, looser than Deep SORT's 10·stdVel so that the velocity of an
// object moving fast is learnt in a few frames (a face may move a
// quarter of its size per frame).
const (
	stdPos  = 1.0 / 20
	stdVel  = 1.0 / 160
	initVel = 1.0 / 4
)

// Tracker follows objects across frames: one constant-velocity Kalman
// filter per track on the box's (cx, cy, w, h) (SORT, Bewley et al.
// 2016), with detections matched to tracks of the same class by IoU with
// the track's predicted box, greedily: pairs are taken by decreasing IoU
// and each track and each detection is matched at most once. Every track
// is confirmed at its first detection (privacy first: there is no
// probation). A Tracker is not safe for concurrent use.
type Tracker struct {
	maxAge int
	iou    float32
	tracks []*track
	lastID int

	// scratch, reused across frames
	pairs   []pair
	matchOf []int // detection → track index, -1 for none
	matched []bool
}

// NewTracker returns a tracker with options o.
func NewTracker(o TrackerOptions) *Tracker {
	t := &Tracker{maxAge: o.MaxAge, iou: o.IoU}
	switch {
	case t.maxAge == 0:
		t.maxAge = defaultMaxAge
	case t.maxAge < 0:
		t.maxAge = 0
	}
	if !(t.iou > 0) { // also NaN
		t.iou = defaultIoU
	}
	return t
}

// pair is a candidate match of track i and detection j.
type pair struct {
	iou  float32
	i, j int
}

// Update takes the detections of the next frame and returns the frame's
// objects: every detection, in dets' order, with its track's ID (a new
// track for an unmatched one), then, by increasing ID, each track not
// matched in this frame but detected within MaxAge frames, at its
// predicted box: Predicted is set, Label, Score and Points are those of
// its last detection (the points moved with the box) and the box is
// grown on each side by 5% of its size per frame since the last
// detection, up to 25% (privacy first). It also returns the IDs of the
// tracks born in this frame, increasing. A detection whose box has a
// coordinate that is not finite or is empty is returned untracked, with
// TrackID 0.
func (t *Tracker) Update(dets []detect.Detection) (objs []Object, born []int) {
	for _, tr := range t.tracks {
		tr.predict()
	}

	// Candidate pairs of one class, greedily matched by decreasing IoU.
	t.pairs = t.pairs[:0]
	for i, tr := range t.tracks {
		pb := tr.box()
		for j, d := range dets {
			if d.Class != tr.class || !trackable(d.Box) {
				continue
			}
			if iou := pb.IoU(d.Box); iou >= t.iou {
				t.pairs = append(t.pairs, pair{iou, i, j})
			}
		}
	}
	slices.SortFunc(t.pairs, func(a, b pair) int {
		if c := cmp.Compare(b.iou, a.iou); c != 0 {
			return c
		}
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})
	t.matched = slices.Grow(t.matched[:0], len(t.tracks))[:len(t.tracks)]
	clear(t.matched)
	t.matchOf = slices.Grow(t.matchOf[:0], len(dets))[:len(dets)]
	for j := range t.matchOf {
		t.matchOf[j] = -1
	}
	for _, p := range t.pairs {
		if t.matched[p.i] || t.matchOf[p.j] >= 0 {
			continue
		}
		t.matched[p.i] = true
		t.matchOf[p.j] = p.i
	}

	objs = make([]Object, 0, len(dets)+len(t.tracks))
	var newTracks []*track
	for j, d := range dets {
		switch {
		case !trackable(d.Box):
			objs = append(objs, Object{Detection: d})
		case t.matchOf[j] >= 0:
			tr := t.tracks[t.matchOf[j]]
			tr.update(d)
			objs = append(objs, Object{Detection: d, TrackID: tr.id})
		default:
			t.lastID++
			newTracks = append(newTracks, newTrack(t.lastID, d))
			born = append(born, t.lastID)
			objs = append(objs, Object{Detection: d, TrackID: t.lastID})
		}
	}

	// Coast the unmatched tracks; drop those lost for more than MaxAge.
	kept := t.tracks[:0]
	for i, tr := range t.tracks {
		if !t.matched[i] {
			if tr.since > t.maxAge {
				continue
			}
			objs = append(objs, tr.coast())
		}
		kept = append(kept, tr)
	}
	clear(t.tracks[len(kept):])
	t.tracks = append(kept, newTracks...)
	return objs, born
}

// trackable reports whether b has finite coordinates and a positive
// width and height.
func trackable(b detect.Box) bool {
	for _, v := range [...]float32{b.X1, b.Y1, b.X2, b.Y2} {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return b.X2 > b.X1 && b.Y2 > b.Y1
}

// track is one object followed across frames.
type track struct {
	id    int
	class detect.Class
	f     [4]kalman // cx, cy, w, h
	last  detect.Detection
	since int // frames since the last detection
}

func newTrack(id int, d detect.Detection) *track {
	tr := &track{id: id, class: d.Class}
	tr.last = d
	tr.last.Points = slices.Clone(d.Points)
	s := noiseScale(d.Box.W(), d.Box.H())
	p, v := sq(2*stdPos*s), sq(initVel*s)
	for k, z := range measure(d.Box) {
		tr.f[k] = kalman{x: z, a: p, c: v}
	}
	return tr
}

// box returns the track's current box estimate.
func (tr *track) box() detect.Box {
	cx, cy := tr.f[0].x, tr.f[1].x
	w, h := max(tr.f[2].x, 0), max(tr.f[3].x, 0)
	return detect.Box{
		X1: float32(cx - w/2), Y1: float32(cy - h/2),
		X2: float32(cx + w/2), Y2: float32(cy + h/2),
	}
}

// predict moves the track one frame forward.
func (tr *track) predict() {
	for k := 2; k < 4; k++ { // a box does not shrink below 1 pixel (SORT)
		if tr.f[k].x+tr.f[k].v < min(tr.f[k].x, 1) {
			tr.f[k].v = 0
		}
	}
	s := noiseScale(float32(tr.f[2].x), float32(tr.f[3].x))
	qp, qv := sq(stdPos*s), sq(stdVel*s)
	for k := range tr.f {
		tr.f[k].predict(qp, qv)
	}
	tr.since++
}

// update corrects the track by its detection d in this frame.
func (tr *track) update(d detect.Detection) {
	r := sq(stdPos * noiseScale(float32(tr.f[2].x), float32(tr.f[3].x)))
	for k, z := range measure(d.Box) {
		tr.f[k].update(z, r)
	}
	tr.last = d
	tr.last.Points = slices.Clone(d.Points)
	tr.since = 0
}

// coast returns the track's object in a frame it was not detected in.
func (tr *track) coast() Object {
	b := tr.box()
	d := tr.last
	dx := (b.X1 + b.X2 - d.Box.X1 - d.Box.X2) / 2
	dy := (b.Y1 + b.Y2 - d.Box.Y1 - d.Box.Y2) / 2
	d.Box = grow(b, min(coastMargin*float32(tr.since), maxCoastMargin))
	d.Points = shift(d.Points, dx, dy)
	return Object{Detection: d, TrackID: tr.id, Predicted: true}
}

// grow returns b with margin m of its width and height added on each
// side.
func grow(b detect.Box, m float32) detect.Box {
	dx, dy := m*b.W(), m*b.H()
	return detect.Box{X1: b.X1 - dx, Y1: b.Y1 - dy, X2: b.X2 + dx, Y2: b.Y2 + dy}
}

// shift returns a copy of ps moved by (dx, dy).
func shift(ps []detect.Point, dx, dy float32) []detect.Point {
	if ps == nil {
		return nil
	}
	out := make([]detect.Point, len(ps))
	for i, p := range ps {
		out[i] = detect.Point{X: p.X + dx, Y: p.Y + dy}
	}
	return out
}

// measure returns b's (cx, cy, w, h).
func measure(b detect.Box) [4]float64 {
	return [4]float64{
		float64(b.X1+b.X2) / 2, float64(b.Y1+b.Y2) / 2,
		float64(b.X2 - b.X1), float64(b.Y2 - b.Y1),
	}
}

// noiseScale is the size the filter's noise is proportional to: the
// larger of w and h, at least 1 pixel.
func noiseScale(w, h float32) float64 { return float64(max(w, h, 1)) }

func sq(v float64) float64 { return v * v }

// kalman is a constant-velocity Kalman filter on one coordinate, with a
// time step of one frame: state (x, v), covariance [[a, b], [b, c]]. The
// SORT filter on (cx, cy, w, h) with diagonal noise is exactly four of
// them, one per coordinate, as its covariance stays block diagonal.
type kalman struct{ x, v, a, b, c float64 }

// predict advances the state one step with process noise variances qp
// (position) and qv (velocity).
func (k *kalman) predict(qp, qv float64) {
	k.x += k.v
	k.a += 2*k.b + k.c + qp
	k.b += k.c
	k.c += qv
}

// update corrects the state by a measurement z of x with variance r.
func (k *kalman) update(z, r float64) {
	s := k.a + r
	ga, gb := k.a/s, k.b/s // the gain
	y := z - k.x
	k.x += ga * y
	k.v += gb * y
	k.c -= gb * k.b
	k.b -= ga * k.b
	k.a -= ga * k.a
}
