// Package atomicfile writes files so that readers never see a half-written
// one.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteFile writes the file name through write, atomically: readers of name
// see either the file it held before or the whole new content, never a
// half-written file.
//
// The data goes to a temporary file in the same directory (named
// ".NAME.tmp" plus a random suffix), which is synced, closed, given the
// permissions Perm(perm) — perm less the umask, as os.OpenFile creates a
// file; pass 0o666 for the mode of os.Create — and then renamed onto
// name. If write or any of these steps fails — or write panics — the
// temporary file is removed and name is left as it was. The error of write is
// returned as it is.
func WriteFile(name string, perm os.FileMode, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	done, closed := false, false
	defer func() {
		if !done {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, Perm(perm)); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	done = true
	return nil
}

// Perm returns perm less the bits of the process's umask (read once, at
// start-up), which are the permissions os.OpenFile gives a file it creates
// with perm. A file made under another name, which os.CreateTemp creates
// with 0o600, takes the mode a file made directly would have from
// os.Chmod(name, Perm(0o666)) before it is renamed.
func Perm(perm os.FileMode) os.FileMode { return perm &^ umask }

// tempInfix is what WriteFile puts between a file's name and the random
// digits of its temporary file's.
const tempInfix = ".tmp"

// TempFor reports whether base, a file name without its directory, is
// the name WriteFile gives the temporary file of a file name: "." +
// name + ".tmp" + decimal digits. A process killed while WriteFile runs
// leaves such a file behind.
func TempFor(base string) (name string, ok bool) {
	rest, ok := strings.CutPrefix(base, ".")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, tempInfix)
	if i <= 0 {
		return "", false
	}
	digits := rest[i+len(tempInfix):]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	return rest[:i], true
}
