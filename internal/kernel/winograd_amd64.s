//go:build amd64

#include "textflag.h"

// AVX-512 kernels for the Winograd F(2×2, 3×3) transforms (see winograd.go for the
// contracts and the Go versions they match bit for bit). Outer loop: channels; inner
// loop: the runs (WinoRun, 64 bytes: Off[4] at 0, Rows 32, Cols 40, T 48, NT 56). Lanes
// are the tiles of a run (<= 15); the 32 columns of an image row under a run are two
// vectors, split into even and odd columns by VPERMT2PS.

DATA winoIdxE<>+0(SB)/4, $0
DATA winoIdxE<>+4(SB)/4, $2
DATA winoIdxE<>+8(SB)/4, $4
DATA winoIdxE<>+12(SB)/4, $6
DATA winoIdxE<>+16(SB)/4, $8
DATA winoIdxE<>+20(SB)/4, $10
DATA winoIdxE<>+24(SB)/4, $12
DATA winoIdxE<>+28(SB)/4, $14
DATA winoIdxE<>+32(SB)/4, $16
DATA winoIdxE<>+36(SB)/4, $18
DATA winoIdxE<>+40(SB)/4, $20
DATA winoIdxE<>+44(SB)/4, $22
DATA winoIdxE<>+48(SB)/4, $24
DATA winoIdxE<>+52(SB)/4, $26
DATA winoIdxE<>+56(SB)/4, $28
DATA winoIdxE<>+60(SB)/4, $30
GLOBL winoIdxE<>(SB), RODATA|NOPTR, $64

DATA winoIdxO<>+0(SB)/4, $1
DATA winoIdxO<>+4(SB)/4, $3
DATA winoIdxO<>+8(SB)/4, $5
DATA winoIdxO<>+12(SB)/4, $7
DATA winoIdxO<>+16(SB)/4, $9
DATA winoIdxO<>+20(SB)/4, $11
DATA winoIdxO<>+24(SB)/4, $13
DATA winoIdxO<>+28(SB)/4, $15
DATA winoIdxO<>+32(SB)/4, $17
DATA winoIdxO<>+36(SB)/4, $19
DATA winoIdxO<>+40(SB)/4, $21
DATA winoIdxO<>+44(SB)/4, $23
DATA winoIdxO<>+48(SB)/4, $25
DATA winoIdxO<>+52(SB)/4, $27
DATA winoIdxO<>+56(SB)/4, $29
DATA winoIdxO<>+60(SB)/4, $31
GLOBL winoIdxO<>(SB), RODATA|NOPTR, $64

DATA winoIdxE1<>+0(SB)/4, $2
DATA winoIdxE1<>+4(SB)/4, $4
DATA winoIdxE1<>+8(SB)/4, $6
DATA winoIdxE1<>+12(SB)/4, $8
DATA winoIdxE1<>+16(SB)/4, $10
DATA winoIdxE1<>+20(SB)/4, $12
DATA winoIdxE1<>+24(SB)/4, $14
DATA winoIdxE1<>+28(SB)/4, $16
DATA winoIdxE1<>+32(SB)/4, $18
DATA winoIdxE1<>+36(SB)/4, $20
DATA winoIdxE1<>+40(SB)/4, $22
DATA winoIdxE1<>+44(SB)/4, $24
DATA winoIdxE1<>+48(SB)/4, $26
DATA winoIdxE1<>+52(SB)/4, $28
DATA winoIdxE1<>+56(SB)/4, $30
DATA winoIdxE1<>+60(SB)/4, $0
GLOBL winoIdxE1<>(SB), RODATA|NOPTR, $64

DATA winoIdxO1<>+0(SB)/4, $3
DATA winoIdxO1<>+4(SB)/4, $5
DATA winoIdxO1<>+8(SB)/4, $7
DATA winoIdxO1<>+12(SB)/4, $9
DATA winoIdxO1<>+16(SB)/4, $11
DATA winoIdxO1<>+20(SB)/4, $13
DATA winoIdxO1<>+24(SB)/4, $15
DATA winoIdxO1<>+28(SB)/4, $17
DATA winoIdxO1<>+32(SB)/4, $19
DATA winoIdxO1<>+36(SB)/4, $21
DATA winoIdxO1<>+40(SB)/4, $23
DATA winoIdxO1<>+44(SB)/4, $25
DATA winoIdxO1<>+48(SB)/4, $27
DATA winoIdxO1<>+52(SB)/4, $29
DATA winoIdxO1<>+56(SB)/4, $31
DATA winoIdxO1<>+60(SB)/4, $1
GLOBL winoIdxO1<>(SB), RODATA|NOPTR, $64

