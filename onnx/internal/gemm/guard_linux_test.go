package gemm

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns a slice of n floats that ends right before an inaccessible
// page, so that any read or write past its end faults.
func guarded(t *testing.T, n int) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	all := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), (size-page)/4)
	return all[len(all)-n:]
}

// TestMulGuardPages checks that the kernels' edge handling never touches
// memory past the last element of B, C or the residual (results are checked
// by the other tests).
func TestMulGuardPages(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, sh := range [][3]int{{5, 37, 3}, {9, 1, 2}, {8, 47, 5}, {3, 63, 1}, {17, 100, 600}} {
			m, n, k := sh[0], sh[1], sh[2]
			ldb, ldc := n+1, n+3
			b := guarded(t, (k-1)*ldb+n)
			c := guarded(t, (m-1)*ldc+n)
			add := guarded(t, (m-1)*ldc+n)
			copy(b, randSlice(rng, len(b)))
			copy(add, randSlice(rng, len(add)))
			a := randSlice(rng, m*k)
			p := packWith(ks, m, k, a, k)
			Mul(p, b, ldb, n, c, ldc, &Epilogue{Bias: randSlice(rng, m), Add: add, Act: ActRelu}, 1)
			// Residual aliasing C, accumulating.
			Mul(p, b, ldb, n, c, ldc, &Epilogue{Add: c}, 2)
		}
	})
}
