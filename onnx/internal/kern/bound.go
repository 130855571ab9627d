package kern

import (
	"sync"

	"github.com/veilkit/veil/internal/par"
)

// A boundJob holds a copy of a kernel call's job and the job's run method
// bound once, so that handing it to par.For allocates nothing: boundJobs
// are recycled through a sync.Pool per job type.
type boundJob[J any] struct {
	job J
	fn  func(lo, hi int)
}

// runner is a job type whose pointer has a run method over [lo, hi).
type runner[J any] interface {
	*J
	run(lo, hi int)
}

// jobPool makes the pool of bound jobs of type J.
func jobPool[J any, P runner[J]]() *sync.Pool {
	return &sync.Pool{New: func() any {
		b := new(boundJob[J])
		b.fn = P(&b.job).run
		return b
	}}
}

// parallel runs job over [0, n) on up to threads goroutines through a
// bound job from pool, clearing it (so that it keeps no slices alive)
// before putting it back.
func parallel[J any](pool *sync.Pool, job J, threads, n int) {
	b := pool.Get().(*boundJob[J])
	b.job = job
	par.For(threads, n, b.fn)
	var zero J
	b.job = zero
	pool.Put(b)
}

var (
	dwJobs     = jobPool[dwJob]()
	poolJobs   = jobPool[poolJob]()
	gapJobs    = jobPool[gapJob]()
	resizeJobs = jobPool[resizeJob]()
)
