package veil

import (
	"context"
	"errors"
	"fmt"
	"github.com/veilkit/veil/tiling"
	"image"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/internal/atomicfile"
	"github.com/veilkit/veil/metadata"
	"github.com/veilkit/veil/video"
)

// VideoOptions say how AnonymizeFrames and AnonymizeVideo work. The zero
// value tracks objects and encodes H.264 at a fixed quality.
type VideoOptions struct {
	// NoObjectTracking turns tracking off (Celantur's no-object-tracking):
	// each frame is anonymized by its own detections only. With tracking,
	// an object the detector misses for a few frames stays anonymized, and
	// one it finds late is also anonymized in the frames before (a short
	// look-ahead), so no frame shows a face its neighbours found.
	NoObjectTracking bool
	// KeepBitRate encodes at about the source's video bit rate (Celantur's
	// keep-bit-rate); otherwise at a fixed quality (H.264 CRF 18).
	KeepBitRate bool
	// DetectEvery runs the detectors on every n-th frame only (0 or 1:
	// every frame); the tracker carries the objects through the frames
	// between (its prediction from the frame before, and the look-ahead's
	// backfill from the frame after), so it needs tracking. 2 doubles the
	// speed; a face the detector finds in a skipped frame alone is lost.
	DetectEvery int
	// Metadata adds to each frame's metadata (Celantur's video metadata).
	Metadata MetadataOptions
	// Progress, when set, is called after each frame with the number of
	// frames done and the total (0 when unknown).
	Progress func(done, total int)
}

// VideoFrame is one anonymized frame.
type VideoFrame struct {
	Index   int
	Image   *image.RGBA
	Objects []Object
	// Metadata is the frame in Celantur's video metadata schema.
	Metadata metadata.Frame
}

// AnonymizeFrames anonymizes a stream of frames: it reads frames with
// next until next returns io.EOF and calls emit with each anonymized
// frame, in order. It needs no ffmpeg. With tracking a few frames are
// held back (the look-ahead), so emit runs a few frames behind next. Any
// error (from next, detection, emit, or ctx) stops it and is returned;
// frames not yet emitted are dropped, never emitted unanonymized.
// next's images are anonymized in place when they are *image.RGBA with
// bounds at (0, 0). next is called from a goroutine of its own, a frame
// ahead of the one being anonymized; AnonymizeFrames returns after a call
// of next in progress has returned.
func (e *Engine) AnonymizeFrames(ctx context.Context, next func() (image.Image, error), emit func(VideoFrame) error, p Params, o VideoOptions) error {
	if err := p.validateAnonymize(); err != nil {
		return err
	}
	if _, err := detectionsMetadata(0, &Result{}, o.Metadata); err != nil {
		return err
	}
	every := max(o.DetectEvery, 1)
	if every > 1 && o.NoObjectTracking {
		return fmt.Errorf("%w: DetectEvery %d needs object tracking", ErrOption, every)
	}
	// Frames are read and detected one frame ahead, in a goroutine of
	// their own, while the frame before is tracked, rendered and emitted:
	// the cores stay busy between the detectors' parallel parts.
	type detected struct {
		img  *image.RGBA
		dets []Detection
		took time.Duration
		err  error
	}
	actx, cancel := context.WithCancel(ctx)
	ahead := make(chan detected, 1)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() {
		send := func(d detected) bool {
			select {
			case ahead <- d:
				return d.err == nil
			case <-actx.Done():
				return false
			}
		}
		for index := 0; ; index++ {
			img, err := next()
			if err != nil {
				send(detected{err: err})
				return
			}
			rgba, err := toRGBA(img)
			if err != nil {
				send(detected{err: fmt.Errorf("frame %d: %w", index, err)})
				return
			}
			var dets []Detection
			t0 := time.Now()
			if index%every == 0 {
				var tiles []tiling.Tile
				rgba, tiles, err = p.prepare(rgba)
				if err == nil {
					dets, err = e.detect(actx, rgba, tiles, p)
				}
			}
			if !send(detected{rgba, dets, time.Since(t0), err}) {
				return
			}
		}
	})
	var current []Detection // the detections of the frame next returned last
	// detectTook is the detection time of the frames not yet emitted.
	detectTook := make(map[*image.RGBA]time.Duration)
	pipe := video.Pipeline{
		Tracking: !o.NoObjectTracking,
		Detect: func(ctx context.Context, img *image.RGBA) ([]detect.Detection, error) {
			return current, nil
		},
		Render: func(ctx context.Context, frame *image.RGBA, vobjs []video.Object) (*image.RGBA, error) {
			return frame, nil // rendered in emit, where the objects are kept
		},
	}
	return pipe.Run(ctx, func() (*image.RGBA, error) {
		var d detected
		select {
		case d = <-ahead:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if d.err != nil {
			return nil, d.err
		}
		current = d.dets
		detectTook[d.img] = d.took
		return d.img, nil
	}, func(f video.Frame) error {
		t0 := time.Now()
		detTook := detectTook[f.Image]
		delete(detectTook, f.Image)
		objs := make([]Object, len(f.Objects))
		for k, v := range f.Objects {
			objs[k] = Object{Detection: v.Detection, TrackID: v.TrackID, Predicted: v.Predicted}
		}
		tiles, err := tilesFor(p.Format, f.Image)
		if err != nil {
			return err
		}
		res, err := e.render(ctx, f.Image, tiles, objs, p, p.Method != DetectOnly, true)
		if err != nil {
			return fmt.Errorf("frame %d: %w", f.Index, err)
		}
		dets, err := detectionsMetadata(f.Index, res, o.Metadata)
		if err != nil {
			return err
		}
		took := detTook + f.Took + time.Since(t0)
		return emit(VideoFrame{Index: f.Index, Image: res.Image, Objects: res.Objects, Metadata: metadata.Frame{
			ID: f.Index, Detections: dets, Size: [2]int{res.Bounds.Dy(), res.Bounds.Dx()}, Duration: took.Seconds()}})
	})
}

