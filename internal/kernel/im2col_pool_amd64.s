//go:build amd64

#include "textflag.h"

// 2×2 stride-2 max pooling with argmax (see im2col_pool.go), 16 outputs per step.

DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

DATA poolMask<>+0(SB)/2, $0
DATA poolMask<>+2(SB)/2, $1
DATA poolMask<>+4(SB)/2, $3
DATA poolMask<>+6(SB)/2, $7
DATA poolMask<>+8(SB)/2, $15
DATA poolMask<>+10(SB)/2, $31
DATA poolMask<>+12(SB)/2, $63
DATA poolMask<>+14(SB)/2, $127
DATA poolMask<>+16(SB)/2, $255
DATA poolMask<>+18(SB)/2, $511
DATA poolMask<>+20(SB)/2, $1023
DATA poolMask<>+22(SB)/2, $2047
DATA poolMask<>+24(SB)/2, $4095
DATA poolMask<>+26(SB)/2, $8191
DATA poolMask<>+28(SB)/2, $16383
DATA poolMask<>+30(SB)/2, $32767
DATA poolMask<>+32(SB)/2, $65535
GLOBL poolMask<>(SB), RODATA|NOPTR, $34

// func maxPool2x2AVX512(y, idx, x *float32, oh, ow, w int)
// Registers: DI y, R8 idx, SI row 0 of the current output row, BX/R9 row 0/1 cursors,
// R10 rows left, R11 ow, R12 w (elements), R13 the mask table, CX outputs left in the row.
// Z20 even lane offsets 0,2,…,30, Z21 odd, Z22 = 1, Z23 = w, Z24 = w+1, Z25 = 32,
// Z27 the flat index of the row's first element, Z28 = 2w.
TEXT ·maxPool2x2AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ idx+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ oh+24(FP), R10
	MOVQ ow+32(FP), R11
	MOVQ w+40(FP), R12
	LEAQ poolMask<>(SB), R13
	VMOVDQU32 poolEven<>(SB), Z20
	MOVL $1, AX
	VPBROADCASTD AX, Z22
	VPADDD Z22, Z20, Z21
	VPBROADCASTD R12, Z23
	VPADDD Z22, Z23, Z24
	MOVL $32, AX
	VPBROADCASTD AX, Z25
	VPXORD Z27, Z27, Z27
	VPADDD Z23, Z23, Z28
rowloop:
	TESTQ R10, R10
	JLE done
	MOVQ SI, BX
	LEAQ (SI)(R12*4), R9
	MOVQ R11, CX
	VPADDD Z20, Z27, Z26
colloop:
	TESTQ CX, CX
	JLE rowend
	// K1: output lanes (min(CX,16)); K2, K3: input lanes of the two 16-float halves.
	MOVQ CX, AX
	CMPQ AX, $16
	JLE 2(PC)
	MOVQ $16, AX
	MOVWLZX (R13)(AX*2), DX
	KMOVW DX, K1
	SHLQ $1, AX
	MOVQ AX, DX
	CMPQ DX, $16
	JLE 2(PC)
	MOVQ $16, DX
	MOVWLZX (R13)(DX*2), DX
	KMOVW DX, K2
	SUBQ $16, AX
	JGE 2(PC)
	XORQ AX, AX
	MOVWLZX (R13)(AX*2), DX
	KMOVW DX, K3
	VMOVUPS.Z (BX), K2, Z0
	VMOVUPS.Z 64(BX), K3, Z1
	VMOVUPS.Z (R9), K2, Z2
	VMOVUPS.Z 64(R9), K3, Z3
	// E0 = even lanes of row 0 (Z4), O0 = odd (Z5), E1 (Z6), O1 (Z7).
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z20, Z4
	VMOVAPS Z0, Z5
	VPERMT2PS Z1, Z21, Z5
	VMOVAPS Z2, Z6
	VPERMT2PS Z3, Z20, Z6
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z21, Z7
	// best = E0, bi = window start
	VMOVAPS Z4, Z8
	VMOVDQA32 Z26, Z9
	// O0
	VCMPPS $0x1e, Z8, Z5, K4
	VCMPPS $3, Z5, Z5, K5
	KORW K5, K4, K4
	VMOVAPS Z5, K4, Z8
	VPADDD Z22, Z26, K4, Z9
	// E1
	VCMPPS $0x1e, Z8, Z6, K4
	VCMPPS $3, Z6, Z6, K5
	KORW K5, K4, K4
	VMOVAPS Z6, K4, Z8
	VPADDD Z23, Z26, K4, Z9
	// O1
	VCMPPS $0x1e, Z8, Z7, K4
	VCMPPS $3, Z7, Z7, K5
	KORW K5, K4, K4
	VMOVAPS Z7, K4, Z8
	VPADDD Z24, Z26, K4, Z9
	VCVTDQ2PS Z9, Z9
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K1, (R8)
	ADDQ $128, BX
	ADDQ $128, R9
	// advance outputs by the lanes written
	MOVQ CX, AX
	CMPQ AX, $16
	JLE 2(PC)
	MOVQ $16, AX
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(AX*4), R8
	VPADDD Z25, Z26, Z26
	SUBQ AX, CX
	JMP colloop
