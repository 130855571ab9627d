package gemm

import (
	"sync"

	"github.com/veilkit/veil/internal/par"
)

// Parallel execution.
//
// A parallel Mul is cut into parts (column ranges of C, and row-panel ranges
// when C is narrow) that run through par.For, the runtime's one worker pool:
// the caller and the pool's workers claim parts one at a time, the caller
// never waits for a worker that has not started, and idle workers poll a
// while before they park. Sharing the pool with the other kernels keeps one
// set of workers warm across a network's layers (two pools each spinning on
// the same spare core cost the smaller models most of their 2-thread gain).
// Nothing is allocated per call: jobs come from a sync.Pool.

const (
	// minPartWork is the least number of multiply-adds in one part.
	minPartWork = 1 << 17
	// partsPerThread is how many parts each thread gets when there is
	// enough work: more parts balance better when a worker starts late.
	partsPerThread = 4
)

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
	j := partJobs.Get().(*partJob)
	j.args = *args
	j.panels, j.units, j.mParts, j.nParts = panels, units, mParts, nParts
	par.For(min(threads, parts), parts, j.fn)
	j.args = mulArgs{}
	partJobs.Put(j)
}

// partJob runs the parts [lo, hi) of one parallel Mul through par.For;
// fn is its run method, bound once so that par.For does not allocate.
type partJob struct {
	args                          mulArgs
	panels, units, mParts, nParts int
	fn                            func(lo, hi int)
}

var partJobs = sync.Pool{New: func() any {
	j := new(partJob)
	j.fn = j.run
	return j
}}

func (j *partJob) run(lo, hi int) {
	for q := lo; q < hi; q++ {
		pi, ni := q/j.nParts, q%j.nParts
		p0, p1 := pi*j.panels/j.mParts, (pi+1)*j.panels/j.mParts
		vec := j.args.p.ks.vec
		j0 := ni * j.units / j.nParts * vec
		j1 := min(j.args.n, (ni+1)*j.units/j.nParts*vec)
		j.args.run(p0, p1, j0, j1)
	}
}
