// Package gemm implements the single-precision matrix products behind
// convolutions and the Gemm/MatMul operators.
//
// The main entry point is Mul, which multiplies a constant left operand
// (packed once with PackA) by a row-major right operand and applies a fused
// epilogue (bias, residual add, activation) while storing the result. It is
// shaped for convolution workloads: few rows (output channels) and a short
// reduction (input channels, or Cin·kh·kw after im2col) against a very wide
// right operand (the feature map).
//
// On amd64 the micro-kernels are AVX-512 (8×48 tiles) or AVX2+FMA (6×16)
// assembly, chosen at start-up; elsewhere, or with the purego build tag, a
// register-blocked Go kernel is used.
package gemm

import (
	"fmt"
	"github.com/veilkit/veil/internal/par"
	"sync"
	"unsafe"
)

// Act is the activation fused into the GEMM epilogue.
type Act uint8

const (
	ActNone      Act = iota // identity
	ActRelu                 // max(v, 0)
	ActLeakyRelu            // v if v ≥ 0 else Alpha·v
	ActClip                 // min(max(v, Min), Max)
)

// Epilogue is applied to each output element after the product:
// v = act(v + Bias[row] + Add[row·ldc + col]).
type Epilogue struct {
	Bias []float32 // len ≥ M, or nil
	// Add is an optional residual with the same shape and row stride (ldc)
	// as C. It may be C itself (then the product is accumulated into C) but
	// must not otherwise overlap C.
	Add      []float32
	Act      Act
	Alpha    float32 // LeakyRelu slope
	Min, Max float32 // Clip bounds
}

// Kernel epilogue flags; keep in sync with asm/asm.go.
const (
	flagAcc  = 1 << 0 // add the existing contents of C
	flagBias = 1 << 1 // add bias[row]
	flagAdd  = 1 << 2 // add the residual tile
	// flagPrefetch asks for software prefetch of B two tiles ahead.
	flagPrefetch = 1 << 3
	actShift     = 4
	actMask      = 7
	actRelu      = 1 // max(v, 0)
	actLeakyX    = 2 // max(v, alpha*v), alpha ≤ 1
	actLeakyN    = 3 // min(v, alpha*v), alpha > 1
	actClip      = 4 // min(max(v, lo), hi)
)

// PackedA is a constant left operand packed for the micro-kernel; it is safe
// for concurrent use.
//
// Rows are grouped into panels of mr rows (the last panel may be shorter);
// panel q starts at q·mr·k and stores its r rows column by column:
// element (i, kk) of the panel is at kk·r + i.
type PackedA struct {
	m, k int
	mr   int
	ks   *kernelSet
	data []float32
}

// Dims returns the dimensions of the packed matrix.
func (p *PackedA) Dims() (m, k int) { return p.m, p.k }

// PackA packs the m×k row-major matrix a (row stride lda).
func PackA(m, k int, a []float32, lda int) *PackedA {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: PackA: negative dimensions %d×%d", m, k))
	}
	if m > 0 && k > 0 {
		if lda < k || len(a) < (m-1)*lda+k {
			panic(fmt.Sprintf("gemm: PackA: a too short for %d×%d with lda %d", m, k, lda))
		}
	}
	return packWith(kern, m, k, a, lda)
}

func packWith(ks *kernelSet, m, k int, a []float32, lda int) *PackedA {
	p := &PackedA{m: m, k: k, mr: ks.mr, ks: ks, data: make([]float32, m*k)}
	packA(p.data, ks.mr, m, k, a, lda, false, 1)
	return p
}

// packA packs op(a)·alpha (m×k; a is m×k with row stride lda, or k×m when
// trans) into dst with panels of mr rows.
func packA(dst []float32, mr, m, k int, a []float32, lda int, trans bool, alpha float32) {
	for i0 := 0; i0 < m; i0 += mr {
		r := min(mr, m-i0)
		panel := dst[i0*k : i0*k+r*k]
		for i := 0; i < r; i++ {
			if trans {
				for kk := 0; kk < k; kk++ {
					panel[kk*r+i] = alpha * a[kk*lda+i0+i]
				}
			} else {
				row := a[(i0+i)*lda : (i0+i)*lda+k]
				if alpha == 1 {
					for kk, v := range row {
						panel[kk*r+i] = v
					}
				} else {
					for kk, v := range row {
						panel[kk*r+i] = alpha * v
					}
				}
			}
		}
	}
}

