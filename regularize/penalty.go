package regularize

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
)

// PenaltyConfig selects a weight penalty added to the loss:
//
//	R(θ) = (L2/2)·Σ w² + L1·Σ |w|
//
// summed over the selected parameters. L2 alone is ridge / Tikhonov regularization
// ("weight decay" in its coupled form: its gradient L2·w is exactly what PyTorch's
// optimizer argument weight_decay=L2 adds to the gradient, hence the factor 1/2); L1 alone
// is the lasso penalty (Tibshirani 1996), whose subgradient L1·sign(w) (0 at w = 0, as
// torch.sign) drives weights to exactly zero only with proximal updates, not plain SGD;
// both together are the elastic net (Zou & Hastie 2005; see ElasticNet).
//
// The zero value penalizes nothing. By default only weights are penalized: parameters
// marked nn.Param.NoDecay (biases, batch-norm γ and β) are skipped, as the lecture and
// most recipes do; IncludeAll penalizes every parameter.
//
// Decoupled weight decay (AdamW, optim.NewAdamW; Loshchilov & Hutter 2019) is not a
// penalty: it shrinks the weights directly, θ ← (1 − ηλ)θ, outside the adaptive
// preconditioner. For plain SGD the two coincide (λ_decoupled = L2), but for adaptive
// methods (Adam, RMSProp, AdaGrad) an L2 term in the loss has its gradient divided by
// √v̂ like any other gradient, so weights with large gradient history are decayed less.
// TestDecoupledDiffersFromL2 shows both facts numerically.
type PenaltyConfig struct {
	// L2 >= 0 is the coefficient of (1/2)·Σ w².
	L2 float64
	// L1 >= 0 is the coefficient of Σ |w|.
	L1 float64
	// IncludeAll also penalizes NoDecay parameters (biases, normalization parameters).
	IncludeAll bool
}

// ElasticNet returns the glmnet parameterization λ·[(1−α)/2·‖w‖² + α·‖w‖₁] as a
// PenaltyConfig (L2 = λ(1−α), L1 = λα). α = 0 is ridge, α = 1 the lasso.
func ElasticNet(lambda, alpha float64) (PenaltyConfig, error) {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return PenaltyConfig{}, fmt.Errorf("regularize: elastic-net lambda %v out of range [0, ∞)", lambda)
	}
	if !(alpha >= 0 && alpha <= 1) {
		return PenaltyConfig{}, fmt.Errorf("regularize: elastic-net alpha %v out of range [0, 1]", alpha)
	}
	return PenaltyConfig{L2: lambda * (1 - alpha), L1: lambda * alpha}, nil
}

// Validate returns an error naming a coefficient out of range [0, ∞).
func (c PenaltyConfig) Validate() error {
	if !(c.L2 >= 0) || math.IsInf(c.L2, 0) {
		return fmt.Errorf("regularize: L2 coefficient %v out of range [0, ∞)", c.L2)
	}
	if !(c.L1 >= 0) || math.IsInf(c.L1, 0) {
		return fmt.Errorf("regularize: L1 coefficient %v out of range [0, ∞)", c.L1)
	}
	return nil
}

// Zero reports whether the penalty is identically zero.
func (c PenaltyConfig) Zero() bool { return c.L1 == 0 && c.L2 == 0 }

// Selects reports whether the penalty applies to p.
func (c PenaltyConfig) Selects(p *nn.Param) bool { return c.IncludeAll || !p.NoDecay }

// Penalty returns R(θ) over params as a scalar Var on tape t, to be added to the loss
// (ag.Add(loss, regularize.Penalty(t, nn.Params(model), cfg))). It is recorded as one
// fused op per selected parameter (value in float64, then rounded), each adding its
// gradient L2·w + L1·sign(w), scaled by the upstream gradient, into the parameter's Grad;
// no allocation in steady state. With nothing selected or a zero config it returns a
// constant 0. It panics if cfg is invalid (check with Validate first).
func Penalty(t *ag.Tape, params []nn.NamedParam, cfg PenaltyConfig) *ag.Var {
	return chainPenalty(t, t.Const(t.Zeros()), params, cfg)
}

