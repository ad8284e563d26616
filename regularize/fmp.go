package regularize

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// FMPSequence selects how fractional max pooling draws its region boundaries.
type FMPSequence int

const (
	// PseudoRandom (the zero value) boundaries are a_i = ⌈α(i+u)⌉ − ⌈αu⌉ for one uniform
	// u ∈ [0, 1) per axis: nearly evenly spaced, shifted at random.
	PseudoRandom FMPSequence = iota
	// Random boundaries have increments ⌊α⌋ and ⌊α⌋+1 (1 and 2 for α ∈ (1, 2)) in a
	// uniformly shuffled order, with the right number of each.
	Random
)

// FMPRegions selects the shape of the pooling regions built from a boundary sequence.
type FMPRegions int

const (
	// Overlapping (the zero value) regions are [a_i, a_{i+1}] (both ends included, so
	// adjacent regions share a row), with a_0 = 0 and a_out = in − 1: sizes 2 or 3 for
	// α ∈ (1, 2). Graham found overlapping regions work better.
	Overlapping FMPRegions = iota
	// Disjoint regions are [a_i, a_{i+1}) with a_0 = 0 and a_out = in: sizes 1 or 2,
	// tiling the input.
	Disjoint
	// Windows is PyTorch's variant (torch.nn.FractionalMaxPool2d): fixed Kernel×Kernel
	// windows starting at s_i = ⌊(i+u)·α⌋ − ⌊u·α⌋ with α = (in − k)/(out − 1), the last at
	// in − k, computed in float32 exactly as ATen does, so it reproduces PyTorch's output
	// given the same samples (see FractionalMaxPool2DSamples).
	Windows
)

// FractionalMaxPool2DConfig configures fractional max pooling. Give the output size
// (OutH, OutW) or Ratio. Zero values: pseudo-random sequences, overlapping regions, one
// u per (sample, plane), kernel 2 for Windows.
type FractionalMaxPool2DConfig struct {
	// OutH, OutW fix the output size; when zero the size is ⌊in·Ratio⌋ (PyTorch's
	// output_ratio; Graham's α = in/out = 1/Ratio, e.g. Ratio = 1/√2).
	OutH, OutW int
	// Ratio in (0, 1] is used when OutH and OutW are zero.
	Ratio    float64
	Sequence FMPSequence
	Regions  FMPRegions
	// Kernel is the window size of Windows regions; 0 means 2.
	Kernel int
	// PerBatch draws one sequence pair for the whole batch instead of one per
	// (sample, plane) (the paper draws one per pooling layer and forward pass).
	PerBatch bool
}

func (c *FractionalMaxPool2DConfig) validate() error {
	switch {
	case c.OutH < 0 || c.OutW < 0:
		return fmt.Errorf("regularize: fractional max pool output size %dx%d out of range [1, ∞)", c.OutH, c.OutW)
	case (c.OutH == 0) != (c.OutW == 0):
		return fmt.Errorf("regularize: fractional max pool output size %dx%d: give both or neither", c.OutH, c.OutW)
	case c.OutH == 0 && !(c.Ratio > 0 && c.Ratio <= 1):
		return fmt.Errorf("regularize: fractional max pool ratio %v out of range (0, 1] (or give an output size)", c.Ratio)
	case c.Sequence != PseudoRandom && c.Sequence != Random:
		return fmt.Errorf("regularize: fractional max pool sequence %d out of range (want PseudoRandom or Random)", int(c.Sequence))
	case c.Regions < Overlapping || c.Regions > Windows:
		return fmt.Errorf("regularize: fractional max pool regions %d out of range (want Overlapping, Disjoint or Windows)", int(c.Regions))
	case c.Kernel < 0:
		return fmt.Errorf("regularize: fractional max pool kernel %d out of range [1, ∞)", c.Kernel)
	}
	if c.Kernel == 0 {
		c.Kernel = 2
	}
	return nil
}

// outSize returns the output size of an axis of length in.
func (c *FractionalMaxPool2DConfig) outSize(in int, fixed int) int {
	if fixed > 0 {
		return fixed
	}
	return int(float64(in) * c.Ratio)
}

