package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/metadata"
)

// fileTask returns the task of a /v1/file/{id}/… request whose outputs
// can be read, or answers 422 and returns false. kind is the kind of
// upload the endpoint serves; notFound the detail for an unknown id.
func (s *Server) fileTask(w http.ResponseWriter, r *http.Request, kind, notFound, wrongKind string) (Task, bool) {
	id := r.PathValue("id")
	t, ok := s.store.get(id)
	if !validID(id) || !ok {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", notFound)
		return t, false
	}
	switch {
	case t.Kind != kind:
		writeDetail(w, http.StatusUnprocessableEntity, "%s", wrongKind)
	case t.FilesDeleted:
		writeDetail(w, http.StatusUnprocessableEntity, "The files of task %s have been deleted", id)
	case t.Status == StatusFailed:
		writeDetail(w, http.StatusUnprocessableEntity, "Task %s failed: %s", id, t.Error)
	case t.Status != StatusDone:
		writeDetail(w, http.StatusUnprocessableEntity, "Task %s is %s: wait until it is done (GET /v1/task/%s)", id, t.Status, id)
	default:
		return t, true
	}
	return t, false
}

func (s *Server) imageTask(w http.ResponseWriter, r *http.Request) (Task, bool) {
	return s.fileTask(w, r, "image",
		fmt.Sprintf("No file with id %s: upload an image at v1/file first", echo(r.PathValue("id"))),
		"Metadata, binary and instance segmentation masks are not supported for videos: use /video/anonymised and /video/metadata")
}

// serveFile sends the output file name of task t, or 500 when it is gone.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, t Task, name, contentType string) {
	path := filepath.Join(s.outDir(t.ID), name)
	f, err := os.Open(path)
	if err != nil {
		writeDetail(w, http.StatusInternalServerError, "The file %s of task %s is missing", name, t.ID)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeDetail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// handleAnonymised is GET /v1/file/{id}/anonymised?download=JPEG|PNG&quality&compress-level.
func (s *Server) handleAnonymised(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := ""
	switch d := strings.ToUpper(strings.TrimSpace(q.Get("download"))); d {
	case "":
	case "JPEG", "JPG":
		format = "jpeg"
	case "PNG":
		format = "png"
	default:
		writeDetail(w, http.StatusUnprocessableEntity, "download: want JPEG or PNG, got %q", echo(q.Get("download")))
		return
	}
	quality, err := intParam(q, "quality", veil.DefaultQuality, 1, 100)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
		return
	}
	level, err := intParam(q, "compress-level", veil.DefaultCompressLevel, 0, 9)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
		return
	}
	if level == 0 {
		level = veil.NoCompression
	}
	t, ok := s.imageTask(w, r)
	if !ok {
		return
	}
	if isDetect(t) {
		writeDetail(w, http.StatusUnprocessableEntity, "Method detect makes no anonymised image: download the masks and the metadata")
		return
	}
	if format == "" {
		format = strings.TrimPrefix(t.ContentType, "image/")
	}
	img, ok := s.readPNG(w, t, fileAnonymised)
	if !ok {
		return
	}
	var b bytes.Buffer
	if err := veil.Encode(&b, img, veil.EncodeOptions{Format: format, Quality: quality, CompressLevel: level}); err != nil {
		writeDetail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "image/"+format)
	w.Write(b.Bytes())
}

func (s *Server) readPNG(w http.ResponseWriter, t Task, name string) (image.Image, bool) {
	f, err := os.Open(filepath.Join(s.outDir(t.ID), name))
	if err != nil {
		writeDetail(w, http.StatusInternalServerError, "The file %s of task %s is missing", name, t.ID)
		return nil, false
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		writeDetail(w, http.StatusInternalServerError, "The file %s of task %s is unreadable: %v", name, t.ID, err)
		return nil, false
	}
	return img, true
}

