package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/atomicfile"
	"github.com/veilkit/veil/metadata"
	"github.com/veilkit/veil/video"
)

// Output file names in OUTPUT/ID.
const (
	fileAnonymised = "anonymised.png" // lossless; encoded on download
	fileBinary     = "binary-mask.png"
	fileInstance   = "instance-mask.png"
	fileMetadata   = "metadata.json"
	fileVideo      = "anonymised.mp4"
)

func (s *Server) worker() {
	defer s.workerWG.Done()
	for {
		select {
		case <-s.quit:
			return
		default:
		}
		select {
		case <-s.quit:
			return
		case id := <-s.jobs:
			if s.cfg.Slots != nil {
				select {
				case s.cfg.Slots <- struct{}{}:
				case <-s.quit:
					return // the task stays queued in its record: requeued at the next start
				}
			}
			s.run(id)
			if s.cfg.Slots != nil {
				<-s.cfg.Slots
			}
		}
	}
}

// errTaskTimeout is the error of a task that ran past Config.TaskTimeout.
var errTaskTimeout = errors.New("the task ran past the server's time limit")

// errShutdown is the error of a task that Close cancelled.
var errShutdown = errors.New("the server shut down before the task was done")

// run processes the task id, within Config.TaskTimeout.
func (s *Server) run(id string) {
	ctx, cancel := context.WithTimeoutCause(s.procCtx, s.cfg.TaskTimeout,
		fmt.Errorf("%w of %v (veil serve --task-timeout): ask for less work, such as a coarser format", errTaskTimeout, s.cfg.TaskTimeout))
	defer cancel()
	if s.beforeRun != nil {
		s.beforeRun(id)
	}
	t, err := s.store.update(id, func(t *Task) { t.Status = StatusProcessing; t.Attempts++ })
	if err != nil {
		return // deleted meanwhile
	}
	t0 := time.Now()
	objects, frames, err := func() (objects, frames int, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("internal error: %v", p)
			}
		}()
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		return s.process(ctx, t)
	}()
	if err != nil {
		os.RemoveAll(s.outDir(id)) // privacy fails closed: no partial outputs
		switch {
		case s.procCtx.Err() != nil:
			err = errShutdown
		case ctx.Err() != nil:
			err = context.Cause(ctx)
		}
	}
	s.finish(id, objects, frames, time.Since(t0), err)
}

// finish records the end of the task id, wakes a synchronous request
// waiting for it and sends its webhook.
func (s *Server) finish(id string, objects, frames int, took time.Duration, err error) {
	t, uerr := s.store.update(id, func(t *Task) {
		t.Objects, t.Frames, t.Duration = objects, frames, took.Seconds()
		if err != nil {
			t.Status, t.Error = StatusFailed, errorText(err)
		} else {
			t.Status = StatusDone
		}
	})
	if uerr != nil && !errors.Is(uerr, errNoTask) {
		s.logf("task %s: cannot store its record: %v", id, uerr)
	}
	e := s.store.entry(id)
	if e == nil {
		return
	}
	e.err = err
	if uerr == nil && !t.Async {
		s.pruneSync()
	}
	close(e.done)
	if e.hook != nil && uerr == nil {
		s.notify(e.hook, id, t.Status)
	}
}

// pruneSync deletes the ended synchronous tasks but the last
// Config.KeepSync to end, files and records. A task whose request is
// still being answered is left, and not counted.
func (s *Server) pruneSync() {
	if s.cfg.KeepSync < 0 {
		return
	}
	ended := s.store.syncEnded()
	for _, t := range ended[min(s.cfg.KeepSync, len(ended)):] {
		if err := s.deleteTask(t.ID, true, false); err != nil && !errors.Is(err, errNoTask) && !errors.Is(err, errActive) {
			s.logf("task %s: cannot delete it (a later synchronous upload replaces it): %v", t.ID, err)
		}
	}
}

