//go:build !linux

package main

import "time"

func usage() (peak int64, cpu time.Duration, ok bool) { return 0, 0, false }