// feasible reports whether an axis in → out is possible for the config's regions.
func (c *FractionalMaxPool2DConfig) feasible(in, out int) bool {
	if out < 1 {
		return false
	}
	switch c.Regions {
	case Overlapping:
		return out <= in-1 || (in == 1 && out == 1)
	case Disjoint:
		return out <= in
	}
	return out+c.Kernel-1 <= in
}

// FractionalMaxPool2D is fractional max pooling (Graham 2014, "Fractional Max-Pooling",
// arXiv:1412.6071) over (N, C, H, W) input: output cell (i, j) of each plane is the
// maximum over rows region_i × columns region_j, where the regions come from random
// boundary sequences (FMPSequence, FMPRegions) so the size reduction α = in/out may be any
// real ≥ 1 (Graham uses α = √2: twice as many pooling layers as 2×2 pooling, each losing
// less spatial information). Sequences are drawn from Rand at every forward pass, in
// training and in evaluation alike (as PyTorch does; Graham averages the predictions of
// several test passes — run the model repeatedly to do so). Ties go to the first maximum
// in row-major order; NaN propagates. Gradient: the upstream gradient flows to each
// region's argmax (accumulated where overlapping regions share it).
//
// Sequences in 0-based form: Overlapping has a_0 = 0, a_out = in − 1 and regions
// [a_i, a_{i+1}] (Graham's 1-based a_0 = 1, a_out = N_in); Disjoint has a_out = in and
// regions [a_i, a_{i+1}), so they tile the input. PyTorch implements only the pseudo-random
// Windows variant; temper offers all six combinations.
type FractionalMaxPool2D struct {
	Config FractionalMaxPool2DConfig
	Rand   *rng.Stream

	scratch []int
}

// NewFractionalMaxPool2D validates cfg and returns the layer drawing from r.
func NewFractionalMaxPool2D(cfg FractionalMaxPool2DConfig, r *rng.Stream) (*FractionalMaxPool2D, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("regularize: fractional max pooling needs a random stream")
	}
	return &FractionalMaxPool2D{Config: cfg, Rand: r}, nil
}

// RandomStreams implements nn.RandomStreamer.
func (m *FractionalMaxPool2D) RandomStreams() []*rng.Stream { return []*rng.Stream{m.Rand} }

// Forward pools x (N, C, H, W).
func (m *FractionalMaxPool2D) Forward(x *ag.Var) *ag.Var {
	return fmp(x, &m.Config, nil, m.Rand, &m.scratch)
}

// FractionalMaxPool2DOp is the functional form: it validates cfg (panicking on an
// invalid one) and pools x drawing sequences from r.
func FractionalMaxPool2DOp(x *ag.Var, cfg FractionalMaxPool2DConfig, r *rng.Stream) *ag.Var {
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	var scratch []int
	return fmp(x, &cfg, nil, r, &scratch)
}

// FractionalMaxPool2DSamples pools x with pseudo-random sequences from the given samples,
// laid out like PyTorch's _random_samples (N, C, 2): for plane p, samples[2p] is u for the
// width and samples[2p+1] for the height (with PerBatch only the first pair is used). With
// Regions Windows this reproduces torch.nn.functional.fractional_max_pool2d exactly.
func FractionalMaxPool2DSamples(x *ag.Var, cfg FractionalMaxPool2DConfig, samples []float32) *ag.Var {
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	if cfg.Sequence != PseudoRandom {
		panic(fmt.Errorf("regularize: fractional max pool samples need PseudoRandom sequences"))
	}
	var scratch []int
	return fmp(x, &cfg, samples, nil, &scratch)
}

// FMPBoundaries returns the boundary sequence of one axis (in → out) as used by
// FractionalMaxPool2D: out+1 values for Overlapping and Disjoint regions, out window starts
// for Windows. u is the pseudo-random shift in [0, 1); r is used (only) by Random.
func FMPBoundaries(seq FMPSequence, regions FMPRegions, in, out, kernel int, u float64, r *rng.Stream) ([]int, error) {
	cfg := FractionalMaxPool2DConfig{OutH: out, OutW: out, Sequence: seq, Regions: regions, Kernel: kernel}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if !cfg.feasible(in, out) {
		return nil, fmt.Errorf("regularize: fractional max pool cannot map %d to %d with %v regions", in, out, regions)
	}
	dst := make([]int, out+1)
	boundaries(dst, &cfg, in, out, u, r)
	if regions == Windows {
		dst = dst[:out]
	}
	return dst, nil
}

