//go:build amd64

#include "textflag.h"

// func addReLUAVX2(dst, a, b *float32, n int)
// dst[i] = max(0, a[i]+b[i]) with Intel's MAX rule (src1 > src2 ? src1 : src2, src1 = 0):
// NaN and -0 sums pass through, as addReLUGeneric. n is a multiple of 8.
TEXT ·addReLUAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15
	MOVQ CX, BX
	SHRQ $5, BX
	JZ addrelu8
addrelu32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS (DX), Y0, Y0
	VADDPS 32(DX), Y1, Y1
	VADDPS 64(DX), Y2, Y2
	VADDPS 96(DX), Y3, Y3
	VMAXPS Y0, Y15, Y0
	VMAXPS Y1, Y15, Y1
	VMAXPS Y2, Y15, Y2
	VMAXPS Y3, Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $128, DI
	DECQ BX
	JNZ addrelu32
addrelu8:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ addreludone
addrelu8loop:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	VMAXPS Y0, Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ addrelu8loop
addreludone:
	VZEROUPPER
	RET
