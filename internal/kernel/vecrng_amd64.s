//go:build amd64

#include "textflag.h"

// AVX-512 dropout-mask kernel: 16 interleaved PCG-DXSM streams (lanes) in two groups of
// eight 64-bit lanes. Lane k holds the state of draw i+k; after a block of 16 draws every
// lane steps by the stride-16 map s' = A·s + C mod 2¹²⁸ (A, C from pcgAffine(16)). The
// 128-bit products are built from 32×32→64-bit VPMULUDQ pieces (high half) and VPMULLQ
// (low halves), so every lane computes exactly the integer arithmetic of the scalar
// generator and the masks are bit-identical to PCGBernoulli's portable loop.
//
// Constant registers:
//   Z16 A.lo   Z17 A.lo>>32   Z18 A.hi   Z19 C.lo   Z20 C.hi
//   Z21 DXSM multiplier   Z22 thr   Z23 qword 1   Z24 0xffffffff   Y25 the kept value

// OUT computes the DXSM outputs of the 8 states (hi H, lo L), compares their top 24 bits
// with thr and leaves the float32 mask (kept value or +0) in Y register YM.
// Clobbers T1, T2 and K1.
#define OUT(H, L, T1, T2, YM) \
	VPSRLQ $32, H, T1 \
	VPXORQ H, T1, T1 \
	VPMULLQ Z21, T1, T1 \
	VPSRLQ $48, T1, T2 \
	VPXORQ T2, T1, T1 \
	VPORQ Z23, L, T2 \
	VPMULLQ T2, T1, T1 \
	VPSRLQ $40, T1, T1 \
	VPCMPUQ $1, Z22, T1, K1 \
	VMOVAPS.Z Y25, K1, YM

// STEP advances the 8 states (hi H, lo L) by the stride map. Clobbers T1..T6 and K2.
#define STEP(H, L, T1, T2, T3, T4, T5, T6) \
	VPSRLQ $32, L, T1 \
	VPMULUDQ Z16, L, T2 \
	VPMULUDQ Z17, L, T3 \
	VPMULUDQ Z16, T1, T4 \
	VPMULUDQ Z17, T1, T1 \
	VPMULLQ Z16, H, H \
	VPMULLQ Z18, L, T5 \
	VPADDQ T5, H, H \
	VPSRLQ $32, T2, T5 \
	VPADDQ T4, T5, T5 \
	VPANDQ Z24, T5, T6 \
	VPADDQ T3, T6, T6 \
	VPADDQ T3, T4, T3 \
	VPSLLQ $32, T3, T3 \
	VPADDQ T2, T3, L \
	VPSRLQ $32, T5, T5 \
	VPSRLQ $32, T6, T6 \
	VPADDQ T5, T1, T1 \
	VPADDQ T6, T1, T1 \
	VPADDQ T1, H, H \
	VPADDQ Z20, H, H \
	VPADDQ Z19, L, L \
	VPCMPUQ $1, Z19, L, K2 \
	VPADDQ Z23, H, K2, H

// func pcgBernoulliAVX512(mask, y, x *float32, n int, st *pcgLanes, thr uint64, one float32)
// n is a positive multiple of 16; x == nil skips the product y = x·mask.
TEXT ·pcgBernoulliAVX512(SB), NOSPLIT, $0-52
	MOVQ mask+0(FP), DI
	MOVQ y+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ st+32(FP), AX
	VPBROADCASTQ thr+40(FP), Z22
	VBROADCASTSS one+48(FP), Y25
	VMOVDQU64 0(AX), Z0   // lo, lanes 0-7
	VMOVDQU64 64(AX), Z1  // lo, lanes 8-15
	VMOVDQU64 128(AX), Z2 // hi, lanes 0-7
	VMOVDQU64 192(AX), Z3 // hi, lanes 8-15
	VPBROADCASTQ 256(AX), Z16
	VPBROADCASTQ 264(AX), Z17
	VPBROADCASTQ 272(AX), Z18
	VPBROADCASTQ 280(AX), Z19
	VPBROADCASTQ 288(AX), Z20
	VPBROADCASTQ 296(AX), Z21
	VPBROADCASTQ 304(AX), Z23
	VPBROADCASTQ 312(AX), Z24
	TESTQ SI, SI
	JZ nomul

loopmul:
	OUT(Z2, Z0, Z4, Z5, Y6)
	OUT(Z3, Z1, Z8, Z9, Y10)
	VMOVUPS Y6, (DI)
	VMOVUPS Y10, 32(DI)
	VMULPS (SI), Y6, Y6
	VMULPS 32(SI), Y10, Y10
	VMOVUPS Y6, (DX)
	VMOVUPS Y10, 32(DX)
	STEP(Z2, Z0, Z4, Z5, Z6, Z7, Z11, Z12)
	STEP(Z3, Z1, Z8, Z9, Z10, Z13, Z14, Z15)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, CX
	JNZ loopmul
	VZEROUPPER
	RET

nomul:
	OUT(Z2, Z0, Z4, Z5, Y6)
	OUT(Z3, Z1, Z8, Z9, Y10)
	VMOVUPS Y6, (DI)
	VMOVUPS Y10, 32(DI)
	STEP(Z2, Z0, Z4, Z5, Z6, Z7, Z11, Z12)
	STEP(Z3, Z1, Z8, Z9, Z10, Z13, Z14, Z15)
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ nomul
	VZEROUPPER
	RET
