package schedule

import (
	"fmt"
	"math"
)

// CyclicMode selects Cyclic's amplitude policy.
type CyclicMode int

const (
	// Triangular keeps the amplitude constant (the zero value).
	Triangular CyclicMode = iota
	// Triangular2 halves the amplitude every cycle.
	Triangular2
	// ExpRange scales the amplitude by Gamma^t (t in steps, not cycles).
	ExpRange
)

func (m CyclicMode) String() string {
	switch m {
	case Triangular:
		return "triangular"
	case Triangular2:
		return "triangular2"
	case ExpRange:
		return "exp_range"
	}
	return fmt.Sprintf("CyclicMode(%d)", int(m))
}

// CyclicConfig configures Cyclic. Defaults are PyTorch CyclicLR's.
type CyclicConfig struct {
	// BaseLR is the lower bound, absolute; 0 means the group's base lr (PyTorch's base_lr
	// argument replaces the optimizer's lr; temper's default keeps per-group base lrs).
	BaseLR float64
	// MaxLR is the upper bound, absolute, required, >= the lower bound.
	MaxLR float64
	// StepSizeUp is the number of steps of the rising half; 0 means 2000.
	StepSizeUp int
	// StepSizeDown is the number of steps of the falling half; 0 means StepSizeUp.
	StepSizeDown int
	Mode         CyclicMode
	// Gamma is ExpRange's per-step amplitude decay; 0 means 1. Range (0, +inf).
	Gamma float64
	// NoMomentum turns momentum cycling off (PyTorch cycle_momentum=False).
	NoMomentum bool
	// BaseMomentum, MaxMomentum bound the momentum, which moves inversely to the lr;
	// 0 means 0.8 and 0.9. Range [0, 1).
	BaseMomentum, MaxMomentum float64
}

// Cyclic is Smith's cyclical learning rate (Smith 2017, "Cyclical Learning Rates for
// Training Neural Networks"; PyTorch CyclicLR). With S = up+down, cycle = floor(1 + t/S),
// x = 1 + t/S - cycle and r = up/S, the phase is s = x/r if x <= r else (x-1)/(r-1), and
// lr = lo + (MaxLR-lo) * s * scale, with scale 1 (Triangular), 1/2^(cycle-1) (Triangular2)
// or Gamma^t (ExpRange). Momentum, unless NoMomentum, is MaxMomentum -
// (MaxMomentum-BaseMomentum)*s*scale. Stepped per batch.
type Cyclic struct{ c CyclicConfig }

// NewCyclic validates c.
func NewCyclic(c CyclicConfig) (*Cyclic, error) {
	if c.StepSizeUp == 0 {
		c.StepSizeUp = 2000
	}
	if c.StepSizeDown == 0 {
		c.StepSizeDown = c.StepSizeUp
	}
	if c.Gamma == 0 {
		c.Gamma = 1
	}
	if c.BaseMomentum == 0 {
		c.BaseMomentum = 0.8
	}
	if c.MaxMomentum == 0 {
		c.MaxMomentum = 0.9
	}
	switch {
	case !(c.BaseLR >= 0) || !finite(c.BaseLR):
		return nil, rangeErr("cyclic base lr", c.BaseLR, "[0, +inf)")
	case !(c.MaxLR > 0) || !finite(c.MaxLR):
		return nil, rangeErr("cyclic max lr", c.MaxLR, "(0, +inf)")
	case c.BaseLR > c.MaxLR:
		return nil, rangeErr("cyclic base lr", c.BaseLR, fmt.Sprintf("[0, max lr %v]", c.MaxLR))
	case c.StepSizeUp < 1 || c.StepSizeUp > 1<<40:
		return nil, rangeErr("cyclic step size up", c.StepSizeUp, "[1, 2^40]")
	case c.StepSizeDown < 1 || c.StepSizeDown > 1<<40:
		return nil, rangeErr("cyclic step size down", c.StepSizeDown, "[1, 2^40]")
	case c.Mode < Triangular || c.Mode > ExpRange:
		return nil, rangeErr("cyclic mode", int(c.Mode), "{triangular, triangular2, exp_range}")
	case !(c.Gamma > 0) || !finite(c.Gamma):
		return nil, rangeErr("cyclic gamma", c.Gamma, "(0, +inf)")
	case !(c.BaseMomentum >= 0 && c.BaseMomentum < 1):
		return nil, rangeErr("cyclic base momentum", c.BaseMomentum, "[0, 1)")
	case !(c.MaxMomentum >= 0 && c.MaxMomentum < 1):
		return nil, rangeErr("cyclic max momentum", c.MaxMomentum, "[0, 1)")
	}
	return &Cyclic{c}, nil
}

