package nn

import (
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
)

// First-layer fusion of a Conv2D with the BatchNorm (+ReLU +2×2 max pool) linked to it by
// fuseConvBN, used when the conv's input needs no gradient (the image) and its column
// matrix has few rows (C·KH·KW <= convFuseRows, e.g. a 3×3 window over 1 channel).
//
// Forward. The batch statistics of the conv output y_o = W_o·X + b_o (X the column
// matrix, all images side by side, M columns) follow from the R×R Gram matrix
// G = X·Xᵀ and the row sums S = X·1 of the columns, computed in float64 from per-block
// float32 dot products in a first pass over the (small) input:
//
//	Σ y_o = W_o·S + M·b_o,   Σ (y_o − ȳ_o)² = W_o·G·W_oᵀ − (W_o·S)²/M.
//
// So the BN's normalization is known before the output is computed, and one pass per block
// of images computes the conv output (still written to y, which stays valid) and at once,
// while it is in cache, the BN affine map, the max pooling, the ReLU and the values at
// the argmaxes — the BN's forward pass then only adopts these results. In evaluation the
// running statistics are used and no Gram matrix is needed.
//
// Backward. The BN's input gradient is dy = k·g·m scattered at the argmaxes (m the ReLU
// mask) plus a dense part −β'·y + c' per channel (see bnJob.backward). The conv's weight
// gradient Σ_p dy(p)·X_r(p) is linear in dy: the dense part needs only G and S,
//
//	dW_or += −β'_o·(Σ_r' W_or'·G_r'r + b_o·S_r) + c'_o·S_r,
//
// and the sparse part, per image and channel, one R-vector per pooled output
// (kernel.PoolRows on the image's columns stored pixel by pixel), computed in the same
// pass over the pooled gradient as the BN's own sums (the sparse part is scaled by k
// afterwards). The BN's backward adds these to the conv's parameter gradients directly
// and never writes the full-size dy, so the conv's own backward pass does not run for
// the BN's share of the gradient (it still runs if anything else consumed y). Results
// equal the unfused modules' up to rounding (TestConvBNFused).
const convFuseRows = 16

// fusedOK reports whether conv2d may compute the linked BN's pooled output itself.
func (l *bnStatsLink) fusedOK(x *ag.Var, opt ConvOptions, g *kernel.ConvGeom, n, out int) bool {
	bn := l.bn
	return !l.dead && bn.FuseReLU && bn.FuseMaxPool2 && bn.dims == 2 && bn.Features == out &&
		opt.Groups == 1 && !x.RequiresGrad() && g.Rows() <= convFuseRows && g.OH >= 2 && g.OW >= 2 &&
		!(bn.training && n*g.OH*g.OW <= 1)
}

// gramLen is the number of float32 slots of the Gram data: R×R then R float64 values.
func gramLen(r int) int { return 2 * (r*r + r) }

// setupFused prepares the job j (conv2d's forward) to produce the BN's pooled output;
// it allocates the BN's output tensors and records them in l.
func (j *convJob) setupFused(t *ag.Tape, l *bnStatsLink, saved bool) {
	g := &j.geom
	C, R := j.out, g.Rows()
	np := j.n * C * (g.OH / 2) * (g.OW / 2)
	gl := 0
	if saved {
		gl = gramLen(R)
	}
	pooled := t.Empty(j.n, C, g.OH/2, g.OW/2)
	aux := t.Empty(2*C + 2*np + gl)
	ad := aux.Data()
	j.py, j.pidx, j.pxsel = pooled.Data(), ad[2*C:2*C+np], ad[2*C+np:2*C+2*np]
	j.fab = t.Empty(2 * C).Data()
	if saved {
		j.gram = t.Empty(j.threads, gl).Data()
		j.colsReady = true
	}
	l.pooled, l.aux, l.push = pooled, aux, saved
	if cap(l.mv) < 2*C {
		l.mv = make([]float64, 2*C)
	}
	l.mv = l.mv[:2*C]
}

