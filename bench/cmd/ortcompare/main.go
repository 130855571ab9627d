// Command ortcompare times veil's pure-Go ONNX runtime against onnxruntime
// (onnxruntime-node 1.30.0, CPU) on the same models and inputs.
//
// For every model and thread count it alternates batches of runs — round r:
// veil then ORT, reversed on odd rounds, each batch after a pause and
// 100 ms of untimed runs — and reports the medians of the per-run times:
//
//	go run ./bench/cmd/ortcompare [-models list|all] [-threads 1,2] [-rounds 5] [-iters 10] [-json] [-ort bench/ort] [-veil=false]
//
// The ORT side is one long-lived `node bench/ort/ort.js` process; install its
// dependency first with
//
//	cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install
//
// A model missing from -dir is read from ../shared/models, which also holds
// the selfie segmenter (not shipped: GPL-hosted copy); a model found in
// neither is skipped with a note.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veilkit/veil/internal/modelpath"
)

// spec is one model's input: name, shape, and the mean/std of the synthetic
// input rule raw[c][y][x] = (x*7 + y*13 + c*29) % 256, value = (raw-mean[c])/std[c]
// (see /work/shared/models/GOLDEN_synthetic_outputs.json and MANIFEST.md).
type spec struct {
	path       string // relative to the models folder
	input      string
	shape      []int
	mean, std  [3]float32
	nhwc       bool   // channel axis last
	notShipped string // why the model is not in models/; "" if it is
}

// find returns the path of s's model in dir or, failing that, in the
// shared models folder, or a note saying why it is in neither.
func (s spec) find(dir string) (path, note string) {
	return modelpath.Find(dir, s.path, s.notShipped)
}

var (
	raw    = [3]float32{0, 0, 0}
	unit   = [3]float32{1, 1, 1}
	ultraM = [3]float32{127, 127, 127}
	ultraS = [3]float32{128, 128, 128}
)

// specs lists every model in models/ and the selfie segmenter; the first
// six (published reference timings) are the default set.
var specs = []spec{
	{"face/yunet_n_640_640.onnx", "input", []int{1, 3, 640, 640}, raw, unit, false, ""},
	{"face/yunet_n_320_320.onnx", "input", []int{1, 3, 320, 320}, raw, unit, false, ""},
	{"plate/lpd_yunet_2023mar.onnx", "input", []int{1, 3, 240, 320}, raw, unit, false, ""},
	{"object/nanodet_m_416.onnx", "input.1", []int{1, 3, 416, 416}, [3]float32{103.53, 116.28, 123.675}, [3]float32{57.375, 57.12, 58.395}, false, ""},
	{"object/fastestdet_352.onnx", "input.1", []int{1, 3, 352, 352}, raw, [3]float32{255, 255, 255}, false, ""},
	{"face/ultraface_rfb_320.onnx", "input", []int{1, 3, 240, 320}, ultraM, ultraS, false, ""},
	// -models all adds these:
	{"face/ultraface_rfb_640.onnx", "input", []int{1, 3, 480, 640}, ultraM, ultraS, false, ""},
	{"face/ultraface_slim_320.onnx", "input", []int{1, 3, 240, 320}, ultraM, ultraS, false, ""},
	{"face/yunet_n_dynamic.onnx", "input", []int{1, 3, 256, 384}, raw, unit, false, ""},
	{"face/yunet_s_640_640.onnx", "input", []int{1, 3, 640, 640}, raw, unit, false, ""},
	{"seg/deeplabv3_mnv2_voc_257.onnx", "sub_7", []int{1, 257, 257, 3}, [3]float32{127.5, 127.5, 127.5}, [3]float32{127.5, 127.5, 127.5}, true, ""},
	{"seg/mediapipe_selfie_seg_256.onnx", "input_1:0", []int{1, 256, 256, 3}, raw, [3]float32{255, 255, 255}, true, "GPL-hosted copy"},
}

const numDefault = 6