// errorText is the message of a processing error, without the package
// prefixes.
func errorText(err error) string {
	if errors.Is(err, video.ErrNoFFmpeg) {
		return "ffmpeg or ffprobe not found: install ffmpeg to anonymize videos"
	}
	msg := err.Error()
	for _, p := range []string{"veil: ", "video: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// process makes the outputs of task t and returns the number of objects
// (image) or detections (video) and of frames.
func (s *Server) process(ctx context.Context, t Task) (objects, frames int, err error) {
	q, err := url.ParseQuery(t.Query)
	if err != nil {
		return 0, 0, err
	}
	opts, err := parseOptions(q, &s.cfg)
	if err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(s.outDir(t.ID), 0o755); err != nil {
		return 0, 0, err
	}
	in := filepath.Join(s.cfg.InputDir, t.Input)
	if t.Kind == "video" {
		return s.processVideo(ctx, t, in, opts)
	}
	n, err := s.processImage(ctx, t, in, opts)
	return n, 0, err
}

// savesMask reports whether an image's task makes the mask file name
// (fileBinary or fileInstance), by Config.SaveMask.
func (s *Server) savesMask(name string) bool {
	switch s.cfg.SaveMask { // build makes "" "all"
	case "all":
		return true
	case "binary":
		return name == fileBinary
	case "instance":
		return name == fileInstance
	}
	return false
}

func (s *Server) processImage(ctx context.Context, t Task, in string, opts *options) (int, error) {
	// Decoded from the file as it is read: the bytes after the image are
	// never in memory.
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	img, err := veil.Decode(bufio.NewReaderSize(f, 64<<10))
	f.Close()
	if err != nil {
		return 0, err
	}
	if b := img.Bounds(); b.Dx()*b.Dy() > s.cfg.MaxPixels {
		return 0, fmt.Errorf("%w: %d×%d pixels, the limit is %d", veil.ErrImage, b.Dx(), b.Dy(), s.cfg.MaxPixels)
	}
	t0 := time.Now()
	var res *veil.Result
	if opts.params.Method == veil.DetectOnly {
		res, err = s.cfg.Engine.Masks(ctx, img, opts.params)
	} else {
		res, err = s.cfg.Engine.Anonymize(ctx, img, opts.params)
	}
	if err != nil {
		return 0, err
	}
	took := time.Since(t0)

	type output struct {
		name string
		data []byte
	}
	var outs []output
	png := func(name string, img image.Image, level int) error {
		var b bytes.Buffer
		if err := veil.Encode(&b, img, veil.EncodeOptions{Format: "png", CompressLevel: level}); err != nil {
			return err
		}
		outs = append(outs, output{name, b.Bytes()})
		return nil
	}
	if s.savesMask(fileBinary) {
		bin, err := res.BinaryMask(100)
		if err != nil {
			return 0, err
		}
		if err := png(fileBinary, bin, 0); err != nil {
			return 0, err
		}
	}
	if s.savesMask(fileInstance) {
		ins, err := res.InstanceMask(100)
		if err != nil {
			return 0, err
		}
		if err := png(fileInstance, ins, 0); err != nil {
			return 0, err
		}
	}
	m, err := veil.Metadata(filepath.Join(s.cfg.InputDir, t.Input), res, took,
		veil.MetadataOptions{Colors: opts.params.Debug})
	if err != nil {
		return 0, err
	}
	var mb bytes.Buffer
	if err := metadata.Encode(&mb, m); err != nil {
		return 0, err
	}
	outs = append(outs, output{fileMetadata, mb.Bytes()})
	if opts.params.Method != veil.DetectOnly {
		if err := png(fileAnonymised, res.Image, 1); err != nil {
			return 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, o := range outs { // the anonymised image last
		err := atomicfile.WriteFile(filepath.Join(s.outDir(t.ID), o.name), 0o666, func(w io.Writer) error {
			_, err := w.Write(o.data)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return len(res.Objects), nil
}

func (s *Server) processVideo(ctx context.Context, t Task, in string, opts *options) (int, int, error) {
	o := opts.video
	o.Metadata = veil.MetadataOptions{Colors: opts.params.Debug}
	dst := filepath.Join(s.outDir(t.ID), fileVideo)
	if opts.params.Method == veil.DetectOnly {
		dst = ""
	}
	// The frame size is checked before any frame is decoded: a small file
	// can hold huge frames.
	info, err := video.Probe(ctx, in)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", veil.ErrVideo, err)
	}
	if err := info.CheckPixels(s.cfg.MaxPixels); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", veil.ErrImage, err)
	}
	res, err := s.cfg.Engine.AnonymizeVideo(ctx, in, dst, opts.params, o)
	if err != nil {
		return 0, 0, err
	}
	frames := res.Frames
	if frames == nil {
		frames = []metadata.Frame{}
	}
	err = atomicfile.WriteFile(filepath.Join(s.outDir(t.ID), fileMetadata), 0o666, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(frames)
	})
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for _, f := range res.Frames {
		n += len(f.Detections)
	}
	return n, len(res.Frames), nil
}

// deleteFiles removes the input and output files of task t.
func (s *Server) deleteFiles(t Task) error {
	var errs []error
	if t.Input != "" {
		if err := os.Remove(filepath.Join(s.cfg.InputDir, t.Input)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(s.outDir(t.ID)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteTask deletes the files of task id and, with record, its record.
// An active task is refused (errActive) unless force.
func (s *Server) deleteTask(id string, record, force bool) error {
	t, ok := s.store.get(id)
	if !ok {
		return errNoTask
	}
	if t.active() && !force {
		return errActive
	}
	if record {
		if err := s.store.remove(id, force); err != nil {
			return err
		}
		return s.deleteFiles(t)
	}
	var ferr error
	_, err := s.store.update(id, func(t *Task) {
		if t.active() && !force {
			ferr = errActive
			return
		}
		t.FilesDeleted = true
	})
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return err
	}
	return s.deleteFiles(t)
}
