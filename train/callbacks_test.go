package train_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

func newTrainerSets(t *testing.T, s setup, sets train.Sets, cfg train.Config) *train.Trainer {
	t.Helper()
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	tr, err := train.New(s.model, s.opt, sets, cfg, s.rand)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// Validation metrics are in every record and in metrics.jsonl; test metrics only with
// TestEachEpoch; the last record's validation metrics are Evaluate's on the final model.
func TestValMetricsInRecords(t *testing.T) {
	for _, each := range []bool{false, true} {
		t.Run(fmt.Sprint("test_each_epoch=", each), func(t *testing.T) {
			dir := t.TempDir()
			val, test := blobs(100, 2), blobs(80, 3)
			s := build(t, 5)
			tr := newTrainerSets(t, s, train.Sets{Train: blobs(300, 1), Val: val, Test: test},
				train.Config{Epochs: 2, OutDir: dir, TestEachEpoch: each})
			if err := tr.Fit(context.Background()); err != nil {
				t.Fatal(err)
			}
			h := tr.History()
			for _, r := range h {
				if !(r.ValLoss > 0) || !(r.ValAccuracy > 0) {
					t.Errorf("epoch %d: val loss %v acc %v", r.Epoch, r.ValLoss, r.ValAccuracy)
				}
				if each != !math.IsNaN(r.TestLoss) {
					t.Errorf("epoch %d: test loss %v with TestEachEpoch %v", r.Epoch, r.TestLoss, each)
				}
			}
			vl, va, err := train.Evaluate(s.model, val, 1000, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if last := h[len(h)-1]; last.ValLoss != vl || last.ValAccuracy != va {
				t.Errorf("last record val %v/%v, Evaluate %v/%v", last.ValLoss, last.ValAccuracy, vl, va)
			}
			if each {
				tl, _, _ := train.Evaluate(s.model, test, 1000, nil, nil)
				if h[len(h)-1].TestLoss != tl {
					t.Errorf("last record test loss %v, Evaluate %v", h[len(h)-1].TestLoss, tl)
				}
			}
			raw, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(raw), `"val_loss":`); n != 2 {
				t.Errorf("metrics.jsonl has val_loss %d times, want 2:\n%s", n, raw)
			}
			if has := strings.Contains(string(raw), `"test_loss":`); has != each {
				t.Errorf("metrics.jsonl test_loss present %v, want %v", has, each)
			}
		})
	}
}

// JSON round trip: missing and null metrics read back as NaN, present ones exactly.
func TestEpochRecordJSON(t *testing.T) {
	in := train.EpochRecord{Epoch: 3, GlobalStep: 30, LR: 0.1, TrainLoss: 0.5, TrainAccuracy: 0.75,
		ValLoss: 0.625, ValAccuracy: 0.7, TestLoss: math.NaN(), TestAccuracy: math.NaN(), TrainSeconds: 1.5, SamplesPerSecond: 100}
	b, err := in.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"epoch":3,"global_step":30,"lr":0.1,"train_loss":0.5,"train_accuracy":0.75,"val_loss":0.625,"val_accuracy":0.7,"train_seconds":1.5,"samples_per_second":100}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var out train.EpochRecord
	if err := out.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if out.ValLoss != 0.625 || !math.IsNaN(out.TestLoss) || !math.IsNaN(out.TestAccuracy) || out.Epoch != 3 {
		t.Fatalf("round trip: %+v", out)
	}
	// An older record: test metrics null, no val fields.
	if err := out.UnmarshalJSON([]byte(`{"epoch":1,"test_loss":null,"test_accuracy":null,"train_loss":1}`)); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(out.ValLoss) || !math.IsNaN(out.TestLoss) || out.TrainLoss != 1 {
		t.Fatalf("old record: %+v", out)
	}
	// Inf is null, not left out.
	in.ValLoss = math.Inf(1)
	b, _ = in.MarshalJSON()
	if !strings.Contains(string(b), `"val_loss":null`) {
		t.Fatalf("Inf val loss: %s", b)
	}
}

