//go:build amd64

#include "textflag.h"

// AVX-512 row kernels for batch normalization (see im2col_bn.go). Each processes 16 lanes
// per step; the last partial step uses a lane mask in K1.

// tailmask sets K1 to the lanes of the current step: all 16, or the low CX.
#define TAILMASK \
	MOVQ $0xffff, AX \
	CMPQ CX, $16 \
	JGE 4(PC) \
	MOVQ $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, K1

// hsum reduces Z to its lane sum in the low float of X.
#define HSUM(Z, Y, X, T) \
	VEXTRACTF32X8 $1, Z, T \
	VADDPS T, Y, Y \
	VEXTRACTF128 $1, Y, X8 \
	VADDPS X8, X, X \
	VHADDPS X, X, X \
	VHADDPS X, X, X

// func bnSumsAVX512(x *float32, n int, shift float32, out *float32)
TEXT ·bnSumsAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS shift+16(FP), Z4
	MOVQ out+24(FP), DI
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
sloop32:
	CMPQ CX, $32
	JLT stail
	VMOVUPS (SI), Z5
	VMOVUPS 64(SI), Z6
	VSUBPS Z4, Z5, Z5
	VSUBPS Z4, Z6, Z6
	VADDPS Z5, Z0, Z0
	VADDPS Z6, Z2, Z2
	VFMADD231PS Z5, Z5, Z1
	VFMADD231PS Z6, Z6, Z3
	ADDQ $128, SI
	SUBQ $32, CX
	JMP sloop32
stail:
	TESTQ CX, CX
	JLE sdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z5
	VSUBPS.Z Z4, Z5, K1, Z5
	VADDPS Z5, Z0, Z0
	VFMADD231PS Z5, Z5, Z1
	ADDQ $64, SI
	SUBQ $16, CX
	JMP stail
sdone:
	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1
	HSUM(Z0, Y0, X0, Y5)
	HSUM(Z1, Y1, X1, Y6)
	MOVSS X0, (DI)
	MOVSS X1, 4(DI)
	VZEROUPPER
	RET

// func bnAffineAVX512(dst, src *float32, n int, a, b float32, relu int)
TEXT ·bnAffineAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z1
	VBROADCASTSS b+28(FP), Z2
	MOVQ relu+32(FP), AX
	// Z3 is the floor: 0 with relu, -Inf without (max(v, -Inf) = v).
	VXORPS Z3, Z3, Z3
	TESTQ AX, AX
	JNZ aloop
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Z3
aloop:
	TESTQ CX, CX
	JLE adone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VFMADD213PS Z2, Z1, Z0
	VMAXPS Z0, Z3, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP aloop
adone:
	VZEROUPPER
	RET

// func bnBackSumsAVX512(grad, y, x *float32, n int, mean float32, relu int, out *float32)
TEXT ·bnBackSumsAVX512(SB), NOSPLIT, $0-56
	MOVQ grad+0(FP), SI
	MOVQ y+8(FP), R8
	MOVQ x+16(FP), R9
	MOVQ n+24(FP), CX
	VBROADCASTSS mean+32(FP), Z4
	MOVQ relu+40(FP), R10
	MOVQ out+48(FP), DI
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z7, Z7, Z7
bloop:
	TESTQ CX, CX
	JLE bdone
	TAILMASK
	KMOVW K1, K2
	TESTQ R10, R10
	JZ bnomask
	VMOVUPS.Z (R8), K1, Z5
	VCMPPS $0x16, Z7, Z5, K1, K2 // !(y <= 0): NaN passes, as PyTorch
bnomask:
	VMOVUPS.Z (SI), K2, Z5
	VMOVUPS.Z (R9), K2, Z6
	VSUBPS.Z Z4, Z6, K2, Z6
	VADDPS Z5, Z0, Z0
	VFMADD231PS Z6, Z5, Z1
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP bloop
bdone:
	HSUM(Z0, Y0, X0, Y5)
	HSUM(Z1, Y1, X1, Y6)
	MOVSS X0, (DI)
	MOVSS X1, 4(DI)
	VZEROUPPER
	RET

// func bnBackDxAVX512(dx, grad, y, x *float32, n int, k, b, c float32, relu, acc int)
TEXT ·bnBackDxAVX512(SB), NOSPLIT, $0-72
	MOVQ dx+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ y+16(FP), R8
	MOVQ x+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS k+40(FP), Z1
	VBROADCASTSS b+44(FP), Z2
	VBROADCASTSS c+48(FP), Z3
	MOVQ relu+56(FP), R10
	MOVQ acc+64(FP), R11
	VXORPS Z7, Z7, Z7
dloop:
	TESTQ CX, CX
	JLE ddone
	TAILMASK
	KMOVW K1, K2
	TESTQ R10, R10
	JZ dnomask
	VMOVUPS.Z (R8), K1, Z5
	VCMPPS $0x16, Z7, Z5, K1, K2 // !(y <= 0): NaN passes, as PyTorch
dnomask:
	VMOVUPS.Z (SI), K2, Z5
	VMOVUPS.Z (R9), K1, Z6
	VMOVAPS Z3, Z0
	VFNMADD231PS Z6, Z2, Z0
	VFMADD231PS Z5, Z1, Z0
	TESTQ R11, R11
	JZ dstore
	VMOVUPS.Z (DI), K1, Z6
	VADDPS Z6, Z0, Z0
dstore:
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP dloop
ddone:
	VZEROUPPER
	RET
