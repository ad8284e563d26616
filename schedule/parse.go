package schedule

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Context tells Parse what the caller knows about the run. Both fields are optional.
type Context struct {
	// TotalSteps is the run's length in batches; it is the default for the lengths that
	// schedules need (cosine tmax, poly total, onecycle total) when the spec omits them.
	TotalSteps int
	// StepsPerEpoch converts every=epoch schedules to batch steps (see PerEpoch); 0 means
	// 1, i.e. the caller steps the schedule once per epoch (or has no epochs).
	StepsPerEpoch int
}

// SpecError reports a malformed schedule spec: the fragment at byte offset Pos of Spec
// and what was expected there.
type SpecError struct {
	Spec     string
	Pos      int    // byte offset of Fragment in Spec
	Fragment string // the offending part ("" at the end of the spec)
	Msg      string // what was wrong or expected
}

func (e *SpecError) Error() string {
	frag := strconv.Quote(e.Fragment)
	if e.Fragment == "" {
		frag = "end of spec"
	}
	return fmt.Sprintf("schedule: spec %q: at byte %d, %s: %s", e.Spec, e.Pos, frag, e.Msg)
}

// Parse is ParseWith(spec, Context{}).
func Parse(spec string) (Schedule, error) { return ParseWith(spec, Context{}) }

// ParseWith builds a Schedule from a one-line spec. The step passed to the result counts
// batches when ctx.StepsPerEpoch is set (every=epoch schedules are wrapped in PerEpoch);
// with StepsPerEpoch 0 steps and epochs coincide. The grammar:
//
//	spec  = seq { "*" seq }            chain: each seq's lr is the next one's base (Chain)
//	seq   = stage { "+" stage }        sequence: stages run one after another (Sequence)
//	stage = name [ ":" key "=" value { "," key "=" value } ]
//
// Spaces around tokens are ignored. Numbers are Go floats (1e-3) or integers; lists are
// separated by "/" (milestones=30/60). Options every stage takes:
//
//	every=epoch|batch  the unit of the stage's step counts (default per name, below); with
//	                   epoch, its lengths count epochs and its lr changes only at epoch ends
//	                   (PyTorch's scheduler.step() once per epoch)
//	smooth=true        with every=epoch: lengths still count epochs, but the lr follows the
//	                   fractional epoch batch/StepsPerEpoch at every batch (SGDR's
//	                   within-epoch annealing, PyTorch's step(epoch + i/iters)); rates per
//	                   epoch (exp gamma or k, invtime k) are spread evenly over the batches
//	for=N              the stage's length in a sequence; every stage but the last needs it,
//	                   except warmup (its length is steps)
//
// Names (aliases) and their options, defaults as in PyTorch, "req" = required; lr values
// called base/max/min are absolute, factors multiply the group's base lr:
//
//	const (constant)     factor=1 steps=0 (0: forever)                         every=batch
//	step                 size=req gamma=0.1                                    every=epoch
//	multistep            milestones=req (a/b/c) gamma=0.1                      every=epoch
//	exp (exponential)    gamma=req | k=req (lr0*exp(-k t))                     every=epoch
//	invtime (inverse-time) k=req (lr0/(1+k t))                                 every=epoch
//	poly (polynomial)    total=stage length power=1 min=0                      every=batch
//	cosine               tmax=stage length min=0                               every=batch
//	cosine-restarts (sgdr) t0=req tmult=1 min=0                                every=epoch
//	cyclic               max=req base=group lr up=2000 down=up
//	                     mode=triangular|triangular2|exp_range gamma=1
//	                     momentum=on|off base-momentum=0.8 max-momentum=0.9    every=batch
//	onecycle             max=group lr total=stage length pct=0.3 anneal=cos|linear
//	                     div=25 final-div=1e4 three-phase=false
//	                     momentum=on|off base-momentum=0.85 max-momentum=0.95  every=batch
//	warmup               steps=req start=0                                     every=batch
//	plateau              mode=min|max factor=0.1 patience=10 threshold=1e-4
//	                     threshold-mode=rel|abs cooldown=0 min=0 eps=1e-8      (observed)
//
// "Stage length" (in the stage's unit) is for=N when given, else what remains of ctx.TotalSteps after the
// earlier stages; without either the option is required. A plateau stage is not stepped
// but observed: get it with FindPlateau and call Observe once per epoch; a spec holds at
// most one. Examples: "step:size=5,gamma=0.1", "multistep:milestones=30/60",
// "cosine-restarts:t0=2,tmult=2" (epochs), "cosine-restarts:t0=2,tmult=2,smooth=true",
// "warmup:steps=200+cosine", "onecycle:max=0.1",
// "cosine:tmax=90*plateau:patience=2,factor=0.5".
//
// Errors are *SpecError values naming the offending fragment and its byte offset.
func ParseWith(spec string, ctx Context) (Schedule, error) {
	p := &parser{spec: spec}
	ast, err := p.parse()
	if err != nil {
		return nil, err
	}
	if ctx.TotalSteps < 0 {
		return nil, fmt.Errorf("schedule: total steps %d out of range [0, +inf)", ctx.TotalSteps)
	}
	if ctx.StepsPerEpoch < 0 {
		return nil, fmt.Errorf("schedule: steps per epoch %d out of range [0, +inf)", ctx.StepsPerEpoch)
	}
	if ctx.StepsPerEpoch == 0 {
		ctx.StepsPerEpoch = 1
	}
	b := &builder{p: p, ctx: ctx}
	return b.chain(ast)
}

