// Command loadtest puts veil serve under load: N concurrent clients post
// the committed test images to POST /v1/file, a mix of synchronous and
// asynchronous uploads (the async ones then poll GET /v1/task/{id}),
// download every result and check that every task ended done with its
// files present: none lost. It reports requests per second and the
// p50/p99 latencies.
//
// By default it starts the server in-process on loopback (temporary
// folders); -url targets a running veil serve instead.
//
// With -big N it checks instead that the upload phase is bounded: N
// uploads of -big-mb MiB at once (the first image, then zeros), each body
// generated as it is sent, all ending done; it reports the peak RSS
// (VmHWM) of the process, in-process server and load test together, or of
// the server process -pid with -url. The bound, -max-rss-mb, is 1024 MiB
// for 8 uploads of 400 MiB (-big 8): uploads go to disk as they arrive,
// so the peak is that of processing (2 workers), whatever the upload size.
// Measured on a 2-core AMD EPYC: 660 MiB (692 MiB for 8 uploads of 1 MiB);
// before uploads were streamed, 8815 MiB. It needs N × -big-mb of free
// disk in the temporary folder.
//
// With -v2 it loads the Cloud API v2 as it is deployed to scale out: it
// starts one API process (veil serve -v2-workers 0) and N worker processes
// (veil serve -workers-only) sharing a task store (-db; default a SQLite
// file) and a bucket (-bucket; default a folder), for each N of
// -v2-worker-procs, and reports the tasks per second each deployment
// sustains: -v2-tasks tasks created, uploaded to their upload_url, waited
// for and downloaded by -clients clients. Every task must end done.
//
// Usage:
//
//	go run ./bench/cmd/loadtest [-clients 4] [-requests 40] [-async 0.5] [-url http://127.0.0.1:7000] [-token T]
//	go run ./bench/cmd/loadtest -big 8 [-big-mb 400] [-max-rss-mb 1024] [-url URL -pid PID]
//	go run ./bench/cmd/loadtest -v2 [-v2-worker-procs 1,2] [-v2-tasks 100] [-db postgres://...] [-bucket s3://...]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/server"
)

