package cloudapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/veilkit/veil/internal/taskstore"
)

// Values of webhook_status.
const (
	webhookSet    = "set" // a webhook is set and not yet sent
	webhookSent   = "sent"
	webhookFailed = "failed"
)

// sendWebhook posts the JSON of the done task t (as GET /v2/task/{id}
// answers it) to its webhook, from a goroutine of its own, retrying with
// exponential backoff; then it records webhook_status "sent" or
// "failed". A shutdown (ctx done) stops the retries and leaves "set".
func (c *core) sendWebhook(ctx context.Context, t taskstore.Task) {
	p, err := taskParams(t)
	if err != nil || p.Webhook == nil {
		return
	}
	url := *p.Webhook
	c.hooks.Go(func() {
		body, err := c.taskBody(ctx, t, c.cfg.BaseURL)
		if err != nil {
			c.logf("task %d: webhook: %v", t.ID, err)
			return
		}
		data, _ := json.Marshal(body)
		status := webhookFailed
		backoff := c.cfg.WebhookBackoff
		for attempt := 1; ; attempt++ {
			err := c.postHook(ctx, url, data)
			if err == nil {
				status = webhookSent
				break
			}
			if ctx.Err() != nil {
				return
			}
			if attempt >= c.cfg.WebhookAttempts {
				c.logf("task %d: webhook %s: giving up after %d attempts: %v", t.ID, url, attempt, err)
				break
			}
			sleep(ctx, backoff)
			backoff *= 2
		}
		_, err = c.cfg.Tasks.Update(ctx, t.ID, func(t *taskstore.Task) error {
			t.WebhookStatus = status
			return nil
		})
		if err != nil {
			c.logf("task %d: webhook status: %v", t.ID, err)
		}
	})
}

func (c *core) postHook(ctx context.Context, url string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
