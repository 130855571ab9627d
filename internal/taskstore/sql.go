package taskstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"               // the "sqlite" database/sql driver
)

// Open opens the store dsn names and creates its table when it is
// absent:
//
//	postgres://... or postgresql://...  PostgreSQL (a pgx connection string)
//	sqlite:PATH or PATH                 SQLite, the file PATH (":memory:": in memory, one process)
//
// Several processes may open the same database at once.
func Open(ctx context.Context, dsn string) (Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		// sqlite:///abs/path and sqlite://rel/path name files too.
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return nil, fmt.Errorf("taskstore: unknown database %q (want postgres://, postgresql:// or sqlite:)", scheme)
	}
	return openSQLite(ctx, dsn)
}

// columns are the columns of table in the order scanTask reads them.
const columns = "id, owner, status, created, updated, failure_cause, error, params, result, " +
	"files_deleted, delete_time, webhook_status, worker, lease_until, attempts"

const sqliteSchema = `CREATE TABLE IF NOT EXISTS veil_tasks (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	owner          TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL,
	created        TEXT NOT NULL,
	updated        TEXT NOT NULL,
	failure_cause  TEXT NOT NULL DEFAULT '',
	error          TEXT NOT NULL DEFAULT '',
	params         TEXT,
	result         TEXT,
	files_deleted  INTEGER NOT NULL DEFAULT 0,
	delete_time    TEXT,
	webhook_status TEXT NOT NULL DEFAULT '',
	worker         TEXT NOT NULL DEFAULT '',
	lease_until    TEXT,
	attempts       INTEGER NOT NULL DEFAULT 0
)`

const postgresSchema = `CREATE TABLE IF NOT EXISTS veil_tasks (
	id             BIGSERIAL PRIMARY KEY,
	owner          text NOT NULL DEFAULT '',
	status         text NOT NULL,
	created        timestamptz NOT NULL,
	updated        timestamptz NOT NULL,
	failure_cause  text NOT NULL DEFAULT '',
	error          text NOT NULL DEFAULT '',
	params         json,
	result         json,
	files_deleted  boolean NOT NULL DEFAULT false,
	delete_time    timestamptz,
	webhook_status text NOT NULL DEFAULT '',
	worker         text NOT NULL DEFAULT '',
	lease_until    timestamptz,
	attempts       integer NOT NULL DEFAULT 0
)`

// indexes serve List by owner and Claim; both databases take them.
var indexes = []string{
	`CREATE INDEX IF NOT EXISTS veil_tasks_owner ON veil_tasks (owner, id)`,
	`CREATE INDEX IF NOT EXISTS veil_tasks_claim ON veil_tasks (id) WHERE status IN ('queued', 'processing')`,
}

// recordsSchema is the table of the records of other APIs
// (RecordStore); both databases take it.
const recordsSchema = `CREATE TABLE IF NOT EXISTS veil_records (
	kind TEXT NOT NULL,
	id   TEXT NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (kind, id)
)`

// schemaLock is the PostgreSQL advisory lock that serializes the
// creation of the schema ("veiltask").
const schemaLock int64 = 0x7665696c7461736b

// maxIdle is how many idle connections a store keeps.
const maxIdle = 8

// sqlStore is a Store in a database/sql database, PostgreSQL or SQLite.
// Its statements are written once, with $N parameters (which SQLite
// takes too) and the tokens {now}, {lease} and {lock} that bind replaces.
type sqlStore struct {
	db *sql.DB
	pg bool // PostgreSQL, else SQLite
}

func openPostgres(ctx context.Context, dsn string) (Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("taskstore: %w", err)
	}
	// Keep the connections of a few busy workers: a new one costs
	// PostgreSQL a process.
	db.SetMaxIdleConns(maxIdle)
	s := &sqlStore{db: db, pg: true}
	// The advisory lock makes processes that open a new database at
	// once create the schema one after the other: CREATE TABLE IF NOT
	// EXISTS alone can fail on a unique violation in the catalog.
	schema := append([]string{fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", schemaLock), postgresSchema, recordsSchema}, indexes...)
	if err := s.exec(ctx, schema); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	if path == "" {
		return nil, errors.New("taskstore: no database named")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("taskstore: SQLite path %q has a '?'", path)
	}
	// WAL lets readers go on while one connection writes; busy_timeout
	// makes a writer wait for the lock instead of failing; and every
	// transaction begins IMMEDIATE, taking the write lock at once, so two
	// transactions never read the same row and then both write it.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("taskstore: %w", err)
	}
	db.SetMaxIdleConns(maxIdle)
	if path == ":memory:" {
		// Each connection would have a database of its own.
		db.SetMaxOpenConns(1)
	}
	s := &sqlStore{db: db}
	if err := s.exec(ctx, append([]string{sqliteSchema, recordsSchema}, indexes...)); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// exec runs stmts in one transaction.
func (s *sqlStore) exec(ctx context.Context, stmts []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("taskstore: %w", err)
	}
	defer tx.Rollback()
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("taskstore: creating the schema: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("taskstore: creating the schema: %w", err)
	}
	return nil
}

