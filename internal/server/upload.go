package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/imageio"
)

// imageReply is the body of an image upload: the spec's schema
// (content_type, …_url) and, with the same values, the spelling of its
// examples (content-type, …-url), so clients written against either work.
type imageReply struct {
	ContentType     string `json:"content_type"`
	ID              string `json:"id"`
	MetadataURL     string `json:"metadata_url"`
	BinaryMaskURL   string `json:"binary_mask_url"`
	InstanceMaskURL string `json:"instance_mask_url"`
	AnonymisedURL   string `json:"anonymised_url"`
	ContentType2    string `json:"content-type"`
	MetadataURL2    string `json:"metadata-url"`
	BinaryMaskURL2  string `json:"binary-mask-url"`
	InstanceMask2   string `json:"instance-mask-url"`
	AnonymisedURL2  string `json:"anonymised-url"`
	Status          string `json:"status"`
}

// videoReply is the body of a video upload.
type videoReply struct {
	ContentType      string `json:"content_type"`
	ID               string `json:"id"`
	AnonymizedVideo  string `json:"anonymized_video"`
	MetadataURL      string `json:"metadata_url"`
	ContentType2     string `json:"content-type"`
	AnonymizedVideo2 string `json:"anonymized-video"`
	MetadataURL2     string `json:"metadata-url"`
	Status           string `json:"status"`
}

func (s *Server) reply(t Task) any {
	base := "v1/file/" + t.ID + "/"
	if t.Kind == "video" {
		return videoReply{
			ContentType: t.ContentType, ID: t.ID,
			AnonymizedVideo: s.url(base + "video/anonymised"), MetadataURL: s.url(base + "video/metadata"),
			ContentType2: t.ContentType, AnonymizedVideo2: s.url(base + "video/anonymised"),
			MetadataURL2: s.url(base + "video/metadata"), Status: t.Status,
		}
	}
	return imageReply{
		ContentType: t.ContentType, ID: t.ID,
		MetadataURL: s.url(base + "metadata"), BinaryMaskURL: s.url(base + "binary-mask"),
		InstanceMaskURL: s.url(base + "instance-mask"), AnonymisedURL: s.url(base + "anonymised"),
		ContentType2: t.ContentType, MetadataURL2: s.url(base + "metadata"),
		BinaryMaskURL2: s.url(base + "binary-mask"), InstanceMask2: s.url(base + "instance-mask"),
		AnonymisedURL2: s.url(base + "anonymised"), Status: t.Status,
	}
}

var videoExts = map[string]bool{".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".avi": true, ".webm": true}

// handleUpload is POST /v1/file.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if s.isClosed() {
		w.Header().Set("Retry-After", s.retryAfter())
		writeDetail(w, http.StatusServiceUnavailable, "The server is shutting down")
		return
	}
	async := false
	if v := r.Header.Get("x-is-async"); v != "" {
		var err error
		if async, err = parseBool("x-is-async", v); err != nil {
			writeDetail(w, http.StatusUnprocessableEntity, "header %s", err)
			return
		}
	}
	q := r.URL.Query()
	if err := checkUploadKeys(q); err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
		return
	}
	opts, err := parseOptions(q, &s.cfg)
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
		return
	}
	if r.ContentLength > s.cfg.MaxUploadBytes {
		// Refused before a byte of the body is read (a client that sent
		// Expect: 100-continue sends none); the connection is closed.
		w.Header().Set("Connection", "close")
		writeDetail(w, http.StatusRequestEntityTooLarge, "upload too large: %d bytes declared, the limit is %d bytes",
			r.ContentLength, s.cfg.MaxUploadBytes)
		return
	}
	select {
	case s.uploads <- struct{}{}:
	default:
		w.Header().Set("Retry-After", s.retryAfter())
		writeDetail(w, http.StatusServiceUnavailable, "Too many uploads in progress (the limit is %d); retry later", s.cfg.MaxUploads)
		return
	}
	t, ok := s.receive(w, r, q, async)
	<-s.uploads
	if !ok {
		return
	}
	in := filepath.Join(s.cfg.InputDir, t.Input)
	if t.Kind == "image" {
		if code, err := s.checkImage(in); err != nil {
			os.Remove(in)
			writeDetail(w, code, "%s", err)
			return
		}
	}

	e, err := s.store.add(t, opts.hook, !async)
	if err != nil {
		os.Remove(in)
		writeDetail(w, storageStatus(err), "cannot store the task record: %v", err)
		return
	}
	if err := s.enqueue(t.ID); err != nil {
		s.deleteTask(t.ID, true, true)
		if errors.Is(err, errQueueFull) {
			w.Header().Set("Retry-After", s.retryAfter())
			writeDetail(w, http.StatusServiceUnavailable, "The queue is full (%d tasks waiting); retry later", s.cfg.Queue)
			return
		}
		writeDetail(w, storageStatus(err), "cannot store the task record: %v", err)
		return
	}
	if async {
		t, _ = s.store.get(t.ID)
		writeJSON(w, http.StatusOK, s.reply(t))
		return
	}
	// Until it is answered, the task is not replaced by a later one
	// (Config.KeepSync); then the older ones are deleted.
	defer s.pruneSync()
	defer s.store.setWaited(e, false)
	select {
	case <-e.done:
	case <-r.Context().Done():
		return // the client is gone; the task goes on and keeps its record
	}
	t = s.store.task(e)
	if t.Status != StatusDone {
		// The client learns of the failure from this reply and gets no id:
		// nothing of the task is kept.
		perr := e.err
		s.deleteTask(t.ID, true, true)
		code := storageStatus(perr)
		if errors.Is(perr, errTaskTimeout) || errors.Is(perr, veil.ErrImage) || errors.Is(perr, veil.ErrOption) || errors.Is(perr, veil.ErrVideo) || errors.Is(perr, imageio.ErrTooLarge) {
			code = http.StatusUnprocessableEntity
		}
		writeDetail(w, code, "%s", t.Error)
		return
	}
	writeJSON(w, http.StatusOK, s.reply(t))
}