// boundaries fills dst (len >= out+1) with the sequence of one axis.
func boundaries(dst []int, c *FractionalMaxPool2DConfig, in, out int, u float64, r *rng.Stream) {
	if c.Regions == Windows {
		windowStarts(dst[:out], c.Sequence, in, out, c.Kernel, float32(u), r)
		return
	}
	L := in - 1
	if c.Regions == Disjoint || (in == 1 && out == 1) {
		L = in
	}
	if in == 1 && out == 1 && c.Regions == Overlapping {
		dst[0], dst[1] = 0, 0
		return
	}
	if c.Sequence == Random {
		shuffledIncrements(dst[:out+1], L, out, r)
		return
	}
	alpha := float64(L) / float64(out)
	base := math.Ceil(alpha * u)
	for i := 0; i <= out; i++ {
		dst[i] = int(math.Ceil(alpha*(float64(i)+u)) - base)
	}
	dst[out] = L // exact despite rounding
}

// shuffledIncrements fills dst[0..k] with 0 and the partial sums of a random order of k
// increments ⌊L/k⌋ or ⌊L/k⌋+1 summing to L.
func shuffledIncrements(dst []int, L, k int, r *rng.Stream) {
	lo := L / k
	big := L - lo*k
	inc := dst[1:]
	for i := range inc {
		inc[i] = lo
		if i < big {
			inc[i] = lo + 1
		}
	}
	for i := len(inc) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		inc[i], inc[j] = inc[j], inc[i]
	}
	dst[0] = 0
	for i := 1; i < len(dst); i++ {
		dst[i] += dst[i-1]
	}
}

// windowStarts is ATen's generate_intervals (FractionalMaxPool2d.cpp), in float32.
func windowStarts(dst []int, seq FMPSequence, in, out, k int, u float32, r *rng.Stream) {
	if seq == Random {
		if out == 1 {
			dst[0] = in - k
			return
		}
		tmp := dst[:out]
		shuffledIncrements(tmp, in-k, out-1, r)
		return
	}
	if out > 1 {
		alpha := float32(in-k) / float32(out-1)
		for i := 0; i < out-1; i++ {
			dst[i] = int((float32(i)+u)*alpha) - int(u*alpha)
		}
	}
	dst[out-1] = in - k
}

// regionBounds returns the half-open range of output cell i.
func regionBounds(seq []int, i int, regions FMPRegions, k int) (lo, hi int) {
	switch regions {
	case Overlapping:
		return seq[i], seq[i+1] + 1
	case Disjoint:
		return seq[i], seq[i+1]
	}
	return seq[i], seq[i] + k
}

func int32View(t *tensor.Tensor) []int32 {
	d := t.Data()
	return unsafe.Slice((*int32)(unsafe.Pointer(&d[0])), len(d))
}

