// Command asm generates the amd64 micro-kernels of package gemm with avo.
//
//	cd onnx/internal/gemm && go run ./asm -out gemm_amd64.s -stubs stub_amd64.go -pkg gemm
//
// Every kernel computes a strip C[r × n] = epilogue(A·B) where A is one packed
// micro-panel (k × r floats, row index fastest) and B is read in blocks of NR
// columns: element (kk, j) of block jb lives at b + jb*bPanel + kk*bRow + 4*j.
// With bRow = 4*ldb and bPanel = 4*NR this reads a row-major B in place; with
// bRow = 4*NR and bPanel = 4*NR*k it reads B packed into NR-wide panels.
//
// The signature shared by all kernels is
//
//	func(a, b *float32, bRow, bPanel uintptr, c *float32, ldc uintptr, k, n int,
//	     flags uint64, bias, add *float32, alpha, lo, hi float32)
//
// where ldc is in bytes, bias points at the r biases of the strip's rows, add
// points at the residual element that corresponds to c (same stride ldc), and
// flags holds the epilogue (see the constants below, mirrored in gemm.go).
//
// Tiles: AVX-512 kernels are r×48 (r ≤ 8: 24 zmm accumulators, 3 zmm of B,
// A broadcast), AVX2+FMA kernels r×16 (r ≤ 6: 12 ymm accumulators). One
// function per row count r, so a short last panel costs no wasted FMAs.
// Column remainders use k-mask (AVX-512) or VMASKMOVPS (AVX2) loads and
// stores, so no element past the end of B, C or the residual is touched.
// The epilogue (accumulate C, bias, residual, activation) is applied in
// registers before the single store of each tile.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Epilogue flags; keep in sync with gemm.go.
const (
	flagAcc  = 1 << 0 // add the existing contents of C
	flagBias = 1 << 1 // add bias[row]
	flagAdd  = 1 << 2 // add the residual tile
	// flagPrefetch asks for software prefetch of B two tiles ahead.
	flagPrefetch = 1 << 3
	actShift     = 4 // activation code in bits 4..6
	actMask      = 7
	actRelu      = 1 // max(v, 0)
	actLeakyX    = 2 // max(v, alpha*v)  (alpha <= 1)
	actLeakyN    = 3 // min(v, alpha*v)  (alpha > 1)
	actClip      = 4 // min(max(v, lo), hi)
)

const signature = "func(a, b *float32, bRow, bPanel uintptr, c *float32, ldc uintptr, k, n int, flags uint64, bias, add *float32, alpha, lo, hi float32)"

// Register assignment common to both kernel families.
var (
	rA      = RSI // A micro-panel base
	rB      = RDI // B at the current column block
	rBRow   = R8  // byte stride between B rows
	rBPanel = R9  // byte stride between B column blocks
	rC      = RDX // C at the current column block
	rLdc    = R10 // byte stride between C rows
	rK      = R11 // depth
	rN      = R12 // columns left
	rAddOff = R13 // add - c, in bytes
	rAp     = RAX // A cursor
	rBp     = RBX // B cursor
	rCnt    = RCX // depth counter / scratch
	rRow    = R14 // row cursor in the epilogue
)

func main() {
	ConstraintExpr("!purego")

	maskTab := GLOBL("avx2MaskTab", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}

	for r := 1; r <= 8; r++ {
		genAVX512(r)
	}
	for r := 1; r <= 6; r++ {
		genAVX2(r, maskTab)
	}
	Generate()
}

// paramAddr is the stack address of a scalar argument.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

func prologue() {
	Load(Param("a"), rA)
	Load(Param("b"), rB)
	Load(Param("bRow"), rBRow)
	Load(Param("bPanel"), rBPanel)
	Load(Param("c"), rC)
	Load(Param("ldc"), rLdc)
	Load(Param("k"), rK)
	Load(Param("n"), rN)
	Load(Param("add"), rAddOff)
	SUBQ(rC, rAddOff)
}

// ---------------------------------------------------------------------------
// AVX-512: r rows (≤ 8) × 48 columns, accumulators Z0..Z23 (row i, vector v
// in Z(3i+v)), B vectors in Z24..Z26, broadcasts of A in Z27/Z28.

func zAcc(i, v int) VecPhysical { return zmm(3*i + v) }

func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

var kmask = []OpmaskPhysical{K1, K2, K3}

const nr512 = 48

