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

DATA poolHalf<>+0(SB)/4, $0
DATA poolHalf<>+4(SB)/4, $0
DATA poolHalf<>+8(SB)/4, $1
DATA poolHalf<>+12(SB)/4, $1
DATA poolHalf<>+16(SB)/4, $2
DATA poolHalf<>+20(SB)/4, $2
DATA poolHalf<>+24(SB)/4, $3
DATA poolHalf<>+28(SB)/4, $3
DATA poolHalf<>+32(SB)/4, $4
DATA poolHalf<>+36(SB)/4, $4
DATA poolHalf<>+40(SB)/4, $5
DATA poolHalf<>+44(SB)/4, $5
DATA poolHalf<>+48(SB)/4, $6
DATA poolHalf<>+52(SB)/4, $6
DATA poolHalf<>+56(SB)/4, $7
DATA poolHalf<>+60(SB)/4, $7
DATA poolHalf<>+64(SB)/4, $8
DATA poolHalf<>+68(SB)/4, $8
DATA poolHalf<>+72(SB)/4, $9
DATA poolHalf<>+76(SB)/4, $9
DATA poolHalf<>+80(SB)/4, $10
DATA poolHalf<>+84(SB)/4, $10
DATA poolHalf<>+88(SB)/4, $11
DATA poolHalf<>+92(SB)/4, $11
DATA poolHalf<>+96(SB)/4, $12
DATA poolHalf<>+100(SB)/4, $12
DATA poolHalf<>+104(SB)/4, $13
DATA poolHalf<>+108(SB)/4, $13
DATA poolHalf<>+112(SB)/4, $14
DATA poolHalf<>+116(SB)/4, $14
DATA poolHalf<>+120(SB)/4, $15
DATA poolHalf<>+124(SB)/4, $15
GLOBL poolHalf<>(SB), RODATA|NOPTR, $128

DATA poolParity<>+0(SB)/4, $0
DATA poolParity<>+4(SB)/4, $1
DATA poolParity<>+8(SB)/4, $0
DATA poolParity<>+12(SB)/4, $1
DATA poolParity<>+16(SB)/4, $0
DATA poolParity<>+20(SB)/4, $1
DATA poolParity<>+24(SB)/4, $0
DATA poolParity<>+28(SB)/4, $1
DATA poolParity<>+32(SB)/4, $0
DATA poolParity<>+36(SB)/4, $1
DATA poolParity<>+40(SB)/4, $0
DATA poolParity<>+44(SB)/4, $1
DATA poolParity<>+48(SB)/4, $0
DATA poolParity<>+52(SB)/4, $1
DATA poolParity<>+56(SB)/4, $0
DATA poolParity<>+60(SB)/4, $1
GLOBL poolParity<>(SB), RODATA|NOPTR, $64


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

// func bnMaxPool2x2AVX512(y, idx, x *float32, oh, ow, w int, xsel *float32, a, b float32)
// maxPool2x2AVX512 of a·x + b followed by a ReLU, also storing x at each argmax in xsel
// (see BNMaxPool2x2). Extra registers: R14 xsel, Z16 a, Z17 b, Z18 = 0, Z10 the raw x of
// the running maximum, Z12-Z15 the mapped window values.
TEXT ·bnMaxPool2x2AVX512(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), DI
	MOVQ idx+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ oh+24(FP), R10
	MOVQ ow+32(FP), R11
	MOVQ w+40(FP), R12
	MOVQ xsel+48(FP), R14
	VBROADCASTSS a+56(FP), Z16
	VBROADCASTSS b+60(FP), Z17
	VXORPS Z18, Z18, Z18
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
bnrowloop:
	TESTQ R10, R10
	JLE bndone
	MOVQ SI, BX
	LEAQ (SI)(R12*4), R9
	MOVQ R11, CX
	VPADDD Z20, Z27, Z26