// The schedule's ReduceOnPlateau observes the validation loss, never the test loss.
func TestPlateauObservesVal(t *testing.T) {
	sched, err := schedule.Parse("plateau:patience=0,factor=0.5")
	if err != nil {
		t.Fatal(err)
	}
	s := build(t, 6)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(300, 1), Val: blobs(100, 2), Test: blobs(60, 4)},
		train.Config{Epochs: 4, Schedule: sched, TestEachEpoch: true})
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := schedule.FindPlateau(sched).State()
	if st.Epochs != 4 || !st.HasBest {
		t.Fatalf("plateau state %+v after 4 epochs", st)
	}
	var vals, tests []float64
	for _, r := range tr.History() {
		vals, tests = append(vals, r.ValLoss), append(tests, r.TestLoss)
	}
	if !slices.Contains(vals, st.Best) || slices.Contains(tests, st.Best) {
		t.Fatalf("plateau best %v; val losses %v, test losses %v", st.Best, vals, tests)
	}
}

func TestNeedsVal(t *testing.T) {
	plateau := func() schedule.Schedule {
		s, err := schedule.Parse("cosine:tmax=100*plateau:patience=1")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name string
		cfg  train.Config
		msg  string
	}{
		{"plateau", train.Config{Schedule: plateau()}, "train: schedule observes the validation loss, and there is no validation set"},
		{"early stopping", train.Config{Callbacks: []train.Callback{&train.EarlyStopping{Patience: 2}}}, "train: early stopping observes the validation loss"},
		{"keep best", train.Config{Callbacks: []train.Callback{&train.KeepBest{}}}, "train: keep best observes the validation loss"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := build(t, 1)
			_, err := train.New(s.model, s.opt, train.Sets{Train: blobs(50, 1), Test: blobs(50, 2)}, c.cfg, s.rand)
			if !errors.Is(err, train.ErrNeedsVal) || !strings.HasPrefix(err.Error(), c.msg) {
				t.Fatalf("err = %v, want %q wrapping ErrNeedsVal", err, c.msg)
			}
			// With a validation set the same config is fine.
			tr, err := train.New(s.model, s.opt, train.Sets{Train: blobs(50, 1), Val: blobs(50, 2)}, c.cfg, s.rand)
			if err != nil {
				t.Fatal(err)
			}
			tr.Close()
		})
	}
	// A schedule set after New is caught by Fit.
	s := build(t, 1)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(50, 1)}, train.Config{})
	tr.Config.Schedule = plateau()
	if err := tr.Fit(context.Background()); !errors.Is(err, train.ErrNeedsVal) {
		t.Fatalf("Fit err = %v, want ErrNeedsVal", err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		sets func() train.Sets
		cfg  train.Config
		msg  string
	}{
		{"patience", nil, train.Config{Callbacks: []train.Callback{&train.EarlyStopping{}}}, "patience 0 out of range [1, ∞)"},
		{"min delta", nil, train.Config{Callbacks: []train.Callback{&train.EarlyStopping{Patience: 1, MinDelta: -1}}}, "min delta -1 out of range"},
		{"duplicate key", nil, train.Config{Callbacks: []train.Callback{&train.KeepBest{}, &train.KeepBest{}}}, `state key "keep_best" used twice`},
		{"nil callback", nil, train.Config{Callbacks: []train.Callback{nil}}, "callback 0 is nil"},
		{"threads", nil, train.Config{Threads: -1}, "threads -1 out of range [0, ∞)"},
		{"empty val", func() train.Sets { return train.Sets{Train: blobs(10, 1), Val: blobs(0, 1)} }, train.Config{}, "validation set is empty"},
		{"no train", func() train.Sets { return train.Sets{} }, train.Config{}, "training set is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := build(t, 1)
			sets := train.Sets{Train: blobs(20, 1), Val: blobs(20, 2)}
			if c.sets != nil {
				sets = c.sets()
			}
			_, err := train.New(s.model, s.opt, sets, c.cfg, s.rand)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want %q", err, c.msg)
			}
		})
	}
}

// nanF makes the table below readable.
var nanF = math.NaN()

