package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
)

// An object is one ground-truth box.
type object struct {
	class veil.Class
	label string // "face", "license-plate", or the COCO category ("car", "bus"…)
	box   detect.Box
	crowd bool
	// polys is the object's shape, when labelled: polygons
	// [x1, y1, x2, y2, …] in the same pixels as box, OR-ed (a COCO
	// non-crowd segmentation). Nil when there is none.
	polys [][]float32
}

// A sample is one image and its ground truth. When w and h are set, the
// boxes are in a w×h frame and are rescaled to the decoded image's size.
type sample struct {
	path string
	w, h int
	// ow, oh: the size the image was resized from, when the labels say
	// (WIDER "orig W0 H0": the staged copies were stretched to 416×416);
	// 0 when unknown. See -wider-aspect.
	ow, oh  int
	objects []object
}

// A dataset is a set of labelled images and how to score them.
type dataset struct {
	name    string
	classes []veil.Class // to detect
	subsets []subset     // rows of the report
	samples []sample
	note    string // how to read its figures
	// masks: run Masks instead of Detect and score the objects' masks
	// against the ground-truth polygons (see maskStats).
	masks bool
}

// A subset is one report row: the ground truth and detections of class,
// restricted to one label when label is set; boxes whose short side is
// under minSide are ignored (see gtBox and detBox).
type subset struct {
	class   veil.Class
	name    string
	label   string
	minSide float32
}

// A kind of dataset, found as folders of -data whose name starts with
// prefix.
type kind struct {
	prefix string
	load   func(dir string) ([]dataset, error)
}

var kinds = []kind{
	{"wider", loadWider},
	{"openalpr", loadOpenALPR},
	{"coco", loadCOCO},
}

// discover returns the datasets under root of the wanted kinds: root's
// subfolders (or root itself) whose name starts with a kind's prefix.
func discover(root string, want map[string]bool) ([]dataset, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	dirs := []string{root}
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	var all []dataset
	for _, k := range kinds {
		if !want[k.prefix] {
			continue
		}
		found := false
		for _, d := range dirs {
			if !strings.HasPrefix(strings.ToLower(filepath.Base(d)), k.prefix) {
				continue
			}
			ds, err := k.load(d)
			if err != nil {
				return nil, err
			}
			if len(ds) == 0 {
				fmt.Fprintf(os.Stderr, "eval: %s: no labelled images, skipped\n", d)
			}
			found = found || len(ds) > 0
			all = append(all, ds...)
		}
		if !found {
			fmt.Fprintf(os.Stderr, "eval: no %s* dataset in %s, skipped\n", k.prefix, root)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no dataset found in %s (want folders named wider*, openalpr*, coco*)", root)
	}
	return all, nil
}

// name returns the dataset name for part of folder dir: the folder's name,
// followed by part when there are several.
func name(dir, part string, several bool) string {
	if several {
		return filepath.Base(dir) + "/" + part
	}
	return filepath.Base(dir)
}

// findImage returns the first existing file among dir/images/rel, dir/rel.
func findImage(dir, rel string) (string, bool) {
	for _, p := range []string{filepath.Join(dir, "images", rel), filepath.Join(dir, rel)} {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// loadWider reads a WIDER-style folder: one dataset per label file
// (labels*.txt, else label*.txt), images under images/.
func loadWider(dir string) ([]dataset, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "labels*.txt"))
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(dir, "label*.txt"))
	}
	var out []dataset
	for _, f := range files {
		samples, err := readSamples(dir, f, parseWider)
		if err != nil {
			return nil, err
		}
		if len(samples) == 0 {
			continue
		}
		out = append(out, dataset{
			name:    name(dir, strings.TrimSuffix(filepath.Base(f), ".txt"), len(files) > 1),
			classes: []veil.Class{veil.Face},
			subsets: []subset{{class: veil.Face, name: "all"}, {class: veil.Face, name: ">=16px", minSide: 16}},
			samples: samples,
			note: "faces: >=16px counts only faces whose box is at least 16 px on its short side; a detection matched " +
				"to a smaller face, or itself smaller and matching no counted face, is neither a true nor a false positive. " +
				"WIDER leaves many faces unlabelled, so precision is a lower bound.",
		})
	}
	return out, nil
}

