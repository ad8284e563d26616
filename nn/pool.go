package nn

import (
	"fmt"
	"math"
	"sync"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/tensor"
)

// freeList recycles job structs. Unlike sync.Pool it is never emptied by the garbage
// collector and does not depend on the P a goroutine runs on, so a steady-state training
// step reliably allocates nothing.
type freeList[T any] struct {
	mu      sync.Mutex
	items   []*T
	newItem func() *T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.items); n > 0 {
		it := f.items[n-1]
		f.items = f.items[:n-1]
		f.mu.Unlock()
		return it
	}
	f.mu.Unlock()
	return f.newItem()
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	f.items = append(f.items, x)
	f.mu.Unlock()
}

// parJob carries the arguments of one parallel loop to a top-level worker function, so a
// steady-state step starts parallel regions without allocating closures.
type parJob struct {
	op         func(j *parJob, lo, hi int)
	geom       kernel.ConvGeom
	i          [4]int
	f          [2]float32
	a, b, c, d []float32
	e, h       []float32
	flag       bool
	fn         func(lo, hi int)
}

var parJobs = freeList[parJob]{newItem: func() *parJob {
	j := new(parJob)
	j.fn = func(lo, hi int) { j.op(j, lo, hi) }
	return j
}}

func getParJob(op func(j *parJob, lo, hi int)) *parJob {
	j := parJobs.get()
	fn := j.fn
	*j = parJob{op: op, fn: fn}
	return j
}

// runPar runs j.op over [0, n) in chunks of at least grain, on at most the tape's thread
// count (t.Threads()), and recycles j.
func runPar(t *ag.Tape, j *parJob, n, grain int) {
	kernel.ParallelN(t.Threads(), n, grain, j.fn)
	fn := j.fn
	*j = parJob{fn: fn}
	parJobs.put(j)
}

// planeGrain returns a parallel grain (planes per chunk) worth a parallel region.
func planeGrain(planeSize int) int { return max(1, 16384/max(planeSize, 1)) }

// PoolConfig configures MaxPool2D and AvgPool2D with square settings. Zero values are
// PyTorch's defaults: stride = kernel size, padding 0, dilation 1 (max pooling only).
// CeilMode is not supported (the output size always rounds down).
type PoolConfig struct {
	Stride, Padding, Dilation int
	// ExcludePadding makes average pooling divide by the number of in-image elements
	// (PyTorch's count_include_pad=False); by default padded zeros count.
	ExcludePadding bool
}

func poolGeom(kernelSize int, cfg PoolConfig, name string) (kernel.ConvGeom, error) {
	s, d := cfg.Stride, cfg.Dilation
	if s == 0 {
		s = kernelSize
	}
	if d == 0 {
		d = 1
	}
	switch {
	case kernelSize < 1:
		return kernel.ConvGeom{}, fmt.Errorf("nn: %s kernel size %d out of range [1, ∞)", name, kernelSize)
	case s < 1:
		return kernel.ConvGeom{}, fmt.Errorf("nn: %s stride %d out of range [1, ∞)", name, cfg.Stride)
	case d < 1:
		return kernel.ConvGeom{}, fmt.Errorf("nn: %s dilation %d out of range [1, ∞)", name, cfg.Dilation)
	case cfg.Padding < 0 || 2*cfg.Padding > kernelSize:
		return kernel.ConvGeom{}, fmt.Errorf("nn: %s padding %d out of range [0, %d] (at most half the kernel size)", name, cfg.Padding, kernelSize/2)
	}
	return kernel.ConvGeom{KH: kernelSize, KW: kernelSize, SH: s, SW: s, PH: cfg.Padding, PW: cfg.Padding, DH: d, DW: d}, nil
}

// windowGeom completes a pooling geometry for input x (N, C, H, W); C is set to 1 (one
// plane).
func windowGeom(op string, xs []int, g kernel.ConvGeom) kernel.ConvGeom {
	if len(xs) != 4 {
		panic(&tensor.ShapeError{Op: op, A: xs, Msg: "want input (N, C, H, W)"})
	}
	g.C, g.H, g.W = 1, xs[2], xs[3]
	if err := g.Init(); err != nil {
		panic(&tensor.ShapeError{Op: op, A: xs, Msg: err.Error()})
	}
	return g
}

