// Package par runs loops across goroutines.
package par

import "sync"

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
	var wg sync.WaitGroup
	wg.Add(threads - 1)
	for t := 1; t < threads; t++ {
		lo, hi := t*n/threads, (t+1)*n/threads
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/threads)
	wg.Wait()
}