DATA winoIlvLo<>+0(SB)/4, $0
DATA winoIlvLo<>+4(SB)/4, $16
DATA winoIlvLo<>+8(SB)/4, $1
DATA winoIlvLo<>+12(SB)/4, $17
DATA winoIlvLo<>+16(SB)/4, $2
DATA winoIlvLo<>+20(SB)/4, $18
DATA winoIlvLo<>+24(SB)/4, $3
DATA winoIlvLo<>+28(SB)/4, $19
DATA winoIlvLo<>+32(SB)/4, $4
DATA winoIlvLo<>+36(SB)/4, $20
DATA winoIlvLo<>+40(SB)/4, $5
DATA winoIlvLo<>+44(SB)/4, $21
DATA winoIlvLo<>+48(SB)/4, $6
DATA winoIlvLo<>+52(SB)/4, $22
DATA winoIlvLo<>+56(SB)/4, $7
DATA winoIlvLo<>+60(SB)/4, $23
GLOBL winoIlvLo<>(SB), RODATA|NOPTR, $64

DATA winoIlvHi<>+0(SB)/4, $8
DATA winoIlvHi<>+4(SB)/4, $24
DATA winoIlvHi<>+8(SB)/4, $9
DATA winoIlvHi<>+12(SB)/4, $25
DATA winoIlvHi<>+16(SB)/4, $10
DATA winoIlvHi<>+20(SB)/4, $26
DATA winoIlvHi<>+24(SB)/4, $11
DATA winoIlvHi<>+28(SB)/4, $27
DATA winoIlvHi<>+32(SB)/4, $12
DATA winoIlvHi<>+36(SB)/4, $28
DATA winoIlvHi<>+40(SB)/4, $13
DATA winoIlvHi<>+44(SB)/4, $29
DATA winoIlvHi<>+48(SB)/4, $14
DATA winoIlvHi<>+52(SB)/4, $30
DATA winoIlvHi<>+56(SB)/4, $15
DATA winoIlvHi<>+60(SB)/4, $31
GLOBL winoIlvHi<>(SB), RODATA|NOPTR, $64

DATA winoSign<>+0(SB)/4, $0x80000000
GLOBL winoSign<>(SB), RODATA|NOPTR, $4

// NTMASK sets K3 to the low nt lanes (nt in CX; clobbers BX).
#define NTMASK \
	MOVQ $1, BX \
	SHLQ CX, BX \
	DECQ BX \
	KMOVW BX, K3

// COLMASK sets K1 and K2 to the low and high 16 bits of AX.
#define COLMASK \
	KMOVW AX, K1 \
	SHRQ $16, AX \
	KMOVW AX, K2

// INROW loads input row OFF (bytes from SI) and writes its column transform
// (e−e1, o+e1, e1−o, o−o1) into U0..U3.
#define INROW(OFF, U0, U1, U2, U3) \
	VMOVUPS.Z (SI)(OFF*1), K1, Z0 \
	VMOVUPS.Z 64(SI)(OFF*1), K2, Z1 \
	VMOVAPS Z0, Z2 \
	VPERMT2PS Z1, Z12, Z2 \
	VMOVAPS Z0, Z3 \
	VPERMT2PS Z1, Z13, Z3 \
	VMOVAPS Z0, Z4 \
	VPERMT2PS Z1, Z14, Z4 \
	VPERMT2PS Z1, Z15, Z0 \
	VSUBPS Z4, Z2, U0 \
	VADDPS Z4, Z3, U1 \
	VSUBPS Z3, Z4, U2 \
	VSUBPS Z0, Z3, U3

#define ZERO4(U0, U1, U2, U3) \
	VXORPS U0, U0, U0 \
	VXORPS U1, U1, U1 \
	VXORPS U2, U2, U2 \
	VXORPS U3, U3, U3

// VSTORE stores Z (masked by K3) at BX and moves BX to the next plane.
#define VSTORE(Z) \
	VMOVUPS Z, K3, (BX) \
	ADDQ R8, BX

