//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 depthwise kernels compute whole output planes straight from
// the unpadded input, one or two output rows per pass, in 16-lane blocks
// of output columns. Lanes whose input columns fall outside the row are
// loaded under a mask (masked-out lanes are neither loaded nor faulted
// on, and read as zero); rows in the vertical padding read a zero row.
// The tables of lane masks are described by dwPrepare.
//
// The align kernels (3×3 and 5×5 with stride 1) load each input vector
// once and shift the taps out of pairs of vectors with VALIGND; the
// stride-2 kernel deinterleaves even and odd columns with VPERMI2PS and
// VPERMT2PS. Both run their leading blocks, whose loads lie inside the
// row and whose lanes are all stored, without masks. The masked kernels
// (3×3 and 5×5 with any dilation) load every tap under a mask.
//
// They take the geometry as a *dwGeom:
//	0 oh, 8 output row bytes, 16 blocks per row, 24 h, 32 input row
//	bytes, 40 first window row (-PadTop), 48 StrideH, 56 DilH,
//	64 PadLeft bytes, 72 DilW bytes, 80 the store lanes of the second
//	row of the last pair (0 if OutH is odd, else 0xffff), 88 the number
//	of iterations of the unmasked loop, 96 the number of masked blocks
//	after it, 104 the byte offset of their masks.
// The kernels that compute two output rows per pass take oh as the
// number of pairs, (OutH+1)/2.
// Z9 holds the bias and Z10, Z11, Z12 alpha, lo and hi of the clampArgs.

// ACTZ applies the clamp-form activation to acc, keeping NaNs of acc.
#define ACTZ(acc, tmp) \
	VMULPS acc, Z10, tmp \
	VMAXPS acc, tmp, acc \
	VMAXPS acc, Z11, acc \
	VMINPS acc, Z12, acc

// CLAMPZ and LEAKYZ are two-instruction forms of ACTZ, for alpha = 1
// and for lo = -Inf, hi = +Inf.
#define CLAMPZ(acc, tmp) \
	VMAXPS acc, Z11, acc \
	VMINPS acc, Z12, acc

#define LEAKYZ(acc, tmp) \
	VMULPS acc, Z10, tmp \
	VMAXPS acc, tmp, acc

// FMA3 accumulates into acc the taps cur, Z23 and Z24 weighted by wa-wc;
// MUL3 sets acc to them.
#define FMA3(cur, wa, wb, wc, acc) \
	VFMADD231PS cur, wa, acc \
	VFMADD231PS Z23, wb, acc \
	VFMADD231PS Z24, wc, acc

#define MUL3(cur, wa, wb, wc, acc) \
	VMULPS cur, wa, acc \
	VFMADD231PS Z23, wb, acc \
	VFMADD231PS Z24, wc, acc

// LOADARGS loads the bias and activation of the clampArgs at AX.
#define LOADARGS \
	VBROADCASTSS 0(AX), Z9 \
	VBROADCASTSS 12(AX), Z10 \
	VBROADCASTSS 4(AX), Z11 \
	VBROADCASTSS 8(AX), Z12

// LOADW9 broadcasts the nine weights at w into Z0-Z8 and the clampArgs
// at a into Z9-Z12.
#define LOADW9 \
	MOVQ w+32(FP), AX \
	VBROADCASTSS 0(AX), Z0 \
	VBROADCASTSS 4(AX), Z1 \
	VBROADCASTSS 8(AX), Z2 \
	VBROADCASTSS 12(AX), Z3 \
	VBROADCASTSS 16(AX), Z4 \
	VBROADCASTSS 20(AX), Z5 \
	VBROADCASTSS 24(AX), Z6 \
	VBROADCASTSS 28(AX), Z7 \
	VBROADCASTSS 32(AX), Z8 \
	MOVQ a+40(FP), AX \
	LOADARGS

// ROWPTR sets dst to the input row iy, or to the zero row if iy is
// outside [0, h), less PadLeft: the address of column 0 of the window.
// BX holds the geometry; tmp is clobbered.
#define ROWPTR(iy, dst, tmp) \
	MOVQ  iy, dst \
	IMULQ 32(BX), dst \
	ADDQ  in+8(FP), dst \
	MOVQ  zero+16(FP), tmp \
	CMPQ  iy, 24(BX) \
	CMOVQCC tmp, dst \
	SUBQ  64(BX), dst


// R3U and R3M load into Z16 the input columns [c+16, c+32) of the row
// at r+DX, R3M under K1, where cur holds [c, c+16), and shift the pair
// into the taps at +s1 (Z23) and +s2 (Z24) columns.
#define R3U(r, cur, s1, s2) \
	VMOVUPS 64(r)(DX*1), Z16 \
	VALIGND $s1, cur, Z16, Z23 \
	VALIGND $s2, cur, Z16, Z24

#define R3M(r, cur, s1, s2) \
	VMOVUPS.Z 64(r)(DX*1), K1, Z16 \
	VALIGND $s1, cur, Z16, Z23 \
	VALIGND $s2, cur, Z16, Z24