// receive streams the fileobject of the upload r to its file in the input
// folder, written atomically, and returns its task (not yet stored); or
// answers r and returns false, leaving no file. The body is read within
// the limits of Config (MaxUploadBytes, UploadIdleTimeout, MinUploadRate).
func (s *Server) receive(w http.ResponseWriter, r *http.Request, q url.Values, async bool) (Task, bool) {
	body := s.limitBody(w, r)
	defer body.stop()
	r.Body = http.MaxBytesReader(w, body, s.cfg.MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		writeDetail(w, http.StatusUnprocessableEntity, "fileobject: field required (send multipart/form-data)")
		return Task{}, false
	}
	var part *multipart.Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.uploadError(w, &readError{err})
			return Task{}, false
		}
		if p.FormName() == "fileobject" {
			part = p
			break
		}
		p.Close()
	}
	if part == nil {
		writeDetail(w, http.StatusUnprocessableEntity, "fileobject: field required")
		return Task{}, false
	}
	br := bufio.NewReaderSize(part, 32<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF {
		s.uploadError(w, &readError{err})
		return Task{}, false
	}
	if len(head) == 0 {
		writeDetail(w, http.StatusUnprocessableEntity, "CONTENT_TYPE_ERROR: the fileobject is empty")
		return Task{}, false
	}
	sniffed := http.DetectContentType(head)
	declared := part.Header.Get("Content-Type")
	ext := strings.ToLower(filepath.Ext(part.FileName()))
	t := Task{
		ID:       newID(),
		Status:   StatusNew,
		Filename: filepath.Base(part.FileName()),
		Query:    storedQuery(q),
		Async:    async,
		Created:  time.Now().UTC(),
	}
	t.Updated = t.Created
	switch {
	case sniffed == "image/jpeg" || sniffed == "image/png":
		t.Kind, t.ContentType = "image", sniffed
		t.Input = t.ID + map[string]string{"image/jpeg": ".jpg", "image/png": ".png"}[sniffed]
	case strings.HasPrefix(sniffed, "video/") ||
		strings.HasPrefix(declared, "video/") && videoExts[ext]:
		t.Kind, t.ContentType = "video", "video/mp4"
		if !videoExts[ext] {
			ext = ".mp4"
		}
		t.Input = t.ID + ext
	default:
		writeDetail(w, http.StatusUnprocessableEntity,
			"CONTENT_TYPE_ERROR: unsupported file type %s; upload a JPEG or PNG image or an MP4 video", strings.Split(sniffed, ";")[0])
		return Task{}, false
	}
	in := filepath.Join(s.cfg.InputDir, t.Input)
	err = s.writeInput(in, func(f io.Writer) error {
		t.InputSize, err = io.Copy(f, readTagger{br})
		return err
	})
	if err != nil {
		s.uploadError(w, err)
		return Task{}, false
	}
	return t, true
}

