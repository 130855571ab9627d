package cloudapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/blobstore"
	"github.com/veilkit/veil/internal/taskstore"
	"github.com/veilkit/veil/metadata"
)

// core is what the API, its watcher and its workers share.
type core struct {
	cfg   Config
	hooks sync.WaitGroup // webhooks being sent
}

func newCore(cfg Config) *core { return &core{cfg: cfg} }

func (c *core) logf(format string, args ...any) { c.cfg.Logf("cloudapi: "+format, args...) }

// run runs the watcher and n workers until ctx is done, then waits for
// the webhooks.
func (c *core) run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(ctx) })
	for range n {
		w := &Worker{c: c, name: workerName()}
		wg.Go(func() { w.Run(ctx) })
	}
	wg.Wait()
	c.hooks.Wait()
}

// workerName is a new worker's name in the task store: the host and a
// random suffix.
func workerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// errSkip leaves a task as it is in an Update.
var errSkip = errors.New("skip")

// watch queues, every WatchInterval, the tasks whose upload arrived,
// and deletes what was uploaded to a task whose files were deleted. Only
// tasks young enough to have a live upload URL are looked at.
func (c *core) watch(ctx context.Context) {
	t := time.NewTicker(c.cfg.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tasks, err := c.cfg.Tasks.List(ctx, taskstore.Filter{AnyOwner: true, Status: taskstore.StatusNew,
			After: time.Now().Add(-c.cfg.UploadExpiry - time.Minute)})
		if err != nil {
			if ctx.Err() == nil {
				c.logf("watcher: %v", err)
			}
			continue
		}
		for _, tk := range tasks {
			if err := c.checkUpload(ctx, tk); err != nil && ctx.Err() == nil {
				c.logf("watcher: task %d: %v", tk.ID, err)
			}
		}
	}
}

// checkUpload queues the new task t if its upload is there and it starts
// on upload; it deletes the upload of a task whose files were deleted.
func (c *core) checkUpload(ctx context.Context, t taskstore.Task) error {
	if t.Status != taskstore.StatusNew {
		return nil
	}
	p, err := taskParams(t)
	if err != nil {
		return err
	}
	if !t.FilesDeleted && p.StartOn == startOnRequest {
		return nil
	}
	if _, err := c.cfg.Blobs.Attributes(ctx, keyOriginal(t.ID)); err != nil {
		if errors.Is(err, blobstore.ErrNotExist) {
			return nil
		}
		return err
	}
	if t.FilesDeleted {
		return c.cfg.Blobs.DeletePrefix(ctx, keyPrefix(t.ID))
	}
	return c.queue(ctx, t.ID)
}