// R3TAPS computes into Z13 one block of an output row from the input
// rows at R8-R10, whose current columns are in Z17-Z19, loading with ld
// (R3U or R3M) and moving the next columns into Z17-Z19.
#define R3TAPS(ld, s1, s2) \
	ld(R8, Z17, s1, s2) \
	VMOVAPS Z9, Z13 \
	FMA3(Z17, Z0, Z1, Z2, Z13) \
	VMOVAPS Z16, Z17 \
	ld(R9, Z18, s1, s2) \
	MUL3(Z18, Z3, Z4, Z5, Z14) \
	VMOVAPS Z16, Z18 \
	ld(R10, Z19, s1, s2) \
	MUL3(Z19, Z6, Z7, Z8, Z15) \
	VMOVAPS Z16, Z19 \
	VADDPS Z15, Z14, Z14 \
	VADDPS Z14, Z13, Z13

// DW3ROWS defines a 3×3 stride-1 align kernel for horizontal dilation d
// (taps at +s1 = d and +s2 = 2d columns) that computes one output row
// per pass and applies act. DX is the block's byte offset in the input
// and output rows; R15 points at the masks.
#define DW3ROWS(name, s1, s2, act) \
TEXT name(SB), NOSPLIT, $0-56 \
	LOADW9 \
	MOVQ geom+48(FP), BX \
	MOVQ o+0(FP), SI \
	MOVQ 0(BX), R13 \
	MOVQ 40(BX), R14 \
row: \
	ROWPTR(R14, R8, DX) \
	MOVQ R14, AX \
	ADDQ 56(BX), AX \
	ROWPTR(AX, R9, DX) \
	ADDQ 56(BX), AX \
	ROWPTR(AX, R10, DX) \
	MOVQ masks+24(FP), R15 \
	KMOVW 0(R15), K1 \
	VMOVUPS.Z 0(R8), K1, Z17 \
	VMOVUPS.Z 0(R9), K1, Z18 \
	VMOVUPS.Z 0(R10), K1, Z19 \
	XORQ DX, DX \
	MOVQ 88(BX), CX \
	TESTQ CX, CX \
	JZ   edge \
full: \
	R3TAPS(R3U, s1, s2) \
	act(Z13, Z14) \
	VMOVUPS Z13, 0(SI)(DX*1) \
	ADDQ $64, DX \
	DECQ CX \
	JNZ  full \
edge: \
	MOVQ 96(BX), CX \
	ADDQ 104(BX), R15 \
	TESTQ CX, CX \
	JZ   next \
eblk: \
	KMOVW 2(R15), K1 \
	KMOVW 4(R15), K2 \
	R3TAPS(R3M, s1, s2) \
	act(Z13, Z14) \
	VMOVUPS Z13, K2, 0(SI)(DX*1) \
	ADDQ $64, DX \
	ADDQ $4, R15 \
	DECQ CX \
	JNZ  eblk \
next: \
	ADDQ 8(BX), SI \
	ADDQ 48(BX), R14 \
	DECQ R13 \
	JNZ  row \
	VZEROUPPER \
	RET

// func dw3d1ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3ROWS(·dw3d1ClampAVX512, 1, 2, CLAMPZ)

// func dw3d1LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3ROWS(·dw3d1LeakyAVX512, 1, 2, LEAKYZ)

// func dw3d2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3ROWS(·dw3d2ClampAVX512, 2, 4, CLAMPZ)

// func dw3d2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3ROWS(·dw3d2LeakyAVX512, 2, 4, LEAKYZ)

// func dw3d4ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3ROWS(·dw3d4ClampAVX512, 4, 8, CLAMPZ)

// func dw3d4LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3ROWS(·dw3d4LeakyAVX512, 4, 8, LEAKYZ)

// X2ROWU and X2ROWM compute the three taps of one input row for the
// pair kernels: they load the columns [c+16, c+32) of the row at r+DX
// into next, X2ROWM under K1 (cur holds [c, c+16)), and shift the pair
// into Z23 and Z24.
#define X2ROWU(r, cur, next) \
	VMOVUPS 64(r)(DX*1), next \
	VALIGND $1, cur, next, Z23 \
	VALIGND $2, cur, next, Z24

#define X2ROWM(r, cur, next) \
	VMOVUPS.Z 64(r)(DX*1), K1, next \
	VALIGND $1, cur, next, Z23 \
	VALIGND $2, cur, next, Z24

// X2TAPS computes into Z13 and Z15 one 16-column block of both output
// rows of a pair from the input rows at R8-R11 whose current columns are
// in c0-c3, loading the next columns into n0-n3 with ld. DX is the
// block's byte offset in the input rows and in the output rows. ld is
// X2ROWU or X2ROWM.
#define X2TAPS(ld, c0, c1, c2, c3, n0, n1, n2, n3) \
	ld(R8, c0, n0) \
	VMOVAPS Z9, Z13 \
	FMA3(c0, Z0, Z1, Z2, Z13) \
	ld(R9, c1, n1) \
	MUL3(c1, Z3, Z4, Z5, Z14) \
	VMOVAPS Z9, Z15 \
	FMA3(c1, Z0, Z1, Z2, Z15) \
	ld(R10, c2, n2) \
	FMA3(c2, Z6, Z7, Z8, Z13) \
	MUL3(c2, Z3, Z4, Z5, Z22) \
	ld(R11, c3, n3) \
	FMA3(c3, Z6, Z7, Z8, Z15) \
	VADDPS Z14, Z13, Z13 \
	VADDPS Z22, Z15, Z15

// X2FULL is a block whose loads lie in the rows and whose 16 outputs
// are all stored (the second row's under K7).
#define X2FULL(act, c0, c1, c2, c3, n0, n1, n2, n3) \
	X2TAPS(X2ROWU, c0, c1, c2, c3, n0, n1, n2, n3) \
	act(Z13, Z14) \
	act(Z15, Z22) \
	VMOVUPS Z13, 0(DI)(DX*1) \
	VMOVUPS Z15, K7, 0(R12)(DX*1) \
	ADDQ $64, DX