func fmp(x *ag.Var, c *FractionalMaxPool2DConfig, samples []float32, r *rng.Stream, scratch *[]int) *ag.Var {
	t := ag.TapeOf(x)
	xs := x.Value.Shape()
	if len(xs) != 4 {
		panic(&tensor.ShapeError{Op: "regularize.FractionalMaxPool2D", A: xs, Msg: "want (N, C, H, W)"})
	}
	n, ch, h, w := xs[0], xs[1], xs[2], xs[3]
	oh, ow := c.outSize(h, c.OutH), c.outSize(w, c.OutW)
	if !c.feasible(h, oh) || !c.feasible(w, ow) {
		panic(&tensor.ShapeError{Op: "regularize.FractionalMaxPool2D", A: xs, B: []int{oh, ow},
			Msg: fmt.Sprintf("output size infeasible for %v regions", c.Regions)})
	}
	planes := n * ch
	if samples != nil {
		need := 2 * planes
		if c.PerBatch {
			need = 2
		}
		if len(samples) < need {
			panic(&tensor.ShapeError{Op: "regularize.FractionalMaxPool2D", A: xs, B: []int{len(samples)}, Msg: "want 2 samples per plane"})
		}
	}
	if cap(*scratch) < oh+ow+2 {
		*scratch = make([]int, oh+ow+2)
	}
	rows := (*scratch)[:oh+1]
	cols := (*scratch)[oh+1 : oh+ow+2]
	y := t.Empty(n, ch, oh, ow)
	idxT := t.Empty(n, ch, oh, ow)
	idx := int32View(idxT)
	yd, xd := y.Data(), x.Value.Contiguous().Data()
	for p := 0; p < planes; p++ {
		if p == 0 || !c.PerBatch {
			var uw, uh float64
			switch {
			case samples != nil:
				uw, uh = float64(samples[2*p]), float64(samples[2*p+1])
				if c.PerBatch {
					uw, uh = float64(samples[0]), float64(samples[1])
				}
			case c.Sequence == PseudoRandom:
				uw, uh = r.Float64(), r.Float64()
			}
			if c.Regions == Windows && samples == nil {
				// ATen draws its samples as float32.
				uw, uh = float64(float32(uw)), float64(float32(uh))
			}
			boundaries(cols, c, w, ow, uw, r)
			boundaries(rows, c, h, oh, uh, r)
		}
		xp := xd[p*h*w : (p+1)*h*w]
		for i := 0; i < oh; i++ {
			r0, r1 := regionBounds(rows, i, c.Regions, c.Kernel)
			for j := 0; j < ow; j++ {
				c0, c1 := regionBounds(cols, j, c.Regions, c.Kernel)
				best := r0*w + c0
				bv := xp[best]
				for yy := r0; yy < r1; yy++ {
					for xx := c0; xx < c1; xx++ {
						v := xp[yy*w+xx]
						if v > bv || (v != v && bv == bv) {
							bv, best = v, yy*w+xx
						}
					}
				}
				o := (p*oh+i)*ow + j
				yd[o] = bv
				idx[o] = int32(best)
			}
		}
	}
	v := t.Op(y, fmpBackward, x)
	v.Aux = idxT
	return v
}

func fmpBackward(o *ag.Var) {
	x := o.Inputs()[0]
	xs := x.Value.Shape()
	hw := xs[2] * xs[3]
	ys := o.Value.Shape()
	ohw := ys[2] * ys[3]
	idx := int32View(o.Aux)
	g := o.Grad.Data()
	dst, fresh := x.GradForWrite()
	d := dst.Data()
	if fresh {
		clear(d)
	}
	for p := 0; p < xs[0]*xs[1]; p++ {
		dp := d[p*hw : (p+1)*hw]
		for k := p * ohw; k < (p+1)*ohw; k++ {
			dp[idx[k]] += g[k]
		}
	}
}

// ReplaceMaxPool swaps every *nn.MaxPool2D in the Sequentials of m — and every 2×2 pool
// fused into a batch norm (an nn.FusedMaxPool2D placeholder after a BatchNorm with
// FuseMaxPool2, as the cnn model builds them; the fusion is switched off) — for a
// FractionalMaxPool2D with cfg (Ratio 0.5 if neither a size nor a ratio is given, which
// keeps the shapes of 2×2 pooling, so the layers after it are unchanged), each with its
// own stream split from r. It returns the number replaced. This is the CLI's
// --pool fractional.
func ReplaceMaxPool(m nn.Module, cfg FractionalMaxPool2DConfig, r *rng.Stream) (int, error) {
	if cfg.OutH == 0 && cfg.OutW == 0 && cfg.Ratio == 0 {
		cfg.Ratio = 0.5
	}
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	n := 0
	visitSequentials(m, func(s *nn.Sequential) {
		for i, l := range s.Layers {
			switch l.(type) {
			case *nn.MaxPool2D:
			case nn.FusedMaxPool2D:
				found := false
				for j := i - 1; j >= 0 && !found; j-- {
					if bn, ok := s.Layers[j].(*nn.BatchNorm); ok && bn.FuseMaxPool2 {
						bn.FuseMaxPool2 = false
						found = true
					}
				}
				if !found {
					continue
				}
			default:
				continue
			}
			s.Layers[i] = &FractionalMaxPool2D{Config: cfg, Rand: r.Split()}
			n++
		}
	})
	return n, nil
}