func TestEarlyStoppingRule(t *testing.T) {
	cases := []struct {
		name     string
		patience int
		delta    float64
		losses   []float64
		stopAt   int // epoch of ErrStop; 0: never
		best     int
	}{
		{"stops after patience", 3, 0, []float64{1, 0.9, 0.95, 0.91, 0.92, 0.5}, 5, 2},
		{"improvement resets", 2, 0, []float64{1, 1.1, 0.9, 1.0, 0.8, 0.85}, 0, 5},
		{"min delta", 2, 0.1, []float64{1, 0.95, 0.92, 0.5}, 3, 1},
		{"equal is no improvement", 1, 0, []float64{1, 1}, 2, 1},
		{"nan never improves", 2, 0, []float64{nanF, nanF}, 2, 0},
		{"inf never improves", 2, 0, []float64{math.Inf(1), 0.5, math.Inf(1), 0.4}, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &train.EarlyStopping{Patience: c.patience, MinDelta: c.delta}
			stop := 0
			for i, l := range c.losses {
				err := e.AfterEpoch(nil, &train.EpochRecord{Epoch: i + 1, ValLoss: l})
				if errors.Is(err, train.ErrStop) {
					stop = i + 1
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if stop != c.stopAt || e.BestEpoch() != c.best {
				t.Fatalf("stopped at %d (best %d), want %d (best %d)", stop, e.BestEpoch(), c.stopAt, c.best)
			}
		})
	}
}

// In a real run, EarlyStopping ends Fit at the epoch its rule says, after that epoch's
// record and checkpoint; a trainer resumed from the stopped run does not train on.
func TestEarlyStoppingInFit(t *testing.T) {
	dir := t.TempDir()
	s := build(t, 8)
	es := &train.EarlyStopping{Patience: 2, MinDelta: 0.02}
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(200, 1), Val: blobs(100, 2)},
		train.Config{Epochs: 60, OutDir: dir, Callbacks: []train.Callback{es}})
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := tr.History()
	t.Logf("stopped after %d epochs", len(h))
	if !tr.Stopped() || len(h) == 60 || tr.Epoch() != len(h) {
		t.Fatalf("stopped %v after %d epochs (Epoch %d)", tr.Stopped(), len(h), tr.Epoch())
	}
	// Replay the rule on the recorded losses: it must stop exactly at the last epoch.
	replay := &train.EarlyStopping{Patience: 2, MinDelta: 0.02}
	for i, r := range h {
		err := replay.AfterEpoch(nil, &r)
		if stopped := errors.Is(err, train.ErrStop); stopped != (i == len(h)-1) {
			t.Fatalf("epoch %d: rule says stop=%v, run has %d epochs", r.Epoch, stopped, len(h))
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	if countLines(raw) != len(h) {
		t.Fatalf("metrics.jsonl has %d lines, history %d", countLines(raw), len(h))
	}
	s2 := build(t, 8)
	tr2 := newTrainerSets(t, s2, train.Sets{Train: blobs(200, 1), Val: blobs(100, 2)},
		train.Config{Epochs: 60, Callbacks: []train.Callback{&train.EarlyStopping{Patience: 2, MinDelta: 0.02}}})
	if err := tr2.LoadState(dir); err != nil {
		t.Fatal(err)
	}
	if err := tr2.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !tr2.Stopped() || tr2.Epoch() != len(h) {
		t.Fatalf("resumed stopped run: stopped %v, epoch %d, want true, %d", tr2.Stopped(), tr2.Epoch(), len(h))
	}
}

func TestKeepBestSavesAtMinima(t *testing.T) {
	var saved []int
	k := &train.KeepBest{Save: func(_ *train.Trainer, rec *train.EpochRecord) error {
		saved = append(saved, rec.Epoch)
		return nil
	}}
	for i, l := range []float64{1, 0.8, 0.9, 0.7, 0.7, nanF, 0.6, 0.65} {
		if err := k.AfterEpoch(nil, &train.EpochRecord{Epoch: i + 1, ValLoss: l}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int{1, 2, 4, 7}; !slices.Equal(saved, want) || k.BestEpoch() != 7 || k.BestLoss() != 0.6 {
		t.Fatalf("saved at %v (best %d, %v), want %v (best 7, 0.6)", saved, k.BestEpoch(), k.BestLoss(), want)
	}
	boom := errors.New("disk full")
	k2 := &train.KeepBest{Save: func(*train.Trainer, *train.EpochRecord) error { return boom }}
	if err := k2.AfterEpoch(nil, &train.EpochRecord{Epoch: 1, ValLoss: 1}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the Save error", err)
	}
}

// recorder logs its calls as "<name>.<method><step or epoch>".
type recorder struct {
	name string
	log  *[]string
	stop string // "step" or "epoch": return ErrStop there (at step/epoch 1)
	fail bool   // return an error at epoch 1
}

func (r *recorder) BeforeStep(s *train.StepInfo) error {
	*r.log = append(*r.log, fmt.Sprintf("%s.before%d", r.name, s.GlobalStep))
	return nil
}

func (r *recorder) AfterStep(s *train.StepInfo) error {
	*r.log = append(*r.log, fmt.Sprintf("%s.after%d", r.name, s.GlobalStep))
	if r.stop == "step" && s.GlobalStep == 1 {
		return fmt.Errorf("wrapped: %w", train.ErrStop)
	}
	return nil
}

func (r *recorder) AfterEpoch(t *train.Trainer, rec *train.EpochRecord) error {
	*r.log = append(*r.log, fmt.Sprintf("%s.epoch%d", r.name, rec.Epoch))
	switch {
	case r.fail:
		return errors.New("callback failed")
	case r.stop == "epoch":
		return train.ErrStop
	}
	return nil
}

func TestCallbackOrder(t *testing.T) {
	var log []string
	s := build(t, 2)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(64, 1)}, train.Config{Epochs: 2,
		Callbacks: []train.Callback{&recorder{name: "a", log: &log}, &recorder{name: "b", log: &log}}})
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a.before0", "b.before0", "a.after1", "b.after1", "a.before1", "b.before1", "a.after2", "b.after2", "a.epoch1", "b.epoch1",
		"a.before2", "b.before2", "a.after3", "b.after3", "a.before3", "b.before3", "a.after4", "b.after4", "a.epoch2", "b.epoch2",
	}
	if !slices.Equal(log, want) {
		t.Fatalf("calls\n%v\nwant\n%v", log, want)
	}
}