// X2EDGE is a block with masked loads and stores; R15 points at its
// masks.
#define X2EDGE(act, c0, c1, c2, c3, n0, n1, n2, n3) \
	KMOVW 2(R15), K1 \
	KMOVW 4(R15), K2 \
	KANDW K7, K2, K3 \
	X2TAPS(X2ROWM, c0, c1, c2, c3, n0, n1, n2, n3) \
	act(Z13, Z14) \
	act(Z15, Z22) \
	VMOVUPS Z13, K2, 0(DI)(DX*1) \
	VMOVUPS Z15, K3, 0(R12)(DX*1) \
	ADDQ $64, DX \
	ADDQ $4, R15

// DW3X2 defines a 3×3 kernel for strides and dilations 1 that computes
// two output rows per pass from four input rows, applying act; geom.oh
// counts the pairs. The unmasked loop runs pairs of blocks. The
// blocks alternate between two sets of row registers, Z17-Z19, Z25 and
// Z26-Z29.
#define DW3X2(name, act) \
TEXT name(SB), NOSPLIT, $0-56 \
	LOADW9 \
	MOVQ geom+48(FP), BX \
	MOVQ o+0(FP), SI \
	MOVQ 0(BX), R13 \
	MOVQ 40(BX), R14 \
row: \
	MOVQ $0xffff, AX \
	CMPQ R13, $1 \
	CMOVQEQ 80(BX), AX \
	KMOVW AX, K7 \
	ROWPTR(R14, R8, DX) \
	LEAQ 1(R14), AX \
	ROWPTR(AX, R9, DX) \
	INCQ AX \
	ROWPTR(AX, R10, DX) \
	INCQ AX \
	ROWPTR(AX, R11, DX) \
	MOVQ SI, DI \
	MOVQ SI, R12 \
	ADDQ 8(BX), R12 \
	MOVQ masks+24(FP), R15 \
	KMOVW 0(R15), K1 \
	VMOVUPS.Z 0(R8), K1, Z17 \
	VMOVUPS.Z 0(R9), K1, Z18 \
	VMOVUPS.Z 0(R10), K1, Z19 \
	VMOVUPS.Z 0(R11), K1, Z25 \
	XORQ DX, DX \
	MOVQ 88(BX), CX \
	TESTQ CX, CX \
	JZ   edge \
full: \
	X2FULL(act, Z17, Z18, Z19, Z25, Z26, Z27, Z28, Z29) \
	X2FULL(act, Z26, Z27, Z28, Z29, Z17, Z18, Z19, Z25) \
	DECQ CX \
	JNZ  full \
edge: \
	MOVQ 96(BX), CX \
	ADDQ 104(BX), R15 \
	TESTQ CX, CX \
	JZ   next \
eblk: \
	X2EDGE(act, Z17, Z18, Z19, Z25, Z26, Z27, Z28, Z29) \
	DECQ CX \
	JZ   next \
	X2EDGE(act, Z26, Z27, Z28, Z29, Z17, Z18, Z19, Z25) \
	DECQ CX \
	JNZ  eblk \
next: \
	ADDQ 8(BX), SI \
	ADDQ 8(BX), SI \
	ADDQ $2, R14 \
	DECQ R13 \
	JNZ  row \
	VZEROUPPER \
	RET

// func dw3x2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3X2(·dw3x2ClampAVX512, CLAMPZ)

// func dw3x2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3X2(·dw3x2LeakyAVX512, LEAKYZ)

// R5U and R5M load into Z16 the input columns [c+16, c+32) of the row
// at r+DX, R5M under K1, where cur holds [c, c+16), and shift the pair
// into the taps at +1 to +4 columns in Z23-Z26.
#define R5U(r, cur) \
	VMOVUPS 64(r)(DX*1), Z16 \
	VALIGND $1, cur, Z16, Z23 \
	VALIGND $2, cur, Z16, Z24 \
	VALIGND $3, cur, Z16, Z25 \
	VALIGND $4, cur, Z16, Z26

#define R5M(r, cur) \
	VMOVUPS.Z 64(r)(DX*1), K1, Z16 \
	VALIGND $1, cur, Z16, Z23 \
	VALIGND $2, cur, Z16, Z24 \
	VALIGND $3, cur, Z16, Z25 \
	VALIGND $4, cur, Z16, Z26

// FMA5 accumulates into acc the taps cur and Z23-Z26 weighted by the
// five weights at woff(AX), broadcast from memory; MUL5 sets acc to them.
#define FMA5(cur, woff, acc) \
	VFMADD231PS.BCST woff(AX), cur, acc \
	VFMADD231PS.BCST woff+4(AX), Z23, acc \
	VFMADD231PS.BCST woff+8(AX), Z24, acc \
	VFMADD231PS.BCST woff+12(AX), Z25, acc \
	VFMADD231PS.BCST woff+16(AX), Z26, acc

#define MUL5(cur, woff, acc) \
	VMULPS.BCST woff(AX), cur, acc \
	VFMADD231PS.BCST woff+4(AX), Z23, acc \
	VFMADD231PS.BCST woff+8(AX), Z24, acc \
	VFMADD231PS.BCST woff+12(AX), Z25, acc \
	VFMADD231PS.BCST woff+16(AX), Z26, acc

