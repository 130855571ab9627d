package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Parallel execution.
//
// A parallel Mul is cut into parts (column ranges of C, and row-panel ranges
// when C is narrow) that the caller and up to threads-1 pool workers claim
// one at a time from an atomic counter. The caller works too and never waits
// for a worker that has not started: parts nobody claimed yet are simply
// done by whoever gets there first. Workers are persistent goroutines that
// spin for a little while after their last part before they park, because
// waking a parked goroutine on another core can cost tens of microseconds,
// which is as long as a whole convolution of a small network.
//
// Nothing is allocated per call: tasks come from a sync.Pool, and a stale
// notification (one that a worker picks up after its task was finished and
// recycled) is recognized by the generation number it carries.

const (
	// minPartWork is the least number of multiply-adds in one part.
	minPartWork = 1 << 17
	// partsPerThread is how many parts each thread gets when there is
	// enough work: more parts balance better when a worker starts late.
	partsPerThread = 4
)

var (
	// workerSpin is how long an idle worker polls for work before parking.
	workerSpin = 100 * time.Microsecond
	// callerSpin caps how long Mul polls for the parts still running in
	// workers before it parks. It polls for at most twice the time its own
	// last part took: a worker that is slower than that has probably lost
	// its core, and spinning would only keep it from getting it back.
	callerSpin = 500 * time.Microsecond
)

type mulTask struct {
	args          mulArgs
	panels, units int
	mParts        int
	nParts        int
	parts         int32

	next  atomic.Int32  // next part to claim
	left  atomic.Int32  // parts not finished yet
	state atomic.Uint64 // generation<<32 | number of workers inside
	done  chan struct{} // the worker that finishes the last part signals here
}

type workItem struct {
	t   *mulTask
	gen uint32
}

var taskPool = sync.Pool{New: func() any { return &mulTask{done: make(chan struct{}, 1)} }}

var workers struct {
	mu sync.Mutex
	n  atomic.Int32
	ch chan workItem
}

func init() {
	workers.ch = make(chan workItem, 1024)
}

// parallel runs args over up to threads goroutines.
func parallel(args *mulArgs, panels, threads int) {
	n := args.n
	work := args.p.m * n * args.p.k
	maxParts := max(1, min(partsPerThread*threads, work/minPartWork))
	vec := args.p.ks.vec
	units := (n + vec - 1) / vec
	// Column parts at least two register tiles wide.
	nParts := max(1, min(maxParts, units, n/(2*args.p.ks.nr)))
	mParts := 1
	if nParts < maxParts {
		// Too few columns: split the rows as well.
		mParts = min(panels, (maxParts+nParts-1)/nParts)
	}
	parts := nParts * mParts
	if parts <= 1 {
		args.run(0, panels, 0, n)
		return
	}
	helpers := min(threads, parts) - 1
	ensureWorkers(helpers)

	t := taskPool.Get().(*mulTask)
	t.args = *args
	t.panels, t.units, t.mParts, t.nParts, t.parts = panels, units, mParts, nParts, int32(parts)
	t.next.Store(0)
	t.left.Store(int32(parts))
	gen := uint32(t.state.Load() >> 32)
	for i := 0; i < helpers; i++ {
		select {
		case workers.ch <- workItem{t, gen}:
		default: // every worker is busy: do it ourselves
		}
	}

	if last, took := t.work(); !last {
		// A worker finishes the last part and signals; poll first.
		deadline := time.Now().Add(min(2*took, callerSpin))
		for i := 0; t.left.Load() != 0; i++ {
			if i%64 == 63 {
				if time.Now().After(deadline) {
					break
				}
				pause()
			}
		}
		<-t.done
	}
	// Wait for the workers still inside (they have no part left) and
	// retire this generation so that late notifications are ignored.
	for {
		s := t.state.Load()
		if uint32(s) != 0 {
			pause()
			continue
		}
		if t.state.CompareAndSwap(s, (s>>32+1)<<32) {
			break
		}
	}
	t.args = mulArgs{}
	taskPool.Put(t)
}

// work claims and runs parts until none is left. It reports whether this
// goroutine finished the last part, and how long its last part took.
func (t *mulTask) work() (last bool, took time.Duration) {
	for {
		q := t.next.Add(1) - 1
		if q >= t.parts {
			return last, took
		}
		start := time.Now()
		t.runPart(int(q))
		took = time.Since(start)
		if t.left.Add(-1) == 0 {
			last = true
		}
	}
}

func (t *mulTask) runPart(q int) {
	pi, ni := q/t.nParts, q%t.nParts
	p0, p1 := pi*t.panels/t.mParts, (pi+1)*t.panels/t.mParts
	vec := t.args.p.ks.vec
	j0 := ni * t.units / t.nParts * vec
	j1 := min(t.args.n, (ni+1)*t.units/t.nParts*vec)
	t.args.run(p0, p1, j0, j1)
}

// join runs the parts of the task the item refers to, if it is still the
// same task.
func (it workItem) join() {
	t := it.t
	for {
		s := t.state.Load()
		if uint32(s>>32) != it.gen {
			return // finished and recycled
		}
		if t.state.CompareAndSwap(s, s+1) {
			break
		}
	}
	if last, _ := t.work(); last {
		t.done <- struct{}{}
	}
	t.state.Add(^uint64(0)) // leave
}

// pause lets other goroutines, and other threads of the machine, run during a
// spin: cores may be shared with other processes.
func pause() {
	runtime.Gosched()
	osYield()
}

func ensureWorkers(n int) {
	if int(workers.n.Load()) >= n {
		return
	}
	workers.mu.Lock()
	for int(workers.n.Load()) < n {
		workers.n.Add(1)
		go workerLoop()
	}
	workers.mu.Unlock()
}

func workerLoop() {
	for {
		it := <-workers.ch
		it.join()
		// Poll for a while before parking again.
		deadline := time.Now().Add(workerSpin)
	spin:
		for i := 0; ; i++ {
			select {
			case it := <-workers.ch:
				it.join()
				deadline = time.Now().Add(workerSpin)
			default:
				if i%64 == 63 {
					if time.Now().After(deadline) {
						break spin
					}
					pause()
				}
			}
		}
	}
}
