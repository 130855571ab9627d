package taskstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/veilkit/veil/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestSQLite(t *testing.T) {
	testStore(t, func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "tasks.db")
	})
}

func TestPostgres(t *testing.T) {
	pgtest.Start(t) // skips the test where PostgreSQL is not installed
	testStore(t, func(t *testing.T) string { return pgtest.Start(t) })
}

// testStore runs the tests of a Store; newDB returns the DSN of a new,
// empty database.
func testStore(t *testing.T, newDB func(t *testing.T) string) {
	tests := []struct {
		name string
		test func(t *testing.T, dsn string)
	}{
		{"CreateGet", testCreateGet},
		{"Update", testUpdate},
		{"List", testList},
		{"Delete", testDelete},
		{"ClaimOrder", testClaimOrder},
		{"LeaseTakeover", testLeaseTakeover},
		{"Renew", testRenew},
		{"Finish", testFinish},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ConcurrentOpen", testConcurrentOpen},
		{"Records", testRecords},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newDB(t)) })
	}
}

// open opens dsn and closes the store when t ends.
func open(t *testing.T, dsn string) Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// create creates tasks and returns them as created.
func create(t *testing.T, s Store, tasks ...Task) []Task {
	t.Helper()
	for i := range tasks {
		if err := s.Create(context.Background(), &tasks[i]); err != nil {
			t.Fatal(err)
		}
	}
	return tasks
}

// get returns the task id.
func get(t *testing.T, s Store, id int64) Task {
	t.Helper()
	got, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// claim claims a task, which it expects there to be.
func claim(t *testing.T, s Store, worker string, lease time.Duration) Task {
	t.Helper()
	got, err := s.Claim(context.Background(), worker, lease)
	if err != nil {
		t.Fatalf("Claim(%s): %v", worker, err)
	}
	return got
}

// normal returns t with its times in UTC, without monotonic readings, so
// that reflect.DeepEqual compares them as Equal does.
func normal(t Task) Task {
	for _, p := range []*time.Time{&t.Created, &t.Updated, &t.DeleteTime, &t.LeaseUntil} {
		if p.IsZero() {
			*p = time.Time{}
		} else {
			*p = p.UTC().Round(0)
		}
	}
	return t
}

// checkTask reports how got differs from want.
func checkTask(t *testing.T, what string, got, want Task) {
	t.Helper()
	if g, w := normal(got), normal(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, g, w)
	}
}

func testCreateGet(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	before := time.Now().Add(-time.Second)
	deleted := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.FixedZone("CET", 3600))
	tasks := create(t, s,
		Task{
			Owner:         "alice",
			Status:        StatusFailed,
			FailureCause:  CauseImageDefect,
			Error:         "no image",
			Params:        json.RawMessage(`{"b": 1,  "a": [2, "é"]}`),
			Result:        json.RawMessage(`{"detections":3}`),
			FilesDeleted:  true,
			DeleteTime:    deleted,
			WebhookStatus: "pending",
		},
		Task{})
	after := time.Now().Add(time.Second)
	a, b := tasks[0], tasks[1]
	if a.ID <= 0 || b.ID <= a.ID {
		t.Errorf("IDs %d, %d: want positive and increasing", a.ID, b.ID)
	}
	if a.Created.Before(before) || a.Created.After(after) || !a.Updated.Equal(a.Created) {
		t.Errorf("Created %v, Updated %v: want equal, between %v and %v", a.Created, a.Updated, before, after)
	}
	if a.Created.Location() != time.UTC {
		t.Errorf("Created in %v, want UTC", a.Created.Location())
	}
	if b.Status != StatusNew {
		t.Errorf("Status %q, want %q", b.Status, StatusNew)
	}
	for _, want := range tasks {
		got := get(t, s, want.ID)
		checkTask(t, "Get", got, want)
		if string(got.Params) != string(want.Params) {
			t.Errorf("Params %s, want %s as it was", got.Params, want.Params)
		}
	}
	if _, err := s.Get(ctx, b.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing): %v, want ErrNotFound", err)
	}
}

