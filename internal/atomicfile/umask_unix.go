//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

// umask is the process's file mode creation mask, read once as the
// package is initialized: reading it means setting it for a moment, which
// no goroutine creating files can see then.
var umask = readUmask()

func readUmask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m) & os.ModePerm
}
