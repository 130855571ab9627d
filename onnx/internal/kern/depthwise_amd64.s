//go:build amd64 && !purego

#include "textflag.h"

// ACT applies the clamp-form activation to acc: with t = alpha·acc,
// acc = min(max(max(t, acc), lo), hi), keeping NaNs of acc.
// Y12 = alpha, Y13 = lo, Y14 = hi; tmp is clobbered.
#define ACT(acc, tmp) \
	VMULPS acc, Y12, tmp \
	VMAXPS acc, tmp, acc \
	VMAXPS acc, Y13, acc \
	VMINPS acc, Y14, acc

// LOADACT loads alpha, lo and hi from the clampArgs at BX.
#define LOADACT \
	VBROADCASTSS 12(BX), Y12 \
	VBROADCASTSS 4(BX), Y13 \
	VBROADCASTSS 8(BX), Y14

// ROW3 accumulates into acc the three taps of one row at r+off,
// r+off+R11 and r+off+R12.
#define ROW3(r, off, wa, wb, wc, acc) \
	VFMADD231PS off(r), wa, acc \
	VFMADD231PS off(r)(R11*1), wb, acc \
	VFMADD231PS off(r)(R12*1), wc, acc

// func dw3s1PlaneAVX2(o *float32, oh, ow int, in *float32, wp, sh, dh, d int, w *[9]float32, a *clampArgs)
//
// DI output, CX outputs left in the row, R8-R10 the window rows, R11 and
// R12 the tap offsets, SI the input row of the window's first row, DX the
// window row step, R13 the input step per output row, R14 rows left.
TEXT ·dw3s1PlaneAVX2(SB), NOSPLIT, $0-80
	MOVQ o+0(FP), DI
	MOVQ oh+8(FP), R14
	MOVQ in+24(FP), SI
	MOVQ wp+32(FP), DX
	SHLQ $2, DX
	MOVQ sh+40(FP), R13
	IMULQ DX, R13
	MOVQ dh+48(FP), AX
	IMULQ AX, DX
	MOVQ d+56(FP), R11
	SHLQ $2, R11
	LEAQ (R11)(R11*1), R12
	MOVQ w+64(FP), AX
	MOVQ a+72(FP), BX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	VBROADCASTSS 24(AX), Y6
	VBROADCASTSS 28(AX), Y7
	VBROADCASTSS 32(AX), Y8
	VBROADCASTSS 0(BX), Y15
	LOADACT

s1row:
	MOVQ ow+16(FP), CX
	MOVQ SI, R8
	LEAQ (SI)(DX*1), R9
	LEAQ (R9)(DX*1), R10

s1loop16:
	CMPQ CX, $16
	JLT  s1loop8
	VMOVAPS Y15, Y9
	VMOVAPS Y15, Y10
	ROW3(R8, 0, Y0, Y1, Y2, Y9)
	ROW3(R8, 32, Y0, Y1, Y2, Y10)
	ROW3(R9, 0, Y3, Y4, Y5, Y9)
	ROW3(R9, 32, Y3, Y4, Y5, Y10)
	ROW3(R10, 0, Y6, Y7, Y8, Y9)
	ROW3(R10, 32, Y6, Y7, Y8, Y10)
	ACT(Y9, Y11)
	ACT(Y10, Y11)
	VMOVUPS Y9, 0(DI)
	VMOVUPS Y10, 32(DI)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	SUBQ $16, CX
	JMP  s1loop16

s1loop8:
	CMPQ CX, $8
	JLT  s1tail
	VMOVAPS Y15, Y9
	ROW3(R8, 0, Y0, Y1, Y2, Y9)
	ROW3(R9, 0, Y3, Y4, Y5, Y9)
	ROW3(R10, 0, Y6, Y7, Y8, Y9)
	ACT(Y9, Y11)
	VMOVUPS Y9, 0(DI)
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	SUBQ $8, CX
	JMP  s1loop8

s1tail:
	// Redo the row's last 8 outputs, overlapping ones already written.
	TESTQ CX, CX
	JZ    s1next
	MOVQ  $8, AX
	SUBQ  CX, AX
	SHLQ  $2, AX
	SUBQ  AX, DI
	SUBQ  AX, R8
	SUBQ  AX, R9
	SUBQ  AX, R10
	MOVQ  $8, CX
	JMP   s1loop8

s1next:
	ADDQ R13, SI
	DECQ R14
	JNZ  s1row
	VZEROUPPER
	RET

// ROW3S2 accumulates into Y9 the three taps of one stride-2 row at r.
// The taps come out in the lane order 0 1 4 5 2 3 6 7, which a final
// VPERMPD undoes.
#define ROW3S2(r, wa, wb, wc) \
	VMOVUPS 0(r), Y10 \
	VMOVUPS 32(r), Y11 \
	VSHUFPS $0x88, Y11, Y10, Y15 \
	VSHUFPS $0xDD, Y11, Y10, Y10 \
	VFMADD231PS Y15, wa, Y9 \
	VFMADD231PS Y10, wb, Y9 \
	VMOVUPS 8(r), Y10 \
	VMOVUPS 36(r), Y11 \
	VSHUFPS $0xD8, Y11, Y10, Y15 \
	VFMADD231PS Y15, wc, Y9

