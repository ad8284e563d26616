package schedule

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseValues(t *testing.T) {
	type probe struct {
		step int
		want float64
	}
	tests := []struct {
		spec   string
		ctx    Context
		base   float64
		probes []probe
	}{
		{"const", Context{}, 0.1, []probe{{0, 0.1}, {1000, 0.1}}},
		{"constant:factor=0.5", Context{}, 0.1, []probe{{0, 0.05}, {1000, 0.05}}},
		{"step:size=5,gamma=0.1", Context{}, 1, []probe{{0, 1}, {4, 1}, {5, 0.1}, {10, 0.01}, {-3, 1}}},
		// every=epoch (step's default) with 10 batches per epoch: decays at batch 50.
		{"step:size=5", Context{StepsPerEpoch: 10}, 1, []probe{{49, 1}, {50, 0.1}, {99, 0.1}, {100, 0.01}}},
		{"step:size=5,every=batch", Context{StepsPerEpoch: 10}, 1, []probe{{5, 0.1}}},
		{"multistep:milestones=30/60", Context{}, 1, []probe{{29, 1}, {30, 0.1}, {60, 0.01}, {1000, 0.01}}},
		{"exp:gamma=0.5", Context{}, 1, []probe{{3, 0.125}}},
		{"exponential:k=0.1", Context{}, 2, []probe{{10, 2 * math.Exp(-1)}}},
		{"invtime:k=0.01", Context{}, 1, []probe{{100, 0.5}, {300, 0.25}}},
		{"poly:total=10,power=2", Context{}, 1, []probe{{5, 0.25}, {10, 0}, {20, 0}}},
		{"polynomial:total=10,min=0.1", Context{}, 1, []probe{{5, 0.55}, {50, 0.1}}},
		{"cosine:tmax=100,min=0", Context{}, 1, []probe{{0, 1}, {50, 0.5}, {100, 0}, {150, 0}}},
		// tmax from the caller's total steps.
		{"cosine", Context{TotalSteps: 100}, 1, []probe{{50, 0.5}, {100, 0}}},
		{"cosine:min=0.1", Context{TotalSteps: 100}, 1, []probe{{50, 0.55}}},
		{"cosine-restarts:t0=2,tmult=2", Context{}, 1, []probe{{0, 1}, {1, 0.5}, {2, 1}, {4, 0.5}, {6, 1}}},
		{"sgdr:t0=4", Context{}, 1, []probe{{2, 0.5}, {4, 1}, {8, 1}}},
		// cosine-restarts in epochs (default) with 2 batches per epoch.
		{"cosine-restarts:t0=2", Context{StepsPerEpoch: 2}, 1, []probe{{0, 1}, {1, 1}, {2, 0.5}, {3, 0.5}, {4, 1}}},
		// smooth: lengths in epochs, lr updated per batch (4 batches per epoch).
		{"cosine-restarts:t0=2,smooth=true", Context{StepsPerEpoch: 4}, 1, []probe{{0, 1}, {4, 0.5}, {2, 0.5 + 0.5*math.Cos(math.Pi/4)}, {8, 1}}},
		{"exp:gamma=0.25,smooth=true", Context{StepsPerEpoch: 2}, 1, []probe{{1, 0.5}, {2, 0.25}}},
		{"exp:k=2,smooth=true", Context{StepsPerEpoch: 2}, 1, []probe{{1, math.Exp(-1)}}},
		{"invtime:k=1,smooth=true", Context{StepsPerEpoch: 2}, 1, []probe{{1, 2.0 / 3}, {2, 0.5}}},
		{"multistep:milestones=1/3,smooth=true", Context{StepsPerEpoch: 2}, 1, []probe{{1, 1}, {2, 0.1}, {6, 0.01}}},
		{"cosine:every=epoch,smooth=true", Context{TotalSteps: 40, StepsPerEpoch: 4}, 1, []probe{{20, 0.5}, {40, 0}}},
		{"cosine:every=epoch", Context{TotalSteps: 40, StepsPerEpoch: 4}, 1, []probe{{20, 0.5}, {23, 0.5}, {40, 0}}},
		{"warmup:steps=1,every=epoch,smooth=true+const:factor=0.5", Context{StepsPerEpoch: 4}, 1, []probe{{2, 0.5}, {3, 0.75}, {4, 0.5}}},
		{"cyclic:max=1,up=10", Context{}, 0, []probe{{0, 0}, {5, 0.5}, {10, 1}, {15, 0.5}, {20, 0}}},
		{"cyclic:max=1,up=10,mode=triangular2", Context{}, 0, []probe{{30, 0.5}}},
		{"onecycle:max=1,total=100", Context{}, 1, []probe{{0, 0.04}, {29, 1}, {99, 0.04 / 1e4}, {500, 0.04 / 1e4}}},
		{"onecycle", Context{TotalSteps: 100}, 2, []probe{{0, 0.08}, {29, 2}}},
		{"warmup:steps=10", Context{}, 1, []probe{{0, 0}, {5, 0.5}, {10, 1}, {99, 1}}},
		{"warmup:steps=10+cosine", Context{TotalSteps: 110}, 1, []probe{{5, 0.5}, {10, 1}, {60, 0.5}, {110, 0}}},
		{" warmup : steps = 10 , start = 0.5 + cosine : tmax = 100 ", Context{}, 1, []probe{{0, 0.5}, {60, 0.5}}},
		// warmup in batches, then step decay in epochs (5 batches each); the stage starts at
		// batch 10 and its first decay comes 2 epochs later.
		{"warmup:steps=10+step:size=2", Context{StepsPerEpoch: 5}, 1, []probe{{19, 1}, {20, 0.1}}},
		{"const:for=5+exp:gamma=0.5", Context{}, 1, []probe{{4, 1}, {5, 1}, {7, 0.25}}},
		{"const:factor=0.1,steps=2*exp:gamma=0.5", Context{}, 1, []probe{{1, 0.05}, {2, 0.25}}},
		{"plateau", Context{}, 0.3, []probe{{0, 0.3}, {99, 0.3}}},
		{"cosine:tmax=100*plateau:patience=2", Context{}, 1, []probe{{50, 0.5}}},
		{"step:size=1e1,gamma=1e-1", Context{}, 1, []probe{{10, 0.1}}},
		{"cosine:tmax=100,min=1e+0", Context{}, 2, []probe{{100, 1}}},
	}
	for _, tc := range tests {
		s, err := ParseWith(tc.spec, tc.ctx)
		if err != nil {
			t.Errorf("ParseWith(%q, %+v): %v", tc.spec, tc.ctx, err)
			continue
		}
		for _, p := range tc.probes {
			if got := s.LR(p.step, tc.base); math.Abs(got-p.want) > 1e-12*math.Max(1, math.Abs(p.want)) {
				t.Errorf("%q (ctx %+v): LR(%d, %v) = %.15g, want %.15g", tc.spec, tc.ctx, p.step, tc.base, got, p.want)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec     string
		ctx      Context
		fragment string // the fragment the error must quote
		msg      string // a substring of the message
	}{
		{"", Context{}, "", "schedule name"},
		{"stepp:size=5", Context{}, "stepp", "unknown schedule"},
		{"step:size=x", Context{}, "x", `want an integer in [0, 2^40] for size, got "x"`},
		{"step:size=0", Context{}, "step:size=0", "step size 0 out of range [1, +inf)"},
		{"step", Context{}, "step", "needs size"},
		{"step:size=5,gama=0.1", Context{}, "gama=0.1", `no option "gama"`},
		{"step:size=5,size=6", Context{}, "size=6", "twice"},
		{"step:size=5;gamma=1", Context{}, ";", `got ";"`},
		{"step:size", Context{}, "", `"="`},
		{"step:size=", Context{}, "", "value"},
		{"cosine", Context{}, "cosine", "tmax"},
		{"cosine:tmax=-5", Context{}, "-5", "want an integer in [1, 2^40] for tmax"},
		{"cosine:min=nan,tmax=3", Context{}, "nan", "want a finite number for min"},
		{"cosine:tmax=10+exp:gamma=0.9", Context{}, "cosine:tmax=10", "for=N"},
		{"multistep:milestones=30/x", Context{}, "x", "integers"},
		{"multistep:milestones=60/30", Context{}, "multistep:milestones=60/30", "increasing"},
		{"cyclic:max=0.1,mode=sine", Context{}, "sine", "triangular|triangular2|exp_range"},
		{"cyclic:up=10", Context{}, "cyclic:up=10", "needs max"},
		{"onecycle:max=0.1", Context{}, "onecycle:max=0.1", "total"},
		{"plateau:factor=2", Context{}, "plateau:factor=2", "plateau factor 2 out of range (0, 1)"},
		{"plateau*plateau", Context{}, "plateau", "at most one plateau"},
		{"plateau:every=epoch", Context{}, "every=epoch", "does not apply"},
		{"step:size=5,every=week", Context{}, "week", "epoch|batch"},
		{"warmup:steps=10+", Context{}, "", "schedule name"},
		{"cosine:tmax=5,smooth=true", Context{}, "smooth=true", "every=epoch"},
		{"plateau:smooth=true", Context{}, "smooth=true", "does not apply"},
		{"step:size=5,smooth=maybe", Context{}, "maybe", "false|true"},
		{"exp:gamma=0.9,k=0.1", Context{}, "exp:gamma=0.9,k=0.1", "not both"},
		{"step:size=99999999999999999999", Context{}, "99999999999999999999", "integer"},
	}
	for _, tc := range tests {
		_, err := ParseWith(tc.spec, tc.ctx)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("ParseWith(%q): error %v, want a *SpecError", tc.spec, err)
			continue
		}
		if se.Fragment != tc.fragment || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("ParseWith(%q): fragment %q msg %q; want fragment %q msg containing %q", tc.spec, se.Fragment, se.Msg, tc.fragment, tc.msg)
		}
		if se.Pos < 0 || se.Pos > len(tc.spec) || tc.spec[se.Pos:se.Pos+len(se.Fragment)] != se.Fragment {
			t.Errorf("ParseWith(%q): Pos %d does not locate fragment %q", tc.spec, se.Pos, se.Fragment)
		}
		if !strings.Contains(err.Error(), tc.spec) {
			t.Errorf("ParseWith(%q): message %q does not quote the spec", tc.spec, err)
		}
	}
}

