// Package server is veil's drop-in for the Celantur Container REST API v1
// (veil serve): the same endpoints, parameters, status codes and JSON
// bodies, over the veil engine, with the standard library's net/http.
//
// Uploads are received by at most MaxUploads requests at once, each body
// streamed to disk under a size limit and deadlines, and processed by a
// bounded pool of workers fed by a bounded queue, synchronous ones too
// (their request waits for the task), so the memory in use is bounded
// whatever the load; too many uploads, or a full queue, answer 503 with
// Retry-After. Each task has a record, kept in memory and written through
// to a database (Config.Records; by default a SQLite file in OUTPUT), that
// survives a restart. A task a crash interrupted is re-queued on the
// next start when its input is intact (at most maxAttempts starts in
// all; its record says so), else marked failed; what a crash left
// without a record (a partial upload, outputs) is removed.
//
// Files: the upload is INPUT/ID.EXT; the outputs are in OUTPUT/ID/:
// anonymised.png (lossless; encoded as asked on download),
// binary-mask.png and instance-mask.png (full size; scaled on download),
// metadata.json, or for a video anonymised.mp4 and metadata.json (the
// frames).
package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/atomicfile"
	"github.com/veilkit/veil/internal/taskstore"
)

// Config configures a Server. Engine, InputDir and OutputDir are
// required; the zero value of the others is their default.
type Config struct {
	Engine *veil.Engine
	// APIEndpoint is the base of the URLs the upload returns, such as
	// http://localhost:7000/ (Celantur's --api-endpoint).
	APIEndpoint string
	// InputDir holds the uploads, OutputDir the results.
	InputDir, OutputDir string
	// Records keeps the task records, such as the task store of the
	// Cloud API v2, so that both APIs keep theirs in one database; the
	// server does not close it. When it is nil, the server keeps them in
	// the SQLite file tasks.db in OutputDir, which it closes with Close.
	// Their kind, "v1:" and an ID kept in OutputDir/.task-records, is the
	// output folder's own: servers with output folders of their own may
	// share the store. Either way, the records that earlier versions kept
	// as files in OutputDir/tasks are moved into it at start.
	Records taskstore.RecordStore
	// Token, when set, is required as "Authorization: Bearer TOKEN" by
	// every endpoint but GET /v1/status.
	Token string
	// Workers is the number of tasks processed at once (default 2);
	// Queue the number of tasks that may wait for a worker (default 64).
	Workers, Queue int
	// Slots, when not nil, is shared with other processing in the process
	// (veil serve's Cloud API v2): a worker holds one of its places while
	// it processes a task, so that all of them together process at most
	// cap(Slots) tasks at once.
	Slots chan struct{}
	// MaxUploadBytes bounds the request body of an upload (default 512 MiB):
	// a larger declared Content-Length is refused (413) before the body
	// is read, and a body that proves larger is cut there. MaxPixels bounds
	// the pixels of an image (default 100 million).
	MaxUploadBytes int64
	MaxPixels      int
	// MaxUploads bounds the uploads whose body is being received at once
	// (default 16); more are answered 503 with Retry-After at once. A body
	// goes to disk as it arrives, so each takes little memory.
	MaxUploads int
	// UploadIdleTimeout fails an upload (408) whose body pauses this long
	// (default 30 s); MinUploadRate, in bytes per second (default 64 KiB/s),
	// one whose body takes longer than UploadIdleTimeout plus its declared
	// length (or MaxUploadBytes) at that rate.
	UploadIdleTimeout time.Duration
	MinUploadRate     int64
	// TaskTimeout bounds the processing of one task (default 10 min): a
	// task that runs longer ends failed, with no output.
	TaskTimeout time.Duration
	// RetryAfter is the Retry-After of a 503 for a full queue (default 1 s).
	RetryAfter time.Duration
	// Webhooks: attempts per notification (default 5), the wait before
	// the first retry (default 1 s, doubled after each), the timeout of
	// one post (default 10 s), posts in flight at once (default 16).
	WebhookAttempts    int
	WebhookBackoff     time.Duration
	WebhookTimeout     time.Duration
	WebhookConcurrency int
	// HTTPClient posts the webhooks (default: a client of its own).
	HTTPClient *http.Client
	// Logf logs a line per request and per change of a task's state
	// (queued, processing, done, failed), and what no request can be told
	// (default log.Printf).
	Logf func(format string, args ...any)

	// The start-up defaults of Celantur's API mode: Classes are what an
	// upload that names no class anonymizes (its -a flags; default face
	// and license-plate) and Format the tiling of one that gives no format
	// (--format; default whole). An upload may still name any class.
	Classes []veil.Class
	Format  string
	// SaveMask says which masks an image's task makes (--save-mask):
	// "all" (the default), "binary", "instance" or "none". Downloading a
	// mask that was not made is 422.
	SaveMask string
	// KeepSync is the number of synchronous uploads whose tasks and files
	// are kept: when a synchronous task ends, the finished synchronous
	// tasks older than the last KeepSync are deleted, files and records.
	// The default, 1, is the Celantur container's: it holds the data of
	// one image, which the next upload overwrites. Negative keeps them
	// all. Asynchronous tasks are kept until deleted.
	KeepSync int
}

