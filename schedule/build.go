package schedule

import (
	"math"
	"strings"

	"github.com/temperml/temper/internal/spec"
)

// This file turns parsed stages (spec.Term) into Schedules: one small builder per name,
// and the common options every, smooth and for.

const maxInt = 1 << 40 // bound on every integer option, so products cannot overflow

// builders maps each canonical name to its builder (aliases are resolved first).
var builders = map[string]func(*stageReader) (Schedule, error){
	"const": buildConst, "step": buildStep, "multistep": buildMultiStep, "exp": buildExp,
	"invtime": buildInvTime, "poly": buildPoly, "cosine": buildCosine,
	"cosine-restarts": buildRestarts, "cyclic": buildCyclic, "onecycle": buildOneCycle,
	"warmup": buildWarmup, "plateau": buildPlateau,
}

type builder struct {
	s        *spec.Scanner
	ctx      Context // StepsPerEpoch >= 1
	plateaus int
}

// stageReader reads one stage's options (first error kept, see spec.Opts).
type stageReader struct {
	*spec.Opts
	b      *builder
	name   string // canonical
	scale  int    // multiplier for lengths (smooth=true converts epochs to batches)
	forLen int    // for=N in the stage's unit converted by scale (0: not given)
	rest   int    // default length in the stage's unit: for=N, else what remains of the run
}