// bind returns query ready for the database, and its arguments: args,
// then those bind adds. It replaces {now} with the current time, {lease}
// with the current time plus lease and {lock} with the clause that locks
// the rows a SELECT returns and skips those locked already.
//
// PostgreSQL's time is its now() (the start of the transaction), so the
// processes sharing it may run on machines whose clocks differ; SQLite's
// is the clock of the process, which every process sharing the file (on
// one machine) reads alike.
func (s *sqlStore) bind(query string, lease time.Duration, args ...any) (string, []any) {
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if s.pg {
		if strings.Contains(query, "{lease}") {
			query = strings.ReplaceAll(query, "{lease}", "now() + "+param(lease.Microseconds())+" * interval '1 microsecond'")
		}
		query = strings.ReplaceAll(query, "{now}", "now()")
		return strings.ReplaceAll(query, "{lock}", "FOR UPDATE SKIP LOCKED"), args
	}
	now := time.Now()
	if strings.Contains(query, "{now}") {
		query = strings.ReplaceAll(query, "{now}", param(s.timeArg(now)))
	}
	if strings.Contains(query, "{lease}") {
		query = strings.ReplaceAll(query, "{lease}", param(s.timeArg(now.Add(lease))))
	}
	// BEGIN IMMEDIATE has locked the database already.
	return strings.ReplaceAll(query, "{lock}", ""), args
}

// timeLayout is how SQLite keeps times: in UTC, to the microsecond,
// fixed-width, so that comparing the strings compares the times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// timeArg returns t as an argument for the database; the zero time is
// NULL.
func (s *sqlStore) timeArg(t time.Time) any {
	switch {
	case t.IsZero():
		return nil
	case s.pg:
		return t.UTC()
	}
	return t.UTC().Format(timeLayout)
}

// jsonArg returns b as an argument for the database; empty is NULL.
func jsonArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// timeDest scans a time column into *t: NULL is the zero time.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(v any) error {
	var err error
	switch v := v.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case string:
		*d.t, err = time.Parse(timeLayout, v)
	case []byte:
		*d.t, err = time.Parse(timeLayout, string(v))
	default:
		err = fmt.Errorf("taskstore: cannot scan %T into a time", v)
	}
	return err
}

// scanTask reads a row of columns.
func scanTask(row interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var params, result []byte
	err := row.Scan(&t.ID, &t.Owner, &t.Status, timeDest{&t.Created}, timeDest{&t.Updated},
		&t.FailureCause, &t.Error, &params, &result,
		&t.FilesDeleted, timeDest{&t.DeleteTime}, &t.WebhookStatus,
		&t.Worker, timeDest{&t.LeaseUntil}, &t.Attempts)
	t.Params, t.Result = params, result
	return t, err
}

// Create records t, setting its ID, Created and Updated; an empty Status
// is StatusNew.
func (s *sqlStore) Create(ctx context.Context, t *Task) error {
	if t.Status == "" {
		t.Status = StatusNew
	}
	q, args := s.bind(`INSERT INTO veil_tasks (owner, status, created, updated, failure_cause, error, params, result,
		files_deleted, delete_time, webhook_status, worker, lease_until, attempts)
		VALUES ($1, $2, {now}, {now}, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING id, created, updated`, 0,
		t.Owner, t.Status, t.FailureCause, t.Error, jsonArg(t.Params), jsonArg(t.Result),
		t.FilesDeleted, s.timeArg(t.DeleteTime), t.WebhookStatus, t.Worker, s.timeArg(t.LeaseUntil), t.Attempts)
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&t.ID, timeDest{&t.Created}, timeDest{&t.Updated})
	if err != nil {
		return fmt.Errorf("taskstore: creating a task: %w", err)
	}
	return nil
}

