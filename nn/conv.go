package nn

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// ConvOptions are the window settings of Conv2DOp, as [height, width] pairs. Zero values
// are PyTorch's defaults: stride 1, padding 0, dilation 1, one group.
type ConvOptions struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
	Groups   int
}

func (o ConvOptions) normalized() ConvOptions {
	for i := 0; i < 2; i++ {
		if o.Stride[i] == 0 {
			o.Stride[i] = 1
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return o
}

// Conv2D is a 2-d convolution over NCHW input (PyTorch's nn.Conv2d; strictly a
// cross-correlation, as in every framework):
//
//	y[n, o, i, j] = b[o] + Σ_{c ∈ group(o), p, q} W[o, c, p, q] · x[n, c, i·s_h − p_h + p·d_h, j·s_w − p_w + q·d_w]
//
// with zero padding, W shaped (out, in/groups, kh, kw). Output size per axis:
// ⌊(in + 2·pad − dil·(k−1) − 1)/stride⌋ + 1. Init: W by Init (default PyTorch's
// KaimingUniform(√5), i.e. U(±1/√fan_in)), b ~ U(±1/√fan_in), fan_in = in/groups·kh·kw.
// Implemented as Winograd F(2×2, 3×3) for 3×3 stride-1 layers, else im2col + sgemm (see
// Conv2DOp); a first layer (input without gradient,
// one group, C·KH·KW <= 16) linked to a BatchNorm with fused ReLU and max pooling also
// computes the BN's output and pushes the BN's gradient into W and b directly
// (conv_fused.go). Differences from PyTorch: only zero padding (no padding_mode), no
// padding="same" strings.
type Conv2D struct {
	In, Out int
	Kernel  [2]int
	Options ConvOptions
	Weight  *Param
	Bias    *Param // nil without bias
	aux     []int
	link    *bnStatsLink
}

// bnStatsLink connects a Conv2D to the BatchNorm that consumes its output (see
// fuseConvBN): in training the conv sums each channel's output while it is still in
// cache, and the BN uses those sums instead of making its own pass over the tensor.
type bnStatsLink struct {
	bn *BatchNorm
	// Set by the conv's forward pass, consumed (and cleared) by the BN's.
	out     *ag.Var   // the conv output the sums belong to
	part    []float32 // per thread, per channel: Σ(y−b) and Σ(y−b)² as float64 pairs
	threads int
	shift   []float32 // b (nil: no bias)
	dead    bool      // the BN stopped consuming the sums
	// Set by a fused forward pass (conv_fused.go), consumed by the BN's: its pooled
	// output, its aux tensor, the batch mean and variance per channel, and whether the
	// BN's backward pass pushes its gradient into the conv's parameters.
	pooled, aux *tensor.Tensor
	mv          []float64
	push        bool
}

// fuseConvBN makes conv compute bn's batch statistics in its output pass (training
// only; the results are the same up to rounding). bn must be applied to conv's output.
func fuseConvBN(conv *Conv2D, bn *BatchNorm) {
	l := &bnStatsLink{bn: bn}
	conv.link, bn.link = l, l
}

// Conv2DConfig configures NewConv2D with square settings. Zero values are PyTorch's
// defaults: stride 1, padding 0, dilation 1, groups 1, bias on, default init. For
// rectangular windows set the Conv2D's Options after construction or use Conv2DOp.
type Conv2DConfig struct {
	Stride, Padding, Dilation, Groups int
	NoBias                            bool
	Init                              Init
}

// NewConv2D returns a kernel×kernel convolution from in to out channels initialized from
// r. It returns an error naming any setting out of range.
func NewConv2D(in, out, kernel int, r *rng.Stream, cfg Conv2DConfig) (*Conv2D, error) {
	return newConv2D(in, out, [2]int{kernel, kernel}, r, cfg)
}

func newConv2D(in, out int, k [2]int, r *rng.Stream, cfg Conv2DConfig) (*Conv2D, error) {
	g := cfg.Groups
	if g == 0 {
		g = 1
	}
	switch {
	case in < 1:
		return nil, fmt.Errorf("nn: conv input channels %d out of range [1, ∞)", in)
	case out < 1:
		return nil, fmt.Errorf("nn: conv output channels %d out of range [1, ∞)", out)
	case k[0] < 1 || k[1] < 1:
		return nil, fmt.Errorf("nn: conv kernel size %v out of range [1, ∞)", k)
	case cfg.Stride < 0:
		return nil, fmt.Errorf("nn: conv stride %d out of range [1, ∞)", cfg.Stride)
	case cfg.Padding < 0:
		return nil, fmt.Errorf("nn: conv padding %d out of range [0, ∞)", cfg.Padding)
	case cfg.Dilation < 0:
		return nil, fmt.Errorf("nn: conv dilation %d out of range [1, ∞)", cfg.Dilation)
	case g < 1 || in%g != 0 || out%g != 0:
		return nil, fmt.Errorf("nn: conv groups %d must be >= 1 and divide in (%d) and out (%d) channels", cfg.Groups, in, out)
	}
	init := cfg.Init
	if init == nil {
		init = DefaultInit
	}
	w := tensor.New(out, in/g, k[0], k[1])
	init(w, r)
	c := &Conv2D{In: in, Out: out, Kernel: k, Weight: newParam("weight", w, false), aux: make([]int, 9),
		Options: ConvOptions{Stride: [2]int{cfg.Stride, cfg.Stride}, Padding: [2]int{cfg.Padding, cfg.Padding},
			Dilation: [2]int{cfg.Dilation, cfg.Dilation}, Groups: g}.normalized()}
	if !cfg.NoBias {
		b := tensor.New(out)
		fanIn, _ := Fans(w.Shape())
		bound := 1 / math.Sqrt(float64(fanIn))
		r.Uniform(b.Data(), -bound, bound)
		c.Bias = newParam("bias", b, true)
	}
	return c, nil
}

// OwnParams implements ParamOwner.
func (c *Conv2D) OwnParams() []*Param {
	if c.Bias == nil {
		return []*Param{c.Weight}
	}
	return []*Param{c.Weight, c.Bias}
}

// Forward convolves x (N, In, H, W).
func (c *Conv2D) Forward(x *ag.Var) *ag.Var {
	var b *ag.Var
	if c.Bias != nil {
		b = c.Bias.Var
	}
	return conv2d(x, c.Weight.Var, b, c.Options, c.aux, c.link)
}

// Conv2DOp is the fused convolution op y = conv(x, W) + b (b may be nil) for x (N, C, H, W),
// W (O, C/groups, KH, KW), b (O). See Conv2D for the math.
//
// A 3×3 convolution with stride 1, no dilation, one group and more than one input
// channel uses Winograd's F(2×2, 3×3) instead (conv_winograd.go: 2.25x fewer
// multiplications, no im2col or col2im; the same results up to rounding). Otherwise:
//
// Forward: each thread takes a contiguous share of the minibatch and, a few images at a
// time (about 1024 output pixels), unrolls their windows side by side into a column
// matrix (im2col, (C·KH·KW) × (n·OH·OW)) and multiplies it by W in one sgemm per group;
// the result is scattered into NCHW with the bias added while it is still in cache.
// Backward: dW += G·colsᵀ, db += Σ G, dx = col2im(Wᵀ·G), with the same blocks. When W needs
// a gradient (training) the forward pass keeps the column matrices (N·C·KH·KW·OH·OW
// floats, 29 MB for the cnn model's second layer at batch 128) so the backward pass does
// not redo im2col; in evaluation only per-thread scratch is used. Per-thread partial dW
// and db are summed in thread order, so results are deterministic for a fixed thread
// count. No transpose is materialized: sgemm packs transposed operands.
func Conv2DOp(x, w, b *ag.Var, opt ConvOptions) *ag.Var {
	return conv2d(x, w, b, opt, make([]int, 9), nil)
}

// convGeometry checks shapes and returns the per-image geometry (C = all input channels).
func convGeometry(op string, xs, ws []int, opt ConvOptions) (kernel.ConvGeom, error) {
	if len(xs) != 4 || len(ws) != 4 {
		return kernel.ConvGeom{}, &tensor.ShapeError{Op: op, A: xs, B: ws, Msg: "want x (N, C, H, W) and weight (O, C/groups, KH, KW)"}
	}
	g := opt.Groups
	if g < 1 || xs[1]%g != 0 || ws[0]%g != 0 || ws[1]*g != xs[1] {
		return kernel.ConvGeom{}, &tensor.ShapeError{Op: op, A: xs, B: ws, Msg: fmt.Sprintf("channels do not match with %d groups", g)}
	}
	geom := kernel.ConvGeom{C: xs[1], H: xs[2], W: xs[3], KH: ws[2], KW: ws[3],
		SH: opt.Stride[0], SW: opt.Stride[1], PH: opt.Padding[0], PW: opt.Padding[1], DH: opt.Dilation[0], DW: opt.Dilation[1]}
	if err := geom.Init(); err != nil {
		return geom, &tensor.ShapeError{Op: op, A: xs, B: ws, Msg: err.Error()}
	}
	return geom, nil
}

func conv2d(x, w, b *ag.Var, opt ConvOptions, aux []int, link *bnStatsLink) *ag.Var {
	t := ag.TapeOf(x, w)
	opt = opt.normalized()
	xs, ws := x.Value.Shape(), w.Value.Shape()
	geom, err := convGeometry("nn.Conv2D", xs, ws, opt)
	if err != nil {
		panic(err)
	}
	if b != nil {
		if bs := b.Value.Shape(); len(bs) != 1 || bs[0] != ws[0] {
			panic(&tensor.ShapeError{Op: "nn.Conv2D", A: ws, B: bs, Msg: "bias must be (out)"})
		}
	}
	n, out := xs[0], ws[0]
	t.AddFLOPs(2 * int64(n) * int64(out) * int64(geom.OH*geom.OW) * int64(ws[1]*ws[2]*ws[3]))
	y := t.Empty(n, out, geom.OH, geom.OW)
	// Keep the column matrices for the weight gradient when one will be computed
	// (training): the backward pass then needs no second im2col.
	noGrad := t.SetNoGrad(true)
	t.SetNoGrad(noGrad)
	if winogradOK(&geom, opt.Groups) {
		return winoForward(t, x, w, b, y, &geom, opt, aux, link, !noGrad && w.RequiresGrad())
	}
	var saved *tensor.Tensor
	if !noGrad && w.RequiresGrad() {
		saved = t.Empty(n * geom.Rows() * geom.Cols())
	}
	j := newConvJob(t, &geom, opt.Groups, n, out, t.Threads(), saved != nil)
	j.x, j.w, j.y = x.Value.Contiguous().Data(), w.Value.Contiguous().Data(), y.Data()
	if saved != nil {
		j.saved = saved.Data()
	}
	if b != nil {
		j.b = b.Value.Data()
	}
	fused := false
	if link != nil {
		link.begin()
		// The fused pass gets its batch statistics from Gram data it keeps only with the
		// saved columns: a training-mode pass without gradients (BN statistics
		// refresh) takes the unfused path.
		if link.fusedOK(x, opt, &geom, n, out) && (saved != nil || !link.bn.training) {
			fused = true
			j.setupFused(t, link, saved != nil)
		} else {
			j.stats = link.statsBuffers(t, j.threads, out, j.b)
		}
	}
	if fused {
		if j.gram != nil {
			j.phase = convGram
			kernel.ParallelN(j.threads, j.threads, 1, j.fn)
		}
		j.fusedStats(link)
	}
	j.phase = convForward
	kernel.ParallelN(j.threads, j.threads, 1, j.fn)
	threads := j.threads
	j.release()
	v := recordConv(t, y, x, w, b, opt, aux, threads, 0, saved)
	if link != nil && (fused || link.bn.training && !link.dead) {
		link.out = v
	}
	return v
}

// recordConv records the conv op y on the tape with what its backward pass needs: the
// options, the thread count of an im2col pass (whose column blocks it must match), the
// path (0 im2col, 1 Winograd) in aux, and the saved columns or V.
func recordConv(t *ag.Tape, y *tensor.Tensor, x, w, b *ag.Var, opt ConvOptions, aux []int, threads, path int, saved *tensor.Tensor) *ag.Var {
	aux[0], aux[1], aux[2], aux[3], aux[4], aux[5], aux[6] = opt.Stride[0], opt.Stride[1], opt.Padding[0], opt.Padding[1], opt.Dilation[0], opt.Dilation[1], opt.Groups
	aux[7], aux[8] = threads, path
	var v *ag.Var
	if b != nil {
		v = t.Op(y, conv2dBackward, x, w, b)
	} else {
		v = t.Op(y, conv2dBackward, x, w)
	}
	v.AuxI = aux
	v.Aux = saved
	return v
}

func conv2dBackward(o *ag.Var) {
	in := o.Inputs()
	x, w := in[0], in[1]
	a := o.AuxI
	opt := ConvOptions{Stride: [2]int{a[0], a[1]}, Padding: [2]int{a[2], a[3]}, Dilation: [2]int{a[4], a[5]}, Groups: a[6]}
	geom, err := convGeometry("nn.Conv2D", x.Value.Shape(), w.Value.Shape(), opt)
	if err != nil {
		panic(err)
	}
	if a[8] == 1 {
		winoBackward(o, &geom)
		return
	}
	t := o.Tape()
	n, out := x.Value.Shape()[0], w.Value.Shape()[0]
	j := newConvJob(t, &geom, opt.Groups, n, out, a[7], o.Aux != nil)
	j.x, j.w, j.g = x.Value.Contiguous().Data(), w.Value.Contiguous().Data(), o.Grad.Data()
	if o.Aux != nil {
		j.saved = o.Aux.Data()
	}
	j.needW = w.RequiresGrad()
	j.needB = len(in) > 2 && in[2].RequiresGrad()
	if x.RequiresGrad() {
		dx, fresh := x.GradForWrite()
		j.dx, j.dxFresh = dx.Data(), fresh
	}
	kw := geom.Rows() / opt.Groups * out // elements of W
	if j.needW {
		j.dwPart = t.Empty(j.threads, kw).Data()
	}
	if j.needB {
		j.dbPart = t.Empty(j.threads, 2*out).Data() // float64 sums, two float32 slots each
	}
	j.phase = convBackward
	kernel.ParallelN(j.threads, j.threads, 1, j.fn)
	if j.needW {
		dw := w.GradBuf().Data()
		for i := 0; i < j.threads; i++ {
			kernel.Axpy(1, j.dwPart[i*kw:(i+1)*kw], dw)
		}
	}
	if j.needB {
		addBiasPartials(in[2].GradBuf().Data(), j.dbPart, j.threads)
	}
	j.release()
}

// addBiasPartials adds the parts' per-channel float64 sums (parts of 2·len(db) float32
// slots each, see getF64) into db, in part order.
func addBiasPartials(db, partials []float32, parts int) {
	out := len(db)
	for c := 0; c < out; c++ {
		s := 0.0
		for i := 0; i < parts; i++ {
			s += getF64(partials[i*2*out:], c)
		}
		db[c] += float32(s)
	}
}

// begin starts a forward pass of the linked conv: if the BN did not consume the previous
// pass's sums, it is no longer applied to this conv's output (e.g. removed from the
// model), so they stop being computed.
func (l *bnStatsLink) begin() {
	if l.out != nil {
		l.dead = true
	}
	l.out, l.pooled, l.aux = nil, nil, nil
}

// statsBuffers returns the buffers (parts × 4·out float32 slots) in which the conv's
// forward pass accumulates the BN's batch sums, and records them in l; nil if the BN is
// not training or no longer consumes them. shift is the conv's bias (nil without).
func (l *bnStatsLink) statsBuffers(t *ag.Tape, parts, out int, shift []float32) []float32 {
	if !l.bn.training || l.dead {
		return nil
	}
	l.part = t.Empty(parts, 4*out).Data()
	l.threads, l.shift = parts, shift
	return l.part
}

// getF64 / addF64 keep float64 accumulators in pairs of float32 slots of an arena buffer.
func getF64(s []float32, i int) float64 {
	return math.Float64frombits(uint64(math.Float32bits(s[2*i])) | uint64(math.Float32bits(s[2*i+1]))<<32)
}

func setF64(s []float32, i int, v float64) {
	u := math.Float64bits(v)
	s[2*i] = math.Float32frombits(uint32(u))
	s[2*i+1] = math.Float32frombits(uint32(u >> 32))
}

const (
	convForward = iota
	convBackward
	convGram // fused first pass: im2col and Gram data (conv_fused.go)
	convPush // fused backward: the sparse part of the pushed-through dW
)

// convDotRows is the largest number of weight rows per filter (C/g·KH·KW) for which the
// weight gradient is computed by dot products instead of sgemm.
const convDotRows = 16

// convTargetCols is the number of columns (images × output pixels) unrolled at a time per
// thread: wide enough for an efficient sgemm, small enough to stay in L2/L3.
const convTargetCols = 1024

// convJob is the state of one parallel conv phase. Thread i processes images
// [i·N/T, (i+1)·N/T) in blocks of nb images, with its own scratch buffers.
type convJob struct {
	geom           kernel.ConvGeom
	groups         int
	n, out         int
	threads, nb    int // the batch split (threads parts) and images per block
	kthreads       int // the tape's thread count, for the products inside a part
	phase          int
	x, w, b, y, g  []float32
	saved          []float32 // all images' column matrices (training), else nil
	stats          []float32 // per-thread channel sums for a linked BN (see bnStatsLink)
	dx             []float32
	dxFresh        bool
	needW, needB   bool
	dwPart, dbPart []float32
	// per-thread scratch: cols (K × nb·P) and a (O × nb·P) buffer for the gathered
	// output or gradient.
	cols, obuf []float32
	colsLen    int
	obufLen    int
	// Fused with the linked BN (conv_fused.go): pooled output, argmaxes and values
	// there, per-thread scratch (backward), the BN's affine map (scale, shift per channel; the
	// means in the backward pass), per-thread Gram data, and whether the columns are
	// already in saved.
	py, pidx, pxsel []float32
	pscratch        []float32
	fab, gram       []float32
	colsReady       bool
	fn              func(lo, hi int)
}

var convJobs = freeList[convJob]{newItem: func() *convJob {
	j := new(convJob)
	j.fn = j.run
	return j
}}

// newConvJob prepares a conv pass with the given thread count (the split of the batch,
// which must be the same in the forward and backward passes when columns are saved); the
// products inside each part run on up to the tape's count (t.Threads()).
// With saved, the column matrices live in j.saved (block of images s0.. at s0·K·P) and no
// per-thread column scratch is needed.
func newConvJob(t *ag.Tape, geom *kernel.ConvGeom, groups, n, out, threads int, saved bool) *convJob {
	j := convJobs.get()
	fn := j.fn
	*j = convJob{geom: *geom, groups: groups, n: n, out: out, fn: fn, kthreads: t.Threads()}
	j.threads = max(1, min(threads, n))
	P := geom.Cols()
	per := (n + j.threads - 1) / j.threads
	j.nb = max(1, min(per, convTargetCols/P))
	j.colsLen = geom.Rows() * j.nb * P
	j.obufLen = out * j.nb * P
	if !saved {
		j.cols = t.Empty(j.threads, j.colsLen).Data()
	}
	if j.nb > 1 {
		j.obuf = t.Empty(j.threads, j.obufLen).Data()
	}
	return j
}

func (j *convJob) release() {
	fn := j.fn
	*j = convJob{fn: fn}
	convJobs.put(j)
}

func (j *convJob) run(lo, hi int) {
	for tid := lo; tid < hi; tid++ {
		n0, n1 := tid*j.n/j.threads, (tid+1)*j.n/j.threads
		var cols []float32
		if j.cols != nil {
			cols = j.cols[tid*j.colsLen : (tid+1)*j.colsLen]
		}
		var obuf []float32
		if j.obuf != nil {
			obuf = j.obuf[tid*j.obufLen : (tid+1)*j.obufLen]
		}
		switch j.phase {
		case convGram:
			j.gramPass(tid, n0, n1)
			continue
		case convPush:
			j.pushPass(tid, n0, n1)
			continue
		}
		if j.phase == convForward {
			var st []float32
			if j.stats != nil {
				st = j.stats[tid*4*j.out : (tid+1)*4*j.out]
				clear(st)
			}
			j.forward(n0, n1, cols, obuf, st)
		} else {
			j.backward(tid, n0, n1, cols, obuf)
		}
	}
}

// addRowStats adds Σv and Σv² of row (float32 lanes) to channel o's float64 sums in st.
func addRowStats(st []float32, o int, row []float32) {
	rs, rq := kernel.BNSums(row, 0)
	setF64(st, 2*o, getF64(st, 2*o)+float64(rs))
	setF64(st, 2*o+1, getF64(st, 2*o+1)+float64(rq))
}

func (j *convJob) forward(n0, n1 int, cols, obuf, st []float32) {
	g := &j.geom
	P := g.Cols()
	inSz := g.C * g.H * g.W
	outSz := j.out * P
	K := g.Rows() / j.groups // rows of W per group
	og := j.out / j.groups
	for s0 := n0; s0 < n1; s0 += j.nb {
		cnt := min(j.nb, n1-s0)
		ld := cnt * P
		if j.saved != nil {
			cols = j.saved[s0*g.Rows()*P : (s0+cnt)*g.Rows()*P]
		}
		for s := 0; s < cnt && !j.colsReady; s++ {
			kernel.Im2col(g, cols[s*P:], ld, j.x[(s0+s)*inSz:])
		}
		dst := obuf
		if cnt == 1 {
			dst = j.y[s0*outSz : (s0+1)*outSz]
		}
		for gi := 0; gi < j.groups; gi++ {
			kernel.SgemmN(j.kthreads, false, false, og, ld, K, 1, j.w[gi*og*K:], K, cols[gi*K*ld:], ld, 0, dst[gi*og*ld:], ld)
		}
		if cnt == 1 {
			if st != nil {
				for o := 0; o < j.out; o++ {
					addRowStats(st, o, dst[o*P:(o+1)*P])
				}
			}
			if j.b != nil {
				for o := 0; o < j.out; o++ {
					row := dst[o*P : (o+1)*P]
					kernel.BNAffine(row, row, 1, j.b[o], false)
				}
			}
			if j.py != nil {
				j.poolImage(s0)
			}
			continue
		}
		if st != nil {
			for o := 0; o < j.out; o++ {
				for q := 0; q < ld; q += 1024 {
					addRowStats(st, o, obuf[o*ld+q:o*ld+min(q+1024, ld)])
				}
			}
		}
		// Scatter (O, cnt·P) into NCHW, adding the bias.
		for s := 0; s < cnt; s++ {
			yn := j.y[(s0+s)*outSz : (s0+s+1)*outSz]
			for o := 0; o < j.out; o++ {
				src := obuf[o*ld+s*P : o*ld+s*P+P]
				d := yn[o*P : (o+1)*P]
				if j.b == nil {
					copy(d, src)
					continue
				}
				kernel.BNAffine(d, src, 1, j.b[o], false)
			}
			if j.py != nil {
				j.poolImage(s0 + s)
			}
		}
	}
}

func (j *convJob) backward(tid, n0, n1 int, cols, gbuf []float32) {
	g := &j.geom
	P := g.Cols()
	inSz := g.C * g.H * g.W
	outSz := j.out * P
	K := g.Rows() / j.groups
	og := j.out / j.groups
	var dw, db []float32
	if j.needW {
		dw = j.dwPart[tid*j.out*K : (tid+1)*j.out*K]
		clear(dw)
	}
	if j.needB {
		db = j.dbPart[tid*2*j.out : (tid+1)*2*j.out]
		clear(db)
	}
	for s0 := n0; s0 < n1; s0 += j.nb {
		cnt := min(j.nb, n1-s0)
		ld := cnt * P
		// G for these images as (O, cnt·P).
		gb := gbuf
		if cnt == 1 {
			gb = j.g[s0*outSz : (s0+1)*outSz]
		} else {
			for s := 0; s < cnt; s++ {
				gn := j.g[(s0+s)*outSz : (s0+s+1)*outSz]
				for o := 0; o < j.out; o++ {
					copy(gb[o*ld+s*P:o*ld+s*P+P], gn[o*P:(o+1)*P])
				}
			}
		}
		if j.needB {
			for o := 0; o < j.out; o++ {
				s := 0.0
				for q := 0; q < ld; q += 1024 {
					rs, _ := kernel.BNSums(gb[o*ld+q:o*ld+min(q+1024, ld)], 0)
					s += float64(rs)
				}
				setF64(db, o, getF64(db, o)+s)
			}
		}
		if j.saved != nil {
			cols = j.saved[s0*g.Rows()*P : (s0+cnt)*g.Rows()*P]
		}
		if j.needW {
			if j.saved == nil {
				for s := 0; s < cnt; s++ {
					kernel.Im2col(g, cols[s*P:], ld, j.x[(s0+s)*inSz:])
				}
			}
			for gi := 0; gi < j.groups; gi++ {
				if K <= convDotRows {
					// Few rows per filter (a first layer on a 1-channel image): K dot
					// products per output channel beat an sgemm whose operands would both
					// be packed transposed.
					for o := 0; o < og; o++ {
						grow := gb[(gi*og+o)*ld : (gi*og+o+1)*ld]
						dwo := dw[(gi*og+o)*K : (gi*og+o+1)*K]
						for k := range dwo {
							dwo[k] += kernel.Dot(grow, cols[(gi*K+k)*ld:(gi*K+k+1)*ld])
						}
					}
					continue
				}
				kernel.SgemmN(j.kthreads, false, true, og, K, ld, 1, gb[gi*og*ld:], ld, cols[gi*K*ld:], ld, 1, dw[gi*og*K:], K)
			}
		}
		if j.dx != nil {
			for gi := 0; gi < j.groups; gi++ {
				kernel.SgemmN(j.kthreads, true, false, K, ld, og, 1, j.w[gi*og*K:], K, gb[gi*og*ld:], ld, 0, cols[gi*K*ld:], ld)
			}
			for s := 0; s < cnt; s++ {
				dxn := j.dx[(s0+s)*inSz : (s0+s+1)*inSz]
				if j.dxFresh {
					clear(dxn)
				}
				kernel.Col2im(g, dxn, cols[s*P:], ld)
			}
		}
	}
}
