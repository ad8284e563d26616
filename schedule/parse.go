package schedule

import (
	"fmt"
	"sort"
	"strings"

	"github.com/temperml/temper/internal/spec"
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
// and what was wanted there. Its message gives the column:
//
//	schedule "step:size=x": at column 11: want an integer in [0, 2^40] for size, got "x"
type SpecError struct {
	Spec     string
	Pos      int    // byte offset of Fragment in Spec
	Fragment string // the offending part ("" for a missing token, e.g. at the end)
	Msg      string // what was wrong or wanted
}

func (e *SpecError) Error() string { return spec.Format("schedule", e.Spec, e.Pos, e.Msg) }

// Caret returns the spec and, under it, a line marking the fragment with '^~~', for
// printing below the error on a terminal.
func (e *SpecError) Caret() string { return spec.Caret(e.Spec, e.Pos, e.Pos+len(e.Fragment)) }

func specError(e *spec.Error) *SpecError {
	return &SpecError{Spec: e.Spec, Pos: e.Pos, Fragment: e.Fragment(), Msg: e.Msg}
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
// Spaces around tokens are ignored; names, option names and word values (every=Epoch)
// are case-insensitive. Numbers are Go floats (1e-3) or integers; lists are
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
// Errors are *SpecError values naming the offending fragment and its position.
func ParseWith(spec string, ctx Context) (Schedule, error) {
	if ctx.TotalSteps < 0 {
		return nil, fmt.Errorf("schedule: total steps %d out of range [0, +inf)", ctx.TotalSteps)
	}
	if ctx.StepsPerEpoch < 0 {
		return nil, fmt.Errorf("schedule: steps per epoch %d out of range [0, +inf)", ctx.StepsPerEpoch)
	}
	s := syntax.Scanner(spec)
	ast, err := terms(s)
	if err == nil {
		b := &builder{s: s, ctx: ctx}
		b.ctx.StepsPerEpoch = max(1, ctx.StepsPerEpoch)
		var sched Schedule
		if sched, err = b.chain(ast); err == nil {
			return sched, nil
		}
	}
	return nil, specError(err)
}

// maxSpec bounds the length of a spec.
const maxSpec = 4096

// syntax is the schedule grammar's lexical shape: words of [A-Za-z0-9_.-], values also
// with '/' (lists) and an exponent's '+' (1e+3); blanks skipped; case folded.
var syntax = &spec.Syntax{
	Grammar:   "schedule",
	Blank:     true,
	Fold:      true,
	Name:      spec.Word(""),
	Key:       spec.Word(""),
	Value:     spec.ExponentSign(spec.Word("/")),
	IntFloats: true,
	NameWant:  "a schedule name (" + strings.Join(names(), ", ") + ")",
}

// terms reads the chain ('*') of sequences ('+') of stages.
func terms(s *spec.Scanner) ([][]*spec.Term, *spec.Error) {
	if len(s.Src()) > maxSpec {
		return nil, s.Errorf(maxSpec, len(s.Src()), "spec longer than %d bytes", maxSpec)
	}
	var chain [][]*spec.Term
	var seq []*spec.Term
	for {
		t, err := s.Term()
		if err != nil {
			return nil, err
		}
		seq = append(seq, t)
		switch {
		case s.Accept('+'):
		case s.Accept('*'):
			chain, seq = append(chain, seq), nil
		case s.AtEnd():
			return append(chain, seq), nil
		default:
			return nil, s.Unexpected(`"+", "*", "," or the end of the spec`)
		}
	}
}

// epochUnit lists the schedules stepped once per epoch by default (every=epoch).
var epochUnit = map[string]bool{"step": true, "multistep": true, "exp": true, "invtime": true, "cosine-restarts": true}

var aliases = map[string]string{
	"constant": "const", "exponential": "exp", "inverse-time": "invtime",
	"polynomial": "poly", "sgdr": "cosine-restarts",
}

func names() []string {
	var n []string
	for k := range builders {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