// strip is one micro-kernel invocation: C[r × n] (+)= A_panel[r × k] · B[k × n]
// followed by the epilogue in flags.
type strip struct {
	a      []float32 // packed panel at the current depth block, k*r values
	b      []float32 // B at (k0, j0)
	c      []float32 // C at (i0, j0)
	bias   []float32 // bias at i0, when flagBias
	add    []float32 // residual at (i0, j0), when flagAdd
	r      int
	ldb    int // row stride of B
	bPanel int // distance between NR-column blocks of B (nr: B is read in place)
	ldc    int // row stride of C (and add)
	k, n   int
	flags  uint64
	alpha  float32
	lo, hi float32
}

// kernelSet describes the micro-kernel family chosen for this machine.
type kernelSet struct {
	name string
	id   kernelID
	mr   int // rows per packed panel
	nr   int // columns per register tile
	vec  int // columns per vector: granularity of column splits
}

type kernelID uint8

const (
	kernelGo kernelID = iota
	kernelAVX2
	kernelAVX512
)

// Blocking parameters (variables so tests and benchmarks can explore them).
var (
	kcMax    = 512        // depth block
	l2Budget = 256 * 1024 // bytes of B kept hot per (depth block × column block)
)

type mulArgs struct {
	p      *PackedA
	b      []float32
	ldb, n int
	c      []float32
	ldc    int
	bias   []float32
	add    []float32
	flags  uint64 // epilogue flags for the last depth block
	acc    bool   // accumulate into C from the first depth block
	alpha  float32
	lo, hi float32
}

// Mul computes C[m×n] = epilogue(A·B), where A is the packed m×k operand, B is
// k×n row-major with row stride ldb and C has row stride ldc. ep may be nil.
//
// With threads <= 1 the work runs on the caller's goroutine; otherwise it is
// split over up to threads goroutines (column blocks of C, and row panels when
// n is small) and Mul returns when all are done. B and C must not overlap.
func Mul(p *PackedA, b []float32, ldb, n int, c []float32, ldc int, ep *Epilogue, threads int) {
	m, k := p.m, p.k
	if n < 0 {
		panic("gemm: Mul: negative n")
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("gemm: Mul: c too short for %d×%d with ldc %d", m, n, ldc))
	}
	if k > 0 && (ldb < n || len(b) < (k-1)*ldb+n) {
		panic(fmt.Sprintf("gemm: Mul: b too short for %d×%d with ldb %d", k, n, ldb))
	}
	args := mulArgs{p: p, b: b, ldb: ldb, n: n, c: c, ldc: ldc}
	if ep != nil {
		if ep.Bias != nil {
			if len(ep.Bias) < m {
				panic(fmt.Sprintf("gemm: Mul: bias has %d values, want %d", len(ep.Bias), m))
			}
			args.bias = ep.Bias
			args.flags |= flagBias
		}
		if ep.Add != nil {
			if len(ep.Add) < (m-1)*ldc+n {
				panic("gemm: Mul: residual too short")
			}
			if unsafe.SliceData(ep.Add) == unsafe.SliceData(c) {
				args.acc = true
			} else {
				args.add = ep.Add
				args.flags |= flagAdd
			}
		}
		switch ep.Act {
		case ActNone:
		case ActRelu:
			args.flags |= actRelu << actShift
		case ActLeakyRelu:
			if ep.Alpha <= 1 {
				args.flags |= actLeakyX << actShift
			} else {
				args.flags |= actLeakyN << actShift
			}
			args.alpha = ep.Alpha
		case ActClip:
			args.flags |= actClip << actShift
			args.lo, args.hi = ep.Min, ep.Max
		default:
			panic(fmt.Sprintf("gemm: unknown activation %d", ep.Act))
		}
	}
	mul(&args, threads)
}

func mul(args *mulArgs, threads int) {
	m, k, n := args.p.m, args.p.k, args.n
	if k == 0 {
		epilogueOnly(args)
		return
	}
	panels := (m + args.p.mr - 1) / args.p.mr
	if threads > 1 {
		threads = min(threads, par.Cores())
	}
	if threads <= 1 || m*n*k < 2*minPartWork {
		args.run(0, panels, 0, n)
		return
	}
	parallel(args, panels, threads)
}

