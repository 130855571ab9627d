package par

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// TestRecord checks what Record records: each outermost loop with its
// items and threads (a nested loop is part of its parent), in order.
func TestRecord(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var sum atomic.Int64
	rec := Record(func() {
		For(16, 64, func(lo, hi int) {
			sum.Add(int64(hi - lo))
			For(16, 4, func(int, int) {}) // nested: part of the region
		})
		For(4, 1, func(int, int) {})
		For(1, 8, func(int, int) {})
		Loop(100, func() {})
		Loop(0, func() {}) // no items: not a loop
	})
	want := []Region{{Items: 64, Threads: 16}, {Items: 1, Threads: 4}, {Items: 8, Threads: 1}, {Items: 100, Threads: 0}}
	if len(rec.Regions) != len(want) {
		t.Fatalf("regions %+v, want %+v", rec.Regions, want)
	}
	var inLoops time.Duration
	for k, g := range rec.Regions {
		if g.Items != want[k].Items || g.Threads != want[k].Threads {
			t.Errorf("region %d: %+v, want %+v", k, g, want[k])
		}
		inLoops += g.Time
	}
	if sum.Load() != 64 {
		t.Errorf("the recorded loop ran %d of 64 items", sum.Load())
	}
	if inLoops > rec.Wall {
		t.Errorf("loops took %v of a wall time of %v", inLoops, rec.Wall)
	}
	if Active() {
		t.Error("still recording after Record")
	}
	if r := Record(func() {}); len(r.Regions) != 0 {
		t.Errorf("a second Record kept %d regions of the first", len(r.Regions))
	}
}

// TestRecordingBounds checks the serial fraction and the Amdahl bound
// of a recording made by hand.
func TestRecordingBounds(t *testing.T) {
	ms := time.Millisecond
	r := Recording{Wall: 59 * ms, Regions: []Region{
		{Items: 64, Threads: 16, Time: 32 * ms}, // parallel: 4 rounds of 16 at 16 threads
		{Items: 1, Threads: 4, Time: 5 * ms},    // one item: serial
		{Items: 8, Threads: 1, Time: 8 * ms},    // one thread: serial
		{Items: 100, Threads: 0, Time: 4 * ms},  // every core: 7 rounds of 16
		{Items: 6, Threads: 2, Time: 6 * ms},    // two threads at most: 3 rounds
	}}
	// Serial: 59 − 32 − 4 − 6 = 17 ms.
	if got, want := r.SerialFraction(), 17.0/59; math.Abs(got-want) > 1e-9 {
		t.Errorf("serial fraction %.4f, want %.4f", got, want)
	}
	// At 16 threads: 17 + 32·4/64 + 4·7/100 + 6·3/6 = 22.28 ms.
	if got, want := r.Speedup(16), 59/22.28; math.Abs(got-want) > 1e-6 {
		t.Errorf("speedup at 16 threads %.4f, want %.4f", got, want)
	}
	if got := r.Speedup(1); math.Abs(got-1) > 1e-9 {
		t.Errorf("speedup at 1 thread %.4f, want 1", got)
	}
	if got := (Recording{}).SerialFraction(); got != 0 {
		t.Errorf("empty recording: serial fraction %v", got)
	}
}

func TestChunks(t *testing.T) {
	tests := []struct{ threads, n, want int }{
		{1, 100, 1}, {2, 100, 8}, {16, 100, 64}, {16, 10, 10}, {16, 1, 1}, {4, 0, 0},
	}
	for _, tt := range tests {
		if got := Chunks(tt.threads, tt.n); got != tt.want {
			t.Errorf("Chunks(%d, %d) = %d, want %d", tt.threads, tt.n, got, tt.want)
		}
	}
}
