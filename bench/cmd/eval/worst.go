package main

import (
	"cmp"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"slices"

	"github.com/veilkit/veil/detect"
)

// A candidate is a labelled object that may be among the worst covered
// of its dataset and class (see -worst).
type candidate struct {
	dataset, class string
	image          string     // the sample's path
	index          int        // the object's index among the sample's objects
	box            detect.Box // in the pixels it was scored in
	coverage       float64
	area           float64 // of its outline (or box), in pixels
	detected       bool    // a detection matched it (IoU >= 0.5)
	crop           *image.RGBA
	file           string // the crop's file name, once written
}

// worse reports whether a ranks before b among the worst covered: lower
// coverage first, then the larger object (more left to see), then by
// image and index so that the order is total.
func worse(a, b candidate) bool {
	return compareWorst(a, b) < 0
}

func compareWorst(a, b candidate) int {
	return cmp.Or(cmp.Compare(a.coverage, b.coverage), cmp.Compare(b.area, a.area),
		cmp.Compare(a.image, b.image), cmp.Compare(a.index, b.index))
}

// A worstList keeps the n worst-covered candidates offered to it, worst
// first.
type worstList struct {
	n    int
	list []candidate
}

// offer adds c when it is among the n worst so far, with its crop made by
// cut (called only then), and drops the one it pushes out. It reports
// whether c was kept.
func (w *worstList) offer(c candidate, cut func() *image.RGBA) bool {
	if w.n <= 0 || len(w.list) == w.n && !worse(c, w.list[len(w.list)-1]) {
		return false
	}
	c.crop = cut()
	i, _ := slices.BinarySearchFunc(w.list, c, compareWorst)
	w.list = slices.Insert(w.list, i, c)
	if len(w.list) > w.n {
		w.list[w.n] = candidate{} // let the crop go
		w.list = w.list[:w.n]
	}
	return true
}

// fileName returns the name of c's crop: dataset, class, coverage, image
// and the object's index.
func (c candidate) fileName() string {
	return fileName(".png", c.dataset, c.class, fmt.Sprintf("%.2f", c.coverage), imageName(c.image), fmt.Sprint(c.index))
}

// worstHeader is the first line of worst.tsv.
const worstHeader = "file\tdataset\timage\tclass\tbox\tcoverage\tdetected\n"

// writeCrops writes the crops of cs into dir, one file each, and contact
// sheets of them, records their file names in cs and lets the crops go. A
// candidate without a crop (an object outside its image) gets file "-".
func writeCrops(dir string, cs []candidate) error {
	if len(cs) == 0 {
		return nil
	}
	crops := make([]*image.RGBA, len(cs))
	for i, c := range cs {
		crops[i] = c.crop
	}
	if _, err := writeSheets(dir, fileName("", "sheet-worst", cs[0].dataset, cs[0].class), crops); err != nil {
		return err
	}
	for i := range cs {
		c := &cs[i]
		c.file = "-"
		if c.crop == nil {
			continue
		}
		c.file = c.fileName()
		if err := writePNG(filepath.Join(dir, c.file), c.crop); err != nil {
			return err
		}
		c.crop = nil
	}
	return nil
}

// writeIndex writes the lines of worst.tsv (without the header) of cs.
func writeIndex(w io.Writer, cs []candidate) {
	for _, c := range cs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%.4f\t%s\n", c.file, c.dataset, c.image, c.class, boxString(c.box), c.coverage, yesNo(c.detected))
	}
}