// ---------------------------------------------------------------------------------------
// syntax

type option struct {
	key, val       string
	keyPos, valPos int
	used           bool
}

type stage struct {
	name     string
	pos, end int // span of the whole stage in spec
	opts     []*option
}

type parser struct {
	spec string
	i    int
}

func (p *parser) errAt(pos, end int, format string, args ...any) *SpecError {
	pos = max(0, min(pos, len(p.spec)))
	end = max(pos, min(end, len(p.spec)))
	return &SpecError{Spec: p.spec, Pos: pos, Fragment: p.spec[pos:end], Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.i < len(p.spec) && (p.spec[p.i] == ' ' || p.spec[p.i] == '\t') {
		p.i++
	}
}

// word scans [a-z0-9_.-/] characters; '+' is taken only as an exponent sign (1e+5).
func (p *parser) word(isValue bool) (string, int) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.spec) {
		c := p.spec[p.i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		case isValue && c == '/':
		case isValue && c == '+' && p.i > start && (p.spec[p.i-1] == 'e' || p.spec[p.i-1] == 'E') &&
			strings.ContainsAny(p.spec[start:p.i], "0123456789") && p.i+1 < len(p.spec) &&
			p.spec[p.i+1] >= '0' && p.spec[p.i+1] <= '9':
		default:
			return p.spec[start:p.i], start
		}
		p.i++
	}
	return p.spec[start:p.i], start
}

// badChar describes the character at p.i for an error.
func (p *parser) badChar(expected string) *SpecError {
	if p.i >= len(p.spec) {
		return p.errAt(p.i, p.i, "expected %s", expected)
	}
	_, size := utf8.DecodeRuneInString(p.spec[p.i:])
	return p.errAt(p.i, p.i+size, "unexpected character, expected %s", expected)
}

func (p *parser) parse() ([][]*stage, error) {
	if len(p.spec) > 4096 {
		return nil, p.errAt(4096, len(p.spec), "spec longer than 4096 bytes")
	}
	var chain [][]*stage
	for {
		var seq []*stage
		for {
			st, err := p.stage()
			if err != nil {
				return nil, err
			}
			seq = append(seq, st)
			p.skipSpace()
			if p.i < len(p.spec) && p.spec[p.i] == '+' {
				p.i++
				continue
			}
			break
		}
		chain = append(chain, seq)
		if p.i < len(p.spec) && p.spec[p.i] == '*' {
			p.i++
			continue
		}
		if p.i < len(p.spec) {
			return nil, p.badChar(`"+", "*", "," or end of spec`)
		}
		return chain, nil
	}
}

