package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/veilkit/veil/internal/atomicfile"
)

// maxAttempts is the number of times a task is started before a restart
// that interrupts it marks it failed instead of re-queueing it: a task
// that brings the server down is not retried forever.
const maxAttempts = 3

// recoverTasks re-queues the tasks ids that a crash interrupted, oldest
// first, when their input is intact, they have been started fewer than
// maxAttempts times and the queue has room; it marks the others failed,
// saying why. Their partial outputs are removed either way. It runs
// before the workers start.
func (s *Server) recoverTasks(ids []string) error {
	for _, id := range ids {
		t, ok := s.store.get(id)
		if !ok {
			continue
		}
		if err := os.RemoveAll(s.outDir(id)); err != nil {
			return err
		}
		why := s.notRequeued(t)
		if why == "" {
			note := fmt.Sprintf("re-queued after a restart interrupted it (attempt %d of %d next)", t.Attempts+1, maxAttempts)
			if t.Attempts == 0 {
				note = "re-queued after a restart, before it had started"
			}
			if _, err := s.store.update(id, func(t *Task) { t.Status, t.Note = StatusQueued, note }); err != nil {
				return err
			}
			s.jobs <- id // notRequeued saw room
			s.logf("task %s: %s", id, note)
			continue
		}
		msg := "interrupted: the server stopped before the task was done, and " + why
		if _, err := s.store.update(id, func(t *Task) { t.Status, t.Error = StatusFailed, msg }); err != nil {
			return err
		}
		close(s.store.entry(id).done)
		s.logf("task %s: marked failed (%s)", id, msg)
	}
	return nil
}

// notRequeued says why the interrupted task t cannot be re-queued, or
// returns "".
func (s *Server) notRequeued(t Task) string {
	if t.Attempts >= maxAttempts {
		return fmt.Sprintf("it was started %d times: given up", t.Attempts)
	}
	if t.Input == "" || t.FilesDeleted {
		return "its input is gone: upload it again"
	}
	fi, err := os.Stat(filepath.Join(s.cfg.InputDir, t.Input))
	if err != nil || !fi.Mode().IsRegular() || t.InputSize > 0 && fi.Size() != t.InputSize {
		return "its input is missing or incomplete: upload it again"
	}
	if len(s.jobs) == cap(s.jobs) {
		return "the queue had no room for it: upload it again"
	}
	return ""
}

// inputExts are the extensions of the inputs the server writes.
var inputExts = map[string]bool{".jpg": true, ".png": true}

func init() {
	for e := range videoExts {
		inputExts[e] = true
	}
}

// removeLeftovers removes what a crash can leave in the folders with no
// task record to delete it by: the temporary file of an upload being
// written (.ID.EXT.tmpNNN in the input folder, as atomicfile.WriteFile names it: a partial copy of an
// original), an input whose record was not written yet or was already
// removed, and an output folder without a record. Other files are left
// alone.
func (s *Server) removeLeftovers() error {
	des, err := os.ReadDir(s.cfg.InputDir)
	if err != nil {
		return err
	}
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		var why string
		if in, ok := atomicfile.TempFor(name); ok && validID(strings.SplitN(in, ".", 2)[0]) {
			why = "an upload cut short"
		} else if id, ext, _ := strings.Cut(name, "."); validID(id) && inputExts["."+ext] && !s.hasTask(id) {
			why = "an upload without a task record"
		} else {
			continue
		}
		if err := os.Remove(filepath.Join(s.cfg.InputDir, name)); err != nil {
			return err
		}
		s.logf("removed %s from the input folder: %s", name, why)
	}
	des, err = os.ReadDir(s.cfg.OutputDir)
	if err != nil {
		return err
	}
	for _, de := range des {
		if id := de.Name(); de.IsDir() && validID(id) && !s.hasTask(id) {
			if err := os.RemoveAll(s.outDir(id)); err != nil {
				return err
			}
			s.logf("removed %s from the output folder: outputs without a task record", id)
		}
	}
	return nil
}

func (s *Server) hasTask(id string) bool {
	_, ok := s.store.get(id)
	return ok
}
