// Package par runs loops across goroutines.
//
// For hands chunks to a pool of long-lived worker goroutines instead of
// starting goroutines per call, so that the many short parallel loops of
// a model run cost neither goroutine start-up nor allocations.
package par

import (
	"sync"
)

type task struct {
	fn     func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

var (
	tasks   = make(chan task)
	mu      sync.Mutex
	workers int // started so far
	wgs     = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func worker() {
	for t := range tasks {
		t.fn(t.lo, t.hi)
		t.wg.Done()
	}
}

// ensureWorkers starts workers until n are running. Workers are never
// stopped: they block on a channel receive while idle.
func ensureWorkers(n int) {
	mu.Lock()
	for workers < n {
		workers++
		go worker()
	}
	mu.Unlock()
}

// For splits the range [0, n) into at most threads contiguous chunks and
// calls fn(lo, hi) for each, concurrently, returning when all are done.
// With threads <= 1 or n <= 1 it calls fn(0, n) on the calling goroutine.
// The calling goroutine runs the first chunk itself.
func For(threads, n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		fn(0, n)
		return
	}
	ensureWorkers(threads - 1)
	wg := wgs.Get().(*sync.WaitGroup)
	wg.Add(threads - 1)
	for t := 1; t < threads; t++ {
		tk := task{fn: fn, lo: t * n / threads, hi: (t + 1) * n / threads, wg: wg}
		select {
		case tasks <- tk:
		default:
			// Every worker is busy (another Run in parallel): do not wait
			// for one.
			go func() {
				tk.fn(tk.lo, tk.hi)
				tk.wg.Done()
			}()
		}
	}
	fn(0, n/threads)
	wg.Wait()
	wgs.Put(wg)
}