// R5TAPS computes into Z27 one block of an output row from the input
// rows at R8-R12, whose current columns are in Z17-Z21, loading with ld
// (R5U or R5M) and moving the next columns into Z17-Z21.
#define R5TAPS(ld) \
	ld(R8, Z17) \
	VMOVAPS Z9, Z27 \
	FMA5(Z17, 0, Z27) \
	VMOVAPS Z16, Z17 \
	ld(R9, Z18) \
	MUL5(Z18, 20, Z28) \
	VMOVAPS Z16, Z18 \
	ld(R10, Z19) \
	MUL5(Z19, 40, Z13) \
	VMOVAPS Z16, Z19 \
	ld(R11, Z20) \
	FMA5(Z20, 60, Z27) \
	VMOVAPS Z16, Z20 \
	ld(R12, Z21) \
	FMA5(Z21, 80, Z28) \
	VMOVAPS Z16, Z21 \
	VADDPS Z13, Z28, Z28 \
	VADDPS Z28, Z27, Z27

// DW5ROWS defines a 5×5 stride-1 align kernel for horizontal dilation 1
// that computes one output row per pass and applies act. AX points at
// the weights; DX is the block's byte offset in the rows.
#define DW5ROWS(name, act) \
TEXT name(SB), NOSPLIT, $0-56 \
	MOVQ a+40(FP), AX \
	LOADARGS \
	MOVQ w+32(FP), AX \
	MOVQ geom+48(FP), BX \
	MOVQ o+0(FP), SI \
	MOVQ 0(BX), R13 \
	MOVQ 40(BX), R14 \
row: \
	ROWPTR(R14, R8, DX) \
	MOVQ R14, R15 \
	ADDQ 56(BX), R15 \
	ROWPTR(R15, R9, DX) \
	ADDQ 56(BX), R15 \
	ROWPTR(R15, R10, DX) \
	ADDQ 56(BX), R15 \
	ROWPTR(R15, R11, DX) \
	ADDQ 56(BX), R15 \
	ROWPTR(R15, R12, DX) \
	MOVQ masks+24(FP), R15 \
	KMOVW 0(R15), K1 \
	VMOVUPS.Z 0(R8), K1, Z17 \
	VMOVUPS.Z 0(R9), K1, Z18 \
	VMOVUPS.Z 0(R10), K1, Z19 \
	VMOVUPS.Z 0(R11), K1, Z20 \
	VMOVUPS.Z 0(R12), K1, Z21 \
	XORQ DX, DX \
	MOVQ 88(BX), CX \
	TESTQ CX, CX \
	JZ   edge \
full: \
	R5TAPS(R5U) \
	act(Z27, Z28) \
	VMOVUPS Z27, 0(SI)(DX*1) \
	ADDQ $64, DX \
	DECQ CX \
	JNZ  full \
edge: \
	MOVQ 96(BX), CX \
	ADDQ 104(BX), R15 \
	TESTQ CX, CX \
	JZ   next \
eblk: \
	KMOVW 2(R15), K1 \
	KMOVW 4(R15), K2 \
	R5TAPS(R5M) \
	act(Z27, Z28) \
	VMOVUPS Z27, K2, 0(SI)(DX*1) \
	ADDQ $64, DX \
	ADDQ $4, R15 \
	DECQ CX \
	JNZ  eblk \
next: \
	ADDQ 8(BX), SI \
	ADDQ 48(BX), R14 \
	DECQ R13 \
	JNZ  row \
	VZEROUPPER \
	RET

// func dw5d1ClampAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
DW5ROWS(·dw5d1ClampAVX512, CLAMPZ)

// func dw5d1LeakyAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
DW5ROWS(·dw5d1LeakyAVX512, LEAKYZ)

// R5X2TAPS computes into Z27 and Z29 one block of both output rows of a
// pair from the input rows at R8-R13, whose current columns are in
// Z17-Z22, loading with ld and moving the next columns into Z17-Z22.
#define R5X2TAPS(ld) \
	ld(R8, Z17) \
	VMOVAPS Z9, Z27 \
	FMA5(Z17, 0, Z27) \
	VMOVAPS Z16, Z17 \
	ld(R9, Z18) \
	MUL5(Z18, 20, Z28) \
	VMOVAPS Z9, Z29 \
	FMA5(Z18, 0, Z29) \
	VMOVAPS Z16, Z18 \
	ld(R10, Z19) \
	MUL5(Z19, 40, Z13) \
	MUL5(Z19, 20, Z30) \
	VMOVAPS Z16, Z19 \
	ld(R11, Z20) \
	FMA5(Z20, 60, Z27) \
	MUL5(Z20, 40, Z14) \
	VMOVAPS Z16, Z20 \
	ld(R12, Z21) \
	FMA5(Z21, 80, Z28) \
	FMA5(Z21, 60, Z29) \
	VMOVAPS Z16, Z21 \
	ld(R13, Z22) \
	FMA5(Z22, 80, Z30) \
	VMOVAPS Z16, Z22 \
	VADDPS Z13, Z28, Z28 \
	VADDPS Z28, Z27, Z27 \
	VADDPS Z14, Z30, Z30 \
	VADDPS Z30, Z29, Z29

// DW5X2 defines a 5×5 align kernel for strides and dilations 1 that
// computes two output rows per pass from six input rows and applies act.
// geom.oh counts the pairs down. SI and DI are the output rows.
#define DW5X2(name, act) \
TEXT name(SB), NOSPLIT, $0-56 \
	MOVQ a+40(FP), AX \
	LOADARGS \
	MOVQ geom+48(FP), BX \
	MOVQ o+0(FP), SI \
	MOVQ 40(BX), R14 \
