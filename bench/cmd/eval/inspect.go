package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/mask"
)

// The flags that look at the anonymized output: the worst-covered
// labelled objects (-worst-dir) and the re-identification check (-reid).
var (
	worstN   = flag.Int("worst", 20, "how many of the worst-covered labelled objects of each dataset and class -worst-dir shows")
	worstDir = flag.String("worst-dir", "", "folder to write crops of the anonymized output around the -worst worst-covered labelled objects of each dataset and class into, with their index worst.tsv and contact sheets of them, worst first (default: none)")
	reidOn   = flag.Bool("reid", false, "re-identification check: search the anonymized output again with the engine's Detect and, for faces, a plain pass of the face model")
	reidDir  = flag.String("reid-dir", "", "with -reid: folder to write crops of every object found again into, with their index reid.tsv")
)

// defaultFaceModel is the file of the engine's embedded face model, for
// the plain pass of -reid.
const defaultFaceModel = "models/face/yunet_n_dynamic.onnx"

// An inspector looks at the anonymized output of the images evaluate
// runs: it keeps the worst-covered labelled objects of each dataset and
// class (-worst-dir) and runs the re-identification check (-reid). A nil
// inspector does nothing.
type inspector struct {
	e *veil.Engine
	// plain is the face model run once at the image's own size (no
	// upscaling, windows or second scale), for -reid; nil without it.
	plain    *detect.YuNet
	worstN   int
	worstDir string // "" without -worst-dir
	reidDir  string // "" without -reid-dir
	fpDir    string // "" without -fp-dir
	// worst, again and falses are the index lines of the datasets done
	// so far.
	worst  []candidate
	again  []refound
	falses []falsePos
}

// newInspector returns the inspector the flags ask for, or nil when they
// ask for none. faceModel is the face model's file for the plain pass
// ("": the engine's default model).
func newInspector(e *veil.Engine, faceModel string, threads int) (*inspector, error) {
	if *worstDir == "" && !*reidOn && *fpDir == "" {
		if *reidDir != "" {
			return nil, fmt.Errorf("-reid-dir needs -reid")
		}
		return nil, nil
	}
	ins := &inspector{e: e, worstN: *worstN, worstDir: *worstDir, reidDir: *reidDir, fpDir: *fpDir}
	if *reidOn {
		if faceModel == "" {
			faceModel = defaultFaceModel
		}
		y, err := loadFace(faceModel, threads, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("-reid: the plain face pass: %w", err)
		}
		y.Scales = nil
		ins.plain = y
	}
	for _, dir := range []string{ins.worstDir, ins.reidDir, ins.fpDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
	}
	return ins, nil
}

// A shot is one image as evaluate ran and scored it.
type shot struct {
	path string
	src  image.Image // the image run
	// frame is the rectangle detections and labels are scored in: src's
	// bounds or those of the image file (-wider-aspect).
	frame image.Rectangle
	objs  []object         // the labelled objects, in frame's pixels
	dets  []veil.Detection // the engine's detections, in frame's pixels
	// outlines are the objects' polygon masks (by index in objs; nil or
	// absent: none) and anon the anonymization mask, in src's pixels.
	outlines []*mask.Mask
	anon     *image.Gray
}

// A look is the inspection of one dataset.
type look struct {
	ins *inspector
	ds  dataset
	p   veil.Params // with the dataset's classes
	// shown is, per class, the index of the subset whose objects are
	// shown: the class's subset without a label restriction that has the
	// largest minSide (WIDER: faces >= 16 px).
	shown map[veil.Class]int
	worst map[veil.Class]*worstList
	// engine and plain count, per subset, what the engine's Detect and
	// the plain face pass find again; plain is nil without faces.
	engine, plain []reidCounts
	again         []refound
	falses        map[veil.Class][]falsePos
}

// dataset starts the inspection of ds, run with p.
func (ins *inspector) dataset(ds dataset, p veil.Params) *look {
	if ins == nil {
		return nil
	}
	l := &look{ins: ins, ds: ds, p: p, shown: shownSubsets(ds.subsets), worst: make(map[veil.Class]*worstList),
		falses: make(map[veil.Class][]falsePos)}
	for c := range l.shown {
		l.worst[c] = &worstList{n: ins.worstN}
	}
	if ins.plain != nil {
		l.engine = make([]reidCounts, len(ds.subsets))
		if hasFace(ds.classes) {
			l.plain = make([]reidCounts, len(ds.subsets))
		}
	}
	return l
}

func hasFace(cs []veil.Class) bool {
	for _, c := range cs {
		if c == veil.Face {
			return true
		}
	}
	return false
}