// Config returns the resolved configuration.
func (s *Cyclic) Config() CyclicConfig { return s.c }

// phase returns s*scale of the doc comment.
func (s *Cyclic) phase(t int) float64 {
	t = clampStep(t)
	total := float64(s.c.StepSizeUp + s.c.StepSizeDown)
	ratio := float64(s.c.StepSizeUp) / total
	cycle := math.Floor(1 + float64(t)/total)
	x := 1 + float64(t)/total - cycle
	var f float64
	if x <= ratio {
		f = x / ratio
	} else {
		f = (x - 1) / (ratio - 1)
	}
	if f == 0 { // avoid 0*Inf when ExpRange's Gamma > 1 overflows
		return 0
	}
	switch s.c.Mode {
	case Triangular2:
		f *= 1 / math.Pow(2, cycle-1)
	case ExpRange:
		f *= math.Pow(s.c.Gamma, float64(t))
	}
	return f
}

// LR implements Schedule.
func (s *Cyclic) LR(t int, base float64) float64 {
	lo := s.c.BaseLR
	if lo == 0 {
		lo = base
	}
	return lo + (s.c.MaxLR-lo)*s.phase(t)
}

// Momentum implements MomentumCycler.
func (s *Cyclic) Momentum(t int) (float64, bool) {
	if s.c.NoMomentum {
		return 0, false
	}
	return s.c.MaxMomentum - (s.c.MaxMomentum-s.c.BaseMomentum)*s.phase(t), true
}

// ---------------------------------------------------------------------------------------

// OneCycleConfig configures OneCycle. Defaults are PyTorch OneCycleLR's.
type OneCycleConfig struct {
	// MaxLR is the peak lr, absolute; 0 means the group's base lr is the peak.
	MaxLR float64
	// Total is the number of steps of the whole cycle, required, >= 2.
	Total int
	// PctStart is the fraction of Total spent rising; 0 means 0.3. Range (0, 1).
	PctStart float64
	// Linear anneals linearly instead of along a cosine (PyTorch anneal_strategy='linear').
	Linear bool
	// DivFactor: initial lr = MaxLR/DivFactor; 0 means 25. Range [1, +inf).
	DivFactor float64
	// FinalDivFactor: final lr = initial lr/FinalDivFactor; 0 means 1e4. Range [1, +inf).
	FinalDivFactor float64
	// ThreePhase adds a symmetric fall back to the initial lr before the final annihilation
	// (fastai's original schedule).
	ThreePhase bool
	// NoMomentum turns momentum cycling off (PyTorch cycle_momentum=False).
	NoMomentum bool
	// BaseMomentum, MaxMomentum: momentum goes MaxMomentum -> BaseMomentum while the lr
	// rises and back while it falls; 0 means 0.85 and 0.95. Range [0, 1).
	BaseMomentum, MaxMomentum float64
}

// OneCycle is the 1cycle policy (Smith & Topin 2018, "Super-Convergence"; PyTorch
// OneCycleLR). With peak = MaxLR, init = peak/DivFactor and end = init/FinalDivFactor, the
// lr anneals init -> peak over steps [0, PctStart*Total-1] and peak -> end over
// [PctStart*Total-1, Total-1] (ThreePhase: init -> peak, peak -> init at
// 2*PctStart*Total-2, init -> end), each piece by anneal(a, b, p) = b + (a-b)(1+cos(pi p))/2
// with p the fraction of the piece done (or linearly). Momentum runs the opposite way
// between MaxMomentum and BaseMomentum. Stepped per batch. Past Total-1 temper holds the
// final lr, where PyTorch raises an error.
type OneCycle struct{ c OneCycleConfig }

