// Package optim holds first-order optimizers over parameter tensors.
//
// An optimizer updates Params in place from their gradients. Params are organized in
// Groups, each with its own learning rate and weight decay (PyTorch's param_groups), which
// is what discriminative fine-tuning needs. Learning-rate schedules set Group.LR between
// steps; optimizers never own a schedule.
//
// Optimizers: SGD (momentum, dampening, Nesterov, weight decay), AdaGrad, RMSProp (momentum,
// centered), Adam (AMSGrad) and AdamW, built with NewSGD, NewAdaGrad, NewRMSProp, NewAdam
// and NewAdamW from config structs, or by name with New ("sgd", "momentum", "nesterov",
// "adagrad", "rmsprop", "adam", "adamw") from a Config. Every config value is used as
// given — zero weight decay is no decay, β1 = 0 is β1 = 0 — and PyTorch's defaults come
// from DefaultSGDConfig, DefaultAdaGradConfig, DefaultRMSPropConfig, DefaultAdamConfig,
// DefaultAdamWConfig and DefaultConfig(name):
//
//	cfg := optim.DefaultAdamWConfig() // LR 0.001, betas 0.9/0.999, eps 1e-8, decay 0.01
//	cfg.LR = 3e-4
//	opt, err := optim.NewAdamW([]*optim.Group{{Params: params}}, cfg)
//
// Out-of-range hyperparameters are errors naming the field and the allowed range
// ("optim: beta1 1 out of range [0, 1)").
//
// Every optimizer reproduces the update of the PyTorch 1.13 optimizer of the same name
// (its default single-tensor path) in float32 storage with float64 scalars; golden tests
// compare 20 steps of each variant with PyTorch (fixtures from tools/golden/optim.py).
//
// State (momentum buffers, moment estimates, per-parameter step counts) is allocated for
// every parameter at construction and keyed "<param name>.<buffer>" with PyTorch's buffer
// names (momentum_buffer, sum, square_avg, grad_avg, exp_avg, exp_avg_sq, max_exp_avg_sq)
// plus "<param name>.step", a 1-element float32 tensor as in PyTorch. State returns the
// same live tensors for the whole run; saving them and restoring with LoadState resumes a
// run bit-identically. After the first step, Step allocates nothing.
//
// Speed: each parameter is updated in one fused pass (AVX2 on amd64, bit-identical to the
// portable Go loops; TEMPER_KERNEL=generic forces the Go loops), and parameters larger
// than 64K elements are split over the kernel worker pool, on up to the optimizer's thread
// count (Threaded.SetThreads; by default the process default of internal/kernel). Every
// update is elementwise, so results do not depend on the count.
package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/tensor"
)

// Param is one trainable tensor and its gradient (same shape, contiguous). Name is the
// parameter's dotted name (e.g. "1.weight"); it keys the optimizer state in checkpoints.
// A Param whose Grad is nil is skipped by Step, like a PyTorch parameter whose grad is None.
type Param struct {
	Name  string
	Value *tensor.Tensor
	Grad  *tensor.Tensor
}

// Group is a set of parameters sharing hyperparameters.
type Group struct {
	Params []Param
	// LR is the current learning rate; a schedule rewrites it before each step.
	// Zero at construction means the optimizer config's LR; zero in both is an error.
	LR float64
	// BaseLR is the group's initial learning rate, the base a schedule scales from.
	// Zero means "LR at construction".
	BaseLR float64
	// WeightDecay is the coupled L2 coefficient added to the gradient (PyTorch's
	// weight_decay); AdamW interprets it as decoupled decay. Zero at construction means
	// the optimizer config's WeightDecay, unless NoWeightDecay is set.
	WeightDecay float64
	// NoWeightDecay pins this group's weight decay at zero, overriding the optimizer
	// config's (e.g. biases and normalization parameters under AdamW).
	NoWeightDecay bool
}

// Optimizer applies one update per Step from the current gradients.
type Optimizer interface {
	// Step updates every parameter from its gradient.
	Step()
	// Groups returns the parameter groups; callers may change LR and WeightDecay.
	Groups() []*Group
	// State returns the optimizer's state buffers keyed by "<param name>.<buffer>" (and
	// scalar state as 1-element tensors), for checkpoints. The tensors are live views.
	State() map[string]*tensor.Tensor
	// LoadState restores buffers saved by State, with an error for a missing or
	// mis-shaped entry.
	LoadState(map[string]*tensor.Tensor) error
}