bncolloop:
	TESTQ CX, CX
	JLE bnrowend
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
	// The BN affine map a·v + b of each (Z12-Z15); the raw values stay in Z4-Z7.
	VMOVAPS Z4, Z12
	VFMADD213PS Z17, Z16, Z12
	VMOVAPS Z5, Z13
	VFMADD213PS Z17, Z16, Z13
	VMOVAPS Z6, Z14
	VFMADD213PS Z17, Z16, Z14
	VMOVAPS Z7, Z15
	VFMADD213PS Z17, Z16, Z15
	// best = E0 (raw in Z10), bi = window start
	VMOVAPS Z12, Z8
	VMOVAPS Z4, Z10
	VMOVDQA32 Z26, Z9
	// O0
	VCMPPS $0x1e, Z8, Z13, K4
	VCMPPS $3, Z13, Z13, K5
	KORW K5, K4, K4
	VMOVAPS Z13, K4, Z8
	VMOVAPS Z5, K4, Z10
	VPADDD Z22, Z26, K4, Z9
	// E1
	VCMPPS $0x1e, Z8, Z14, K4
	VCMPPS $3, Z14, Z14, K5
	KORW K5, K4, K4
	VMOVAPS Z14, K4, Z8
	VMOVAPS Z6, K4, Z10
	VPADDD Z23, Z26, K4, Z9
	// O1
	VCMPPS $0x1e, Z8, Z15, K4
	VCMPPS $3, Z15, Z15, K5
	KORW K5, K4, K4
	VMOVAPS Z15, K4, Z8
	VMOVAPS Z7, K4, Z10
	VPADDD Z24, Z26, K4, Z9
	// ReLU (NaN propagates)
	VMAXPS Z8, Z18, Z8
	VCVTDQ2PS Z9, Z9
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K1, (R8)
	VMOVUPS Z10, K1, (R14)
	ADDQ $128, BX
	ADDQ $128, R9
	// advance outputs by the lanes written
	MOVQ CX, AX
	CMPQ AX, $16
	JLE 2(PC)
	MOVQ $16, AX
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(AX*4), R8
	LEAQ (R14)(AX*4), R14
	VPADDD Z25, Z26, Z26
	SUBQ AX, CX
	JMP bncolloop
bnrowend:
	LEAQ (SI)(R12*8), SI
	VPADDD Z28, Z27, Z27
	DECQ R10
	JMP bnrowloop
bndone:
	VZEROUPPER
	RET

// func bnUnpoolAVX512(dx, x, grad, y, idx *float32, oh, ow, w int, k, nb, c float32)
// Batch norm's fused backward pass over one plane with 2×2 max pooling (see BNUnpool):
// dx = nb·x + c everywhere, plus k·grad at each window's argmax where y > 0 (one FMA, as
// poolScatterAddAVX512), for the
// 2·oh × 2·ow pixels the windows cover. Per 16 windows: the pooled values and each
// window's argmax offset (idx − window start: 0, 1, w or w+1) are spread to the 32
// pixels of each of the window rows (poolHalf), and added where the offset matches.
// Registers: SI/BX x rows 0/1, DI/R9 dx rows 0/1, R8 grad, R10 y, R11 idx, CX windows
// left in the row, R12 w, R13 masks, R14 rows left, R15 ow; Z16 k, Z17 nb, Z18 c,
// Z19 0, Z20/Z21 lane→window maps (low/high 16 pixels), Z22 parity, Z23 parity + w,
// Z26 the 16 windows' start indices, Z25 = 32, Z28 = 2w.
TEXT ·bnUnpoolAVX512(SB), NOSPLIT, $16-76
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ grad+16(FP), R8
	MOVQ y+24(FP), R10
	MOVQ idx+32(FP), R11
	MOVQ oh+40(FP), R14
	MOVQ ow+48(FP), R15
	MOVQ w+56(FP), R12
	VBROADCASTSS k+64(FP), Z16
	VBROADCASTSS nb+68(FP), Z17
	VBROADCASTSS c+72(FP), Z18
	VXORPS Z19, Z19, Z19
	LEAQ poolMask<>(SB), R13
	VMOVDQU32 poolHalf<>(SB), Z20
	VMOVDQU32 poolHalf<>+64(SB), Z21
	VMOVDQU32 poolParity<>(SB), Z22
	VPBROADCASTD R12, Z23
	VPADDD Z22, Z23, Z23
	VMOVDQU32 poolEven<>(SB), Z27
	MOVL $32, AX
	VPBROADCASTD AX, Z25
	VPBROADCASTD R12, Z28
	VPADDD Z28, Z28, Z28
urowloop:
	TESTQ R14, R14
	JLE udone
	MOVQ SI, 0(SP)
	MOVQ DI, 8(SP)
	LEAQ (SI)(R12*4), BX
	LEAQ (DI)(R12*4), R9
	MOVQ R15, CX
	VMOVDQA32 Z27, Z26