// ErrStop (wrapped) from AfterStep finishes the epoch, then stops; from AfterEpoch stops
// after that epoch even if a later callback is still to run (it runs); other errors abort.
func TestCallbackStopAndErrors(t *testing.T) {
	cases := []struct {
		name       string
		cb         *recorder
		wantErr    bool
		wantEpochs int
	}{
		{"stop in step", &recorder{name: "a", stop: "step"}, false, 1},
		{"stop in epoch", &recorder{name: "a", stop: "epoch"}, false, 1},
		{"error", &recorder{name: "a", fail: true}, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log []string
			c.cb.log = &log
			after := &recorder{name: "z", log: &log}
			s := build(t, 2)
			tr := newTrainerSets(t, s, train.Sets{Train: blobs(64, 1)}, train.Config{Epochs: 3, Callbacks: []train.Callback{c.cb, after}})
			err := tr.Fit(context.Background())
			if (err != nil) != c.wantErr || errors.Is(err, train.ErrStop) {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				if slices.Contains(log, "z.epoch1") {
					t.Fatal("the callback after a failing one ran")
				}
				return
			}
			if !tr.Stopped() || tr.Epoch() != c.wantEpochs || tr.GlobalStep() != 2 || !slices.Contains(log, "z.epoch1") {
				t.Fatalf("stopped %v at epoch %d, step %d; log %v", tr.Stopped(), tr.Epoch(), tr.GlobalStep(), log)
			}
		})
	}
}

// relabel is a BeforeStep that rewrites the batch in place (every label becomes 0).
type relabel struct{ train.BaseCallback }

func (relabel) BeforeStep(s *train.StepInfo) error {
	for i := range s.Y {
		s.Y[i] = 0
	}
	return nil
}

func TestBeforeStepRewritesBatch(t *testing.T) {
	s := build(t, 3)
	val := blobs(90, 2)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(200, 1)}, train.Config{Epochs: 3, Callbacks: []train.Callback{relabel{}}})
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The model learnt "always class 0": its accuracy is the share of class 0.
	_, acc, err := train.Evaluate(s.model, val, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	zeros := 0
	_, y := val.Tensor(0, val.Len())
	for _, c := range y {
		if c == 0 {
			zeros++
		}
	}
	if want := float64(zeros) / float64(len(y)); acc != want {
		t.Fatalf("accuracy %v, want the share of class 0 (%v)", acc, want)
	}
}