// func dw3s2PlaneAVX2(o *float32, oh, ow int, in *float32, wp, sh, dh int, w *[9]float32, a *clampArgs)
//
// Registers as in dw3s1PlaneAVX2.
TEXT ·dw3s2PlaneAVX2(SB), NOSPLIT, $0-72
	MOVQ o+0(FP), DI
	MOVQ oh+8(FP), R14
	MOVQ in+24(FP), SI
	MOVQ wp+32(FP), DX
	SHLQ $2, DX
	MOVQ sh+40(FP), R13
	IMULQ DX, R13
	MOVQ dh+48(FP), AX
	IMULQ AX, DX
	MOVQ w+56(FP), AX
	MOVQ a+64(FP), BX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	VBROADCASTSS 24(AX), Y6
	VBROADCASTSS 28(AX), Y7
	VBROADCASTSS 32(AX), Y8
	LOADACT

s2row:
	MOVQ ow+16(FP), CX
	MOVQ SI, R8
	LEAQ (SI)(DX*1), R9
	LEAQ (R9)(DX*1), R10

s2loop8:
	CMPQ CX, $8
	JLT  s2tail
	VBROADCASTSS 0(BX), Y9
	ROW3S2(R8, Y0, Y1, Y2)
	ROW3S2(R9, Y3, Y4, Y5)
	ROW3S2(R10, Y6, Y7, Y8)
	VPERMPD $0xD8, Y9, Y9
	ACT(Y9, Y11)
	VMOVUPS Y9, 0(DI)
	ADDQ $32, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	SUBQ $8, CX
	JMP  s2loop8

s2tail:
	TESTQ CX, CX
	JZ    s2next
	MOVQ  $8, AX
	SUBQ  CX, AX
	SHLQ  $2, AX
	SUBQ  AX, DI
	SHLQ  $1, AX
	SUBQ  AX, R8
	SUBQ  AX, R9
	SUBQ  AX, R10
	MOVQ  $8, CX
	JMP   s2loop8

s2next:
	ADDQ R13, SI
	DECQ R14
	JNZ  s2row
	VZEROUPPER
	RET

// func dwS1PlaneAVX2(o *float32, oh, ow int, in *float32, wp, sh, dh, kh, kw, d int, w *float32, a *clampArgs)
//
// DI output, CX outputs left in the row, SI the input row of the window's
// first row, R13 byte offset of the block in the rows, DX the window row
// step, R11 the tap step, AX weights, R14 kw, BX the input step per output
// row; R8 window row, R9 weight, R10 tap, R12 and R15 loop counters.
// Y15 holds the bias.
TEXT ·dwS1PlaneAVX2(SB), NOSPLIT, $0-96
	MOVQ o+0(FP), DI
	MOVQ in+24(FP), SI
	MOVQ wp+32(FP), DX
	SHLQ $2, DX
	MOVQ sh+40(FP), BX
	IMULQ DX, BX
	MOVQ dh+48(FP), AX
	IMULQ AX, DX
	MOVQ kw+64(FP), R14
	MOVQ d+72(FP), R11
	SHLQ $2, R11
	MOVQ a+88(FP), AX
	VBROADCASTSS 0(AX), Y15
	VBROADCASTSS 12(AX), Y12
	VBROADCASTSS 4(AX), Y13
	VBROADCASTSS 8(AX), Y14
	MOVQ w+80(FP), AX

grow:
	MOVQ ow+16(FP), CX
	XORQ R13, R13

g32:
	CMPQ CX, $32
	JLT  g8
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	LEAQ (SI)(R13*1), R8
	MOVQ AX, R9
	MOVQ kh+56(FP), R12

g32row:
	MOVQ R8, R10
	MOVQ R14, R15

g32tap:
	VBROADCASTSS (R9), Y4
	VFMADD231PS 0(R10), Y4, Y0
	VFMADD231PS 32(R10), Y4, Y1
	VFMADD231PS 64(R10), Y4, Y2
	VFMADD231PS 96(R10), Y4, Y3
	ADDQ $4, R9
	ADDQ R11, R10
	DECQ R15
	JNZ  g32tap
	ADDQ DX, R8
	DECQ R12
	JNZ  g32row
	ACT(Y0, Y5)
	ACT(Y1, Y5)
	ACT(Y2, Y5)
	ACT(Y3, Y5)
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, R13
	SUBQ $32, CX
	JMP  g32

g8:
	CMPQ CX, $8
	JLT  gtail
	VMOVAPS Y15, Y0
	LEAQ (SI)(R13*1), R8
	MOVQ AX, R9
	MOVQ kh+56(FP), R12

g8row:
	MOVQ R8, R10
	MOVQ R14, R15

g8tap:
	VBROADCASTSS (R9), Y4
	VFMADD231PS 0(R10), Y4, Y0
	ADDQ $4, R9
	ADDQ R11, R10
	DECQ R15
	JNZ  g8tap
	ADDQ DX, R8
	DECQ R12
	JNZ  g8row
	ACT(Y0, Y5)
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $32, R13
	SUBQ $8, CX
	JMP  g8

gtail:
	TESTQ CX, CX
	JZ    gnext
	MOVQ  $8, R12
	SUBQ  CX, R12
	SHLQ  $2, R12
	SUBQ  R12, DI
	SUBQ  R12, R13
	MOVQ  $8, CX
	JMP   g8

gnext:
	ADDQ BX, SI
	DECQ oh+8(FP)
	JNZ  grow
	VZEROUPPER
	RET
