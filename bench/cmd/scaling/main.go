// Command scaling measures how far veil's work can spread over many
// cores, on a machine with few.
//
// It runs each workload set up for N threads (-threads) but on one core
// (GOMAXPROCS 1), so that each parallel loop's chunks run one after
// another, while internal/par records every parallel loop, and reports the share of the single-thread time spent
// outside them (the serial fraction), the speedup Amdahl's law then
// allows at N threads (each loop's items taken as equal work, so a loop
// of fewer than N items limits it too), how many loops ran and how finely
// they split at N threads:
//
//	go run ./bench/cmd/scaling [-models list|all|none] [-threads 16] [-runs 5] [-json] [-cpuprofile file]
//
// The workloads are each model of -models on its synthetic golden input
// (bench/internal/synth; default all) and Engine.Anonymize of a 1080p
// frame with all four classes (the group and street photos composed as
// bench_test.go's frame1080p). With -json it prints an array of objects
// with the keys name, serial_fraction and amdahl_16 (the bound at -threads,
// 16 by default; the key keeps its name) and the details.
//
// The serial fraction is a bound on scaling, not a measurement of it:
// memory bandwidth, the cost of starting loops and uneven items make real
// speedups smaller. Measure those on a machine with the cores, with
// ortcompare -threads 1,2,16 and go test -bench AnonymizeFrame1080p.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"text/tabwriter"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/bench/internal/synth"
	"github.com/veilkit/veil/internal/par"
	"github.com/veilkit/veil/internal/simd"
	"github.com/veilkit/veil/onnx"
)

// row is one workload's result.
type row struct {
	Name           string  `json:"name"`
	SerialFraction float64 `json:"serial_fraction"`
	Amdahl16       float64 `json:"amdahl_16"` // the bound at -threads threads
	Threads        int     `json:"threads"`   // -threads
	MS             float64 `json:"ms"`        // one run on one core
	Loops          int     `json:"loops"`     // parallel loops in one run
	// Underfilled is the share of the loops' time in loops that split
	// into fewer chunks than there are threads.
	Underfilled float64 `json:"underfilled"`
	// MinChunks is the fewest chunks a loop of at least 2 items split
	// into at -threads threads.
	MinChunks int `json:"min_chunks"`
}

func main() {
	models := flag.String("models", "all", "comma-separated models (see ortcompare), \"all\", or \"none\"")
	threads := flag.Int("threads", 16, "thread count for the Amdahl bound and the chunk counts")
	runs := flag.Int("runs", 5, "recorded runs per workload, after a warm-up run; the median run is reported")
	dir := flag.String("dir", "models", "models folder")
	asJSON := flag.Bool("json", false, "print a JSON array instead of a markdown table")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the recorded runs to this file (go tool pprof -ignore 'par\\.(For|Loop)' shows the serial part)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "scaling:", err)
			os.Exit(1)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if err := run(*models, *dir, *threads, *runs, *asJSON, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scaling:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(models, dir string, threads, runs int, asJSON bool, w io.Writer) error {
	if threads < 1 || runs < 1 {
		return fmt.Errorf("-threads and -runs must be at least 1")
	}
	var specs []synth.Spec
	if models != "none" {
		var err error
		if specs, err = synth.Select(models); err != nil {
			return err
		}
	}
	fmt.Fprintln(os.Stderr, "CPU:", simd.Describe())
	var rows []row
	for _, s := range specs {
		path, note := s.Find(dir)
		if path == "" {
			fmt.Fprintf(os.Stderr, "note: %s; skipped\n", note)
			continue
		}
		f, err := modelRun(path, s, threads)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Path, err)
		}
		r, err := measure(f, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Path, err)
		}
		rows = append(rows, summarize(s.Path, r, threads))
	}
	f, err := anonymizeRun(filepath.Join(dir, ".."), threads)
	if err != nil {
		return fmt.Errorf("anonymize 1080p: %w", err)
	}
	r, err := measure(f, runs)
	if err != nil {
		return fmt.Errorf("anonymize 1080p: %w", err)
	}
	rows = append(rows, summarize("Anonymize 1080p, 4 classes", r, threads))

	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	fmt.Fprintf(w, "CPU: %s; work split for %d threads, run on one core\n\n", simd.Describe(), threads)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| workload\t| ms (1 core)\t| serial fraction\t| Amdahl bound\t| loops\t| underfilled\t| min chunks\t|")
	fmt.Fprintln(tw, "|---\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|")
	for _, r := range rows {
		fmt.Fprintf(tw, "| %s\t| %.1f\t| %.1f%%\t| %.1fx\t| %d\t| %.1f%%\t| %d\t|\n",
			r.Name, r.MS, 100*r.SerialFraction, r.Amdahl16, r.Loops, 100*r.Underfilled, r.MinChunks)
	}
	return tw.Flush()
}