func genAVX512(r int) {
	name := fmt.Sprintf("kernAVX512R%d", r)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d-row strip with AVX-512 (48-column blocks).", name, r))
	prologue()

	l := func(s string) string { return fmt.Sprintf("%s_%s", name, s) }

	Label(l("loop"))
	CMPQ(rN, Imm(nr512))
	JL(LabelRef(l("tail")))
	block512(r, 3, false, l("full"))
	ADDQ(Imm(4*nr512), rC)
	ADDQ(rBPanel, rB)
	SUBQ(Imm(nr512), rN)
	JMP(LabelRef(l("loop")))

	Label(l("tail"))
	TESTQ(rN, rN)
	JLE(LabelRef(l("done")))
	// Column masks: bit j of the 48-bit mask is set for j < n.
	MOVQ(I32(-1), rBp)
	BZHIQ(rN, rBp, rBp)
	KMOVW(EBX, K1)
	SHRQ(Imm(16), rBp)
	KMOVW(EBX, K2)
	SHRQ(Imm(16), rBp)
	KMOVW(EBX, K3)
	CMPQ(rN, Imm(16))
	JLE(LabelRef(l("tail1")))
	CMPQ(rN, Imm(32))
	JLE(LabelRef(l("tail2")))
	block512(r, 3, true, l("t3"))
	JMP(LabelRef(l("done")))
	Label(l("tail2"))
	block512(r, 2, true, l("t2"))
	JMP(LabelRef(l("done")))
	Label(l("tail1"))
	block512(r, 1, true, l("t1"))

	Label(l("done"))
	VZEROUPPER()
	RET()
}

// loop512 is the depth loop of block512.
func loop512(r, nv int, prefetch bool, load func(Mem, int, VecPhysical), label string) {
	Label(label)
	for v := 0; v < nv; v++ {
		load(Mem{Base: rBp, Disp: 64 * v}, v, zmm(24+v))
	}
	if prefetch {
		for v := 0; v < nv; v++ {
			PREFETCHT0(Mem{Base: rBp, Index: rBPanel, Scale: 2, Disp: 64 * v})
		}
	}
	for i := 0; i < r; i++ {
		t := zmm(27 + i%2)
		VBROADCASTSS(Mem{Base: rAp, Disp: 4 * i}, t)
		for v := 0; v < nv; v++ {
			VFMADD231PS(zmm(24+v), t, zAcc(i, v))
		}
	}
	ADDQ(Imm(uint64(4*r)), rAp)
	ADDQ(rBRow, rBp)
	DECQ(rCnt)
	JNZ(LabelRef(label))
}

// block512 computes one r × (16·nv) block at rB/rC. With masked set, the
// loads and stores of vector v use mask register K(v+1).
func block512(r, nv int, masked bool, pfx string) {
	l := func(s string) string { return pfx + "_" + s }
	load := func(m Mem, v int, dst VecPhysical) {
		if masked {
			VMOVUPS_Z(m, kmask[v], dst)
		} else {
			VMOVUPS(m, dst)
		}
	}
	store := func(src VecPhysical, v int, m Mem) {
		if masked {
			VMOVUPS(src, kmask[v], m)
		} else {
			VMOVUPS(src, m)
		}
	}

	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VPXORD(zAcc(i, v), zAcc(i, v), zAcc(i, v))
		}
	}
	MOVQ(rA, rAp)
	MOVQ(rB, rBp)
	MOVQ(rK, rCnt)
	TESTQ(rCnt, rCnt)
	JE(LabelRef(l("epi")))

	if !masked {
		// Full tiles: a second copy of the loop prefetches B two column
		// blocks ahead, for the first row panel that streams B from memory.
		TESTQ(U32(flagPrefetch), paramAddr("flags"))
		JNZ(LabelRef(l("kpf")))
		loop512(r, nv, false, load, l("k"))
		JMP(LabelRef(l("epi")))
		loop512(r, nv, true, load, l("kpf"))
	} else {
		loop512(r, nv, false, load, l("k"))
	}

	Label(l("epi"))
	flags := paramAddr("flags")

	// C += existing C.
	TESTQ(U32(flagAcc), flags)
	JZ(LabelRef(l("noacc")))
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			load(Mem{Base: rRow, Disp: 64 * v}, v, Z24)
			VADDPS(Z24, zAcc(i, v), zAcc(i, v))
		}
		if i+1 < r {
			ADDQ(rLdc, rRow)
		}
	}
	Label(l("noacc"))

	// Bias.
	TESTQ(U32(flagBias), flags)
	JZ(LabelRef(l("nobias")))
	Load(Param("bias"), rCnt)
	for i := 0; i < r; i++ {
		VBROADCASTSS(Mem{Base: rCnt, Disp: 4 * i}, Z24)
		for v := 0; v < nv; v++ {
			VADDPS(Z24, zAcc(i, v), zAcc(i, v))
		}
	}
	Label(l("nobias"))

	// Residual.
	TESTQ(U32(flagAdd), flags)
	JZ(LabelRef(l("noadd")))
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			load(Mem{Base: rRow, Index: rAddOff, Scale: 1, Disp: 64 * v}, v, Z24)
			VADDPS(Z24, zAcc(i, v), zAcc(i, v))
		}
		if i+1 < r {
			ADDQ(rLdc, rRow)
		}
	}
	Label(l("noadd"))

	// Activation.
	MOVQ(flags, rCnt)
	SHRQ(Imm(actShift), rCnt)
	ANDQ(Imm(actMask), rCnt)
	JZ(LabelRef(l("store")))
	CMPQ(rCnt, Imm(actRelu))
	JNE(LabelRef(l("notrelu")))
	VPXORD(Z24, Z24, Z24)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMAXPS(Z24, zAcc(i, v), zAcc(i, v))
		}
	}
	JMP(LabelRef(l("store")))
	Label(l("notrelu"))
	CMPQ(rCnt, Imm(actClip))
	JNE(LabelRef(l("notclip")))
	VBROADCASTSS(paramAddr("lo"), Z24)
	VBROADCASTSS(paramAddr("hi"), Z25)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMAXPS(Z24, zAcc(i, v), zAcc(i, v))
			VMINPS(Z25, zAcc(i, v), zAcc(i, v))
		}
	}
	JMP(LabelRef(l("store")))
	Label(l("notclip"))
	VBROADCASTSS(paramAddr("alpha"), Z24)
	CMPQ(rCnt, Imm(actLeakyX))
	JNE(LabelRef(l("leakyn")))
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMULPS(Z24, zAcc(i, v), Z25)
			VMAXPS(Z25, zAcc(i, v), zAcc(i, v))
		}
	}
	JMP(LabelRef(l("store")))
	Label(l("leakyn"))
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMULPS(Z24, zAcc(i, v), Z25)
			VMINPS(Z25, zAcc(i, v), zAcc(i, v))
		}
	}

	Label(l("store"))
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			store(zAcc(i, v), v, Mem{Base: rRow, Disp: 64 * v})
		}
		if i+1 < r {
			ADDQ(rLdc, rRow)
		}
	}
}