// MaxPool2D takes the maximum over each window of each plane (PyTorch's nn.MaxPool2d with
// ceil_mode=False): y[n,c,i,j] = max_{p,q} x[n,c, i·s−pad+p·d, j·s−pad+q·d], padding
// never chosen (−∞). NaN propagates, as in PyTorch. The gradient flows to the (first)
// maximal element of each window.
type MaxPool2D struct {
	Kernel int
	geom   kernel.ConvGeom
}

// NewMaxPool2D returns a kernel×kernel max pooling layer.
func NewMaxPool2D(kernelSize int, cfg PoolConfig) (*MaxPool2D, error) {
	g, err := poolGeom(kernelSize, cfg, "max pool")
	if err != nil {
		return nil, err
	}
	return &MaxPool2D{Kernel: kernelSize, geom: g}, nil
}

// Forward pools x (N, C, H, W).
func (m *MaxPool2D) Forward(x *ag.Var) *ag.Var { return maxPool2d(x, m.geom) }

func maxPool2d(x *ag.Var, g0 kernel.ConvGeom) *ag.Var {
	t := ag.TapeOf(x)
	xs := x.Value.Shape()
	g := windowGeom("nn.MaxPool2D", xs, g0)
	planes := xs[0] * xs[1]
	y := t.Empty(xs[0], xs[1], g.OH, g.OW)
	idx := t.Empty(xs[0], xs[1], g.OH, g.OW) // flat in-plane index of each maximum
	j := getParJob(maxPoolForward)
	j.geom, j.a, j.b, j.c = g, x.Value.Contiguous().Data(), y.Data(), idx.Data()
	runPar(t, j, planes, planeGrain(g.H*g.W))
	v := t.Op(y, maxPoolBackward, x)
	v.Aux = idx
	return v
}

func maxPoolForward(j *parJob, lo, hi int) {
	g := &j.geom
	H, W, OH, OW := g.H, g.W, g.OH, g.OW
	for p := lo; p < hi; p++ {
		x := j.a[p*H*W : (p+1)*H*W]
		y := j.b[p*OH*OW : (p+1)*OH*OW]
		idx := j.c[p*OH*OW : (p+1)*OH*OW]
		if g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1 {
			kernel.MaxPool2x2(y, idx, x, H, W)
			continue
		}
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox++ {
				best := float32(math.Inf(-1))
				bi := -1
				for ki := 0; ki < g.KH; ki++ {
					iy := oy*g.SH - g.PH + ki*g.DH
					if iy < 0 || iy >= H {
						continue
					}
					for kj := 0; kj < g.KW; kj++ {
						ix := ox*g.SW - g.PW + kj*g.DW
						if ix < 0 || ix >= W {
							continue
						}
						v := x[iy*W+ix]
						if bi < 0 || v > best || v != v {
							best, bi = v, iy*W+ix
						}
					}
				}
				y[oy*OW+ox] = best
				idx[oy*OW+ox] = float32(bi)
			}
		}
	}
}

func maxPoolBackward(o *ag.Var) {
	x := o.Inputs()[0]
	dx, fresh := x.GradForWrite()
	xs, ys := x.Value.Shape(), o.Value.Shape()
	j := getParJob(maxPoolBackwardPlanes)
	j.i = [4]int{xs[2] * xs[3], ys[2] * ys[3]}
	j.a, j.b, j.c, j.flag = dx.Data(), o.Grad.Data(), o.Aux.Data(), fresh
	runPar(o.Tape(), j, xs[0]*xs[1], planeGrain(xs[2]*xs[3]))
}

func maxPoolBackwardPlanes(j *parJob, lo, hi int) {
	in, out := j.i[0], j.i[1]
	for p := lo; p < hi; p++ {
		dx := j.a[p*in : (p+1)*in]
		if j.flag {
			clear(dx)
		}
		g := j.b[p*out : (p+1)*out]
		idx := j.c[p*out : (p+1)*out]
		for i, k := range idx {
			dx[int(k)] += g[i]
		}
	}
}

