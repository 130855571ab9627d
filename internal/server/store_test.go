package server

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/veilkit/veil/internal/pgtest"
	"github.com/veilkit/veil/internal/taskstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openRecords opens the default record store of a server whose output
// folder is output (creating the folder), as another process would, and
// closes it when t ends.
func openRecords(t *testing.T, output string) taskstore.Store {
	t.Helper()
	if err := os.MkdirAll(output, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := taskstore.Open(context.Background(), "sqlite:"+filepath.Join(output, "tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// kindOf returns the kind of the task records of the output folder
// output, making it when there is none, as the server does.
func kindOf(t *testing.T, output string) string {
	t.Helper()
	kind, err := recordKindOf(output)
	if err != nil {
		t.Fatal(err)
	}
	return kind
}

// recordsOf returns the task records of kind in recs, by ID.
func recordsOf(t *testing.T, recs taskstore.RecordStore, kind string) map[string][]byte {
	t.Helper()
	rs, err := recs.Records(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string][]byte, len(rs))
	for _, r := range rs {
		m[r.ID] = r.Data
	}
	return m
}

// storedRecords returns the task records in the default record store of
// a server whose output folder is output, by ID.
func storedRecords(t *testing.T, output string) map[string][]byte {
	t.Helper()
	return recordsOf(t, openRecords(t, output), kindOf(t, output))
}

// putRecords stores the records of tasks in the default record store of a
// server whose output folder is output, as a crash would leave them.
func putRecords(t *testing.T, output string, tasks ...Task) {
	t.Helper()
	st := openRecords(t, output)
	kind := kindOf(t, output)
	for _, tk := range tasks {
		b, err := marshalTask(tk)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutRecord(context.Background(), kind, tk.ID, b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportFiles checks that the task records earlier versions kept as
// files (OUTPUT/tasks/ID.json) are moved into the record store, and that
// the temporary files atomicfile.WriteFile leaves when a crash cuts a
// record's write (".NAME.tmp" and digits) are removed, while other files,
// even dot files that hold ".tmp", are left alone, and with them the
// folder.
func TestImportFiles(t *testing.T) {
	id := newID()
	for _, tt := range []struct {
		name    string
		removed bool
	}{
		{"." + id + ".json.tmp123456", true},
		{".x.json.tmp7", true},
		{".notes.tmp", false},      // no digits
		{".notes.tmpx1", false},    // not only digits
		{".tmp123", false},         // no name before .tmp
		{"x.json.tmp123", false},   // no leading dot
		{".cache.tmp1.txt", false}, // digits not at the end
		{".tmp", false},
		{"notes.json", false}, // not an id
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			dir := filepath.Join(out, "tasks")
			os.Mkdir(dir, 0o755)
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
			n, err := importFiles(openRecords(t, out), "v1:"+newID(), dir)
			if err != nil || n != 0 {
				t.Fatalf("importFiles = %d, %v; want 0, nil", n, err)
			}
			_, err = os.Stat(p)
			if removed := os.IsNotExist(err); removed != tt.removed {
				t.Errorf("removed %v, want %v (%v)", removed, tt.removed, err)
			}
			if _, err := os.Stat(dir); os.IsNotExist(err) == !tt.removed {
				t.Errorf("folder removed %v, want %v", os.IsNotExist(err), tt.removed)
			}
		})
	}

	// Records are moved, and read by openStore; a folder by a temporary
	// file's name is not the store's to remove, and keeps the folder.
	out := t.TempDir()
	dir := filepath.Join(out, "tasks")
	sub := filepath.Join(dir, ".d.json.tmp1")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	want := map[string]Task{}
	for _, status := range []string{StatusDone, StatusProcessing} {
		tk := Task{ID: newID(), Status: status, Filename: "a&b.jpg", Created: time.Now().UTC()}
		want[tk.ID] = tk
		b, _ := json.MarshalIndent(tk, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, tk.ID+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recs := openRecords(t, out)
	kind := "v1:" + newID()
	if n, err := importFiles(recs, kind, dir); err != nil || n != len(want) {
		t.Fatalf("importFiles = %d, %v; want %d, nil", n, err, len(want))
	}
	if des, _ := os.ReadDir(dir); len(des) != 1 {
		t.Errorf("left in %s: %v, want only %s", dir, des, sub)
	}
	s, interrupted, err := openStore(recs, kind)
	if err != nil {
		t.Fatal(err)
	}
	for id, w := range want {
		got, ok := s.get(id)
		if !ok || got.Status != w.Status || got.Filename != w.Filename || !got.Created.Equal(w.Created) {
			t.Errorf("record %s: %+v, %v; want %+v", id, got, ok, w)
		}
		if w.Status == StatusProcessing && (len(interrupted) != 1 || interrupted[0] != id) {
			t.Errorf("interrupted %v, want [%s]", interrupted, id)
		}
	}

	// An unreadable record is an error, and is left where it is.
	bad := filepath.Join(dir, newID()+".json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if _, err := importFiles(recs, kind, dir); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("importFiles of an unreadable record: %v", err)
	}
	if _, err := os.Stat(bad); err != nil {
		t.Error(err)
	}
}

// TestRecordKindOf checks that an output folder's kind of task records is
// made once and kept, and that a file that holds no kind is an error.
func TestRecordKindOf(t *testing.T) {
	dir := t.TempDir()
	kind := kindOf(t, dir)
	if !strings.HasPrefix(kind, "v1:") || !validID(strings.TrimPrefix(kind, "v1:")) {
		t.Errorf("kind %q, want v1:ID", kind)
	}
	if again := kindOf(t, dir); again != kind {
		t.Errorf("kind %q, then %q", kind, again)
	}
	for _, bad := range []string{"", "v1", "v1:x", "v2:" + newID()} {
		os.WriteFile(filepath.Join(dir, kindFile), []byte(bad), 0o644)
		if got, err := recordKindOf(dir); err == nil {
			t.Errorf("%q: kind %q, want an error", bad, got)
		}
	}
}

// TestBuildFailureClosesRecords checks that a server that fails to start
// closes the record store it opened (its SQLite file).
func TestBuildFailureClosesRecords(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/fd")
	}
	dir := t.TempDir()
	cfg := Config{Engine: testEngine(t), InputDir: filepath.Join(dir, "in"), OutputDir: filepath.Join(dir, "out"), Logf: t.Logf}
	os.MkdirAll(cfg.OutputDir, 0o755)
	os.WriteFile(filepath.Join(cfg.OutputDir, kindFile), []byte("not a kind"), 0o644)
	if _, err := build(cfg); err == nil {
		t.Fatal("build succeeded with an unreadable kind file")
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	for _, fd := range fds {
		if p, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.HasPrefix(p, filepath.Join(cfg.OutputDir, "tasks.db")) {
			t.Errorf("%s left open", p)
		}
	}
}

// TestRecordsSurviveRestart checks that the task records are kept in the
// record store, that given (Config.Records: SQLite or PostgreSQL, which
// the server leaves open) or the default (OUTPUT/tasks.db): a task's
// record survives a restart, is gone with the task, and no record is
// written as a file; a server with another output folder sharing the
// store does not see it.
func TestRecordsSurviveRestart(t *testing.T) {
	for _, tt := range []struct {
		name string
		dsn  func(t *testing.T) string // "": the default
	}{
		{"default", nil},
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "shared.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Start(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{
				Engine: testEngine(t), InputDir: filepath.Join(dir, "in"), OutputDir: filepath.Join(dir, "out"),
				Logf: t.Logf,
			}
			if tt.dsn != nil {
				st, err := taskstore.Open(context.Background(), tt.dsn(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				cfg.Records = st
			}
			records := func() map[string][]byte {
				if cfg.Records != nil {
					return recordsOf(t, cfg.Records, kindOf(t, cfg.OutputDir))
				}
				return storedRecords(t, cfg.OutputDir)
			}

			s1 := startTestServer(t, cfg, nil)
			r := decodeJSON[map[string]string](t, s1.upload(t, "?license-plate=true", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
			id := r["id"]
			s1.ts.Close()
			if err := s1.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if rec := records()[id]; !bytes.Contains(rec, []byte(`"id":"`+id+`"`)) || !bytes.Contains(rec, []byte(`"status":"done"`)) {
				t.Errorf("record of %s in the store: %s", id, rec)
			}
			for _, p := range []string{filepath.Join(cfg.OutputDir, "tasks"), filepath.Join(cfg.OutputDir, id+".json")} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s: %v, want none", p, err)
				}
			}
			if _, err := os.Stat(filepath.Join(cfg.OutputDir, "tasks.db")); (cfg.Records == nil) == os.IsNotExist(err) {
				t.Errorf("tasks.db in the output folder: %v", err)
			}

			if cfg.Records != nil {
				// A server with an output folder of its own, sharing the
				// store, has tasks of its own.
				other := cfg
				other.InputDir, other.OutputDir = filepath.Join(dir, "in2"), filepath.Join(dir, "out2")
				s := startTestServer(t, other, nil)
				resp, b := s.do(t, "GET", "/v1/task/"+id, nil)
				wantDetail(t, "another output folder's task", resp.StatusCode, b, 422, "No task")
				if _, b := s.do(t, "GET", "/v1/task/list", nil); strings.TrimSpace(string(b)) != "[]" {
					t.Errorf("task list of another output folder: %s", b)
				}
				s.ts.Close()
				s.Close(t.Context())
			}

			s2 := startTestServer(t, cfg, nil)
			resp, b := s2.do(t, "GET", "/v1/task/"+id, nil)
			var tr taskReply
			if json.Unmarshal(b, &tr) != nil || tr.Status != StatusDone {
				t.Errorf("task after restart: %d %s", resp.StatusCode, b)
			}
			if resp, _ := s2.do(t, "GET", "/v1/file/"+id+"/anonymised", nil); resp.StatusCode != 200 {
				t.Errorf("anonymised after restart: %d", resp.StatusCode)
			}
			if resp, b := s2.do(t, "DELETE", "/v1/task/"+id, nil); resp.StatusCode != 200 {
				t.Fatalf("delete: %d %s", resp.StatusCode, b)
			}
			if rec, ok := records()[id]; ok {
				t.Errorf("record after delete: %s", rec)
			}
		})
	}
}
