// Package cloudapi is veil's Celantur Cloud API v2 (veil serve, under
// /v2/): tasks are created with their parameters (POST /v2/task), their
// image is uploaded to a signed URL of the blob store, workers claim them
// from the task store, anonymize them with the veil engine and write the
// outputs to the blob store, where clients download them through signed
// URLs (GET /v2/task/{id}).
//
// The task store (internal/taskstore) and the blob store
// (internal/blobstore) may be shared by several processes: an API
// process, a worker process (RunWorkers, veil serve --workers-only) or
// both in one. An upload to veil's own /blob/ handler queues its task at
// once; an upload straight into an S3 bucket is found by a watcher that
// every WatchInterval looks at the tasks waiting for their upload.
//
// Spec choices: numbers are JSON numbers in every answer (the spec's GET
// examples show some as strings; a create request may give a number as a
// string too). Every parameter is accepted with hyphens or underscores
// (license-plate, license_plate) and answered with underscores. Task ids
// are the task store's, increasing in the order of creation. Times are
// UTC, as "2006-01-02T15:04:05.000000". kernel_size_person defaults to
// 95, as the spec's table and the veil engine have it (the spec's
// example answer shows 91). webhook_status is null without a webhook,
// "set" until the task is done, then "sent" or "failed". A task whose
// files were deleted answers metadata with the spec's 404 "Task is
// deleted. Please upload a new task.".
package cloudapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/blobstore"
	"github.com/veilkit/veil/internal/taskstore"
)

// Config configures the API and its workers. Engine (for workers), Tasks
// and Blobs are required; the zero value of the others is their default.
type Config struct {
	Engine *veil.Engine
	Tasks  taskstore.Store
	Blobs  *blobstore.Store
	// BaseURL is the API's public URL, such as http://localhost:7000/,
	// the base of metadata_url (default: the request's host).
	BaseURL string
	// Token, when set, is required ("Authorization: Bearer TOKEN" or the
	// raw token) by every route but POST /v2/signin.
	Token string
	// Users, when not empty, are the users who may sign in (POST
	// /v2/signin), by name, with their bcrypt password hashes (see
	// ReadUsers); each sees only their own tasks.
	Users map[string][]byte
	// Secret signs the access tokens of signin. Every process serving the
	// same users must have the same; empty, it is derived from Users (so
	// processes given the same users file agree).
	Secret []byte
	// Workers is the number of tasks processed at once by Start or
	// RunWorkers (0: Start runs no worker, the API only).
	Workers int
	// Slots, when not nil, is shared with other processing in the process
	// (veil serve's v1 API): a worker holds one of its places from before
	// it claims a task until the task ends, so that all of them together
	// process at most cap(Slots) tasks at once.
	Slots chan struct{}
	// MaxPixels bounds the pixels of an image (default 100 million),
	// MaxUploadBytes the size of an upload (default 512 MiB): a larger
	// one fails with IMAGE_DEFECT.
	MaxPixels      int
	MaxUploadBytes int64
	// Logf logs what no request can be told (default log.Printf).
	Logf func(format string, args ...any)
	// HTTPClient posts the webhooks (default: a client with a 10 s
	// timeout).
	HTTPClient *http.Client

	// UploadExpiry is the life of an upload URL (default 3600 s),
	// DownloadExpiry that of the download URLs (default 14400 s).
	UploadExpiry, DownloadExpiry time.Duration
	// WatchInterval is how often the watcher looks for uploads (default
	// 500 ms), PollInterval how often an idle worker looks for a task
	// (default 200 ms).
	WatchInterval, PollInterval time.Duration
	// Lease is a worker's lease on its task (default 30 s), renewed every
	// third of it.
	Lease time.Duration
	// WebhookAttempts is the number of posts of a webhook (default 5),
	// WebhookBackoff the wait before the first retry (default 1 s,
	// doubled after each).
	WebhookAttempts int
	WebhookBackoff  time.Duration
}

// withDefaults returns c with its defaults set.
func (c Config) withDefaults() Config {
	if c.MaxPixels <= 0 {
		c.MaxPixels = 100_000_000
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 512 << 20
	}
	if c.Logf == nil {
		c.Logf = log.Printf
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.UploadExpiry, 3600*time.Second)
	setDur(&c.DownloadExpiry, 14400*time.Second)
	setDur(&c.WatchInterval, 500*time.Millisecond)
	setDur(&c.PollInterval, 200*time.Millisecond)
	setDur(&c.Lease, 30*time.Second)
	setDur(&c.WebhookBackoff, time.Second)
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 5
	}
	if c.Secret == nil && len(c.Users) > 0 {
		c.Secret = usersSecret(c.Users)
	}
	return c
}

