package main

import (
	"sort"

	"github.com/veilkit/veil/detect"
)

// minIoU is the overlap at which a detection matches a ground-truth box.
const minIoU = 0.5

// A gtBox is one ground-truth object of the class being scored.
type gtBox struct {
	box detect.Box
	// ignore: not counted in n_gt; a detection matched to it is neither a
	// true nor a false positive (e.g. a face under 16 px in the >=16px
	// subset). It is matched at most once, like any ground truth.
	ignore bool
	// crowd: a COCO iscrowd region. Not counted in n_gt; any number of
	// detections that lie at least half inside it are neither true nor
	// false positives.
	crowd bool
	// src is the object's index in the sample's objects.
	src int
}

// A detBox is one detection of the class being scored.
type detBox struct {
	box   detect.Box
	score float32
	// ignore: if it matches no counted ground truth, it is not a false
	// positive either (e.g. a detection under 16 px in the >=16px subset).
	ignore bool
	// src is the detection's index in the list it was taken from.
	src int
}

// counts are the matching results of one or more images.
type counts struct{ tp, fp, ngt int }

func (c *counts) add(o counts) { c.tp, c.fp, c.ngt = c.tp+o.tp, c.fp+o.fp, c.ngt+o.ngt }

// match scores the detections of one image against its ground truth.
// Detections are taken by decreasing score; each one matches the unmatched
// counted ground truth of highest IoU (>= minIoU), else an unmatched
// ignored one, else a crowd region covering at least half of it (COCO's
// rule); a detection that matches nothing is a false positive unless it
// is itself ignored.
func match(dets []detBox, gts []gtBox) counts {
	c, _, _ := assign(dets, gts)
	return c
}

// assign is match that also returns, for each ground truth, the index in
// dets of the detection matched to it, or -1 (a crowd region is never
// matched: it absorbs detections without being assigned one), and the
// indices in dets of the false positives, by decreasing score.
func assign(dets []detBox, gts []gtBox) (c counts, by []int, fps []int) {
	for _, g := range gts {
		if !g.ignore && !g.crowd {
			c.ngt++
		}
	}
	order := make([]int, len(dets))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return dets[order[i]].score > dets[order[j]].score })
	by = make([]int, len(gts))
	for k := range by {
		by[k] = -1
	}
	best := func(d detect.Box, ignored bool) int {
		bi, bv := -1, float32(minIoU)
		for k, g := range gts {
			if by[k] >= 0 || g.crowd || g.ignore != ignored {
				continue
			}
			if v := d.IoU(g.box); v >= bv {
				bi, bv = k, v
			}
		}
		return bi
	}
	for _, i := range order {
		d := dets[i]
		if k := best(d.box, false); k >= 0 {
			by[k] = i
			c.tp++
			continue
		}
		if k := best(d.box, true); k >= 0 {
			by[k] = i
			continue
		}
		if d.ignore || inCrowd(d.box, gts) {
			continue
		}
		c.fp++
		fps = append(fps, i)
	}
	return c, by, fps
}

// inCrowd reports whether at least half of d lies inside a crowd region.
func inCrowd(d detect.Box, gts []gtBox) bool {
	for _, g := range gts {
		if g.crowd && d.Area() > 0 && d.Intersect(g.box).Area() >= minIoU*d.Area() {
			return true
		}
	}
	return false
}
