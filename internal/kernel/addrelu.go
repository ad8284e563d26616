package kernel

// AddReLU computes dst[i] = relu(a[i] + b[i]) with relu(s) = (0 > s) ? 0 : s, the
// residual join of a ResNet block in one pass. NaN propagates (relu(NaN) = NaN, as in
// PyTorch); the vector path computes the same bits (VMAXPS with the sum as the second
// operand has exactly this rule, -0 included). dst may alias a or b.
func AddReLU(dst, a, b []float32) {
	if len(a) != len(dst) || len(b) != len(dst) {
		panic("kernel: AddReLU length mismatch")
	}
	if len(dst) == 0 {
		return
	}
	impl.addReLU(dst, a, b)
}

func addReLUGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		s := a[i] + b[i]
		if 0 > s {
			s = 0
		}
		dst[i] = s
	}
}