// Server serves the API. Create it with New; Close it when done.
type Server struct {
	cfg        Config
	store      *store
	mux        *http.ServeMux
	jobs       chan string
	uploads    chan struct{} // a token per upload being received
	quit       chan struct{}
	workerWG   sync.WaitGroup
	procCtx    context.Context // cancelled when Close gives up waiting
	procCancel context.CancelFunc
	hookCtx    context.Context
	hookCancel context.CancelFunc
	hookWG     sync.WaitGroup
	hookSem    chan struct{}
	hookClient *http.Client
	closeOnce  sync.Once
	// closeRecs closes the record store the server opened (nil: it
	// opened none); recsOnce makes Close do so once.
	closeRecs func() error
	recsOnce  sync.Once
	closedMu  sync.RWMutex
	closed    bool
	// beforeRun, when set (by tests), is called by a worker before it
	// processes a task.
	beforeRun func(id string)
	// writeInput writes an upload's file name atomically (tests replace
	// it).
	writeInput func(name string, write func(io.Writer) error) error
}

// New opens the task store (re-queueing or failing the tasks a crash
// interrupted), starts the workers and returns the server.
func New(cfg Config) (*Server, error) {
	s, err := build(cfg)
	if err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

// build returns the server, not started.
func build(cfg Config) (_ *Server, err error) {
	if cfg.Engine == nil {
		return nil, errors.New("server: no engine")
	}
	if cfg.InputDir == "" || cfg.OutputDir == "" {
		return nil, errors.New("server: input and output folders are required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Workers, 2)
	def(&cfg.Queue, 64)
	def(&cfg.MaxPixels, 100_000_000)
	def(&cfg.MaxUploads, 16)
	def(&cfg.WebhookAttempts, 5)
	def(&cfg.WebhookConcurrency, 16)
	if cfg.KeepSync == 0 {
		cfg.KeepSync = 1
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 512 << 20
	}
	if cfg.MinUploadRate <= 0 {
		cfg.MinUploadRate = 64 << 10
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&cfg.TaskTimeout, 10*time.Minute)
	defDur(&cfg.UploadIdleTimeout, 30*time.Second)
	defDur(&cfg.RetryAfter, time.Second)
	defDur(&cfg.WebhookBackoff, time.Second)
	defDur(&cfg.WebhookTimeout, 10*time.Second)
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.APIEndpoint == "" {
		cfg.APIEndpoint = "http://127.0.0.1:7000/"
	}
	for _, c := range cfg.Classes {
		if c < veil.Face || c > veil.Vehicle {
			return nil, fmt.Errorf("server: unknown class %d", c)
		}
	}
	if cfg.Format != "" {
		var p veil.Params
		if err := p.Set("format", cfg.Format); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	switch cfg.SaveMask {
	case "":
		cfg.SaveMask = "all"
	case "all", "binary", "instance", "none":
	default:
		return nil, fmt.Errorf("server: save-mask %q: want all, binary, instance or none", cfg.SaveMask)
	}
	for _, d := range []string{cfg.InputDir, cfg.OutputDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	recs := cfg.Records
	var closeRecs func() error
	if recs == nil {
		var ts taskstore.Store
		ts, err = taskstore.Open(context.Background(), "sqlite:"+filepath.Join(cfg.OutputDir, "tasks.db"))
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		recs, closeRecs = ts, ts.Close
		defer func() {
			if err != nil { // build's result
				ts.Close()
			}
		}()
	}
	kind, err := recordKindOf(cfg.OutputDir)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	legacy := filepath.Join(cfg.OutputDir, "tasks")
	if n, err := importFiles(recs, kind, legacy); err != nil {
		return nil, fmt.Errorf("server: moving the task records of %s: %w", legacy, err)
	} else if n > 0 {
		cfg.Logf("moved %d task records from %s into the task store", n, legacy)
	}
	st, interrupted, err := openStore(recs, kind)
	if err != nil {
		return nil, fmt.Errorf("server: reading the task records: %w", err)
	}
	st.logf = cfg.Logf
	s := &Server{
		cfg:       cfg,
		store:     st,
		closeRecs: closeRecs,
		jobs:      make(chan string, cfg.Queue),
		uploads:   make(chan struct{}, cfg.MaxUploads),
		writeInput: func(name string, write func(io.Writer) error) error {
			return atomicfile.WriteFile(name, 0o666, write)
		},
		quit:       make(chan struct{}),
		hookSem:    make(chan struct{}, cfg.WebhookConcurrency),
		hookClient: cfg.HTTPClient,
	}
	if s.hookClient == nil {
		s.hookClient = &http.Client{}
	}
	s.procCtx, s.procCancel = context.WithCancel(context.Background())
	s.hookCtx, s.hookCancel = context.WithCancel(context.Background())
	if err := s.recoverTasks(interrupted); err != nil {
		return nil, fmt.Errorf("server: recovering the interrupted tasks: %w", err)
	}
	if err := s.removeLeftovers(); err != nil {
		return nil, fmt.Errorf("server: removing what a crash left: %w", err)
	}
	s.routes()
	return s, nil
}

// start starts the workers.
func (s *Server) start() {
	for range s.cfg.Workers {
		s.workerWG.Add(1)
		go s.worker()
	}
}

func (s *Server) logf(format string, args ...any) { s.cfg.Logf(format, args...) }

// Handler returns the HTTP handler of the API, which logs a line per
// request through Config.Logf.
func (s *Server) Handler() http.Handler { return accessLog(s.logf, s.auth(jsonRouteErrors(s.mux))) }

// jsonRouteErrors answers the requests m has no route for (404, or 405
// for a path known under another method) with the API's JSON error body
// instead of the mux's plain text, keeping the mux's status and Allow
// header.
func jsonRouteErrors(m *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := m.Handler(r); pattern != "" {
			m.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{header: w.Header()}
		m.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusNotFound
		}
		writeJSON(w, code, detail{http.StatusText(code)})
	})
}

// statusRecorder keeps the status a handler writes and drops its body.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// Close stops taking uploads and waits, until ctx is done, for the tasks
// being processed and the webhooks being sent; then it cancels them. Tasks
// still queued are marked failed. Then it closes the record store it
// opened (none when Config.Records is set).
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closedMu.Lock()
		s.closed = true
		s.closedMu.Unlock()
		close(s.quit)
	})
	done := make(chan struct{})
	go func() {
		s.workerWG.Wait()
		s.hookWG.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.procCancel()
		s.hookCancel()
		<-done
	}
	for {
		select {
		case id := <-s.jobs:
			s.finish(id, 0, 0, 0, errors.New("the server shut down before the task started"))
		default:
			s.procCancel()
			s.hookCancel()
			s.recsOnce.Do(func() {
				if s.closeRecs != nil {
					if cerr := s.closeRecs(); err == nil {
						err = cerr
					}
				}
			})
			return err
		}
	}
}