// readSamples parses the label file f with parse and resolves its
// samples' images under dir.
func readSamples(dir, f string, parse func(io.Reader) ([]sample, error)) ([]sample, error) {
	r, err := os.Open(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	samples, err := parse(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	return resolve(dir, samples, f), nil
}

// resolve keeps the samples whose image exists under dir, with their paths
// made absolute, and says on stderr how many were missing.
func resolve(dir string, samples []sample, labels string) []sample {
	kept := samples[:0]
	for _, s := range samples {
		if p, ok := findImage(dir, s.path); ok {
			s.path = p
			kept = append(kept, s)
		}
	}
	if n := len(samples) - len(kept); n > 0 {
		fmt.Fprintf(os.Stderr, "eval: %s: %d of %d labelled images not found, skipped\n", labels, n, len(samples))
	}
	return kept
}

// parseWider parses WIDER-style labels: a header line
// "# <relpath> [<W> <H> [orig <W0> <H0>]]" per image, the size its boxes
// refer to (and the size the image was resized from), then one
// "x1 y1 x2 y2 ..." line per face (extra fields are ignored).
func parseWider(r io.Reader) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
		case f[0] == "#":
			if len(f) < 2 {
				return nil, fmt.Errorf("line %d: header without a path", line)
			}
			s := sample{path: f[1]}
			if len(f) >= 4 {
				w, err1 := strconv.Atoi(f[2])
				h, err2 := strconv.Atoi(f[3])
				if err1 != nil || err2 != nil {
					return nil, fmt.Errorf("line %d: bad image size %q %q", line, f[2], f[3])
				}
				s.w, s.h = w, h
			}
			if len(f) >= 7 && f[4] == "orig" {
				w, err1 := strconv.Atoi(f[5])
				h, err2 := strconv.Atoi(f[6])
				if err1 != nil || err2 != nil || w <= 0 || h <= 0 {
					return nil, fmt.Errorf("line %d: bad original size %q %q", line, f[5], f[6])
				}
				s.ow, s.oh = w, h
			}
			out = append(out, s)
		default:
			if len(out) == 0 {
				return nil, fmt.Errorf("line %d: box before the first header", line)
			}
			if len(f) < 4 {
				return nil, fmt.Errorf("line %d: want x1 y1 x2 y2, have %q", line, sc.Text())
			}
			v, err := floats(f[:4])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			s := &out[len(out)-1]
			s.objects = append(s.objects, object{class: veil.Face, label: "face", box: detect.Box{X1: v[0], Y1: v[1], X2: v[2], Y2: v[3]}})
		}
	}
	return out, sc.Err()
}

func floats(fields []string) ([]float32, error) {
	v := make([]float32, len(fields))
	for i, s := range fields {
		x, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return nil, err
		}
		v[i] = float32(x)
	}
	return v, nil
}

var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// loadOpenALPR reads an openalpr-benchmarks-style folder: one dataset per
// region folder (or the folder itself) holding images with same-name .txt
// labels. An image without a label file is skipped.
func loadOpenALPR(dir string) ([]dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	regions := []string{dir}
	for _, e := range entries {
		if e.IsDir() {
			regions = append(regions, filepath.Join(dir, e.Name()))
		}
	}
	var out []dataset
	for _, reg := range regions {
		imgs, err := os.ReadDir(reg)
		if err != nil {
			return nil, err
		}
		var samples []sample
		for _, e := range imgs {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.IsDir() || !imageExts[ext] {
				continue
			}
			p := filepath.Join(reg, e.Name())
			data, err := os.ReadFile(strings.TrimSuffix(p, filepath.Ext(p)) + ".txt")
			if err != nil {
				fmt.Fprintf(os.Stderr, "eval: %s: no label file, skipped\n", p)
				continue
			}
			objs, err := parsePlates(string(data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			samples = append(samples, sample{path: p, objects: objs})
		}
		if len(samples) == 0 {
			continue
		}
		name := filepath.Base(dir)
		if reg != dir {
			name += "/" + filepath.Base(reg)
		}
		out = append(out, dataset{
			name:    name,
			classes: []veil.Class{veil.LicensePlate},
			subsets: []subset{{class: veil.LicensePlate, name: "all"}},
			samples: samples,
			note: "plates: only one plate per image is labelled (others visible are not), so a correct detection " +
				"of an unlabelled plate counts as a false positive: precision and fp/img are pessimistic.",
		})
	}
	return out, nil
}

// parsePlates parses openalpr label lines "<file>\t<x>\t<y>\t<w>\t<h>\t<text>",
// one plate each.
func parsePlates(text string) ([]object, error) {
	var out []object
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			return nil, fmt.Errorf("line %d: want <file> x y w h <text> separated by tabs, have %q", i+1, line)
		}
		v, err := floats(f[1:5])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, object{class: veil.LicensePlate, label: "license-plate",
			box: detect.Box{X1: v[0], Y1: v[1], X2: v[0] + v[2], Y2: v[1] + v[3]}})
	}
	return out, nil
}

