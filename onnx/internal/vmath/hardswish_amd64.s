//go:build amd64 && !purego

#include "textflag.h"

DATA hsThree<>+0(SB)/4, $0x40400000 // 3
DATA hsSix<>+0(SB)/4, $0x40c00000   // 6
GLOBL hsThree<>(SB), RODATA|NOPTR, $4
GLOBL hsSix<>(SB), RODATA|NOPTR, $4

// func hardSwishAVX2(dst, src *float32, n int, scale float32)
// n is a multiple of 8.
TEXT ·hardSwishAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
	VBROADCASTSS scale+24(FP), Y5
	VBROADCASTSS hsThree<>(SB), Y6
	VBROADCASTSS hsSix<>(SB), Y7
	VXORPS Y8, Y8, Y8

loop:
	VMOVUPS (SI), Y0
	VADDPS  Y6, Y0, Y1 // x + 3
	VMAXPS  Y8, Y1, Y1 // max(·, 0)
	VMINPS  Y7, Y1, Y1 // min(·, 6)
	VMULPS  Y1, Y5, Y1 // scale · v
	VMULPS  Y1, Y0, Y0 // x · (scale · v)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop
	VZEROUPPER

done:
	RET