// API serves the Cloud API v2. Create it with New.
type API struct {
	cfg  Config
	core *core
	mux  *http.ServeMux

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns the API of cfg.
func New(cfg Config) (*API, error) {
	if cfg.Tasks == nil || cfg.Blobs == nil {
		return nil, errors.New("cloudapi: Config.Tasks and Config.Blobs are required")
	}
	if cfg.Workers > 0 && cfg.Engine == nil {
		return nil, errors.New("cloudapi: Config.Engine is required for workers")
	}
	cfg = cfg.withDefaults()
	a := &API{cfg: cfg, core: newCore(cfg)}
	a.routes()
	return a, nil
}

// Handler returns the HTTP handler of the API: the routes under /v2/ and,
// for a local blob folder, its signed URLs under /blob/.
func (a *API) Handler() http.Handler {
	m := http.NewServeMux()
	m.Handle("/v2/", a.auth(a.mux))
	if h := a.cfg.Blobs.Handler(); h != nil {
		m.Handle("/blob/", h)
	}
	return m
}

// Uploaded tells the API that key was stored (blobstore.Options.OnPut):
// an upload's task is queued at once, without waiting for the watcher.
func (a *API) Uploaded(key string) {
	id, ok := originalID(key)
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		t, err := a.cfg.Tasks.Get(ctx, id)
		if err == nil {
			err = a.core.checkUpload(ctx, t)
		}
		if err != nil && !errors.Is(err, taskstore.ErrNotFound) {
			a.cfg.Logf("cloudapi: task %d: upload: %v", id, err)
		}
	}()
}

// Start starts the watcher of uploads and Config.Workers workers; they
// run until ctx is done or Close is called.
func (a *API) Start(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		return
	}
	ctx, a.cancel = context.WithCancel(ctx)
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		a.core.run(ctx, a.cfg.Workers)
	}()
}

// Close stops the watcher and the workers and waits for them (a task
// being processed is left to the lease's end, when another worker takes
// it over) and for the webhooks being sent.
func (a *API) Close() error {
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	a.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// RunWorkers runs the watcher of uploads and cfg.Workers workers
// (at least one) until ctx is done: the processing side of the API,
// without its HTTP routes (veil serve --workers-only).
func RunWorkers(ctx context.Context, cfg Config) error {
	if cfg.Tasks == nil || cfg.Blobs == nil || cfg.Engine == nil {
		return errors.New("cloudapi: Config.Engine, Tasks and Blobs are required")
	}
	cfg = cfg.withDefaults()
	newCore(cfg).run(ctx, max(1, cfg.Workers))
	return nil
}

// Keys of a task's objects in the blob store.
func keyPrefix(id int64) string   { return fmt.Sprintf("tasks/%d/", id) }
func keyOriginal(id int64) string { return keyPrefix(id) + "original" }
func keyMetadata(id int64) string { return keyPrefix(id) + "metadata.json" }
func keyBinary(id int64) string   { return keyPrefix(id) + "binary-mask.png" }
func keyInstance(id int64) string { return keyPrefix(id) + "instance-mask.png" }

// keyAnonymized is the key of the anonymized image, in the format of the
// upload ("jpeg" or "png").
func keyAnonymized(id int64, format string) string {
	return keyPrefix(id) + "anonymized." + format
}

// originalID returns the task id of an upload's key.
func originalID(key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, "tasks/")
	if !ok {
		return 0, false
	}
	ids, name, ok := strings.Cut(rest, "/")
	if !ok || name != "original" {
		return 0, false
	}
	id, err := strconv.ParseInt(ids, 10, 64)
	return id, err == nil
}

// result is what processing found, kept as the task's Result.
type result struct {
	Detections int     `json:"detections"`
	Format     string  `json:"format"` // of the upload and the anonymized image: jpeg or png
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Seconds    float64 `json:"seconds"`
}

func taskResult(t taskstore.Task) result {
	var r result
	if len(t.Result) > 0 {
		json.Unmarshal(t.Result, &r)
	}
	return r
}

func taskParams(t taskstore.Task) (Params, error) {
	p := defaultParams()
	err := json.Unmarshal(t.Params, &p)
	return p, err
}
