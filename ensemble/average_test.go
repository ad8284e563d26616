package ensemble_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

func TestEMADecayWarmup(t *testing.T) {
	e, err := ensemble.NewEMA(buildModel(t, 1), ensemble.EMAConfig{})
	if err != nil {
		t.Fatal(err)
	}
	noWarm, _ := ensemble.NewEMA(buildModel(t, 1), ensemble.EMAConfig{Decay: 0.9, NoWarmup: true})
	for _, tc := range []struct {
		ema  *ensemble.EMA
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
}

func TestAveragingConfigErrors(t *testing.T) {
	m := buildModel(t, 1)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"decay 1", second(ensemble.NewEMA(m, ensemble.EMAConfig{Decay: 1})), "ema decay 1 out of range (0, 1)"},
		{"decay -0.5", second(ensemble.NewEMA(m, ensemble.EMAConfig{Decay: -0.5})), "out of range (0, 1)"},
		{"every", second(ensemble.NewEMA(m, ensemble.EMAConfig{Every: -2})), "ema every -2"},
		{"swa start", second(ensemble.NewSWA(m, ensemble.SWAConfig{})), "swa start epoch 0 out of range [1, ∞)"},
		{"swa every", second(ensemble.NewSWA(m, ensemble.SWAConfig{Start: 1, Every: -1})), "swa every -1"},
		{"nil model", second(ensemble.NewSWA(nil, ensemble.SWAConfig{Start: 1})), "nil model"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// setWeights fills every parameter with v and every buffer with b.
func setWeights(m nn.Module, v, b float32) {
	for _, p := range nn.Params(m) {
		p.Value.Fill(v)
	}
	for _, x := range nn.Buffers(m) {
		x.T.Fill(b)
	}
}

func TestEMAUpdateApplyRestore(t *testing.T) {
	m := buildModel(t, 1)
	setWeights(m, 1, 0)
	e, err := ensemble.NewEMA(m, ensemble.EMAConfig{Decay: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	// Updates with weights 3, then 5: d_0 = min(0.5, 0.1) = 0.1, d_1 = min(0.5, 2/11).
	want := 1.0
	for k, v := range []float32{3, 5} {
		setWeights(m, v, float32(k+7))
		if err := e.Update(); err != nil {
			t.Fatal(err)
		}
		d := e.DecayAt(k)
		want = d*want + (1-d)*float64(v)
	}
	live := weights(m)
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(); err == nil {
		t.Error("second Apply: no error")
	}
	if err := e.Update(); err == nil {
		t.Error("Update while applied: no error")
	}
	for _, p := range nn.Params(m) {
		if got := float64(p.Value.Data()[0]); math.Abs(got-want) > 1e-6 {
			t.Fatalf("%s = %v, want %v", p.Name, got, want)
		}
	}
	for _, b := range nn.Buffers(m) {
		if got := b.T.Data()[0]; got != 8 {
			t.Fatalf("buffer %s = %v, want the last live value 8 (copied, not averaged)", b.Name, got)
		}
	}
	sd := e.StateDict()
	if len(sd) != len(nn.StateDict(m)) {
		t.Fatalf("StateDict has %d entries, want %d", len(sd), len(nn.StateDict(m)))
	}
	mb := ensemble.Member{Name: "ema", Path: "ema.safetensors"}
	if err := ensemble.SaveAveraged(t.TempDir(), &mb, sd, nil); err != nil || len(mb.SHA256) != 64 {
		t.Errorf("SaveAveraged: %v, sha %q", err, mb.SHA256)
	}
	if err := ensemble.SaveAveraged(t.TempDir(), &ensemble.Member{Path: "../x"}, sd, nil); err == nil {
		t.Error("SaveAveraged outside the folder: no error")
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
	for _, x := range sd {
		if x.T.Data()[0] == 5 {
			t.Errorf("StateDict entry %s aliases the live model", x.Name)
		}
	}
}

func TestEMAHookDuringTraining(t *testing.T) {
	trainSet, testSet := blobs(128, 1), blobs(64, 2)
	tr, m := trainer(t, 3, trainSet, testSet, train.Config{Epochs: 2, BatchSize: 32})
	e, err := ensemble.NewEMA(m, ensemble.EMAConfig{Decay: 0.9, Every: 2})
	if err != nil {
		t.Fatal(err)
	}
	tr.Config.Callbacks = append(tr.Config.Callbacks, e.Hook())
	fit(t, tr)
	if got, want := e.Updates(), tr.GlobalStep()/2; got != want {
		t.Errorf("%d EMA updates after %d steps with every=2, want %d", got, tr.GlobalStep(), want)
	}
	live := weights(m)
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	l, _, err := train.Evaluate(m, testSet, 64, nil, nil)
	if err != nil || math.IsNaN(l) {
		t.Fatalf("evaluate averaged weights: %v %v", l, err)
	}
	if equalFloats(weights(m), live) {
		t.Error("averaged weights equal the live ones")
	}
	if err := e.Restore(); err != nil {
		t.Fatal(err)
	}
	if !equalFloats(weights(m), live) {
		t.Error("live weights lost")
	}
}

func TestSWAEqualAverage(t *testing.T) {
	m := buildModel(t, 1)
	s, err := ensemble.NewSWA(m, ensemble.SWAConfig{Start: 3, Every: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(); err == nil || !strings.Contains(err.Error(), "no weights averaged yet") {
		t.Errorf("Apply before any update: %v", err)
	}
	for _, tc := range []struct {
		epoch int
		due   bool
	}{{1, false}, {2, false}, {3, true}, {4, false}, {5, true}, {7, true}, {8, false}} {
		if got := s.Due(tc.epoch); got != tc.due {
			t.Errorf("Due(%d) = %v, want %v", tc.epoch, got, tc.due)
		}
	}
	h := s.Hook()
	vals := []float32{2, 4, 9} // averaged at epochs 3, 5, 7; other epochs' weights ignored
	k := 0
	for epoch := 1; epoch <= 8; epoch++ {
		v := float32(100)
		if s.Due(epoch) {
			v = vals[k]
			k++
		}
		setWeights(m, v, float32(epoch))
		if err := h.AfterEpoch(nil, &train.EpochRecord{Epoch: epoch}); err != nil {
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
	if err := s.Restore(); err != nil {
		t.Fatal(err)
	}
	if got := nn.Params(m)[0].Value.Data()[0]; got != 100 {
		t.Errorf("live weight after Restore = %v, want 100", got)
	}
}

func TestSWALR(t *testing.T) {
	const base = 0.1
	constant, _ := ensemble.NewSWALR(nil, ensemble.SWALRConfig{StartStep: 10, LR: 0.02})
	defaultLR, _ := ensemble.NewSWALR(nil, ensemble.SWALRConfig{StartStep: 0})
	cyclic, _ := ensemble.NewSWALR(nil, ensemble.SWALRConfig{StartStep: 10, LR: 0.05, MinLR: 0.01, CycleSteps: 4})
	anneal, _ := ensemble.NewSWALR(nil, ensemble.SWALRConfig{StartStep: 10, LR: 0.02, AnnealSteps: 2})
	for _, tc := range []struct {
		name string
		s    *ensemble.SWALR
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
	} {
		if got := tc.s.LR(tc.t, base); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: LR(%d) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
	for _, c := range []ensemble.SWALRConfig{{StartStep: -1}, {LR: -1}, {LR: 0.1, MinLR: 0.2}, {CycleSteps: -3}, {AnnealSteps: -1}} {
		if _, err := ensemble.NewSWALR(nil, c); err == nil {
			t.Errorf("NewSWALR(%+v): no error", c)
		}
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
	n, err := ensemble.RefreshBatchNorm(m, ds, ensemble.RefreshConfig{BatchSize: 32})
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
	// MaxBatches and a model without batch norm.
	if n, err := ensemble.RefreshBatchNorm(m, ds, ensemble.RefreshConfig{BatchSize: 10, MaxBatches: 2}); err != nil || n != 2 {
		t.Errorf("MaxBatches 2: %d batches, %v", n, err)
	}
	lin2, _ := nn.Build("linear", nn.ModelConfig{InShape: []int{8}, Classes: 3}, rng.New(1))
	if n, err := ensemble.RefreshBatchNorm(lin2, ds, ensemble.RefreshConfig{}); err != nil || n != 0 {
		t.Errorf("model without BN: %d batches, %v", n, err)
	}
	if _, err := ensemble.RefreshBatchNorm(m, ds, ensemble.RefreshConfig{BatchSize: -1}); err == nil {
		t.Error("negative batch size: no error")
	}
}

// An EMA and an SWA saved after 2 epochs and loaded into fresh averagers of a resumed
// run end bit-identical to the averages of an uninterrupted run.
func TestAverageStateResume(t *testing.T) {
	trainSet, testSet := blobs(96, 1), blobs(32, 2)
	dir := t.TempDir()
	run := func(epochs int, resume bool) ([]float32, []float32) {
		tr, m := trainer(t, 7, trainSet, testSet, train.Config{Epochs: epochs, BatchSize: 16, OutDir: dir})
		ema, err := ensemble.NewEMA(m, ensemble.EMAConfig{Decay: 0.95, Every: 2})
		if err != nil {
			t.Fatal(err)
		}
		swa, err := ensemble.NewSWA(m, ensemble.SWAConfig{Start: 1})
		if err != nil {
			t.Fatal(err)
		}
		if resume {
			if err := tr.LoadState(dir); err != nil {
				t.Fatal(err)
			}
			if err := ema.LoadState(filepath.Join(dir, ensemble.StateFileName("ema"))); err != nil {
				t.Fatal(err)
			}
			if err := swa.LoadState(filepath.Join(dir, ensemble.StateFileName("swa"))); err != nil {
				t.Fatal(err)
			}
		}
		tr.Config.Callbacks = append(tr.Config.Callbacks, ema.Hook(), swa.Hook(), train.CallbackFuncs{OnAfterEpoch: func(*train.Trainer, *train.EpochRecord) error {
			if err := ema.SaveState(filepath.Join(dir, ensemble.StateFileName("ema"))); err != nil {
				return err
			}
			return swa.SaveState(filepath.Join(dir, ensemble.StateFileName("swa")))
		}})
		fit(t, tr)
		var out [2][]float32
		for k, sd := range [][]nn.NamedTensor{ema.StateDict(), swa.StateDict()} {
			for _, e := range sd {
				out[k] = append(out[k], e.T.Data()...)
			}
		}
		return out[0], out[1]
	}
	wantEMA, wantSWA := run(4, false)
	run(2, false)
	gotEMA, gotSWA := run(4, true)
	if !equalFloats(gotEMA, wantEMA) || !equalFloats(gotSWA, wantSWA) {
		t.Error("resumed averages differ from the uninterrupted ones")
	}
	// A state of the wrong kind or for another decay is refused.
	m := buildModel(t, 7)
	ema, _ := ensemble.NewEMA(m, ensemble.EMAConfig{Decay: 0.5})
	if err := ema.LoadState(filepath.Join(dir, ensemble.StateFileName("ema"))); err == nil || !strings.Contains(err.Error(), "decay") {
		t.Errorf("other decay: %v", err)
	}
	if err := ema.LoadState(filepath.Join(dir, ensemble.StateFileName("swa"))); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Errorf("swa state into an ema: %v", err)
	}
}
