package schedule

import (
	"fmt"
	"math"
)

// PlateauConfig configures ReduceOnPlateau. Defaults are PyTorch ReduceLROnPlateau's.
type PlateauConfig struct {
	// Max makes a larger metric better (PyTorch mode='max', e.g. accuracy); the zero value
	// is mode='min' (e.g. a loss).
	Max bool
	// Factor multiplies the lr at each reduction; 0 means 0.1. Range (0, 1).
	Factor float64
	// Patience is the number of bad observations tolerated before a reduction; 0 means 10.
	// Use a negative value for patience 0 (reduce after the first bad observation).
	Patience int
	// Threshold is the least improvement that counts; 0 means 1e-4, negative means 0.
	Threshold float64
	// AbsThreshold compares with best ± Threshold (PyTorch threshold_mode='abs'); the zero
	// value is 'rel': better means < best*(1-Threshold) (min) or > best*(1+Threshold) (max).
	AbsThreshold bool
	// Cooldown is the number of observations after a reduction during which bad
	// observations are not counted; default 0. Range [0, +inf).
	Cooldown int
	// MinLR is the lr floor applied by reductions; default 0. Range [0, +inf).
	MinLR float64
	// Eps: a reduction that would change the lr by no more than Eps is skipped; 0 means
	// 1e-8, negative means 0.
	Eps float64
}

// PlateauState is ReduceOnPlateau's mutable state, JSON-serializable for checkpoints.
type PlateauState struct {
	Best       float64 `json:"best"`       // best metric seen; meaningful when HasBest
	HasBest    bool    `json:"has_best"`   // false until a finite metric was observed
	BadEpochs  int     `json:"bad_epochs"` // PyTorch num_bad_epochs
	Cooldown   int     `json:"cooldown"`   // PyTorch cooldown_counter
	Epochs     int     `json:"epochs"`     // number of Observe calls (PyTorch last_epoch)
	Reductions int     `json:"reductions"` // reductions made so far
}

// ReduceOnPlateau lowers the lr when a monitored metric stops improving (PyTorch
// ReduceLROnPlateau). Observe it once per evaluation, usually once per epoch with the
// validation loss: a metric better than the best so far (see PlateauConfig.Threshold)
// resets the bad count, otherwise it grows; during cooldown it is held at 0; once it
// exceeds Patience the lr is reduced, cooldown starts and the count resets.
//
// As a Schedule it multiplies its input: after n reductions,
// LR(t, base) = r_n with r_0 = base and r_k = max(r_{k-1}*Factor, MinLR) when that
// changes r by more than Eps (otherwise r stays). Put it after another schedule in a Chain
// (NewChain(cosine, plateau)) to reduce that schedule's output; alone it reduces the base
// lr exactly as PyTorch does. PyTorch applies the reduction to the optimizer's current lr
// once, at the reduction; temper keeps the count and applies it to whatever the
// underlying schedule gives, which is the same when that is constant. A non-finite metric
// counts as a bad observation (as NaN does in PyTorch).
//
// Observe and LR must not be called concurrently.
type ReduceOnPlateau struct {
	c PlateauConfig
	s PlateauState
}

// NewReduceOnPlateau validates c.
func NewReduceOnPlateau(c PlateauConfig) (*ReduceOnPlateau, error) {
	if c.Factor == 0 {
		c.Factor = 0.1
	}
	switch {
	case c.Patience == 0:
		c.Patience = 10
	case c.Patience < 0:
		c.Patience = 0
	}
	switch {
	case c.Threshold == 0:
		c.Threshold = 1e-4
	case c.Threshold < 0:
		c.Threshold = 0
	}
	switch {
	case c.Eps == 0:
		c.Eps = 1e-8
	case c.Eps < 0:
		c.Eps = 0
	}
	switch {
	case !(c.Factor > 0 && c.Factor < 1):
		return nil, rangeErr("plateau factor", c.Factor, "(0, 1)")
	case !finite(c.Threshold):
		return nil, rangeErr("plateau threshold", c.Threshold, "[0, +inf)")
	case c.Cooldown < 0:
		return nil, rangeErr("plateau cooldown", c.Cooldown, "[0, +inf)")
	case !(c.MinLR >= 0) || !finite(c.MinLR):
		return nil, rangeErr("plateau min lr", c.MinLR, "[0, +inf)")
	case !finite(c.Eps):
		return nil, rangeErr("plateau eps", c.Eps, "[0, +inf)")
	}
	return &ReduceOnPlateau{c: c}, nil
}

// Config returns the resolved configuration.
func (p *ReduceOnPlateau) Config() PlateauConfig { return p.c }

// State returns a copy of the state, for checkpoints.
func (p *ReduceOnPlateau) State() PlateauState { return p.s }

// SetState restores a state saved by State.
func (p *ReduceOnPlateau) SetState(s PlateauState) error {
	if s.BadEpochs < 0 || s.Cooldown < 0 || s.Epochs < 0 || s.Reductions < 0 || !finite(s.Best) {
		return fmt.Errorf("schedule: invalid plateau state %+v", s)
	}
	p.s = s
	return nil
}

func (p *ReduceOnPlateau) better(a float64) bool {
	if !p.s.HasBest {
		return true
	}
	best, th := p.s.Best, p.c.Threshold
	switch {
	case !p.c.Max && !p.c.AbsThreshold:
		return a < best*(1-th)
	case !p.c.Max:
		return a < best-th
	case !p.c.AbsThreshold:
		return a > best*(1+th)
	default:
		return a > best+th
	}
}

// Observe records one value of the monitored metric and reports whether it triggered a
// reduction (PyTorch ReduceLROnPlateau.step(metric)).
func (p *ReduceOnPlateau) Observe(metric float64) (reduced bool) {
	p.s.Epochs++
	if finite(metric) && p.better(metric) {
		p.s.Best, p.s.HasBest = metric, true
		p.s.BadEpochs = 0
	} else {
		p.s.BadEpochs++
	}
	if p.s.Cooldown > 0 {
		p.s.Cooldown--
		p.s.BadEpochs = 0
	}
	if p.s.BadEpochs > p.c.Patience {
		p.s.Reductions++
		p.s.Cooldown = p.c.Cooldown
		p.s.BadEpochs = 0
		return true
	}
	return false
}

// LR implements Schedule: base reduced by the reductions made so far (see the type's doc).
// It does not depend on step.
func (p *ReduceOnPlateau) LR(_ int, base float64) float64 {
	lr := base
	for k := 0; k < p.s.Reductions; k++ {
		next := math.Max(lr*p.c.Factor, p.c.MinLR)
		if !(lr-next > p.c.Eps) {
			break
		}
		lr = next
	}
	return lr
}

// FindPlateau returns the first ReduceOnPlateau inside s (s itself, or a stage of a
// Sequence, Chain or PerEpoch), or nil. The trainer calls its Observe once per epoch.
func FindPlateau(s Schedule) *ReduceOnPlateau {
	switch v := s.(type) {
	case *ReduceOnPlateau:
		return v
	case *Sequence:
		for _, st := range v.stages {
			if p := FindPlateau(st); p != nil {
				return p
			}
		}
	case *Chain:
		for _, st := range v.stages {
			if p := FindPlateau(st); p != nil {
				return p
			}
		}
	case *PerEpoch:
		return FindPlateau(v.S)
	}
	return nil
}
