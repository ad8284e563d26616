//go:build amd64

#include "textflag.h"

// AVX2 vector kernels. Each handles n elements, n a multiple of 8 (the Go wrappers do the
// tail); 32 elements per main-loop iteration. Memory-bound ops gain nothing from 512-bit
// registers, so the AVX-512 path uses these too.

// func axpyAVX2(alpha float32, x, y *float32, n int)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ CX, BX
	SHRQ $5, BX
	JZ axpy8
axpy32:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VFMADD231PS (SI), Y15, Y0
	VFMADD231PS 32(SI), Y15, Y1
	VFMADD231PS 64(SI), Y15, Y2
	VFMADD231PS 96(SI), Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ axpy32
axpy8:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ axpydone
axpy8loop:
	VMOVUPS (DI), Y0
	VFMADD231PS (SI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ axpy8loop
axpydone:
	VZEROUPPER
	RET

// func scaleAVX2(alpha float32, x *float32, n int)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-24
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ CX, BX
	SHRQ $5, BX
	JZ scale8
scale32:
	VMULPS (DI), Y15, Y0
	VMULPS 32(DI), Y15, Y1
	VMULPS 64(DI), Y15, Y2
	VMULPS 96(DI), Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	DECQ BX
	JNZ scale32
scale8:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ scaledone
scale8loop:
	VMULPS (DI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ scale8loop
scaledone:
	VZEROUPPER
	RET

// func addAVX2(dst, src *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ CX, BX
	SHRQ $5, BX
	JZ add8
add32:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ add32
add8:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ adddone
add8loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ add8loop
adddone:
	VZEROUPPER
	RET

// func reluAVX2(dst, src *float32, n int)
// dst = max(0, src) with NaN propagated as PyTorch does: MAXPS returns its second
// source, src, when either is NaN (and for ±0, so relu(−0) = −0 as in PyTorch).
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y15, Y15, Y15
	MOVQ CX, BX
	SHRQ $5, BX
	JZ relu8
relu32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMAXPS Y0, Y15, Y0
	VMAXPS Y1, Y15, Y1
	VMAXPS Y2, Y15, Y2
	VMAXPS Y3, Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ relu32
relu8:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ reludone
relu8loop:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ relu8loop
reludone:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dst, grad, out *float32, n int)
// dst = out <= 0 ? 0 : grad (mask NGE_UQ: !(0 >= out), so a NaN output passes the
// gradient, as PyTorch's threshold_backward does).
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ out+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15
	MOVQ CX, BX
	SHRQ $5, BX
	JZ rb8
rb32:
	VCMPPS $0x19, (DX), Y15, Y0
	VCMPPS $0x19, 32(DX), Y15, Y1
	VCMPPS $0x19, 64(DX), Y15, Y2
	VCMPPS $0x19, 96(DX), Y15, Y3
	VANDPS (SI), Y0, Y0
	VANDPS 32(SI), Y1, Y1
	VANDPS 64(SI), Y2, Y2
	VANDPS 96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $128, DI
	DECQ BX
	JNZ rb32
rb8:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ rbdone
rb8loop:
	VCMPPS $0x19, (DX), Y15, Y0
	VANDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ rb8loop
rbdone:
	VZEROUPPER
	RET

// func dotAVX2(x, y *float32, n int) float64
// Products and sums in float64 (4 lanes × 4 accumulators).
TEXT ·dotAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ CX, BX
	SHRQ $4, BX
	JZ dot8
dot16:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VCVTPS2PD (DI), Y8
	VCVTPS2PD 16(DI), Y9
	VCVTPS2PD 32(DI), Y10
	VCVTPS2PD 48(DI), Y11
	VFMADD231PD Y8, Y4, Y0
	VFMADD231PD Y9, Y5, Y1
	VFMADD231PD Y10, Y6, Y2
	VFMADD231PD Y11, Y7, Y3
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ BX
	JNZ dot16
dot8:
	TESTQ $8, CX
	JZ dotsum
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD (DI), Y8
	VCVTPS2PD 16(DI), Y9
	VFMADD231PD Y8, Y4, Y0
	VFMADD231PD Y9, Y5, Y1
dotsum:
	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0
	VZEROUPPER
	MOVSD X0, ret+24(FP)
	RET
