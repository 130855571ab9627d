package cloudapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/veilkit/veil/internal/blobstore"
	"github.com/veilkit/veil/internal/taskstore"
)

// The spec's messages.
const (
	msgInternal         = "An unexpected error occurred. If the problem persists, please contact Celantur support (hello@celantur.com)."
	msgInternalMetadata = "An unexpected error occurred. Please try creating a task again. If the problem persists, please contact Celantur support (hello@celantur.com)."
	msgNoID             = "Getting task results failed. Please enter a task ID."
	msgDeleted          = "Task is deleted. Please upload a new task."
)

// timeFormat is the spec's time: Python's isoformat, UTC, no zone.
const timeFormat = "2006-01-02T15:04:05.000000"

func (a *API) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /v2/task", a.handleCreate)
	m.HandleFunc("GET /v2/task/list", a.handleList)
	m.HandleFunc("GET /v2/task/{$}", a.handleNoID)
	m.HandleFunc("GET /v2/task/{id}", a.handleGet)
	m.HandleFunc("GET /v2/task/{id}/status", a.handleStatus)
	m.HandleFunc("GET /v2/task/{id}/metadata", a.handleMetadata)
	m.HandleFunc("POST /v2/task/{id}/start", a.handleStart)
	m.HandleFunc("DELETE /v2/task/{id}/files", a.handleDelete)
	m.HandleFunc("POST /v2/signin", a.handleSignin)
	m.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found.")
	})
	a.mux = m
}

// errorBody is the spec's error.
type errorBody struct {
	StatusCode int    `json:"status_code"`
	Error      string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	// URLs keep their & as it is (not \u0026), as the spec shows them.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"status_code":500,"error":"` + msgInternal + `"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{code, msg})
}

// internalError logs err and answers the spec's 500.
func (a *API) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.cfg.Logf("cloudapi: %s %s: %v", r.Method, r.URL.Path, err)
	writeError(w, http.StatusInternalServerError, msgInternal)
}