func (s *Server) isClosed() bool {
	s.closedMu.RLock()
	defer s.closedMu.RUnlock()
	return s.closed
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v1/file", s.handleUpload)
	m.HandleFunc("GET /v1/file/{id}/anonymised", s.handleAnonymised)
	m.HandleFunc("GET /v1/file/{id}/binary-mask", s.handleMask("binary-mask.png"))
	m.HandleFunc("GET /v1/file/{id}/instance-mask", s.handleMask("instance-mask.png"))
	m.HandleFunc("GET /v1/file/{id}/metadata", s.handleMetadata)
	m.HandleFunc("GET /v1/file/{id}/video/anonymised", s.handleVideo)
	m.HandleFunc("GET /v1/file/{id}/video/metadata", s.handleVideoMetadata)
	m.HandleFunc("GET /v1/status", s.handleStatus)
	m.HandleFunc("GET /v1/task/list", s.handleTaskList)
	m.HandleFunc("DELETE /v1/task/list", s.handleDeleteAll)
	m.HandleFunc("GET /v1/task/{id}", s.handleTask)
	m.HandleFunc("DELETE /v1/task/{id}", s.handleDeleteTask)
	s.mux = m
}

// auth requires the bearer token, when one is set, on every endpoint
// but the health check.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	want := []byte(s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/status" &&
			subtle.ConstantTimeCompare([]byte(bearerToken(r.Header.Get("Authorization"))), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="veil"`)
			writeJSON(w, http.StatusUnauthorized, detail{"Not authenticated"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the token of an Authorization header value of the
// Bearer scheme, whose name is case-insensitive (RFC 9110, section 11.1),
// or "" for another scheme.
func bearerToken(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// detail is the body of the API's errors.
type detail struct {
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeDetail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, detail{clip(fmt.Sprintf(format, args...), maxDetail)})
}

// maxDetail bounds the length of an error's detail, in bytes: a detail
// echoes what the client sent, which may be long.
const maxDetail = 4096

// maxEcho bounds a value of the client's (an id, a parameter) echoed in a
// detail, in bytes.
const maxEcho = 64

// echo returns a value of the client's to put in a detail: clipped to
// maxEcho bytes.
func echo(s string) string { return clip(s, maxEcho) }

// clip returns s cut to at most n bytes (and whole UTF-8 characters),
// ending in "…" and its full length when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

var idRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validID reports whether id is an id this server hands out (which also
// keeps ids from naming paths outside its folders).
func validID(id string) bool { return idRE.MatchString(id) }

func (s *Server) outDir(id string) string { return filepath.Join(s.cfg.OutputDir, id) }

// url returns the API URL of path (which has no leading slash).
func (s *Server) url(path string) string {
	return strings.TrimRight(s.cfg.APIEndpoint, "/") + "/" + path
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	status := "RUNNING"
	code := http.StatusOK
	if s.isClosed() {
		status, code = "STOPPING", http.StatusInternalServerError
	}
	writeJSON(w, code, struct {
		TS         string `json:"ts"`
		APIVersion string `json:"api_version"`
		Status     string `json:"status"`
	}{time.Now().UTC().Format(tsFormat), "v1", status})
}