// Threaded is implemented by every optimizer of this package: the number of threads, the
// caller included, a Step may use (a trainer passes its own count, as it does to its
// ag.Tape, so that two trainers in one process do not share a global setting).
type Threaded interface {
	// SetThreads sets the count (n < 1: the process default of internal/kernel,
	// GOMAXPROCS at start) and returns the previous setting (0 for the default).
	SetThreads(n int) int
	// Threads returns the count Step uses.
	Threads() int
}

// slot holds one parameter's state: a per-parameter step count (a 1-element tensor, as in
// PyTorch, where it is a float32 0-d tensor) and the optimizer's buffers, in the order of
// the optimizer's buffer names.
type slot struct {
	step []float32
	bufs [][]float32
}

// base is the bookkeeping shared by all optimizers: groups, per-parameter slots and the
// state map.
type base struct {
	groups []*Group
	slots  [][]slot // [group][param]
	state  map[string]*tensor.Tensor

	// cur is the parameter being updated; run(lo, hi) updates elements [lo, hi) of it.
	// run is bound once at construction so that Step does not allocate.
	cur chunk
	run func(lo, hi int)

	threads int // see Threaded; 0 is the process default
}

// SetThreads implements Threaded.
func (b *base) SetThreads(n int) int {
	prev := b.threads
	b.threads = max(n, 0)
	return prev
}

// Threads implements Threaded.
func (b *base) Threads() int { return kernel.ResolveThreads(b.threads) }

// chunk is a parameter, its gradient and up to three state buffers of the same length.
type chunk struct{ p, g, b0, b1, b2 []float32 }

// sub returns elements [lo, hi) of every non-nil slice.
func (c *chunk) sub(lo, hi int) chunk {
	r := chunk{p: c.p[lo:hi], g: c.g[lo:hi]}
	if c.b0 != nil {
		r.b0 = c.b0[lo:hi]
	}
	if c.b1 != nil {
		r.b1 = c.b1[lo:hi]
	}
	if c.b2 != nil {
		r.b2 = c.b2[lo:hi]
	}
	return r
}

// parallelGrain is the smallest number of elements worth handing to another thread.
const parallelGrain = 1 << 15

// launch updates one parameter with b.run, split over the kernel worker pool (up to
// b.Threads() threads) for large parameters. Every update is elementwise, so the result
// does not depend on the split.
func (b *base) launch(p, g []float32, bufs [][]float32) {
	b.cur = chunk{p: p, g: g}
	if len(bufs) > 0 {
		b.cur.b0 = bufs[0]
	}
	if len(bufs) > 1 {
		b.cur.b1 = bufs[1]
	}
	if len(bufs) > 2 {
		b.cur.b2 = bufs[2]
	}
	if len(p) < 2*parallelGrain {
		b.run(0, len(p))
	} else {
		kernel.ParallelN(b.threads, len(p), parallelGrain, b.run)
	}
	b.cur = chunk{}
}

// rangeError formats the package's out-of-range error.
func rangeError(what string, v float64, rng string) error {
	return fmt.Errorf("optim: %s %v out of range %s", what, v, rng)
}

// checkOpen validates lo < v < hi; hi may be +Inf.
func checkOpen(what string, v, lo, hi float64) error {
	if v > lo && v < hi {
		return nil
	}
	hs := fmt.Sprint(hi)
	if math.IsInf(hi, 1) {
		hs = "inf"
	}
	return rangeError(what, v, fmt.Sprintf("(%v, %s)", lo, hs))
}

// checkRange validates lo <= v (< or <=) hi; hi may be +Inf.
func checkRange(what string, v, lo, hi float64, hiIncl bool) error {
	ok := v >= lo && (v < hi || (hiIncl && v == hi))
	if ok && !math.IsNaN(v) {
		return nil
	}
	hb := ")"
	if hiIncl {
		hb = "]"
	}
	hs := fmt.Sprint(hi)
	if math.IsInf(hi, 1) {
		hs = "inf"
	}
	return rangeError(what, v, fmt.Sprintf("[%v, %s%s", lo, hs, hb))
}