// RUNMASKS loads the run at R12: Rows into DX, Cols into K1/K2, the NT lanes into K3.
#define RUNMASKS \
	MOVQ 32(R12), DX \
	MOVQ 40(R12), AX \
	COLMASK \
	MOVQ 56(R12), CX \
	NTMASK

// func winoInputAVX512(x *float32, chanX int, runs *WinoRun, nruns int, v *float32, chanP, planeP, nc int)
TEXT ·winoInputAVX512(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ chanX+8(FP), R13
	SHLQ $2, R13
	MOVQ v+32(FP), DI
	MOVQ chanP+40(FP), R14
	SHLQ $2, R14
	MOVQ planeP+48(FP), R8
	SHLQ $2, R8
	MOVQ nc+56(FP), R11
	VMOVUPS winoIdxE<>(SB), Z12
	VMOVUPS winoIdxO<>(SB), Z13
	VMOVUPS winoIdxE1<>(SB), Z14
	VMOVUPS winoIdxO1<>(SB), Z15
inchan:
	MOVQ runs+16(FP), R12
	MOVQ nruns+24(FP), R10
inrun:
	RUNMASKS
	TESTQ $1, DX
	JZ in0z
	MOVQ 0(R12), AX
	SHLQ $2, AX
	INROW(AX, Z16, Z17, Z18, Z19)
	JMP in1
in0z:
	ZERO4(Z16, Z17, Z18, Z19)
in1:
	TESTQ $2, DX
	JZ in1z
	MOVQ 8(R12), AX
	SHLQ $2, AX
	INROW(AX, Z20, Z21, Z22, Z23)
	JMP in2
in1z:
	ZERO4(Z20, Z21, Z22, Z23)
in2:
	TESTQ $4, DX
	JZ in2z
	MOVQ 16(R12), AX
	SHLQ $2, AX
	INROW(AX, Z24, Z25, Z26, Z27)
	JMP in3
in2z:
	ZERO4(Z24, Z25, Z26, Z27)
in3:
	TESTQ $8, DX
	JZ in3z
	MOVQ 24(R12), AX
	SHLQ $2, AX
	INROW(AX, Z28, Z29, Z30, Z31)
	JMP inrows
in3z:
	ZERO4(Z28, Z29, Z30, Z31)
inrows:
	MOVQ 48(R12), BX
	SHLQ $2, BX
	ADDQ DI, BX
	VSUBPS Z24, Z16, Z0
	VSTORE(Z0)
	VSUBPS Z25, Z17, Z0
	VSTORE(Z0)
	VSUBPS Z26, Z18, Z0
	VSTORE(Z0)
	VSUBPS Z27, Z19, Z0
	VSTORE(Z0)
	VADDPS Z24, Z20, Z0
	VSTORE(Z0)
	VADDPS Z25, Z21, Z0
	VSTORE(Z0)
	VADDPS Z26, Z22, Z0
	VSTORE(Z0)
	VADDPS Z27, Z23, Z0
	VSTORE(Z0)
	VSUBPS Z20, Z24, Z0
	VSTORE(Z0)
	VSUBPS Z21, Z25, Z0
	VSTORE(Z0)
	VSUBPS Z22, Z26, Z0
	VSTORE(Z0)
	VSUBPS Z23, Z27, Z0
	VSTORE(Z0)
	VSUBPS Z28, Z20, Z0
	VSTORE(Z0)
	VSUBPS Z29, Z21, Z0
	VSTORE(Z0)
	VSUBPS Z30, Z22, Z0
	VSTORE(Z0)
	VSUBPS Z31, Z23, Z0
	VSTORE(Z0)
	ADDQ $64, R12
	DECQ R10
	JNZ inrun
	ADDQ R13, SI
	ADDQ R14, DI
	DECQ R11
	JNZ inchan
	VZEROUPPER
	RET

// LOAD16 loads the 16 planes at BX (plane stride R8, masked by K3) into Z16..Z31.
#define LOAD16 \
	VMOVUPS.Z (BX), K3, Z16 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z17 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z18 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z19 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z20 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z21 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z22 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z23 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z24 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z25 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z26 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z27 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z28 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z29 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z30 \
	ADDQ R8, BX \
	VMOVUPS.Z (BX), K3, Z31

// func winoOutputAVX512(m *float32, planeP, chanP int, runs *WinoRun, nruns int, y *float32, ow, chanY int, bias *float32, bstep int, sums *float32, nc int)
TEXT ·winoOutputAVX512(SB), NOSPLIT, $0-96
	MOVQ m+0(FP), SI
	MOVQ planeP+8(FP), R8
	SHLQ $2, R8
	MOVQ chanP+16(FP), R9
	SHLQ $2, R9
	MOVQ y+40(FP), DI
	MOVQ ow+48(FP), R11
	SHLQ $2, R11
	MOVQ chanY+56(FP), R13
	SHLQ $2, R13
	MOVQ bias+64(FP), R14
	MOVQ bstep+72(FP), AX
	SHLQ $2, AX
	MOVQ AX, bstep+72(FP)
	VMOVUPS winoIlvLo<>(SB), Z12
	VMOVUPS winoIlvHi<>(SB), Z13
outchan:
	MOVQ sums+80(FP), AX
	TESTQ AX, AX
	JZ outrunsstart
	VMOVUPS (AX), Z14
	VMOVUPS 64(AX), Z15
outrunsstart:
	MOVQ runs+24(FP), R12
	MOVQ nruns+32(FP), R10
outrun:
	RUNMASKS
	MOVQ 48(R12), BX
	SHLQ $2, BX
	ADDQ SI, BX
	LOAD16
	// a_l = (m_l + m_{4+l}) + m_{8+l}
	VADDPS Z20, Z16, Z0
	VADDPS Z24, Z0, Z0
	VADDPS Z21, Z17, Z1
	VADDPS Z25, Z1, Z1
	VADDPS Z22, Z18, Z2
	VADDPS Z26, Z2, Z2
	VADDPS Z23, Z19, Z3
	VADDPS Z27, Z3, Z3
	// b_l = (m_{4+l} − m_{8+l}) − m_{12+l}
	VSUBPS Z24, Z20, Z4
	VSUBPS Z28, Z4, Z4
	VSUBPS Z25, Z21, Z5
	VSUBPS Z29, Z5, Z5
	VSUBPS Z26, Z22, Z6
	VSUBPS Z30, Z6, Z6
	VSUBPS Z27, Z23, Z7
	VSUBPS Z31, Z7, Z7
	// y00 = (a0+a1)+a2, y01 = (a1−a2)−a3, y10, y11 likewise from b
	VADDPS Z1, Z0, Z8
	VADDPS Z2, Z8, Z8
	VSUBPS Z2, Z1, Z9
	VSUBPS Z3, Z9, Z9
	VADDPS Z5, Z4, Z10
	VADDPS Z6, Z10, Z10
	VSUBPS Z6, Z5, Z11
	VSUBPS Z7, Z11, Z11
	// interleave into output rows: Z0, Z1 (row 0), Z2, Z3 (row 1)
	VMOVAPS Z8, Z0
	VPERMT2PS Z9, Z12, Z0
	VMOVAPS Z8, Z1
	VPERMT2PS Z9, Z13, Z1
	VMOVAPS Z10, Z2
	VPERMT2PS Z11, Z12, Z2
	VMOVAPS Z10, Z3
	VPERMT2PS Z11, Z13, Z3
	CMPQ sums+80(FP), $0
	JEQ outstore
	VADDPS Z0, Z14, K1, Z14
	VMULPS Z0, Z0, Z6
	VADDPS Z6, Z15, K1, Z15
	VADDPS Z1, Z14, K2, Z14
	VMULPS Z1, Z1, Z6
	VADDPS Z6, Z15, K2, Z15
	CMPQ DX, $2
	JNE outstore
	VADDPS Z2, Z14, K1, Z14
	VMULPS Z2, Z2, Z6
	VADDPS Z6, Z15, K1, Z15
	VADDPS Z3, Z14, K2, Z14
	VMULPS Z3, Z3, Z6
	VADDPS Z6, Z15, K2, Z15
outstore:
	VBROADCASTSS (R14), Z7
	MOVQ 0(R12), AX
	SHLQ $2, AX
	ADDQ DI, AX
	VADDPS Z7, Z0, Z0
	VADDPS Z7, Z1, Z1
	VMOVUPS Z0, K1, (AX)
	VMOVUPS Z1, K2, 64(AX)
	CMPQ DX, $2
	JNE outnext
	VADDPS Z7, Z2, Z2
	VADDPS Z7, Z3, Z3
	VMOVUPS Z2, K1, (AX)(R11*1)
	VMOVUPS Z3, K2, 64(AX)(R11*1)
outnext:
	ADDQ $64, R12
	DECQ R10
	JNZ outrun
	MOVQ sums+80(FP), AX
	TESTQ AX, AX
	JZ outchanend
	VMOVUPS Z14, (AX)
	VMOVUPS Z15, 64(AX)
	ADDQ $128, AX
	MOVQ AX, sums+80(FP)
outchanend:
	ADDQ R9, SI
	ADDQ R13, DI
	ADDQ bstep+72(FP), R14
	DECQ nc+88(FP)
	JNZ outchan
	VZEROUPPER
	RET

// func winoGradAVX512(gy *float32, ow, chanY int, runs *WinoRun, nruns int, dm *float32, planeP, chanP int, sums *float32, nc int)
TEXT ·winoGradAVX512(SB), NOSPLIT, $0-80
	MOVQ gy+0(FP), SI
	MOVQ ow+8(FP), R11
	SHLQ $2, R11
	MOVQ chanY+16(FP), R13
	SHLQ $2, R13
	MOVQ dm+40(FP), DI
	MOVQ planeP+48(FP), R8
	SHLQ $2, R8
	MOVQ chanP+56(FP), R9
	SHLQ $2, R9
	MOVQ sums+64(FP), R14
	VMOVUPS winoIdxE<>(SB), Z12
	VMOVUPS winoIdxO<>(SB), Z13
	VBROADCASTSS winoSign<>(SB), Z15
gchan:
	TESTQ R14, R14
	JZ grunsstart
	VMOVUPS (R14), Z14
grunsstart:
	MOVQ runs+24(FP), R12
	MOVQ nruns+32(FP), R10
grun:
	RUNMASKS
	MOVQ 0(R12), AX
	SHLQ $2, AX
	ADDQ SI, AX
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K2, Z1
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z12, Z4
	VMOVAPS Z0, Z5
	VPERMT2PS Z1, Z13, Z5
	CMPQ DX, $2
	JNE grad1z
	VMOVUPS.Z (AX)(R11*1), K1, Z2
	VMOVUPS.Z 64(AX)(R11*1), K2, Z3
	VMOVAPS Z2, Z6
	VPERMT2PS Z3, Z12, Z6
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z13, Z7
	JMP gradsum
grad1z:
	ZERO4(Z2, Z3, Z6, Z7)
gradsum:
	TESTQ R14, R14
	JZ gradnos
	VADDPS Z0, Z14, Z14
	VADDPS Z1, Z14, Z14
	CMPQ DX, $2
	JNE gradnos
	VADDPS Z2, Z14, Z14
	VADDPS Z3, Z14, Z14
gradnos:
	VADDPS Z6, Z4, Z8
	VADDPS Z7, Z5, Z9
	VSUBPS Z6, Z4, Z10
	VSUBPS Z7, Z5, Z11
	MOVQ 48(R12), BX
	SHLQ $2, BX
	ADDQ DI, BX
	VSTORE(Z4)
	VADDPS Z5, Z4, Z0
	VSTORE(Z0)
	VSUBPS Z5, Z4, Z0
	VSTORE(Z0)
	VXORPS Z15, Z5, Z0
	VSTORE(Z0)
	VSTORE(Z8)
	VADDPS Z9, Z8, Z0
	VSTORE(Z0)
	VSUBPS Z9, Z8, Z0
	VSTORE(Z0)
	VXORPS Z15, Z9, Z0
	VSTORE(Z0)
	VSTORE(Z10)
	VADDPS Z11, Z10, Z0
	VSTORE(Z0)
	VSUBPS Z11, Z10, Z0
	VSTORE(Z0)
	VXORPS Z15, Z11, Z0
	VSTORE(Z0)
	VXORPS Z15, Z6, Z1
	VSTORE(Z1)
	VSUBPS Z7, Z1, Z0
	VSTORE(Z0)
	VSUBPS Z6, Z7, Z0
	VSTORE(Z0)
	VSTORE(Z7)
	ADDQ $64, R12
	DECQ R10
	JNZ grun
	TESTQ R14, R14
	JZ gchanend
	VMOVUPS Z14, (R14)
	ADDQ $64, R14
gchanend:
	ADDQ R13, SI
	ADDQ R9, DI
	DECQ nc+72(FP)
	JNZ gchan
	VZEROUPPER
	RET

// GROW adds row (P, Q, R, S) of B·dV, times Bᵀ and overlapped across tiles, into the
// input-gradient row OFF (bytes from DI).
#define GROW(P, Q, R, S, OFF) \
	VSUBPS R, Q, Z0 \
	VADDPS S, Z0, Z0 \
	VADDPS R, Q, Z1 \
	VSUBPS P, Z1, Z1 \
	VXORPS Z15, S, Z2 \
	VALIGND $15, Z14, Z1, Z1 \
	VALIGND $15, Z14, Z2, Z2 \
	VADDPS Z1, P, Z1 \
	VADDPS Z2, Z0, Z2 \
	VMOVAPS Z1, Z3 \
	VPERMT2PS Z2, Z12, Z3 \
	VPERMT2PS Z2, Z13, Z1 \
	VMOVUPS.Z (DI)(OFF*1), K1, Z0 \
	VADDPS Z3, Z0, Z0 \
	VMOVUPS Z0, K1, (DI)(OFF*1) \
	VMOVUPS.Z 64(DI)(OFF*1), K2, Z0 \
	VADDPS Z1, Z0, Z0 \
	VMOVUPS Z0, K2, 64(DI)(OFF*1)

// func winoInputGradAVX512(dv *float32, planeP, chanP int, runs *WinoRun, nruns int, dx *float32, chanX, nc int)
TEXT ·winoInputGradAVX512(SB), NOSPLIT, $0-64
	MOVQ dv+0(FP), SI
	MOVQ planeP+8(FP), R8
	SHLQ $2, R8
	MOVQ chanP+16(FP), R9
	SHLQ $2, R9
	MOVQ dx+40(FP), DI
	MOVQ chanX+48(FP), R13
	SHLQ $2, R13
	MOVQ nc+56(FP), R11
	VMOVUPS winoIlvLo<>(SB), Z12
	VMOVUPS winoIlvHi<>(SB), Z13
	VXORPS Z14, Z14, Z14
	VBROADCASTSS winoSign<>(SB), Z15
igchan:
	MOVQ runs+24(FP), R12
	MOVQ nruns+32(FP), R10
igrun:
	RUNMASKS
	MOVQ 48(R12), BX
	SHLQ $2, BX
	ADDQ SI, BX
	LOAD16
	TESTQ $1, DX
	JZ ig1
	MOVQ 0(R12), AX
	SHLQ $2, AX
	GROW(Z16, Z17, Z18, Z19, AX)
ig1:
	TESTQ $2, DX
	JZ ig2
	// b_l = (v_{4+l} − v_{8+l}) + v_{12+l}
	VSUBPS Z24, Z20, Z4
	VADDPS Z28, Z4, Z4
	VSUBPS Z25, Z21, Z5
	VADDPS Z29, Z5, Z5
	VSUBPS Z26, Z22, Z6
	VADDPS Z30, Z6, Z6
	VSUBPS Z27, Z23, Z7
	VADDPS Z31, Z7, Z7
	MOVQ 8(R12), AX
	SHLQ $2, AX
	GROW(Z4, Z5, Z6, Z7, AX)
ig2:
	TESTQ $4, DX
	JZ ig3
	// c_l = (v_{4+l} + v_{8+l}) − v_l
	VADDPS Z24, Z20, Z4
	VSUBPS Z16, Z4, Z4
	VADDPS Z25, Z21, Z5
	VSUBPS Z17, Z5, Z5
	VADDPS Z26, Z22, Z6
	VSUBPS Z18, Z6, Z6
	VADDPS Z27, Z23, Z7
	VSUBPS Z19, Z7, Z7
	MOVQ 16(R12), AX
	SHLQ $2, AX
	GROW(Z4, Z5, Z6, Z7, AX)
ig3:
	TESTQ $8, DX
	JZ ignext
	// e_l = −v_{12+l}
	VXORPS Z15, Z28, Z4
	VXORPS Z15, Z29, Z5
	VXORPS Z15, Z30, Z6
	VXORPS Z15, Z31, Z7
	MOVQ 24(R12), AX
	SHLQ $2, AX
	GROW(Z4, Z5, Z6, Z7, AX)
ignext:
	ADDQ $64, R12
	DECQ R10
	JNZ igrun
	ADDQ R9, SI
	ADDQ R13, DI
	DECQ R11
	JNZ igchan
	VZEROUPPER
	RET