func TestProgressOutput(t *testing.T) {
	cases := []struct {
		name      string
		sets      train.Sets
		each      bool
		has, hasn []string
	}{
		{"val", train.Sets{Train: blobs(64, 1), Val: blobs(32, 2), Test: blobs(32, 3)}, false,
			[]string{"epoch 1/2: train loss ", "| val loss ", "epoch 2/2"}, []string{"test"}},
		{"val and test", train.Sets{Train: blobs(64, 1), Val: blobs(32, 2), Test: blobs(32, 3)}, true,
			[]string{"| val loss ", "| test loss "}, nil},
		{"train only", train.Sets{Train: blobs(64, 1)}, false, []string{"epoch 2/2: train loss "}, []string{"val", "test"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := build(t, 2)
			tr := newTrainerSets(t, s, c.sets, train.Config{Epochs: 2, TestEachEpoch: c.each, Callbacks: []train.Callback{train.NewProgress(&buf)}})
			if err := tr.Fit(context.Background()); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.Count(out, "\n") != 2 {
				t.Errorf("%d lines, want 2:\n%s", strings.Count(out, "\n"), out)
			}
			for _, h := range c.has {
				if !strings.Contains(out, h) {
					t.Errorf("output lacks %q:\n%s", h, out)
				}
			}
			for _, h := range c.hasn {
				if strings.Contains(out, h) {
					t.Errorf("output has %q:\n%s", h, out)
				}
			}
		})
	}
}

// countingCallback is a StatefulCallback with a tensor and a metadata string.
type countingCallback struct {
	train.BaseCallback
	steps *tensor.Tensor
	key   string
}

func (c *countingCallback) AfterStep(*train.StepInfo) error { c.steps.Data()[0]++; return nil }
func (c *countingCallback) StateKey() string                { return c.key }
func (c *countingCallback) State() ([]checkpoint.Named, string, error) {
	return []checkpoint.Named{{Name: "steps", T: c.steps}}, fmt.Sprint(c.steps.Data()[0]), nil
}
func (c *countingCallback) LoadState(ts map[string]*tensor.Tensor, meta string) error {
	st, ok := ts["steps"]
	if !ok || len(ts) != 1 || meta != fmt.Sprint(st.Data()[0]) {
		return fmt.Errorf("bad state %v %q", ts, meta)
	}
	c.steps.CopyFrom(st)
	return nil
}

