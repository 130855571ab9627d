//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 depthwise kernels compute whole output planes straight from
// the unpadded input. Each output row is a run of 16-lane blocks; for
// every block a table gives the lanes of each tap load that fall inside
// the input row (masked-out lanes are neither loaded nor faulted on) and
// the lanes to store. Rows in the vertical padding read a zero row.
//
// They take the geometry as a *dwGeom:
//	0 oh, 8 output row bytes, 16 blocks per row, 24 h, 32 input row
//	bytes, 40 first window row (-PadTop), 48 StrideH, 56 DilH,
//	64 PadLeft bytes, 72 DilW bytes.
// Z9 holds the bias and Z10, Z11, Z12 alpha, lo and hi of the clampArgs.

// ACTZ applies the clamp-form activation to acc, keeping NaNs of acc.
#define ACTZ(acc, tmp) \
	VMULPS acc, Z10, tmp \
	VMAXPS acc, tmp, acc \
	VMAXPS acc, Z11, acc \
	VMINPS acc, Z12, acc

// LOADARGS loads the bias and activation of the clampArgs at AX.
#define LOADARGS \
	VBROADCASTSS 0(AX), Z9 \
	VBROADCASTSS 12(AX), Z10 \
	VBROADCASTSS 4(AX), Z11 \
	VBROADCASTSS 8(AX), Z12

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

// TAPS5 accumulates into acc the five taps of the row at r with the
// weights wa-we.
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

// TAPS3S2 accumulates into acc the three taps of the stride-2 row at r,
// zero-masked multiply first. Z16-Z19 and Z20 are clobbered.
#define TAPS3S2(r, wa, wb, wc, acc) \
	VMOVUPS.Z 0(r), K1, Z16 \
	VMOVUPS.Z 64(r), K2, Z17 \
	VMOVUPS.Z 8(r), K3, Z18 \
	VMOVUPS.Z 72(r), K4, Z19 \
	VMOVAPS Z21, Z20 \
	VPERMI2PS Z17, Z16, Z20 \
	VPERMT2PS Z17, Z22, Z16 \
	VPERMT2PS Z19, Z21, Z18 \
	VFMADD231PS Z20, wa, acc \
	VFMADD231PS Z16, wb, acc \
	VFMADD231PS Z18, wc, acc

// func dw3s2AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom, idx *[32]int32)
//
// masks holds per block the lanes of the loads of input columns
// 2·x0-PadLeft plus 0, 16, 2 and 18, and the store lanes. idx holds the
// even then the odd lane indices of a 32-lane pair.
TEXT ·dw3s2AVX512(SB), NOSPLIT, $0-64
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
	MOVQ idx+56(FP), AX
	VMOVUPS 0(AX), Z21
	VMOVUPS 64(AX), Z22
	MOVQ geom+48(FP), BX
	MOVQ o+0(FP), SI
	MOVQ 0(BX), R13
	MOVQ 40(BX), R14

s2row:
	ROWPTR(R14, R8, DX)
	MOVQ R14, AX
	ADDQ 56(BX), AX
	ROWPTR(AX, R9, DX)
	ADDQ 56(BX), AX
	ROWPTR(AX, R10, DX)
	MOVQ SI, DI
	MOVQ masks+24(FP), R15
	MOVQ 16(BX), CX

s2blk:
	KMOVW 0(R15), K1
	KMOVW 2(R15), K2
	KMOVW 4(R15), K3
	KMOVW 6(R15), K4
	KMOVW 8(R15), K5
	VMOVAPS Z9, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	TAPS3S2(R8, Z0, Z1, Z2, Z13)
	TAPS3S2(R9, Z3, Z4, Z5, Z14)
	TAPS3S2(R10, Z6, Z7, Z8, Z15)
	VADDPS Z15, Z14, Z14
	VADDPS Z14, Z13, Z13
	ACTZ(Z13, Z14)
	VMOVUPS Z13, K5, 0(DI)
	ADDQ $64, DI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	ADDQ $10, R15
	DECQ CX
	JNZ  s2blk

	ADDQ 8(BX), SI
	ADDQ 48(BX), R14
	DECQ R13
	JNZ  s2row
	VZEROUPPER
	RET

