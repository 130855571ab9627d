//go:build amd64 && !purego

#include "textflag.h"

// func blendAVX2(o, a, b *float32, k int, w float32)
TEXT ·blendAVX2(SB), NOSPLIT, $0-36
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ k+24(FP), CX
	VBROADCASTSS w+32(FP), Y15
	CMPQ CX, $2
	JLT  bl1

bl2:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 0(DX), Y2
	VMOVUPS 32(DX), Y3
	VSUBPS Y0, Y2, Y2
	VSUBPS Y1, Y3, Y3
	VFMADD231PS Y2, Y15, Y0
	VFMADD231PS Y3, Y15, Y1
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  bl2

bl1:
	TESTQ CX, CX
	JZ    bldone
	VMOVUPS 0(SI), Y0
	VMOVUPS 0(DX), Y2
	VSUBPS Y0, Y2, Y2
	VFMADD231PS Y2, Y15, Y0
	VMOVUPS Y0, 0(DI)

bldone:
	VZEROUPPER
	RET

// func dup2AVX2(o, r *float32, k int)
//
// VUNPCKLPS and VUNPCKHPS double the elements within each 128-bit lane,
// VPERM2F128 puts the lanes in order.
TEXT ·dup2AVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ r+8(FP), SI
	MOVQ k+16(FP), CX

dploop:
	VMOVUPS 0(SI), Y0
	VUNPCKLPS Y0, Y0, Y1 // 0 0 1 1 4 4 5 5
	VUNPCKHPS Y0, Y0, Y2 // 2 2 3 3 6 6 7 7
	VPERM2F128 $0x20, Y2, Y1, Y3
	VPERM2F128 $0x31, Y2, Y1, Y4
	VMOVUPS Y3, 0(DI)
	VMOVUPS Y4, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  dploop
	VZEROUPPER
	RET