// shownSubsets returns, per class of subs, the index of the subset
// without a label restriction that has the largest minSide.
func shownSubsets(subs []subset) map[veil.Class]int {
	m := make(map[veil.Class]int)
	for k, s := range subs {
		if s.label != "" {
			continue
		}
		if i, ok := m[s.class]; !ok || s.minSide > subs[i].minSide {
			m[s.class] = k
		}
	}
	return m
}

// image inspects one image: it keeps crops of its false positives,
// anonymizes it, keeps its worst-covered objects and searches the output
// again.
func (l *look) image(ctx context.Context, sh shot) error {
	if l == nil {
		return nil
	}
	if l.ins.fpDir != "" {
		l.keepFalse(sh)
	}
	res, err := l.ins.e.Anonymize(ctx, sh.src, l.p)
	if err != nil {
		return err
	}
	if l.ins.worstDir != "" {
		l.keepWorst(sh, res.Image)
	}
	if l.engine != nil {
		return l.reid(ctx, sh, res.Image)
	}
	return nil
}

// keepWorst offers the shown objects of sh to the worst lists, with crops
// of out, the anonymized image.
func (l *look) keepWorst(sh shot, out *image.RGBA) {
	sb := sh.src.Bounds()
	sx, sy := float32(sb.Dx())/float32(sh.frame.Dx()), float32(sb.Dy())/float32(sh.frame.Dy())
	for c, k := range l.shown {
		sub := l.ds.subsets[k]
		gts := sub.truth(sh.objs)
		_, by, _ := assign(sub.dets(sh.dets), gts)
		inSrc := toFrame(gts, sh.frame, sb)
		for i, g := range gts {
			if g.ignore || g.crowd {
				continue
			}
			gs := inSrc[i]
			cand := candidate{dataset: l.ds.name, class: c.String(), image: sh.path, index: g.src, box: g.box,
				coverage: round(objectCoverage(gs, sh.outlines, sh.anon)), area: float64(gs.box.Area()), detected: by[i] >= 0}
			col := missColor
			if cand.detected {
				col = hitColor
			}
			l.worst[c].offer(cand, func() *image.RGBA {
				return crop(out, gs.box, scalePolys(sh.objs[g.src].polys, sx, sy), col)
			})
		}
	}
}

// scalePolys returns polys with x scaled by sx and y by sy.
func scalePolys(polys [][]float32, sx, sy float32) [][]float32 {
	if sx == 1 && sy == 1 {
		return polys
	}
	out := make([][]float32, len(polys))
	for k, p := range polys {
		q := make([]float32, len(p))
		for j := 0; j+1 < len(p); j += 2 {
			q[j], q[j+1] = p[j]*sx, p[j+1]*sy
		}
		out[k] = q
	}
	return out
}

// A refound is one detection found again on the anonymized output, for
// reid.tsv.
type refound struct {
	file, dataset, image, class, detector string
	box                                   detect.Box // in the pixels it was scored in
	score                                 float32
	finding
}

// kind names what a finding lies on, for file names: "anonymized" (an
// engine detection's region), "missed" (a labelled object the engine did
// not detect) or "elsewhere".
func (f finding) kind() string {
	switch {
	case f.anonymized:
		return "anonymized"
	case f.labelled:
		return "missed"
	}
	return "elsewhere"
}

// reid runs the engine's Detect and, for faces, the plain face pass on
// out (the anonymized image) after a JPEG round trip, and counts what
// they find per subset.
func (l *look) reid(ctx context.Context, sh shot, out *image.RGBA) error {
	img, err := throughJPEG(out)
	if err != nil {
		return err
	}
	found, err := l.ins.e.Detect(ctx, img, l.p)
	if err != nil {
		return err
	}
	l.count(sh, img, "engine", found, l.engine)
	if l.plain != nil {
		thr := l.p.FaceThreshold
		if thr == 0 {
			thr = veil.DefaultFaceThreshold
		}
		found, err := l.ins.plain.Detect(ctx, img, img.Rect, thr)
		if err != nil {
			return err
		}
		l.count(sh, img, "plain", found, l.plain)
	}
	return nil
}