// ALIGNTAPS loads into Z16 the input columns [c+16, c+32) of the row at
// r under K1, where cur holds [c, c+16), and shifts the pair into the
// taps at +s1 (Z23) and +s2 (Z24) columns.
#define ALIGNTAPS(r, cur, s1, s2) \
	VMOVUPS.Z 64(r), K1, Z16 \
	VALIGND $s1, cur, Z16, Z23 \
	VALIGND $s2, cur, Z16, Z24

// FMA3 accumulates into acc the taps cur, Z23 and Z24 weighted by wa-wc.
#define FMA3(cur, wa, wb, wc, acc) \
	VFMADD231PS cur, wa, acc \
	VFMADD231PS Z23, wb, acc \
	VFMADD231PS Z24, wc, acc

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

// DW3S1ROWS defines a 3×3 stride-1 kernel for horizontal dilation d
// (taps at +s1 = d and +s2 = 2d columns) that computes one output row
// per pass. masks holds the lanes of the first load of a row, then per
// block the lanes of the next load and the store lanes.
#define DW3S1ROWS(name, s1, s2) \
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
	MOVQ SI, DI \
	MOVQ masks+24(FP), R15 \
	MOVQ 16(BX), CX \
	KMOVW 0(R15), K1 \
	VMOVUPS.Z 0(R8), K1, Z17 \
	VMOVUPS.Z 0(R9), K1, Z18 \
	VMOVUPS.Z 0(R10), K1, Z19 \
blk: \
	KMOVW 2(R15), K1 \
	KMOVW 4(R15), K2 \
	VMOVAPS Z9, Z13 \
	VXORPS Z14, Z14, Z14 \
	VXORPS Z15, Z15, Z15 \
	ALIGNTAPS(R8, Z17, s1, s2) \
	FMA3(Z17, Z0, Z1, Z2, Z13) \
	VMOVAPS Z16, Z17 \
	ALIGNTAPS(R9, Z18, s1, s2) \
	FMA3(Z18, Z3, Z4, Z5, Z14) \
	VMOVAPS Z16, Z18 \
	ALIGNTAPS(R10, Z19, s1, s2) \
	FMA3(Z19, Z6, Z7, Z8, Z15) \
	VMOVAPS Z16, Z19 \
	VADDPS Z15, Z14, Z14 \
	VADDPS Z14, Z13, Z13 \
	ACTZ(Z13, Z14) \
	VMOVUPS Z13, K2, 0(DI) \
	ADDQ $64, DI \
	ADDQ $64, R8 \
	ADDQ $64, R9 \
	ADDQ $64, R10 \
	ADDQ $4, R15 \
	DECQ CX \
	JNZ  blk \
	ADDQ 8(BX), SI \
	ADDQ 48(BX), R14 \
	DECQ R13 \
	JNZ  row \
	VZEROUPPER \
	RET

// func dw3s1d1AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3S1ROWS(·dw3s1d1AVX512, 1, 2)

// func dw3s1d2AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3S1ROWS(·dw3s1d2AVX512, 2, 4)

// func dw3s1d4AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
DW3S1ROWS(·dw3s1d4AVX512, 4, 8)

// func dw3s1x2AVX512(o, in, zero *float32, masks *uint16, w *[9]float32, a *clampArgs, geom *dwGeom)
//
// dw3s1x2AVX512 is the 3×3 kernel for strides and dilations 1 that
// computes two output rows per pass from four input rows; geom.oh counts
// the pairs. masks is laid out as for DW3S1ROWS.
TEXT ·dw3s1x2AVX512(SB), NOSPLIT, $0-56
	LOADW9
	MOVQ geom+48(FP), BX
	MOVQ o+0(FP), SI
	MOVQ 0(BX), R13
	MOVQ 40(BX), R14

x2row:
	ROWPTR(R14, R8, DX)
	LEAQ 1(R14), AX
	ROWPTR(AX, R9, DX)
	INCQ AX
	ROWPTR(AX, R10, DX)
	INCQ AX
	ROWPTR(AX, R11, DX)
	MOVQ SI, DI
	MOVQ SI, R12
	ADDQ 8(BX), R12
	MOVQ masks+24(FP), R15
	MOVQ 16(BX), CX
	KMOVW 0(R15), K1
	VMOVUPS.Z 0(R8), K1, Z17
	VMOVUPS.Z 0(R9), K1, Z18
	VMOVUPS.Z 0(R10), K1, Z19
	VMOVUPS.Z 0(R11), K1, Z25