func (p *parser) stage() (*stage, error) {
	name, pos := p.word(false)
	if name == "" {
		return nil, p.badChar("a schedule name (" + strings.Join(names(), ", ") + ")")
	}
	st := &stage{name: strings.ToLower(name), pos: pos}
	p.skipSpace()
	if p.i < len(p.spec) && p.spec[p.i] == ':' {
		p.i++
		for {
			key, kpos := p.word(false)
			if key == "" {
				return nil, p.badChar("an option name")
			}
			p.skipSpace()
			if p.i >= len(p.spec) || p.spec[p.i] != '=' {
				return nil, p.badChar(fmt.Sprintf("\"=\" after option %q", key))
			}
			p.i++
			val, vpos := p.word(true)
			if val == "" {
				return nil, p.badChar(fmt.Sprintf("a value for option %q", key))
			}
			key = strings.ToLower(key)
			for _, o := range st.opts {
				if o.key == key {
					return nil, p.errAt(kpos, vpos+len(val), "option %q given twice", key)
				}
			}
			st.opts = append(st.opts, &option{key: key, val: val, keyPos: kpos, valPos: vpos})
			p.skipSpace()
			if p.i < len(p.spec) && p.spec[p.i] == ',' {
				p.i++
				continue
			}
			break
		}
	}
	st.end = p.i
	return st, nil
}

// ---------------------------------------------------------------------------------------
// semantics

type nameInfo struct {
	epoch bool     // default unit
	keys  []string // allowed options besides every and for
}

var nameTable = map[string]nameInfo{
	"const":           {false, []string{"factor", "steps"}},
	"step":            {true, []string{"size", "gamma"}},
	"multistep":       {true, []string{"milestones", "gamma"}},
	"exp":             {true, []string{"gamma", "k"}},
	"invtime":         {true, []string{"k"}},
	"poly":            {false, []string{"total", "power", "min"}},
	"cosine":          {false, []string{"tmax", "min"}},
	"cosine-restarts": {true, []string{"t0", "tmult", "min"}},
	"cyclic":          {false, []string{"max", "base", "up", "down", "mode", "gamma", "momentum", "base-momentum", "max-momentum"}},
	"onecycle":        {false, []string{"max", "total", "pct", "anneal", "div", "final-div", "three-phase", "momentum", "base-momentum", "max-momentum"}},
	"warmup":          {false, []string{"steps", "start"}},
	"plateau":         {false, []string{"mode", "factor", "patience", "threshold", "threshold-mode", "cooldown", "min", "eps"}},
}

var aliases = map[string]string{
	"constant": "const", "exponential": "exp", "inverse-time": "invtime",
	"polynomial": "poly", "sgdr": "cosine-restarts",
}

func names() []string {
	var n []string
	for k := range nameTable {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

const maxInt = 1 << 40 // bound on every integer option, so products cannot overflow

type builder struct {
	p        *parser
	ctx      Context
	plateaus int
}

func (b *builder) chain(ast [][]*stage) (Schedule, error) {
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
	return NewChain(parts...)
}

func (b *builder) seq(seq []*stage) (Schedule, error) {
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
				return nil, b.p.errAt(st.pos, st.end, "sequence longer than 2^40 steps")
			}
			at += length
			milestones = append(milestones, at)
		}
	}
	if len(stages) == 1 {
		return stages[0], nil
	}
	return NewSequence(stages, milestones)
}

// stageReader gives typed access to a stage's options with positioned errors.
type stageReader struct {
	b     *builder
	st    *stage
	scale int // multiplier for lengths (smooth=true converts epochs to batches)
}

func (r stageReader) get(key string) *option {
	for _, o := range r.st.opts {
		if o.key == key {
			o.used = true
			return o
		}
	}
	return nil
}

func (r stageReader) bad(o *option, format string, args ...any) *SpecError {
	return r.b.p.errAt(o.keyPos, o.valPos+len(o.val), format, args...)
}

func (r stageReader) float(key string, def float64) (float64, error) {
	o := r.get(key)
	if o == nil {
		return def, nil
	}
	v, err := strconv.ParseFloat(o.val, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, r.bad(o, "%s wants a finite number, got %q", key, o.val)
	}
	return v, nil
}

func (r stageReader) int(key string, def int) (int, error) {
	o := r.get(key)
	if o == nil {
		return def, nil
	}
	v, err := parseInt(o.val)
	if err != nil {
		return 0, r.bad(o, "%s wants an integer in [0, 2^40], got %q", key, o.val)
	}
	return v, nil
}