row: \
	MOVQ $0xffff, AX \
	CMPQ 0(BX), $1 \
	CMOVQEQ 80(BX), AX \
	KMOVW AX, K7 \
	MOVQ w+32(FP), AX \
	ROWPTR(R14, R8, DX) \
	LEAQ 1(R14), R15 \
	ROWPTR(R15, R9, DX) \
	INCQ R15 \
	ROWPTR(R15, R10, DX) \
	INCQ R15 \
	ROWPTR(R15, R11, DX) \
	INCQ R15 \
	ROWPTR(R15, R12, DX) \
	INCQ R15 \
	ROWPTR(R15, R13, DX) \
	MOVQ SI, DI \
	ADDQ 8(BX), DI \
	MOVQ masks+24(FP), R15 \
	KMOVW 0(R15), K1 \
	VMOVUPS.Z 0(R8), K1, Z17 \
	VMOVUPS.Z 0(R9), K1, Z18 \
	VMOVUPS.Z 0(R10), K1, Z19 \
	VMOVUPS.Z 0(R11), K1, Z20 \
	VMOVUPS.Z 0(R12), K1, Z21 \
	VMOVUPS.Z 0(R13), K1, Z22 \
	XORQ DX, DX \
	MOVQ 88(BX), CX \
	TESTQ CX, CX \
	JZ   edge \
full: \
	R5X2TAPS(R5U) \
	act(Z27, Z28) \
	act(Z29, Z30) \
	VMOVUPS Z27, 0(SI)(DX*1) \
	VMOVUPS Z29, K7, 0(DI)(DX*1) \
	ADDQ $64, DX \
	DECQ CX \
	JNZ  full \
edge: \
	MOVQ 96(BX), CX \
	ADDQ 104(BX), R15 \
	TESTQ CX, CX \
	JZ   next \
eblk: \
	KMOVW 2(R15), K1 \
	KMOVW 4(R15), K2 \
	KANDW K7, K2, K3 \
	R5X2TAPS(R5M) \
	act(Z27, Z28) \
	act(Z29, Z30) \
	VMOVUPS Z27, K2, 0(SI)(DX*1) \
	VMOVUPS Z29, K3, 0(DI)(DX*1) \
	ADDQ $64, DX \
	ADDQ $4, R15 \
	DECQ CX \
	JNZ  eblk \
next: \
	ADDQ 8(BX), SI \
	ADDQ 8(BX), SI \
	ADDQ $2, R14 \
	DECQ 0(BX) \
	JNZ  row \
	VZEROUPPER \
	RET

// func dw5x2ClampAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
DW5X2(·dw5x2ClampAVX512, CLAMPZ)

// func dw5x2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
DW5X2(·dw5x2LeakyAVX512, LEAKYZ)

// S2LDU and S2LDM load the next block's input columns [c+32, c+64) of
// the row at r into Z23 and Z24, S2LDM under K1 and K2.
#define S2LDU(r) \
	VMOVUPS 128(r), Z23 \
	VMOVUPS 192(r), Z24

#define S2LDM(r) \
	VMOVUPS.Z 128(r), K1, Z23 \
	VMOVUPS.Z 192(r), K2, Z24

// S2MIX accumulates into acc the three taps of one stride-2 row. E and O
// hold the even and odd input columns [c, c+32) of the block, paired as
// x, x+1 for its 16 outputs, and Z23, Z24 the next block's columns.
// S2MIX deinterleaves those with the indices in Z30 and Z31, takes the
// x+2 tap as E shifted by one lane into the next block's evens, and
// moves the next block's evens and odds into E and O. Z25, Z26 are
// clobbered.
#define S2MIX(E, O, wa, wb, wc, acc) \
	VMOVAPS Z30, Z25 \
	VPERMI2PS Z24, Z23, Z25 \
	VPERMT2PS Z24, Z31, Z23 \
	VALIGND $1, E, Z25, Z26 \
	VFMADD231PS E, wa, acc \
	VFMADD231PS O, wb, acc \
	VFMADD231PS Z26, wc, acc \
	VMOVAPS Z25, E \
	VMOVAPS Z23, O

// S2TAPS computes into Z13 one block of an output row from the input
// rows at R8-R10, loading with ld (S2LDU or S2LDM).
#define S2TAPS(ld) \
	VMOVAPS Z9, Z13 \
	VXORPS Z14, Z14, Z14 \
	VXORPS Z15, Z15, Z15 \
	ld(R8) \
	S2MIX(Z17, Z18, Z0, Z1, Z2, Z13) \
	ld(R9) \
	S2MIX(Z19, Z20, Z3, Z4, Z5, Z14) \
	ld(R10) \
	S2MIX(Z21, Z22, Z6, Z7, Z8, Z15) \
	VADDPS Z15, Z14, Z14 \
	VADDPS Z14, Z13, Z13

// S2FIRST loads the first 32 input columns of the row at r under K1 and
// K2 and deinterleaves them into E and O.
#define S2FIRST(r, E, O) \
	VMOVUPS.Z 0(r), K1, O \
	VMOVUPS.Z 64(r), K2, Z24 \
	VMOVAPS Z30, E \
	VPERMI2PS Z24, O, E \
	VPERMT2PS Z24, Z31, O

