package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	errWrite := errors.New("write failed")
	for _, tc := range []struct {
		name     string
		previous []byte // content of the file before; nil for none
		write    func(w io.Writer) error
		wantErr  error // nil: success
		want     []byte
	}{
		{
			name:  "new file",
			write: func(w io.Writer) error { _, err := io.WriteString(w, "hello"); return err },
			want:  []byte("hello"),
		},
		{
			name:     "replaces file",
			previous: []byte("old content, longer than the new"),
			write:    func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err },
			want:     []byte("new"),
		},
		{
			name:  "empty",
			write: func(w io.Writer) error { return nil },
			want:  []byte{},
		},
		{
			name:    "write error",
			write:   func(w io.Writer) error { io.WriteString(w, "partial"); return errWrite },
			wantErr: errWrite,
		},
		{
			name:     "write error keeps file",
			previous: []byte("old content"),
			write:    func(w io.Writer) error { io.WriteString(w, "partial"); return errWrite },
			wantErr:  errWrite,
			want:     []byte("old content"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "out.jpg")
			if tc.previous != nil {
				if err := os.WriteFile(name, tc.previous, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteFile(name, 0o640, tc.write)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("WriteFile = %v, want %v", err, tc.wantErr)
			}
			// Only the target (if any) is left: no temporary file.
			var wantNames []string
			if tc.want != nil {
				wantNames = []string{"out.jpg"}
			}
			if got := dirNames(t, dir); !slices.Equal(got, wantNames) {
				t.Fatalf("directory holds %q, want %q", got, wantNames)
			}
			if tc.want == nil {
				return
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tc.want) {
				t.Fatalf("content %q, want %q", got, tc.want)
			}
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			wantPerm := Perm(0o640)
			if tc.wantErr != nil {
				wantPerm = 0o600 // the previous file, untouched
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != wantPerm {
				t.Fatalf("mode %v, want %v", fi.Mode().Perm(), wantPerm)
			}
		})
	}
}

// The temporary file lies next to the target, hidden, while write runs.
func TestWriteFileTemp(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "photo.png")
	err := WriteFile(name, 0o644, func(w io.Writer) error {
		f, ok := w.(*os.File)
		if !ok {
			t.Fatalf("write got a %T, want *os.File", w)
		}
		if d, b := filepath.Dir(f.Name()), filepath.Base(f.Name()); d != dir || !strings.HasPrefix(b, ".photo.png.tmp") || b == ".photo.png.tmp" {
			t.Errorf("temporary file %q, want %s/.photo.png.tmp*", f.Name(), dir)
		}
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("target exists before the rename: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteFilePanic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "out")
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		WriteFile(name, 0o644, func(w io.Writer) error { panic("boom") })
	}()
	if got := dirNames(t, dir); len(got) != 0 {
		t.Fatalf("directory holds %q after a panic", got)
	}
}

func TestWriteFileNoDir(t *testing.T) {
	name := filepath.Join(t.TempDir(), "missing", "out")
	called := false
	err := WriteFile(name, 0o644, func(w io.Writer) error { called = true; return nil })
	if err == nil || called {
		t.Fatalf("WriteFile into a missing directory = %v (write called: %v), want an error", err, called)
	}
}

// The target is a directory: the rename fails and the temporary file goes.
func TestWriteFileRenameError(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "sub")
	if err := os.Mkdir(name, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(name, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(name, 0o644, func(w io.Writer) error { return nil }); err == nil {
		t.Fatal("WriteFile onto a non-empty directory succeeded")
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"sub"}) {
		t.Fatalf("directory holds %q", got)
	}
}

// TestTempFor checks that TempFor knows the temporary files WriteFile
// makes, and nothing else.
func TestTempFor(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"photo.jpg", "a.tmp5", ".hidden", "x", "clip-0-499.json"} {
		err := WriteFile(filepath.Join(dir, name), 0o644, func(w io.Writer) error {
			base := filepath.Base(w.(*os.File).Name())
			if got, ok := TempFor(base); !ok || got != name {
				t.Errorf("TempFor(%q) = %q, %v; want %q, true", base, got, ok, name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		base, name string
		ok         bool
	}{
		{".photo.jpg.tmp123", "photo.jpg", true},
		{".photo.jpg.tmp0", "photo.jpg", true},
		{"..a.tmp.tmp42", ".a.tmp", true},
		{".photo.jpg.tmp", "", false},
		{".photo.jpg.tmp12x", "", false},
		{".photo.jpg.tmp-12", "", false},
		{"photo.jpg.tmp123", "", false},
		{"..tmp123", "", false},
		{".tmp123", "", false},
		{".photo.jpg", "", false},
		{".clip.mp4.tmp123.mp4", "", false},
		{"", "", false},
	} {
		if name, ok := TempFor(tt.base); name != tt.name || ok != tt.ok {
			t.Errorf("TempFor(%q) = %q, %v; want %q, %v", tt.base, name, ok, tt.name, tt.ok)
		}
	}
}

// TestPermLikeCreate checks that WriteFile gives a file the mode
// os.OpenFile gives one it creates with the same perm: perm less the
// umask.
func TestPermLikeCreate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no umask on Windows")
	}
	dir := t.TempDir()
	for _, perm := range []os.FileMode{0o666, 0o644, 0o600, 0o640} {
		direct := filepath.Join(dir, "direct")
		f, err := os.OpenFile(direct, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		atomic := filepath.Join(dir, "atomic")
		if err := WriteFile(atomic, perm, func(w io.Writer) error { return nil }); err != nil {
			t.Fatal(err)
		}
		fd, err1 := os.Stat(direct)
		fa, err2 := os.Stat(atomic)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if fa.Mode().Perm() != fd.Mode().Perm() || Perm(perm) != fd.Mode().Perm() {
			t.Errorf("perm %v: WriteFile made %v, Perm says %v, os.OpenFile made %v", perm, fa.Mode().Perm(), Perm(perm), fd.Mode().Perm())
		}
		os.Remove(direct)
		os.Remove(atomic)
	}
}