// fusedStats computes the BN's normalization (batch statistics from the Gram data in
// training, the running estimates in evaluation) into the stats part of l.aux, l.mv and
// the per-channel affine map j.fab.
func (j *convJob) fusedStats(l *bnStatsLink) {
	bn := l.bn
	g := &j.geom
	C, R := j.out, g.Rows()
	stats := l.aux.Data()[:2*C]
	var G, S []float32
	if j.gram != nil {
		// Sum the threads' partial Gram data in thread order into the aux tail.
		gl := gramLen(R)
		np := (l.aux.Len() - 2*C - gl) / 2
		tail := l.aux.Data()[2*C+2*np:]
		for q := 0; q < gl/2; q++ {
			s := 0.0
			for tid := 0; tid < j.threads; tid++ {
				s += getF64(j.gram[tid*gl:], q)
			}
			setF64(tail, q, s)
		}
		G, S = tail[:2*R*R], tail[2*R*R:]
	}
	M := float64(j.n * g.Cols())
	for c := 0; c < C; c++ {
		var mean, vr float64
		if bn.training {
			w := j.w[c*R : (c+1)*R]
			ws, wgw := 0.0, 0.0
			for r := 0; r < R; r++ {
				ws += float64(w[r]) * getF64(S, r)
				row := 0.0
				for r2 := 0; r2 < R; r2++ {
					row += getF64(G, r*R+r2) * float64(w[r2])
				}
				wgw += float64(w[r]) * row
			}
			m := ws / M
			mean = m
			if j.b != nil {
				mean += float64(j.b[c])
			}
			vr = max(wgw/M-m*m, 0)
		} else {
			mean, vr = float64(bn.RunningMean.Data()[c]), float64(bn.RunningVar.Data()[c])
		}
		l.mv[2*c], l.mv[2*c+1] = mean, vr
		invStd := 1 / math.Sqrt(vr+bn.Eps)
		stats[c], stats[C+c] = float32(mean), float32(invStd)
		scale, shift := invStd, -mean*invStd
		if bn.Weight != nil {
			gm := float64(bn.Weight.Value.Data()[c])
			scale *= gm
			shift = float64(bn.Bias.Value.Data()[c]) + shift*gm
		}
		j.fab[c], j.fab[C+c] = float32(scale), float32(shift)
	}
}

// gramBlock adds the Gram data of one block's column matrix (R rows of ld values) to
// the thread's partial sums gp.
func gramBlock(gp, cols []float32, R, ld int) {
	for r := 0; r < R; r++ {
		ra := cols[r*ld : (r+1)*ld]
		for r2 := r; r2 < R; r2++ {
			rb := cols[r2*ld : (r2+1)*ld]
			s := 0.0
			for q := 0; q < ld; q += 1024 {
				e := min(q+1024, ld)
				s += float64(kernel.Dot(ra[q:e], rb[q:e]))
			}
			setF64(gp, r*R+r2, getF64(gp, r*R+r2)+s)
			if r2 != r {
				setF64(gp, r2*R+r, getF64(gp, r2*R+r)+s)
			}
		}
		s := 0.0
		for q := 0; q < ld; q += 1024 {
			rs, _ := kernel.BNSums(ra[q:min(q+1024, ld)], 0)
			s += float64(rs)
		}
		setF64(gp, R*R+r, getF64(gp, R*R+r)+s)
	}
}

// gram is the first fused forward pass of thread tid: im2col of its images into the
// saved column matrices and their Gram data.
func (j *convJob) gramPass(tid, n0, n1 int) {
	g := &j.geom
	P, R := g.Cols(), g.Rows()
	inSz := g.C * g.H * g.W
	gl := gramLen(R)
	gp := j.gram[tid*gl : (tid+1)*gl]
	clear(gp)
	for s0 := n0; s0 < n1; s0 += j.nb {
		cnt := min(j.nb, n1-s0)
		ld := cnt * P
		cols := j.saved[s0*R*P : (s0+cnt)*R*P]
		for s := 0; s < cnt; s++ {
			kernel.Im2col(g, cols[s*P:], ld, j.x[(s0+s)*inSz:])
		}
		gramBlock(gp, cols, R, ld)
	}
}

// poolImage applies the BN affine map, the 2×2 max pooling and the ReLU to image i's
// conv output (in cache), as bnJob.forward does per channel.
func (j *convJob) poolImage(i int) {
	g := &j.geom
	P, C := g.Cols(), j.out
	ps := (g.OH / 2) * (g.OW / 2)
	for c := 0; c < C; c++ {
		off, po := (i*C+c)*P, (i*C+c)*ps
		kernel.BNMaxPool2x2(j.py[po:po+ps], j.pidx[po:po+ps], j.pxsel[po:po+ps], j.y[off:off+P], g.OH, g.OW, j.fab[c], j.fab[C+c])
	}
}

