package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/servetest"
	"github.com/veilkit/veil/internal/simd"
	"github.com/veilkit/veil/internal/taskstore"
	"github.com/veilkit/veil/internal/v2client"
)

// v2Config is a run of the Cloud API v2 mode (-v2).
type v2Config struct {
	veilBin      string   // the veil command
	db, bucket   string   // shared by the processes ("": in dir)
	dir          string   // temporary folder
	workerProcs  []int    // deployments: this many worker processes each
	perProc      int      // workers per worker process
	threads      int      // goroutines per model run (0: GOMAXPROCS)
	clients      int      // concurrent clients
	tasks        int      // tasks per deployment
	params       string   // JSON parameters of each task
	files        [][]byte // images, uploaded in turn
	contentTypes []string
}

// runV2 measures, for each number of worker processes in cfg.workerProcs,
// the tasks per second a deployment of one API process (veil serve
// -v2-workers 0) and that many worker processes (veil serve
// -workers-only) sustains, and checks that every task ended done with a
// downloadable result. It returns the number of tasks that did not.
func runV2(ctx context.Context, cfg v2Config) (failed int) {
	db, bucket := cfg.db, cfg.bucket
	if db == "" {
		db = "sqlite:" + filepath.Join(cfg.dir, "tasks.db")
	}
	if bucket == "" {
		bucket = filepath.Join(cfg.dir, "blobs")
	}
	fmt.Printf("Cloud API v2: task store %s, bucket %s; %d tasks per run from %d clients; %d worker(s) per process, -threads %d\n",
		taskstore.Redact(db), bucket, cfg.tasks, cfg.clients, cfg.perProc, cfg.threads)
	fmt.Printf("%-16s %8s %10s %10s %10s\n", "worker procs", "tasks", "seconds", "tasks/s", "p50 s")
	for _, n := range cfg.workerProcs {
		f, err := runV2Deployment(ctx, cfg, db, bucket, n)
		if err != nil {
			fmt.Printf("%d worker processes: %v\n", n, err)
			return cfg.tasks
		}
		failed += f
	}
	return failed
}

func runV2Deployment(ctx context.Context, cfg v2Config, db, bucket string, n int) (failed int, err error) {
	common := []string{"serve", "-db", db, "-bucket", bucket, "-threads", fmt.Sprint(cfg.threads)}
	var procs []*servetest.Process
	defer func() {
		for _, p := range procs {
			p.Stop(30 * time.Second)
		}
	}()
	start := func(args ...string) (*servetest.Process, error) {
		cmd := exec.Command(cfg.veilBin, append(common, args...)...)
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(cfg.dir, "state"))
		p, err := servetest.Start(cmd, time.Minute)
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	api, err := start("-addr", "127.0.0.1:0", "-v2-workers", "0")
	if err != nil {
		return 0, err
	}
	for range n {
		if _, err := start("-workers-only", "-workers", fmt.Sprint(cfg.perProc)); err != nil {
			return 0, err
		}
	}
	c := &v2client.Client{Base: api.URL}
	jobs := make(chan int)
	var (
		mu   sync.Mutex
		lats []time.Duration
		errs []error
	)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range cfg.clients {
		wg.Go(func() {
			for k := range jobs {
				err := v2Task(ctx, c, cfg, k)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lats = append(lats, time.Since(t0))
				}
				mu.Unlock()
			}
		})
	}
	for k := range cfg.tasks {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(t0)
	for _, err := range errs {
		fmt.Printf("lost: %v\n", err)
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	p50 := 0.0
	if len(lats) > 0 {
		p50 = lats[len(lats)/2].Seconds()
	}
	fmt.Printf("%-16d %8d %10.1f %10.2f %10.1f\n", n, len(lats), elapsed.Seconds(), float64(len(lats))/elapsed.Seconds(), p50)
	return len(errs), nil
}

// v2Task creates, uploads and waits for one task, then downloads and
// decodes its anonymized image.
func v2Task(ctx context.Context, c *v2client.Client, cfg v2Config, k int) error {
	img := k % len(cfg.files)
	id, up, err := c.Create(ctx, cfg.params)
	if err != nil {
		return err
	}
	if err := c.Upload(ctx, up, cfg.contentTypes[img], cfg.files[img]); err != nil {
		return err
	}
	t, err := c.Wait(ctx, id, 100*time.Millisecond)
	if err != nil {
		return err
	}
	if t.Status != "done" {
		return fmt.Errorf("task %d %s (%s)", id, t.Status, t.FailureCause)
	}
	resp, err := http.Get(t.AnonymizedURL)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := veil.Decode(resp.Body); err != nil {
		return fmt.Errorf("task %d: anonymized image: %v", id, err)
	}
	return nil
}

// mainV2 is main with -v2: it returns the exit status.
func mainV2(cfg v2Config, procs string, names []string, timeout time.Duration) int {
	for _, f := range strings.Split(procs, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "loadtest: -v2-worker-procs %q: want positive numbers\n", procs)
			return 2
		}
		cfg.workerProcs = append(cfg.workerProcs, n)
	}
	for _, n := range names {
		ct := "image/jpeg"
		if strings.HasSuffix(strings.ToLower(n), ".png") {
			ct = "image/png"
		}
		cfg.contentTypes = append(cfg.contentTypes, ct)
	}
	dir, err := os.MkdirTemp("", "veil-loadtest-v2")
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cfg.dir = dir
	if cfg.veilBin == "" {
		cfg.veilBin = filepath.Join(dir, "veil")
		build := exec.Command("go", "build", "-o", cfg.veilBin, "./cmd/veil")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: building veil (run from the repository's root, or give -veil):", err)
			return 1
		}
	}
	fmt.Printf("GOMAXPROCS %d; %s\n", runtimeProcs(), simd.Describe())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if runV2(ctx, cfg) > 0 {
		return 1
	}
	return 0
}