x2blk:
	KMOVW 2(R15), K1
	KMOVW 4(R15), K2
	VMOVAPS Z9, Z13
	VXORPS Z14, Z14, Z14
	VMOVAPS Z9, Z15
	VXORPS Z22, Z22, Z22
	ALIGNTAPS(R8, Z17, 1, 2)
	FMA3(Z17, Z0, Z1, Z2, Z13)
	VMOVAPS Z16, Z17
	ALIGNTAPS(R9, Z18, 1, 2)
	FMA3(Z18, Z3, Z4, Z5, Z14)
	FMA3(Z18, Z0, Z1, Z2, Z15)
	VMOVAPS Z16, Z18
	ALIGNTAPS(R10, Z19, 1, 2)
	FMA3(Z19, Z6, Z7, Z8, Z13)
	FMA3(Z19, Z3, Z4, Z5, Z22)
	VMOVAPS Z16, Z19
	ALIGNTAPS(R11, Z25, 1, 2)
	FMA3(Z25, Z6, Z7, Z8, Z15)
	VMOVAPS Z16, Z25
	VADDPS Z14, Z13, Z13
	VADDPS Z22, Z15, Z15
	ACTZ(Z13, Z14)
	ACTZ(Z15, Z22)
	VMOVUPS Z13, K2, 0(DI)
	VMOVUPS Z15, K2, 0(R12)
	ADDQ $64, DI
	ADDQ $64, R12
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $4, R15
	DECQ CX
	JNZ  x2blk

	ADDQ 8(BX), SI
	ADDQ 8(BX), SI
	ADDQ $2, R14
	DECQ R13
	JNZ  x2row
	VZEROUPPER
	RET

// ALIGN5 loads into Z16 the input columns [c+16, c+32) of the row at r
// under K1, where cur holds [c, c+16), and shifts the pair into the taps
// at +1 to +4 columns in Z23-Z26.
#define ALIGN5(r, cur) \
	VMOVUPS.Z 64(r), K1, Z16 \
	VALIGND $1, cur, Z16, Z23 \
	VALIGND $2, cur, Z16, Z24 \
	VALIGND $3, cur, Z16, Z25 \
	VALIGND $4, cur, Z16, Z26

// FMA5 accumulates into acc the taps cur and Z23-Z26 weighted by the
// five weights at woff(AX), broadcast from memory.
#define FMA5(cur, woff, acc) \
	VFMADD231PS.BCST woff(AX), cur, acc \
	VFMADD231PS.BCST woff+4(AX), Z23, acc \
	VFMADD231PS.BCST woff+8(AX), Z24, acc \
	VFMADD231PS.BCST woff+12(AX), Z25, acc \
	VFMADD231PS.BCST woff+16(AX), Z26, acc

// FIRSTLOAD loads the first 16 columns of the row at r into cur under K1.
#define FIRSTLOAD(r, cur) \
	VMOVUPS.Z 0(r), K1, cur

// func dw5s1d1AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
//
// dw5s1d1AVX512 is the 5×5 kernel for horizontal dilation 1, one output
// row per pass; masks is laid out as for DW3S1ROWS.
TEXT ·dw5s1d1AVX512(SB), NOSPLIT, $0-56
	MOVQ a+40(FP), AX
	LOADARGS
	MOVQ w+32(FP), AX
	MOVQ geom+48(FP), BX
	MOVQ o+0(FP), SI
	MOVQ 40(BX), R14

a5row:
	ROWPTR(R14, R8, DX)
	MOVQ R14, R15
	ADDQ 56(BX), R15
	ROWPTR(R15, R9, DX)
	ADDQ 56(BX), R15
	ROWPTR(R15, R10, DX)
	ADDQ 56(BX), R15
	ROWPTR(R15, R11, DX)
	ADDQ 56(BX), R15
	ROWPTR(R15, R12, DX)
	MOVQ SI, DI
	MOVQ masks+24(FP), R15
	MOVQ 16(BX), CX
	KMOVW 0(R15), K1
	FIRSTLOAD(R8, Z17)
	FIRSTLOAD(R9, Z18)
	FIRSTLOAD(R10, Z19)
	FIRSTLOAD(R11, Z20)
	FIRSTLOAD(R12, Z21)

