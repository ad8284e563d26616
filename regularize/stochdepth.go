package regularize

import (
	"fmt"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// DepthMode selects the granularity of stochastic depth's Bernoulli draws.
type DepthMode int

const (
	// Row (the zero value) drops the branch independently for each example of the batch
	// (torchvision's mode="row").
	Row DepthMode = iota
	// Batch drops the branch for the whole batch at once (torchvision's mode="batch"; the
	// paper's formulation, which also skips computing a dropped branch).
	Batch
)

// String returns "row" or "batch".
func (m DepthMode) String() string {
	if m == Batch {
		return "batch"
	}
	return "row"
}

// ParseDepthMode maps "row" / "batch" to a mode.
func ParseDepthMode(s string) (DepthMode, error) {
	switch s {
	case "row", "":
		return Row, nil
	case "batch":
		return Batch, nil
	}
	return 0, fmt.Errorf("regularize: unknown stochastic depth mode %q (want row or batch)", s)
}

// SurvivalProb is the linear decay rule of Huang et al. 2016 (Eq. 4): block l of L
// (1-based) survives with probability p_l = 1 − (l/L)·(1 − p_L), from ≈1 at the input to
// p_L at the last block.
func SurvivalProb(l, L int, pL float64) float64 {
	if L <= 0 {
		return 1
	}
	return 1 - float64(l)/float64(L)*(1-pL)
}

// StochasticDepthOp is torchvision.ops.stochastic_depth(x, p, mode, training): with drop
// probability p and survival s = 1 − p, y = x ⊙ m / s with m ~ Bernoulli(s) drawn per
// example (Row; one value per index of axis 0) or once (Batch); the identity when not
// training or p = 0; all zeros when p = 1 (no division then). Gradient dx = g ⊙ m / s.
func StochasticDepthOp(x *ag.Var, p float64, mode DepthMode, training bool, r *rng.Stream) *ag.Var {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Errorf("regularize: stochastic depth drop probability %v out of range [0, 1]", p))
	}
	if !training || p == 0 {
		return x
	}
	s := 1 - p
	scale := float32(1)
	if s > 0 {
		scale = float32(1 / s)
	}
	return depthMask(x, s, scale, mode, r)
}

// depthMask is y = x ⊙ m·scale with m ~ Bernoulli(keep) per example (Row) or per batch.
func depthMask(x *ag.Var, keep float64, scale float32, mode DepthMode, r *rng.Stream) *ag.Var {
	t := ag.TapeOf(x)
	xv := x.Value.Contiguous()
	xs := xv.Shape()
	if len(xs) < 1 {
		panic(&tensor.ShapeError{Op: "regularize.StochasticDepth", A: xs, Msg: "want at least one axis (the batch)"})
	}
	n := xs[0]
	rows := n
	if mode == Batch {
		rows = 1
	}
	mask := t.Empty(xs...)
	md := mask.Data()
	r.BernoulliN(t.Threads(), md[:rows], keep)
	inner := xv.Len() / max(n, 1)
	if mode == Batch {
		v := md[0] * scale
		for i := range md {
			md[i] = v
		}
	} else {
		for i := n - 1; i >= 0; i-- {
			v := md[i] * scale
			row := md[i*inner : (i+1)*inner]
			for j := range row {
				row[j] = v
			}
		}
	}
	return t.MulMask(x, mask)
}

// StochasticDepth is the module form of stochastic depth applied to a residual branch f:
// a block computes y = x + StochasticDepth(f(x)). (torchvision.ops.StochasticDepth with
// TestScaling false.)
//
// Huang, Sun, Liu, Sedra & Weinberger 2016, "Deep Networks with Stochastic Depth" (ECCV):
// in training the branch of block l survives with probability p_l (see SurvivalProb); at
// test time every branch is kept and, to match the expected training output, scaled by
// p_l (Eq. 5): y = x + p_l·f(x). That is TestScaling. Without it (the default, like
// torchvision) kept branches are scaled by 1/p_l in training and evaluation is the
// identity — the "inverted" form, with the same expectation.
type StochasticDepth struct {
	// Survival is p_l in [0, 1] (torchvision's p is 1 − Survival).
	Survival    float64
	Mode        DepthMode
	TestScaling bool
	Rand        *rng.Stream

	training bool
}

// NewStochasticDepth returns the module with survival probability p in [0, 1].
func NewStochasticDepth(survival float64, mode DepthMode, testScaling bool, r *rng.Stream) (*StochasticDepth, error) {
	if !(survival >= 0 && survival <= 1) {
		return nil, fmt.Errorf("regularize: stochastic depth survival probability %v out of range [0, 1]", survival)
	}
	if mode != Row && mode != Batch {
		return nil, fmt.Errorf("regularize: stochastic depth mode %d out of range (want Row or Batch)", int(mode))
	}
	if r == nil {
		return nil, fmt.Errorf("regularize: stochastic depth needs a random stream")
	}
	return &StochasticDepth{Survival: survival, Mode: mode, TestScaling: testScaling, Rand: r, training: true}, nil
}

// SetTraining implements nn.Trainable.
func (s *StochasticDepth) SetTraining(on bool) { s.training = on }

// RandomStreams implements nn.RandomStreamer.
func (s *StochasticDepth) RandomStreams() []*rng.Stream { return []*rng.Stream{s.Rand} }