// inputData builds the synthetic input tensor data for s.
func (s spec) inputData() []float32 {
	n, c, h, w := s.shape[0], s.shape[1], s.shape[2], s.shape[3]
	if s.nhwc {
		h, w, c = s.shape[1], s.shape[2], s.shape[3]
	}
	data := make([]float32, 0, n*c*h*w)
	for range n {
		if s.nhwc {
			for y := range h {
				for x := range w {
					for ch := range c {
						data = append(data, s.value(ch, y, x))
					}
				}
			}
			continue
		}
		for ch := range c {
			for y := range h {
				for x := range w {
					data = append(data, s.value(ch, y, x))
				}
			}
		}
	}
	return data
}

func (s spec) value(c, y, x int) float32 {
	raw := float32((x*7 + y*13 + c*29) % 256)
	return (raw - s.mean[c%3]) / s.std[c%3]
}

// row is one line of the result.
type row struct {
	Model   string   `json:"model"`
	Threads int      `json:"threads"`
	VeilMS  *float64 `json:"veil_ms"` // null with -veil=false
	OrtMS   float64  `json:"ort_ms"`
	Ratio   *float64 `json:"ratio"` // veil/ort; null with -veil=false
}

func main() {
	modelsFlag := flag.String("models", "", "comma-separated models (path under -dir, or base name without .onnx); \"all\" = every model; default: the six with reference timings")
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	rounds := flag.Int("rounds", 5, "alternating rounds per model and thread count")
	iters := flag.Int("iters", 10, "timed runs per batch")
	asJSON := flag.Bool("json", false, "print a JSON array instead of a markdown table")
	ortDir := flag.String("ort", "bench/ort", "folder with ort.js and its node_modules")
	dir := flag.String("dir", "models", "models folder")
	withVeil := flag.Bool("veil", true, "time veil too (false: onnxruntime only)")
	flag.Parse()

	if err := run(*modelsFlag, *threadsFlag, *rounds, *iters, *asJSON, *ortDir, *dir, *withVeil); err != nil {
		fmt.Fprintln(os.Stderr, "ortcompare:", err)
		os.Exit(1)
	}
}

func run(modelsFlag, threadsFlag string, rounds, iters int, asJSON bool, ortDir, dir string, withVeil bool) error {
	models, err := selectModels(modelsFlag)
	if err != nil {
		return err
	}
	var threads []int
	for _, f := range strings.Split(threadsFlag, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			return fmt.Errorf("bad -threads value %q", f)
		}
		threads = append(threads, t)
	}
	if rounds < 1 || iters < 1 {
		return fmt.Errorf("-rounds and -iters must be at least 1")
	}

	ort, err := startORT(ortDir)
	if err != nil {
		return err
	}
	defer ort.close()

	var rows []row
	failed := false
	for _, s := range models {
		path, note := s.find(dir)
		if path == "" {
			fmt.Fprintf(os.Stderr, "note: %s; skipped\n", note)
			continue
		}
		path, err = filepath.Abs(path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		input := s.inputData()
		for _, t := range threads {
			// A veil failure is reported and that row gets ORT timings only.
			var veil timer
			veilFailed := func(err error) {
				fmt.Fprintf(os.Stderr, "veil %s threads=%d: %v\n", s.path, t, err)
				veil, failed = nil, true
			}
			if withVeil {
				if veil, err = newVeil(data, s, input, t); err != nil {
					veilFailed(err)
				}
			}
			var veilMS, ortMS []float64
			veilBatch := func() error {
				if veil == nil {
					return nil
				}
				ms, err := veil(iters)
				if err != nil {
					veilFailed(err)
					return nil
				}
				veilMS = append(veilMS, ms...)
				return nil
			}
			ortBatch := func() error {
				ms, err := ort.time(path, s, t, iters)
				if err != nil {
					return fmt.Errorf("ort %s: %w", s.path, err)
				}
				ortMS = append(ortMS, ms...)
				return nil
			}
			for r := range rounds {
				first, second := veilBatch, ortBatch
				if r%2 == 1 {
					first, second = ortBatch, veilBatch
				}
				// A pause before each batch lets the other runtime's idle
				// threads (onnxruntime's spin for a while after a run) go
				// quiet, so that neither batch starts on a contended core.
				time.Sleep(batchGap)
				if err := first(); err != nil {
					return err
				}
				time.Sleep(batchGap)
				if err := second(); err != nil {
					return err
				}
			}
			rw := row{Model: s.path, Threads: t, OrtMS: round(median(ortMS), 3)}
			if veil != nil {
				v := round(median(veilMS), 3)
				ratio := round(median(veilMS)/median(ortMS), 2)
				rw.VeilMS, rw.Ratio = &v, &ratio
			}
			fmt.Fprintf(os.Stderr, "%s threads=%d done\n", s.path, t)
			rows = append(rows, rw)
		}
	}
	if len(rows) == 0 {
		return fmt.Errorf("none of the models was found")
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		printTable(os.Stdout, rows)
	}
	if failed {
		return fmt.Errorf("veil failed on some models (see above)")
	}
	return nil
}

