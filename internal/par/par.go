// Package par runs loops across goroutines.
//
// For hands a loop's chunks to long-lived worker goroutines. Chunks are
// claimed one at a time by the workers and by the caller, which works too
// and never waits for a worker that has not started: a chunk nobody
// claimed yet is done by whoever gets there first. Idle workers poll for
// new work for a little while before they park, because waking a parked
// goroutine on another core can cost tens of microseconds — as long as a
// whole layer of a small network; they yield to other goroutines every
// few dozen polls. Nothing is allocated per call.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// chunksPerThread is how many chunks each thread's share is cut into,
	// so that a worker that starts late takes a small share.
	chunksPerThread = 4
	// spin is how long an idle worker, or a caller waiting for chunks
	// that workers are running, polls before it parks.
	spin = 300 * time.Microsecond
	// pollYield+1 is how many polls a spinning goroutine makes between
	// two yields to the scheduler (and two looks at the clock). Yielding
	// at every poll slowed the work on the other core by a third: each
	// runtime.Gosched goes through the scheduler's shared state.
	pollYield = 63
)

// A job is one For call. Jobs are recycled; a worker may hold a stale
// notification for a job that has since finished and been reused, so the
// claim counter carries the generation: state = gen<<32 | chunks<<16 |
// next. A claim succeeds only for the generation the notification names.
type job struct {
	fn    func(lo, hi int)
	n     int
	state atomic.Uint64
	left  atomic.Int32  // chunks not finished yet
	done  chan struct{} // receives when left reaches 0
}

type item struct {
	j   *job
	gen uint32
}

// work claims and runs chunks of generation gen until none is left.
func (j *job) work(gen uint32) {
	for {
		s := j.state.Load()
		if uint32(s>>32) != gen {
			return
		}
		chunks, c := uint32(s>>16)&0xffff, uint32(s)&0xffff
		if c >= chunks {
			return
		}
		if !j.state.CompareAndSwap(s, s+1) {
			continue
		}
		// The claim makes this goroutine part of the generation: the For
		// does not return, nor reuse j, before left reaches 0.
		lo := int(int64(c) * int64(j.n) / int64(chunks))
		hi := int(int64(c+1) * int64(j.n) / int64(chunks))
		j.fn(lo, hi)
		if j.left.Add(-1) == 0 {
			j.done <- struct{}{}
		}
	}
}

var (
	items   = make(chan item, 64)
	jobs    = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}
	mu      sync.Mutex
	workers int // started so far
)

func worker() {
	for {
		var it item
		select {
		case it = <-items:
		default:
			deadline := time.Now().Add(spin)
			for k := 0; it.j == nil && (k&pollYield != 0 || time.Now().Before(deadline)); k++ {
				if k&pollYield == pollYield {
					runtime.Gosched()
				}
				select {
				case it = <-items:
				default:
				}
			}
			if it.j == nil {
				it = <-items
			}
		}
		it.j.work(it.gen)
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

// For splits the range [0, n) into contiguous chunks (a few per thread)
// and calls fn(lo, hi) for each on up to threads goroutines, returning
// when all are done. With threads <= 1 or n <= 1 it calls fn(0, n) on the
// calling goroutine.
func For(threads, n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if recording.Load() {
		record(max(threads, 1), n, func() { forAll(threads, n, fn) })
		return
	}
	forAll(threads, n, fn)
}

func forAll(threads, n int, fn func(lo, hi int)) {
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		fn(0, n)
		return
	}
	ensureWorkers(threads - 1)
	chunks := Chunks(threads, n)
	j := jobs.Get().(*job)
	j.fn, j.n = fn, n
	j.left.Store(int32(chunks))
	gen := uint32(j.state.Load()>>32) + 1
	j.state.Store(uint64(gen)<<32 | uint64(chunks)<<16)
	for t := 1; t < threads; t++ {
		select {
		case items <- item{j, gen}:
		default: // the queue is full: the caller does the chunks
		}
	}
	j.work(gen)
	if j.left.Load() != 0 {
		deadline := time.Now().Add(spin)
		for j.left.Load() != 0 && time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
	<-j.done
	j.fn = nil
	jobs.Put(j)
}