// Forward applies the random gate to the branch output h.
func (s *StochasticDepth) Forward(h *ag.Var) *ag.Var {
	if !s.training {
		if s.TestScaling && s.Survival < 1 {
			return scaleOp(h, float32(s.Survival))
		}
		return h
	}
	if s.Survival == 1 {
		return h
	}
	scale := float32(1)
	if !s.TestScaling && s.Survival > 0 {
		scale = float32(1 / s.Survival)
	}
	return depthMask(h, s.Survival, scale, s.Mode, s.Rand)
}

// drawBatch draws the batch-mode gate; true means the branch survives this step.
func (s *StochasticDepth) drawBatch() bool {
	var m [1]float32
	s.Rand.Bernoulli(m[:], s.Survival)
	return m[0] == 1
}

// DepthBlock is an nn.BasicBlock whose residual branch is gated by stochastic depth:
//
//	y = relu(SD(BN₂(conv₂(relu(BN₁(conv₁(x)))))) + shortcut(x))
//
// In Batch mode a dropped branch is not computed at all (y = relu(shortcut(x))), which is
// where the paper's ~25% training-time saving comes from; its BN statistics are then not
// updated that step, as in the paper. Its children are the block's (conv1, bn1, conv2,
// bn2, shortcut), so a model's state dict is unchanged by AddStochasticDepth.
type DepthBlock struct {
	Block *nn.BasicBlock
	SD    *StochasticDepth
}

// NewDepthBlock wraps b with the gate sd.
func NewDepthBlock(b *nn.BasicBlock, sd *StochasticDepth) *DepthBlock {
	return &DepthBlock{Block: b, SD: sd}
}

// Children implements nn.Parent with the wrapped block's children.
func (d *DepthBlock) Children() []nn.Child { return d.Block.Children() }

// SetTraining implements nn.Trainable (the gate's mode; nn.SetTraining reaches the BNs
// through Children).
func (d *DepthBlock) SetTraining(on bool) { d.SD.SetTraining(on) }

// RandomStreams implements nn.RandomStreamer.
func (d *DepthBlock) RandomStreams() []*rng.Stream { return d.SD.RandomStreams() }

// Forward applies the gated block.
func (d *DepthBlock) Forward(x *ag.Var) *ag.Var {
	b := d.Block
	sc := b.ShortcutPath(x)
	if d.SD.training && d.SD.Mode == Batch && d.SD.Survival < 1 {
		if !d.SD.drawBatch() {
			return ag.ReLU(sc)
		}
		h := b.BN2.Forward(b.Conv2.Forward(b.BN1.Forward(b.Conv1.Forward(x))))
		if !d.SD.TestScaling && d.SD.Survival > 0 {
			h = scaleOp(h, float32(1/d.SD.Survival))
		}
		return nn.AddReLU(h, sc)
	}
	h := b.BN2.Forward(b.Conv2.Forward(b.BN1.Forward(b.Conv1.Forward(x))))
	return nn.AddReLU(d.SD.Forward(h), sc)
}

// StochasticDepthConfig configures AddStochasticDepth. Zero values: p_L = 0.5 (the
// paper's choice for CIFAR), Row mode, training-time (torchvision) scaling.
type StochasticDepthConfig struct {
	// FinalSurvival is p_L in [0, 1], the survival probability of the last block; 0 means
	// 0.5. (To keep every block, do not call AddStochasticDepth.)
	FinalSurvival float64
	Mode          DepthMode
	// TestScaling uses the paper's rule (no scaling in training, branch × p_l at test)
	// instead of scaling kept branches by 1/p_l in training.
	TestScaling bool
}

// AddStochasticDepth replaces every nn.BasicBlock found in the Sequentials of m (in
// forward order, e.g. the 9 blocks of resnet20's layer1..layer3) by a DepthBlock whose
// survival probability follows the linear decay rule, block l of L getting
// SurvivalProb(l, L, cfg.FinalSurvival); each gate gets its own stream split from r. It
// returns the number of blocks L (0 if m has none). State dicts are unchanged.
func AddStochasticDepth(m nn.Module, cfg StochasticDepthConfig, r *rng.Stream) (int, error) {
	pL := cfg.FinalSurvival
	if pL == 0 {
		pL = 0.5
	}
	if !(pL >= 0 && pL <= 1) {
		return 0, fmt.Errorf("regularize: stochastic depth final survival probability %v out of range (0, 1]", cfg.FinalSurvival)
	}
	if cfg.Mode != Row && cfg.Mode != Batch {
		return 0, fmt.Errorf("regularize: stochastic depth mode %d out of range (want Row or Batch)", int(cfg.Mode))
	}
	type site struct {
		s *nn.Sequential
		i int
	}
	var sites []site
	visitSequentials(m, func(s *nn.Sequential) {
		for i, l := range s.Layers {
			switch l.(type) {
			case *nn.BasicBlock, *DepthBlock:
				sites = append(sites, site{s, i})
			}
		}
	})
	L := len(sites)
	for k, st := range sites {
		p := SurvivalProb(k+1, L, pL)
		switch b := st.s.Layers[st.i].(type) {
		case *nn.BasicBlock:
			sd, err := NewStochasticDepth(p, cfg.Mode, cfg.TestScaling, r.Split())
			if err != nil {
				return 0, err
			}
			st.s.Layers[st.i] = NewDepthBlock(b, sd)
		case *DepthBlock:
			b.SD.Survival, b.SD.Mode, b.SD.TestScaling = p, cfg.Mode, cfg.TestScaling
		}
	}
	return L, nil
}
