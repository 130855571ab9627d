// Package taskstore keeps the records of anonymization tasks and is the
// queue that workers take them from: one Store shared by every API
// process and worker, in SQLite (the embedded default, one machine) or
// PostgreSQL (several machines).
//
// A worker claims a queued task with a lease (Claim), renews the lease
// while it works (Renew) and ends the task with Finish, which succeeds
// only while the worker still holds the lease. A worker that dies leaves
// a lease that runs out; the next Claim takes the task over. So no task
// is lost, and no task's result is recorded twice: a worker whose lease
// was taken over gets ErrLeaseLost from Finish and must drop its result.
//
// # Databases
//
// Open takes a DSN:
//
//	postgres://user:pass@host:5432/veil?sslmode=disable  PostgreSQL; postgresql:// too: any pgx connection URL
//	sqlite:/var/lib/veil/tasks.db                         SQLite, the file (created when absent)
//	/var/lib/veil/tasks.db                                the same
//	sqlite::memory:                                       SQLite in memory, for one process
//
// Both keep the tasks in the table veil_tasks, which Open creates when it
// is absent (in PostgreSQL, in the first schema of the search_path);
// several processes may open a database at once. SQLite runs in WAL
// mode, so readers do not wait for the writer, and every transaction
// takes the write lock when it begins (BEGIN IMMEDIATE), waiting up to
// 10 s for it: processes on one machine may share the file, but not
// processes on several machines (use PostgreSQL there). IDs increase in
// the order of creation and are never reused; times are kept in UTC to
// the microsecond; Params and Result are kept as they were given (in
// PostgreSQL as json, which keeps the text).
//
// # Leases
//
// Claim takes the task with the lowest ID that is queued, or processing
// with a lease that ran out, sets it processing with Worker and
// LeaseUntil = now + lease, and adds one to Attempts, in one transaction
// (in PostgreSQL, SELECT ... FOR UPDATE SKIP LOCKED, so workers claiming
// at once take different tasks without waiting for each other). The
// worker renews the lease (Renew) well before it runs out, such as every
// third of it. Renew and Finish succeed while the task is processing and
// its Worker is the worker: a lease that ran out still holds until a
// Claim takes the task over. So a worker's name must be
// its own among the workers that share the store, and its own among the
// claims it makes at once (such as "host:pid:n" for the n-th claiming
// goroutine of the process).
//
// "Now" is PostgreSQL's clock (now(), the start of the transaction), so
// that workers on machines whose clocks differ agree on when a lease runs
// out; with SQLite it is the clock of the process, which the processes
// sharing the file, all on one machine, read alike.
//
// Missing tasks give ErrNotFound, from every method that takes an ID
// (Renew and Finish too).
//
// # Records
//
// A Store also keeps the records of other APIs, such as the Container
// REST API v1's tasks, so that they live in the same database: opaque
// text by kind and ID, in the table veil_records, which Open creates with
// veil_tasks (see RecordStore).
package taskstore

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"
)

// Task states.
const (
	StatusNew        = "new"        // created, waiting for its upload or start request
	StatusQueued     = "queued"     // waiting for a worker
	StatusProcessing = "processing" // a worker holds its lease
	StatusDone       = "done"       // its outputs are in the blob store
	StatusFailed     = "failed"     // see Task.FailureCause
)

// Failure causes (the Cloud API v2's failure_cause).
const (
	CauseImageDefect = "IMAGE_DEFECT"
	CauseFileMissing = "TASK_FILE_DOESNT_EXIST"
	CauseInternal    = "INTERNAL_ERROR"
	CauseContentType = "CONTENT_TYPE_ERROR"
)

// Errors.
var (
	ErrNotFound  = errors.New("taskstore: no such task")
	ErrNoTask    = errors.New("taskstore: no task to claim")
	ErrLeaseLost = errors.New("taskstore: the lease was lost to another worker")
)