// AvgPool2D averages each window (PyTorch's nn.AvgPool2d with ceil_mode=False):
// y[n,c,i,j] = (1/D) Σ_{p,q} x[n,c, i·s−pad+p, j·s−pad+q] with padded zeros, where D is the
// window size (count_include_pad=True, the default) or, with ExcludePadding, the number
// of in-image elements. PyTorch's divisor_override and ceil_mode are not supported.
type AvgPool2D struct {
	Kernel         int
	ExcludePadding bool
	geom           kernel.ConvGeom
	aux            []int
}

// NewAvgPool2D returns a kernel×kernel average pooling layer. Dilation must be 0 or 1.
func NewAvgPool2D(kernelSize int, cfg PoolConfig) (*AvgPool2D, error) {
	if cfg.Dilation > 1 {
		return nil, fmt.Errorf("nn: avg pool dilation %d out of range [1, 1]", cfg.Dilation)
	}
	g, err := poolGeom(kernelSize, cfg, "avg pool")
	if err != nil {
		return nil, err
	}
	return &AvgPool2D{Kernel: kernelSize, ExcludePadding: cfg.ExcludePadding, geom: g, aux: []int{g.KH, g.SH, g.PH}}, nil
}

// Forward pools x (N, C, H, W).
func (m *AvgPool2D) Forward(x *ag.Var) *ag.Var {
	t := ag.TapeOf(x)
	xs := x.Value.Shape()
	g := windowGeom("nn.AvgPool2D", xs, m.geom)
	y := t.Empty(xs[0], xs[1], g.OH, g.OW)
	j := getParJob(avgPoolPlanes)
	j.geom, j.a, j.b, j.flag = g, x.Value.Contiguous().Data(), y.Data(), m.ExcludePadding
	runPar(t, j, xs[0]*xs[1], planeGrain(g.H*g.W))
	v := t.Op(y, avgPoolBackward, x)
	v.AuxF = 0
	if m.ExcludePadding {
		v.AuxF = 1
	}
	v.AuxI = m.aux
	return v
}

// avgWindow returns the window's in-image bounds and its divisor.
func avgWindow(g *kernel.ConvGeom, oy, ox int, exclude bool) (y0, y1, x0, x1 int, div float32) {
	y0, x0 = oy*g.SH-g.PH, ox*g.SW-g.PW
	y1, x1 = min(y0+g.KH, g.H+g.PH), min(x0+g.KW, g.W+g.PW)
	n := (y1 - y0) * (x1 - x0)
	y0, x0 = max(y0, 0), max(x0, 0)
	y1, x1 = min(y1, g.H), min(x1, g.W)
	if exclude {
		n = (y1 - y0) * (x1 - x0)
	}
	return y0, y1, x0, x1, float32(n)
}

// avgPoolPlanes computes (backward=false) or back-propagates (j.i[0]==1) average pooling
// over planes [lo, hi). Forward: a=x, b=y. Backward: a=dx, b=g (dx already zeroed or
// accumulated into).
func avgPoolPlanes(j *parJob, lo, hi int) {
	g := &j.geom
	H, W, OH, OW := g.H, g.W, g.OH, g.OW
	back := j.i[0] == 1
	for p := lo; p < hi; p++ {
		x := j.a[p*H*W : (p+1)*H*W]
		y := j.b[p*OH*OW : (p+1)*OH*OW]
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox++ {
				y0, y1, x0, x1, div := avgWindow(g, oy, ox, j.flag)
				if back {
					gv := y[oy*OW+ox] / div
					for iy := y0; iy < y1; iy++ {
						r := x[iy*W+x0 : iy*W+x1]
						for k := range r {
							r[k] += gv
						}
					}
					continue
				}
				s := float32(0)
				for iy := y0; iy < y1; iy++ {
					for _, v := range x[iy*W+x0 : iy*W+x1] {
						s += v
					}
				}
				y[oy*OW+ox] = s / div
			}
		}
	}
}

