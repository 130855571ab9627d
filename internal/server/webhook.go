package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// webhook is where a task's end is notified.
type webhook struct {
	url, name, value string
}

// webhookBody is the notification the spec shows.
type webhookBody struct {
	TS    string `json:"ts"`
	Type  string `json:"type"`
	Event struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"event"`
}

// tsFormat is the spec's timestamp: Python's isoformat without a zone.
const tsFormat = "2006-01-02T15:04:05.000000"

// notify posts the status of task id to h from a goroutine of its own,
// so a worker never waits for a webhook. At most WebhookConcurrency posts
// run at once; each is retried with exponential backoff.
func (s *Server) notify(h *webhook, id, status string) {
	var body webhookBody
	body.TS = time.Now().UTC().Format(tsFormat)
	body.Type = "notification.processing.status.changed"
	body.Event.ID, body.Event.Status = id, status
	data, _ := json.Marshal(body)
	s.hookWG.Add(1)
	go func() {
		defer s.hookWG.Done()
		select {
		case s.hookSem <- struct{}{}:
		case <-s.hookCtx.Done():
			return
		}
		defer func() { <-s.hookSem }()
		backoff := s.cfg.WebhookBackoff
		for attempt := 1; ; attempt++ {
			err := s.postHook(h, data)
			if err == nil {
				return
			}
			if attempt >= s.cfg.WebhookAttempts {
				s.logf("webhook %s for task %s: giving up after %d attempts: %v", h.url, id, attempt, err)
				return
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.hookCtx.Done():
				t.Stop()
				return
			}
			backoff *= 2
		}
	}()
}

func (s *Server) postHook(h *webhook, data []byte) error {
	ctx, cancel := context.WithTimeout(s.hookCtx, s.cfg.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.name != "" {
		req.Header.Set(h.name, h.value)
	}
	resp, err := s.hookClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
