package server

import (
	"net/http"
	"testing"
	"time"
)

// TestSlots checks that a worker waits for a place of Config.Slots, which
// veil serve shares with the Cloud API v2's workers, before it processes
// a task.
func TestSlots(t *testing.T) {
	slots := make(chan struct{}, 1)
	slots <- struct{}{} // taken by another API's task
	s := newTestServer(t, func(cfg *Config) { cfg.Slots = slots }, nil)
	resp := s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), http.Header{"X-Is-Async": {"true"}})
	id := decodeJSON[map[string]string](t, resp)["id"]
	time.Sleep(300 * time.Millisecond)
	if tk, _ := s.store.get(id); tk.Status != StatusQueued {
		t.Fatalf("task %s while every place is taken, want queued", tk.Status)
	}
	<-slots
	waitEnded(t, s, id)
	if tk, _ := s.store.get(id); tk.Status != StatusDone {
		t.Errorf("task %s once a place is free (%s), want done", tk.Status, tk.Error)
	}
	if len(slots) != 0 {
		t.Errorf("%d places still held after the task", len(slots))
	}
}
