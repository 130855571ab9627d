//go:build !linux

package pgtest

import "syscall"

// sysProcAttr returns nil: outside Linux a child runs as this process's
// user and is not stopped when the test binary dies.
func sysProcAttr(who *runAs, stopWithParent bool) *syscall.SysProcAttr {
	return nil
}