func avgPoolBackward(o *ag.Var) {
	x := o.Inputs()[0]
	dx, fresh := x.GradForWrite()
	if fresh {
		clear(dx.Data())
	}
	xs := x.Value.Shape()
	a := o.AuxI
	g := windowGeom("nn.AvgPool2D", xs, kernel.ConvGeom{KH: a[0], KW: a[0], SH: a[1], SW: a[1], PH: a[2], PW: a[2], DH: 1, DW: 1})
	j := getParJob(avgPoolPlanes)
	j.geom, j.a, j.b, j.flag = g, dx.Data(), o.Grad.Data(), o.AuxF == 1
	j.i[0] = 1
	runPar(o.Tape(), j, xs[0]*xs[1], planeGrain(g.H*g.W))
}

// AdaptiveAvgPool2D averages x (N, C, H, W) into a fixed (OutH, OutW) grid (PyTorch's
// nn.AdaptiveAvgPool2d): output cell (i, j) averages rows ⌊i·H/OutH⌋ … ⌈(i+1)·H/OutH⌉−1
// and the like columns. (1, 1) is global average pooling.
type AdaptiveAvgPool2D struct {
	OutH, OutW int
}

// NewAdaptiveAvgPool2D returns an adaptive average pooling layer to outH×outW.
func NewAdaptiveAvgPool2D(outH, outW int) (*AdaptiveAvgPool2D, error) {
	if outH < 1 || outW < 1 {
		return nil, fmt.Errorf("nn: adaptive pool output size %dx%d out of range [1, ∞)", outH, outW)
	}
	return &AdaptiveAvgPool2D{OutH: outH, OutW: outW}, nil
}

// Forward pools x (N, C, H, W) to (N, C, OutH, OutW).
func (m *AdaptiveAvgPool2D) Forward(x *ag.Var) *ag.Var {
	t := ag.TapeOf(x)
	xs := x.Value.Shape()
	if len(xs) != 4 {
		panic(&tensor.ShapeError{Op: "nn.AdaptiveAvgPool2D", A: xs, Msg: "want input (N, C, H, W)"})
	}
	y := t.Empty(xs[0], xs[1], m.OutH, m.OutW)
	j := getParJob(adaptivePlanes)
	j.i = [4]int{xs[2], xs[3], m.OutH, m.OutW}
	j.a, j.b = x.Value.Contiguous().Data(), y.Data()
	runPar(t, j, xs[0]*xs[1], planeGrain(xs[2]*xs[3]))
	return t.Op(y, adaptiveBackward, x)
}

func adaptivePlanes(j *parJob, lo, hi int) {
	H, W, OH, OW := j.i[0], j.i[1], j.i[2], j.i[3]
	for p := lo; p < hi; p++ {
		x := j.a[p*H*W : (p+1)*H*W]
		y := j.b[p*OH*OW : (p+1)*OH*OW]
		for oy := 0; oy < OH; oy++ {
			y0, y1 := oy*H/OH, ((oy+1)*H+OH-1)/OH
			for ox := 0; ox < OW; ox++ {
				x0, x1 := ox*W/OW, ((ox+1)*W+OW-1)/OW
				div := float32((y1 - y0) * (x1 - x0))
				if j.flag {
					gv := y[oy*OW+ox] / div
					for iy := y0; iy < y1; iy++ {
						r := x[iy*W+x0 : iy*W+x1]
						for k := range r {
							r[k] += gv
						}
					}
					continue
				}
				s := 0.0
				for iy := y0; iy < y1; iy++ {
					for _, v := range x[iy*W+x0 : iy*W+x1] {
						s += float64(v)
					}
				}
				y[oy*OW+ox] = float32(s / float64(div))
			}
		}
	}
}

func adaptiveBackward(o *ag.Var) {
	x := o.Inputs()[0]
	dx, fresh := x.GradForWrite()
	if fresh {
		clear(dx.Data())
	}
	xs, ys := x.Value.Shape(), o.Value.Shape()
	j := getParJob(adaptivePlanes)
	j.i = [4]int{xs[2], xs[3], ys[2], ys[3]}
	j.a, j.b, j.flag = dx.Data(), o.Grad.Data(), true
	runPar(o.Tape(), j, xs[0]*xs[1], planeGrain(xs[2]*xs[3]))
}
