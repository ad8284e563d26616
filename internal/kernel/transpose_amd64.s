//go:build amd64

#include "textflag.h"

// AVX transposing copies for packing (used by the avx2 and avx512 paths).

// func transpose8(dst, src *float32, ld, kc8, stride int)
// For p in [0, 8*kc8), r in [0, 8): dst[p*stride + r] = src[r*ld + p].
// 8×8 blocks: rows r and r+4 share a register (one per 128-bit lane), then 4×4
// transposes within lanes (unpack + shuffle).
TEXT ·transpose8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), AX
	SHLQ $2, AX
	MOVQ kc8+24(FP), CX
	MOVQ stride+32(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(AX*4), R9
	LEAQ (AX)(AX*2), R10
	LEAQ (DX)(DX*2), R11
	TESTQ CX, CX
	JZ t8done
t8loop:
	VMOVUPS (SI), X0
	VINSERTF128 $1, (R9), Y0, Y0
	VMOVUPS (SI)(AX*1), X1
	VINSERTF128 $1, (R9)(AX*1), Y1, Y1
	VMOVUPS (SI)(AX*2), X2
	VINSERTF128 $1, (R9)(AX*2), Y2, Y2
	VMOVUPS (SI)(R10*1), X3
	VINSERTF128 $1, (R9)(R10*1), Y3, Y3
	VMOVUPS 16(SI), X4
	VINSERTF128 $1, 16(R9), Y4, Y4
	VMOVUPS 16(SI)(AX*1), X5
	VINSERTF128 $1, 16(R9)(AX*1), Y5, Y5
	VMOVUPS 16(SI)(AX*2), X6
	VINSERTF128 $1, 16(R9)(AX*2), Y6, Y6
	VMOVUPS 16(SI)(R10*1), X7
	VINSERTF128 $1, 16(R9)(R10*1), Y7, Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VSHUFPS $0x44, Y10, Y8, Y12
	VSHUFPS $0xEE, Y10, Y8, Y13
	VSHUFPS $0x44, Y11, Y9, Y14
	VSHUFPS $0xEE, Y11, Y9, Y15
	VMOVUPS Y12, (DI)
	VMOVUPS Y13, (DI)(DX*1)
	VMOVUPS Y14, (DI)(DX*2)
	VMOVUPS Y15, (DI)(R11*1)
	LEAQ (DI)(DX*4), DI

	VUNPCKLPS Y5, Y4, Y8
	VUNPCKHPS Y5, Y4, Y9
	VUNPCKLPS Y7, Y6, Y10
	VUNPCKHPS Y7, Y6, Y11
	VSHUFPS $0x44, Y10, Y8, Y12
	VSHUFPS $0xEE, Y10, Y8, Y13
	VSHUFPS $0x44, Y11, Y9, Y14
	VSHUFPS $0xEE, Y11, Y9, Y15
	VMOVUPS Y12, (DI)
	VMOVUPS Y13, (DI)(DX*1)
	VMOVUPS Y14, (DI)(DX*2)
	VMOVUPS Y15, (DI)(R11*1)
	LEAQ (DI)(DX*4), DI

	ADDQ $32, SI
	ADDQ $32, R9
	DECQ CX
	JNZ t8loop
t8done:
	VZEROUPPER
	RET

// func transpose4(dst, src *float32, ld, kc4, stride int)
// For p in [0, 4*kc4), r in [0, 4): dst[p*stride + r] = src[r*ld + p].
TEXT ·transpose4(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), AX
	SHLQ $2, AX
	MOVQ kc4+24(FP), CX
	MOVQ stride+32(FP), DX
	SHLQ $2, DX
	LEAQ (AX)(AX*2), R10
	LEAQ (DX)(DX*2), R11
	TESTQ CX, CX
	JZ t4done
t4loop:
	VMOVUPS (SI), X0
	VMOVUPS (SI)(AX*1), X1
	VMOVUPS (SI)(AX*2), X2
	VMOVUPS (SI)(R10*1), X3
	VUNPCKLPS X1, X0, X8
	VUNPCKHPS X1, X0, X9
	VUNPCKLPS X3, X2, X10
	VUNPCKHPS X3, X2, X11
	VSHUFPS $0x44, X10, X8, X12
	VSHUFPS $0xEE, X10, X8, X13
	VSHUFPS $0x44, X11, X9, X14
	VSHUFPS $0xEE, X11, X9, X15
	VMOVUPS X12, (DI)
	VMOVUPS X13, (DI)(DX*1)
	VMOVUPS X14, (DI)(DX*2)
	VMOVUPS X15, (DI)(R11*1)
	LEAQ (DI)(DX*4), DI
	ADDQ $16, SI
	DECQ CX
	JNZ t4loop
t4done:
	VZEROUPPER
	RET
