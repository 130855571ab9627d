package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/veilkit/veil/internal/atomicfile"
	"github.com/veilkit/veil/internal/taskstore"
)

// Task states.
const (
	StatusNew        = "new"        // uploaded, not yet queued
	StatusQueued     = "queued"     // waiting for a worker
	StatusProcessing = "processing" // a worker is on it
	StatusDone       = "done"       // its files can be downloaded
	StatusFailed     = "failed"     // see Error
)

// Task is the record of one upload, persisted as JSON in the record
// store.
type Task struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Kind        string    `json:"kind"`         // "image" or "video"
	ContentType string    `json:"content_type"` // of the upload
	Filename    string    `json:"filename"`     // the uploaded file's name
	Input       string    `json:"input"`        // its file in the input folder
	InputSize   int64     `json:"input_size"`   // its size, checked after a restart
	Query       string    `json:"query"`        // the upload's parameters (webhook ones left out)
	Async       bool      `json:"async"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Objects     int       `json:"objects"`          // objects found (image) or detections (video)
	Frames      int       `json:"frames,omitempty"` // of a video
	Duration    float64   `json:"duration"`         // seconds of processing
	Error       string    `json:"error,omitempty"`  // why it failed
	// Attempts counts the times a worker started the task: more than one
	// when a restart interrupted it and it was re-queued (see Note).
	Attempts int `json:"attempts,omitempty"`
	// Note says what befell the task, such as a re-queueing after a
	// restart.
	Note string `json:"note,omitempty"`
	// FilesDeleted is set by a delete with scope only-files.
	FilesDeleted bool `json:"files_deleted,omitempty"`
}

func (t *Task) active() bool {
	return t.Status == StatusNew || t.Status == StatusQueued || t.Status == StatusProcessing
}

// entry is a task in memory.
type entry struct {
	wmu     sync.Mutex // serializes the writes of the record
	t       Task
	removed bool
	hook    *webhook      // not persisted: it may hold a secret
	done    chan struct{} // closed when the task is done or failed
	err     error         // the processing error, for synchronous replies
	// waited is set while a synchronous request waits for the task and
	// replies: Server.pruneSync leaves it.
	waited bool
}

// kindFile is the file of the output folder that holds the kind of its
// task records in the record store: "v1:" and a random ID, made at the
// first start. So the records of each output folder are its own: servers
// with output folders of their own may share one record store (such as
// the database of the Cloud API v2's tasks, which several processes
// share) without seeing each other's tasks, whose files they lack.
const kindFile = ".task-records"

// recordKindOf returns the kind of the task records of the output folder
// dir, making it when dir has none.
func recordKindOf(dir string) (string, error) {
	p := filepath.Join(dir, kindFile)
	b, err := os.ReadFile(p)
	if err == nil {
		kind := strings.TrimSpace(string(b))
		if id, ok := strings.CutPrefix(kind, "v1:"); !ok || !validID(id) {
			return "", fmt.Errorf("%s: %q is not a kind of task records", p, clip(kind, maxEcho))
		}
		return kind, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	kind := "v1:" + newID()
	err = atomicfile.WriteFile(p, 0o666, func(w io.Writer) error {
		_, err := io.WriteString(w, kind+"\n")
		return err
	})
	return kind, err
}

// store holds the task records: in memory, written through to a record
// store (kind kind, the task's ID, its JSON).
type store struct {
	recs  taskstore.RecordStore
	kind  string
	mu    sync.Mutex
	tasks map[string]*entry
	// failWrite, when set (by tests), is called before a record is
	// written; its error fails the write.
	failWrite func(Task) error
	// logf, when set, logs a line per change of a task's state.
	logf func(format string, args ...any)
}

var errNoTask = errors.New("no such task")

// openStore reads the task records of kind in recs. interrupted returns
// the ids of the tasks that a crash left new, queued or processing,
// oldest first: their records are as the crash left them, for the caller
// to re-queue or fail.
func openStore(recs taskstore.RecordStore, kind string) (s *store, interrupted []string, err error) {
	rs, err := recs.Records(context.Background(), kind)
	if err != nil {
		return nil, nil, err
	}
	s = &store{recs: recs, kind: kind, tasks: make(map[string]*entry, len(rs))}
	for _, r := range rs {
		var t Task
		if err := json.Unmarshal(r.Data, &t); err != nil || t.ID != r.ID || !validID(r.ID) {
			return nil, nil, fmt.Errorf("task record %q: unreadable (%v)", r.ID, err)
		}
		e := &entry{t: t, done: make(chan struct{})}
		if t.active() {
			interrupted = append(interrupted, t.ID)
		} else {
			close(e.done)
		}
		s.tasks[t.ID] = e
	}
	slices.SortFunc(interrupted, func(a, b string) int {
		return compareTasks(s.tasks[a].t, s.tasks[b].t)
	})
	return s, interrupted, nil
}

// importFiles moves the task records that earlier versions kept as files
// in dir, one per task (ID.json), into recs as records of kind, and
// removes them, with the temporary files a crash left when it cut a
// record's write (atomicfile's), and dir itself when that leaves it
// empty. Other files are left alone. It returns the number of records
// moved.
func importFiles(recs taskstore.RecordStore, kind, dir string) (int, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, de := range des {
		name := de.Name()
		if _, ok := atomicfile.TempFor(name); ok && de.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return n, err
			}
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || !validID(id) || !de.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return n, err
		}
		var t Task
		if err := json.Unmarshal(b, &t); err != nil || t.ID != id {
			return n, fmt.Errorf("task record %s: unreadable (%v)", filepath.Join(dir, name), err)
		}
		if b, err = marshalTask(t); err != nil {
			return n, err
		}
		if err := recs.PutRecord(context.Background(), kind, id, b); err != nil {
			return n, err
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return n, err
		}
		n++
	}
	os.Remove(dir) // only if empty
	return n, nil
}

// compareTasks orders tasks oldest first.
func compareTasks(a, b Task) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// marshalTask returns the record of t.
func marshalTask(t Task) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// write stores the record of t.
func (s *store) write(t Task) error {
	if s.failWrite != nil {
		if err := s.failWrite(t); err != nil {
			return err
		}
	}
	b, err := marshalTask(t)
	if err != nil {
		return err
	}
	return s.recs.PutRecord(context.Background(), s.kind, t.ID, b)
}

// add persists and inserts a new task; waited says whether a request
// waits for it (entry.waited).
func (s *store) add(t Task, h *webhook, waited bool) (*entry, error) {
	if err := s.write(t); err != nil {
		return nil, err
	}
	e := &entry{t: t, hook: h, done: make(chan struct{}), waited: waited}
	s.mu.Lock()
	s.tasks[t.ID] = e
	s.mu.Unlock()
	return e, nil
}

func (s *store) entry(id string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[id]
}

// get returns a copy of the task id.
func (s *store) get(id string) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.tasks[id]
	if !ok {
		return Task{}, false
	}
	return e.t, true
}

// update changes the task id with fn and persists it; the writes of one
// task land in the order of the updates.
func (s *store) update(id string, fn func(*Task)) (Task, error) {
	e := s.entry(id)
	if e == nil {
		return Task{}, errNoTask
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	s.mu.Lock()
	if e.removed {
		s.mu.Unlock()
		return Task{}, errNoTask
	}
	was := e.t.Status
	fn(&e.t)
	e.t.Updated = time.Now().UTC()
	t := e.t
	s.mu.Unlock()
	if err := s.write(t); err != nil {
		return t, err
	}
	if t.Status != was && s.logf != nil {
		s.logf("%s", stateLine(t))
	}
	return t, nil
}

// stateLine is the log line of task t entering its state.
func stateLine(t Task) string {
	switch t.Status {
	case StatusProcessing:
		return fmt.Sprintf("task %s: processing (%s %q, attempt %d)", t.ID, t.Kind, t.Filename, t.Attempts)
	case StatusDone:
		return fmt.Sprintf("task %s: done in %.3fs (%d objects)", t.ID, t.Duration, t.Objects)
	case StatusFailed:
		return fmt.Sprintf("task %s: failed after %.3fs: %s", t.ID, t.Duration, t.Error)
	}
	return fmt.Sprintf("task %s: %s", t.ID, t.Status)
}

// list returns copies of the tasks, oldest first.
func (s *store) list() []Task {
	s.mu.Lock()
	ts := make([]Task, 0, len(s.tasks))
	for _, e := range s.tasks {
		ts = append(ts, e.t)
	}
	s.mu.Unlock()
	slices.SortFunc(ts, compareTasks)
	return ts
}

// setWaited sets e.waited.
func (s *store) setWaited(e *entry, v bool) {
	s.mu.Lock()
	e.waited = v
	s.mu.Unlock()
}

// task returns a copy of e's task, removed or not.
func (s *store) task(e *entry) Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.t
}

// syncEnded returns copies of the synchronous tasks that are done or
// failed and that no request waits for, the last to end first.
func (s *store) syncEnded() []Task {
	var ts []Task
	s.mu.Lock()
	for _, e := range s.tasks {
		if !e.t.Async && !e.t.active() && !e.waited {
			ts = append(ts, e.t)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(ts, func(a, b Task) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return compareTasks(b, a)
	})
	return ts
}

var errActive = errors.New("task is queued or processing")

// remove deletes the record of id, unless the task is active (and force
// is false).
func (s *store) remove(id string, force bool) error {
	e := s.entry(id)
	if e == nil {
		return errNoTask
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	s.mu.Lock()
	if e.removed {
		s.mu.Unlock()
		return errNoTask
	}
	if e.t.active() && !force {
		s.mu.Unlock()
		return errActive
	}
	e.removed = true
	delete(s.tasks, id)
	s.mu.Unlock()
	return s.recs.DeleteRecord(context.Background(), s.kind, id)
}
