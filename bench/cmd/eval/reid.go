package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/veilkit/veil"
)

// A finding says what a detection on the anonymized output lies on.
type finding struct {
	// counted is false for a detection the row does not count: one on
	// an ignored labelled object, or an ignored (small) one that matches
	// no counted labelled object.
	counted bool
	// labelled: it matches a counted labelled object (IoU >= 0.5) or lies
	// at least half inside a crowd region.
	labelled bool
	// anonymized: it lies on what was anonymized: the centre of its box
	// is in the anonymization mask, or it matches one of the engine's
	// detections on the original (IoU >= 0.5).
	anonymized bool
}

// classify returns what the detection d, found again on the anonymized
// output, lies on: gts are the row's labelled objects, engine the row's
// detections on the original image, all in the same pixels; centred
// reports whether the centre of d's box is in the anonymization mask.
func classify(d detBox, gts []gtBox, engine []detBox, centred bool) finding {
	best, bv := -1, float32(minIoU)
	for k, g := range gts {
		if g.crowd {
			continue
		}
		if v := d.box.IoU(g.box); v >= bv {
			best, bv = k, v
		}
	}
	var f finding
	switch {
	case best >= 0 && gts[best].ignore:
		return f
	case best >= 0:
		f.labelled = true
	case d.ignore:
		return f
	default:
		f.labelled = inCrowd(d.box, gts)
	}
	f.counted = true
	f.anonymized = centred || slices.ContainsFunc(engine, func(e detBox) bool { return d.box.IoU(e.box) >= minIoU })
	return f
}

// reidCounts count the detections of one detector on the anonymized
// outputs of a row's images: found is every counted one, labelled,
// anonymized and elsewhere those that match a labelled object, those that
// lie on what was anonymized (both can hold), and those that do neither.
type reidCounts struct{ found, labelled, anonymized, elsewhere int }

// add counts f.
func (c *reidCounts) add(f finding) {
	if !f.counted {
		return
	}
	c.found++
	if f.labelled {
		c.labelled++
	}
	if f.anonymized {
		c.anonymized++
	}
	if !f.labelled && !f.anonymized {
		c.elsewhere++
	}
}

// reidFields are the re-identification columns of a row (-reid), null
// when the check was not run: what the engine's Detect (Reid*) and, for
// faces, a plain native pass of the face model (ReidPlain*) find on the
// anonymized output (see reidCounts).
type reidFields struct {
	ReidFound      *int `json:"reid_found"`
	ReidLabelled   *int `json:"reid_labelled"`
	ReidAnonymized *int `json:"reid_anonymized"`
	ReidElsewhere  *int `json:"reid_elsewhere"`

	ReidPlainFound      *int `json:"reid_plain_found"`
	ReidPlainLabelled   *int `json:"reid_plain_labelled"`
	ReidPlainAnonymized *int `json:"reid_plain_anonymized"`
	ReidPlainElsewhere  *int `json:"reid_plain_elsewhere"`
}

// fields returns the counts of the engine's pass and, when plain is not
// nil, those of the plain pass, as row fields.
func fields(engine reidCounts, plain *reidCounts) reidFields {
	f := reidFields{ReidFound: &engine.found, ReidLabelled: &engine.labelled,
		ReidAnonymized: &engine.anonymized, ReidElsewhere: &engine.elsewhere}
	if plain != nil {
		f.ReidPlainFound, f.ReidPlainLabelled = &plain.found, &plain.labelled
		f.ReidPlainAnonymized, f.ReidPlainElsewhere = &plain.anonymized, &plain.elsewhere
	}
	return f
}

// reidNote explains the re-identification table.
var reidNote = fmt.Sprintf("re-identification (-reid): the anonymized output (Anonymize with the same params, "+
	"through JPEG at quality %d as a user gets it) is searched again by the engine's Detect (engine) and, for faces, "+
	"by one plain pass of the face model at the image's own size (plain); found again: the detections the row counts; "+
	"on labelled: those matching a labelled object (IoU >= 0.5); on anonymized: those lying on what was anonymized "+
	"(the centre of the box in the anonymization mask, or IoU >= 0.5 with a detection of the engine on the original; "+
	"both can hold); elsewhere: neither", veil.DefaultQuality)

// printReid writes the re-identification table of the rows that have one
// and reports whether there was any.
func printReid(w io.Writer, rows []row) bool {
	if !slices.ContainsFunc(rows, func(r row) bool { return r.ReidFound != nil }) {
		return false
	}
	fmt.Fprintln(w, "| dataset | class | subset | detector | found again | on labelled | on anonymized | elsewhere |")
	fmt.Fprintln(w, "|---|---|---|---|---:|---:|---:|---:|")
	for _, r := range rows {
		if r.ReidFound != nil {
			fmt.Fprintf(w, "| %s | %s | %s | engine | %d | %d | %d | %d |\n", r.Dataset, r.Class, r.Subset,
				*r.ReidFound, *r.ReidLabelled, *r.ReidAnonymized, *r.ReidElsewhere)
		}
		if r.ReidPlainFound != nil {
			fmt.Fprintf(w, "| %s | %s | %s | plain | %d | %d | %d | %d |\n", r.Dataset, r.Class, r.Subset,
				*r.ReidPlainFound, *r.ReidPlainLabelled, *r.ReidPlainAnonymized, *r.ReidPlainElsewhere)
		}
	}
	fmt.Fprintln(w)
	return true
}
