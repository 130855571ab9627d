package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenStoreTempFiles checks that opening the store removes exactly
// the temporary files atomicfile.WriteFile leaves when a crash cuts a
// record's write (".NAME.tmp" and digits), and leaves other files, even
// dot files that hold ".tmp", alone.
func TestOpenStoreTempFiles(t *testing.T) {
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
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, _, err := openStore(dir); err != nil {
				t.Fatal(err)
			}
			_, err := os.Stat(p)
			if removed := os.IsNotExist(err); removed != tt.removed {
				t.Errorf("removed %v, want %v (%v)", removed, tt.removed, err)
			}
		})
	}

	// A folder by a temporary file's name is not the store's to remove,
	// and a record beside the files is read.
	dir := t.TempDir()
	sub := filepath.Join(dir, ".d.json.tmp1")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	s, _, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write(Task{ID: id, Status: StatusDone, Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	s, _, err = openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.get(id); !ok {
		t.Errorf("record %s not read", id)
	}
	if _, err := os.Stat(sub); err != nil {
		t.Errorf("folder %s: %v", sub, err)
	}
}