ucolloop:
	TESTQ CX, CX
	JLE urowend
	// K1: window lanes (min(CX,16)); K2, K3: pixel lanes of the two 16-float halves.
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
	// Z0 = grad where y > 0, else 0; Z1 = argmax offset in its window.
	VMOVUPS.Z (R10), K1, Z1
	VCMPPS $0x16, Z19, Z1, K1, K5 // !(y <= 0): NaN passes, as PyTorch
	VMOVUPS.Z (R8), K5, Z0
	VMOVUPS.Z (R11), K1, Z1
	VCVTTPS2DQ Z1, Z1
	VPSUBD Z26, Z1, Z1
	// spread to pixels: Z4/Z5 values, Z6/Z7 offsets (low/high 16 pixels)
	VPERMPS Z0, Z20, Z4
	VPERMPS Z0, Z21, Z5
	VPERMD Z1, Z20, Z6
	VPERMD Z1, Z21, Z7
	// row 0
	VMOVUPS.Z (SI), K2, Z8
	VMOVUPS.Z 64(SI), K3, Z9
	VFMADD213PS Z18, Z17, Z8
	VFMADD213PS Z18, Z17, Z9
	VPCMPEQD Z22, Z6, K6
	VFMADD231PS Z4, Z16, K6, Z8
	VPCMPEQD Z22, Z7, K6
	VFMADD231PS Z5, Z16, K6, Z9
	VMOVUPS Z8, K2, (DI)
	VMOVUPS Z9, K3, 64(DI)
	// row 1
	VMOVUPS.Z (BX), K2, Z8
	VMOVUPS.Z 64(BX), K3, Z9
	VFMADD213PS Z18, Z17, Z8
	VFMADD213PS Z18, Z17, Z9
	VPCMPEQD Z23, Z6, K6
	VFMADD231PS Z4, Z16, K6, Z8
	VPCMPEQD Z23, Z7, K6
	VFMADD231PS Z5, Z16, K6, Z9
	VMOVUPS Z8, K2, (R9)
	VMOVUPS Z9, K3, 64(R9)
	ADDQ $128, SI
	ADDQ $128, BX
	ADDQ $128, DI
	ADDQ $128, R9
	// advance the pooled pointers by the windows done
	MOVQ CX, AX
	CMPQ AX, $16
	JLE 2(PC)
	MOVQ $16, AX
	LEAQ (R8)(AX*4), R8
	LEAQ (R10)(AX*4), R10
	LEAQ (R11)(AX*4), R11
	VPADDD Z25, Z26, Z26
	SUBQ AX, CX
	JMP ucolloop
urowend:
	MOVQ 8(SP), DI
	MOVQ 0(SP), SI
	LEAQ (SI)(R12*8), SI
	LEAQ (DI)(R12*8), DI
	VPADDD Z28, Z27, Z27
	DECQ R14
	JMP urowloop
udone:
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
	VCMPPS $0x16, Z7, Z5, K1, K2 // !(y <= 0)
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

// One pooled output of poolRowsAVX512: broadcast the masked gradient at SP+g, load the
// R window values of the pixel whose scaled index is at SP+i, accumulate into ACC.
#define PRSTEP(g, i, ACC) \
	MOVL i(SP), AX \
	VBROADCASTSS g(SP), Z7 \
	VMOVUPS.Z (R10)(AX*4), K4, Z8 \
	VFMADD231PS Z7, Z8, ACC

// func poolRowsAVX512(out, grad, y, idx *float32, n int, colsT *float32, rows, span int)
// out[r] = Σ_{q<n, y[q]>0} grad[q]·colsT[idx[q]·rows + r] for r < rows <= 16 (float32
// lanes), the indices clamped to [0, span). Each 16 outputs are masked and scaled in
// vectors, stored to the frame, then read back one by one (no gathers).
// Registers: SI grad, R8 y, R9 idx, CX n left, R10 colsT, K4 the rows lanes, Z0-Z3 sums.
TEXT ·poolRowsAVX512(SB), NOSPLIT, $128-64
	MOVQ out+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ y+16(FP), R8
	MOVQ idx+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ colsT+40(FP), R10
	MOVQ rows+48(FP), R12
	VPBROADCASTD R12, Z12
	MOVQ span+56(FP), R11
	DECQ R11
	VPBROADCASTD R11, Z10
	LEAQ poolMask<>(SB), R13
	MOVWLZX (R13)(R12*2), DX
	KMOVW DX, K4
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z9, Z9, Z9
	VPXORD Z11, Z11, Z11
prloop:
	TESTQ CX, CX
	JLE prsum
	POOLTAIL
	VMOVUPS.Z (R8), K1, Z5
	VCMPPS $0x16, Z9, Z5, K1, K2 // !(y <= 0)
	VMOVUPS.Z (SI), K2, Z5
	VMOVUPS.Z (R9), K1, Z6
	VCVTTPS2DQ Z6, Z6
	VPMAXSD Z11, Z6, Z6
	VPMINSD Z10, Z6, Z6
	VPMULLD Z12, Z6, Z6
	VMOVUPS Z5, (SP)
	VMOVDQU32 Z6, 64(SP)
	PRSTEP(0, 64, Z0)
	PRSTEP(4, 68, Z1)
	PRSTEP(8, 72, Z2)
	PRSTEP(12, 76, Z3)
	PRSTEP(16, 80, Z0)
	PRSTEP(20, 84, Z1)
	PRSTEP(24, 88, Z2)
	PRSTEP(28, 92, Z3)
	PRSTEP(32, 96, Z0)
	PRSTEP(36, 100, Z1)
	PRSTEP(40, 104, Z2)
	PRSTEP(44, 108, Z3)
	PRSTEP(48, 112, Z0)
	PRSTEP(52, 116, Z1)
	PRSTEP(56, 120, Z2)
	PRSTEP(60, 124, Z3)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP prloop
prsum:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K4, (DI)
	VZEROUPPER
	RET
