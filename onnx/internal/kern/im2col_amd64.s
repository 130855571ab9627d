//go:build amd64 && !purego

#include "textflag.h"

// func gatherS2AVX512(o *float32, k int, s *float32, m uint64, idx *[32]int32)
//
// Each block loads 32 input columns and picks the even ones with
// VPERMT2PS; the last block loads and stores under the masks in m.
TEXT ·gatherS2AVX512(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ k+8(FP), CX
	MOVQ s+16(FP), SI
	MOVQ idx+32(FP), AX
	VMOVUPS 0(AX), Z31
	CMPQ CX, $2
	JLT  g5one

g5two:
	VMOVUPS 0(SI), Z0
	VMOVUPS 128(SI), Z1
	VPERMT2PS 64(SI), Z31, Z0
	VPERMT2PS 192(SI), Z31, Z1
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $256, SI
	ADDQ $128, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  g5two

g5one:
	TESTQ CX, CX
	JZ    g5tail
	VMOVUPS 0(SI), Z0
	VPERMT2PS 64(SI), Z31, Z0
	VMOVUPS Z0, 0(DI)
	ADDQ $128, SI
	ADDQ $64, DI

g5tail:
	MOVQ m+24(FP), AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	SHRQ $16, AX
	KMOVW AX, K3
	VMOVUPS.Z 0(SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VPERMT2PS Z1, Z31, Z0
	VMOVUPS Z0, K3, 0(DI)
	VZEROUPPER
	RET

// func gatherS2AVX2(o *float32, k int, s *float32)
//
// VSHUFPS picks the even columns of 16 in the lane order 0 2 8 10 4 6
// 12 14, which VPERMPD undoes.
TEXT ·gatherS2AVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ k+8(FP), CX
	MOVQ s+16(FP), SI

g2loop:
	VMOVUPS 0(SI), Y0
	VSHUFPS $0x88, 32(SI), Y0, Y0
	VPERMPD $0xD8, Y0, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  g2loop
	VZEROUPPER
	RET
