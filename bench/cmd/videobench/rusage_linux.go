package main

import (
	"syscall"
	"time"
)

// usage returns this process's peak resident set in bytes and its CPU
// time (user + system), without its children (ffmpeg).
func usage() (peak int64, cpu time.Duration, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0, false
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return int64(ru.Maxrss) * 1024, cpu, true // ru_maxrss is in KiB on Linux
}