// checkImage checks that the image file in can be decoded and has no more
// than MaxPixels pixels, reading only its header; else it returns the
// status and error to answer.
func (s *Server) checkImage(in string) (int, error) {
	f, err := os.Open(in)
	if err != nil {
		return storageStatus(err), fmt.Errorf("cannot read the upload back: %w", err)
	}
	defer f.Close()
	c, _, err := imageio.DecodeConfig(bufio.NewReader(f))
	if err != nil && !errors.Is(err, imageio.ErrTooLarge) {
		return http.StatusUnprocessableEntity, fmt.Errorf("CONTENT_TYPE_ERROR: cannot read the image: %w", err)
	}
	if err != nil || int64(c.Width)*int64(c.Height) > int64(s.cfg.MaxPixels) {
		return http.StatusUnprocessableEntity, fmt.Errorf("image too large: %d×%d pixels, the limit is %d pixels", c.Width, c.Height, s.cfg.MaxPixels)
	}
	return 0, nil
}

// readError is an error reading the request body, as opposed to one
// storing it.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// readTagger marks the errors of r but io.EOF as readErrors.
type readTagger struct{ r io.Reader }

func (t readTagger) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

// limitedBody is a request body read within deadlines: a read fails when
// no byte arrives for Config.UploadIdleTimeout, or once the deadline for
// the whole body has passed (UploadIdleTimeout plus the time its declared
// length, or MaxUploadBytes, takes at Config.MinUploadRate).
type limitedBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time
}

// limitBody returns the body of r under the upload deadlines. Its stop
// method clears the deadline: a reply may take longer than the body.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) *limitedBody {
	return &limitedBody{
		ReadCloser: r.Body,
		rc:         http.NewResponseController(w),
		idle:       s.cfg.UploadIdleTimeout,
		end:        time.Now().Add(s.uploadTime(r.ContentLength)),
	}
}

// uploadTime is the time a body of the declared length (-1: unknown) may
// take to arrive.
func (s *Server) uploadTime(declared int64) time.Duration {
	size := s.cfg.MaxUploadBytes
	if declared >= 0 && declared < size {
		size = declared
	}
	d := float64(size) / float64(s.cfg.MinUploadRate) * float64(time.Second)
	return s.cfg.UploadIdleTimeout + time.Duration(min(d, float64(100*365*24*time.Hour)))
}

func (b *limitedBody) Read(p []byte) (int, error) {
	d := time.Now().Add(b.idle)
	if d.After(b.end) {
		d = b.end
	}
	// Where the connection takes no deadline (ErrNotSupported: an
	// http.Handler served by other means), the body is read without.
	b.rc.SetReadDeadline(d)
	return b.ReadCloser.Read(p)
}

func (b *limitedBody) stop() { b.rc.SetReadDeadline(time.Time{}) }

func (s *Server) retryAfter() string {
	return strconv.Itoa(max(1, int((s.cfg.RetryAfter+time.Second-1)/time.Second)))
}

// uploadError answers an error reading (a *readError) or storing the
// upload.
func (s *Server) uploadError(w http.ResponseWriter, err error) {
	var re *readError
	if !errors.As(err, &re) {
		writeDetail(w, storageStatus(err), "cannot store the upload: %v", err)
		return
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeDetail(w, http.StatusRequestEntityTooLarge, "upload too large: the limit is %d bytes", mbe.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		writeDetail(w, http.StatusRequestTimeout, "upload too slow: the body must not pause for %v, and must arrive at %d bytes/s or more",
			s.cfg.UploadIdleTimeout, s.cfg.MinUploadRate)
	case errors.Is(err, multipart.ErrMessageTooLarge) || strings.Contains(err.Error(), "multipart"):
		writeDetail(w, http.StatusUnprocessableEntity, "bad multipart body: %v", err)
	default:
		writeDetail(w, http.StatusBadRequest, "cannot read the upload: %v", err)
	}
}

// storageStatus is the status of a failure to store a file: 507
// Insufficient Storage when the disk (or the quota) is full, which a retry
// does not cure, else 500.
func storageStatus(err error) int {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

var errQueueFull = errors.New("the queue is full")

// enqueue marks the task id queued and queues it: errQueueFull when the
// queue is full, or the error storing its record.
func (s *Server) enqueue(id string) error {
	if _, err := s.store.update(id, func(t *Task) { t.Status = StatusQueued }); err != nil {
		return err
	}
	select {
	case s.jobs <- id:
		return nil
	default:
		return errQueueFull
	}
}