func (b *builder) chain(ast [][]*spec.Term) (Schedule, *spec.Error) {
	var parts []Schedule
	for _, seq := range ast {
		s, err := b.seq(seq)
		if err != nil {
			return nil, err
		}
		parts = append(parts, s)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	s, err := NewChain(parts...)
	if err != nil {
		return nil, b.s.Errorf(0, len(b.s.Src()), "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	}
	return s, nil
}

func (b *builder) seq(seq []*spec.Term) (Schedule, *spec.Error) {
	var stages []Schedule
	var milestones []int
	at := 0 // batches used by earlier stages
	for i, st := range seq {
		last := i == len(seq)-1
		s, length, err := b.stage(st, at, last)
		if err != nil {
			return nil, err
		}
		stages = append(stages, s)
		if !last {
			if length > maxInt || at+length > maxInt {
				return nil, b.s.Errorf(st.Pos, st.End, "sequence longer than 2^40 steps")
			}
			at += length
			milestones = append(milestones, at)
		}
	}
	if len(stages) == 1 {
		return stages[0], nil
	}
	s, err := NewSequence(stages, milestones)
	if err != nil {
		return nil, b.s.Errorf(seq[0].Pos, seq[len(seq)-1].End, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	}
	return s, nil
}

// stage builds one stage; at is the number of batches used by the stages before it.
// It returns the schedule (already converted to batch steps) and its length in batches
// (0 if unknown, which only the last stage may be).
func (b *builder) stage(st *spec.Term, at int, last bool) (Schedule, int, *spec.Error) {
	r := &stageReader{Opts: b.s.Opts(st), b: b, name: st.Name, scale: 1}
	if a, ok := aliases[r.name]; ok {
		r.name = a
	}
	build, ok := builders[r.name]
	if !ok {
		return nil, 0, b.s.Errorf(st.Pos, st.NameEnd, "unknown schedule %q: want one of %s", st.Name, strings.Join(names(), ", "))
	}
	spe := r.unit() // batches per step of the built schedule, wrapped in PerEpoch when > 1
	r.forLen = r.length("for", 1)
	r.rest = r.forLen
	if r.rest == 0 && last && b.ctx.TotalSteps > 0 {
		r.rest = max(0, (b.ctx.TotalSteps-at)/spe)
	}
	s, err := build(r)
	if e := r.Finish(); e != nil {
		return nil, 0, e
	}
	switch {
	case err != nil:
		return nil, 0, b.s.Errorf(st.Pos, st.End, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	case !last && r.forLen == 0:
		return nil, 0, b.s.Errorf(st.Pos, st.End, "%s is followed by another stage: give its length with for=N", r.name)
	case spe > 1 && r.forLen > maxInt/spe:
		return nil, 0, b.s.Errorf(st.Pos, st.End, "stage longer than 2^40 steps")
	case spe > 1:
		s = &PerEpoch{S: s, StepsPerEpoch: spe}
	}
	return s, r.forLen * spe, nil
}

// unit reads every= and smooth=. It returns the batches per step of the built schedule
// and sets r.scale for smooth epoch stages (lengths in epochs, lr per batch).
func (r *stageReader) unit() int {
	if r.name == "plateau" {
		why := "plateau is observed once per epoch, not stepped"
		r.Forbid("every", why)
		r.Forbid("smooth", why)
		return 1
	}
	units := []string{"batch", "epoch"}
	if epochUnit[r.name] {
		units = []string{"epoch", "batch"}
	}
	epoch := r.Choice("every", units...) == "epoch"
	smooth := r.Choice("smooth", "false", "true") == "true"
	switch {
	case epoch && smooth:
		r.scale = r.b.ctx.StepsPerEpoch
	case epoch:
		return r.b.ctx.StepsPerEpoch
	case smooth:
		r.Fail(r.Get("smooth"), "smooth=true applies to every=epoch stages only")
	}
	return 1
}

// float reads a finite number, 0 (the config's default) when absent.
func (r *stageReader) float(key string) float64 { return r.Float(key, 0, spec.Finite) }

// length reads an integer length option in [lo, 2^40] (0 when absent), converted to
// batches by r.scale.
func (r *stageReader) length(key string, lo int) int {
	v := r.Int(key, 0, lo, maxInt)
	if v > maxInt/r.scale {
		r.FailValue(r.Get(key), "%s %d epochs is more than 2^40 batches", key, v)
		return 0
	}
	return v * r.scale
}

// runLength reads a length that defaults to the stage's length (r.rest).
func (r *stageReader) runLength(key string) int {
	if v := r.length(key, 1); v > 0 || r.Has(key) {
		return v
	}
	if r.rest == 0 {
		r.FailTerm("%s needs %s=N (or for=N, or a total step count from the caller)", r.name, key)
	}
	return r.rest
}

// noMomentum reads momentum=on|off.
func (r *stageReader) noMomentum() bool { return r.Choice("momentum", "on", "off") == "off" }

// explicitZero maps an option given as 0 to -1, the configs' "explicit zero" (their
// zero value means the default).
func explicitZero[T int | float64](r *stageReader, key string, v T) T {
	if v == 0 && r.Has(key) {
		return -1
	}
	return v
}

func buildConst(r *stageReader) (Schedule, error) {
	return NewConstant(ConstantConfig{Factor: r.float("factor"), Steps: r.length("steps", 0)})
}

func buildStep(r *stageReader) (Schedule, error) {
	r.Need("size", "N (the decay period)")
	return NewStep(StepConfig{Size: r.length("size", 0), Gamma: r.float("gamma")})
}

func buildMultiStep(r *stageReader) (Schedule, error) {
	r.Need("milestones", "a/b/c")
	var c MultiStepConfig
	if o := r.Get("milestones"); o != nil && o.HasVal {
		at := o.ValPos
		for _, f := range strings.Split(o.Val, "/") {
			m, ok := spec.ParseInt(f, 1, maxInt/r.scale, true)
			if !ok {
				r.FailAt(at, at+len(f), "want integers >= 1 separated by \"/\" for milestones, got %q", f)
				break
			}
			c.Milestones = append(c.Milestones, m*r.scale)
			at += len(f) + 1
		}
	}
	c.Gamma = r.float("gamma")
	return NewMultiStep(c)
}

func buildExp(r *stageReader) (Schedule, error) {
	c := ExponentialConfig{Gamma: r.float("gamma"), K: r.float("k")}
	if _, err := NewExponential(c); err != nil || r.scale == 1 {
		return NewExponential(c)
	}
	// a per-epoch rate applied per batch
	c.Gamma = math.Pow(c.Gamma, 1/float64(r.scale))
	c.K /= float64(r.scale)
	return NewExponential(c)
}

func buildInvTime(r *stageReader) (Schedule, error) {
	r.Need("k", "X (lr0/(1+k*t))")
	return NewInverseTime(InverseTimeConfig{K: r.float("k") / float64(r.scale)})
}

func buildPoly(r *stageReader) (Schedule, error) {
	return NewPolynomial(PolynomialConfig{Total: r.runLength("total"), Power: r.float("power"), Min: r.float("min")})
}

func buildCosine(r *stageReader) (Schedule, error) {
	return NewCosine(CosineConfig{TMax: r.runLength("tmax"), Min: r.float("min")})
}

func buildRestarts(r *stageReader) (Schedule, error) {
	r.Need("t0", "N (the first cycle's length)")
	return NewCosineWarmRestarts(CosineWarmRestartsConfig{
		T0: r.length("t0", 0), TMult: r.Int("tmult", 0, 0, maxInt), Min: r.float("min"),
	})
}

var cyclicModes = map[string]CyclicMode{"triangular": Triangular, "triangular2": Triangular2, "exp_range": ExpRange, "exp-range": ExpRange}

func buildCyclic(r *stageReader) (Schedule, error) {
	r.Need("max", "LR (the upper bound)")
	return NewCyclic(CyclicConfig{
		MaxLR:        r.float("max"),
		BaseLR:       r.float("base"),
		StepSizeUp:   r.length("up", 0),
		StepSizeDown: r.length("down", 0),
		Mode:         cyclicModes[r.Choice("mode", "triangular", "triangular2", "exp_range", "exp-range")],
		Gamma:        r.float("gamma"),
		NoMomentum:   r.noMomentum(),
		BaseMomentum: r.float("base-momentum"),
		MaxMomentum:  r.float("max-momentum"),
	})
}

func buildOneCycle(r *stageReader) (Schedule, error) {
	return NewOneCycle(OneCycleConfig{
		MaxLR:          r.float("max"),
		Total:          r.runLength("total"),
		PctStart:       r.float("pct"),
		Linear:         r.Choice("anneal", "cos", "linear") == "linear",
		DivFactor:      r.float("div"),
		FinalDivFactor: r.float("final-div"),
		ThreePhase:     r.Choice("three-phase", "false", "true") == "true",
		NoMomentum:     r.noMomentum(),
		BaseMomentum:   r.float("base-momentum"),
		MaxMomentum:    r.float("max-momentum"),
	})
}

func buildWarmup(r *stageReader) (Schedule, error) {
	r.Need("steps", "N")
	c := WarmupConfig{Steps: r.length("steps", 0), StartFactor: r.float("start")}
	if r.forLen == 0 { // its length in a sequence
		r.forLen = c.Steps
	}
	return NewWarmup(c)
}

func buildPlateau(r *stageReader) (Schedule, error) {
	if r.b.plateaus++; r.b.plateaus > 1 {
		r.FailTerm("a spec holds at most one plateau")
	}
	c := PlateauConfig{
		Max:          r.Choice("mode", "min", "max") == "max",
		Factor:       r.float("factor"),
		Patience:     explicitZero(r, "patience", r.Int("patience", 0, 0, maxInt)),
		Threshold:    explicitZero(r, "threshold", r.Float("threshold", 0, spec.AtLeast(0))),
		AbsThreshold: r.Choice("threshold-mode", "rel", "abs") == "abs",
		Cooldown:     r.Int("cooldown", 0, 0, maxInt),
		MinLR:        r.float("min"),
		Eps:          explicitZero(r, "eps", r.Float("eps", 0, spec.AtLeast(0))),
	}
	return NewReduceOnPlateau(c)
}
