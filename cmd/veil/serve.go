package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/server"
	"github.com/veilkit/veil/internal/taskstore"
)

const serveDescription = `
Serve answers the Celantur Container REST API v1 (POST /v1/file, GET
/v1/file/{id}/anonymised, /binary-mask, /instance-mask, /metadata,
/video/anonymised, /video/metadata, GET /v1/status, GET/DELETE /v1/task/list
and /v1/task/{id}) with veil's engine: clients of the Celantur container
switch by changing a URL.

Uploads are processed by -workers workers (tasks of v1 and of the Cloud API
v2 below share them); up to -queue tasks wait for one
(more: 503 with Retry-After). Uploads with the header x-is-async: true return
at once; the others wait for their task. A task not done after -task-timeout
of processing fails, with no output.

An upload's body goes to disk as it arrives. A declared length over
-max-upload-mb is refused (413) before the body is read; at most -max-uploads
bodies are received at once (more: 503 with Retry-After); a body that pauses
for -upload-idle-timeout, or arrives slower than -min-upload-rate on average,
is cut (408). A full disk is 507. After a crash, tasks whose input is intact
are queued again (3 starts at most). Uploads are kept in -input, results
in -output, and the task records, which survive a restart, in -db with the
Cloud API v2's tasks (those of each -output folder apart; records of an
earlier version in -output/tasks are moved there at start); delete them
with DELETE /v1/task/{id} or /v1/task/list?confirm=true. As
the Celantur container, which holds the data of one image that the next
upload overwrites, veil serve keeps the last -keep-sync synchronous uploads
(default 1; 0 keeps them all): when one ends, older ones are deleted. By
default both are in the user's state folder, not the working directory:
$XDG_STATE_HOME/veil/serve (~/.local/state/veil/serve) on Unix, veil/serve
in the user's configuration folder on Windows and macOS. The server prints
where they are when it starts.

As Celantur's API mode, the server takes start-up defaults: -a the classes
an upload that names none anonymizes (default face and license-plate; an
upload may still name any class), -format the tiling of one that gives no
format, -save-mask the masks an image's task makes (a mask not made is 422).

Beside it, serve answers the Celantur Cloud API v2 (POST /v2/task, GET
/v2/task/{id}, /status, /metadata, GET /v2/task/list, POST
/v2/task/{id}/start, DELETE /v2/task/{id}/files, POST /v2/signin): a task is
created, its image uploaded to a signed, expiring upload_url, and its result
downloaded from anonymized_url. Its tasks are kept in -db (a SQLite file in
the data folder by default; postgres://... to share them between processes),
its uploads and results in -bucket (a folder in the data folder by default,
served under /blob/; s3://BUCKET?endpoint=...&region=... for an S3-compatible
bucket that clients upload to directly). Processes that share -db and
-bucket share the work: -workers-only runs workers without the HTTP API,
-v2-workers 0 an API without workers. A worker holds its task for -lease,
renewed while it works; when a worker dies its task is taken over after
that. With -users FILE, POST /v2/signin gives expiring tokens and each user
sees only their own tasks.

The server binds to 127.0.0.1 by default. With -token every endpoint but
GET /v1/status requires the header "Authorization: Bearer TOKEN".`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Bool("api", false, "accepted and ignored, as in Celantur's start command (celantur.sh --api ...):\nveil serve always runs the REST API")
	addr := fs.String("addr", "127.0.0.1:7000", "listen on `host:port`")
	endpoint := fs.String("api-endpoint", "", "the `URL` the returned links start with (default http://ADDR/)")
	data, dataErr := defaultDataDir()
	input := fs.String("input", filepath.Join(data, "input"), "keep the uploads in `folder`")
	output := fs.String("output", filepath.Join(data, "output"), "keep the results in `folder`")
	token := fs.String("token", "", "require \"Authorization: Bearer `TOKEN`\" (default: no authentication)")
	workers := fs.Int("workers", 2, "tasks processed at once, v1's and the Cloud API v2's together")
	queue := fs.Int("queue", 64, "tasks that may wait for a worker")
	maxMB := fs.Int64("max-upload-mb", 512, "largest upload in `MiB`")
	maxPixels := fs.Int("max-pixels", 100_000_000, "largest image in pixels")
	threads := fs.Int("threads", 0, "goroutines per model run (0: GOMAXPROCS)")
	maxUploads := fs.Int("max-uploads", 16, "uploads received at once (more: 503 with Retry-After)")
	uploadIdle := fs.Duration("upload-idle-timeout", 30*time.Second, "fail an upload whose body pauses for `duration` (408)")
	minRate := fs.Int64("min-upload-rate", 64, "fail an upload whose body arrives slower than `KiB/s` on average (408)")
	taskTimeout := fs.Duration("task-timeout", 10*time.Minute, "fail a task that is not done after `duration` of processing")
	keepSync := fs.Int("keep-sync", 1, "keep the tasks and files of the last `N` synchronous uploads (0: all)")
	db := fs.String("db", "", "the task store of the Cloud API v2 and of v1's task records: `DSN` sqlite:PATH or postgres://...\n(default: a SQLite file in the data folder)")
	bucket := fs.String("bucket", "", "the Cloud API v2's blob store: a folder or s3://`URL` (default: a folder in the data folder)")
	usersFile := fs.String("users", "", "enable POST /v2/signin for the users of `file` (name:bcrypt-hash lines); each sees only their tasks")
	workersOnly := fs.Bool("workers-only", false, "run only Cloud API v2 workers (no HTTP API), sharing -db and -bucket with API processes")
	v2Workers := fs.Int("v2-workers", -1, "Cloud API v2 workers in this process, which share the -workers places with v1's\n(default: -workers; 0: none, for an API process whose tasks -workers-only processes process)")
	lease := fs.Duration("lease", 30*time.Second, "a Cloud API v2 worker's hold on its task: a task whose worker died is taken over after `duration`")
	classes := []veil.Class{veil.Face, veil.LicensePlate}
	fs.Var(&classesValue{list: &classes}, "a",
		"anonymize objects of `class` face, license-plate, person or vehicle in uploads that\n"+
			"name no class; repeat the flag or separate classes with commas")
	var defaults veil.Params
	fs.Var(paramValue{&defaults, "format", "whole"}, "format", "`tiling` of uploads that give no format")
	saveMask := "all"
	fs.Var(choiceValue{&saveMask, []string{"all", "binary", "instance", "none"}}, "save-mask",
		"the masks an image's task makes: all, binary, instance or none")
	fs.Usage = commandUsage(fs, "veil serve [--addr 127.0.0.1:7000] [--api-endpoint URL] [--input DIR] [--output DIR] [--token T]\n"+
		"           [-a CLASS ...] [--format F] [--save-mask all|binary|instance|none]", serveDescription)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"serve", fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *workers < 1 || *queue < 1 || *maxMB < 1 || *maxPixels < 1 || *threads < 0 || *taskTimeout <= 0 ||
		*maxUploads < 1 || *uploadIdle <= 0 || *minRate < 1 || *keepSync < 0 || *lease < time.Second {
		return &usageError{"serve", errors.New("-workers, -queue, -max-upload-mb, -max-pixels, -max-uploads, -upload-idle-timeout, " +
			"-min-upload-rate and -task-timeout must be positive, -keep-sync not negative, -lease at least 1s")}
	}
	if *v2Workers < 0 {
		*v2Workers = *workers
	}
	if *workersOnly && *v2Workers == 0 {
		return &usageError{"serve", errors.New("-workers-only with -v2-workers 0 would process nothing")}
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["input"] || !set["output"] {
		if dataErr != nil {
			return fmt.Errorf("no default data folder (%v): set -input and -output", dataErr)
		}
		// The state folder holds the uploads, which may be personal
		// data: only the user may read it.
		if err := os.MkdirAll(data, 0o700); err != nil {
			return err
		}
	}
	var opts []veil.Option
	if *threads > 0 {
		opts = append(opts, veil.WithThreads(*threads))
	}
	engine, err := veil.New(opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *endpoint == "" {
		*endpoint = "http://" + ln.Addr().String() + "/"
	}
	logger := log.New(stderr, "veil serve: ", log.LstdFlags)
	// v1's workers and the Cloud API v2's share -workers places: the
	// process runs at most that many tasks at once, whichever API they
	// came from.
	var slots chan struct{}
	if !*workersOnly {
		slots = make(chan struct{}, *workers)
	}
	v2opts := v2Options{db: *db, bucket: *bucket, users: *usersFile, data: data,
		workersOnly: *workersOnly, endpoint: *endpoint, token: *token, engine: engine, workers: *v2Workers, slots: slots,
		lease: *lease, maxPixels: *maxPixels, maxUpload: *maxMB << 20, logf: logger.Printf}
	if err := v2opts.setDefaults(); err != nil {
		ln.Close()
		return err
	}
	v2, tasks, v2Close, err := openV2(ctx, v2opts)
	if err != nil {
		ln.Close()
		return err
	}
	defer v2Close()
	fmt.Fprintf(stdout, "veil serve: %s\n", v2opts.where())
	if *workersOnly {
		ln.Close()
		fmt.Fprintf(stdout, "veil serve: Cloud API v2 workers only (Ctrl-C to stop)\n")
		<-ctx.Done()
		return nil
	}
	srv, err := server.New(server.Config{
		Engine:            engine,
		APIEndpoint:       *endpoint,
		InputDir:          *input,
		OutputDir:         *output,
		Records:           tasks,
		Token:             *token,
		Workers:           *workers,
		Slots:             slots,
		Queue:             *queue,
		MaxUploadBytes:    *maxMB << 20,
		MaxPixels:         *maxPixels,
		TaskTimeout:       *taskTimeout,
		MaxUploads:        *maxUploads,
		UploadIdleTimeout: *uploadIdle,
		MinUploadRate:     *minRate << 10,
		Logf:              logger.Printf,
		Classes:           classes,
		Format:            defaults.Format,
		SaveMask:          saveMask,
		KeepSync:          cmp.Or(*keepSync, -1),
	})
	if err != nil {
		ln.Close()
		return err
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); *token == "" && !net.ParseIP(host).IsLoopback() {
		logger.Printf("warning: listening on %s without -token: anyone who can reach it can use it", ln.Addr())
	}
	// The bodies of uploads are read within deadlines of their own (see
	// -upload-idle-timeout); an idle keep-alive connection is closed.
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	v2 = server.AccessLog(logger.Printf, v2)
	mux.Handle("/v2/", v2)
	mux.Handle("/blob/", v2)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: logger}
	fmt.Fprintf(stdout, "veil serve: uploads in %s, results in %s, task records in %s\n",
		*input, *output, taskstore.Redact(v2opts.db))
	fmt.Fprintf(stdout, "veil serve: listening on http://%s/ (API endpoint %s; Ctrl-C to stop)\n", ln.Addr(), *endpoint)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err = <-done:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	srv.Close(sctx) // before v2Close closes the task store it writes to
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// defaultDataDir returns the folder veil serve keeps its uploads, results
// and task records in when -input and -output are not given: veil/serve
// in the user's state folder ($XDG_STATE_HOME, or ~/.local/state when that
// is unset or not absolute) on Unix, and veil/serve in os.UserConfigDir on
// Windows, macOS, iOS and Plan 9, which have no state folder of their own.
// It is never in the working directory, so that running veil serve from
// a source tree does not write into it.
func defaultDataDir() (string, error) {
	return dataDirFor(runtime.GOOS, os.Getenv, os.UserHomeDir, os.UserConfigDir)
}

// dataDirFor is defaultDataDir for the operating system goos, with the
// environment, home and configuration folders that the functions return.
func dataDirFor(goos string, getenv func(string) string, home, config func() (string, error)) (string, error) {
	switch goos {
	case "windows", "darwin", "ios", "plan9":
		dir, err := config()
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, "veil", "serve"), nil
	}
	if dir := getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "veil", "serve"), nil
	}
	dir, err := home()
	if err != nil {
		return "", err
	}
	if dir == "" {
		return "", errors.New("no home folder")
	}
	return filepath.Join(dir, ".local", "state", "veil", "serve"), nil
}