// Get returns the task, or ErrNotFound.
func (s *sqlStore) Get(ctx context.Context, id int64) (Task, error) {
	t, err := scanTask(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM veil_tasks WHERE id = $1`, id))
	return t, taskErr(err, id)
}

// taskErr returns err as Get, Update and Finish return it.
func taskErr(err error, id int64) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	return fmt.Errorf("taskstore: task %d: %w", id, err)
}

// List returns the tasks f selects.
func (s *sqlStore) List(ctx context.Context, f Filter) ([]Task, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if !f.AnyOwner {
		add("owner =", f.Owner)
	}
	if f.Status != "" {
		add("status =", f.Status)
	}
	// The database keeps microseconds: created >= After is
	// created >= After rounded up, and likewise for Before.
	if !f.After.IsZero() {
		add("created >=", s.timeArg(ceilMicro(f.After)))
	}
	if !f.Before.IsZero() {
		add("created <", s.timeArg(ceilMicro(f.Before)))
	}
	if f.AfterID > 0 {
		add("id >", f.AfterID)
	}
	q := `SELECT ` + columns + ` FROM veil_tasks`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += " LIMIT $" + strconv.Itoa(len(args))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("taskstore: listing tasks: %w", err)
	}
	defer rows.Close()
	var tasks []Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("taskstore: listing tasks: %w", err)
		}
		tasks = append(tasks, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("taskstore: listing tasks: %w", err)
	}
	return tasks, nil
}

// ceilMicro returns t rounded up to a whole microsecond.
func ceilMicro(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); !u.Equal(t) {
		return u.Add(time.Microsecond)
	}
	return t
}

// Update applies fn to the task in one transaction, holding the row's
// lock, and returns the task as stored. It keeps ID, Created, Worker,
// LeaseUntil and Attempts and sets Updated. fn must not use the store.
func (s *sqlStore) Update(ctx context.Context, id int64, fn func(*Task) error) (Task, error) {
	return s.modify(ctx, id, func(t *Task) error {
		old := *t
		if err := fn(t); err != nil {
			return err
		}
		t.Worker, t.LeaseUntil, t.Attempts = old.Worker, old.LeaseUntil, old.Attempts
		return nil
	})
}

// Finish applies fn to the task and releases the lease, in one
// transaction, if worker still holds it: if the task is processing and
// its Worker is worker. A lease that ran out still holds until a Claim
// takes the task over. fn must set a Status other than processing (else
// Finish fails and changes nothing) and must not use the store.
func (s *sqlStore) Finish(ctx context.Context, id int64, worker string, fn func(*Task) error) (Task, error) {
	return s.modify(ctx, id, func(t *Task) error {
		if t.Status != StatusProcessing || t.Worker != worker {
			return ErrLeaseLost
		}
		attempts := t.Attempts
		if err := fn(t); err != nil {
			return err
		}
		if t.Status == StatusProcessing {
			return errors.New("taskstore: Finish left the task processing")
		}
		t.Worker, t.LeaseUntil, t.Attempts = "", time.Time{}, attempts
		return nil
	})
}

// modify reads the task, locking its row, applies fn and writes what fn
// left, except ID and Created, in one transaction. An error from fn is
// returned as it is and nothing changes.
func (s *sqlStore) modify(ctx context.Context, id int64, fn func(*Task) error) (Task, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Task{}, taskErr(err, id)
	}
	defer tx.Rollback()
	lock := ""
	if s.pg {
		lock = " FOR UPDATE"
	}
	t, err := scanTask(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM veil_tasks WHERE id = $1`+lock, id))
	if err != nil {
		return Task{}, taskErr(err, id)
	}
	if err := fn(&t); err != nil {
		return Task{}, err
	}
	q, args := s.bind(`UPDATE veil_tasks SET owner = $2, status = $3, updated = {now}, failure_cause = $4, error = $5,
		params = $6, result = $7, files_deleted = $8, delete_time = $9, webhook_status = $10,
		worker = $11, lease_until = $12, attempts = $13
		WHERE id = $1 RETURNING `+columns, 0,
		id, t.Owner, t.Status, t.FailureCause, t.Error, jsonArg(t.Params), jsonArg(t.Result),
		t.FilesDeleted, s.timeArg(t.DeleteTime), t.WebhookStatus, t.Worker, s.timeArg(t.LeaseUntil), t.Attempts)
	t, err = scanTask(tx.QueryRowContext(ctx, q, args...))
	if err != nil {
		return Task{}, taskErr(err, id)
	}
	if err := tx.Commit(); err != nil {
		return Task{}, taskErr(err, id)
	}
	return t, nil
}