// maskScaleParam returns the mask-scale parameter of q, by the rule of
// veil.ParseMaskScale the command line follows too (an integer in
// 1..100), or veil.DefaultMaskScale when it is not given.
func maskScaleParam(q url.Values) (int, error) {
	if !q.Has("mask-scale") {
		return veil.DefaultMaskScale, nil
	}
	scale, err := veil.ParseMaskScale(q.Get("mask-scale"))
	var pe *veil.ParamError
	if errors.As(err, &pe) {
		return 0, badParam("%s", paramErrorText(pe))
	}
	return scale, err
}

// handleMask is GET /v1/file/{id}/binary-mask and /instance-mask?mask-scale.
func (s *Server) handleMask(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scale, err := maskScaleParam(r.URL.Query())
		if err != nil {
			writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
			return
		}
		t, ok := s.imageTask(w, r)
		if !ok {
			return
		}
		if _, err := os.Stat(filepath.Join(s.outDir(t.ID), name)); err != nil && !s.savesMask(name) {
			writeDetail(w, http.StatusUnprocessableEntity, "Task %s has no %s: the server makes none; start it with --save-mask %s or all",
				t.ID, strings.TrimSuffix(name, ".png"), strings.TrimSuffix(name, "-mask.png"))
			return
		}
		if scale == 100 {
			s.serveFile(w, r, t, name, "image/png")
			return
		}
		img, ok := s.readPNG(w, t, name)
		if !ok {
			return
		}
		scaled, err := mask.Scale(img, scale)
		if err != nil {
			writeDetail(w, http.StatusInternalServerError, "%v", err)
			return
		}
		var b bytes.Buffer
		if err := png.Encode(&b, scaled); err != nil {
			writeDetail(w, http.StatusInternalServerError, "%v", err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(b.Bytes())
	}
}

// handleMetadata is GET /v1/file/{id}/metadata.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	t, ok := s.imageTask(w, r)
	if !ok {
		return
	}
	s.serveFile(w, r, t, fileMetadata, "application/json")
}

// handleVideo is GET /v1/file/{id}/video/anonymised.
func (s *Server) handleVideo(w http.ResponseWriter, r *http.Request) {
	t, ok := s.fileTask(w, r, "video", "Upload a video file at v1/file before using this endpoint.",
		"You can receive anonymised video only after video upload")
	if !ok {
		return
	}
	if isDetect(t) {
		writeDetail(w, http.StatusUnprocessableEntity, "Method detect makes no anonymised video: download the metadata")
		return
	}
	s.serveFile(w, r, t, fileVideo, "video/mp4")
}

// handleVideoMetadata is GET /v1/file/{id}/video/metadata?start_frame&end_frame.
func (s *Server) handleVideoMetadata(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err := intParam(q, "start_frame", 0, 0, 1<<31-1)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
		return
	}
	end, err := intParam(q, "end_frame", -1, 0, 1<<31-1)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
		return
	}
	if end >= 0 && end < start {
		writeDetail(w, http.StatusUnprocessableEntity, "end_frame %d is before start_frame %d", end, start)
		return
	}
	t, ok := s.fileTask(w, r, "video", "Upload a video file at v1/file before using this endpoint.",
		"You can receive anonymised video metadata only after video upload")
	if !ok {
		return
	}
	b, err := os.ReadFile(filepath.Join(s.outDir(t.ID), fileMetadata))
	if err != nil {
		writeDetail(w, http.StatusInternalServerError, "The metadata of task %s is missing", t.ID)
		return
	}
	var frames []metadata.Frame
	if err := json.Unmarshal(b, &frames); err != nil {
		writeDetail(w, http.StatusInternalServerError, "The metadata of task %s is unreadable: %v", t.ID, err)
		return
	}
	last := len(frames) - 1
	if end < 0 || end > last {
		end = last
	}
	out := []metadata.Frame{}
	if start <= end {
		out = frames[start : end+1]
	}
	writeJSON(w, http.StatusOK, out)
}

// isDetect reports whether task t was uploaded with method detect, which
// makes no anonymised image or video.
func isDetect(t Task) bool {
	q, err := url.ParseQuery(t.Query)
	return err == nil && strings.EqualFold(strings.TrimSpace(q.Get("method")), "detect")
}