// newBase validates the groups, fills LR, BaseLR and WeightDecay defaults, and allocates
// each parameter's step counter and the named buffers, each filled with init.
func newBase(opt string, groups []*Group, lr, wd float64, bufNames []string, init float32) (base, error) {
	b := base{groups: groups, state: map[string]*tensor.Tensor{}}
	if len(groups) == 0 {
		return b, fmt.Errorf("optim: %s: no parameter groups", opt)
	}
	seen := map[*tensor.Tensor]bool{}
	b.slots = make([][]slot, len(groups))
	for gi, g := range groups {
		if g == nil {
			return b, fmt.Errorf("optim: %s: group %d is nil", opt, gi)
		}
		if g.LR == 0 {
			if lr == 0 {
				return b, fmt.Errorf("optim: %s: group %d has no learning rate (set Group.LR or the config's LR)", opt, gi)
			}
			g.LR = lr
		}
		if err := checkRange(fmt.Sprintf("group %d learning rate", gi), g.LR, 0, math.Inf(1), false); err != nil {
			return b, err
		}
		if g.BaseLR == 0 {
			g.BaseLR = g.LR
		}
		if g.NoWeightDecay {
			g.WeightDecay = 0
		} else if g.WeightDecay == 0 {
			g.WeightDecay = wd
		}
		if err := checkRange(fmt.Sprintf("group %d weight decay", gi), g.WeightDecay, 0, math.Inf(1), false); err != nil {
			return b, err
		}
		b.slots[gi] = make([]slot, len(g.Params))
		for pi, p := range g.Params {
			if p.Value == nil {
				return b, fmt.Errorf("optim: %s: parameter %q (group %d, index %d) has no value", opt, p.Name, gi, pi)
			}
			if !p.Value.IsContiguous() {
				return b, fmt.Errorf("optim: %s: parameter %q is not contiguous", opt, p.Name)
			}
			if p.Grad != nil && p.Grad.Len() != p.Value.Len() {
				return b, fmt.Errorf("optim: %s: parameter %q has %d elements but its gradient %d", opt, p.Name, p.Value.Len(), p.Grad.Len())
			}
			if seen[p.Value] {
				return b, fmt.Errorf("optim: %s: parameter %q appears twice", opt, p.Name)
			}
			seen[p.Value] = true
			name := p.Name
			if name == "" {
				name = fmt.Sprintf("group%d.param%d", gi, pi)
			}
			if _, dup := b.state[name+".step"]; dup {
				return b, fmt.Errorf("optim: %s: duplicate parameter name %q", opt, name)
			}
			st := tensor.New(1)
			b.state[name+".step"] = st
			s := slot{step: st.Data(), bufs: make([][]float32, len(bufNames))}
			for k, bn := range bufNames {
				t := tensor.New(p.Value.Shape()...)
				if init != 0 {
					t.Fill(init)
				}
				b.state[name+"."+bn] = t
				s.bufs[k] = t.Data()
			}
			b.slots[gi][pi] = s
		}
	}
	return b, nil
}

// Groups returns the parameter groups.
func (b *base) Groups() []*Group { return b.groups }

// State returns the live state tensors keyed "<param name>.<buffer>" and "<param name>.step".
func (b *base) State() map[string]*tensor.Tensor { return b.state }

// LoadState copies saved state into the optimizer's buffers. Every key of State must be
// present with the same number of elements; nothing is modified when an entry is missing
// or mis-shaped. Extra keys are ignored.
func (b *base) LoadState(m map[string]*tensor.Tensor) error {
	keys := make([]string, 0, len(b.state))
	for k := range b.state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var missing []string
	for _, k := range keys {
		src, ok := m[k]
		if !ok || src == nil {
			missing = append(missing, k)
			continue
		}
		if src.Len() != b.state[k].Len() {
			return fmt.Errorf("optim: state %q has shape %v, want %v", k, src.Shape(), b.state[k].Shape())
		}
	}
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], "...")
		}
		return fmt.Errorf("optim: state missing %d entries: %s", len(missing), strings.Join(missing, ", "))
	}
	for _, k := range keys {
		dst := b.state[k].Data()
		src := m[k]
		if src.IsContiguous() {
			copy(dst, src.Data())
		} else {
			copy(dst, src.ToSlice())
		}
	}
	return nil
}

// grads returns the value and gradient slices of p, with equal lengths, or ok=false when
// p has no gradient. A length mismatch is a programming error and panics.
func grads(p Param) (v, g []float32, ok bool) {
	if p.Grad == nil {
		return nil, nil, false
	}
	v, g = p.Value.Data(), p.Grad.Data()
	if len(v) != len(g) {
		panic(&tensor.ShapeError{Op: "optim.Step", A: p.Value.Shape(), B: p.Grad.Shape(), Msg: "parameter " + p.Name + " and its gradient differ"})
	}
	return v, g, true
}

// sqrt32 is the correctly rounded float32 square root (SQRTSS on amd64).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
