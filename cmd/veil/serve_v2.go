package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/blobstore"
	"github.com/veilkit/veil/internal/cloudapi"
	"github.com/veilkit/veil/internal/taskstore"
)

// v2Options are what veil serve gives the Cloud API v2.
type v2Options struct {
	db, bucket, users, data string
	workersOnly             bool
	endpoint, token         string
	engine                  *veil.Engine
	workers, maxPixels      int
	slots                   chan struct{} // shared with v1's workers
	lease                   time.Duration
	maxUpload               int64
	logf                    func(string, ...any)
}

// setDefaults sets the task store and bucket that are not given to a
// SQLite file and a folder in the data folder, which it creates.
func (o *v2Options) setDefaults() error {
	if o.db == "" || o.bucket == "" {
		if o.data == "" {
			return errors.New("no default data folder: set -db and -bucket")
		}
		if err := os.MkdirAll(o.data, 0o700); err != nil {
			return err
		}
	}
	if o.db == "" {
		o.db = "sqlite:" + filepath.Join(o.data, "tasks.db")
	}
	if o.bucket == "" {
		o.bucket = filepath.Join(o.data, "blobs")
	}
	return nil
}

// where says where the Cloud API v2 keeps its tasks and files, the
// password of a PostgreSQL DSN left out.
func (o *v2Options) where() string {
	return fmt.Sprintf("Cloud API v2 tasks in %s, files in %s", taskstore.Redact(o.db), o.bucket)
}

// openV2 opens the Cloud API v2's stores (o's db and bucket, which
// setDefaults has set) and starts its watcher and workers (until ctx is
// done or stop is called); it returns the API's handler (nil with
// workersOnly) and its task store, which the Container REST API v1 keeps
// its task records in too. stop closes the stores.
func openV2(ctx context.Context, o v2Options) (h http.Handler, tasks taskstore.Store, stop func(), err error) {
	tasks, err = taskstore.Open(context.WithoutCancel(ctx), o.db)
	if err != nil {
		return nil, nil, nil, err
	}
	var api atomic.Pointer[cloudapi.API]
	blobs, err := blobstore.Open(context.WithoutCancel(ctx), o.bucket, blobstore.Options{BaseURL: o.endpoint, MaxPutBytes: o.maxUpload,
		OnPut: func(key string) {
			if a := api.Load(); a != nil {
				a.Uploaded(key)
			}
		}})
	if err != nil {
		tasks.Close()
		return nil, nil, nil, err
	}
	cfg := cloudapi.Config{Engine: o.engine, Tasks: tasks, Blobs: blobs, BaseURL: o.endpoint, Token: o.token,
		Workers: o.workers, Slots: o.slots, Lease: o.lease, MaxPixels: o.maxPixels, MaxUploadBytes: o.maxUpload, Logf: o.logf}
	if o.users != "" {
		if cfg.Users, err = cloudapi.ReadUsers(o.users); err != nil {
			blobs.Close()
			tasks.Close()
			return nil, nil, nil, err
		}
	}
	if o.workersOnly {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			cloudapi.RunWorkers(ctx, cfg)
		}()
		return nil, tasks, func() { cancel(); <-done; blobs.Close(); tasks.Close() }, nil
	}
	a, err := cloudapi.New(cfg)
	if err != nil {
		blobs.Close()
		tasks.Close()
		return nil, nil, nil, err
	}
	api.Store(a)
	a.Start(ctx)
	return a.Handler(), tasks, func() { a.Close(); blobs.Close(); tasks.Close() }, nil
}
