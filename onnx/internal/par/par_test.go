package par

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestFor(t *testing.T) {
	for _, threads := range []int{0, 1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 5, 100, 1001} {
			seen := make([]int32, n)
			var calls atomic.Int32
			For(threads, n, func(lo, hi int) {
				calls.Add(1)
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("threads=%d n=%d: index %d visited %d times", threads, n, i, c)
				}
			}
			if max(threads, 1)*chunksPerThread < int(calls.Load()) {
				t.Errorf("threads=%d n=%d: %d chunks", threads, n, calls.Load())
			}
		}
	}
}

// TestForConcurrent runs many For calls at once, more than there are
// workers, and nested, to check nothing deadlocks.
func TestForConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	var total atomic.Int64
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				For(3, 30, func(lo, hi int) {
					For(2, hi-lo, func(a, b int) { total.Add(int64(b - a)) })
				})
			}
		}()
	}
	wg.Wait()
	if got := total.Load(); got != 16*50*30 {
		t.Errorf("total %d, want %d", got, 16*50*30)
	}
}

func BenchmarkFor(b *testing.B) {
	b.ReportAllocs()
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	for b.Loop() {
		For(2, 1000, fn)
	}
}