// NewOneCycle validates c.
func NewOneCycle(c OneCycleConfig) (*OneCycle, error) {
	if c.PctStart == 0 {
		c.PctStart = 0.3
	}
	if c.DivFactor == 0 {
		c.DivFactor = 25
	}
	if c.FinalDivFactor == 0 {
		c.FinalDivFactor = 1e4
	}
	if c.BaseMomentum == 0 {
		c.BaseMomentum = 0.85
	}
	if c.MaxMomentum == 0 {
		c.MaxMomentum = 0.95
	}
	maxPct := 1.0
	if c.ThreePhase {
		maxPct = 0.5
	}
	switch {
	case !(c.MaxLR >= 0) || !finite(c.MaxLR):
		return nil, rangeErr("onecycle max lr", c.MaxLR, "[0, +inf)")
	case c.Total < 2 || c.Total > 1<<50:
		return nil, rangeErr("onecycle total", c.Total, "[2, 2^50]")
	case !(c.PctStart > 0 && c.PctStart < maxPct):
		return nil, rangeErr("onecycle pct start", c.PctStart, fmt.Sprintf("(0, %v)", maxPct))
	case !(c.DivFactor >= 1) || !finite(c.DivFactor):
		return nil, rangeErr("onecycle div factor", c.DivFactor, "[1, +inf)")
	case !(c.FinalDivFactor >= 1) || !finite(c.FinalDivFactor):
		return nil, rangeErr("onecycle final div factor", c.FinalDivFactor, "[1, +inf)")
	case !(c.BaseMomentum >= 0 && c.BaseMomentum < 1):
		return nil, rangeErr("onecycle base momentum", c.BaseMomentum, "[0, 1)")
	case !(c.MaxMomentum >= 0 && c.MaxMomentum < 1):
		return nil, rangeErr("onecycle max momentum", c.MaxMomentum, "[0, 1)")
	}
	return &OneCycle{c}, nil
}

// Config returns the resolved configuration.
func (s *OneCycle) Config() OneCycleConfig { return s.c }

// phase locates t: the piece's start and end values (as indices into the lr points
// init=0, peak=1, end=2) and the fraction p done.
func (s *OneCycle) phase(t int) (from, to int, p float64) {
	total := float64(s.c.Total)
	t = min(clampStep(t), s.c.Total-1)
	type piece struct {
		end      float64
		from, to int
	}
	pieces := []piece{{s.c.PctStart*total - 1, 0, 1}, {total - 1, 1, 2}}
	if s.c.ThreePhase {
		pieces = []piece{{s.c.PctStart*total - 1, 0, 1}, {2*s.c.PctStart*total - 2, 1, 0}, {total - 1, 0, 2}}
	}
	start := 0.0
	for i, pc := range pieces {
		if float64(t) <= pc.end || i == len(pieces)-1 {
			if pc.end <= start { // degenerate piece (PyTorch divides by zero here)
				return pc.from, pc.to, 1
			}
			return pc.from, pc.to, (float64(t) - start) / (pc.end - start)
		}
		start = pc.end
	}
	panic("unreachable")
}

func (s *OneCycle) anneal(a, b, p float64) float64 {
	if s.c.Linear {
		return (b-a)*p + a
	}
	return cosAnneal(a, b, p)
}

// LR implements Schedule.
func (s *OneCycle) LR(t int, base float64) float64 {
	peak := s.c.MaxLR
	if peak == 0 {
		peak = base
	}
	init := peak / s.c.DivFactor
	pts := [3]float64{init, peak, init / s.c.FinalDivFactor}
	from, to, p := s.phase(t)
	return s.anneal(pts[from], pts[to], p)
}

// Momentum implements MomentumCycler.
func (s *OneCycle) Momentum(t int) (float64, bool) {
	if s.c.NoMomentum {
		return 0, false
	}
	// lr point init <-> max momentum, peak <-> base momentum, end <-> max momentum.
	pts := [3]float64{s.c.MaxMomentum, s.c.BaseMomentum, s.c.MaxMomentum}
	from, to, p := s.phase(t)
	return s.anneal(pts[from], pts[to], p), true
}