// TestResumeWithStatefulCallbacks: a run interrupted after epoch 2 and resumed, with
// EarlyStopping, KeepBest and a tensor-carrying callback, ends with the same history,
// weights, callback states and KeepBest saves as an uninterrupted one.
func TestResumeWithStatefulCallbacks(t *testing.T) {
	type run struct {
		tr    *train.Trainer
		es    *train.EarlyStopping
		kb    *train.KeepBest
		cnt   *countingCallback
		saves *[]int
		s     setup
	}
	mk := func(seed uint64, epochs int, dir string) run {
		s := build(t, seed)
		var saves []int
		r := run{es: &train.EarlyStopping{Patience: 3, MinDelta: 1e-3}, saves: &saves, s: s,
			cnt: &countingCallback{steps: tensor.New(1), key: "count"}}
		r.kb = &train.KeepBest{Save: func(_ *train.Trainer, rec *train.EpochRecord) error {
			saves = append(saves, rec.Epoch)
			return nil
		}}
		sched, err := schedule.Parse("cosine:tmax=40*plateau:patience=0,factor=0.5")
		if err != nil {
			t.Fatal(err)
		}
		r.tr = newTrainerSets(t, s, train.Sets{Train: blobs(200, 1), Val: blobs(60, 2)}, train.Config{Epochs: epochs, OutDir: dir,
			Schedule: sched, Callbacks: []train.Callback{r.es, r.kb, r.cnt}})
		return r
	}
	full := mk(11, 5, t.TempDir())
	if err := full.tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first := mk(11, 2, dir)
	if err := first.tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := mk(999, 5, dir)
	if err := second.tr.LoadState(dir); err != nil {
		t.Fatal(err)
	}
	if err := second.tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	hf, hs := full.tr.History(), second.tr.History()
	if len(hf) != len(hs) {
		t.Fatalf("histories of %d and %d epochs", len(hf), len(hs))
	}
	for i := range hf {
		a, b := hf[i], hs[i]
		a.TrainSeconds, a.SamplesPerSecond, b.TrainSeconds, b.SamplesPerSecond = 0, 0, 0, 0
		ja, _ := a.MarshalJSON()
		jb, _ := b.MarshalJSON()
		if !bytes.Equal(ja, jb) {
			t.Fatalf("epoch %d: uninterrupted %+v, resumed %+v", i+1, a, b)
		}
	}
	pa, pb := params(full.s.model), params(second.s.model)
	for i := range pa {
		if !slices.Equal(pa[i], pb[i]) {
			t.Fatalf("param %d differs after resume", i)
		}
	}
	if !full.tr.Stopped() || len(hf) != 4 {
		// Val loss reaches ~4e-5 in epoch 1, so MinDelta 1e-3 is never beaten again:
		// EarlyStopping (patience 3) ends the run after epoch 4, across the resume.
		t.Fatalf("uninterrupted run: stopped %v after %d epochs, want true after 4", full.tr.Stopped(), len(hf))
	}
	if full.tr.Stopped() != second.tr.Stopped() {
		t.Fatalf("uninterrupted stopped %v, resumed %v", full.tr.Stopped(), second.tr.Stopped())
	}
	_, ma, _ := full.es.State()
	_, mb, _ := second.es.State()
	if ma != mb {
		t.Fatalf("early stopping state %s, resumed %s", ma, mb)
	}
	if got := append(slices.Clone(*first.saves), *second.saves...); !slices.Equal(got, *full.saves) || full.kb.BestEpoch() != second.kb.BestEpoch() {
		t.Fatalf("saves %v + %v, uninterrupted %v", *first.saves, *second.saves, *full.saves)
	}
	if full.cnt.steps.Data()[0] != second.cnt.steps.Data()[0] || full.cnt.steps.Data()[0] != float32(full.tr.GlobalStep()) {
		t.Fatalf("counting callback %v, resumed %v", full.cnt.steps.Data(), second.cnt.steps.Data())
	}

	// Strict: a callback without saved state, or saved state without its callback.
	s := build(t, 11)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(200, 1), Val: blobs(60, 2)}, train.Config{Epochs: 5,
		Callbacks: []train.Callback{&train.EarlyStopping{Patience: 3}, &train.KeepBest{}}})
	if err := tr.LoadState(dir); err == nil || !strings.Contains(err.Error(), `"count"`) {
		t.Fatalf("resume without the count callback: err = %v", err)
	}
	tr = newTrainerSets(t, s, train.Sets{Train: blobs(200, 1), Val: blobs(60, 2)}, train.Config{Epochs: 5,
		Callbacks: []train.Callback{&train.EarlyStopping{Patience: 3}, &train.KeepBest{}, &countingCallback{steps: tensor.New(1), key: "count"},
			&countingCallback{steps: tensor.New(1), key: "other"}}})
	if err := tr.LoadState(dir); err == nil || !strings.Contains(err.Error(), `"other"`) {
		t.Fatalf("resume with a new callback: err = %v", err)
	}
}

// The trainer's LR is ApplyLR's: BaseLR without a schedule, and LoadState leaves it.
func TestApplyLRWithoutSchedule(t *testing.T) {
	dir := t.TempDir()
	s := build(t, 1)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(64, 1)}, train.Config{OutDir: dir})
	g := s.opt.Groups()[0]
	g.LR = 7 // not the trainer's: replaced before the first step
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g.LR != g.BaseLR || tr.History()[0].LR != g.BaseLR {
		t.Fatalf("LR %v, record %v, want BaseLR %v", g.LR, tr.History()[0].LR, g.BaseLR)
	}
	s2 := build(t, 1)
	g2 := s2.opt.Groups()[0]
	g2.LR = 3
	tr2 := newTrainerSets(t, s2, train.Sets{Train: blobs(64, 1)}, train.Config{})
	if err := tr2.LoadState(dir); err != nil {
		t.Fatal(err)
	}
	if g2.LR != 3 {
		t.Fatalf("LoadState wrote the LR: %v", g2.LR)
	}
}

// The trainer runs its ops with Config.Threads on its own tapes and leaves the process
// default of internal/kernel alone.
func TestThreadsNotGlobal(t *testing.T) {
	prev := kernel.Threads()
	want := 1
	if prev == 1 {
		want = 2
	}
	s := build(t, 1)
	tr := newTrainerSets(t, s, train.Sets{Train: blobs(64, 1), Val: blobs(32, 2)}, train.Config{Threads: want})
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kernel.Threads() != prev {
		t.Fatalf("Fit changed the process thread count from %d to %d", prev, kernel.Threads())
	}
}
