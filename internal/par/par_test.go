package par

import (
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
	spin := func(d time.Duration) {
		for t0 := time.Now(); time.Since(t0) < d; {
		}
	}
	rec := Record(func() {
		spin(10 * time.Millisecond)   // serial
		For(1, 64, func(lo, hi int) { // parallel, 64 items
			spin(time.Duration(hi-lo) * 500 * time.Microsecond)
			For(1, 4, func(int, int) {}) // nested: part of the region
		})
		For(1, 1, func(int, int) { spin(5 * time.Millisecond) }) // one item: serial
	})
	if len(rec.Regions) != 2 || rec.Regions[0].Items != 64 || rec.Regions[1].Items != 1 {
		t.Fatalf("regions %+v, want one of 64 items and one of 1", rec.Regions)
	}
	// 15 ms of 47 ms are serial.
	if f := rec.SerialFraction(); f < 0.25 || f > 0.45 {
		t.Errorf("serial fraction %.3f, want about 0.32", f)
	}
	// Amdahl at 16 threads: 47 / (15 + 32/16) ≈ 2.8.
	if s := rec.Speedup(16); s < 2.3 || s > 3.3 {
		t.Errorf("speedup at 16 threads %.2f, want about 2.8", s)
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
