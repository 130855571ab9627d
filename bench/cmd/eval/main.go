// Command eval measures veil's detectors on labelled images: recall,
// precision and false detections per image at IoU >= 0.5, and the time of
// one Detect call per image.
//
//	go run ./bench/cmd/eval -data /work/shared/data [-json] [-datasets wider,openalpr,coco]
//	    [-threads N] [-format whole] [-face-model PATH [-face-maxside N]]
//	    [-face-thr T] [-plate-thr T] [-person-thr T] [-vehicle-thr T]
//
// -data holds dataset folders found by name (each optional):
//
//   - wider*: WIDER-style labels*.txt (else label*.txt), a header
//     "# <relpath> [<W> <H> ...]" per image then "x1 y1 x2 y2" per face;
//     images under images/<relpath>; boxes are rescaled when the image is
//     not W×H. Rows: face, subsets all and >=16px.
//   - openalpr*: region folders of images with same-name .txt labels
//     "<file>\t<x>\t<y>\t<w>\t<h>\t<text>". Row: license-plate, all.
//   - coco*: COCO instances *.json, images under images/. Rows: person;
//     vehicle (bicycle, car, motorcycle, bus, truck); car, the subset of
//     vehicle with the car label.
//
// Matching is greedy by decreasing score, each ground truth matched once
// (see match). ms/img is the wall time of Detect alone (not decoding),
// after one untimed warm-up call per dataset.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/onnx"
)

func main() {
	var (
		data       = flag.String("data", "", "folder holding wider*, openalpr* and coco* datasets (required)")
		asJSON     = flag.Bool("json", false, "print a JSON array instead of a table")
		datasets   = flag.String("datasets", "wider,openalpr,coco", "dataset kinds to run (comma list)")
		threads    = flag.Int("threads", 0, "threads per model run (0: GOMAXPROCS)")
		format     = flag.String("format", "whole", "Params.Format (tiling)")
		faceModel  = flag.String("face-model", "", "YuNet ONNX file for faces (default: the engine's embedded model)")
		faceMax    = flag.Int("face-maxside", -1, "MaxSide of a dynamic -face-model (-1: the detector's default; 0: native size)")
		faceThr    = flag.Float64("face-thr", 0, "face threshold (0: engine default)")
		plateThr   = flag.Float64("plate-thr", 0, "licence-plate threshold (0: engine default)")
		personThr  = flag.Float64("person-thr", 0, "person threshold (0: engine default)")
		vehicleThr = flag.Float64("vehicle-thr", 0, "vehicle threshold (0: engine default)")
	)
	flag.Parse()
	if *data == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: eval -data DIR [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	want := make(map[string]bool)
	for _, k := range strings.Split(*datasets, ",") {
		k = strings.TrimSpace(k)
		if !slices.ContainsFunc(kinds, func(d kind) bool { return d.prefix == k }) {
			fail(fmt.Errorf("-datasets: unknown kind %q (want wider, openalpr, coco)", k))
		}
		want[k] = true
	}
	if *threads == 0 {
		*threads = runtime.GOMAXPROCS(0)
	}
	p := veil.Params{Format: *format, FaceThreshold: float32(*faceThr), LicensePlateThreshold: float32(*plateThr),
		PersonThreshold: float32(*personThr), VehicleThreshold: float32(*vehicleThr)}
	face := "embedded yunet_n_dynamic"
	opts := []veil.Option{veil.WithThreads(*threads)}
	if *faceModel != "" {
		d, err := loadFace(*faceModel, *threads, *faceMax)
		if err != nil {
			fail(err)
		}
		face = *faceModel
		opts = append(opts, veil.WithDetector(veil.Face, d))
	}
	e, err := veil.New(opts...)
	if err != nil {
		fail(err)
	}
	sets, err := discover(*data, want)
	if err != nil {
		fail(err)
	}
	var rows []row
	var notes []string
	for _, ds := range sets {
		r, err := evaluate(context.Background(), e, ds, p)
		if err != nil {
			fail(fmt.Errorf("%s: %w", ds.name, err))
		}
		rows = append(rows, r...)
		notes = append(notes, fmt.Sprintf("%s: %d images", ds.name, len(ds.samples)))
		if ds.note != "" && !slices.Contains(notes, ds.note) {
			notes = append(notes, ds.note)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			fail(err)
		}
		return
	}
	th := func(t, def float32) float32 {
		if t == 0 {
			return def
		}
		return t
	}
	notes = append([]string{fmt.Sprintf("settings: face model %s; thresholds face %.2f, plate %.2f, person %.2f, vehicle %.2f; threads %d; format %s",
		face, th(p.FaceThreshold, veil.DefaultFaceThreshold), th(p.LicensePlateThreshold, veil.DefaultLicensePlateThreshold),
		th(p.PersonThreshold, veil.DefaultPersonThreshold), th(p.VehicleThreshold, veil.DefaultVehicleThreshold), *threads, *format),
		"matching: IoU >= 0.5, greedy by decreasing score, each ground truth matched at most once; unmatched detections are false positives"},
		notes...)
	printTable(os.Stdout, rows, notes)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "eval:", err)
	os.Exit(1)
}