func main() {
	clients := flag.Int("clients", 4, "concurrent clients")
	requests := flag.Int("requests", 40, "uploads in all")
	asyncFrac := flag.Float64("async", 0.5, "fraction of the uploads sent with x-is-async: true")
	target := flag.String("url", "", "base URL of a running veil serve (default: start one in-process)")
	token := flag.String("token", "", "bearer token for -url")
	workers := flag.Int("workers", 2, "workers of the in-process server")
	queue := flag.Int("queue", 64, "queue of the in-process server")
	images := flag.String("images", "testdata/plate.jpg,testdata/street.jpg", "comma-separated images to post")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	big := flag.Int("big", 0, "instead: post this many uploads of -big-mb MiB at once and report the peak RSS")
	bigMB := flag.Int64("big-mb", 400, "size of each -big upload in `MiB`")
	maxRSS := flag.Int64("max-rss-mb", 1024, "with -big: fail when the peak RSS exceeds this many `MiB`")
	pid := flag.String("pid", "self", "with -big and -url: the process id of the server, whose peak RSS is read")
	v2 := flag.Bool("v2", false, "instead: load the Cloud API v2 of veil serve processes started here")
	v2Procs := flag.String("v2-worker-procs", "1,2", "with -v2: comma-separated numbers of worker processes, one run each")
	v2PerProc := flag.Int("v2-per-proc", 1, "with -v2: workers in each worker process")
	v2Threads := flag.Int("v2-threads", 0, "with -v2: goroutines per model run in each process (0: GOMAXPROCS)")
	v2Tasks := flag.Int("v2-tasks", 100, "with -v2: tasks per run")
	v2Params := flag.String("v2-params", `{"anonymization_method":"blur","face":true,"license_plate":true}`, "with -v2: the JSON parameters of each task")
	db := flag.String("db", "", "with -v2: the task store, sqlite:PATH or postgres://... (default: a SQLite file in a temporary folder)")
	bucket := flag.String("bucket", "", "with -v2: the bucket, a folder or s3://... (default: a temporary folder)")
	veilBin := flag.String("veil", "", "with -v2: the veil command (default: built from ./cmd/veil)")
	flag.Parse()

	var files [][]byte
	var names []string
	for _, n := range filepath.SplitList(replaceCommas(*images)) {
		b, err := os.ReadFile(n)
		if err != nil {
			log.Fatal(err)
		}
		files, names = append(files, b), append(names, filepath.Base(n))
	}

	if *v2 {
		os.Exit(mainV2(v2Config{veilBin: *veilBin, db: *db, bucket: *bucket, perProc: *v2PerProc, threads: *v2Threads,
			clients: *clients, tasks: *v2Tasks, params: *v2Params, files: files}, *v2Procs, names, *timeout))
	}

	base := *target
	var dir string // of the in-process server
	if base == "" {
		var err error
		dir, err = os.MkdirTemp("", "veil-loadtest")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		e, err := veil.New()
		if err != nil {
			log.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		base = "http://" + ln.Addr().String()
		srv, err := server.New(server.Config{
			Engine: e, APIEndpoint: base + "/", Workers: *workers, Queue: *queue,
			MaxUploadBytes: max(512, *bigMB+16) << 20,
			InputDir:       filepath.Join(dir, "input"), OutputDir: filepath.Join(dir, "output"),
		})
		if err != nil {
			log.Fatal(err)
		}
		hs := &http.Server{Handler: srv.Handler()}
		go hs.Serve(ln)
		defer func() {
			hs.Close()
			srv.Close(context.Background())
		}()
		fmt.Printf("in-process server at %s: %d workers, queue %d, GOMAXPROCS %d\n", base, *workers, *queue, runtimeProcs())
	}
	c := &client{base: base, token: *token, http: &http.Client{Timeout: *timeout}}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	if *big > 0 {
		failed := runBig(ctx, c, files[0], *big, *bigMB<<20)
		rss, err := peakRSS(*pid)
		if err != nil {
			log.Fatal(err)
		}
		what := "server and load test together, in-process"
		if *target != "" {
			what = "server process " + *pid
		}
		fmt.Printf("peak RSS (VmHWM, %s): %d MiB; the bound: %d MiB\n", what, rss>>20, *maxRSS)
		if failed > 0 || rss > *maxRSS<<20 {
			if dir != "" {
				os.RemoveAll(dir)
			}
			os.Exit(1)
		}
		return
	}

	type outcome struct {
		async       bool
		post, total time.Duration // the POST; upload to done
		id          string
		err         error
		rejected503 int
	}
	jobs := make(chan int)
	results := make(chan outcome, *requests)
	var wg sync.WaitGroup
	start := time.Now()
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				o := outcome{async: rand.Float64() < *asyncFrac}
				img := k % len(files)
				t0 := time.Now()
				var err error
				for {
					var retry time.Duration
					o.id, retry, err = c.upload(ctx, names[img], files[img], o.async)
					if retry == 0 || ctx.Err() != nil {
						break
					}
					o.rejected503++
					time.Sleep(retry)
				}
				o.post = time.Since(t0)
				if err == nil && o.async {
					err = c.waitDone(ctx, o.id)
				}
				o.total = time.Since(t0)
				if err == nil {
					err = c.checkFiles(ctx, o.id)
				}
				o.err = err
				results <- o
			}
		}()
	}
	for k := range *requests {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(results)

	var syncLat, asyncPost, asyncTotal []time.Duration
	var failed, rejected int
	var ids []string
	for o := range results {
		rejected += o.rejected503
		if o.err != nil {
			failed++
			fmt.Printf("lost: %v\n", o.err)
			continue
		}
		ids = append(ids, o.id)
		if o.async {
			asyncPost, asyncTotal = append(asyncPost, o.post), append(asyncTotal, o.total)
		} else {
			syncLat = append(syncLat, o.post)
		}
	}
	// Every task is listed done.
	tasks, err := c.tasks(ctx)
	if err != nil {
		log.Fatal(err)
	}
	status := map[string]string{}
	for _, t := range tasks {
		status[t.ID] = t.Status
	}
	notDone := 0
	for _, id := range ids {
		if status[id] != "done" {
			notDone++
			fmt.Printf("task %s: %q in the task list\n", id, status[id])
		}
	}

	fmt.Printf("%d uploads (%d sync, %d async) by %d clients in %.1f s: %.2f uploads/s\n",
		*requests, len(syncLat), len(asyncPost), *clients, elapsed.Seconds(), float64(*requests)/elapsed.Seconds())
	fmt.Printf("sync  POST (processing included):  %s\n", pct(syncLat))
	fmt.Printf("async POST (accepted):              %s\n", pct(asyncPost))
	fmt.Printf("async upload → done (polled):       %s\n", pct(asyncTotal))
	fmt.Printf("503 queue-full answers (retried): %d\n", rejected)
	fmt.Printf("tasks done with anonymised image, masks and metadata present: %d/%d; lost: %d\n",
		len(ids)-notDone, *requests, failed+notDone)
	if failed+notDone > 0 {
		os.Exit(1)
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

func replaceCommas(s string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte(","), []byte(string(filepath.ListSeparator))))
}