// pushPass is the fused backward pass over thread tid's images: per image and channel,
// the BN's sums Σg·m and Σg·m·(x−μ) over the pooled outputs and the dot products of g·m
// at the argmaxes with each row of the image's column matrix (float64 partial sums per
// thread and channel: R dots, then the two sums).
func (j *convJob) pushPass(tid, n0, n1 int) {
	g := &j.geom
	P, R, C := g.Cols(), g.Rows(), j.out
	ps := (g.OH / 2) * (g.OW / 2)
	part := j.dwPart[tid*2*C*(R+2) : (tid+1)*2*C*(R+2)]
	clear(part)
	var dots [convFuseRows]float32
	colsT := j.pscratch[tid*P*R : (tid+1)*P*R]
	for s0 := n0; s0 < n1; s0 += j.nb {
		cnt := min(j.nb, n1-s0)
		ld := cnt * P
		cols := j.saved[s0*R*P : (s0+cnt)*R*P]
		for s := 0; s < cnt; s++ {
			i := s0 + s
			pixelMajor(colsT, cols[s*P:], R, ld, P)
			for c := 0; c < C; c++ {
				po := (i*C + c) * ps
				gc, yc := j.g[po:po+ps], j.py[po:po+ps]
				kernel.PoolRows(dots[:R], gc, yc, j.pidx[po:po+ps], colsT, P)
				pc := part[2*c*(R+2):]
				for r, d := range dots[:R] {
					setF64(pc, r, getF64(pc, r)+float64(d))
				}
				sg, sgx := kernel.BNBackwardSums(gc, yc, j.pxsel[po:po+ps], j.fab[c], true)
				setF64(pc, R, getF64(pc, R)+float64(sg))
				setF64(pc, R+1, getF64(pc, R+1)+float64(sgx))
			}
		}
	}
}

// bnPushBackward is the backward pass of a BN whose linked conv computed its output
// (AuxF bit 8; see setupFused): one pass over the pooled gradient computes the BN's
// sums and the sparse part of the conv's weight gradient, then the BN's parameter
// gradients and the conv's weight and bias gradients follow per channel. The BN's input
// gradient (the conv output's) is never formed.
func bnPushBackward(o *ag.Var) {
	in := o.Inputs()
	x := in[0] // the conv output
	cin := x.Inputs()
	xin, w := cin[0], cin[1]
	a := x.AuxI
	opt := ConvOptions{Stride: [2]int{a[0], a[1]}, Padding: [2]int{a[2], a[3]}, Dilation: [2]int{a[4], a[5]}, Groups: a[6]}
	geom, err := convGeometry("nn.Conv2D", xin.Value.Shape(), w.Value.Shape(), opt)
	if err != nil {
		panic(err)
	}
	t := o.Tape()
	n, C := xin.Value.Shape()[0], w.Value.Shape()[0]
	R, P := geom.Rows(), geom.Cols()
	np := o.Value.Len()
	aux := o.Aux.Data()
	stats := aux[:2*C]
	gram := aux[2*C+2*np:]
	G, S := gram[:2*R*R], gram[2*R*R:]
	training := int(o.AuxF)&1 == 1

	j := newConvJob(t, &geom, 1, n, C, a[7], true)
	j.saved = x.Aux.Data()
	j.g, j.py, j.pidx, j.pxsel = o.Grad.Data(), o.Value.Data(), aux[2*C:2*C+np], aux[2*C+np:2*C+2*np]
	j.fab = stats // the means
	j.dwPart = t.Empty(j.threads, 2*C*(R+2)).Data()
	j.pscratch = t.Empty(j.threads, P*R).Data()
	j.phase = convPush
	kernel.ParallelN(j.threads, j.threads, 1, j.fn)

	var gamma, dgamma, dbeta []float32
	if len(in) == 3 {
		gamma = in[1].Value.Data()
		if in[1].RequiresGrad() || in[2].RequiresGrad() {
			dgamma, dbeta = in[1].GradBuf().Data(), in[2].GradBuf().Data()
		}
	}
	var dw, db, bv []float32
	if w.RequiresGrad() {
		dw = w.GradBuf().Data()
	}
	if len(cin) > 2 {
		bv = cin[2].Value.Data()
		if cin[2].RequiresGrad() {
			db = cin[2].GradBuf().Data()
		}
	}
	wv := w.Value.Contiguous().Data()
	M := float64(n * P)
	for c := 0; c < C; c++ {
		var sg, sgx float64 // Σg·m, Σg·m·(x−μ)
		for tid := 0; tid < j.threads; tid++ {
			pc := j.dwPart[tid*2*C*(R+2)+2*c*(R+2):]
			sg += getF64(pc, R)
			sgx += getF64(pc, R+1)
		}
		mean, invStd := float64(stats[c]), float64(stats[C+c])
		if dgamma != nil {
			dgamma[c] += float32(sgx * invStd)
			dbeta[c] += float32(sg)
		}
		// dy = k·g·m at the argmaxes − β'·y + c' (see bnJob.backward).
		k := invStd
		if gamma != nil {
			k *= float64(gamma[c])
		}
		var al, be float64
		if training {
			al, be = k*sg/M, k*sgx*invStd*invStd/M
		}
		cc := be*mean - al
		bias := 0.0
		if bv != nil {
			bias = float64(bv[c])
		}
		wc := wv[c*R : (c+1)*R]
		if dw != nil {
			for r := 0; r < R; r++ {
				sp := 0.0
				for tid := 0; tid < j.threads; tid++ {
					sp += getF64(j.dwPart[tid*2*C*(R+2)+2*c*(R+2):], r)
				}
				wg := 0.0
				for r2 := 0; r2 < R; r2++ {
					wg += float64(wc[r2]) * getF64(G, r2*R+r)
				}
				sr := getF64(S, r)
				dw[c*R+r] += float32(k*sp - be*(wg+bias*sr) + cc*sr)
			}
		}
		if db != nil {
			ws := 0.0
			for r := 0; r < R; r++ {
				ws += float64(wc[r]) * getF64(S, r)
			}
			db[c] += float32(k*sg - be*(ws+M*bias) + cc*M)
		}
	}
	j.release()
}

