package kernel

// The optimizers' element-wise updates (package optim) have vector loops here, behind the
// same dispatch table as every other kernel. The math and its reference loops live in
// optim; each XxxPrefix function below updates the longest prefix of its slices whose
// length is a multiple of 8 with the active path's vector loop and returns that length, or
// returns 0 when the active path has none (the generic path) or the slices are shorter
// than 8. The caller finishes the remaining elements with its Go loop. The vector loops
// compute exactly the float32 operations of optim's Go loops, in the same order, with
// unfused multiplies and adds and correctly rounded square roots and divisions, so the
// results are bit-identical whichever path runs (tested in optim).

// AdamCoef holds the per-step coefficients of an Adam/AdamW update (optim.Adam). The
// field order is read by optimupdate_amd64.s (offset 4·i for field i; pinned by a test).
type AdamCoef struct {
	B1, OmB1, B2, OmB2 float32 // β1, 1-β1, β2, 1-β2
	Eps, BC2S, Step    float32 // ε, sqrt(1-β2^t), -η/(1-β1^t)
	WD, Decay          float32 // coupled λ (Adam) or 1-ηλ (AdamW)
}

// RMSCoef holds the per-step coefficients of an RMSProp update (optim.RMSProp); field
// order pinned like AdamCoef's.
type RMSCoef struct{ Alpha, OmA, Eps, Mom, LR, WD float32 }

// updateKernels are one path's vector loops for the optimizer updates; n is a positive
// multiple of 8 and every slice holds at least n values.
type updateKernels struct {
	sgdPlain            func(p, grad *float32, n int, lr, wd float32)
	sgdMomentum         func(p, grad, b *float32, n int, lr, wd, mom, damp float32)
	sgdNesterov         func(p, grad, b *float32, n int, lr, wd, mom float32)
	adam                func(p, grad, m, v *float32, n int, c *AdamCoef)
	adagrad             func(p, grad, sum *float32, n int, clr, wd, eps float32)
	rmsPlain            func(p, grad, sq *float32, n int, c *RMSCoef)
	rmsMomentum         func(p, grad, sq, buf *float32, n int, c *RMSCoef)
	rmsCentered         func(p, grad, sq, avg *float32, n int, c *RMSCoef)
	rmsCenteredMomentum func(p, grad, sq, avg, buf *float32, n int, c *RMSCoef)
}

// vecLen returns the prefix length the active path's update loops handle for slices of
// length l (all the slices passed must hold at least l values), 0 if none.
func vecLen(l int) (int, *updateKernels) {
	u := impl.updates
	if u == nil {
		return 0, nil
	}
	return l &^ 7, u
}

// SGDPlainPrefix: θ += lr·(g + λθ) on the vector prefix (lr is the negated rate).
func SGDPlainPrefix(p, g []float32, lr, wd float32) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_ = g[n-1]
	u.sgdPlain(&p[0], &g[0], n, lr, wd)
	return n
}

// SGDMomentumPrefix: b = μb + τ'(g + λθ); θ += lr·b on the vector prefix (τ' = damp).
func SGDMomentumPrefix(p, g, b []float32, lr, wd, mom, damp float32) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], b[n-1]
	u.sgdMomentum(&p[0], &g[0], &b[0], n, lr, wd, mom, damp)
	return n
}

// SGDNesterovPrefix: d = g + λθ; b = μb + d; θ += lr·(d + μb) on the vector prefix.
func SGDNesterovPrefix(p, g, b []float32, lr, wd, mom float32) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], b[n-1]
	u.sgdNesterov(&p[0], &g[0], &b[0], n, lr, wd, mom)
	return n
}

// AdamPrefix applies optim's Adam/AdamW update with coefficients c on the vector prefix.
func AdamPrefix(p, g, m, v []float32, c *AdamCoef) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	u.adam(&p[0], &g[0], &m[0], &v[0], n, c)
	return n
}

// AdagradPrefix applies optim's Adagrad update on the vector prefix (clr the negated,
// decayed rate).
func AdagradPrefix(p, g, sum []float32, clr, wd, eps float32) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], sum[n-1]
	u.adagrad(&p[0], &g[0], &sum[0], n, clr, wd, eps)
	return n
}

// RMSPlainPrefix applies optim's plain RMSProp update on the vector prefix.
func RMSPlainPrefix(p, g, sq []float32, c *RMSCoef) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], sq[n-1]
	u.rmsPlain(&p[0], &g[0], &sq[0], n, c)
	return n
}

// RMSMomentumPrefix applies optim's RMSProp update with momentum on the vector prefix.
func RMSMomentumPrefix(p, g, sq, buf []float32, c *RMSCoef) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], sq[n-1], buf[n-1]
	u.rmsMomentum(&p[0], &g[0], &sq[0], &buf[0], n, c)
	return n
}

// RMSCenteredPrefix applies optim's centered RMSProp update on the vector prefix.
func RMSCenteredPrefix(p, g, sq, avg []float32, c *RMSCoef) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], sq[n-1], avg[n-1]
	u.rmsCentered(&p[0], &g[0], &sq[0], &avg[0], n, c)
	return n
}

// RMSCenteredMomentumPrefix applies optim's centered RMSProp update with momentum on the
// vector prefix.
func RMSCenteredMomentumPrefix(p, g, sq, avg, buf []float32, c *RMSCoef) int {
	n, u := vecLen(len(p))
	if n == 0 {
		return 0
	}
	_, _, _, _ = g[n-1], sq[n-1], avg[n-1], buf[n-1]
	u.rmsCenteredMomentum(&p[0], &g[0], &sq[0], &avg[0], &buf[0], n, c)
	return n
}