func pct(d []time.Duration) string {
	if len(d) == 0 {
		return "-"
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return fmt.Sprintf("p50 %4d ms  p99 %4d ms  (n=%d)", q(0.50).Milliseconds(), q(0.99).Milliseconds(), len(d))
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) do(ctx context.Context, method, path string, body io.Reader, h http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// upload posts an image; retry > 0 when the server answered 503.
func (c *client) upload(ctx context.Context, name string, data []byte, async bool) (id string, retry time.Duration, err error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	pw, _ := mw.CreateFormFile("fileobject", name)
	pw.Write(data)
	mw.Close()
	h := http.Header{"Content-Type": {mw.FormDataContentType()}}
	if async {
		h.Set("x-is-async", "true")
	}
	resp, b, err := c.do(ctx, "POST", "/v1/file?license-plate=True&face=True", &body, h)
	if err != nil {
		return "", 0, err
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return "", time.Duration(max(1, s)) * time.Second, nil
	}
	if resp.StatusCode != 200 {
		return "", 0, fmt.Errorf("POST /v1/file: %s %s", resp.Status, b)
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
		return "", 0, fmt.Errorf("POST /v1/file: %v %s", err, b)
	}
	return r.ID, 0, nil
}

func (c *client) waitDone(ctx context.Context, id string) error {
	for {
		resp, b, err := c.do(ctx, "GET", "/v1/task/"+id, nil, nil)
		if err != nil {
			return err
		}
		var t struct {
			Status, Error string
		}
		if resp.StatusCode != 200 || json.Unmarshal(b, &t) != nil {
			return fmt.Errorf("GET /v1/task/%s: %s %s", id, resp.Status, b)
		}
		switch t.Status {
		case "done":
			return nil
		case "failed":
			return fmt.Errorf("task %s failed: %s", id, t.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *client) checkFiles(ctx context.Context, id string) error {
	for _, p := range []string{"anonymised", "binary-mask", "instance-mask", "metadata"} {
		resp, b, err := c.do(ctx, "GET", "/v1/file/"+id+"/"+p, nil, nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || len(b) == 0 {
			return fmt.Errorf("GET /v1/file/%s/%s: %s %s", id, p, resp.Status, b)
		}
	}
	return nil
}

type taskInfo struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (c *client) tasks(ctx context.Context) ([]taskInfo, error) {
	resp, b, err := c.do(ctx, "GET", "/v1/task/list", nil, nil)
	if err != nil {
		return nil, err
	}
	var ts []taskInfo
	if resp.StatusCode != 200 || json.Unmarshal(b, &ts) != nil {
		return nil, fmt.Errorf("GET /v1/task/list: %s %s", resp.Status, b)
	}
	return ts, nil
}