// adoptFused is the BN's forward pass when its linked conv computed the output (see
// setupFused): update the running statistics and record the op.
func (bn *BatchNorm) adoptFused(t *ag.Tape, x *ag.Var, l *bnStatsLink, mom float64, n, s int) *ag.Var {
	y, aux := l.pooled, l.aux
	push := l.push
	l.out, l.pooled, l.aux = nil, nil, nil
	if bn.training {
		m := float64(n * s)
		rm, rv := bn.RunningMean.Data(), bn.RunningVar.Data()
		for c := range rm {
			mean, vr := l.mv[2*c], l.mv[2*c+1]
			rm[c] = float32((1-mom)*float64(rm[c]) + mom*mean)
			rv[c] = float32((1-mom)*float64(rv[c]) + mom*vr*m/(m-1))
		}
	}
	var v *ag.Var
	if bn.Weight != nil {
		v = t.Op(y, bnBackward, x, bn.Weight.Var, bn.Bias.Var)
	} else {
		v = t.Op(y, bnBackward, x)
	}
	v.Aux = aux
	v.AuxF = 2 + 4
	if bn.training {
		v.AuxF++
	}
	if push {
		v.AuxF += 8
	}
	return v
}

// pixelMajor stores the R×P matrix cols (rows ld apart) pixel by pixel into dst (P×R),
// for kernel.PoolRows.
func pixelMajor(dst, cols []float32, R, ld, P int) {
	if R == 9 { // a 3×3 window over one channel: unrolled, bounds checks hoisted
		r0, r1, r2 := cols[:P], cols[ld:ld+P], cols[2*ld:2*ld+P]
		r3, r4, r5 := cols[3*ld:3*ld+P], cols[4*ld:4*ld+P], cols[5*ld:5*ld+P]
		r6, r7, r8 := cols[6*ld:6*ld+P], cols[7*ld:7*ld+P], cols[8*ld:8*ld+P]
		dst = dst[:9*P]
		for p := range r0 {
			d := dst[9*p : 9*p+9 : 9*p+9]
			d[0], d[1], d[2] = r0[p], r1[p], r2[p]
			d[3], d[4], d[5] = r3[p], r4[p], r5[p]
			d[6], d[7], d[8] = r6[p], r7[p], r8[p]
		}
		return
	}
	for r := 0; r < R; r++ {
		row := cols[r*ld : r*ld+P]
		for p, v := range row {
			dst[p*R+r] = v
		}
	}
}
