// Package par runs loops across goroutines.
//
// For hands a loop's chunks to long-lived worker goroutines. Chunks are
// claimed one at a time from an atomic counter by the workers and by the
// caller, which works too and never waits for a worker that has not
// started: a chunk nobody claimed yet is done by whoever gets there
// first. Idle workers poll for new work for a little while before they
// park, because waking a parked goroutine on another core can cost tens
// of microseconds — as long as a whole layer of a small network.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spin is how long an idle worker, or a caller waiting for chunks that
// workers are running, polls before it parks.
const spin = 50 * time.Microsecond

type job struct {
	fn     func(lo, hi int)
	n      int
	chunks int32
	next   atomic.Int32  // next chunk to claim
	left   atomic.Int32  // chunks not finished yet
	done   chan struct{} // receives when left reaches 0
}

// work claims and runs chunks until none is left to claim.
func (j *job) work() {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		lo := int(int64(c) * int64(j.n) / int64(j.chunks))
		hi := int(int64(c+1) * int64(j.n) / int64(j.chunks))
		j.fn(lo, hi)
		if j.left.Add(-1) == 0 {
			j.done <- struct{}{}
		}
	}
}

var (
	jobs    = make(chan *job, 64)
	mu      sync.Mutex
	workers int // started so far
)

func worker() {
	for {
		var j *job
		select {
		case j = <-jobs:
		default:
			deadline := time.Now().Add(spin)
			for j == nil && time.Now().Before(deadline) {
				runtime.Gosched()
				select {
				case j = <-jobs:
				default:
				}
			}
			if j == nil {
				j = <-jobs
			}
		}
		j.work()
	}
}

// ensureWorkers starts workers until n are running. Workers are never
// stopped: they park on a channel receive while idle.
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
	j := &job{fn: fn, n: n, chunks: int32(threads), done: make(chan struct{}, 1)}
	j.left.Store(int32(threads))
	for t := 1; t < threads; t++ {
		select {
		case jobs <- j:
		default: // the queue is full: the caller does the chunks
		}
	}
	j.work()
	if j.left.Load() == 0 {
		<-j.done
		return
	}
	deadline := time.Now().Add(spin)
	for time.Now().Before(deadline) {
		select {
		case <-j.done:
			return
		default:
			runtime.Gosched()
		}
	}
	<-j.done
}