func parseInt(s string) (int, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// accept integral floats such as 1e3
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("not an integer")
		}
		if f < 0 || f > maxInt {
			return 0, fmt.Errorf("out of range")
		}
		return int(f), nil
	}
	if v < 0 || v > maxInt {
		return 0, fmt.Errorf("out of range")
	}
	return int(v), nil
}

// length reads an integer length option, converted by r.scale.
func (r stageReader) length(key string, def int) (int, error) {
	v, err := r.int(key, def)
	if err != nil || r.scale <= 1 {
		return v, err
	}
	if v > maxInt/r.scale {
		return 0, r.bad(r.get(key), "%s %d epochs is more than 2^40 batches", key, v)
	}
	return v * r.scale, nil
}

func (r stageReader) choice(key string, allowed ...string) (string, error) {
	o := r.get(key)
	if o == nil {
		return allowed[0], nil
	}
	v := strings.ToLower(o.val)
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", r.bad(o, "%s wants one of %s, got %q", key, strings.Join(allowed, "|"), o.val)
}

// stage builds one stage; at is the number of batches used by the stages before it.
// It returns the schedule (already converted to batch steps) and its length in batches
// (0 if unknown, which only the last stage may be).
func (b *builder) stage(st *stage, at int, last bool) (Schedule, int, error) {
	name := st.name
	if a, ok := aliases[name]; ok {
		name = a
	}
	info, ok := nameTable[name]
	if !ok {
		return nil, 0, b.p.errAt(st.pos, st.pos+len(st.name), "unknown schedule %q, expected one of %s", st.name, strings.Join(names(), ", "))
	}
	r := stageReader{b: b, st: st, scale: 1}
	unit, err := r.choice("every", map[bool][]string{true: {"epoch", "batch"}, false: {"batch", "epoch"}}[info.epoch]...)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range []string{"every", "smooth"} {
		if o := r.get(k); name == "plateau" && o != nil {
			return nil, 0, r.bad(o, "plateau is observed once per epoch, not stepped: %s does not apply", k)
		}
	}
	smooth, err := r.choice("smooth", "false", "true")
	if err != nil {
		return nil, 0, err
	}
	spe := 1 // batches per step of the built schedule, wrapped in PerEpoch when > 1
	if unit == "epoch" {
		spe = b.ctx.StepsPerEpoch
		if smooth == "true" {
			r.scale, spe = spe, 1
		}
	} else if o := r.get("smooth"); o != nil && smooth == "true" {
		return nil, 0, r.bad(o, "smooth=true applies to every=epoch stages only")
	}
	forLen, err := r.length("for", 0)
	if err != nil {
		return nil, 0, err
	}
	if o := r.get("for"); o != nil && forLen < 1 {
		return nil, 0, r.bad(o, "for wants a stage length >= 1, got %q", o.val)
	}
	// the stage's length in its own unit: for=, else what remains of the run.
	length := forLen
	if length == 0 && last && b.ctx.TotalSteps > 0 {
		length = (b.ctx.TotalSteps - at) / spe
		if length < 1 {
			length = 0
		}
	}
	needLen := func(key string, v int) (int, error) {
		if v > 0 {
			return v, nil
		}
		if o := r.get(key); o != nil {
			return 0, r.bad(o, "%s wants an integer >= 1, got %q", key, o.val)
		}
		if length > 0 {
			return length, nil
		}
		return 0, b.p.errAt(st.pos, st.end, "%s needs %s=N (or for=N, or a total step count from the caller)", name, key)
	}

	var s Schedule
	switch name {
	case "const":
		var c ConstantConfig
		if c.Factor, err = r.float("factor", 0); err == nil {
			c.Steps, err = r.length("steps", 0)
		}
		if err == nil {
			s, err = NewConstant(c)
		}
	case "step":
		var c StepConfig
		if c.Size, err = r.length("size", 0); err == nil {
			c.Gamma, err = r.float("gamma", 0)
		}
		if err == nil && r.get("size") == nil {
			err = b.p.errAt(st.pos, st.end, "step needs size=N (the decay period)")
		}
		if err == nil {
			s, err = NewStep(c)
		}
	case "multistep":
		var c MultiStepConfig
		if o := r.get("milestones"); o == nil {
			err = b.p.errAt(st.pos, st.end, "multistep needs milestones=a/b/c")
		} else {
			for _, f := range strings.Split(o.val, "/") {
				m, perr := parseInt(f)
				if perr == nil && m > maxInt/r.scale {
					perr = fmt.Errorf("too large")
				}
				m *= r.scale
				if perr != nil || m < 1 {
					err = r.bad(o, "milestones wants integers >= 1 separated by \"/\", got %q", f)
					break
				}
				c.Milestones = append(c.Milestones, m)
			}
		}
		if err == nil {
			c.Gamma, err = r.float("gamma", 0)
		}
		if err == nil {
			s, err = NewMultiStep(c)
		}
	case "exp":
		var c ExponentialConfig
		if c.Gamma, err = r.float("gamma", 0); err == nil {
			c.K, err = r.float("k", 0)
		}
		if err == nil {
			s, err = NewExponential(c)
		}
		if err == nil && r.scale > 1 { // per-epoch rate, applied per batch
			c.Gamma = math.Pow(c.Gamma, 1/float64(r.scale))
			c.K /= float64(r.scale)
			s, err = NewExponential(c)
		}
	case "invtime":
		var c InverseTimeConfig
		if c.K, err = r.float("k", 0); err == nil && r.get("k") == nil {
			err = b.p.errAt(st.pos, st.end, "invtime needs k=X (lr0/(1+k*t))")
		}
		if err == nil {
			c.K /= float64(r.scale)
			s, err = NewInverseTime(c)
		}
	case "poly":
		var c PolynomialConfig
		if c.Total, err = r.length("total", 0); err == nil {
			c.Total, err = needLen("total", c.Total)
		}
		if err == nil {
			c.Power, err = r.float("power", 0)
		}
		if err == nil {
			c.Min, err = r.float("min", 0)
		}
		if err == nil {
			s, err = NewPolynomial(c)
		}
	case "cosine":
		var c CosineConfig
		if c.TMax, err = r.length("tmax", 0); err == nil {
			c.TMax, err = needLen("tmax", c.TMax)
		}
		if err == nil {
			c.Min, err = r.float("min", 0)
		}
		if err == nil {
			s, err = NewCosine(c)
		}
	case "cosine-restarts":
		var c CosineWarmRestartsConfig
		if c.T0, err = r.length("t0", 0); err == nil && r.get("t0") == nil {
			err = b.p.errAt(st.pos, st.end, "cosine-restarts needs t0=N (the first cycle's length)")
		}
		if err == nil {
			c.TMult, err = r.int("tmult", 0)
		}
		if err == nil {
			c.Min, err = r.float("min", 0)
		}
		if err == nil {
			s, err = NewCosineWarmRestarts(c)
		}
	case "cyclic":
		var c CyclicConfig
		var mode, mom string
		if c.MaxLR, err = r.float("max", 0); err == nil && r.get("max") == nil {
			err = b.p.errAt(st.pos, st.end, "cyclic needs max=LR (the upper bound)")
		}
		if err == nil {
			c.BaseLR, err = r.float("base", 0)
		}
		if err == nil {
			c.StepSizeUp, err = r.length("up", 0)
		}
		if err == nil {
			c.StepSizeDown, err = r.length("down", 0)
		}
		if err == nil {
			mode, err = r.choice("mode", "triangular", "triangular2", "exp_range", "exp-range")
		}
		if err == nil {
			c.Mode = map[string]CyclicMode{"triangular": Triangular, "triangular2": Triangular2, "exp_range": ExpRange, "exp-range": ExpRange}[mode]
			c.Gamma, err = r.float("gamma", 0)
		}
		if err == nil {
			mom, err = r.choice("momentum", "on", "off")
		}
		if err == nil {
			c.NoMomentum = mom == "off"
			c.BaseMomentum, err = r.float("base-momentum", 0)
		}
		if err == nil {
			c.MaxMomentum, err = r.float("max-momentum", 0)
		}
		if err == nil {
			s, err = NewCyclic(c)
		}
	case "onecycle":
		var c OneCycleConfig
		var anneal, three, mom string
		if c.MaxLR, err = r.float("max", 0); err == nil {
			c.Total, err = r.length("total", 0)
		}
		if err == nil {
			c.Total, err = needLen("total", c.Total)
		}
		if err == nil {
			c.PctStart, err = r.float("pct", 0)
		}
		if err == nil {
			anneal, err = r.choice("anneal", "cos", "linear")
		}
		if err == nil {
			c.Linear = anneal == "linear"
			c.DivFactor, err = r.float("div", 0)
		}
		if err == nil {
			c.FinalDivFactor, err = r.float("final-div", 0)
		}
		if err == nil {
			three, err = r.choice("three-phase", "false", "true")
		}
		if err == nil {
			c.ThreePhase = three == "true"
			mom, err = r.choice("momentum", "on", "off")
		}
		if err == nil {
			c.NoMomentum = mom == "off"
			c.BaseMomentum, err = r.float("base-momentum", 0)
		}
		if err == nil {
			c.MaxMomentum, err = r.float("max-momentum", 0)
		}
		if err == nil {
			s, err = NewOneCycle(c)
		}
	case "warmup":
		var c WarmupConfig
		if c.Steps, err = r.length("steps", 0); err == nil && r.get("steps") == nil {
			err = b.p.errAt(st.pos, st.end, "warmup needs steps=N")
		}
		if err == nil {
			c.StartFactor, err = r.float("start", 0)
		}
		if err == nil {
			s, err = NewWarmup(c)
		}
		if err == nil && forLen == 0 {
			forLen = c.Steps
		}
	case "plateau":
		var c PlateauConfig
		var mode, tmode string
		b.plateaus++
		if b.plateaus > 1 {
			err = b.p.errAt(st.pos, st.end, "a spec holds at most one plateau")
		}
		if err == nil {
			mode, err = r.choice("mode", "min", "max")
		}
		if err == nil {
			c.Max = mode == "max"
			c.Factor, err = r.float("factor", 0)
		}
		if err == nil {
			if o := r.get("patience"); o != nil {
				var pat int
				if pat, err = r.int("patience", 0); err == nil {
					c.Patience = pat
					if pat == 0 {
						c.Patience = -1 // explicit zero patience
					}
				}
			}
		}
		if err == nil {
			if o := r.get("threshold"); o != nil {
				if c.Threshold, err = r.float("threshold", 0); err == nil && c.Threshold < 0 {
					err = r.bad(o, "threshold wants a number >= 0, got %q", o.val)
				} else if c.Threshold == 0 {
					c.Threshold = -1 // explicit zero
				}
			}
		}
		if err == nil {
			tmode, err = r.choice("threshold-mode", "rel", "abs")
		}
		if err == nil {
			c.AbsThreshold = tmode == "abs"
			c.Cooldown, err = r.int("cooldown", 0)
		}
		if err == nil {
			c.MinLR, err = r.float("min", 0)
		}
		if err == nil {
			if o := r.get("eps"); o != nil {
				if c.Eps, err = r.float("eps", 0); err == nil && c.Eps < 0 {
					err = r.bad(o, "eps wants a number >= 0, got %q", o.val)
				} else if c.Eps == 0 {
					c.Eps = -1 // explicit zero
				}
			}
		}
		if err == nil {
			s, err = NewReduceOnPlateau(c)
		}
	}
	if err != nil {
		if _, ok := err.(*SpecError); ok {
			return nil, 0, err
		}
		return nil, 0, b.p.errAt(st.pos, st.end, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	}
	// unknown options
	for _, o := range st.opts {
		if !o.used {
			return nil, 0, r.bad(o, "%s has no option %q; it takes %s, every, smooth, for", name, o.key, strings.Join(info.keys, ", "))
		}
	}
	if !last && forLen == 0 {
		return nil, 0, b.p.errAt(st.pos, st.end, "%s is followed by another stage: give its length with for=N", name)
	}
	if spe > 1 {
		if forLen > maxInt/spe {
			return nil, 0, b.p.errAt(st.pos, st.end, "stage longer than 2^40 steps")
		}
		s = &PerEpoch{S: s, StepsPerEpoch: spe}
	}
	return s, forLen * spe, nil
}
