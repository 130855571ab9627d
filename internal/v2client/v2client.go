// Package v2client is a small client of veil serve's Cloud API v2, for the
// tests and load tests that drive one or more veil serve processes: it
// creates a task, uploads its image to the task's upload_url, and waits
// for the task to end.
package v2client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client talks to the Cloud API v2 at Base (http://host:port/, with or
// without the trailing slash).
type Client struct {
	Base  string
	Token string       // sent as "Authorization: Bearer Token" when set
	HTTP  *http.Client // nil: http.DefaultClient
}

// Error is an answer other than 200, with the API's error body.
type Error struct {
	Method, Path string
	StatusCode   int
	Body         string
}

func (e *Error) Error() string {
	return fmt.Sprintf("v2client: %s %s: %d %.300s", e.Method, e.Path, e.StatusCode, e.Body)
}

// Task is a task as GET /v2/task/{id} answers it: the fields the
// clients here use, and every field in All.
type Task struct {
	ID            int64
	Status        string // new, queued, processing, done or failed
	FailureCause  string
	AnonymizedURL string
	All           map[string]any
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends a request to the API and returns the body of a 200 answer.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{method, path, resp.StatusCode, string(b)}
	}
	return b, nil
}

// Create creates a task with the JSON parameters params (POST /v2/task)
// and returns its id and upload URL.
func (c *Client) Create(ctx context.Context, params string) (id int64, uploadURL string, err error) {
	b, err := c.do(ctx, "POST", "/v2/task", []byte(params))
	if err != nil {
		return 0, "", err
	}
	var r struct {
		TaskID    int64  `json:"task_id"`
		UploadURL string `json:"upload_url"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.UploadURL == "" {
		return 0, "", fmt.Errorf("v2client: create: unexpected answer %.300s", b)
	}
	return r.TaskID, r.UploadURL, nil
}

// Upload puts data to a task's upload URL, as a client of the API does
// (straight into the bucket when the URL is an S3 pre-signed one).
func (c *Client) Upload(ctx context.Context, uploadURL, contentType string, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, "PUT", uploadURL, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &Error{"PUT", "upload_url", resp.StatusCode, string(b)}
	}
	return nil
}

// Task returns the task id (GET /v2/task/{id}).
func (c *Client) Task(ctx context.Context, id int64) (Task, error) {
	b, err := c.do(ctx, "GET", "/v2/task/"+strconv.FormatInt(id, 10), nil)
	if err != nil {
		return Task{}, err
	}
	t := Task{ID: id}
	if err := json.Unmarshal(b, &t.All); err != nil {
		return Task{}, fmt.Errorf("v2client: task %d: %v", id, err)
	}
	t.Status, _ = t.All["task_status"].(string)
	t.FailureCause, _ = t.All["failure_cause"].(string)
	t.AnonymizedURL, _ = t.All["anonymized_url"].(string)
	return t, nil
}

// Wait polls the task id every poll until it is done or failed, or ctx
// is done.
func (c *Client) Wait(ctx context.Context, id int64, poll time.Duration) (Task, error) {
	for {
		t, err := c.Task(ctx, id)
		if err != nil {
			return t, err
		}
		if t.Status == "done" || t.Status == "failed" {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, fmt.Errorf("v2client: task %d still %s: %w", id, t.Status, ctx.Err())
		case <-time.After(poll):
		}
	}
}