a5blk:
	KMOVW 2(R15), K1
	KMOVW 4(R15), K2
	VMOVAPS Z9, Z27
	VXORPS Z28, Z28, Z28
	VXORPS Z13, Z13, Z13
	ALIGN5(R8, Z17)
	FMA5(Z17, 0, Z27)
	VMOVAPS Z16, Z17
	ALIGN5(R9, Z18)
	FMA5(Z18, 20, Z28)
	VMOVAPS Z16, Z18
	ALIGN5(R10, Z19)
	FMA5(Z19, 40, Z13)
	VMOVAPS Z16, Z19
	ALIGN5(R11, Z20)
	FMA5(Z20, 60, Z27)
	VMOVAPS Z16, Z20
	ALIGN5(R12, Z21)
	FMA5(Z21, 80, Z28)
	VMOVAPS Z16, Z21
	VADDPS Z13, Z28, Z28
	VADDPS Z28, Z27, Z27
	ACTZ(Z27, Z28)
	VMOVUPS Z27, K2, 0(DI)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $4, R15
	DECQ CX
	JNZ  a5blk

	ADDQ 8(BX), SI
	ADDQ 48(BX), R14
	DECQ 0(BX)
	JNZ  a5row
	VZEROUPPER
	RET

// func dw5s1x2AVX512(o, in, zero *float32, masks *uint16, w *[25]float32, a *clampArgs, geom *dwGeom)
//
// dw5s1x2AVX512 is the 5×5 kernel for strides and dilations 1 that
// computes two output rows per pass from six input rows; geom.oh counts
// the pairs. masks is laid out as for DW3S1ROWS.
TEXT ·dw5s1x2AVX512(SB), NOSPLIT, $0-56
	MOVQ a+40(FP), AX
	LOADARGS
	MOVQ w+32(FP), AX
	MOVQ geom+48(FP), BX
	MOVQ o+0(FP), SI
	MOVQ 40(BX), R14

b5row:
	ROWPTR(R14, R8, DX)
	LEAQ 1(R14), R15
	ROWPTR(R15, R9, DX)
	INCQ R15
	ROWPTR(R15, R10, DX)
	INCQ R15
	ROWPTR(R15, R11, DX)
	INCQ R15
	ROWPTR(R15, R12, DX)
	INCQ R15
	ROWPTR(R15, R13, DX)
	MOVQ SI, DI
	MOVQ SI, DX
	ADDQ 8(BX), DX
	MOVQ masks+24(FP), R15
	MOVQ 16(BX), CX
	KMOVW 0(R15), K1
	FIRSTLOAD(R8, Z17)
	FIRSTLOAD(R9, Z18)
	FIRSTLOAD(R10, Z19)
	FIRSTLOAD(R11, Z20)
	FIRSTLOAD(R12, Z21)
	FIRSTLOAD(R13, Z22)

b5blk:
	KMOVW 2(R15), K1
	KMOVW 4(R15), K2
	VMOVAPS Z9, Z27
	VXORPS Z28, Z28, Z28
	VXORPS Z13, Z13, Z13
	VMOVAPS Z9, Z29
	VXORPS Z30, Z30, Z30
	VXORPS Z14, Z14, Z14
	ALIGN5(R8, Z17)
	FMA5(Z17, 0, Z27)
	VMOVAPS Z16, Z17
	ALIGN5(R9, Z18)
	FMA5(Z18, 20, Z28)
	FMA5(Z18, 0, Z29)
	VMOVAPS Z16, Z18
	ALIGN5(R10, Z19)
	FMA5(Z19, 40, Z13)
	FMA5(Z19, 20, Z30)
	VMOVAPS Z16, Z19
	ALIGN5(R11, Z20)
	FMA5(Z20, 60, Z27)
	FMA5(Z20, 40, Z14)
	VMOVAPS Z16, Z20
	ALIGN5(R12, Z21)
	FMA5(Z21, 80, Z28)
	FMA5(Z21, 60, Z29)
	VMOVAPS Z16, Z21
	ALIGN5(R13, Z22)
	FMA5(Z22, 80, Z30)
	VMOVAPS Z16, Z22
	VADDPS Z13, Z28, Z28
	VADDPS Z28, Z27, Z27
	VADDPS Z14, Z30, Z30
	VADDPS Z30, Z29, Z29
	ACTZ(Z27, Z28)
	ACTZ(Z29, Z30)
	VMOVUPS Z27, K2, 0(DI)
	VMOVUPS Z29, K2, 0(DX)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $4, R15
	DECQ CX
	JNZ  b5blk

	ADDQ 8(BX), SI
	ADDQ 8(BX), SI
	ADDQ $2, R14
	DECQ 0(BX)
	JNZ  b5row
	VZEROUPPER
	RET
