// Package schedule holds learning-rate schedules as pure functions of the step, their
// composition (warmup, sequences, chains, per-epoch stepping) and the stateful
// ReduceOnPlateau, plus a one-line SPEC grammar (see Parse).
//
// A Schedule maps a step t (t = 0 is the first step, before any decay) and a parameter
// group's base learning rate to the learning rate for that step. Schedules that PyTorch
// defines relative to the group's initial lr (StepLR, ExponentialLR, ...) scale base;
// absolute values (eta_min, CyclicLR's max_lr, OneCycleLR's max_lr) stay absolute. The
// value at step t equals what torch.optim.lr_scheduler (1.13) leaves in the optimizer after
// t calls to scheduler.step(), using PyTorch's closed forms. A negative step is treated as 0.
//
// Whether t counts batches or epochs is up to the caller; each type's doc comment states
// how it is meant to be stepped, and PerEpoch turns an epoch-indexed schedule into a
// batch-indexed one. All math is float64.
package schedule

import (
	"fmt"
	"math"
	"sort"
)

// Schedule gives the learning rate at step t for a parameter group whose base (initial)
// learning rate is base. Implementations are pure: the same (t, base) always gives the
// same value, except ReduceOnPlateau, whose state changes only through Observe.
type Schedule interface {
	LR(step int, base float64) float64
}

// MomentumCycler is implemented by schedules that also cycle momentum (OneCycle, Cyclic)
// and by the composites that wrap them. ok is false when the schedule leaves momentum alone
// at this step. For Adam-style optimizers the value is beta1, as in PyTorch.
type MomentumCycler interface {
	Momentum(step int) (m float64, ok bool)
}

// MomentumAt returns s's momentum at step, if s cycles momentum.
func MomentumAt(s Schedule, step int) (float64, bool) {
	if m, ok := s.(MomentumCycler); ok {
		return m.Momentum(step)
	}
	return 0, false
}