// DW3S2 defines the 3×3 stride-2 kernel, applying act. idx holds the
// even then the odd lane indices of a register pair.
#define DW3S2(name, act) \
TEXT name(SB), NOSPLIT, $0-64 \
	LOADW9 \
	MOVQ idx+56(FP), AX \
	VMOVUPS 0(AX), Z30 \
	VMOVUPS 64(AX), Z31 \
	MOVQ geom+48(FP), BX \
	MOVQ o+0(FP), SI \
	MOVQ 0(BX), R13 \
	MOVQ 40(BX), R14 \
row: \
	ROWPTR(R14, R8, DX) \
	MOVQ R14, AX \
	ADDQ 56(BX), AX \
	ROWPTR(AX, R9, DX) \
	ADDQ 56(BX), AX \
	ROWPTR(AX, R10, DX) \
	MOVQ SI, DI \
	MOVQ masks+24(FP), R15 \
	KMOVW 0(R15), K1 \
	KMOVW 2(R15), K2 \
	S2FIRST(R8, Z17, Z18) \
	S2FIRST(R9, Z19, Z20) \
	S2FIRST(R10, Z21, Z22) \
	MOVQ 88(BX), CX \
	TESTQ CX, CX \
	JZ   edge \
full: \
	S2TAPS(S2LDU) \
	act(Z13, Z14) \
	VMOVUPS Z13, 0(DI) \
	ADDQ $64, DI \
	ADDQ $128, R8 \
	ADDQ $128, R9 \
	ADDQ $128, R10 \
	DECQ CX \
	JNZ  full \
edge: \
	MOVQ 96(BX), CX \
	ADDQ 104(BX), R15 \
	TESTQ CX, CX \
	JZ   next \
eblk: \
	KMOVW 4(R15), K1 \
	KMOVW 6(R15), K2 \
	KMOVW 8(R15), K3 \
	S2TAPS(S2LDM) \
	act(Z13, Z14) \
	VMOVUPS Z13, K3, 0(DI) \
	ADDQ $64, DI \
	ADDQ $128, R8 \
	ADDQ $128, R9 \
	ADDQ $128, R10 \
	ADDQ $6, R15 \
	DECQ CX \
	JNZ  eblk \
next: \
	ADDQ 8(BX), SI \
	ADDQ 48(BX), R14 \
	DECQ R13 \
	JNZ  row \
	VZEROUPPER \
	RET

// func dw3s2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom, idx *[32]int32)
DW3S2(·dw3s2ClampAVX512, CLAMPZ)

// func dw3s2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom, idx *[32]int32)
DW3S2(·dw3s2LeakyAVX512, LEAKYZ)

// func dw3s1AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
//
// masks holds per block the lanes of taps 0, 1, 2 and the store lanes.
TEXT ·dw3s1AVX512(SB), NOSPLIT, $0-56
	MOVQ w+32(FP), AX
	VBROADCASTSS 0(AX), Z0
	VBROADCASTSS 4(AX), Z1
	VBROADCASTSS 8(AX), Z2
	VBROADCASTSS 12(AX), Z3
	VBROADCASTSS 16(AX), Z4
	VBROADCASTSS 20(AX), Z5
	VBROADCASTSS 24(AX), Z6
	VBROADCASTSS 28(AX), Z7
	VBROADCASTSS 32(AX), Z8
	MOVQ a+40(FP), AX
	LOADARGS
	MOVQ geom+48(FP), BX
	MOVQ o+0(FP), SI
	MOVQ 0(BX), R13
	MOVQ 40(BX), R14
	MOVQ 72(BX), R11
	LEAQ (R11)(R11*1), R12

s1row:
	ROWPTR(R14, R8, DX)
	MOVQ R14, AX
	ADDQ 56(BX), AX
	ROWPTR(AX, R9, DX)
	ADDQ 56(BX), AX
	ROWPTR(AX, R10, DX)
	MOVQ SI, DI
	MOVQ masks+24(FP), R15
	MOVQ 16(BX), CX

s1blk:
	KMOVW 0(R15), K1
	KMOVW 2(R15), K2
	KMOVW 4(R15), K3
	KMOVW 6(R15), K4
	VMOVAPS Z9, Z13
	VFMADD231PS 0(R8), Z0, K1, Z13
	VFMADD231PS 0(R8)(R11*1), Z1, K2, Z13
	VFMADD231PS 0(R8)(R12*1), Z2, K3, Z13
	VMULPS.Z 0(R9), Z3, K1, Z14
	VFMADD231PS 0(R9)(R11*1), Z4, K2, Z14
	VFMADD231PS 0(R9)(R12*1), Z5, K3, Z14
	VMULPS.Z 0(R10), Z6, K1, Z15
	VFMADD231PS 0(R10)(R11*1), Z7, K2, Z15
	VFMADD231PS 0(R10)(R12*1), Z8, K3, Z15
	VADDPS Z15, Z14, Z14
	VADDPS Z14, Z13, Z13
	ACTZ(Z13, Z14)
	VMOVUPS Z13, K4, 0(DI)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $8, R15
	DECQ CX
	JNZ  s1blk

	ADDQ 8(BX), SI
	ADDQ 48(BX), R14
	DECQ R13
	JNZ  s1row
	VZEROUPPER
	RET

// TAPS5 accumulates into acc the five taps of the row at r, loaded under
// K1-K5, with the weights wa-we.
#define TAPS5(r, wa, wb, wc, wd, we, acc) \
	VFMADD231PS 0(r), wa, K1, acc \
	VFMADD231PS 0(r)(R11*1), wb, K2, acc \
	VFMADD231PS 0(r)(R11*2), wc, K3, acc \
	VFMADD231PS 0(r)(R12*1), wd, K4, acc \
	VFMADD231PS 0(r)(R11*4), we, K5, acc