rowend:
	LEAQ (SI)(R12*8), SI
	VPADDD Z28, Z27, Z27
	DECQ R10
	JMP rowloop
done:
	VZEROUPPER
	RET

// Lane mask of min(CX, 16) lanes into K1 (uses AX, DX; R13 = poolMask table).
#define POOLTAIL \
	MOVQ CX, AX \
	CMPQ AX, $16 \
	JLE 2(PC) \
	MOVQ $16, AX \
	MOVWLZX (R13)(AX*2), DX \
	KMOVW DX, K1

// func gatherIdxAVX512(dst, src, idx *float32, n, nsrc int)
// Indices are clamped to [0, nsrc) (they are in range when idx comes from MaxPool2x2; the
// clamp keeps a corrupted index from reading out of bounds).
TEXT ·gatherIdxAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), R10
	MOVQ idx+16(FP), R9
	MOVQ n+24(FP), CX
	MOVQ nsrc+32(FP), R11
	DECQ R11
	VPBROADCASTD R11, Z10
	LEAQ poolMask<>(SB), R13
	VPXORD Z11, Z11, Z11
gloop:
	TESTQ CX, CX
	JLE gdone
	POOLTAIL
	VMOVUPS.Z (R9), K1, Z6
	VCVTTPS2DQ Z6, Z6
	VPMAXSD Z11, Z6, Z6
	VPMINSD Z10, Z6, Z6
	VXORPS Z8, Z8, Z8
	KMOVW K1, K3
	VGATHERDPS (R10)(Z6*4), K3, Z8
	VMOVUPS Z8, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, R9
	SUBQ $16, CX
	JMP gloop
gdone:
	VZEROUPPER
	RET

// func poolScatterAddAVX512(dx, grad, y, idx *float32, n, ndx int, k float32)
TEXT ·poolScatterAddAVX512(SB), NOSPLIT, $0-52
	MOVQ dx+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ y+16(FP), R8
	MOVQ idx+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ ndx+40(FP), R11
	DECQ R11
	VPBROADCASTD R11, Z10
	VBROADCASTSS k+48(FP), Z4
	LEAQ poolMask<>(SB), R13
	VXORPS Z7, Z7, Z7
	VPXORD Z11, Z11, Z11
psloop:
	TESTQ CX, CX
	JLE psdone
	POOLTAIL
	VMOVUPS.Z (R8), K1, Z5
	VCMPPS $0x1e, Z7, Z5, K1, K2
	VMOVUPS.Z (SI), K2, Z5
	VMOVUPS.Z (R9), K2, Z6
	VCVTTPS2DQ Z6, Z6
	VPMAXSD Z11, Z6, Z6
	VPMINSD Z10, Z6, Z6
	VXORPS Z8, Z8, Z8
	KMOVW K2, K3
	VGATHERDPS (DI)(Z6*4), K3, Z8
	VFMADD231PS Z5, Z4, Z8
	KMOVW K2, K3
	VSCATTERDPS Z8, K3, (DI)(Z6*4)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP psloop
psdone:
	VZEROUPPER
	RET