func clampStep(t int) int {
	if t < 0 {
		return 0
	}
	return t
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func rangeErr(what string, v any, allowed string) error {
	return fmt.Errorf("schedule: %s %v out of range %s", what, v, allowed)
}

// ---------------------------------------------------------------------------------------

// ConstantConfig configures Constant. Zero value: factor 1 forever (the base lr).
type ConstantConfig struct {
	// Factor multiplies base while t < Steps (or always when Steps is 0). 0 means 1.
	// Range (0, +inf).
	Factor float64
	// Steps is how long Factor applies (PyTorch ConstantLR's total_iters); 0 means forever.
	Steps int
}

// Constant is lr = base*Factor for t < Steps, base afterwards (PyTorch ConstantLR; with the
// zero config it is simply the base lr). Stepped per batch or per epoch alike.
type Constant struct{ c ConstantConfig }

// NewConstant validates c (Factor finite and > 0, Steps >= 0).
func NewConstant(c ConstantConfig) (*Constant, error) {
	if c.Factor == 0 {
		c.Factor = 1
	}
	if !(c.Factor > 0) || !finite(c.Factor) {
		return nil, rangeErr("constant factor", c.Factor, "(0, +inf)")
	}
	if c.Steps < 0 {
		return nil, rangeErr("constant steps", c.Steps, "[0, +inf)")
	}
	return &Constant{c}, nil
}

// Config returns the resolved configuration.
func (s *Constant) Config() ConstantConfig { return s.c }

// LR implements Schedule.
func (s *Constant) LR(t int, base float64) float64 {
	if s.c.Steps > 0 && clampStep(t) >= s.c.Steps {
		return base
	}
	return base * s.c.Factor
}

// ---------------------------------------------------------------------------------------

// StepConfig configures Step.
type StepConfig struct {
	Size  int     // decay period, required, >= 1
	Gamma float64 // multiplicative decay, 0 means 0.1 (PyTorch); range (0, +inf)
}

// Step is step decay, lr = base * Gamma^floor(t/Size) (PyTorch StepLR). Usually stepped
// per epoch.
type Step struct{ c StepConfig }

// NewStep validates c.
func NewStep(c StepConfig) (*Step, error) {
	if c.Gamma == 0 {
		c.Gamma = 0.1
	}
	if c.Size < 1 {
		return nil, rangeErr("step size", c.Size, "[1, +inf)")
	}
	if !(c.Gamma > 0) || !finite(c.Gamma) {
		return nil, rangeErr("step gamma", c.Gamma, "(0, +inf)")
	}
	return &Step{c}, nil
}

// Config returns the resolved configuration.
func (s *Step) Config() StepConfig { return s.c }

// LR implements Schedule.
func (s *Step) LR(t int, base float64) float64 {
	return base * math.Pow(s.c.Gamma, float64(clampStep(t)/s.c.Size))
}

// ---------------------------------------------------------------------------------------

// MultiStepConfig configures MultiStep.
type MultiStepConfig struct {
	Milestones []int   // strictly increasing, >= 1, at least one
	Gamma      float64 // 0 means 0.1 (PyTorch); range (0, +inf)
}

// MultiStep is lr = base * Gamma^(number of milestones <= t) (PyTorch MultiStepLR, which
// also accepts repeated milestones; temper requires them strictly increasing). Usually
// stepped per epoch.
type MultiStep struct{ c MultiStepConfig }

// NewMultiStep validates c.
func NewMultiStep(c MultiStepConfig) (*MultiStep, error) {
	if c.Gamma == 0 {
		c.Gamma = 0.1
	}
	if len(c.Milestones) == 0 {
		return nil, fmt.Errorf("schedule: multistep needs at least one milestone")
	}
	for i, m := range c.Milestones {
		if m < 1 {
			return nil, rangeErr("multistep milestone", m, "[1, +inf)")
		}
		if i > 0 && m <= c.Milestones[i-1] {
			return nil, fmt.Errorf("schedule: multistep milestones %v not strictly increasing", c.Milestones)
		}
	}
	if !(c.Gamma > 0) || !finite(c.Gamma) {
		return nil, rangeErr("multistep gamma", c.Gamma, "(0, +inf)")
	}
	c.Milestones = append([]int(nil), c.Milestones...)
	return &MultiStep{c}, nil
}

// Config returns the resolved configuration.
func (s *MultiStep) Config() MultiStepConfig { return s.c }

// LR implements Schedule.
func (s *MultiStep) LR(t int, base float64) float64 {
	n := sort.SearchInts(s.c.Milestones, clampStep(t)+1) // count of milestones <= t
	return base * math.Pow(s.c.Gamma, float64(n))
}

// ---------------------------------------------------------------------------------------

// ExponentialConfig configures Exponential: give exactly one of Gamma and K.
type ExponentialConfig struct {
	Gamma float64 // lr = base*Gamma^t; range (0, +inf)
	K     float64 // lr = base*exp(-K*t); range [0, +inf)
}

// Exponential decay: lr = base*Gamma^t (PyTorch ExponentialLR), or equivalently
// lr = base*exp(-K*t) with Gamma = exp(-K) (the lecture's form). Usually stepped per epoch.
type Exponential struct{ c ExponentialConfig }

// NewExponential validates c.
func NewExponential(c ExponentialConfig) (*Exponential, error) {
	switch {
	case c.Gamma != 0 && c.K != 0:
		return nil, fmt.Errorf("schedule: exponential takes gamma %v or k %v, not both", c.Gamma, c.K)
	case c.Gamma == 0 && c.K == 0:
		return nil, fmt.Errorf("schedule: exponential needs gamma in (0, +inf) or k in (0, +inf)")
	case c.K != 0 && (!(c.K > 0) || !finite(c.K)):
		return nil, rangeErr("exponential k", c.K, "(0, +inf)")
	case c.K == 0 && (!(c.Gamma > 0) || !finite(c.Gamma)):
		return nil, rangeErr("exponential gamma", c.Gamma, "(0, +inf)")
	}
	return &Exponential{c}, nil
}

// Config returns the configuration.
func (s *Exponential) Config() ExponentialConfig { return s.c }

// LR implements Schedule.
func (s *Exponential) LR(t int, base float64) float64 {
	if s.c.K != 0 {
		return base * math.Exp(-s.c.K*float64(clampStep(t)))
	}
	return base * math.Pow(s.c.Gamma, float64(clampStep(t)))
}

// ---------------------------------------------------------------------------------------

// InverseTimeConfig configures InverseTime.
type InverseTimeConfig struct {
	K float64 // decay rate, required, range (0, +inf)
}

// InverseTime is 1/t decay, lr = base / (1 + K*t) (CS231n's "1/t decay"; PyTorch has no
// built-in equivalent, it is LambdaLR(lambda t: 1/(1+k*t))). Usually stepped per epoch.
type InverseTime struct{ c InverseTimeConfig }

// NewInverseTime validates c.
func NewInverseTime(c InverseTimeConfig) (*InverseTime, error) {
	if !(c.K > 0) || !finite(c.K) {
		return nil, rangeErr("invtime k", c.K, "(0, +inf)")
	}
	return &InverseTime{c}, nil
}

// Config returns the configuration.
func (s *InverseTime) Config() InverseTimeConfig { return s.c }

// LR implements Schedule.
func (s *InverseTime) LR(t int, base float64) float64 {
	return base / (1 + s.c.K*float64(clampStep(t)))
}

// ---------------------------------------------------------------------------------------

// PolynomialConfig configures Polynomial.
type PolynomialConfig struct {
	Total int     // decay length, required, >= 1
	Power float64 // 0 means 1 (linear, PyTorch's default); range (0, +inf)
	Min   float64 // absolute end lr, default 0; range [0, +inf)
}

// Polynomial decay: lr = Min + (base-Min) * (1 - min(t, Total)/Total)^Power. With Min = 0
// it is PyTorch PolynomialLR (total_iters, power); Min is TensorFlow's end_learning_rate.
// Usually stepped per batch.
type Polynomial struct{ c PolynomialConfig }

// NewPolynomial validates c.
func NewPolynomial(c PolynomialConfig) (*Polynomial, error) {
	if c.Power == 0 {
		c.Power = 1
	}
	if c.Total < 1 {
		return nil, rangeErr("poly total", c.Total, "[1, +inf)")
	}
	if !(c.Power > 0) || !finite(c.Power) {
		return nil, rangeErr("poly power", c.Power, "(0, +inf)")
	}
	if !(c.Min >= 0) || !finite(c.Min) {
		return nil, rangeErr("poly min", c.Min, "[0, +inf)")
	}
	return &Polynomial{c}, nil
}

// Config returns the resolved configuration.
func (s *Polynomial) Config() PolynomialConfig { return s.c }

// LR implements Schedule.
func (s *Polynomial) LR(t int, base float64) float64 {
	t = min(clampStep(t), s.c.Total)
	f := math.Pow(1-float64(t)/float64(s.c.Total), s.c.Power)
	return s.c.Min + (base-s.c.Min)*f
}

// ---------------------------------------------------------------------------------------

// CosineConfig configures Cosine.
type CosineConfig struct {
	TMax int     // half period, required, >= 1
	Min  float64 // eta_min, absolute, default 0; range [0, +inf)
}

// Cosine annealing (Loshchilov & Hutter 2017, without restarts; PyTorch CosineAnnealingLR):
// lr = Min + (base-Min) * (1 + cos(pi*t/TMax)) / 2 for t <= TMax, and Min after TMax.
// PyTorch keeps following the cosine past T_max (the lr rises again); temper holds Min,
// which is what a "decay to Min over TMax steps" user means. PyTorch's step() uses a
// recursive form that agrees with this closed form to ~1e-13 relative. Usually stepped per
// batch.
type Cosine struct{ c CosineConfig }

// NewCosine validates c.
func NewCosine(c CosineConfig) (*Cosine, error) {
	if c.TMax < 1 {
		return nil, rangeErr("cosine tmax", c.TMax, "[1, +inf)")
	}
	if !(c.Min >= 0) || !finite(c.Min) {
		return nil, rangeErr("cosine min", c.Min, "[0, +inf)")
	}
	return &Cosine{c}, nil
}

// Config returns the configuration.
func (s *Cosine) Config() CosineConfig { return s.c }

// LR implements Schedule.
func (s *Cosine) LR(t int, base float64) float64 {
	t = min(clampStep(t), s.c.TMax)
	return cosAnneal(base, s.c.Min, float64(t)/float64(s.c.TMax))
}

// cosAnneal goes from start (pct 0) to end (pct 1) along half a cosine.
func cosAnneal(start, end, pct float64) float64 {
	return end + (start-end)/2*(1+math.Cos(math.Pi*pct))
}

// ---------------------------------------------------------------------------------------

// CosineWarmRestartsConfig configures CosineWarmRestarts.
type CosineWarmRestartsConfig struct {
	T0    int     // length of the first cycle, required, >= 1
	TMult int     // cycle length multiplier, 0 means 1; range [1, +inf)
	Min   float64 // eta_min, absolute, default 0; range [0, +inf)
}

// CosineWarmRestarts is SGDR (Loshchilov & Hutter 2017; PyTorch
// CosineAnnealingWarmRestarts): cycle i lasts T_i = T0*TMult^i steps; within a cycle,
// lr = Min + (base-Min) * (1 + cos(pi*Tcur/T_i)) / 2 with Tcur the steps since the last
// restart, so each restart resets to base. Stepped per epoch in PyTorch's integer usage;
// step it per batch with T0 counted in batches to get the paper's within-epoch annealing.
type CosineWarmRestarts struct{ c CosineWarmRestartsConfig }

// NewCosineWarmRestarts validates c.
func NewCosineWarmRestarts(c CosineWarmRestartsConfig) (*CosineWarmRestarts, error) {
	if c.TMult == 0 {
		c.TMult = 1
	}
	if c.T0 < 1 {
		return nil, rangeErr("cosine-restarts t0", c.T0, "[1, +inf)")
	}
	if c.TMult < 1 {
		return nil, rangeErr("cosine-restarts tmult", c.TMult, "[1, +inf)")
	}
	if !(c.Min >= 0) || !finite(c.Min) {
		return nil, rangeErr("cosine-restarts min", c.Min, "[0, +inf)")
	}
	return &CosineWarmRestarts{c}, nil
}

// Config returns the resolved configuration.
func (s *CosineWarmRestarts) Config() CosineWarmRestartsConfig { return s.c }

// Cycle returns the index of the cycle containing step t, the steps since its start and
// its length.
func (s *CosineWarmRestarts) Cycle(t int) (cycle, tcur, length int) {
	t = clampStep(t)
	ti := s.c.T0
	if s.c.TMult == 1 {
		return t / ti, t % ti, ti
	}
	for t >= ti {
		t -= ti
		cycle++
		if ti > math.MaxInt/s.c.TMult {
			ti = math.MaxInt
		} else {
			ti *= s.c.TMult
		}
	}
	return cycle, t, ti
}

// LR implements Schedule.
func (s *CosineWarmRestarts) LR(t int, base float64) float64 {
	_, tcur, ti := s.Cycle(t)
	return cosAnneal(base, s.c.Min, float64(tcur)/float64(ti))
}
