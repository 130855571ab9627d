package par

import (
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

func TestRecord(t *testing.T) {
	// One core: each loop's wall time is its work, as bench/cmd/scaling
	// measures it.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	spin := func(d time.Duration) {
		for t0 := time.Now(); time.Since(t0) < d; {
		}
	}
	ms := time.Millisecond
	rec := Record(func() {
		spin(10 * ms)                  // serial
		For(16, 64, func(lo, hi int) { // parallel: 64 items of 0.5 ms
			spin(time.Duration(hi-lo) * ms / 2)
			For(16, 4, func(int, int) {}) // nested: part of the region
		})
		For(4, 1, func(int, int) { spin(5 * ms) })                      // one item: serial
		For(1, 8, func(lo, hi int) { spin(time.Duration(hi-lo) * ms) }) // one thread: serial
		Loop(100, func() { spin(4 * ms) })                              // every core: parallel
	})
	want := []Region{{Items: 64, Threads: 16}, {Items: 1, Threads: 4}, {Items: 8, Threads: 1}, {Items: 100, Threads: 0}}
	if len(rec.Regions) != len(want) {
		t.Fatalf("regions %+v, want %+v", rec.Regions, want)
	}
	for k, g := range rec.Regions {
		if g.Items != want[k].Items || g.Threads != want[k].Threads {
			t.Errorf("region %d: %+v, want %+v", k, g, want[k])
		}
	}
	// 23 ms of 59 ms are serial.
	if f := rec.SerialFraction(); f < 0.33 || f > 0.45 {
		t.Errorf("serial fraction %.3f, want about 0.39", f)
	}
	// Amdahl at 16 threads: 59 / (23 + 32·4/64 + 4·7/100) ≈ 2.3.
	if s := rec.Speedup(16); s < 2.0 || s > 2.6 {
		t.Errorf("speedup at 16 threads %.2f, want about 2.3", s)
	}
	if s := rec.Speedup(1); s < 0.99 || s > 1.01 {
		t.Errorf("speedup at 1 thread %.3f, want 1", s)
	}
	if Active() {
		t.Error("still recording after Record")
	}
	if r := Record(func() {}); len(r.Regions) != 0 {
		t.Errorf("a second Record kept %d regions of the first", len(r.Regions))
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