// func dw5s1AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
//
// masks holds per block the lanes of taps 0-4 and the store lanes.
// Z0-Z8 and Z13-Z28 hold the weights; Z29-Z31 are accumulators; R8,
// R9, R10, AX and DX point at the five window rows.
TEXT ·dw5s1AVX512(SB), NOSPLIT, $0-56
	MOVQ w+32(FP), AX
	VBROADCASTSS 0(AX), Z0
	VBROADCASTSS 4(AX), Z1
	VBROADCASTSS 8(AX), Z2
	VBROADCASTSS 12(AX), Z3
	VBROADCASTSS 16(AX), Z4
	VBROADCASTSS 20(AX), Z5
	VBROADCASTSS 24(AX), Z6
	VBROADCASTSS 28(AX), Z7
	VBROADCASTSS 32(AX), Z8
	VBROADCASTSS 36(AX), Z13
	VBROADCASTSS 40(AX), Z14
	VBROADCASTSS 44(AX), Z15
	VBROADCASTSS 48(AX), Z16
	VBROADCASTSS 52(AX), Z17
	VBROADCASTSS 56(AX), Z18
	VBROADCASTSS 60(AX), Z19
	VBROADCASTSS 64(AX), Z20
	VBROADCASTSS 68(AX), Z21
	VBROADCASTSS 72(AX), Z22
	VBROADCASTSS 76(AX), Z23
	VBROADCASTSS 80(AX), Z24
	VBROADCASTSS 84(AX), Z25
	VBROADCASTSS 88(AX), Z26
	VBROADCASTSS 92(AX), Z27
	VBROADCASTSS 96(AX), Z28
	MOVQ a+40(FP), AX
	LOADARGS
	MOVQ geom+48(FP), BX
	MOVQ o+0(FP), SI
	MOVQ 0(BX), R13
	MOVQ 40(BX), R14
	MOVQ 72(BX), R11
	LEAQ (R11)(R11*2), R12

s5row:
	ROWPTR(R14, R8, DX)
	MOVQ R14, AX
	ADDQ 56(BX), AX
	ROWPTR(AX, R9, DX)
	ADDQ 56(BX), AX
	ROWPTR(AX, R10, DX)
	MOVQ AX, R15
	ADDQ 56(BX), R15
	MOVQ R15, CX
	ADDQ 56(BX), CX
	ROWPTR(R15, AX, DX)
	ROWPTR(CX, DX, R15)
	MOVQ SI, DI
	MOVQ masks+24(FP), R15
	MOVQ 16(BX), CX

s5blk:
	KMOVW 0(R15), K1
	KMOVW 2(R15), K2
	KMOVW 4(R15), K3
	KMOVW 6(R15), K4
	KMOVW 8(R15), K5
	KMOVW 10(R15), K6
	VMOVAPS Z9, Z29
	VXORPS Z30, Z30, Z30
	VXORPS Z31, Z31, Z31
	TAPS5(R8, Z0, Z1, Z2, Z3, Z4, Z29)
	TAPS5(R9, Z5, Z6, Z7, Z8, Z13, Z30)
	TAPS5(R10, Z14, Z15, Z16, Z17, Z18, Z31)
	TAPS5(AX, Z19, Z20, Z21, Z22, Z23, Z29)
	TAPS5(DX, Z24, Z25, Z26, Z27, Z28, Z30)
	VADDPS Z31, Z30, Z30
	VADDPS Z30, Z29, Z29
	ACTZ(Z29, Z30)
	VMOVUPS Z29, K6, 0(DI)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, AX
	ADDQ $64, DX
	ADDQ $12, R15
	DECQ CX
	JNZ  s5blk

	ADDQ 8(BX), SI
	ADDQ 48(BX), R14
	DECQ R13
	JNZ  s5row
	VZEROUPPER
	RET

// The flat 3×3 kernels compute a plane with OutW = W as one row of
// OutH·W outputs in 16-lane blocks, as if the window rows were the plane
// read as one row from a fixed offset each (see flatMasks). Like the
// align kernels they load each input vector once and shift the taps out
// of pairs of vectors with VALIGND. Lanes whose column wraps into the
// next or previous row are masked off each tap's FMA; the loads of the
// head and tail blocks are masked to the plane, so that window rows in
// the vertical padding read zeros. The masks start with those of the
// first loads of the window rows, then come per block the column masks
// of its taps, for head and tail blocks followed by those of its window
// rows' next loads and the store lanes. The window rows are at R8-R10.

// FALDU and FALDM load into dst the next 16 elements of the window row
// at r, FALDM under the mask at m(R15).
#define FALDU(r, m, dst) \
	VMOVUPS 64(r), dst

#define FALDM(r, m, dst) \
	KMOVW m(R15), K4 \
	VMOVUPS.Z 64(r), K4, dst

// FAFMA and FAMUL accumulate into acc, or set acc to, the tap x times
// the weight wa under the column mask K1.
#define FAFMA(x, wa, acc) \
	VFMADD231PS x, wa, K1, acc

#define FAMUL(x, wa, acc) \
	VMULPS.Z x, wa, K1, acc