// ---------------------------------------------------------------------------
// AVX2 + FMA: r rows (≤ 6) × 16 columns, accumulators Y0..Y11 (row i, vector
// v in Y(2i+v)), B vectors in Y12/Y13, broadcast of A in Y14, tail mask Y15.

func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func yAcc(i, v int) VecPhysical { return ymm(2*i + v) }

const nr256 = 16

func genAVX2(r int, maskTab Mem) {
	name := fmt.Sprintf("kernAVX2R%d", r)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d-row strip with AVX2+FMA (16-column blocks).", name, r))
	prologue()

	l := func(s string) string { return fmt.Sprintf("%s_%s", name, s) }

	Label(l("loop"))
	CMPQ(rN, Imm(nr256))
	JL(LabelRef(l("tail")))
	block256(r, 2, -1, l("full"))
	ADDQ(Imm(4*nr256), rC)
	ADDQ(rBPanel, rB)
	SUBQ(Imm(nr256), rN)
	JMP(LabelRef(l("loop")))

	Label(l("tail"))
	TESTQ(rN, rN)
	JLE(LabelRef(l("done")))
	LEAQ(maskTab, rBp)
	CMPQ(rN, Imm(8))
	JLE(LabelRef(l("tail1")))
	// 8 < n < 16: second vector masked with n-8 lanes.
	MOVQ(U32(16), rCnt)
	SUBQ(rN, rCnt)
	VMOVDQU(Mem{Base: rBp, Index: rCnt, Scale: 4}, Y15)
	block256(r, 2, 1, l("t2"))
	JMP(LabelRef(l("done")))
	Label(l("tail1"))
	// n ≤ 8: one vector masked with n lanes.
	MOVQ(U32(8), rCnt)
	SUBQ(rN, rCnt)
	VMOVDQU(Mem{Base: rBp, Index: rCnt, Scale: 4}, Y15)
	block256(r, 1, 0, l("t1"))

	Label(l("done"))
	VZEROUPPER()
	RET()
}

// loop256 is the depth loop of block256.
func loop256(r, nv int, prefetch bool, load func(Mem, int, VecPhysical), label string) {
	Label(label)
	for v := 0; v < nv; v++ {
		load(Mem{Base: rBp, Disp: 32 * v}, v, ymm(12+v))
	}
	if prefetch {
		PREFETCHT0(Mem{Base: rBp, Index: rBPanel, Scale: 2})
	}
	for i := 0; i < r; i++ {
		VBROADCASTSS(Mem{Base: rAp, Disp: 4 * i}, Y14)
		for v := 0; v < nv; v++ {
			VFMADD231PS(ymm(12+v), Y14, yAcc(i, v))
		}
	}
	ADDQ(Imm(uint64(4*r)), rAp)
	ADDQ(rBRow, rBp)
	DECQ(rCnt)
	JNZ(LabelRef(label))
}

