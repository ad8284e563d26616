package average_test

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/average"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

func TestEMADecayWarmup(t *testing.T) {
	e, err := average.NewEMA(buildModel(t, 1), average.DefaultEMAConfig())
	if err != nil {
		t.Fatal(err)
	}
	noWarm, err := average.NewEMA(buildModel(t, 1), average.EMAConfig{Decay: 0.9, Every: 1, NoWarmup: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ema  *average.EMA
		t    int
		want float64
	}{
		{e, 0, 0.1}, {e, 1, 2.0 / 11}, {e, 80, 0.9}, {e, 890, 0.99}, {e, 8990, 0.999}, {e, 1e6, 0.999},
		{noWarm, 0, 0.9}, {noWarm, 50, 0.9},
	} {
		if got := tc.ema.DecayAt(tc.t); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("decay %v DecayAt(%d) = %v, want %v", tc.ema.Config().Decay, tc.t, got, tc.want)
		}
	}
	if e.StateKey() != "ema" || e.Kind() != "ema" {
		t.Errorf("key %q kind %q, want ema", e.StateKey(), e.Kind())
	}
}

func second[T any](_ T, err error) error { return err }

func TestConfigErrors(t *testing.T) {
	m := buildModel(t, 1)
	ema := func(c average.EMAConfig) error { return second(average.NewEMA(m, c)) }
	swa := func(c average.SWAConfig) error { return second(average.NewSWA(m, c)) }
	swalr := func(c average.SWALRConfig) error { return second(average.NewSWALR(nil, c)) }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"decay 1", ema(average.EMAConfig{Decay: 1, Every: 1}), "average: ema decay 1 out of range (0, 1)"},
		{"decay 0", ema(average.EMAConfig{Every: 1}), "ema decay 0 out of range (0, 1)"},
		{"decay NaN", ema(average.EMAConfig{Decay: math.NaN(), Every: 1}), "ema decay NaN out of range"},
		{"every 0", ema(average.EMAConfig{Decay: 0.9}), "ema every 0 out of range [1, ∞)"},
		{"key", ema(average.EMAConfig{Decay: 0.9, Every: 1, Key: "a.b"}), "ema key \"a.b\""},
		{"ema nil model", second(average.NewEMA(nil, average.DefaultEMAConfig())), "ema: nil model"},
		{"no params", second(average.NewEMA(nn.ReLU{}, average.DefaultEMAConfig())), "no parameters"},
		{"swa start", swa(average.SWAConfig{Every: 1}), "average: swa start epoch 0 out of range [1, ∞)"},
		{"swa every", swa(average.SWAConfig{Start: 1}), "swa every 0 out of range [1, ∞)"},
		{"swa nil model", second(average.NewSWA(nil, average.SWAConfig{Start: 1, Every: 1})), "swa: nil model"},
		{"swalr start", swalr(average.SWALRConfig{StartStep: -1}), "swa lr start step -1 out of range [0, ∞)"},
		{"swalr lr", swalr(average.SWALRConfig{LR: -1}), "swa lr -1 out of range [0, ∞)"},
		{"swalr lr inf", swalr(average.SWALRConfig{LR: math.Inf(1)}), "swa lr +Inf out of range"},
		{"swalr min", swalr(average.SWALRConfig{LR: 0.1, MinLR: 0.2}), "swa min lr 0.2 out of range [0, lr=0.1]"},
		{"swalr cycle", swalr(average.SWALRConfig{CycleSteps: -3}), "cycle steps -3"},
		{"swalr anneal", swalr(average.SWALRConfig{AnnealSteps: -1}), "anneal steps -1"},
		{"bn batch", second(average.RefreshBatchNorm(m, blobs(4, 1), 0)), "bn refresh batch size 0 out of range [1, ∞)"},
		{"bn nil model", second(average.RefreshBatchNorm(nil, blobs(4, 1), 4)), "nil model"},
		{"bn empty data", second(average.RefreshBatchNorm(m, nil, 4)), "empty dataset"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

// EMA averages parameters and buffers with the same decay (timm ModelEmaV2) and copies
// the num_batches_tracked counter.
func TestEMAUpdateApplyRestore(t *testing.T) {
	m := buildModel(t, 1)
	setWeights(m, 1, 0)
	e, err := average.NewEMA(m, average.EMAConfig{Decay: 0.5, Every: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Updates with weights 3 then 5 and buffers 7 then 8: d_0 = min(0.5, 0.1),
	// d_1 = min(0.5, 2/11).
	wantW, wantB := 1.0, 0.0
	for k, v := range []float32{3, 5} {
		setWeights(m, v, float32(k+7))
		if err := e.Update(); err != nil {
			t.Fatal(err)
		}
		d := e.DecayAt(k)
		wantW = d*wantW + (1-d)*float64(v)
		wantB = d*wantB + (1-d)*float64(k+7)
	}
	if e.Updates() != 2 {
		t.Errorf("Updates = %d, want 2", e.Updates())
	}
	live := weights(m)
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(); !errors.Is(err, average.ErrApplied) {
		t.Errorf("second Apply: %v, want ErrApplied", err)
	}
	if err := e.Update(); !errors.Is(err, average.ErrApplied) {
		t.Errorf("Update while applied: %v, want ErrApplied", err)
	}
	if _, _, err := e.State(); !errors.Is(err, average.ErrApplied) {
		t.Errorf("State while applied: %v, want ErrApplied", err)
	}
	for _, p := range nn.Params(m) {
		if got := float64(p.Value.Data()[0]); got != float64(float32(wantW)) {
			t.Fatalf("%s = %v, want %v", p.Name, got, float32(wantW))
		}
	}
	for _, b := range nn.Buffers(m) {
		want := float32(wantB)
		if strings.HasSuffix(b.Name, "num_batches_tracked") {
			want = 8 // copied, not averaged
		}
		if got := b.T.Data()[0]; got != want {
			t.Fatalf("buffer %s = %v, want %v", b.Name, got, want)
		}
	}
	sd := e.StateDict()
	if len(sd) != len(nn.StateDict(m)) || !equalFloats(flat(sd), weights(m)) {
		t.Fatalf("StateDict (%d entries) is not the applied model (%d entries)", len(sd), len(nn.StateDict(m)))
	}
	if err := e.Restore(); err != nil {
		t.Fatal(err)
	}
	if !equalFloats(weights(m), live) {
		t.Error("Restore did not bring back the live weights exactly")
	}
	if err := e.Restore(); err == nil {
		t.Error("second Restore: no error")
	}
	if !equalFloats(flat(e.StateDict()), flat(sd)) {
		t.Error("StateDict after Restore differs from while applied")
	}
}

// With restores the live weights after fn returns, fails or panics.
func TestWithRestores(t *testing.T) {
	m := buildModel(t, 2)
	e, err := average.NewEMA(m, average.EMAConfig{Decay: 0.5, Every: 1, NoWarmup: true})
	if err != nil {
		t.Fatal(err)
	}
	jiggle(m, rng.New(3))
	if err := e.Update(); err != nil {
		t.Fatal(err)
	}
	jiggle(m, rng.New(4))
	live := weights(m)
	avg := flat(e.StateDict())
	boom := errors.New("boom")
	var seen []float32
	err = e.With(func() error { seen = weights(m); return boom })
	if !errors.Is(err, boom) {
		t.Errorf("With: %v, want fn's error", err)
	}
	if !equalFloats(seen, avg) {
		t.Error("fn did not see the averaged weights")
	}
	if !equalFloats(weights(m), live) {
		t.Error("live weights not restored after an error")
	}
	func() {
		defer func() {
			if r := recover(); r != "panic in fn" {
				t.Errorf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = e.With(func() error { panic("panic in fn") })
	}()
	if !equalFloats(weights(m), live) {
		t.Error("live weights not restored after a panic")
	}
	if err := e.Update(); err != nil {
		t.Errorf("Update after a panicking With: %v", err)
	}
	if err := e.With(nil); err == nil {
		t.Error("With(nil): no error")
	}
}

func TestEMACallbackEvery(t *testing.T) {
	m := buildModel(t, 1)
	e, err := average.NewEMA(m, average.EMAConfig{Decay: 0.9, Every: 3, NoWarmup: true})
	if err != nil {
		t.Fatal(err)
	}
	var cb train.Callback = e
	want := float64(nn.Params(m)[0].Value.Data()[0])
	for step := 1; step <= 10; step++ {
		setWeights(m, float32(step), 0)
		if err := cb.AfterStep(&train.StepInfo{GlobalStep: step}); err != nil {
			t.Fatal(err)
		}
		if step%3 == 0 {
			want = 0.9*want + 0.1*float64(step)
		}
	}
	if e.Updates() != 3 {
		t.Errorf("%d updates after 10 steps with every=3, want 3", e.Updates())
	}
	if got := e.StateDict()[0].T.Data()[0]; got != float32(want) {
		t.Errorf("average %v, want %v", got, float32(want))
	}
}

func TestSWAEqualAverage(t *testing.T) {
	m := buildModel(t, 1)
	s, err := average.NewSWA(m, average.SWAConfig{Start: 3, Every: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(); !errors.Is(err, average.ErrEmpty) {
		t.Errorf("Apply before any update: %v, want ErrEmpty", err)
	}
	if _, err := s.With(nil, 1, func() error { return nil }); !errors.Is(err, average.ErrEmpty) {
		t.Errorf("With before any update: %v, want ErrEmpty", err)
	}
	for _, tc := range []struct {
		epoch int
		due   bool
	}{{1, false}, {2, false}, {3, true}, {4, false}, {5, true}, {7, true}, {8, false}} {
		if got := s.Due(tc.epoch); got != tc.due {
			t.Errorf("Due(%d) = %v, want %v", tc.epoch, got, tc.due)
		}
	}
	var cb train.Callback = s
	vals := []float32{2, 4, 9} // averaged at epochs 3, 5, 7; other epochs' weights ignored
	k := 0
	for epoch := 1; epoch <= 8; epoch++ {
		v := float32(100)
		if s.Due(epoch) {
			v = vals[k]
			k++
		}
		setWeights(m, v, float32(epoch))
		if err := cb.AfterEpoch(nil, &train.EpochRecord{Epoch: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 3 {
		t.Fatalf("Count = %d, want 3", s.Count())
	}
	if err := s.Apply(); err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.Params(m) {
		if got := p.Value.Data()[0]; got != 5 {
			t.Fatalf("%s = %v, want (2+4+9)/3 = 5", p.Name, got)
		}
	}
	for _, b := range nn.Buffers(m) {
		if got := b.T.Data()[0]; got != 7 {
			t.Fatalf("buffer %s = %v, want 7, copied at the last update (epoch 7)", b.Name, got)
		}
	}
	if err := s.Restore(); err != nil {
		t.Fatal(err)
	}
	if got := nn.Params(m)[0].Value.Data()[0]; got != 100 {
		t.Errorf("live weight after Restore = %v, want 100", got)
	}
}

// SWA.With refreshes the batch-norm statistics of the averaged weights before fn and
// restores the live weights and statistics afterwards.
func TestSWAWithRefresh(t *testing.T) {
	ds := blobs(100, 5)
	m := buildModel(t, 2)
	s, err := average.NewSWA(m, average.SWAConfig{Start: 1, Every: 1})
	if err != nil {
		t.Fatal(err)
	}
	for epoch := 1; epoch <= 2; epoch++ {
		jiggle(m, rng.New(uint64(epoch)))
		if err := s.AfterEpoch(nil, &train.EpochRecord{Epoch: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	live := weights(m)
	var inside []float32
	n, err := s.With(ds, 32, func() error { inside = weights(m); return nil })
	if err != nil || n != 3 {
		t.Fatalf("With: %d batches, %v; want 3 batches", n, err)
	}
	if !equalFloats(weights(m), live) {
		t.Error("live weights not restored")
	}
	// The statistics inside are what a refresh of the averaged weights computes.
	ref := buildModel(t, 9)
	sd := map[string]*tensor.Tensor{}
	for _, e := range s.StateDict() {
		sd[e.Name] = e.T
	}
	if err := nn.LoadStateDict(ref, sd, true); err != nil {
		t.Fatal(err)
	}
	if _, err := average.RefreshBatchNorm(ref, ds, 32); err != nil {
		t.Fatal(err)
	}
	if !equalFloats(inside, weights(ref)) {
		t.Error("weights inside With differ from the averaged weights with refreshed statistics")
	}
}

func TestSWALR(t *testing.T) {
	const base = 0.1
	mk := func(inner schedule.Schedule, c average.SWALRConfig) schedule.Schedule {
		s, err := average.NewSWALR(inner, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	step, err := schedule.NewStep(schedule.StepConfig{Size: 5, Gamma: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	constant := mk(nil, average.SWALRConfig{StartStep: 10, LR: 0.02})
	defaultLR := mk(nil, average.SWALRConfig{StartStep: 0})
	cyclic := mk(nil, average.SWALRConfig{StartStep: 10, LR: 0.05, MinLR: 0.01, CycleSteps: 4})
	anneal := mk(nil, average.SWALRConfig{StartStep: 10, LR: 0.02, AnnealSteps: 2})
	afterStep := mk(step, average.SWALRConfig{StartStep: 10, LR: 0.02, AnnealSteps: 2})
	for _, tc := range []struct {
		name string
		s    schedule.Schedule
		t    int
		want float64
	}{
		{"constant before start", constant, 9, base},
		{"constant at start", constant, 10, 0.02},
		{"constant later", constant, 1000, 0.02},
		{"default lr is the base", defaultLR, 5, base},
		// t(i) = (mod(i−1, c)+1)/c for the i-th step of the phase (i from 1).
		{"cyclic i=1", cyclic, 10, 0.75*0.05 + 0.25*0.01},
		{"cyclic i=4 (cycle end)", cyclic, 13, 0.01},
		{"cyclic i=5 (restart)", cyclic, 14, 0.75*0.05 + 0.25*0.01},
		{"anneal half way", anneal, 10, 0.02 + (base-0.02)/2},
		{"anneal done", anneal, 11, 0.02},
		{"after anneal", anneal, 50, 0.02},
		{"inner before start", afterStep, 7, base * 0.5},
		{"anneal from inner's rate", afterStep, 10, 0.02 + (base*0.25-0.02)/2},
	} {
		if got := tc.s.LR(tc.t, base); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: LR(%d) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
	// A ReduceOnPlateau and a momentum cycle inside stay visible through the wrapper.
	p, err := schedule.NewReduceOnPlateau(schedule.PlateauConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if schedule.FindPlateau(mk(p, average.SWALRConfig{StartStep: 10})) != p {
		t.Error("FindPlateau does not see the plateau inside NewSWALR")
	}
	oc, err := schedule.NewOneCycle(schedule.OneCycleConfig{MaxLR: 1, Total: 20})
	if err != nil {
		t.Fatal(err)
	}
	s := mk(oc, average.SWALRConfig{StartStep: 10})
	m0, ok0 := schedule.MomentumAt(oc, 3)
	if m, ok := schedule.MomentumAt(s, 3); !ok0 || !ok || m != m0 {
		t.Errorf("momentum before start = %v %v, want the inner's %v %v", m, ok, m0, ok0)
	}
	if _, ok := schedule.MomentumAt(s, 12); ok {
		t.Error("the SWA phase cycles momentum")
	}
}

// RefreshBatchNorm makes the running statistics the equal-weight average of the batch
// statistics of one pass, restores modes and random streams, and leaves other models
// alone.
func TestRefreshBatchNorm(t *testing.T) {
	ds := blobs(100, 5)
	m := buildModel(t, 2)
	seq := m.(*nn.Sequential)
	bn := seq.Layers[1].(*nn.BatchNorm)
	lin := seq.Layers[0]
	drop := seq.Layers[3].(*nn.Dropout)
	bn.RunningMean.Fill(42)
	bn.RunningVar.Fill(-3)
	nn.SetTraining(m, false)
	before, _ := drop.Rand.MarshalBinary()

	// Expected: mean over the 3 full batches of 32 (the last 4 examples are skipped) of
	// each batch's channel mean and unbiased variance of the first layer's output.
	wantMean := make([]float64, 16)
	wantVar := make([]float64, 16)
	for b := 0; b < 3; b++ {
		x, _ := ds.Tensor(b*32, (b+1)*32)
		z := forwardConst(lin, x)
		for c := 0; c < 16; c++ {
			var s, sq float64
			for i := 0; i < 32; i++ {
				v := float64(z[i*16+c])
				s += v
				sq += v * v
			}
			mu := s / 32
			wantMean[c] += mu / 3
			wantVar[c] += (sq/32 - mu*mu) * 32 / 31 / 3
		}
	}
	n, err := average.RefreshBatchNorm(m, ds, 32)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d batches, want 3", n)
	}
	for c := 0; c < 16; c++ {
		if got := float64(bn.RunningMean.Data()[c]); math.Abs(got-wantMean[c]) > 1e-4*(1+math.Abs(wantMean[c])) {
			t.Errorf("running_mean[%d] = %v, want %v", c, got, wantMean[c])
		}
		if got := float64(bn.RunningVar.Data()[c]); math.Abs(got-wantVar[c]) > 1e-4*(1+wantVar[c]) {
			t.Errorf("running_var[%d] = %v, want %v", c, got, wantVar[c])
		}
	}
	if got := bn.NumBatchesTracked.Data()[0]; got != 3 {
		t.Errorf("num_batches_tracked = %v, want 3", got)
	}
	if bn.Training() || bn.CumulativeAverage {
		t.Errorf("mode not restored: training %v, cumulative %v", bn.Training(), bn.CumulativeAverage)
	}
	after, _ := drop.Rand.MarshalBinary()
	if string(before) != string(after) {
		t.Error("dropout stream advanced by the refresh")
	}
	// A set smaller than one batch is one (partial) batch; a model without batch norm
	// is left alone.
	if n, err := average.RefreshBatchNorm(m, blobs(5, 1), 32); err != nil || n != 1 {
		t.Errorf("5 examples, batch 32: %d batches, %v; want 1", n, err)
	}
	lin2, _ := nn.Build("linear", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(1))
	if n, err := average.RefreshBatchNorm(lin2, nil, 32); err != nil || n != 0 {
		t.Errorf("model without BN: %d batches, %v", n, err)
	}
}

// A batch that does not fit the model is an error naming the batch, and the modes are
// restored.
func TestRefreshBatchNormBadInput(t *testing.T) {
	m := buildModel(t, 2)
	nn.SetTraining(m, false)
	bad := blobs(10, 1)
	wrong, err := tensorDataset(bad.Len(), 5) // 5 features, the model wants 8
	if err != nil {
		t.Fatal(err)
	}
	if _, err := average.RefreshBatchNorm(m, wrong, 4); err == nil || !strings.Contains(err.Error(), "batch 1") {
		t.Errorf("wrong input shape: %v, want an error naming batch 1", err)
	}
	bn := m.(*nn.Sequential).Layers[1].(*nn.BatchNorm)
	if bn.Training() || bn.CumulativeAverage {
		t.Errorf("mode not restored: training %v, cumulative %v", bn.Training(), bn.CumulativeAverage)
	}
}

// stateCase drives one kind of average through a run of `total` steps of `perEpoch`
// steps each, as the trainer would call it.
type stateCase struct {
	name  string
	make  func(nn.Module) (train.StatefulCallback, error)
	total int
}

func stateCases() []stateCase {
	return []stateCase{
		{"ema", func(m nn.Module) (train.StatefulCallback, error) {
			return average.NewEMA(m, average.EMAConfig{Decay: 0.95, Every: 2})
		}, 40},
		{"swa", func(m nn.Module) (train.StatefulCallback, error) {
			return average.NewSWA(m, average.SWAConfig{Start: 2, Every: 1})
		}, 40},
	}
}

const perEpoch = 5

// drive runs steps [from, to) of a run: new weights at every step from a stream seeded by
// the step, AfterStep, and AfterEpoch at epoch ends.
func drive(t *testing.T, m nn.Module, cb train.Callback, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		jiggle(m, rng.New(uint64(1000+s)))
		if err := cb.AfterStep(&train.StepInfo{GlobalStep: s + 1}); err != nil {
			t.Fatal(err)
		}
		if (s+1)%perEpoch == 0 {
			if err := cb.AfterEpoch(nil, &train.EpochRecord{Epoch: (s + 1) / perEpoch}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// State saved half way through (through a real safetensors file) and loaded into a fresh
// average of a fresh model continues bit-identically to the uninterrupted run.
func TestStateRoundTrip(t *testing.T) {
	for _, tc := range stateCases() {
		t.Run(tc.name, func(t *testing.T) {
			m := buildModel(t, 7)
			cb, err := tc.make(m)
			if err != nil {
				t.Fatal(err)
			}
			drive(t, m, cb, 0, tc.total)
			want := flat(cb.(average.Averager).StateDict())

			m1 := buildModel(t, 7)
			cb1, _ := tc.make(m1)
			drive(t, m1, cb1, 0, tc.total/2)
			ts, meta, err := cb1.State()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "state.safetensors")
			if err := checkpoint.Save(path, ts, map[string]string{"meta": meta}); err != nil {
				t.Fatal(err)
			}
			f, err := checkpoint.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			m2 := buildModel(t, 8) // another initialization: everything must come from the state
			cb2, _ := tc.make(m2)
			if err := cb2.LoadState(f.Tensors, f.Meta["meta"]); err != nil {
				t.Fatal(err)
			}
			drive(t, m2, cb2, tc.total/2, tc.total)
			if got := flat(cb2.(average.Averager).StateDict()); !equalFloats(got, want) {
				t.Error("resumed average differs from the uninterrupted one")
			}
			if ts2, meta2, _ := cb2.State(); meta2 == meta || len(ts2) != len(ts) {
				t.Errorf("state after resume: %d tensors (want %d), meta %s unchanged", len(ts2), len(ts), meta2)
			}
		})
	}
}

// LoadState refuses a state of another kind, another setting or another model, and
// changes nothing then.
func TestLoadStateRefuses(t *testing.T) {
	m := buildModel(t, 1)
	ema, _ := average.NewEMA(m, average.EMAConfig{Decay: 0.9, Every: 1})
	swa, _ := average.NewSWA(m, average.SWAConfig{Start: 1, Every: 1})
	emaTs, emaMeta, _ := ema.State()
	swaTs, swaMeta, _ := swa.State()
	toMap := func(ts []checkpoint.Named) map[string]*tensor.Tensor {
		out := map[string]*tensor.Tensor{}
		for _, e := range ts {
			out[e.Name] = e.T
		}
		return out
	}
	other, _ := average.NewEMA(m, average.EMAConfig{Decay: 0.5, Every: 1})
	otherSWA, _ := average.NewSWA(m, average.SWAConfig{Start: 2, Every: 1})
	lin, _ := nn.Build("linear", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(1))
	linEMA, _ := average.NewEMA(lin, average.EMAConfig{Decay: 0.9, Every: 1})
	fresh, _ := average.NewEMA(m, average.EMAConfig{Decay: 0.9, Every: 1})
	before := flat(fresh.StateDict())
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"other decay", other.LoadState(toMap(emaTs), emaMeta), "decay 0.9"},
		{"swa into ema", fresh.LoadState(toMap(swaTs), swaMeta), "kind"},
		{"ema into swa", swa.LoadState(toMap(emaTs), emaMeta), "kind"},
		{"other start", otherSWA.LoadState(toMap(swaTs), swaMeta), "start 1"},
		{"other model", linEMA.LoadState(toMap(emaTs), emaMeta), "tensors"},
		{"no meta", fresh.LoadState(toMap(emaTs), ""), "no ema state"},
		{"bad meta", fresh.LoadState(toMap(emaTs), "{"), "metadata"},
		{"missing tensor", fresh.LoadState(toMap(emaTs[1:]), emaMeta), "tensors"},
	} {
		if !errors.Is(tc.err, average.ErrState) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrState mentioning %q", tc.name, tc.err, tc.want)
		}
	}
	if !equalFloats(flat(fresh.StateDict()), before) {
		t.Error("a refused LoadState changed the average")
	}
}
