package server

import (
	"errors"
	"fmt"
	"net/http"
)

// taskReply is the body of GET /v1/task/{id}: the spec's result and
// message, and the task's record.
type taskReply struct {
	Result  string `json:"result"`
	Message string `json:"message"`
	Task
}

type resultReply struct {
	Result  string `json:"result"`
	Message string `json:"message"`
}

// handleTaskList is GET /v1/task/list: the tasks, oldest first.
func (s *Server) handleTaskList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.store.list())
}

// handleTask is GET /v1/task/{id}.
func (s *Server) handleTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, ok := s.store.get(id)
	if !ok {
		writeDetail(w, http.StatusUnprocessableEntity, "No task with id %s", echo(id))
		return
	}
	msg := "Task " + id + " is " + t.Status
	if t.Error != "" {
		msg += ": " + t.Error
	}
	if t.Note != "" {
		msg += " (" + t.Note + ")"
	}
	writeJSON(w, http.StatusOK, taskReply{"success", msg, t})
}

// deleteScope parses delete-scope: true for task-and-files (the default),
// false for only-files.
func deleteScope(w http.ResponseWriter, r *http.Request) (record, ok bool) {
	switch v := r.URL.Query().Get("delete-scope"); v {
	case "", "task-and-files":
		return true, true
	case "only-files":
		return false, true
	default:
		writeDetail(w, http.StatusUnprocessableEntity, "delete-scope: want task-and-files or only-files, got %q", echo(v))
		return false, false
	}
}

// handleDeleteTask is DELETE /v1/task/{id}?delete-scope.
func (s *Server) handleDeleteTask(w http.ResponseWriter, r *http.Request) {
	record, ok := deleteScope(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	switch err := s.deleteTask(id, record, false); {
	case errors.Is(err, errNoTask):
		writeDetail(w, http.StatusUnprocessableEntity, "No task with id %s", echo(id))
	case errors.Is(err, errActive):
		writeDetail(w, http.StatusUnprocessableEntity, "Task %s is queued or processing: delete it when it is done or failed", id)
	case err != nil:
		writeDetail(w, http.StatusInternalServerError, "%v", err)
	case record:
		writeJSON(w, http.StatusOK, resultReply{"success", "Task " + id + " and its files have been deleted"})
	default:
		writeJSON(w, http.StatusOK, resultReply{"success", "The files of task " + id + " have been deleted"})
	}
}

// handleDeleteAll is DELETE /v1/task/list?confirm=true&delete-scope. Tasks
// queued or processing are kept.
func (s *Server) handleDeleteAll(w http.ResponseWriter, r *http.Request) {
	confirm := false
	if v := r.URL.Query().Get("confirm"); v != "" {
		var err error
		if confirm, err = parseBool("confirm", v); err != nil {
			writeDetail(w, http.StatusUnprocessableEntity, "%s", err)
			return
		}
	}
	if !confirm {
		writeDetail(w, http.StatusUnprocessableEntity, "Provide confirm=true to delete all tasks")
		return
	}
	record, ok := deleteScope(w, r)
	if !ok {
		return
	}
	deleted, kept := 0, 0
	var errs []error
	for _, t := range s.store.list() {
		switch err := s.deleteTask(t.ID, record, false); {
		case err == nil:
			deleted++
		case errors.Is(err, errActive):
			kept++
		case errors.Is(err, errNoTask):
		default:
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		writeDetail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	what := "tasks and their files"
	if !record {
		what = "the files of tasks"
	}
	msg := fmt.Sprintf("Deleted %s: %d", what, deleted)
	if kept > 0 {
		msg += fmt.Sprintf("; %d tasks queued or processing were kept", kept)
	}
	writeJSON(w, http.StatusOK, resultReply{"success", msg})
}