// queue moves the task id from new to queued.
func (c *core) queue(ctx context.Context, id int64) error {
	_, err := c.cfg.Tasks.Update(ctx, id, func(t *taskstore.Task) error {
		if t.Status != taskstore.StatusNew || t.FilesDeleted {
			return errSkip
		}
		t.Status = taskstore.StatusQueued
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	if err == nil {
		c.logf("task %d queued", id)
	}
	return err
}

// A Worker claims queued tasks from the task store and processes them.
type Worker struct {
	c    *core
	name string
	// beforeFinish, when set (by tests), is called before Finish.
	beforeFinish func(taskstore.Task)
}

// NewWorker returns a worker of cfg (Engine, Tasks and Blobs are
// required) named name in the task store ("" for a random name).
func NewWorker(cfg Config, name string) *Worker {
	if name == "" {
		name = workerName()
	}
	return &Worker{c: newCore(cfg.withDefaults()), name: name}
}

// Run processes tasks until ctx is done, then waits for the webhooks it
// sends.
func (w *Worker) Run(ctx context.Context) {
	defer w.c.hooks.Wait()
	slots := w.c.cfg.Slots
	for ctx.Err() == nil {
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		t, err := w.c.cfg.Tasks.Claim(ctx, w.name, w.c.cfg.Lease)
		if err == nil {
			w.handle(ctx, t)
		}
		if slots != nil {
			<-slots
		}
		if err != nil {
			if !errors.Is(err, taskstore.ErrNoTask) && ctx.Err() == nil {
				w.c.logf("worker %s: %v", w.name, err)
			}
			sleep(ctx, w.c.cfg.PollInterval)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errLeaseLost cancels the processing of a task whose lease was lost.
var errLeaseLost = errors.New("the lease was lost")

// handle processes the claimed task t, renewing its lease, and records
// its end unless the lease was lost meanwhile.
func (w *Worker) handle(ctx context.Context, t taskstore.Task) {
	c := w.c
	c.logf("task %d processing by worker %s (attempt %d)", t.ID, w.name, t.Attempts)
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(c.cfg.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			err := c.cfg.Tasks.Renew(pctx, t.ID, w.name, c.cfg.Lease)
			if errors.Is(err, taskstore.ErrLeaseLost) {
				cancel(errLeaseLost)
				return
			}
			if err != nil && pctx.Err() == nil {
				c.logf("task %d: renewing the lease: %v", t.ID, err)
			}
		}
	}()
	res, cause, err := w.process(pctx, t)
	cancel(nil)
	<-renewed
	if errors.Is(context.Cause(pctx), errLeaseLost) {
		c.logf("task %d: worker %s lost its lease; its result is dropped", t.ID, w.name)
		return
	}
	if ctx.Err() != nil {
		return // shut down: the lease runs out and another worker takes the task
	}
	if w.beforeFinish != nil {
		w.beforeFinish(t)
	}
	done, ferr := c.cfg.Tasks.Finish(ctx, t.ID, w.name, func(tk *taskstore.Task) error {
		if err != nil {
			tk.Status, tk.FailureCause, tk.Error = taskstore.StatusFailed, cause, err.Error()
			tk.Result = nil
			return nil
		}
		tk.Status, tk.FailureCause, tk.Error = taskstore.StatusDone, "", ""
		tk.Result, _ = json.Marshal(res)
		return nil
	})
	if errors.Is(ferr, taskstore.ErrLeaseLost) {
		c.logf("task %d: worker %s lost its lease; its result is dropped", t.ID, w.name)
		return
	}
	if ferr != nil {
		c.logf("task %d: recording its end: %v", t.ID, ferr)
		return
	}
	if err != nil {
		c.logf("task %d failed (%s): %v", t.ID, cause, err)
		c.deleteOutputs(ctx, t.ID)
	} else {
		c.logf("task %d done by worker %s (attempt %d, %d detections, %.2f s)",
			t.ID, w.name, t.Attempts, res.Detections, res.Seconds)
	}
	if done.FilesDeleted { // deleted while it was processed
		if err := c.cfg.Blobs.DeletePrefix(ctx, keyPrefix(t.ID)); err != nil {
			c.logf("task %d: deleting its files: %v", t.ID, err)
		}
		return
	}
	if done.Status == taskstore.StatusDone {
		c.sendWebhook(ctx, done)
	}
}

// deleteOutputs deletes what processing the task id may have written,
// keeping its upload.
func (c *core) deleteOutputs(ctx context.Context, id int64) {
	for _, k := range []string{keyAnonymized(id, "jpeg"), keyAnonymized(id, "png"), keyBinary(id), keyInstance(id), keyMetadata(id)} {
		if err := c.cfg.Blobs.Delete(ctx, k); err != nil {
			c.logf("task %d: %v", id, err)
		}
	}
}

// failure is an error with its failure_cause.
type failure struct {
	cause string
	err   error
}

func (f *failure) Error() string { return f.err.Error() }

func fail(cause string, format string, args ...any) error {
	return &failure{cause, fmt.Errorf(format, args...)}
}

// process makes the outputs of task t. It returns the result, or the
// failure cause and the error.
func (w *Worker) process(ctx context.Context, t taskstore.Task) (res result, cause string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
		if err != nil {
			cause = taskstore.CauseInternal
			if f, ok := err.(*failure); ok {
				cause = f.cause
			}
		}
	}()
	res, err = w.c.process(ctx, t)
	return res, "", err
}

// contentTypes maps the accepted upload types to their format.
var contentTypes = map[string]string{"image/jpeg": "jpeg", "image/png": "png"}

func (c *core) process(ctx context.Context, t taskstore.Task) (result, error) {
	var res result
	p, err := taskParams(t)
	if err != nil {
		return res, err
	}
	vp, err := p.engineParams()
	if err != nil {
		return res, err
	}
	key := keyOriginal(t.ID)
	attrs, err := c.cfg.Blobs.Attributes(ctx, key)
	if errors.Is(err, blobstore.ErrNotExist) {
		return res, fail(taskstore.CauseFileMissing, "the upload is gone")
	}
	if err != nil {
		return res, err
	}
	mt, _, _ := mime.ParseMediaType(attrs.ContentType)
	format, ok := contentTypes[mt]
	if !ok {
		return res, fail(taskstore.CauseContentType, "the upload's content type is %q, not image/jpeg or image/png", attrs.ContentType)
	}
	if attrs.Size > c.cfg.MaxUploadBytes {
		return res, fail(taskstore.CauseImageDefect, "the upload has %d bytes, the limit is %d", attrs.Size, c.cfg.MaxUploadBytes)
	}
	rc, err := c.cfg.Blobs.NewReader(ctx, key)
	if errors.Is(err, blobstore.ErrNotExist) {
		return res, fail(taskstore.CauseFileMissing, "the upload is gone")
	}
	if err != nil {
		return res, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(io.LimitReader(rc, c.cfg.MaxUploadBytes), 64<<10)
	head, _ := br.Peek(512)
	if sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head)); sniffed != mt {
		return res, fail(taskstore.CauseContentType, "the upload's content type is %s but its bytes are %s", mt, sniffed)
	}
	img, err := veil.Decode(br)
	if err != nil {
		return res, fail(taskstore.CauseImageDefect, "%v", err)
	}
	rc.Close()
	b := img.Bounds()
	if b.Dx()*b.Dy() > c.cfg.MaxPixels {
		return res, fail(taskstore.CauseImageDefect, "%d×%d pixels, the limit is %d", b.Dx(), b.Dy(), c.cfg.MaxPixels)
	}
	t0 := time.Now()
	r, err := c.cfg.Engine.Anonymize(ctx, img, vp)
	if err != nil {
		if errors.Is(err, veil.ErrImage) {
			return res, fail(taskstore.CauseImageDefect, "%v", err)
		}
		return res, err
	}
	took := time.Since(t0)

	type output struct {
		key, contentType string
		data             []byte
	}
	var outs []output
	encode := func(key string, img image.Image, o veil.EncodeOptions) error {
		var buf bytes.Buffer
		if err := veil.Encode(&buf, img, o); err != nil {
			return err
		}
		outs = append(outs, output{key, "image/" + o.Format, buf.Bytes()})
		return nil
	}
	if p.BinarySegmentationMask {
		m, err := r.BinaryMask(p.MaskScale)
		if err != nil {
			return res, err
		}
		if err := encode(keyBinary(t.ID), m, veil.EncodeOptions{Format: "png"}); err != nil {
			return res, err
		}
	}
	if p.InstanceSegmentationMask {
		m, err := r.InstanceMask(p.MaskScale)
		if err != nil {
			return res, err
		}
		if err := encode(keyInstance(t.ID), m, veil.EncodeOptions{Format: "png"}); err != nil {
			return res, err
		}
	}
	m, err := veil.Metadata("original", r, took, veil.MetadataOptions{Colors: p.Debug})
	if err != nil {
		return res, err
	}
	for k := range m.Detections {
		m.Detections[k].ParentImage = ""
	}
	mb, err := json.Marshal(metadataBody{TaskID: t.ID, Detections: m.Detections})
	if err != nil {
		return res, err
	}
	outs = append(outs, output{keyMetadata(t.ID), "application/json", mb})
	eo := veil.EncodeOptions{Format: format, Quality: max(1, p.Quality), CompressLevel: p.CompressLevel}
	if p.CompressLevel == 0 {
		eo.CompressLevel = veil.NoCompression
	}
	if err := encode(keyAnonymized(t.ID, format), r.Image, eo); err != nil {
		return res, err
	}
	for _, o := range outs { // the anonymized image last
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := c.cfg.Blobs.Put(ctx, o.key, bytes.NewReader(o.data), o.contentType); err != nil {
			return res, err
		}
	}
	return result{Detections: len(m.Detections), Format: format, Width: b.Dx(), Height: b.Dy(), Seconds: took.Seconds()}, nil
}

// metadataBody is the body of GET /v2/task/{id}/metadata.
type metadataBody struct {
	TaskID     int64                `json:"task_id"`
	Detections []metadata.Detection `json:"detections"`
}