// timer runs a model n times and returns the per-run milliseconds.
type timer func(n int) ([]float64, error)

func selectModels(list string) ([]spec, error) {
	switch list {
	case "":
		return specs[:numDefault], nil
	case "all":
		return specs, nil
	}
	var out []spec
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(specs, func(s spec) bool {
			return s.path == name || strings.TrimSuffix(filepath.Base(s.path), ".onnx") == strings.TrimSuffix(name, ".onnx")
		})
		if i < 0 {
			return nil, fmt.Errorf("unknown model %q", name)
		}
		out = append(out, specs[i])
	}
	return out, nil
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| model\t| threads\t| veil ms\t| ort ms\t| ratio\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|")
	for _, r := range rows {
		veil, ratio := "-", "-"
		if r.VeilMS != nil {
			veil, ratio = fmt.Sprintf("%.2f", *r.VeilMS), fmt.Sprintf("%.2f", *r.Ratio)
		}
		fmt.Fprintf(tw, "| %s\t| %d\t| %s\t| %.2f\t| %s\t|\n", r.Model, r.Threads, veil, r.OrtMS, ratio)
	}
	tw.Flush()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// batchWarm is how long each batch runs untimed before its timed runs,
// in both runtimes: a core that sat idle (the pause below, the other
// runtime's batch) runs slowly for tens of milliseconds on this shared
// machine — a 2-thread UltraFace run took 3.3 ms after a pause against
// 1.7 ms in a steady loop, and 1.7 again after 100 ms of warm-up.
const batchWarm = 100 * time.Millisecond

// batchGap is the pause before each batch of timed runs.
const batchGap = 50 * time.Millisecond

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// ortProc is the node process serving bench/ort/ort.js requests.
type ortProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startORT(dir string) (*ortProc, error) {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		return nil, fmt.Errorf("onnxruntime-node is not installed in %s/node_modules; run:\n\tcd %s && ONNXRUNTIME_NODE_INSTALL=skip npm install", dir, dir)
	}
	cmd := exec.Command("node", filepath.Join(dir, "ort.js"))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node: %w", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	return &ortProc{cmd: cmd, in: in, out: sc}, nil
}

func (p *ortProc) time(path string, s spec, threads, iters int) ([]float64, error) {
	req := map[string]any{
		"model": path, "input": s.input, "shape": s.shape, "mean": s.mean, "std": s.std,
		"nhwc": s.nhwc, "threads": threads, "iters": iters, "warm_ms": batchWarm.Milliseconds(),
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("writing to ort.js: %w", err)
	}
	if !p.out.Scan() {
		if err := p.out.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("ort.js exited")
	}
	var ans struct {
		MS    []float64 `json:"ms"`
		Error string    `json:"error"`
	}
	if err := json.Unmarshal(p.out.Bytes(), &ans); err != nil {
		return nil, fmt.Errorf("ort.js answer: %w", err)
	}
	if ans.Error != "" {
		return nil, fmt.Errorf("ort.js: %s", ans.Error)
	}
	return ans.MS, nil
}

func (p *ortProc) close() {
	p.in.Close()
	p.cmd.Wait()
}
