//go:build amd64 && !purego

#include "textflag.h"

// The max-pool row kernels take n >= 8 outputs and redo the last 8 if n
// is not a multiple of 8. Pairs of even and odd input columns come out of
// VSHUFPS in the lane order 0 1 4 5 2 3 6 7, which VPERMPD undoes.

// func max2s2AVX2(o *float32, n int, r0, r1 *float32)
//
// max2s2AVX2 sets o[i] = max(r0[2i], r0[2i+1], r1[2i], r1[2i+1]).
TEXT ·max2s2AVX2(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9

m2loop:
	CMPQ CX, $8
	JLT  m2tail
	VMOVUPS 0(R8), Y0
	VMOVUPS 32(R8), Y1
	VMAXPS 0(R9), Y0, Y0
	VMAXPS 32(R9), Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VMAXPS Y3, Y2, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, 0(DI)
	ADDQ $32, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $8, CX
	JMP  m2loop

m2tail:
	TESTQ CX, CX
	JZ    m2done
	MOVQ  $8, AX
	SUBQ  CX, AX
	SHLQ  $2, AX
	SUBQ  AX, DI
	SHLQ  $1, AX
	SUBQ  AX, R8
	SUBQ  AX, R9
	MOVQ  $8, CX
	JMP   m2loop

m2done:
	VZEROUPPER
	RET

// func max3s2AVX2(o *float32, n int, r0, r1, r2 *float32)
//
// max3s2AVX2 sets o[i] to the maximum of rr[2i], rr[2i+1] and rr[2i+2]
// over the rows r0, r1, r2, which must hold 2n+1 elements.
TEXT ·max3s2AVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9
	MOVQ r2+32(FP), R10

m3loop:
	CMPQ CX, $8
	JLT  m3tail
	VMOVUPS 0(R8), Y0       // columns 0-7
	VMOVUPS 32(R8), Y1      // 8-15
	VMOVUPS 8(R8), Y2       // 2-9
	VMOVUPS 36(R8), Y3      // 9-16
	VMAXPS 0(R9), Y0, Y0
	VMAXPS 32(R9), Y1, Y1
	VMAXPS 8(R9), Y2, Y2
	VMAXPS 36(R9), Y3, Y3
	VMAXPS 0(R10), Y0, Y0
	VMAXPS 32(R10), Y1, Y1
	VMAXPS 8(R10), Y2, Y2
	VMAXPS 36(R10), Y3, Y3
	VSHUFPS $0x88, Y1, Y0, Y4 // 2i
	VSHUFPS $0xDD, Y1, Y0, Y5 // 2i+1
	VSHUFPS $0xD8, Y3, Y2, Y6 // 2i+2
	VMAXPS Y5, Y4, Y4
	VMAXPS Y6, Y4, Y4
	VPERMPD $0xD8, Y4, Y4
	VMOVUPS Y4, 0(DI)
	ADDQ $32, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	SUBQ $8, CX
	JMP  m3loop

m3tail:
	TESTQ CX, CX
	JZ    m3done
	MOVQ  $8, AX
	SUBQ  CX, AX
	SHLQ  $2, AX
	SUBQ  AX, DI
	SHLQ  $1, AX
	SUBQ  AX, R8
	SUBQ  AX, R9
	SUBQ  AX, R10
	MOVQ  $8, CX
	JMP   m3loop

m3done:
	VZEROUPPER
	RET

// func avg2s2AVX2(o *float32, n int, r0, r1 *float32, scale float32)
//
// avg2s2AVX2 sets o[i] = scale·(r0[2i] + r0[2i+1] + r1[2i] + r1[2i+1]).
TEXT ·avg2s2AVX2(SB), NOSPLIT, $0-36
	MOVQ o+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9
	VBROADCASTSS scale+32(FP), Y15

a2loop:
	CMPQ CX, $8
	JLT  a2tail
	VMOVUPS 0(R8), Y0
	VMOVUPS 32(R8), Y1
	VADDPS 0(R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VADDPS Y3, Y2, Y2
	VMULPS Y15, Y2, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, 0(DI)
	ADDQ $32, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $8, CX
	JMP  a2loop

a2tail:
	TESTQ CX, CX
	JZ    a2done
	MOVQ  $8, AX
	SUBQ  CX, AX
	SHLQ  $2, AX
	SUBQ  AX, DI
	SHLQ  $1, AX
	SUBQ  AX, R8
	SUBQ  AX, R9
	MOVQ  $8, CX
	JMP   a2loop

a2done:
	VZEROUPPER
	RET

// func avg3s2AVX2(o *float32, n int, r0, r1, r2 *float32, scale float32)
//
// avg3s2AVX2 sets o[i] to scale times the sum of rr[2i], rr[2i+1] and
// rr[2i+2] over the rows r0, r1, r2, which must hold 2n+1 elements. The
// lanes are shuffled as in max3s2AVX2.
TEXT ·avg3s2AVX2(SB), NOSPLIT, $0-44
	MOVQ o+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9
	MOVQ r2+32(FP), R10
	VBROADCASTSS scale+40(FP), Y15

a3loop:
	CMPQ CX, $8
	JLT  a3tail
	VMOVUPS 0(R8), Y0       // columns 0-7
	VMOVUPS 32(R8), Y1      // 8-15
	VMOVUPS 8(R8), Y2       // 2-9
	VMOVUPS 36(R8), Y3      // 9-16
	VADDPS 0(R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VADDPS 8(R9), Y2, Y2
	VADDPS 36(R9), Y3, Y3
	VADDPS 0(R10), Y0, Y0
	VADDPS 32(R10), Y1, Y1
	VADDPS 8(R10), Y2, Y2
	VADDPS 36(R10), Y3, Y3
	VSHUFPS $0x88, Y1, Y0, Y4 // 2i
	VSHUFPS $0xDD, Y1, Y0, Y5 // 2i+1
	VSHUFPS $0xD8, Y3, Y2, Y6 // 2i+2
	VADDPS Y5, Y4, Y4
	VADDPS Y6, Y4, Y4
	VMULPS Y15, Y4, Y4
	VPERMPD $0xD8, Y4, Y4
	VMOVUPS Y4, 0(DI)
	ADDQ $32, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	SUBQ $8, CX
	JMP  a3loop

a3tail:
	TESTQ CX, CX
	JZ    a3done
	MOVQ  $8, AX
	SUBQ  CX, AX
	SHLQ  $2, AX
	SUBQ  AX, DI
	SHLQ  $1, AX
	SUBQ  AX, R8
	SUBQ  AX, R9
	SUBQ  AX, R10
	MOVQ  $8, CX
	JMP   a3loop

a3done:
	VZEROUPPER
	RET
