//go:build linux

package kern

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns a slice of n float32s lying against an inaccessible page:
// right after one if atStart, else right before one. Any access outside
// the slice that is not masked off faults.
func guarded(t *testing.T, n int, atStart bool) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[page+size:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	off := page
	if !atStart {
		off = page + size - 4*n
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), n)
}

// TestDepthwiseGuarded runs the depthwise kernels on planes lying against
// inaccessible pages, so that a stray read or write faults.
func TestDepthwiseGuarded(t *testing.T) {
	testGuarded(t)
}

func testGuarded(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, cc := range dwCases {
		for _, sz := range [][2]int{{1, 1}, {3, 3}, {5, 7}, {10, 10}, {13, 13}, {17, 33}, {22, 22}, {33, 33}, {2, 48}} {
			p, ok := cc.params(1, 2, sz[0], sz[1])
			if !ok {
				continue
			}
			w := randSlice(r, p.C*p.KH*p.KW)
			bias := randSlice(r, p.C)
			src := randSlice(r, p.C*p.H*p.W)
			act := Act{Kind: ActRelu}
			want := naiveDepthwise(&p, src, w, bias, act)
			for _, inStart := range []bool{false, true} {
				for _, outStart := range []bool{false, true} {
					in := guarded(t, len(src), inStart)
					copy(in, src)
					out := guarded(t, len(want), outStart)
					Depthwise(&p, in, w, bias, out, act, 1)
					compare(t, fmt.Sprintf("%v %dx%d in@start=%v out@start=%v", cc, sz[0], sz[1], inStart, outStart), out, want, 1e-5)
				}
			}
		}
	}
}