// count adds the detections found by detector on img (the anonymized
// output, in src's pixels) to counts, per subset, and writes crops of
// those of the shown subsets (-reid-dir).
func (l *look) count(sh shot, img *image.RGBA, detector string, found []veil.Detection, counts []reidCounts) {
	inFrame := found
	if img.Rect != sh.frame {
		inFrame = make([]veil.Detection, len(found))
		copy(inFrame, found)
		mapBack(inFrame, img.Rect, sh.frame)
	}
	for k, sub := range l.ds.subsets {
		gts, engine := sub.truth(sh.objs), sub.dets(sh.dets)
		i, ok := l.shown[sub.class]
		shown := ok && i == k
		for _, d := range sub.dets(inFrame) {
			f := classify(d, gts, engine, centred(found[d.src].Box, sh.anon))
			counts[k].add(f)
			if !shown || !f.counted {
				continue
			}
			r := refound{dataset: l.ds.name, image: sh.path, class: sub.class.String(), detector: detector,
				box: d.box, score: d.score, finding: f}
			if l.ins.reidDir != "" {
				r.file = fileName(".png", r.dataset, r.class, detector, f.kind(), fmt.Sprintf("%.2f", d.score),
					imageName(sh.path), fmt.Sprint(len(l.again)))
				if c := crop(img, found[d.src].Box, nil, againColor); c != nil {
					if err := writePNG(filepath.Join(l.ins.reidDir, r.file), c); err != nil {
						fmt.Fprintln(os.Stderr, "eval:", err)
						r.file = "-"
					}
				}
			}
			l.again = append(l.again, r)
		}
	}
}

// centred reports whether the centre of b is in the anonymization mask
// anon (non-zero).
func centred(b detect.Box, anon *image.Gray) bool {
	p := image.Pt(int(math.Floor(float64(b.X1+b.X2)/2)), int(math.Floor(float64(b.Y1+b.Y2)/2)))
	return p.In(anon.Rect) && anon.GrayAt(p.X, p.Y).Y != 0
}

// throughJPEG returns img encoded as a JPEG at veil's default quality and
// decoded again: the output as a user of veil anonymize gets it.
func throughJPEG(img image.Image) (*image.RGBA, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: veil.DefaultQuality}); err != nil {
		return nil, err
	}
	dec, err := jpeg.Decode(&buf)
	if err != nil {
		return nil, err
	}
	return asRGBA(dec), nil
}

// asRGBA returns img itself when it is an *image.RGBA, else a copy of it
// as one, with the same bounds.
func asRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Rect, img, img.Bounds().Min, draw.Src)
	return out
}

// writeTSV writes the index file path: header, then the lines that
// lines writes.
func writeTSV(path, header string, lines func(w io.Writer)) error {
	var b strings.Builder
	b.WriteString(header)
	lines(&b)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// row returns the re-identification fields of subset k's row.
func (l *look) row(k int) reidFields {
	if l == nil || l.engine == nil {
		return reidFields{}
	}
	var plain *reidCounts
	if l.plain != nil {
		plain = &l.plain[k]
	}
	return fields(l.engine[k], plain)
}

// done writes the dataset's worst crops and rewrites the index files with
// the lines of every dataset done so far.
func (l *look) done() error {
	if l == nil {
		return nil
	}
	ins := l.ins
	if ins.worstDir != "" {
		for _, c := range shownOrder(l.ds.subsets, l.shown) {
			cs := l.worst[c].list
			if err := writeCrops(ins.worstDir, cs); err != nil {
				return err
			}
			ins.worst = append(ins.worst, cs...)
		}
		if err := writeTSV(filepath.Join(ins.worstDir, "worst.tsv"), worstHeader, func(w io.Writer) { writeIndex(w, ins.worst) }); err != nil {
			return err
		}
	}
	if ins.fpDir != "" {
		for _, c := range shownOrder(l.ds.subsets, l.shown) {
			fs := l.falses[c]
			if err := writeFalse(ins.fpDir, fs); err != nil {
				return err
			}
			ins.falses = append(ins.falses, fs...)
		}
		if err := writeTSV(filepath.Join(ins.fpDir, "fp.tsv"), fpHeader, func(w io.Writer) { writeFalseIndex(w, ins.falses) }); err != nil {
			return err
		}
	}
	if ins.reidDir != "" {
		ins.again = append(ins.again, l.again...)
		header := "file\tdataset\timage\tclass\tdetector\tbox\tscore\ton_labelled\ton_anonymized\n"
		if err := writeTSV(filepath.Join(ins.reidDir, "reid.tsv"), header, func(w io.Writer) {
			for _, r := range ins.again {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\n", r.file, r.dataset, r.image, r.class, r.detector,
					boxString(r.box), r.score, yesNo(r.labelled), yesNo(r.anonymized))
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// shownOrder returns the classes of shown in the order of their subsets.
func shownOrder(subs []subset, shown map[veil.Class]int) []veil.Class {
	var cs []veil.Class
	for k, s := range subs {
		if i, ok := shown[s.class]; ok && i == k {
			cs = append(cs, s.class)
		}
	}
	return cs
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
