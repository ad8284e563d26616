package schedule

import (
	"fmt"
	"sort"
)

// WarmupConfig configures Warmup.
type WarmupConfig struct {
	Steps int // warmup length, required, >= 1
	// StartFactor is the fraction of base at step 0; default 0 (lr starts at 0, as in
	// Goyal et al. 2017 and HF transformers). Range [0, 1]. PyTorch LinearLR's default is
	// 1/3 and it rejects 0.
	StartFactor float64
}

// Warmup is linear warmup, lr = base * (StartFactor + (1-StartFactor) * min(t, Steps)/Steps)
// (PyTorch LinearLR with end_factor 1, closed form): it reaches base at t = Steps and stays
// there. Put another schedule after it with NewSequence or WithWarmup. Stepped per batch.
type Warmup struct{ c WarmupConfig }

// NewWarmup validates c.
func NewWarmup(c WarmupConfig) (*Warmup, error) {
	if c.Steps < 1 {
		return nil, rangeErr("warmup steps", c.Steps, "[1, +inf)")
	}
	if !(c.StartFactor >= 0 && c.StartFactor <= 1) {
		return nil, rangeErr("warmup start factor", c.StartFactor, "[0, 1]")
	}
	return &Warmup{c}, nil
}

// Config returns the configuration.
func (s *Warmup) Config() WarmupConfig { return s.c }

// LR implements Schedule.
func (s *Warmup) LR(t int, base float64) float64 {
	t = min(clampStep(t), s.c.Steps)
	return base * (s.c.StartFactor + (1-s.c.StartFactor)*float64(t)/float64(s.c.Steps))
}

// WithWarmup returns warmup for w.Config().Steps steps followed by then, which starts at its
// own step 0 when the warmup ends (PyTorch SequentialLR([LinearLR, then], [steps])).
func WithWarmup(w *Warmup, then Schedule) *Sequence {
	return &Sequence{stages: []Schedule{w, then}, milestones: []int{w.c.Steps}}
}

// ---------------------------------------------------------------------------------------

// Sequence runs schedules one after another (PyTorch SequentialLR): stage i is active for
// milestones[i-1] <= t < milestones[i] and sees the local step t - milestones[i-1], so
// every stage starts from its own step 0 and from the group's base lr. Stepped in whatever
// unit its stages use (the milestones count the same steps).
type Sequence struct {
	stages     []Schedule
	milestones []int
}

// NewSequence validates that there is one milestone fewer than stages and that the
// milestones are strictly increasing and >= 1.
func NewSequence(stages []Schedule, milestones []int) (*Sequence, error) {
	if len(stages) == 0 {
		return nil, fmt.Errorf("schedule: sequence needs at least one stage")
	}
	if len(milestones) != len(stages)-1 {
		return nil, fmt.Errorf("schedule: sequence of %d stages needs %d milestones, got %d", len(stages), len(stages)-1, len(milestones))
	}
	for i, m := range milestones {
		if m < 1 || (i > 0 && m <= milestones[i-1]) {
			return nil, fmt.Errorf("schedule: sequence milestones %v must be strictly increasing and >= 1", milestones)
		}
	}
	for i, s := range stages {
		if s == nil {
			return nil, fmt.Errorf("schedule: sequence stage %d is nil", i)
		}
	}
	return &Sequence{append([]Schedule(nil), stages...), append([]int(nil), milestones...)}, nil
}

// Stages returns copies of the stages and milestones.
func (s *Sequence) Stages() ([]Schedule, []int) {
	return append([]Schedule(nil), s.stages...), append([]int(nil), s.milestones...)
}

func (s *Sequence) locate(t int) (Schedule, int) {
	t = clampStep(t)
	i := sort.SearchInts(s.milestones, t+1) // milestones <= t
	if i == 0 {
		return s.stages[0], t
	}
	return s.stages[i], t - s.milestones[i-1]
}

// LR implements Schedule.
func (s *Sequence) LR(t int, base float64) float64 {
	st, local := s.locate(t)
	return st.LR(local, base)
}

// Momentum implements MomentumCycler: the active stage's momentum.
func (s *Sequence) Momentum(t int) (float64, bool) {
	st, local := s.locate(t)
	return MomentumAt(st, local)
}

// ---------------------------------------------------------------------------------------

// Chain applies schedules on top of each other: each stage's output is the next stage's
// base, lr = s_n(t, ... s_2(t, s_1(t, base))). For schedules that scale base this is the
// product of their factors (PyTorch ChainedScheduler); it is also how ReduceOnPlateau
// multiplies another schedule's output. Stepped in the unit its stages share.
type Chain struct{ stages []Schedule }

// NewChain returns the chain of stages (at least one, none nil).
func NewChain(stages ...Schedule) (*Chain, error) {
	if len(stages) == 0 {
		return nil, fmt.Errorf("schedule: chain needs at least one stage")
	}
	for i, s := range stages {
		if s == nil {
			return nil, fmt.Errorf("schedule: chain stage %d is nil", i)
		}
	}
	return &Chain{append([]Schedule(nil), stages...)}, nil
}

// Stages returns a copy of the stages.
func (s *Chain) Stages() []Schedule { return append([]Schedule(nil), s.stages...) }

// LR implements Schedule.
func (s *Chain) LR(t int, base float64) float64 {
	for _, st := range s.stages {
		base = st.LR(t, base)
	}
	return base
}

// Momentum implements MomentumCycler: the last stage that cycles momentum wins.
func (s *Chain) Momentum(t int) (float64, bool) {
	for i := len(s.stages) - 1; i >= 0; i-- {
		if m, ok := MomentumAt(s.stages[i], t); ok {
			return m, true
		}
	}
	return 0, false
}

// ---------------------------------------------------------------------------------------

// PerEpoch turns a schedule stepped per epoch into one stepped per batch:
// LR(t) = S.LR(floor(t / StepsPerEpoch)), so the lr changes only at epoch boundaries,
// exactly as calling a PyTorch scheduler's step() once per epoch.
type PerEpoch struct {
	S             Schedule
	StepsPerEpoch int
}

// NewPerEpoch validates stepsPerEpoch >= 1.
func NewPerEpoch(s Schedule, stepsPerEpoch int) (*PerEpoch, error) {
	if s == nil {
		return nil, fmt.Errorf("schedule: per-epoch schedule is nil")
	}
	if stepsPerEpoch < 1 {
		return nil, rangeErr("steps per epoch", stepsPerEpoch, "[1, +inf)")
	}
	return &PerEpoch{s, stepsPerEpoch}, nil
}

func (s *PerEpoch) epoch(t int) int {
	if s.StepsPerEpoch <= 1 { // a zero StepsPerEpoch counts as 1
		return clampStep(t)
	}
	return clampStep(t) / s.StepsPerEpoch
}

// LR implements Schedule.
func (s *PerEpoch) LR(t int, base float64) float64 { return s.S.LR(s.epoch(t), base) }

// Momentum implements MomentumCycler.
func (s *PerEpoch) Momentum(t int) (float64, bool) { return MomentumAt(s.S, s.epoch(t)) }

// Sample returns s's learning rates for steps 0..steps-1 with the given base lr (for
// printing and plotting a schedule). A ReduceOnPlateau inside s contributes its current
// state. steps <= 0 gives nil.
func Sample(s Schedule, steps int, base float64) []float64 {
	if steps <= 0 {
		return nil
	}
	out := make([]float64, steps)
	for t := range out {
		out[t] = s.LR(t, base)
	}
	return out
}