// Task is the record of one task. The store sets ID (increasing in the
// order of creation), Created and Updated; Params and Result are the
// API's own JSON, kept as they are.
type Task struct {
	ID      int64
	Owner   string // the user who created it; "" where there are no users
	Status  string
	Created time.Time
	Updated time.Time

	// FailureCause is one of the Cause constants when Status is failed;
	// Error says more, for logs.
	FailureCause string
	Error        string

	// Params are the task's parameters (the create request, completed
	// with the defaults).
	Params json.RawMessage
	// Result is what processing found (such as the number of
	// detections); set by Finish.
	Result json.RawMessage

	// FilesDeleted is set once the task's files are deleted; DeleteTime
	// is when.
	FilesDeleted bool
	DeleteTime   time.Time

	// WebhookStatus is the state of the task's webhook, "" when it has
	// none.
	WebhookStatus string

	// Worker holds the lease until LeaseUntil while Status is
	// processing; Attempts counts the claims.
	Worker     string
	LeaseUntil time.Time
	Attempts   int
}

// Filter selects the tasks List returns: those of Owner (any owner when
// AnyOwner), in Status when it is not "", created at or after After and
// before Before where they are not zero, with an ID above AfterID, in
// the order of their IDs, at most Limit (all when Limit <= 0).
type Filter struct {
	Owner    string
	AnyOwner bool
	Status   string
	After    time.Time
	Before   time.Time
	AfterID  int64
	Limit    int
}

// Store is a task store. Its methods are safe for concurrent use, by
// goroutines and by processes sharing the database.
type Store interface {
	// Create records t, setting its ID, Created and Updated.
	Create(ctx context.Context, t *Task) error
	// Get returns the task, or ErrNotFound.
	Get(ctx context.Context, id int64) (Task, error)
	// List returns the tasks f selects.
	List(ctx context.Context, f Filter) ([]Task, error)
	// Update applies fn to the task in one transaction and returns the
	// task as stored; an error from fn is returned and nothing changes.
	// It does not change Worker, LeaseUntil or Attempts.
	Update(ctx context.Context, id int64, fn func(*Task) error) (Task, error)
	// Claim takes the oldest queued task, or a processing one whose lease
	// ran out, for worker: status processing, Worker, LeaseUntil = now +
	// lease, Attempts + 1. It returns ErrNoTask when there is none.
	Claim(ctx context.Context, worker string, lease time.Duration) (Task, error)
	// Renew extends the lease worker holds on the task to now + lease, or
	// returns ErrLeaseLost.
	Renew(ctx context.Context, id int64, worker string, lease time.Duration) error
	// Finish applies fn to the task and releases the lease, in one
	// transaction, if worker still holds it; else it returns
	// ErrLeaseLost and changes nothing. fn sets the final status.
	Finish(ctx context.Context, id int64, worker string, fn func(*Task) error) (Task, error)
	// Delete removes the task's record, or returns ErrNotFound.
	Delete(ctx context.Context, id int64) error
	// Close closes the store.
	Close() error

	RecordStore
}

// Record is a record of another API's: its ID and its data, which the
// store keeps as they are. Data is text (UTF-8 without NUL bytes), such
// as JSON.
type Record struct {
	ID   string
	Data []byte
}

// RecordStore keeps the records of other APIs, by kind (the API's name,
// such as "v1") and ID. Its methods are safe for concurrent use.
type RecordStore interface {
	// PutRecord stores data as the record id of kind, replacing the
	// record by that kind and ID if there is one. Where the database or
	// its disk is full, the error matches syscall.ENOSPC (errors.Is).
	PutRecord(ctx context.Context, kind, id string, data []byte) error
	// DeleteRecord removes the record id of kind; there being none is no
	// error.
	DeleteRecord(ctx context.Context, kind, id string) error
	// Records returns the records of kind, in the byte order of their
	// IDs.
	Records(ctx context.Context, kind string) ([]Record, error)
}

// Redact returns dsn with the password of a postgres:// DSN replaced by
// xxxxx, for messages and logs.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return dsn
}