// run computes the row panels [p0, p1) and columns [j0, j1) of C.
//
// Loop nest: column blocks of nc (so that the kc×nc block of B stays in L2)
// → depth blocks of kc → row panels → the kernel, which sweeps the column
// block in NR-wide register tiles. B is read in place (packing it costs more
// than it saves for these shapes: K is small and every element of B is used
// by all the row panels right after the first one brought it in). The first
// panel of each block, which streams B from memory, has the kernel prefetch
// B two tiles ahead.
func (a *mulArgs) run(p0, p1, j0, j1 int) {
	if p0 >= p1 || j0 >= j1 {
		return
	}
	p := a.p
	mr, m, K := p.mr, p.m, p.k
	kc := K
	if K > kcMax {
		nb := (K + kcMax - 1) / kcMax
		kc = (K + nb - 1) / nb
	}
	nr := p.ks.nr
	nc := max(nr, l2Budget/(4*kc)/nr*nr)
	var s strip
	s.ldb, s.ldc, s.bPanel = a.ldb, a.ldc, nr
	s.alpha, s.lo, s.hi = a.alpha, a.lo, a.hi
	for jc := j0; jc < j1; jc += nc {
		s.n = min(nc, j1-jc)
		for pc := 0; pc < K; pc += kc {
			s.k = min(kc, K-pc)
			flags := uint64(0)
			if pc > 0 || a.acc {
				flags |= flagAcc
			}
			last := pc+s.k == K
			if last {
				flags |= a.flags
			}
			s.b = a.b[pc*a.ldb+jc:]
			for q := p0; q < p1; q++ {
				i0 := q * mr
				s.r = min(mr, m-i0)
				off := i0*K + pc*s.r
				s.a = p.data[off : off+s.k*s.r]
				s.c = a.c[i0*a.ldc+jc:]
				s.bias, s.add = nil, nil
				if last && a.bias != nil {
					s.bias = a.bias[i0:]
				}
				if last && a.add != nil {
					s.add = a.add[i0*a.ldc+jc:]
				}
				s.flags = flags
				if q == p0 {
					s.flags |= flagPrefetch
				}
				runStrip(p.ks.id, &s)
			}
		}
	}
}

// epilogueOnly handles k == 0: C = epilogue(0).
func epilogueOnly(a *mulArgs) {
	act := int(a.flags>>actShift) & actMask
	for i := 0; i < a.p.m; i++ {
		row := a.c[i*a.ldc : i*a.ldc+a.n]
		for j := range row {
			v := float32(0)
			if a.acc {
				v = row[j]
			}
			if a.bias != nil {
				v += a.bias[i]
			}
			if a.add != nil {
				v += a.add[i*a.ldc+j]
			}
			row[j] = activate(v, act, a.alpha, a.lo, a.hi)
		}
	}
}

func activate(v float32, act int, alpha, lo, hi float32) float32 {
	switch act {
	case actRelu:
		return max(v, 0)
	case actLeakyX:
		return max(v, alpha*v)
	case actLeakyN:
		return min(v, alpha*v)
	case actClip:
		return min(max(v, lo), hi)
	}
	return v
}

// ---------------------------------------------------------------------------
// General Gemm.

// gemmScratch is the per-call working memory of Gemm.
type gemmScratch struct {
	pa   PackedA
	abuf []float32
	bbuf []float32
}

var scratchPool = sync.Pool{New: func() any { return new(gemmScratch) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(A) is m×k (A is m×k with row stride lda, or k×m when transA) and op(B)
// is k×n (B is k×n with row stride ldb, or n×k when transB). When beta is 0,
// C is not read. threads is as for Mul.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, threads int) {
	gemmWith(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads)
}

func gemmWith(ks *kernelSet, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, threads int) {
	if m < 0 || n < 0 || k < 0 {
		panic("gemm: Gemm: negative dimensions")
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic("gemm: Gemm: c too short")
	}
	if k == 0 || alpha == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else if beta != 1 {
				for j := range row {
					row[j] *= beta
				}
			}
		}
		return
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	if lda < ac || len(a) < (ar-1)*lda+ac {
		panic("gemm: Gemm: a too short")
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if ldb < bc || len(b) < (br-1)*ldb+bc {
		panic("gemm: Gemm: b too short")
	}

	sc := scratchPool.Get().(*gemmScratch)
	sc.abuf = grow(sc.abuf, m*k)
	sc.pa = PackedA{m: m, k: k, mr: ks.mr, ks: ks, data: sc.abuf}
	packA(sc.abuf, ks.mr, m, k, a, lda, transA, alpha)

	bb, bld := b, ldb
	if transB {
		sc.bbuf = grow(sc.bbuf, k*n)
		bb, bld = sc.bbuf, n
		for j := 0; j < n; j++ {
			src := b[j*ldb : j*ldb+k]
			for kk, v := range src {
				bb[kk*n+j] = v
			}
		}
	}

	args := mulArgs{p: &sc.pa, b: bb, ldb: bld, n: n, c: c, ldc: ldc}
	if beta != 0 {
		args.acc = true
		if beta != 1 {
			for i := 0; i < m; i++ {
				row := c[i*ldc : i*ldc+n]
				for j := range row {
					row[j] *= beta
				}
			}
		}
	}
	mul(&args, threads)

	sc.pa = PackedA{}
	scratchPool.Put(sc)
}
