//go:build amd64 && !purego

#include "textflag.h"

// pairMask gathers, in each 16-byte lane of 4 RGBA pixels, the same
// channel of neighbouring pixels side by side: R0 R1 G0 G1 B0 B1 A0 A1
// R2 R3 G2 G3 B2 B3 A2 A3. VPMADDUBSW with ones then sums each pair.
DATA pairMask<>+0(SB)/8, $0x0703060205010400
DATA pairMask<>+8(SB)/8, $0x0f0b0e0a0d090c08
DATA pairMask<>+16(SB)/8, $0x0703060205010400
DATA pairMask<>+24(SB)/8, $0x0f0b0e0a0d090c08
GLOBL pairMask<>(SB), RODATA|NOPTR, $32

DATA onesB<>+0(SB)/8, $0x0101010101010101
DATA onesB<>+8(SB)/8, $0x0101010101010101
DATA onesB<>+16(SB)/8, $0x0101010101010101
DATA onesB<>+24(SB)/8, $0x0101010101010101
GLOBL onesB<>(SB), RODATA|NOPTR, $32

DATA twosW<>+0(SB)/8, $0x0002000200020002
DATA twosW<>+8(SB)/8, $0x0002000200020002
DATA twosW<>+16(SB)/8, $0x0002000200020002
DATA twosW<>+24(SB)/8, $0x0002000200020002
GLOBL twosW<>(SB), RODATA|NOPTR, $32

// func halvePairsAVX2(dst *uint8, n int, a, b *uint8)
//
// halvePairsAVX2 sets output pixel i (n of them, n a positive multiple
// of 8) to the rounded mean, channel by channel, of pixels 2i and 2i+1 of
// rows a and b: (sum + 2) >> 2. Eight output pixels an iteration.
TEXT ·halvePairsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	VMOVDQU pairMask<>(SB), Y12
	VMOVDQU onesB<>(SB), Y13
	VMOVDQU twosW<>(SB), Y14

loop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 0(DX), Y2
	VMOVDQU 32(DX), Y3
	VPSHUFB Y12, Y0, Y0
	VPSHUFB Y12, Y1, Y1
	VPSHUFB Y12, Y2, Y2
	VPSHUFB Y12, Y3, Y3
	VPMADDUBSW Y13, Y0, Y0
	VPMADDUBSW Y13, Y1, Y1
	VPMADDUBSW Y13, Y2, Y2
	VPMADDUBSW Y13, Y3, Y3
	VPADDW Y2, Y0, Y0
	VPADDW Y3, Y1, Y1
	VPADDW Y14, Y0, Y0
	VPADDW Y14, Y1, Y1
	VPSRLW $2, Y0, Y0
	VPSRLW $2, Y1, Y1
	// Lanes hold output pixels 0 1 | 2 3 (Y0) and 4 5 | 6 7 (Y1); the
	// pack gives 0 1 4 5 | 2 3 6 7, which VPERMQ puts in order.
	VPACKUSWB Y1, Y0, Y0
	VPERMQ $0xD8, Y0, Y0
	VMOVDQU Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $8, CX
	JNZ  loop
	VZEROUPPER
	RET
