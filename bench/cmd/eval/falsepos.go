package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"path/filepath"
	"strconv"

	"github.com/veilkit/veil/detect"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var fpDir = flag.String("fp-dir", "", "folder to write crops of the original image around each false positive of the shown subsets (a detection that matches no labelled object), their index fp.tsv and contact sheets of them (default: none)")

// fpColor outlines a false positive.
var fpColor = color.RGBA{255, 255, 0, 255}

// A falsePos is a detection that matched no labelled object: an
// unlabelled object or a false detection, which only a look tells apart.
type falsePos struct {
	dataset, class, image string
	box                   detect.Box // in the pixels it was scored in
	score                 float32
	crop                  *image.RGBA // of the original image; nil once on a sheet
	file, sheet           string
	cell                  int // its number on the sheet, from 1
}

// keepFalse keeps a crop of the original image around each false
// positive of the shown subsets of sh.
func (l *look) keepFalse(sh shot) {
	src := asRGBA(sh.src)
	sb := src.Bounds()
	sx, sy := float32(sb.Dx())/float32(sh.frame.Dx()), float32(sb.Dy())/float32(sh.frame.Dy())
	for _, c := range shownOrder(l.ds.subsets, l.shown) {
		sub := l.ds.subsets[l.shown[c]]
		db := sub.dets(sh.dets)
		_, _, fps := assign(db, sub.truth(sh.objs))
		for _, i := range fps {
			d := db[i]
			inSrc := detect.Box{X1: d.box.X1 * sx, Y1: d.box.Y1 * sy, X2: d.box.X2 * sx, Y2: d.box.Y2 * sy}
			l.falses[c] = append(l.falses[c], falsePos{dataset: l.ds.name, class: c.String(), image: sh.path,
				box: d.box, score: d.score, crop: crop(src, inSrc, nil, fpColor)})
		}
	}
}

// Contact sheet geometry: cells of sheetCell pixels a side, sheetCols
// across and sheetRows down.
const (
	sheetCell = 160
	sheetCols = 8
	sheetRows = 6
)

// writeFalse writes the crops of fs into dir, one file each, and contact
// sheets of them; it records the files in fs and lets the crops go.
func writeFalse(dir string, fs []falsePos) error {
	if len(fs) == 0 {
		return nil
	}
	crops := make([]*image.RGBA, len(fs))
	for i := range fs {
		f := &fs[i]
		crops[i], f.file = f.crop, "-"
		if f.crop == nil {
			continue
		}
		f.file = fileName(".png", "fp", f.dataset, f.class, fmt.Sprintf("%.2f", f.score), imageName(f.image), strconv.Itoa(i))
		if err := writePNG(filepath.Join(dir, f.file), f.crop); err != nil {
			return err
		}
		f.crop = nil
	}
	at, err := writeSheets(dir, fileName("", "sheet-fp", fs[0].dataset, fs[0].class), crops)
	for i := range fs {
		fs[i].sheet, fs[i].cell = at[i].sheet, at[i].cell
	}
	return err
}

// A sheetPos is where a crop is on the contact sheets: the sheet's file
// and the crop's number on it, from 1.
type sheetPos struct {
	sheet string
	cell  int
}

// writeSheets writes contact sheets of crops into dir, sheetCols×sheetRows
// crops a sheet, each cell numbered, named prefix_1.png, prefix_2.png, …
// It returns where each crop is (a nil crop keeps an empty cell).
func writeSheets(dir, prefix string, crops []*image.RGBA) ([]sheetPos, error) {
	per := sheetCols * sheetRows
	at := make([]sheetPos, len(crops))
	for start := 0; start < len(crops); start += per {
		part := crops[start:min(start+per, len(crops))]
		sheet := image.NewRGBA(image.Rect(0, 0, sheetCols*sheetCell, (len(part)+sheetCols-1)/sheetCols*sheetCell))
		draw.Draw(sheet, sheet.Rect, image.NewUniform(color.Gray{64}), image.Point{}, draw.Src)
		name := fmt.Sprintf("%s_%d.png", prefix, start/per+1)
		for k, c := range part {
			at[start+k] = sheetPos{sheet: name, cell: k + 1}
			cell := image.Rect(0, 0, sheetCell-2, sheetCell-2).Add(image.Pt(k%sheetCols*sheetCell+1, k/sheetCols*sheetCell+1))
			if c != nil {
				xdraw.ApproxBiLinear.Scale(sheet, fit(c.Rect.Size(), cell), c, c.Rect, xdraw.Src, nil)
			}
			label(sheet, cell.Min, strconv.Itoa(k+1))
		}
		if err := writePNG(filepath.Join(dir, name), sheet); err != nil {
			return at, err
		}
	}
	return at, nil
}

// fit returns the largest rectangle of size's aspect centred in cell.
func fit(size image.Point, cell image.Rectangle) image.Rectangle {
	w, h := cell.Dx(), cell.Dy()
	if size.X*h > size.Y*w {
		h = max(1, size.Y*w/size.X)
	} else {
		w = max(1, size.X*h/size.Y)
	}
	min := cell.Min.Add(image.Pt((cell.Dx()-w)/2, (cell.Dy()-h)/2))
	return image.Rectangle{Min: min, Max: min.Add(image.Pt(w, h))}
}

// label writes s in white on black at the top-left corner at.
func label(img *image.RGBA, at image.Point, s string) {
	face := basicfont.Face7x13
	bg := image.Rect(0, 0, 7*len(s)+4, 15).Add(at)
	draw.Draw(img, bg, image.NewUniform(color.Black), image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.White), Face: face,
		Dot: fixed.P(at.X+2, at.Y+face.Ascent+1)}
	d.DrawString(s)
}

// fpHeader is the first line of fp.tsv.
const fpHeader = "file\tsheet\tcell\tdataset\timage\tclass\tbox\tscore\n"

// writeFalseIndex writes the lines of fp.tsv (without the header) of fs.
func writeFalseIndex(w io.Writer, fs []falsePos) {
	for _, f := range fs {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.3f\n", f.file, f.sheet, f.cell, f.dataset, f.image, f.class, boxString(f.box), f.score)
	}
}