func testUpdate(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	create(t, s, Task{Status: StatusQueued, Params: json.RawMessage(`{"a":1}`)})
	claimed := claim(t, s, "w1", time.Minute)

	got, err := s.Update(ctx, claimed.ID, func(t *Task) error {
		t.WebhookStatus = "sent"
		t.Result = json.RawMessage(`{"n":1}`)
		// Update keeps these.
		t.ID, t.Created = 0, time.Time{}
		t.Worker, t.LeaseUntil, t.Attempts = "mallory", time.Time{}, 99
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := claimed
	want.WebhookStatus = "sent"
	want.Result = json.RawMessage(`{"n":1}`)
	if got.Updated.Before(claimed.Updated) {
		t.Errorf("Updated %v, before %v", got.Updated, claimed.Updated)
	}
	want.Updated = got.Updated
	checkTask(t, "Update", got, want)
	checkTask(t, "Get after Update", get(t, s, claimed.ID), want)

	errFn := errors.New("fn failed")
	_, err = s.Update(ctx, claimed.ID, func(t *Task) error {
		t.Status = StatusDone
		return errFn
	})
	if !errors.Is(err, errFn) {
		t.Errorf("Update: %v, want fn's error", err)
	}
	checkTask(t, "Get after a failed Update", get(t, s, claimed.ID), want)

	called := false
	_, err = s.Update(ctx, claimed.ID+1, func(*Task) error { called = true; return nil })
	if !errors.Is(err, ErrNotFound) || called {
		t.Errorf("Update(missing): %v, fn called %v; want ErrNotFound, not called", err, called)
	}
}

func testList(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	var tasks []Task
	for _, tk := range []Task{
		{Owner: "alice", Status: StatusQueued},
		{Owner: "bob", Status: StatusQueued},
		{Owner: "alice", Status: StatusDone},
		{Owner: "", Status: StatusNew},
		{Owner: "alice", Status: StatusDone},
		{Owner: "bob", Status: StatusFailed},
	} {
		tasks = append(tasks, create(t, s, tk)...)
		time.Sleep(2 * time.Millisecond) // distinct Created
	}
	c3 := tasks[3].Created
	tests := []struct {
		name string
		f    Filter
		want []int // indexes in tasks
	}{
		{"owner", Filter{Owner: "alice"}, []int{0, 2, 4}},
		{"no owner", Filter{}, []int{3}},
		{"any owner", Filter{AnyOwner: true}, []int{0, 1, 2, 3, 4, 5}},
		{"owner unknown", Filter{Owner: "carol"}, nil},
		{"status", Filter{AnyOwner: true, Status: StatusQueued}, []int{0, 1}},
		{"owner and status", Filter{Owner: "alice", Status: StatusDone}, []int{2, 4}},
		{"after id", Filter{AnyOwner: true, AfterID: tasks[2].ID}, []int{3, 4, 5}},
		{"limit", Filter{AnyOwner: true, Limit: 2}, []int{0, 1}},
		{"after id and limit", Filter{AnyOwner: true, AfterID: tasks[1].ID, Limit: 2}, []int{2, 3}},
		{"after", Filter{AnyOwner: true, After: c3}, []int{3, 4, 5}},
		{"after, other zone", Filter{AnyOwner: true, After: c3.In(time.FixedZone("X", -7200))}, []int{3, 4, 5}},
		{"after a nanosecond later", Filter{AnyOwner: true, After: c3.Add(time.Nanosecond)}, []int{4, 5}},
		{"before", Filter{AnyOwner: true, Before: c3}, []int{0, 1, 2}},
		{"before a nanosecond later", Filter{AnyOwner: true, Before: c3.Add(time.Nanosecond)}, []int{0, 1, 2, 3}},
		{"after and before", Filter{AnyOwner: true, After: tasks[1].Created, Before: tasks[4].Created}, []int{1, 2, 3}},
		{"owner after", Filter{Owner: "bob", After: tasks[2].Created}, []int{5}},
	}
	for _, tt := range tests {
		got, err := s.List(ctx, tt.f)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var want []Task
		for _, i := range tt.want {
			want = append(want, tasks[i])
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %d tasks %v, want %v", tt.name, len(got), ids(got), ids(want))
			continue
		}
		for i := range got {
			checkTask(t, tt.name, got[i], want[i])
		}
	}

	// Pages of 4, as the API reads them.
	var all []int64
	for f := (Filter{AnyOwner: true, Limit: 4}); ; {
		page, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, ids(page)...)
		f.AfterID = page[len(page)-1].ID
	}
	if want := ids(tasks); !reflect.DeepEqual(all, want) {
		t.Errorf("pages: %v, want %v", all, want)
	}
}

func ids(tasks []Task) []int64 {
	var ids []int64
	for _, t := range tasks {
		ids = append(ids, t.ID)
	}
	return ids
}

func testDelete(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	tasks := create(t, s, Task{Owner: "a"}, Task{Owner: "b"})
	if err := s.Delete(ctx, tasks[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, tasks[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, tasks[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete again: %v, want ErrNotFound", err)
	}
	checkTask(t, "the other task", get(t, s, tasks[1].ID), tasks[1])
	// IDs are not reused.
	if err := s.Delete(ctx, tasks[1].ID); err != nil {
		t.Fatal(err)
	}
	if c := create(t, s, Task{})[0]; c.ID <= tasks[1].ID {
		t.Errorf("ID %d after deleting %d: reused", c.ID, tasks[1].ID)
	}
}

func testClaimOrder(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	tasks := create(t, s,
		Task{Status: StatusNew},
		Task{Status: StatusQueued},
		Task{Status: StatusDone},
		Task{Status: StatusQueued},
		Task{Status: StatusFailed})
	start := time.Now()
	for _, i := range []int{1, 3} {
		got := claim(t, s, "w1", time.Minute)
		if got.ID != tasks[i].ID {
			t.Fatalf("Claim took task %d, want %d", got.ID, tasks[i].ID)
		}
		if got.Status != StatusProcessing || got.Worker != "w1" || got.Attempts != 1 {
			t.Errorf("claimed: status %q, worker %q, attempts %d; want processing, w1, 1", got.Status, got.Worker, got.Attempts)
		}
		if lo, hi := start.Add(time.Minute-time.Second), time.Now().Add(time.Minute+time.Second); got.LeaseUntil.Before(lo) || got.LeaseUntil.After(hi) {
			t.Errorf("LeaseUntil %v, want between %v and %v", got.LeaseUntil, lo, hi)
		}
		checkTask(t, "Get after Claim", get(t, s, got.ID), got)
	}
	if got, err := s.Claim(ctx, "w1", time.Minute); !errors.Is(err, ErrNoTask) {
		t.Fatalf("Claim: task %d, %v; want ErrNoTask", got.ID, err)
	}
	if _, err := s.Update(ctx, tasks[0].ID, func(t *Task) error { t.Status = StatusQueued; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, "w2", time.Minute); got.ID != tasks[0].ID {
		t.Errorf("Claim took task %d, want %d", got.ID, tasks[0].ID)
	}
}

func testLeaseTakeover(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	tasks := create(t, s, Task{Status: StatusQueued}, Task{Status: StatusQueued})
	first := claim(t, s, "w1", 50*time.Millisecond)
	if first.ID != tasks[0].ID {
		t.Fatalf("Claim took task %d, want %d", first.ID, tasks[0].ID)
	}
	if got := claim(t, s, "w2", time.Minute); got.ID != tasks[1].ID {
		t.Fatalf("Claim took task %d while the lease on %d held, want %d", got.ID, first.ID, tasks[1].ID)
	}
	if got, err := s.Claim(ctx, "w2", time.Minute); !errors.Is(err, ErrNoTask) {
		t.Fatalf("Claim: task %d, %v; want ErrNoTask", got.ID, err)
	}

	time.Sleep(100 * time.Millisecond)
	taken := claim(t, s, "w3", time.Minute)
	if taken.ID != first.ID || taken.Worker != "w3" || taken.Attempts != 2 {
		t.Fatalf("Claim after the lease ran out: task %d, worker %q, attempts %d; want %d, w3, 2",
			taken.ID, taken.Worker, taken.Attempts, first.ID)
	}

	// w1 lost the task.
	if err := s.Renew(ctx, first.ID, "w1", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Renew by w1: %v, want ErrLeaseLost", err)
	}
	called := false
	_, err := s.Finish(ctx, first.ID, "w1", func(t *Task) error { called = true; t.Status = StatusDone; return nil })
	if !errors.Is(err, ErrLeaseLost) || called {
		t.Errorf("Finish by w1: %v, fn called %v; want ErrLeaseLost, not called", err, called)
	}
	checkTask(t, "Get after w1's Finish", get(t, s, first.ID), taken)

	done, err := s.Finish(ctx, first.ID, "w3", func(t *Task) error {
		t.Status = StatusDone
		t.Result = json.RawMessage(`{"n":2}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != StatusDone || done.Worker != "" || !done.LeaseUntil.IsZero() || done.Attempts != 2 || string(done.Result) != `{"n":2}` {
		t.Errorf("finished: %+v", done)
	}
	checkTask(t, "Get after Finish", get(t, s, first.ID), done)
	if _, err := s.Finish(ctx, first.ID, "w3", func(t *Task) error { t.Status = StatusDone; return nil }); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Finish again: %v, want ErrLeaseLost", err)
	}
	if got, err := s.Claim(ctx, "w4", time.Minute); !errors.Is(err, ErrNoTask) {
		t.Errorf("Claim: task %d, %v; want ErrNoTask", got.ID, err)
	}
}

func testRenew(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	create(t, s, Task{Status: StatusQueued})
	c := claim(t, s, "w1", 50*time.Millisecond)
	if err := s.Renew(ctx, c.ID, "w1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, c.ID); got.LeaseUntil.Before(time.Now().Add(50 * time.Second)) {
		t.Errorf("LeaseUntil %v after Renew for a minute", got.LeaseUntil)
	}
	time.Sleep(100 * time.Millisecond)
	if got, err := s.Claim(ctx, "w2", time.Minute); !errors.Is(err, ErrNoTask) {
		t.Fatalf("Claim of a renewed task: task %d, %v; want ErrNoTask", got.ID, err)
	}
	if err := s.Renew(ctx, c.ID, "w2", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Renew by w2: %v, want ErrLeaseLost", err)
	}
	// A lease that ran out holds until a Claim takes the task over.
	if err := s.Renew(ctx, c.ID, "w1", 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Renew(ctx, c.ID, "w1", time.Minute); err != nil {
		t.Errorf("Renew of a lease that ran out, not taken over: %v", err)
	}
	if err := s.Renew(ctx, c.ID+1, "w1", time.Minute); !errors.Is(err, ErrNotFound) {
		t.Errorf("Renew(missing): %v, want ErrNotFound", err)
	}
	if _, err := s.Finish(ctx, c.ID, "w1", func(t *Task) error { t.Status = StatusDone; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Renew(ctx, c.ID, "w1", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Renew after Finish: %v, want ErrLeaseLost", err)
	}
}

func testFinish(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	tasks := create(t, s, Task{Status: StatusQueued}, Task{Status: StatusQueued})
	c := claim(t, s, "w1", time.Minute)

	errFn := errors.New("fn failed")
	if _, err := s.Finish(ctx, c.ID, "w1", func(t *Task) error { t.Status = StatusDone; return errFn }); !errors.Is(err, errFn) {
		t.Errorf("Finish: %v, want fn's error", err)
	}
	checkTask(t, "Get after a failed Finish", get(t, s, c.ID), c)
	if _, err := s.Finish(ctx, c.ID, "w1", func(t *Task) error { return nil }); err == nil {
		t.Error("Finish that left the task processing: no error")
	}
	checkTask(t, "Get after Finish left it processing", get(t, s, c.ID), c)

	if _, err := s.Finish(ctx, tasks[1].ID, "w1", func(t *Task) error { t.Status = StatusDone; return nil }); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Finish of a queued task: %v, want ErrLeaseLost", err)
	}
	if _, err := s.Finish(ctx, tasks[1].ID+1, "w1", func(t *Task) error { t.Status = StatusDone; return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Finish(missing): %v, want ErrNotFound", err)
	}

	got, err := s.Finish(ctx, c.ID, "w1", func(t *Task) error {
		t.Status, t.FailureCause, t.Error = StatusFailed, CauseInternal, "boom"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Status, want.FailureCause, want.Error = StatusFailed, CauseInternal, "boom"
	want.Worker, want.LeaseUntil, want.Updated = "", time.Time{}, got.Updated
	checkTask(t, "Finish", got, want)
}

// testConcurrentClaims has 8 workers, on two Store values (as in two
// processes), claim and finish 200 tasks: each exactly once.
func testConcurrentClaims(t *testing.T, dsn string) {
	ctx := context.Background()
	stores := []Store{open(t, dsn), open(t, dsn)}
	const n, workers = 200, 8
	for range n {
		create(t, stores[0], Task{Status: StatusQueued})
	}
	var (
		mu       sync.Mutex
		finished = map[int64]int{}
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			s, worker := stores[w%len(stores)], fmt.Sprint("w", w)
			for {
				c, err := s.Claim(ctx, worker, time.Minute)
				if errors.Is(err, ErrNoTask) {
					return
				}
				if err != nil {
					t.Errorf("%s: Claim: %v", worker, err)
					return
				}
				if _, err := s.Finish(ctx, c.ID, worker, func(t *Task) error { t.Status = StatusDone; return nil }); err != nil {
					t.Errorf("%s: Finish(%d): %v", worker, c.ID, err)
					return
				}
				mu.Lock()
				finished[c.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id, k := range finished {
		if k != 1 {
			t.Errorf("task %d finished %d times", id, k)
		}
	}
	if len(finished) != n {
		t.Errorf("%d tasks finished, want %d", len(finished), n)
	}
	done, err := stores[1].List(ctx, Filter{AnyOwner: true, Status: StatusDone})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != n {
		t.Errorf("%d tasks done, want %d", len(done), n)
	}
	for _, d := range done {
		if d.Attempts != 1 {
			t.Errorf("task %d: %d attempts, want 1", d.ID, d.Attempts)
		}
	}
}

// testConcurrentOpen opens a new database from several goroutines at
// once, as processes starting together do.
func testConcurrentOpen(t *testing.T, dsn string) {
	ctx := context.Background()
	stores := make([]Store, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	if t.Failed() {
		return
	}
	c := create(t, stores[0], Task{Owner: "a"})[0]
	for _, s := range stores[1:] {
		checkTask(t, "Get through another store", get(t, s, c.ID), c)
	}
}

// testRecords checks PutRecord, DeleteRecord and Records: records are
// kept by kind and ID, replaced by a put of the same ones, read back
// through another store, and gone once deleted.
func testRecords(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	type op struct {
		del      bool // DeleteRecord, else PutRecord
		kind, id string
		data     string
	}
	steps := []struct {
		name string
		ops  []op
		want map[string][]Record // by kind, after the ops
	}{
		{"none", nil, map[string][]Record{"v1": nil}},
		{"put", []op{
			{kind: "v1", id: "b", data: `{"id":"b"}`},
			{kind: "v1", id: "a", data: `{"id":"a","note":"é & <x>"}`},
			{kind: "other", id: "a", data: `"another kind"`},
		}, map[string][]Record{
			"v1":    {{"a", []byte(`{"id":"a","note":"é & <x>"}`)}, {"b", []byte(`{"id":"b"}`)}},
			"other": {{"a", []byte(`"another kind"`)}},
			"v2":    nil,
		}},
		{"replace", []op{{kind: "v1", id: "b", data: `{"id":"b","status":"done"}`}}, map[string][]Record{
			"v1":    {{"a", []byte(`{"id":"a","note":"é & <x>"}`)}, {"b", []byte(`{"id":"b","status":"done"}`)}},
			"other": {{"a", []byte(`"another kind"`)}},
		}},
		{"delete", []op{
			{del: true, kind: "v1", id: "a"},
			{del: true, kind: "v1", id: "missing"},
			{del: true, kind: "nokind", id: "b"},
		}, map[string][]Record{
			"v1":    {{"b", []byte(`{"id":"b","status":"done"}`)}},
			"other": {{"a", []byte(`"another kind"`)}},
		}},
		{"delete all", []op{
			{del: true, kind: "v1", id: "b"},
			{del: true, kind: "other", id: "a"},
		}, map[string][]Record{"v1": nil, "other": nil}},
	}
	for _, st := range steps {
		for _, o := range st.ops {
			var err error
			if o.del {
				err = s.DeleteRecord(ctx, o.kind, o.id)
			} else {
				err = s.PutRecord(ctx, o.kind, o.id, []byte(o.data))
			}
			if err != nil {
				t.Fatalf("%s: %+v: %v", st.name, o, err)
			}
		}
		// Another store, as another process would, reads the same.
		for _, r := range []Store{s, open(t, dsn)} {
			for kind, want := range st.want {
				got, err := r.Records(ctx, kind)
				if err != nil {
					t.Fatalf("%s: Records(%s): %v", st.name, kind, err)
				}
				if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
					t.Errorf("%s: Records(%s) = %q, want %q", st.name, kind, got, want)
				}
			}
		}
	}
}

// TestRecordsFull checks that PutRecord's error says so, matching
// syscall.ENOSPC, when the database is full: a SQLite file bounded by
// max_page_count, and PostgreSQL's disk_full.
func TestRecordsFull(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "tasks.db")+"?_pragma=max_page_count(8)")
	if err != nil {
		t.Fatal(err)
	}
	s := &sqlStore{db: db}
	defer s.Close()
	if err := s.exec(ctx, append([]string{sqliteSchema, recordsSchema}, indexes...)); err != nil {
		t.Fatal(err)
	}
	err = s.PutRecord(ctx, "v1", "a", bytes.Repeat([]byte("x"), 64<<10))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("PutRecord into a full SQLite file: %v, want one matching ENOSPC", err)
	}
	for _, tt := range []struct {
		err  error
		full bool
	}{
		{&pgconn.PgError{Code: "53100", Message: "could not extend file"}, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("other"), false},
	} {
		if got := errors.Is(fullErr(tt.err), syscall.ENOSPC); got != tt.full {
			t.Errorf("fullErr(%v) matches ENOSPC: %v, want %v", tt.err, got, tt.full)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tasks.db")
	s := open(t, "sqlite:"+path)
	c := create(t, s, Task{Owner: "a"})[0]
	for _, dsn := range []string{path, "sqlite://" + path, "sqlite:" + path} {
		checkTask(t, dsn, get(t, open(t, dsn), c.ID), c)
	}
	for _, dsn := range []string{"", "sqlite:", "mysql://localhost/db", filepath.Join(dir, "a?b")} {
		if s, err := Open(ctx, dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", dsn)
		}
	}
	mem := open(t, "sqlite::memory:")
	c = create(t, mem, Task{Owner: "m"})[0]
	checkTask(t, "in memory", get(t, mem, c.ID), c)
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"postgres://veil:s3cret@db:5432/veil?sslmode=disable", "postgres://veil:xxxxx@db:5432/veil?sslmode=disable"},
		{"postgres://veil@db/veil", "postgres://veil@db/veil"},
		{"sqlite:/var/lib/veil/tasks.db", "sqlite:/var/lib/veil/tasks.db"},
	} {
		if got := Redact(tt.dsn); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}