// FA3ROW accumulates into acc (sets it with FAMUL as first) the three
// taps of the window row at r, whose current elements are in cur, under
// the column masks K1-K3, loading the next elements into nxt.
#define FA3ROW(ld, m, r, cur, nxt, first, wa, wb, wc, acc, s1, s2) \
	ld(r, m, nxt) \
	VALIGND $s1, cur, nxt, Z23 \
	VALIGND $s2, cur, nxt, Z24 \
	first(cur, wa, acc) \
	VFMADD231PS Z23, wb, K2, acc \
	VFMADD231PS Z24, wc, K3, acc

// FA3BLOCK computes one block into Z13 and stores it with st, for taps
// s1 and s2 columns apart, from the current elements of the window rows
// in c0-c2, loading the next ones into n0-n2 with ld. R15 points at the
// block's masks.
#define FA3BLOCK(ld, act, c0, c1, c2, n0, n1, n2, s1, s2) \
	KMOVW 0(R15), K1 \
	KMOVW 2(R15), K2 \
	KMOVW 4(R15), K3 \
	VMOVAPS Z9, Z13 \
	FA3ROW(ld, 6, R8, c0, n0, FAFMA, Z0, Z1, Z2, Z13, s1, s2) \
	FA3ROW(ld, 8, R9, c1, n1, FAMUL, Z3, Z4, Z5, Z14, s1, s2) \
	FA3ROW(ld, 10, R10, c2, n2, FAMUL, Z6, Z7, Z8, Z15, s1, s2) \
	VADDPS Z15, Z14, Z14 \
	VADDPS Z14, Z13, Z13 \
	act(Z13, Z14) \
	ADDQ $64, R8 \
	ADDQ $64, R9 \
	ADDQ $64, R10

// FA3INNER is an inner block: unmasked loads and store.
#define FA3INNER(act, c0, c1, c2, n0, n1, n2, s1, s2) \
	FA3BLOCK(FALDU, act, c0, c1, c2, n0, n1, n2, s1, s2) \
	VMOVUPS Z13, 0(DI) \
	ADDQ $64, DI \
	ADDQ $6, R15

// FA3EDGE is a head or tail block, with the current elements of the
// window rows in Z17-Z19.
#define FA3EDGE(act, s1, s2) \
	FA3BLOCK(FALDM, act, Z17, Z18, Z19, Z25, Z26, Z27, s1, s2) \
	VMOVAPS Z25, Z17 \
	VMOVAPS Z26, Z18 \
	VMOVAPS Z27, Z19 \
	KMOVW 12(R15), K5 \
	VMOVUPS Z13, K5, 0(DI) \
	ADDQ $64, DI \
	ADDQ $14, R15

// DW3FLAT defines the flat 3×3 kernel for horizontal dilation d, with
// taps at +s1 = d and +s2 = 2d columns, applying act. The inner loop
// runs pairs of blocks, alternating the current elements of the window
// rows between Z17-Z19 and Z25-Z27.
#define DW3FLAT(name, act, s1, s2) \
TEXT name(SB), NOSPLIT, $0-56 \
	LOADW9 \
	MOVQ geom+48(FP), BX \
	MOVQ o+0(FP), DI \
	MOVQ 144(BX), AX \
	MOVQ in+8(FP), R8 \
	ADDQ 136(BX), R8 \
	LEAQ (R8)(AX*1), R9 \
	LEAQ (R9)(AX*1), R10 \
	MOVQ masks+24(FP), R15 \
	KMOVW 0(R15), K4 \
	VMOVUPS.Z 0(R8), K4, Z17 \
	KMOVW 2(R15), K4 \
	VMOVUPS.Z 0(R9), K4, Z18 \
	KMOVW 4(R15), K4 \
	VMOVUPS.Z 0(R10), K4, Z19 \
	ADDQ $6, R15 \
	MOVQ 112(BX), CX \
	TESTQ CX, CX \
	JZ   inner \
head: \
	FA3EDGE(act, s1, s2) \
	DECQ CX \
	JNZ  head \
inner: \
	MOVQ 120(BX), CX \
	TESTQ CX, CX \
	JZ   tail \
iloop: \
	FA3INNER(act, Z17, Z18, Z19, Z25, Z26, Z27, s1, s2) \
	DECQ CX \
	JZ   odd \
	FA3INNER(act, Z25, Z26, Z27, Z17, Z18, Z19, s1, s2) \
	DECQ CX \
	JNZ  iloop \
	JMP  tail \
odd: \
	VMOVAPS Z25, Z17 \
	VMOVAPS Z26, Z18 \
	VMOVAPS Z27, Z19 \
tail: \
	MOVQ 128(BX), CX \
	TESTQ CX, CX \
	JZ   done \
tloop: \
	FA3EDGE(act, s1, s2) \
	DECQ CX \
	JNZ  tloop \
done: \
	VZEROUPPER \
	RET

// func dw3Flat1ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat1ClampAVX512, CLAMPZ, 1, 2)

// func dw3Flat1LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat1LeakyAVX512, LEAKYZ, 1, 2)

// func dw3Flat2ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat2ClampAVX512, CLAMPZ, 2, 4)

// func dw3Flat2LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat2LeakyAVX512, LEAKYZ, 2, 4)

// func dw3Flat3ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat3ClampAVX512, CLAMPZ, 3, 6)

// func dw3Flat3LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat3LeakyAVX512, LEAKYZ, 3, 6)

// func dw3Flat4ClampAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat4ClampAVX512, CLAMPZ, 4, 8)

// func dw3Flat4LeakyAVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3FLAT(·dw3Flat4LeakyAVX512, LEAKYZ, 4, 8)
