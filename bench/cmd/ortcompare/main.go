// Command ortcompare times veil's pure-Go ONNX runtime against onnxruntime
// (onnxruntime-node 1.30.0, CPU) on the same models and inputs.
//
// For every model and thread count it alternates batches of runs — round r:
// veil then ORT, reversed on odd rounds, each batch after a pause and
// 100 ms of untimed runs — and reports the medians of the per-run times:
//
//	go run ./bench/cmd/ortcompare [-models list|all] [-threads 1,2] [-rounds 5] [-iters 10] [-json] [-ort bench/ort] [-veil=false]
//
// It prints the CPU and veil's kernel level first (each JSON row names the
// level too); VEIL_SIMD=avx2 or VEIL_SIMD=generic times the AVX2 or the
// portable kernels on a CPU that has better ones.
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

	"github.com/veilkit/veil/bench/internal/synth"
	"github.com/veilkit/veil/internal/simd"
)

// row is one line of the result.
type row struct {
	Model   string   `json:"model"`
	Kernels string   `json:"kernels"` // veil's kernel level: avx512, avx2 or generic
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
	models, err := synth.Select(modelsFlag)
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

	fmt.Fprintln(os.Stderr, "CPU:", simd.Describe())
	ort, err := startORT(ortDir)
	if err != nil {
		return err
	}
	defer ort.close()

	var rows []row
	failed := false
	for _, s := range models {
		path, note := s.Find(dir)
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
		input := s.InputData()
		for _, t := range threads {
			// A veil failure is reported and that row gets ORT timings only.
			var veil timer
			veilFailed := func(err error) {
				fmt.Fprintf(os.Stderr, "veil %s threads=%d: %v\n", s.Path, t, err)
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
					return fmt.Errorf("ort %s: %w", s.Path, err)
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
			rw := row{Model: s.Path, Kernels: simd.Current().String(), Threads: t, OrtMS: round(median(ortMS), 3)}
			if veil != nil {
				v := round(median(veilMS), 3)
				ratio := round(median(veilMS)/median(ortMS), 2)
				rw.VeilMS, rw.Ratio = &v, &ratio
			}
			fmt.Fprintf(os.Stderr, "%s threads=%d done\n", s.Path, t)
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
		fmt.Printf("CPU: %s\n\n", simd.Describe())
		printTable(os.Stdout, rows)
	}
	if failed {
		return fmt.Errorf("veil failed on some models (see above)")
	}
	return nil
}

// timer runs a model n times and returns the per-run milliseconds.
type timer func(n int) ([]float64, error)

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

func (p *ortProc) time(path string, s synth.Spec, threads, iters int) ([]float64, error) {
	req := map[string]any{
		"model": path, "input": s.Input, "shape": s.Shape, "mean": s.Mean, "std": s.Std,
		"nhwc": s.NHWC, "threads": threads, "iters": iters, "warm_ms": batchWarm.Milliseconds(),
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