// loadCOCO reads a COCO-style folder: one dataset per *.json annotation
// file, images under images/ (or beside the json).
func loadCOCO(dir string) ([]dataset, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out []dataset
	for _, f := range files {
		samples, err := readSamples(dir, f, parseCOCO)
		if err != nil {
			return nil, err
		}
		if len(samples) == 0 {
			continue
		}
		out = append(out, dataset{
			name:    name(dir, strings.TrimSuffix(filepath.Base(f), ".json"), len(files) > 1),
			classes: []veil.Class{veil.Person, veil.Vehicle},
			subsets: []subset{
				{class: veil.Person, name: "all"},
				{class: veil.Vehicle, name: "all"},
				{class: veil.Vehicle, name: "car", label: "car"},
			},
			samples: samples,
			masks:   true,
			note: "coco: vehicle = bicycle, car, motorcycle, bus, truck; crowd regions are not counted and a detection " +
				"lying at least half inside one is not a false positive; car = car ground truth vs detections labelled car. " +
				"ms/img is one Masks call (detection and segmentation). mask_iou: mean IoU of a matched detection's " +
				"Object.Mask and the object's polygon mask, over mask_n matched objects; leak: fraction of all " +
				"non-crowd objects' polygon pixels outside the anonymization mask (Result.BinaryMask: every object's " +
				"mask), split into objects no detection matched (missed) and matched ones (same denominator); " +
				"leak in matched: the matched objects' pixels left out, over their own pixels.",
		})
	}
	return out, nil
}

// cocoClasses maps COCO category names to veil classes.
var cocoClasses = map[string]veil.Class{
	"person": veil.Person, "bicycle": veil.Vehicle, "car": veil.Vehicle,
	"motorcycle": veil.Vehicle, "bus": veil.Vehicle, "truck": veil.Vehicle,
}

// parseCOCO parses COCO instances json: every listed image is a sample
// (with no objects if it has no person or vehicle); categories are taken
// by name, or by the standard COCO ids if the file has no category list.
// A non-crowd object keeps its polygon segmentation (object.polys); an
// RLE segmentation (crowd regions) is not kept.
func parseCOCO(r io.Reader) ([]sample, error) {
	var doc struct {
		Images []struct {
			ID       int64  `json:"id"`
			FileName string `json:"file_name"`
		} `json:"images"`
		Annotations []struct {
			ImageID      int64           `json:"image_id"`
			CategoryID   int             `json:"category_id"`
			BBox         []float32       `json:"bbox"`
			IsCrowd      int             `json:"iscrowd"`
			Segmentation json.RawMessage `json:"segmentation"`
		} `json:"annotations"`
		Categories []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"categories"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, err
	}
	cats := map[int]string{1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 6: "bus", 8: "truck"}
	if len(doc.Categories) > 0 {
		cats = make(map[int]string)
	}
	for _, c := range doc.Categories {
		cats[c.ID] = c.Name
	}
	index := make(map[int64]int)
	out := make([]sample, len(doc.Images))
	for i, im := range doc.Images {
		index[im.ID] = i
		out[i].path = im.FileName
	}
	for _, a := range doc.Annotations {
		i, ok := index[a.ImageID]
		label := cats[a.CategoryID]
		class := cocoClasses[label]
		if !ok || class == 0 {
			continue
		}
		if len(a.BBox) != 4 {
			return nil, fmt.Errorf("image %d: bbox %v is not [x,y,w,h]", a.ImageID, a.BBox)
		}
		b := a.BBox
		o := object{class: class, label: label, crowd: a.IsCrowd != 0,
			box: detect.Box{X1: b[0], Y1: b[1], X2: b[0] + b[2], Y2: b[1] + b[3]}}
		if !o.crowd {
			polys, err := cocoPolygons(a.Segmentation)
			if err != nil {
				return nil, fmt.Errorf("image %d: segmentation: %w", a.ImageID, err)
			}
			o.polys = polys
		}
		out[i].objects = append(out[i].objects, o)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// cocoPolygons returns the polygons of a COCO segmentation: nil for none
// or an RLE (a json object), an error for a polygon with an odd number of
// coordinates.
func cocoPolygons(raw json.RawMessage) ([][]float32, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, nil
	}
	var polys [][]float32
	if err := json.Unmarshal(raw, &polys); err != nil {
		return nil, err
	}
	for _, p := range polys {
		if len(p)%2 != 0 {
			return nil, fmt.Errorf("polygon of %d coordinates (odd)", len(p))
		}
	}
	return polys, nil
}
