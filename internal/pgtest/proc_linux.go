package pgtest

import "syscall"

// sysProcAttr runs a child as who (nil: this process's user) and, with
// stopWithParent, sends it SIGINT (a fast shutdown) when the test binary
// dies without stopping it.
func sysProcAttr(who *runAs, stopWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if who != nil {
		a.Credential = &syscall.Credential{Uid: who.uid, Gid: who.gid}
	}
	if stopWithParent {
		a.Pdeathsig = syscall.SIGINT
	}
	return a
}
