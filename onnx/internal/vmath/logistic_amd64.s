//go:build amd64 && !purego

#include "textflag.h"

// logisticConsts holds each constant of logistic broadcast to 8 lanes.
DATA logisticConsts<>+0(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+4(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+8(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+12(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+16(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+20(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+24(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+28(SB)/4, $0xc1900000 // lo
DATA logisticConsts<>+32(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+36(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+40(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+44(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+48(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+52(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+56(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+60(SB)/4, $0x41900000 // hi
DATA logisticConsts<>+64(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+68(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+72(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+76(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+80(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+84(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+88(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+92(SB)/4, $0x2e403551 // a9
DATA logisticConsts<>+96(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+100(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+104(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+108(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+112(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+116(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+120(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+124(SB)/4, $0x33f84ecb // a7
DATA logisticConsts<>+128(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+132(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+136(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+140(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+144(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+148(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+152(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+156(SB)/4, $0x387f413b // a5
DATA logisticConsts<>+160(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+164(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+168(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+172(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+176(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+180(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+184(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+188(SB)/4, $0x3c0b7d58 // a3
DATA logisticConsts<>+192(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+196(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+200(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+204(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+208(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+212(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+216(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+220(SB)/4, $0x3e7e3f32 // a1
DATA logisticConsts<>+224(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+228(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+232(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+236(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+240(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+244(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+248(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+252(SB)/4, $0x2b2bc4f5 // b10
DATA logisticConsts<>+256(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+260(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+264(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+268(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+272(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+276(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+280(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+284(SB)/4, $0x31c5f27b // b8
DATA logisticConsts<>+288(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+292(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+296(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+300(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+304(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+308(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+312(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+316(SB)/4, $0x36d317dd // b6
DATA logisticConsts<>+320(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+324(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+328(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+332(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+336(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+340(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+344(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+348(SB)/4, $0x3adf153f // b4
DATA logisticConsts<>+352(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+356(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+360(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+364(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+368(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+372(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+376(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+380(SB)/4, $0x3def3e18 // b2
DATA logisticConsts<>+384(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+388(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+392(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+396(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+400(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+404(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+408(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+412(SB)/4, $0x3f7e3f34 // b0
DATA logisticConsts<>+416(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+420(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+424(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+428(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+432(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+436(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+440(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+444(SB)/4, $0x3f000000 // half
DATA logisticConsts<>+448(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+452(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+456(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+460(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+464(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+468(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+472(SB)/4, $0x3f800000 // one
DATA logisticConsts<>+476(SB)/4, $0x3f800000 // one
GLOBL logisticConsts<>(SB), RODATA|NOPTR, $480

// func logisticAVX2(dst, src *float32, n int)
// n is a multiple of 8.
TEXT ·logisticAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ done
	VMOVUPS logisticConsts<>+0(SB), Y8
	VMOVUPS logisticConsts<>+32(SB), Y9
	VMOVUPS logisticConsts<>+416(SB), Y10
	VMOVUPS logisticConsts<>+448(SB), Y11
	VXORPS Y12, Y12, Y12
loop:
	VMOVUPS (SI), Y0
	VMAXPS Y8, Y0, Y0
	VMINPS Y9, Y0, Y0
	VMULPS Y0, Y0, Y1 // x²
	VMOVUPS logisticConsts<>+64(SB), Y2
	VFMADD213PS logisticConsts<>+96(SB), Y1, Y2
	VFMADD213PS logisticConsts<>+128(SB), Y1, Y2
	VFMADD213PS logisticConsts<>+160(SB), Y1, Y2
	VFMADD213PS logisticConsts<>+192(SB), Y1, Y2
	VMULPS Y0, Y2, Y2 // p
	VMOVUPS logisticConsts<>+224(SB), Y3
	VFMADD213PS logisticConsts<>+256(SB), Y1, Y3
	VFMADD213PS logisticConsts<>+288(SB), Y1, Y3
	VFMADD213PS logisticConsts<>+320(SB), Y1, Y3
	VFMADD213PS logisticConsts<>+352(SB), Y1, Y3
	VFMADD213PS logisticConsts<>+384(SB), Y1, Y3
	VDIVPS Y3, Y2, Y2 // p/q
	VADDPS Y10, Y2, Y2
	VMAXPS Y12, Y2, Y2
	VMINPS Y11, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ loop
	VZEROUPPER
done:
	RET