// baseURL is the public URL of the API, ending in "/".
func (a *API) baseURL(r *http.Request) string {
	if a.cfg.BaseURL != "" {
		return strings.TrimSuffix(a.cfg.BaseURL, "/") + "/"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/"
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// taskBody is a task as POST /v2/task and GET /v2/task/{id} answer it.
type taskBody struct {
	CustomerID *string `json:"customer_id,omitempty"`
	TaskID     int64   `json:"task_id"`
	CreateTime string  `json:"create_time"`
	DeleteTime *string `json:"delete_time"`
	Name       *string `json:"name"`
	Params
	ExtractionTypes []string `json:"extraction_types"`
	TaskStatus      string   `json:"task_status"`
	FailureCause    string   `json:"failure_cause,omitempty"`
	WebhookStatus   *string  `json:"webhook_status"`
	FilesDeleted    bool     `json:"files_deleted"`

	UploadURL                       string `json:"upload_url,omitempty"`
	UploadURLExpirationDuration     int    `json:"upload_url_expiration_duration,omitempty"`
	OriginalURL                     string `json:"original_url,omitempty"`
	AnonymizedURL                   string `json:"anonymized_url,omitempty"`
	AnonymizedURLExpirationDuration int    `json:"anonymized_url_expiration_duration,omitempty"`
	BinarySegmentationMaskURL       string `json:"binary_segmentation_mask_url,omitempty"`
	InstanceSegmentationMaskURL     string `json:"instance_segmentation_mask_url,omitempty"`
	MetadataURL                     string `json:"metadata_url"`
}

// statusBody is GET /v2/task/{id}/status.
type statusBody struct {
	TaskID                          int64   `json:"task_id"`
	TaskStatus                      string  `json:"task_status"`
	FailureCause                    string  `json:"failure_cause,omitempty"`
	DeleteTime                      *string `json:"delete_time"`
	Webhook                         *string `json:"webhook"`
	WebhookStatus                   *string `json:"webhook_status"`
	AnonymizedURL                   string  `json:"anonymized_url,omitempty"`
	AnonymizedURLExpirationDuration int     `json:"anonymized_url_expiration_duration,omitempty"`
	MetadataURL                     string  `json:"metadata_url"`
}

func deleteTime(t taskstore.Task) *string {
	if !t.FilesDeleted {
		return nil
	}
	s := formatTime(t.DeleteTime)
	return &s
}

func webhookStatus(t taskstore.Task) *string {
	if t.WebhookStatus == "" {
		return nil
	}
	s := t.WebhookStatus
	return &s
}

// taskBody returns the JSON of t with its download URLs, signed for
// DownloadExpiry; base is the API's URL.
func (c *core) taskBody(ctx context.Context, t taskstore.Task, base string) (taskBody, error) {
	p, err := taskParams(t)
	if err != nil {
		return taskBody{}, err
	}
	b := taskBody{TaskID: t.ID, CreateTime: formatTime(t.Created), DeleteTime: deleteTime(t), Params: p,
		ExtractionTypes: []string{}, TaskStatus: t.Status, FailureCause: t.FailureCause,
		WebhookStatus: webhookStatus(t), FilesDeleted: t.FilesDeleted, MetadataURL: metadataURL(base, t.ID)}
	if t.Status != taskstore.StatusFailed {
		b.FailureCause = ""
	}
	if t.FilesDeleted {
		return b, nil
	}
	if _, err := c.cfg.Blobs.Attributes(ctx, keyOriginal(t.ID)); err == nil {
		if b.OriginalURL, err = c.signGet(ctx, keyOriginal(t.ID)); err != nil {
			return b, err
		}
	} else if !errors.Is(err, blobstore.ErrNotExist) {
		return b, err
	}
	if t.Status != taskstore.StatusDone {
		return b, nil
	}
	res := taskResult(t)
	if b.AnonymizedURL, err = c.signGet(ctx, keyAnonymized(t.ID, res.Format)); err != nil {
		return b, err
	}
	b.AnonymizedURLExpirationDuration = int(c.cfg.DownloadExpiry / time.Second)
	if p.BinarySegmentationMask {
		if b.BinarySegmentationMaskURL, err = c.signGet(ctx, keyBinary(t.ID)); err != nil {
			return b, err
		}
	}
	if p.InstanceSegmentationMask {
		if b.InstanceSegmentationMaskURL, err = c.signGet(ctx, keyInstance(t.ID)); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (c *core) signGet(ctx context.Context, key string) (string, error) {
	return c.cfg.Blobs.SignedURL(ctx, key, http.MethodGet, c.cfg.DownloadExpiry)
}

func metadataURL(base string, id int64) string {
	return fmt.Sprintf("%sv2/task/%d/metadata", base, id)
}

// handleCreate is POST /v2/task.
func (a *API) handleCreate(w http.ResponseWriter, r *http.Request) {
	p, err := parseCreate(r.Body)
	if err != nil {
		var ce *createError
		if errors.As(err, &ce) {
			writeError(w, http.StatusBadRequest, ce.msg)
			return
		}
		a.internalError(w, r, err)
		return
	}
	params, err := json.Marshal(p)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	t := taskstore.Task{Owner: owner(r), Status: taskstore.StatusNew, Params: params}
	if p.Webhook != nil {
		t.WebhookStatus = webhookSet
	}
	if err := a.cfg.Tasks.Create(r.Context(), &t); err != nil {
		a.internalError(w, r, err)
		return
	}
	b, err := a.core.taskBody(r.Context(), t, a.baseURL(r))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if t.Owner != "" {
		b.CustomerID = &t.Owner
	}
	b.UploadURL, err = a.cfg.Blobs.SignedURL(r.Context(), keyOriginal(t.ID), http.MethodPut, a.cfg.UploadExpiry)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	b.UploadURLExpirationDuration = int(a.cfg.UploadExpiry / time.Second)
	writeJSON(w, http.StatusOK, b)
}

func (a *API) handleNoID(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusBadRequest, msgNoID)
}

// task returns the task of the request's id, or answers the spec's
// error and returns false. Another user's task is not found.
func (a *API) task(w http.ResponseWriter, r *http.Request) (taskstore.Task, bool) {
	s := r.PathValue("id")
	if strings.TrimSpace(s) == "" {
		writeError(w, http.StatusBadRequest, msgNoID)
		return taskstore.Task{}, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Wrong format for Task ID. %s is not an integer.", clip(s)))
		return taskstore.Task{}, false
	}
	t, err := a.cfg.Tasks.Get(r.Context(), id)
	if errors.Is(err, taskstore.ErrNotFound) || err == nil && t.Owner != owner(r) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Task ID not found. There is no task with task ID %d.", id))
		return taskstore.Task{}, false
	}
	if err != nil {
		a.internalError(w, r, err)
		return taskstore.Task{}, false
	}
	return t, true
}

// handleGet is GET /v2/task/{id}.
func (a *API) handleGet(w http.ResponseWriter, r *http.Request) {
	t, ok := a.task(w, r)
	if !ok {
		return
	}
	b, err := a.core.taskBody(r.Context(), t, a.baseURL(r))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// handleStatus is GET /v2/task/{id}/status.
func (a *API) handleStatus(w http.ResponseWriter, r *http.Request) {
	t, ok := a.task(w, r)
	if !ok {
		return
	}
	writeStatus(w, r, a, t)
}

func writeStatus(w http.ResponseWriter, r *http.Request, a *API, t taskstore.Task) {
	b, err := a.core.taskBody(r.Context(), t, a.baseURL(r))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusBody{TaskID: b.TaskID, TaskStatus: b.TaskStatus, FailureCause: b.FailureCause,
		DeleteTime: b.DeleteTime, Webhook: b.Webhook, WebhookStatus: b.WebhookStatus, AnonymizedURL: b.AnonymizedURL,
		AnonymizedURLExpirationDuration: b.AnonymizedURLExpirationDuration, MetadataURL: b.MetadataURL})
}

// handleMetadata is GET /v2/task/{id}/metadata: 204 with no body until
// the task is done, when it failed and when it found nothing.
func (a *API) handleMetadata(w http.ResponseWriter, r *http.Request) {
	t, ok := a.task(w, r)
	if !ok {
		return
	}
	if t.FilesDeleted {
		writeError(w, http.StatusNotFound, msgDeleted)
		return
	}
	if t.Status != taskstore.StatusDone || taskResult(t).Detections == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rc, err := a.cfg.Blobs.NewReader(r.Context(), keyMetadata(t.ID))
	if err != nil {
		a.cfg.Logf("cloudapi: task %d: metadata: %v", t.ID, err)
		writeError(w, http.StatusInternalServerError, msgInternalMetadata)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/json")
	io.Copy(w, rc)
}

// handleStart is POST /v2/task/{id}/start: it queues a new task whose
// upload is there, and answers its status.
func (a *API) handleStart(w http.ResponseWriter, r *http.Request) {
	t, ok := a.task(w, r)
	if !ok {
		return
	}
	switch {
	case t.FilesDeleted:
		writeError(w, http.StatusNotFound, msgDeleted)
		return
	case t.Status != taskstore.StatusNew:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Could not start task. Task with ID %d has already been started (its status is %s).", t.ID, t.Status))
		return
	}
	if _, err := a.cfg.Blobs.Attributes(r.Context(), keyOriginal(t.ID)); err != nil {
		if errors.Is(err, blobstore.ErrNotExist) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Could not start task. No file has been uploaded for task with ID %d. Please upload a file to the upload_url first.", t.ID))
			return
		}
		a.internalError(w, r, err)
		return
	}
	var state string
	id := t.ID
	t, err := a.cfg.Tasks.Update(r.Context(), id, func(t *taskstore.Task) error {
		state = t.Status
		if t.Status != taskstore.StatusNew || t.FilesDeleted {
			return errSkip
		}
		t.Status = taskstore.StatusQueued
		return nil
	})
	if errors.Is(err, errSkip) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Could not start task. Task with ID %d has already been started (its status is %s).", id, state))
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.core.logf("task %d queued (start request)", id)
	writeStatus(w, r, a, t)
}

// deleteBody is the answer of DELETE /v2/task/{id}/files.
type deleteBody struct {
	FilesDeleted bool  `json:"files_deleted"`
	TaskID       int64 `json:"task_id"`
}

// handleDelete is DELETE /v2/task/{id}/files.
func (a *API) handleDelete(w http.ResponseWriter, r *http.Request) {
	t, ok := a.task(w, r)
	if !ok {
		return
	}
	errAlready := errors.New("already deleted")
	_, err := a.cfg.Tasks.Update(r.Context(), t.ID, func(t *taskstore.Task) error {
		if t.FilesDeleted {
			return errAlready
		}
		t.FilesDeleted, t.DeleteTime = true, time.Now().UTC()
		return nil
	})
	if errors.Is(err, errAlready) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Task with ID %d already deleted.", t.ID))
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if err := a.cfg.Blobs.DeletePrefix(r.Context(), keyPrefix(t.ID)); err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deleteBody{true, t.ID})
}

// List limits.
const (
	minLimit     = 10
	maxLimit     = 300
	defaultLimit = 10
)

// listBody is the answer of GET /v2/task/list.
type listBody struct {
	Limit       int        `json:"limit"`
	Count       int        `json:"count"`
	NextPageKey *int64     `json:"next_page_key"`
	Items       []listItem `json:"items"`
}

type listItem struct {
	TaskID     int64  `json:"task_id"`
	CreateTime string `json:"create_time"`
	TaskStatus string `json:"task_status"`
}

var taskStatuses = []string{taskstore.StatusNew, taskstore.StatusQueued, taskstore.StatusProcessing,
	taskstore.StatusDone, taskstore.StatusFailed}

// handleList is GET /v2/task/list: the tasks created at or after
// create_time_after and before create_time_before (UTC days), in the
// order of their ids, from after next_page_key. next_page_key is the
// last task of the page when more follow, else null.
func (a *API) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := taskstore.Filter{Owner: owner(r)}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"create_time_before", &f.Before}, {"create_time_after", &f.After}} {
		if !q.Has(d.name) {
			continue
		}
		t, err := time.Parse("2006-01-02", q.Get(d.name))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Please enter a properly formatted time for the %s value. Correct format:  YYYY-MM-DD", d.name))
			return
		}
		*d.dst = t
	}
	if f.Before.IsZero() && f.After.IsZero() {
		writeError(w, http.StatusBadRequest, "No create_time_* parameters have been specified.")
		return
	}
	if !f.Before.IsZero() && !f.After.IsZero() && !f.After.Before(f.Before) {
		writeError(w, http.StatusBadRequest, "Please check your create_time_* parameters. create_time_after can not be later than/equal to create_time_before.")
		return
	}
	if q.Has("task_status") {
		f.Status = q.Get("task_status")
		ok := false
		for _, s := range taskStatuses {
			ok = ok || s == f.Status
		}
		if !ok {
			writeError(w, http.StatusBadRequest, "Please enter a correct task_status. Task status value can only be one of ['new', 'queued', 'processing', 'done', 'failed']")
			return
		}
	}
	if s := q.Get("next_page_key"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Wrong format for task_id. Please enter an integer.")
			return
		}
		f.AfterID = id
	}
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Wrong format for limit. Please enter an integer.")
			return
		}
		limit = min(max(n, minLimit), maxLimit)
	}
	f.Limit = limit + 1
	tasks, err := a.cfg.Tasks.List(r.Context(), f)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	b := listBody{Limit: limit, Items: []listItem{}}
	if len(tasks) > limit {
		tasks = tasks[:limit]
		next := tasks[limit-1].ID
		b.NextPageKey = &next
	}
	for _, t := range tasks {
		b.Items = append(b.Items, listItem{t.ID, formatTime(t.Created), t.Status})
	}
	b.Count = len(b.Items)
	writeJSON(w, http.StatusOK, b)
}
