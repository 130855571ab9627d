package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A Region is one parallel loop seen while recording: a For or Loop call
// that was not inside another.
type Region struct {
	Items   int           // n of the call
	Threads int           // For's threads; 0 for a Loop, which uses every core
	Time    time.Duration // from the call to its return
}

// parallel reports whether a second thread could share g's work.
func (g Region) parallel() bool { return g.Items >= 2 && (g.Threads == 0 || g.Threads >= 2) }

// timeAt returns the least time g's items, taken as equal work, can take
// on the given number of threads.
func (g Region) timeAt(threads int) time.Duration {
	if g.Threads > 0 {
		threads = min(threads, g.Threads)
	}
	rounds := (g.Items + threads - 1) / threads
	return time.Duration(float64(g.Time) * float64(rounds) / float64(g.Items))
}

// A Recording is what Record saw: the wall time of its function and the
// parallel regions that ran during it.
type Recording struct {
	Wall    time.Duration
	Regions []Region
}

var (
	recording atomic.Bool
	depth     atomic.Int32 // For calls in progress while recording
	recMu     sync.Mutex
	recorded  []Region
)

// Record runs f with recording on and returns the wall time of f and
// every top-level For call made while it ran. It is meant to run f on one
// thread (threads = 1, one goroutine doing work at a time) to measure
// how much of the work lies in parallel loops; callers that run
// independent work concurrently may check Active and run it in turn
// instead, so that no loop's time includes another goroutine's. Record
// calls must not overlap.
func Record(f func()) Recording {
	recMu.Lock()
	recorded = nil
	recMu.Unlock()
	recording.Store(true)
	t0 := time.Now()
	f()
	wall := time.Since(t0)
	recording.Store(false)
	recMu.Lock()
	r := Recording{Wall: wall, Regions: recorded}
	recorded = nil
	recMu.Unlock()
	return r
}

// Active reports whether a Record call is in progress.
func Active() bool { return recording.Load() }

// record runs For's work while recording: the outermost call's time is a
// region, calls nested in it are part of it.
func record(threads, n int, run func()) {
	if depth.Add(1) != 1 {
		run()
		depth.Add(-1)
		return
	}
	t0 := time.Now()
	run()
	d := time.Since(t0)
	depth.Add(-1)
	recMu.Lock()
	recorded = append(recorded, Region{Items: n, Threads: threads, Time: d})
	recMu.Unlock()
}

// Chunks returns how many chunks For cuts n items into at the given
// thread count.
func Chunks(threads, n int) int {
	threads = min(threads, n)
	if threads <= 1 {
		return min(n, 1)
	}
	return min(n, chunksPerThread*threads, 0xffff)
}

// Parallel returns the time spent in regions of at least two items run
// on at least two threads: the work a second thread could share.
func (r Recording) Parallel() time.Duration {
	var p time.Duration
	for _, g := range r.Regions {
		if g.parallel() {
			p += g.Time
		}
	}
	return p
}

// SerialFraction returns the share of the wall time spent outside
// regions that a second thread could share.
func (r Recording) SerialFraction() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return max(0, float64(r.Wall-r.Parallel())/float64(r.Wall))
}

// Speedup returns the bound Amdahl's law puts on the speedup at the given
// thread count, with each region's items taken as equal work: a region of
// n items on t threads (at most its own) takes at least ⌈n/t⌉/n of its
// time, and the rest of the wall time stays serial.
func (r Recording) Speedup(threads int) float64 {
	if r.Wall <= 0 || threads < 1 {
		return 1
	}
	t := r.Wall - r.Parallel()
	for _, g := range r.Regions {
		if g.parallel() {
			t += g.timeAt(threads)
		}
	}
	return float64(r.Wall) / float64(max(t, 1))
}

// Cores returns how many goroutines a loop can keep busy:
// runtime.GOMAXPROCS, or RecordCores while recording, so that work split
// for many threads and run on one core records as it would run there.
func Cores() int {
	if recording.Load() {
		return RecordCores
	}
	return runtime.GOMAXPROCS(0)
}

// RecordCores is what Cores returns while recording: more cores than the
// machines veil measures scaling for have.
const RecordCores = 64

// Loop runs run, a loop over n items that splits them across as many
// goroutines as there are cores itself, and records it as a parallel
// region of n items while a Record call is in progress.
func Loop(n int, run func()) {
	if n > 0 && recording.Load() {
		record(0, n, run)
		return
	}
	run()
}