// measure runs f once to warm up, then records runs runs and returns the
// one with the median serial fraction.
func measure(f func() error, runs int) (par.Recording, error) {
	if err := f(); err != nil {
		return par.Recording{}, err
	}
	recs := make([]par.Recording, 0, runs)
	for range runs {
		var err error
		rec := par.Record(func() { err = f() })
		if err != nil {
			return par.Recording{}, err
		}
		recs = append(recs, rec)
	}
	slices.SortFunc(recs, func(a, b par.Recording) int {
		return cmp.Compare(a.SerialFraction(), b.SerialFraction())
	})
	return recs[len(recs)/2], nil
}

func summarize(name string, r par.Recording, threads int) row {
	out := row{
		Name:           name,
		SerialFraction: round(r.SerialFraction(), 4),
		Amdahl16:       round(r.Speedup(threads), 2),
		Threads:        threads,
		MS:             round(float64(r.Wall)/float64(time.Millisecond), 2),
		Loops:          len(r.Regions),
	}
	var under, total time.Duration
	for _, g := range r.Regions {
		if g.Items < 2 {
			continue
		}
		c := par.Chunks(threads, g.Items)
		if out.MinChunks == 0 || c < out.MinChunks {
			out.MinChunks = c
		}
		total += g.Time
		if c < threads {
			under += g.Time
		}
	}
	if total > 0 {
		out.Underfilled = round(float64(under)/float64(total), 4)
	}
	return out
}

func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

// modelRun loads the model at path for the given thread count and
// returns a function that runs it on s's synthetic input.
func modelRun(path string, s synth.Spec, threads int) (func() error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := onnx.Load(data, onnx.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	in := map[string]*onnx.Tensor{s.Input: onnx.NewTensor(s.Shape, s.InputData())}
	sess := m.NewSession()
	return func() error {
		_, err := sess.Run(context.Background(), in)
		return err
	}, nil
}

// anonymizeRun returns a function that anonymizes a 1080p frame with all
// four classes, with an engine for the given thread count; root is the
// repository (for testdata/).
func anonymizeRun(root string, threads int) (func() error, error) {
	e, err := veil.New(veil.WithThreads(threads))
	if err != nil {
		return nil, err
	}
	frame, err := frame1080p(root)
	if err != nil {
		return nil, err
	}
	p := veil.Params{Classes: []veil.Class{veil.Face, veil.LicensePlate, veil.Person, veil.Vehicle}}
	return func() error {
		_, err := e.Anonymize(context.Background(), frame, p)
		return err
	}, nil
}

// frame1080p composes a video-like 1920×1080 frame: the group photo (52
// faces) scaled to 1440×956 on the left, the street photo (a bus and its
// plate) scaled to 480×360 on the right, on grey.
func frame1080p(root string) (*image.RGBA, error) {
	frame := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	draw.Draw(frame, frame.Rect, image.NewUniform(color.Gray{128}), image.Point{}, draw.Src)
	for _, p := range []struct {
		file string
		to   image.Rectangle
	}{
		{"group.jpg", image.Rect(0, 62, 1440, 1018)},
		{"street.jpg", image.Rect(1440, 360, 1920, 720)},
	} {
		f, err := os.Open(filepath.Join(root, "testdata", p.file))
		if err != nil {
			return nil, err
		}
		img, err := veil.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.file, err)
		}
		xdraw.BiLinear.Scale(frame, p.to, img, img.Bounds(), draw.Src, nil)
	}
	return frame, nil
}

func init() {
	// One thread of Go code at a time: each loop's time is its own work,
	// the single-thread time of the N-thread code.
	runtime.GOMAXPROCS(1)
}