// VideoResult is what AnonymizeVideo returns.
type VideoResult struct {
	Info *video.Info
	// Frames holds every frame's metadata, frame i at index i.
	Frames []metadata.Frame
}

// FrameMetadata returns the metadata of frames start..end inclusive
// (Celantur's start_frame and end_frame), clamped to the video.
func (r *VideoResult) FrameMetadata(start, end int) []metadata.Frame {
	start, end = max(start, 0), min(end, len(r.Frames)-1)
	if start > end {
		return nil
	}
	return r.Frames[start : end+1]
}

// WriteFrameMetadata writes r's frame metadata into dir in files of at
// most metadata.FramesPerFile frames named NAME-START-END.json (name is
// the video's file name), each written whole or not at all.
func (r *VideoResult) WriteFrameMetadata(dir, name string) ([]string, error) {
	var files []string
	for start := 0; start < len(r.Frames); start += metadata.FramesPerFile {
		end := min(start+metadata.FramesPerFile, len(r.Frames)) - 1
		f := filepath.Join(dir, metadata.FramesFileName(filepath.Base(name), start, end))
		if err := atomicfile.WriteFile(f, 0o666, func(w io.Writer) error { return metadata.Encode(w, r.Frames[start:end+1]) }); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

// ErrVideo reports a video that cannot be read or written; it wraps
// video.ErrNoFFmpeg when ffmpeg is not installed.
var ErrVideo = errors.New("veil: video")

// AnonymizeVideo anonymizes the video file src into dst through ffmpeg
// (which must be installed): H.264, with the source's frame rate, frame
// count, size and rotation, its audio streams copied unchanged. dst is
// written under a temporary name and renamed when complete: on any error
// there is no dst. With DetectOnly nothing is written and dst may be "".
func (e *Engine) AnonymizeVideo(ctx context.Context, src, dst string, p Params, o VideoOptions) (*VideoResult, error) {
	if err := p.validateAnonymize(); err != nil {
		return nil, err
	}
	// The reader has a context of its own: cancelling it stops a decode
	// ahead (below) blocked in Next.
	rctx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	r, err := video.OpenReader(rctx, src)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVideo, err)
	}
	info := r.Info()
	var w *video.Writer
	var tmp string
	if p.Method != DetectOnly {
		f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*"+filepath.Ext(dst))
		if err != nil {
			r.Close()
			return nil, err
		}
		tmp = f.Name()
		f.Close()
		w, err = video.CreateWriter(ctx, tmp, info, video.WriterOptions{KeepBitRate: o.KeepBitRate, AudioFrom: src})
		if err != nil {
			r.Close()
			os.Remove(tmp)
			return nil, fmt.Errorf("%w: %w", ErrVideo, err)
		}
	}
	res := &VideoResult{Info: info}
	// Decode a few frames ahead, while the engine works on the current one.
	type decoded struct {
		img *image.RGBA
		err error
	}
	ahead := make(chan decoded, 2)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			img, err := r.Next()
			select {
			case ahead <- decoded{img, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		cancelRead() // unblocks a Next waiting on ffmpeg
		<-done
		r.Close()
	}()
	err = e.AnonymizeFrames(ctx, func() (image.Image, error) {
		d := <-ahead
		if d.err != nil {
			return nil, d.err
		}
		return d.img, nil
	}, func(f VideoFrame) error {
		if w != nil {
			if err := w.Write(f.Image); err != nil {
				return fmt.Errorf("%w: %w", ErrVideo, err)
			}
		}
		res.Frames = append(res.Frames, f.Metadata)
		if o.Progress != nil {
			o.Progress(f.Index+1, info.Frames)
		}
		return nil
	}, p, o)
	if w == nil {
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	if err != nil {
		w.Abort()
		os.Remove(tmp)
		return nil, err
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("%w: %w", ErrVideo, err)
	}
	// The temporary file was created 0o600: dst gets the mode of any
	// output, as os.Create would give it.
	if err := os.Chmod(tmp, atomicfile.Perm(0o666)); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return res, nil
}