// loadFace builds a YuNet face detector from an ONNX file.
func loadFace(path string, threads, maxSide int) (*detect.YuNet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	y, err := detect.NewYuNet(b, onnx.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	if maxSide >= 0 {
		y.MaxSide = maxSide
	}
	return y, nil
}

// A row is one line of the report. Recall (precision) is null when there
// is no ground truth (no counted detection).
type row struct {
	Dataset    string   `json:"dataset"`
	Class      string   `json:"class"`
	Subset     string   `json:"subset"`
	NGT        int      `json:"n_gt"`
	Recall     *float64 `json:"recall"`
	Precision  *float64 `json:"precision"`
	FPPerImage float64  `json:"fp_per_image"`
	MsPerImage float64  `json:"ms_per_image"`
}

// evaluate runs Detect on every image of ds and scores each subset.
func evaluate(ctx context.Context, e *veil.Engine, ds dataset, p veil.Params) ([]row, error) {
	p.Classes = ds.classes
	acc := make([]counts, len(ds.subsets))
	var spent time.Duration
	for i, s := range ds.samples {
		img, err := decode(s.path)
		if err != nil {
			return nil, err
		}
		if i == 0 { // warm-up: first runs allocate the models' buffers
			if _, err := e.Detect(ctx, img, p); err != nil {
				return nil, fmt.Errorf("%s: %w", s.path, err)
			}
		}
		t := time.Now()
		dets, err := e.Detect(ctx, img, p)
		spent += time.Since(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		objs := s.scaled(img.Bounds())
		for k, sub := range ds.subsets {
			acc[k].add(match(sub.dets(dets), sub.truth(objs)))
		}
	}
	n := float64(len(ds.samples))
	var rows []row
	for k, sub := range ds.subsets {
		c := acc[k]
		rows = append(rows, row{Dataset: ds.name, Class: sub.class.String(), Subset: sub.name, NGT: c.ngt,
			Recall: ratio(c.tp, c.ngt), Precision: ratio(c.tp, c.tp+c.fp),
			FPPerImage: round(float64(c.fp) / n), MsPerImage: round(spent.Seconds() * 1000 / n)})
	}
	return rows, nil
}

func decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// scaled returns s's objects in the pixels of an image with bounds b.
func (s sample) scaled(b image.Rectangle) []object {
	if s.w <= 0 || s.h <= 0 || (s.w == b.Dx() && s.h == b.Dy()) {
		return s.objects
	}
	sx, sy := float32(b.Dx())/float32(s.w), float32(b.Dy())/float32(s.h)
	out := make([]object, len(s.objects))
	for i, o := range s.objects {
		o.box = detect.Box{X1: o.box.X1 * sx, Y1: o.box.Y1 * sy, X2: o.box.X2 * sx, Y2: o.box.Y2 * sy}
		out[i] = o
	}
	return out
}

func shortSide(b detect.Box) float32 { return min(b.W(), b.H()) }

// truth returns the ground truth of sub among objs.
func (sub subset) truth(objs []object) []gtBox {
	var out []gtBox
	for _, o := range objs {
		if o.class == sub.class && (sub.label == "" || o.label == sub.label) {
			out = append(out, gtBox{box: o.box, crowd: o.crowd, ignore: shortSide(o.box) < sub.minSide})
		}
	}
	return out
}

// dets returns the detections of sub among dets.
func (sub subset) dets(dets []veil.Detection) []detBox {
	var out []detBox
	for _, d := range dets {
		if d.Class == sub.class && (sub.label == "" || d.Label == sub.label) {
			out = append(out, detBox{box: d.Box, score: d.Score, ignore: shortSide(d.Box) < sub.minSide})
		}
	}
	return out
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := round(float64(a) / float64(b))
	return &v
}

func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// printTable writes rows as a markdown table, then the notes.
func printTable(w io.Writer, rows []row, notes []string) {
	opt := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *v)
	}
	fmt.Fprintln(w, "| dataset | class | subset | n_gt | recall | precision | fp/img | ms/img |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %.3f | %.1f |\n", r.Dataset, r.Class, r.Subset, r.NGT,
			opt(r.Recall), opt(r.Precision), r.FPPerImage, r.MsPerImage)
	}
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, "- "+n)
	}
}
