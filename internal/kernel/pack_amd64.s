//go:build amd64

#include "textflag.h"

// Packing routines for the AVX-512 sgemm path. Lanes are 32-bit; masks select active
// lanes: rowMask lanes are read, widthMask lanes are written (inactive read lanes are
// written as zero, which pads partial slivers).

DATA iota16<>+0(SB)/4, $0
DATA iota16<>+4(SB)/4, $1
DATA iota16<>+8(SB)/4, $2
DATA iota16<>+12(SB)/4, $3
DATA iota16<>+16(SB)/4, $4
DATA iota16<>+20(SB)/4, $5
DATA iota16<>+24(SB)/4, $6
DATA iota16<>+28(SB)/4, $7
DATA iota16<>+32(SB)/4, $8
DATA iota16<>+36(SB)/4, $9
DATA iota16<>+40(SB)/4, $10
DATA iota16<>+44(SB)/4, $11
DATA iota16<>+48(SB)/4, $12
DATA iota16<>+52(SB)/4, $13
DATA iota16<>+56(SB)/4, $14
DATA iota16<>+60(SB)/4, $15
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func gatherPack16(dst, src *float32, ld, kc, rowMask, widthMask, dstStride int)
// For p in [0, kc): dst[p*dstStride + r] = src[r*ld + p] for rows r in rowMask,
// 0 for other lanes in widthMask. (A transpose of up to 16 rows of a matrix.)
TEXT ·gatherPack16(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), AX
	MOVQ kc+24(FP), CX
	MOVQ rowMask+32(FP), BX
	KMOVW BX, K3
	MOVQ widthMask+40(FP), BX
	KMOVW BX, K2
	MOVQ dstStride+48(FP), R8
	SHLQ $2, R8
	VPBROADCASTD AX, Z1
	VMOVDQU32 iota16<>(SB), Z2
	VPMULLD Z2, Z1, Z1
	TESTQ CX, CX
	JZ gdone
gloop:
	VPXORD Z0, Z0, Z0
	KMOVW K3, K1
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS Z0, K2, (DI)
	ADDQ $4, SI
	ADDQ R8, DI
	DECQ CX
	JNZ gloop
gdone:
	VZEROUPPER
	RET

// func copyPack16(dst, src *float32, ld, kc, colMask, widthMask, dstStride int)
// For p in [0, kc): dst[p*dstStride + c] = src[p*ld + c] for columns c in colMask,
// 0 for other lanes in widthMask.
TEXT ·copyPack16(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), AX
	SHLQ $2, AX
	MOVQ kc+24(FP), CX
	MOVQ colMask+32(FP), BX
	KMOVW BX, K3
	MOVQ widthMask+40(FP), BX
	KMOVW BX, K2
	MOVQ dstStride+48(FP), R8
	SHLQ $2, R8
	TESTQ CX, CX
	JZ cdone
cloop:
	VMOVUPS.Z (SI), K3, Z0
	VMOVUPS Z0, K2, (DI)
	ADDQ AX, SI
	ADDQ R8, DI
	DECQ CX
	JNZ cloop
cdone:
	VZEROUPPER
	RET

// func rowsPack(dst, src *float32, ld, kc, nsl, slStride, masks int)
// Packs nsl slivers from kc rows of a row-major matrix, reading each row contiguously
// (friendly to the hardware prefetcher): for p in [0, kc), s in [0, nsl):
// dst[s*slStride + p*w + c] = src[p*ld + s*w + c] for c < w, where the sliver width w
// is popcount(masks&0xffff) + popcount(masks>>16) and the masks select the lanes of
// the two 16-lane vectors (w = 12: 0x0fff; w = 32: 0xffffffff).
TEXT ·rowsPack(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), AX
	SHLQ $2, AX
	MOVQ kc+24(FP), CX
	MOVQ slStride+40(FP), DX
	SHLQ $2, DX
	MOVQ masks+48(FP), BX
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K2
	// w*4 bytes: 48 if the second vector is empty, else 128.
	MOVQ $128, R8
	TESTQ BX, BX
	JNZ rpwide
	MOVQ $48, R8
rpwide:
	TESTQ CX, CX
	JZ rpdone
rploop:
	MOVQ SI, R9
	MOVQ DI, R10
	MOVQ nsl+32(FP), R11
rpinner:
	VMOVUPS.Z (R9), K1, Z0
	VMOVUPS.Z 64(R9), K2, Z1
	VMOVUPS Z0, K1, (R10)
	VMOVUPS Z1, K2, 64(R10)
	ADDQ R8, R9
	ADDQ DX, R10
	DECQ R11
	JNZ rpinner
	ADDQ AX, SI
	ADDQ R8, DI
	DECQ CX
	JNZ rploop
rpdone:
	VZEROUPPER
	RET