// AddPenalty returns loss + R(θ) (loss a scalar Var): the same ops as Penalty chained onto
// the loss, so no separate addition op is needed. This is the one-line way to regularize
// a training objective:
//
//	l := regularize.AddPenalty(loss.CrossEntropy(logits, y, 0), params, cfg)
//
// With a zero config it returns loss itself. It panics if cfg is invalid.
func AddPenalty(loss *ag.Var, params []nn.NamedParam, cfg PenaltyConfig) *ag.Var {
	if loss.Value.Len() != 1 {
		panic(&tensor.ShapeError{Op: "regularize.AddPenalty", A: loss.Value.Shape(), Msg: "loss must be a scalar"})
	}
	return chainPenalty(ag.TapeOf(loss), loss, params, cfg)
}

func chainPenalty(t *ag.Tape, out *ag.Var, params []nn.NamedParam, cfg PenaltyConfig) *ag.Var {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.Zero() {
		return out
	}
	for _, p := range params {
		if !cfg.Selects(p.Param) {
			continue
		}
		v := t.Empty(out.Value.Shape()...)
		v.Data()[0] = out.Value.Data()[0] + float32(penaltyValue(p.Value.Data(), cfg))
		coef := t.Empty(2)
		coef.Data()[0], coef.Data()[1] = float32(cfg.L2), float32(cfg.L1)
		next := t.Op(v, penaltyBackward, out, p.Var)
		next.Aux = coef
		out = next
	}
	return out
}

func penaltyValue(w []float32, cfg PenaltyConfig) float64 {
	var s2, s1 float64
	for _, x := range w {
		s2 += float64(x) * float64(x)
		s1 += math.Abs(float64(x))
	}
	return cfg.L2/2*s2 + cfg.L1*s1
}

// penaltyBackward: d(prev + R(w))/dprev = 1, dR/dw = L2·w + L1·sign(w).
func penaltyBackward(o *ag.Var) {
	in := o.Inputs()
	g := o.Grad.Data()[0]
	if prev := in[0]; prev.RequiresGrad() {
		prev.GradBuf().Data()[0] += g
	}
	w := in[1]
	if !w.RequiresGrad() {
		return
	}
	c := o.Aux.Data()
	addPenaltyGrad(w.GradBuf().Data(), w.Value.Data(), g*c[0], g*c[1])
}

func addPenaltyGrad(dst, w []float32, l2, l1 float32) {
	for i, x := range w {
		d := l2 * x
		switch {
		case x > 0:
			d += l1
		case x < 0:
			d -= l1
		}
		dst[i] += d
	}
}

// PenaltyValue returns R(θ) over params in float64 without a tape (for logging).
func PenaltyValue(params []nn.NamedParam, cfg PenaltyConfig) float64 {
	s := 0.0
	for _, p := range params {
		if cfg.Selects(p.Param) {
			s += penaltyValue(p.Value.Data(), cfg)
		}
	}
	return s
}

// AddPenaltyGrad adds ∇R(θ) = L2·w + L1·sign(w) into the Grad of every selected
// parameter, for a loop that applies the penalty after Backward instead of on the tape
// (DESIGN's "weight penalty adds to grads"). It is equivalent to adding Penalty to the
// loss; the loss value then excludes R (add PenaltyValue to log it). Parameters without a
// Grad get one.
func AddPenaltyGrad(params []nn.NamedParam, cfg PenaltyConfig) {
	if cfg.Zero() {
		return
	}
	for _, p := range params {
		if !cfg.Selects(p.Param) {
			continue
		}
		if p.Grad == nil {
			p.Grad = tensor.New(p.Value.Shape()...)
		}
		addPenaltyGrad(p.Grad.Data(), p.Value.Data(), float32(cfg.L2), float32(cfg.L1))
	}
}