// Claim takes the task with the lowest ID that is queued, or processing
// with a lease that ran out (or none), for worker.
func (s *sqlStore) Claim(ctx context.Context, worker string, lease time.Duration) (Task, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Task{}, fmt.Errorf("taskstore: claiming a task: %w", err)
	}
	defer tx.Rollback()
	q, args := s.bind(`UPDATE veil_tasks
		SET status = 'processing', worker = $1, lease_until = {lease}, attempts = attempts + 1, updated = {now}
		WHERE id = (SELECT id FROM veil_tasks
			WHERE status IN ('queued', 'processing')
			AND (status = 'queued' OR lease_until IS NULL OR lease_until < {now})
			ORDER BY id LIMIT 1 {lock})
		RETURNING `+columns, lease, worker)
	t, err := scanTask(tx.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Task{}, ErrNoTask
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return Task{}, fmt.Errorf("taskstore: claiming a task: %w", err)
	}
	return t, nil
}

// Renew extends the lease worker holds on the task to now + lease, if
// the task is processing and its Worker is worker; else it returns
// ErrLeaseLost (ErrNotFound when there is no task id).
func (s *sqlStore) Renew(ctx context.Context, id int64, worker string, lease time.Duration) error {
	q, args := s.bind(`UPDATE veil_tasks SET lease_until = {lease}
		WHERE id = $1 AND worker = $2 AND status = 'processing'`, lease, id, worker)
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return taskErr(err, id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return taskErr(err, id)
	} else if n > 0 {
		return nil
	}
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	return ErrLeaseLost
}

// Delete removes the task's record, or returns ErrNotFound.
func (s *sqlStore) Delete(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM veil_tasks WHERE id = $1`, id)
	if err != nil {
		return taskErr(err, id)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return taskErr(err, id)
	}
	if n == 0 {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	return nil
}

// PutRecord stores data as the record id of kind, replacing the record
// by that kind and ID if there is one.
func (s *sqlStore) PutRecord(ctx context.Context, kind, id string, data []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO veil_records (kind, id, data) VALUES ($1, $2, $3)
		ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data`, kind, id, string(data))
	if err != nil {
		return fmt.Errorf("taskstore: storing record %s %s: %w", kind, id, fullErr(err))
	}
	return nil
}

// DeleteRecord removes the record id of kind; there being none is no
// error.
func (s *sqlStore) DeleteRecord(ctx context.Context, kind, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM veil_records WHERE kind = $1 AND id = $2`, kind, id); err != nil {
		return fmt.Errorf("taskstore: deleting record %s %s: %w", kind, id, fullErr(err))
	}
	return nil
}

// Records returns the records of kind, in the byte order of their IDs.
func (s *sqlStore) Records(ctx context.Context, kind string) ([]Record, error) {
	order := "id"
	if s.pg {
		order = `id COLLATE "C"` // as SQLite's BINARY
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, data FROM veil_records WHERE kind = $1 ORDER BY `+order, kind)
	if err != nil {
		return nil, fmt.Errorf("taskstore: reading the records of %s: %w", kind, err)
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var r Record
		var data string
		if err := rows.Scan(&r.ID, &data); err != nil {
			return nil, fmt.Errorf("taskstore: reading the records of %s: %w", kind, err)
		}
		r.Data = []byte(data)
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("taskstore: reading the records of %s: %w", kind, err)
	}
	return recs, nil
}

// fullErr returns err, which also matches syscall.ENOSPC (errors.Is)
// where it says that the database or its disk is full: SQLite's
// SQLITE_FULL, PostgreSQL's disk_full (53100).
func fullErr(err error) error {
	const sqliteFull = 13 // SQLITE_FULL
	var se *sqlite.Error
	var pe *pgconn.PgError
	if errors.As(err, &se) && se.Code()&0xff == sqliteFull || errors.As(err, &pe) && pe.Code == "53100" {
		return fmt.Errorf("%w (%w)", err, syscall.ENOSPC)
	}
	return err
}

// Close closes the store's connections.
func (s *sqlStore) Close() error { return s.db.Close() }
