package main

import (
	"fmt"
	"strings"
)

// An ewOp is an element-wise AVX2 loop over n float32 values (n a multiple of 8; the Go
// wrappers do the tail): 4 vectors (32 values) per main-loop iteration, then one vector
// per iteration. Memory-bound loops gain nothing from 512-bit registers, so the avx512
// path runs these too. stages are per-vector instruction templates, emitted stage by
// stage for the 4 vectors of the main loop: {v} is the vector's register number, {o} its
// byte offset ("" for the first). Y15 holds the broadcast scalar or zero.
type ewOp struct {
	name  string   // TEXT symbol, e.g. "addAVX2"; labels derive from label
	label string   // label prefix
	doc   []string // comment lines after the signature
	args  string   // Go signature arguments, e.g. "dst, src *float32, n int"
	frame int      // argument frame size
	// setup are the instructions before the loops: load the pointers, n into CX, the
	// scalar or zero into Y15.
	setup  []string
	ptrs   []string // pointer registers advanced after each iteration, in order
	stages []string
}

var ewOps = map[string][]ewOp{
	"vec_amd64.s": {
		{name: "axpyAVX2", label: "axpy", args: "alpha float32, x, y *float32, n int", frame: 32,
			setup:  []string{"VBROADCASTSS alpha+0(FP), Y15", "MOVQ x+8(FP), SI", "MOVQ y+16(FP), DI", "MOVQ n+24(FP), CX"},
			ptrs:   []string{"SI", "DI"},
			stages: []string{"VMOVUPS {o}(DI), Y{v}", "VFMADD231PS {o}(SI), Y15, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
		{name: "scaleAVX2", label: "scale", args: "alpha float32, x *float32, n int", frame: 24,
			setup:  []string{"VBROADCASTSS alpha+0(FP), Y15", "MOVQ x+8(FP), DI", "MOVQ n+16(FP), CX"},
			ptrs:   []string{"DI"},
			stages: []string{"VMULPS {o}(DI), Y15, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
		{name: "addAVX2", label: "add", args: "dst, src *float32, n int", frame: 24,
			setup:  []string{"MOVQ dst+0(FP), DI", "MOVQ src+8(FP), SI", "MOVQ n+16(FP), CX"},
			ptrs:   []string{"SI", "DI"},
			stages: []string{"VMOVUPS {o}(DI), Y{v}", "VADDPS {o}(SI), Y{v}, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
		{name: "reluAVX2", label: "relu", args: "dst, src *float32, n int", frame: 24,
			doc: []string{"dst = max(0, src) with NaN propagated as PyTorch does: MAXPS returns its second",
				"source, src, when either is NaN (and for ±0, so relu(−0) = −0 as in PyTorch)."},
			setup:  []string{"MOVQ dst+0(FP), DI", "MOVQ src+8(FP), SI", "MOVQ n+16(FP), CX", "VXORPS Y15, Y15, Y15"},
			ptrs:   []string{"SI", "DI"},
			stages: []string{"VMOVUPS {o}(SI), Y{v}", "VMAXPS Y{v}, Y15, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
		{name: "reluBackwardAVX2", label: "rb", args: "dst, grad, out *float32, n int", frame: 32,
			doc: []string{"dst = out <= 0 ? 0 : grad (mask NGE_UQ: !(0 >= out), so a NaN output passes the",
				"gradient, as PyTorch's threshold_backward does)."},
			setup:  []string{"MOVQ dst+0(FP), DI", "MOVQ grad+8(FP), SI", "MOVQ out+16(FP), DX", "MOVQ n+24(FP), CX", "VXORPS Y15, Y15, Y15"},
			ptrs:   []string{"SI", "DX", "DI"},
			stages: []string{"VCMPPS $0x19, {o}(DX), Y15, Y{v}", "VANDPS {o}(SI), Y{v}, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
	},
	"vecmul_amd64.s": {
		{name: "mulAVX2", label: "mul", args: "dst, x, y *float32, n int", frame: 32, doc: []string{"dst = x * y"},
			setup:  []string{"MOVQ dst+0(FP), DI", "MOVQ x+8(FP), SI", "MOVQ y+16(FP), DX", "MOVQ n+24(FP), CX"},
			ptrs:   []string{"SI", "DX", "DI"},
			stages: []string{"VMOVUPS {o}(SI), Y{v}", "VMULPS {o}(DX), Y{v}, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
		{name: "mulAddAVX2", label: "muladd", args: "dst, x, y *float32, n int", frame: 32,
			doc:    []string{"dst += x * y, rounding the product and then the sum (no FMA), as the Go loop does"},
			setup:  []string{"MOVQ dst+0(FP), DI", "MOVQ x+8(FP), SI", "MOVQ y+16(FP), DX", "MOVQ n+24(FP), CX"},
			ptrs:   []string{"SI", "DX", "DI"},
			stages: []string{"VMOVUPS {o}(SI), Y{v}", "VMULPS {o}(DX), Y{v}, Y{v}", "VADDPS {o}(DI), Y{v}, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
	},
	"addrelu_amd64.s": {
		{name: "addReLUAVX2", label: "addrelu", args: "dst, a, b *float32, n int", frame: 32,
			doc: []string{"dst[i] = max(0, a[i]+b[i]) with Intel's MAX rule (src1 > src2 ? src1 : src2, src1 = 0):",
				"NaN and -0 sums pass through, as addReLUGeneric."},
			setup:  []string{"MOVQ dst+0(FP), DI", "MOVQ a+8(FP), SI", "MOVQ b+16(FP), DX", "MOVQ n+24(FP), CX", "VXORPS Y15, Y15, Y15"},
			ptrs:   []string{"SI", "DX", "DI"},
			stages: []string{"VMOVUPS {o}(SI), Y{v}", "VADDPS {o}(DX), Y{v}, Y{v}", "VMAXPS Y{v}, Y15, Y{v}", "VMOVUPS Y{v}, {o}(DI)"}},
	},
}

// ewHeaders are the files' opening comments.
var ewHeaders = map[string]string{
	"vec_amd64.s": `// AVX2 vector kernels. Each handles n elements, n a multiple of 8 (the Go wrappers do the
// tail); 32 elements per main-loop iteration. Memory-bound ops gain nothing from 512-bit
// registers, so the AVX-512 path uses these too.`,
	"vecmul_amd64.s":  `// Elementwise products (AVX2; n a multiple of 8, the Go wrappers do the tail).`,
	"addrelu_amd64.s": `// The residual join relu(a + b) (AVX2; n a multiple of 8, the Go wrapper does the tail).`,
}

func (op ewOp) emit(sb *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(sb, "\t"+format+"\n", args...) }
	fill := func(t string, v, off int) string {
		o := ""
		if off != 0 {
			o = fmt.Sprint(off)
		}
		return strings.NewReplacer("{v}", fmt.Sprint(v), "{o}", o).Replace(t)
	}
	fmt.Fprintf(sb, "\n// func %s(%s)\n", op.name, op.args)
	for _, d := range op.doc {
		fmt.Fprintf(sb, "// %s\n", d)
	}
	fmt.Fprintf(sb, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", op.name, op.frame)
	for _, s := range op.setup {
		p("%s", s)
	}
	l := op.label
	p("MOVQ CX, BX")
	p("SHRQ $5, BX")
	p("JZ %s8", l)
	fmt.Fprintf(sb, "%s32:\n", l)
	for _, st := range op.stages {
		for v := 0; v < 4; v++ {
			p("%s", fill(st, v, 32*v))
		}
	}
	for _, r := range op.ptrs {
		p("ADDQ $128, %s", r)
	}
	p("DECQ BX")
	p("JNZ %s32", l)
	fmt.Fprintf(sb, "%s8:\n", l)
	p("ANDQ $31, CX")
	p("SHRQ $3, CX")
	p("JZ %sdone", l)
	fmt.Fprintf(sb, "%s8loop:\n", l)
	for _, st := range op.stages {
		p("%s", fill(st, 0, 0))
	}
	for _, r := range op.ptrs {
		p("ADDQ $32, %s", r)
	}
	p("DECQ CX")
	p("JNZ %s8loop", l)
	fmt.Fprintf(sb, "%sdone:\n", l)
	p("VZEROUPPER")
	p("RET")
}

// emitDot emits dotAVX2: x·y with products and sums in float64, 4 lanes × 4 accumulators.
func emitDot(sb *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(sb, "\t"+format+"\n", args...) }
	sb.WriteString("\n// func dotAVX2(x, y *float32, n int) float64\n// Products and sums in float64 (4 lanes × 4 accumulators).\n")
	sb.WriteString("TEXT ·dotAVX2(SB), NOSPLIT, $0-32\n")
	p("MOVQ x+0(FP), SI")
	p("MOVQ y+8(FP), DI")
	p("MOVQ n+16(FP), CX")
	for a := 0; a < 4; a++ {
		p("VXORPD Y%d, Y%d, Y%d", a, a, a)
	}
	p("MOVQ CX, BX")
	p("SHRQ $4, BX")
	p("JZ dot8")
	sb.WriteString("dot16:\n")
	conv := func(k int, reg string, base int) {
		for i := 0; i < k; i++ {
			off := ""
			if i > 0 {
				off = fmt.Sprint(16 * i)
			}
			p("VCVTPS2PD %s(%s), Y%d", off, reg, base+i)
		}
	}
	conv(4, "SI", 4)
	conv(4, "DI", 8)
	for a := 0; a < 4; a++ {
		p("VFMADD231PD Y%d, Y%d, Y%d", 8+a, 4+a, a)
	}
	p("ADDQ $64, SI")
	p("ADDQ $64, DI")
	p("DECQ BX")
	p("JNZ dot16")
	sb.WriteString("dot8:\n")
	p("TESTQ $8, CX")
	p("JZ dotsum")
	conv(2, "SI", 4)
	conv(2, "DI", 8)
	for a := 0; a < 2; a++ {
		p("VFMADD231PD Y%d, Y%d, Y%d", 8+a, 4+a, a)
	}
	sb.WriteString("dotsum:\n")
	p("VADDPD Y1, Y0, Y0")
	p("VADDPD Y3, Y2, Y2")
	p("VADDPD Y2, Y0, Y0")
	p("VEXTRACTF128 $1, Y0, X1")
	p("VADDPD X1, X0, X0")
	p("VHADDPD X0, X0, X0")
	p("VZEROUPPER")
	p("MOVSD X0, ret+24(FP)")
	p("RET")
}

// generateElementwise returns the text of one of the element-wise files (ewOps' keys).
func generateElementwise(file string) string {
	var sb strings.Builder
	fmt.Fprintln(&sb, "// Code generated by tools/gen/kernelasm (elementwise.go); DO NOT EDIT.")
	fmt.Fprintln(&sb)
	fmt.Fprintln(&sb, "//go:build amd64")
	fmt.Fprintln(&sb)
	fmt.Fprintln(&sb, `#include "textflag.h"`)
	fmt.Fprintln(&sb)
	fmt.Fprintln(&sb, ewHeaders[file])
	for _, op := range ewOps[file] {
		op.emit(&sb)
	}
	if file == "vec_amd64.s" {
		emitDot(&sb)
	}
	return sb.String()
}
