//go:build amd64

#include "textflag.h"

// Packing routines for the AVX-512 sgemm path. Lanes are 32-bit; masks select active
// lanes: colMask lanes are read, widthMask lanes are written (inactive read lanes are
// written as zero, which pads partial slivers). (Gathers were tried for the transposing
// packs and cost ~0.7 ns per element on this CPU; transpose_amd64.s does those.)

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
