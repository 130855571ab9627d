package detect

import (
	"context"
	"image"
	"slices"
	"sort"
)

// Union runs several detectors over the same region and merges what
// they find, as one detector: models trained differently miss different
// objects. A detection is dropped when it overlaps a stronger one of its
// class by more than IoU, or lies more than Inside of its area within
// one (two models' boxes for one face differ in where they put its
// edges).
type Union struct {
	Detectors []Detector
	IoU       float32
	Inside    float32
}

// Classes returns the classes any of the detectors reports.
func (u *Union) Classes() []Class {
	var cs []Class
	for _, d := range u.Detectors {
		for _, c := range d.Classes() {
			if !slices.Contains(cs, c) {
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// Detect runs every detector on r and merges their detections.
func (u *Union) Detect(ctx context.Context, img *image.RGBA, r image.Rectangle, minScore float32) ([]Detection, error) {
	var all []Detection
	for _, d := range u.Detectors {
		ds, err := d.Detect(ctx, img, r, minScore)
		if err != nil {
			return nil, err
		}
		all = append(all, ds...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	kept := all[:0]
	for _, d := range all {
		ok := true
		for _, k := range kept {
			if k.Class == d.Class && (k.Box.IoU(d.Box) > u.IoU || k.Box.Intersect(d.Box).Area() > u.Inside*d.Box.Area()) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
		}
	}
	return kept, nil
}