// TestParseErrorMessages pins whole messages: the column (in characters, 1-based) of the
// offending fragment and the caret line under it.
func TestParseErrorMessages(t *testing.T) {
	tests := []struct {
		spec, msg, caret string
	}{
		{"cosine:tmax=x", `schedule "cosine:tmax=x": at column 13: want an integer in [1, 2^40] for tmax, got "x"`,
			"  cosine:tmax=x\n              ^"},
		{"warmup:steps=10+cosin", `schedule "warmup:steps=10+cosin": at column 17: unknown schedule "cosin": want one of ` + strings.Join(names(), ", "),
			"  warmup:steps=10+cosin\n                  ^~~~~"},
		{"step:size=5,", `schedule "step:size=5,": at column 13 (end of spec): want an option name, got the end of the spec`,
			"  step:size=5,\n  " + strings.Repeat(" ", 12) + "^"},
		{" step : size = 5 ; ", `schedule " step : size = 5 ; ": at column 18: want "+", "*", "," or the end of the spec, got ";"`,
			"   step : size = 5 ; \n                   ^"},
		{"multistep:milestones=30/6x/90", `schedule "multistep:milestones=30/6x/90": at column 25: want integers >= 1 separated by "/" for milestones, got "6x"`,
			"  multistep:milestones=30/6x/90\n                          ^~"},
		{"cosine:tmax=10+exp:gamma=0.9", `schedule "cosine:tmax=10+exp:gamma=0.9": at column 1: cosine is followed by another stage: give its length with for=N`,
			"  cosine:tmax=10+exp:gamma=0.9\n  ^~~~~~~~~~~~~~"},
		{"step:size=5,gamma=0.1,every=week", `schedule "step:size=5,gamma=0.1,every=week": at column 29: want one of epoch|batch for every, got "week"`,
			"  step:size=5,gamma=0.1,every=week\n                              ^~~~"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.spec)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): %v, want a *SpecError", tc.spec, err)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tc.spec, err, tc.msg)
		}
		if se.Caret() != tc.caret {
			t.Errorf("Parse(%q) caret:\n%s\nwant\n%s", tc.spec, se.Caret(), tc.caret)
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"step gamma", func() error { _, err := NewStep(StepConfig{Size: 1, Gamma: -1}); return err }(), "step gamma -1 out of range (0, +inf)"},
		{"cosine min", func() error { _, err := NewCosine(CosineConfig{TMax: 1, Min: math.Inf(1)}); return err }(), "cosine min +Inf"},
		{"cyclic order", func() error { _, err := NewCyclic(CyclicConfig{BaseLR: 1, MaxLR: 0.5}); return err }(), "cyclic base lr 1 out of range [0, max lr 0.5]"},
		{"onecycle pct", func() error { _, err := NewOneCycle(OneCycleConfig{Total: 10, PctStart: 1.5}); return err }(), "onecycle pct start 1.5 out of range (0, 1)"},
		{"warmup start", func() error { _, err := NewWarmup(WarmupConfig{Steps: 1, StartFactor: 2}); return err }(), "warmup start factor 2 out of range [0, 1]"},
		{"sequence", func() error { _, err := NewSequence([]Schedule{&Constant{}}, []int{3}); return err }(), "needs 0 milestones"},
		{"restarts tmult", func() error { _, err := NewCosineWarmRestarts(CosineWarmRestartsConfig{T0: 1, TMult: -2}); return err }(), "tmult -2"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestPlateauComposesAndSerializes(t *testing.T) {
	s, err := Parse("cosine:tmax=100*plateau:patience=1,factor=0.5")
	if err != nil {
		t.Fatal(err)
	}
	p := FindPlateau(s)
	for _, m := range []float64{1, 1, 1} { // best, bad, bad -> reduction
		p.Observe(m)
	}
	if got, want := s.LR(50, 1), 0.25; math.Abs(got-want) > 1e-12 {
		t.Errorf("reduced cosine at 50: %v, want %v", got, want)
	}
	b, err := json.Marshal(p.State())
	if err != nil {
		t.Fatal(err)
	}
	var st PlateauState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	s2, _ := Parse("cosine:tmax=100*plateau:patience=1,factor=0.5")
	if err := FindPlateau(s2).SetState(st); err != nil {
		t.Fatal(err)
	}
	if got, want := s2.LR(50, 1), s.LR(50, 1); got != want {
		t.Errorf("restored lr %v, want %v (state %s)", got, want, b)
	}
	if st != p.State() {
		t.Errorf("round trip %+v, want %+v", st, p.State())
	}
	// non-finite metrics are bad epochs and keep the state serializable.
	p.Observe(math.Inf(-1))
	p.Observe(math.NaN())
	if _, err := json.Marshal(p.State()); err != nil {
		t.Errorf("state after non-finite metrics: %v", err)
	}
	if err := p.SetState(PlateauState{BadEpochs: -1}); err == nil {
		t.Error("SetState accepted a negative count")
	}
}

func TestMomentumThroughComposites(t *testing.T) {
	s, err := Parse("warmup:steps=10+onecycle:max=1,total=100")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := MomentumAt(s, 5); ok {
		t.Error("momentum during warmup, want none")
	}
	if m, ok := MomentumAt(s, 10); !ok || math.Abs(m-0.95) > 1e-12 {
		t.Errorf("momentum at onecycle start %v %v, want 0.95", m, ok)
	}
	if _, ok := MomentumAt(mustParse(t, "onecycle:total=10,momentum=off"), 0); ok {
		t.Error("momentum=off still cycles")
	}
}

func mustParse(t *testing.T, spec string) Schedule {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"const", "step:size=5,gamma=0.1", "multistep:milestones=30/60,gamma=0.1", "exp:gamma=0.95",
		"invtime:k=0.01", "poly:total=1000,power=2", "cosine:tmax=1000,min=0",
		"cosine-restarts:t0=2,tmult=2,min=0", "cyclic:max=0.1,up=2000,mode=triangular2",
		"onecycle:max=0.1,total=1000", "plateau:patience=2,factor=0.5", "warmup:steps=200+cosine:tmax=1000",
		"cosine*plateau", "onecycle:total=3,pct=0.34,three-phase=true", "step:size=1e+3",
		"sgdr:t0=2,smooth=true+exp:gamma=2,smooth=true", "multistep:milestones=1/2,every=epoch,smooth=true",
		// the package doc's examples
		"step:size=5,gamma=0.1", "multistep:milestones=30/60", "cosine-restarts:t0=2,tmult=2",
		"cosine-restarts:t0=2,tmult=2,smooth=true", "warmup:steps=200+cosine", "onecycle:max=0.1",
		"cosine:tmax=90*plateau:patience=2,factor=0.5",
		// near misses
		"step:size=5;gamma=1", "cosine:tmax=x", " warmup : steps = 10 + ", "plateau*plateau", "exp:gamma=1e+",
	} {
		f.Add(s, 1000, 10)
	}
	f.Fuzz(func(t *testing.T, spec string, total, spe int) {
		s, err := ParseWith(spec, Context{TotalSteps: total % 100000, StepsPerEpoch: spe % 1000})
		if err != nil {
			var se *SpecError
			if errors.As(err, &se) && (se.Pos < 0 || se.Pos+len(se.Fragment) > len(spec) || spec[se.Pos:se.Pos+len(se.Fragment)] != se.Fragment) {
				t.Fatalf("error %v does not locate its fragment", err)
			}
			if se != nil && !strings.Contains(err.Error(), "at column") {
				t.Fatalf("error %v gives no column", err)
			}
			return
		}
		if p := FindPlateau(s); p != nil {
			p.Observe(1)
			p.Observe(2)
		}
		for _, step := range []int{-1, 0, 1, 7, 1000, 1 << 40, math.MaxInt} {
			lr := s.LR(step, 0.1)
			if math.IsNaN(lr) {
				t.Fatalf("%q: LR(%d) is NaN", spec, step)
			}
			MomentumAt(s, step)
		}
	})
}