// block256 computes one r × (8·nv) block; vector maskV (if ≥ 0) is accessed
// through the lane mask in Y15.
func block256(r, nv, maskV int, pfx string) {
	l := func(s string) string { return pfx + "_" + s }
	load := func(m Mem, v int, dst VecPhysical) {
		if v == maskV {
			VMASKMOVPS(m, Y15, dst)
		} else {
			VMOVUPS(m, dst)
		}
	}
	addMem := func(m Mem, v int, acc VecPhysical) {
		if v == maskV {
			VMASKMOVPS(m, Y15, Y13)
			VADDPS(Y13, acc, acc)
		} else {
			VADDPS(m, acc, acc)
		}
	}
	store := func(src VecPhysical, v int, m Mem) {
		if v == maskV {
			VMASKMOVPS(src, Y15, m)
		} else {
			VMOVUPS(src, m)
		}
	}

	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VXORPS(yAcc(i, v), yAcc(i, v), yAcc(i, v))
		}
	}
	MOVQ(rA, rAp)
	MOVQ(rB, rBp)
	MOVQ(rK, rCnt)
	TESTQ(rCnt, rCnt)
	JE(LabelRef(l("epi")))

	if maskV < 0 {
		// Full tiles: a second copy of the loop prefetches B two column
		// blocks ahead, for the first row panel that streams B from memory.
		TESTQ(U32(flagPrefetch), paramAddr("flags"))
		JNZ(LabelRef(l("kpf")))
		loop256(r, nv, false, load, l("k"))
		JMP(LabelRef(l("epi")))
		loop256(r, nv, true, load, l("kpf"))
	} else {
		loop256(r, nv, false, load, l("k"))
	}

	Label(l("epi"))
	flags := paramAddr("flags")

	TESTQ(U32(flagAcc), flags)
	JZ(LabelRef(l("noacc")))
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			addMem(Mem{Base: rRow, Disp: 32 * v}, v, yAcc(i, v))
		}
		if i+1 < r {
			ADDQ(rLdc, rRow)
		}
	}
	Label(l("noacc"))

	TESTQ(U32(flagBias), flags)
	JZ(LabelRef(l("nobias")))
	Load(Param("bias"), rCnt)
	for i := 0; i < r; i++ {
		VBROADCASTSS(Mem{Base: rCnt, Disp: 4 * i}, Y12)
		for v := 0; v < nv; v++ {
			VADDPS(Y12, yAcc(i, v), yAcc(i, v))
		}
	}
	Label(l("nobias"))

	TESTQ(U32(flagAdd), flags)
	JZ(LabelRef(l("noadd")))
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			addMem(Mem{Base: rRow, Index: rAddOff, Scale: 1, Disp: 32 * v}, v, yAcc(i, v))
		}
		if i+1 < r {
			ADDQ(rLdc, rRow)
		}
	}
	Label(l("noadd"))

	MOVQ(flags, rCnt)
	SHRQ(Imm(actShift), rCnt)
	ANDQ(Imm(actMask), rCnt)
	JZ(LabelRef(l("store")))
	CMPQ(rCnt, Imm(actRelu))
	JNE(LabelRef(l("notrelu")))
	VXORPS(Y12, Y12, Y12)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMAXPS(Y12, yAcc(i, v), yAcc(i, v))
		}
	}
	JMP(LabelRef(l("store")))
	Label(l("notrelu"))
	CMPQ(rCnt, Imm(actClip))
	JNE(LabelRef(l("notclip")))
	VBROADCASTSS(paramAddr("lo"), Y12)
	VBROADCASTSS(paramAddr("hi"), Y13)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMAXPS(Y12, yAcc(i, v), yAcc(i, v))
			VMINPS(Y13, yAcc(i, v), yAcc(i, v))
		}
	}
	JMP(LabelRef(l("store")))
	Label(l("notclip"))
	VBROADCASTSS(paramAddr("alpha"), Y12)
	CMPQ(rCnt, Imm(actLeakyX))
	JNE(LabelRef(l("leakyn")))
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMULPS(Y12, yAcc(i, v), Y13)
			VMAXPS(Y13, yAcc(i, v), yAcc(i, v))
		}
	}
	JMP(LabelRef(l("store")))
	Label(l("leakyn"))
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMULPS(Y12, yAcc(i, v), Y13)
			VMINPS(Y13, yAcc(i, v), yAcc(i, v))
		}
	}

	Label(l("store"))
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			store(yAcc(i, v), v, Mem{Base: rRow, Disp: 32 * v})
		}
		if i+1 < r {
			ADDQ(rLdc, rRow)
		}
	}
}
