package recipe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/temperml/temper/average"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// Options are the parts of a run that are not the recipe: where it writes, what it
// prints, which further callbacks observe it. The zero value writes nothing and prints
// nothing.
type Options struct {
	// OutDir receives model.safetensors, model_best.safetensors (with a validation split),
	// model_ema/model_swa.safetensors (with averaging), metrics.jsonl, summary.json and
	// checkpoint.safetensors (after every epoch; Resume continues from it). Empty: no
	// files; Fit still trains and evaluates.
	OutDir string
	// Callbacks observe the loop after the run's own (e.g. train.NewProgress).
	Callbacks []train.Callback
	// Splits, if set, is used instead of loading the recipe's data (ensembles load once).
	Splits *Splits
	// Log receives one line per averaged model and other notes; nil: none.
	Log io.Writer
	// OutMode says what to do with an OutDir holding an earlier run's files (ClaimOutDir):
	// refuse (the default), remove them first, or keep them to Resume.
	OutMode OutMode
	// Holder describes the run in OutDir's lock file; empty: the process's arguments.
	Holder string

	// model, if set, is trained instead of a model built from the recipe (Finetune's
	// second fastai phase continues the first's).
	model nn.Module
}

// Run is a built recipe: data, model, optimizer and trainer, ready to Fit.
type Run struct {
	Recipe    Recipe
	Data      *Splits
	Model     nn.Module
	Optimizer optim.Optimizer
	Schedule  schedule.Schedule // nil: constant
	Trainer   *train.Trainer    // nil for second-order optimizers
	EMA       *average.EMA      // nil without averaging.ema
	SWA       *average.SWA      // nil without averaging.swa_start
	Transfer  *TransferReport   // nil without a transfer section

	opts          Options
	out           *OutDir // the claimed OutDir; nil without one
	stepsPerEpoch int
	best          *train.KeepBest
	stop          *train.EarlyStopping
}

// Build validates the recipe, claims Options.OutDir (ClaimOutDir: locked for this run
// until Close, an earlier run's files refused, removed or kept by Options.OutMode), loads
// its data and builds model, optimizer, schedule, averaging and trainer. Close the run
// when done.
func (r Recipe) Build(opts Options) (run *Run, err error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var out *OutDir
	if opts.OutDir != "" {
		if out, err = ClaimOutDir(opts.OutDir, opts.OutMode, opts.Holder); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				out.abandon()
			}
		}()
	}
	run, err = r.build(opts)
	if err != nil {
		return nil, err
	}
	run.out = out
	return run, nil
}

func (r Recipe) build(opts Options) (*Run, error) {
	s := opts.Splits
	if s == nil {
		var err error
		if s, err = r.LoadData(); err != nil {
			return nil, err
		}
	}
	if s.Train == nil || s.Train.Len() == 0 {
		return nil, errNoTrain
	}
	st := r.streams()
	m, tr, err := r.buildModel(s, st, opts)
	if err != nil {
		return nil, err
	}
	run := &Run{Recipe: r, Data: s, Model: m, Transfer: tr, opts: opts}
	run.stepsPerEpoch = (s.Train.Len() + r.Batch - 1) / r.Batch
	if r.Optim.SecondOrder() {
		return run, nil
	}
	if run.Optimizer, err = r.NewOptimizer(m); err != nil {
		return nil, invalidf("recipe: %w", err)
	}
	if run.Schedule, err = r.NewSchedule(run.stepsPerEpoch); err != nil {
		return nil, fmt.Errorf("%w: %d training examples in batches of %d make %d step(s) per epoch", err, s.Train.Len(), r.Batch, run.stepsPerEpoch)
	}
	obj, err := r.newObjective(m, s.Train.Shape(), st.data)
	if err != nil {
		return nil, err
	}
	var cbs []train.Callback
	if obj.mixing != nil {
		cbs = append(cbs, &mixingCallback{m: obj.mixing})
	}
	if err := run.addAveraging(&cbs); err != nil {
		return nil, err
	}
	if s.Val != nil {
		run.best = &train.KeepBest{Save: func(*train.Trainer, *train.EpochRecord) error {
			if opts.OutDir == "" {
				return nil
			}
			return SaveModel(filepath.Join(opts.OutDir, BestFile), m, r, s)
		}}
		cbs = append(cbs, run.best)
	}
	if r.EarlyStop > 0 {
		run.stop = &train.EarlyStopping{Patience: r.EarlyStop}
		cbs = append(cbs, run.stop)
	}
	cbs = append(cbs, opts.Callbacks...)
	cfg := train.Config{
		Epochs: r.Epochs, BatchSize: r.Batch, Threads: r.Threads, LabelSmoothing: r.LabelSmoothing,
		EvalTrain: r.EvalTrain, TestEachEpoch: r.TestEachEpoch, Schedule: run.Schedule, OutDir: opts.OutDir,
		Meta: map[string]string{"recipe": string(r.Marshal())}, Loss: obj.loss, Transform: obj.transform, Callbacks: cbs,
	}
	sets := train.Sets{Train: s.Train}
	if s.Val != nil {
		sets.Val = s.Val
	}
	if s.Test != nil {
		sets.Test = s.Test
	}
	if run.Trainer, err = train.New(m, run.Optimizer, sets, cfg, st.data); err != nil {
		return nil, invalidf("recipe: %w", err)
	}
	return run, nil
}

// addAveraging attaches EMA and SWA (and the SWA learning rate) to the run.
func (run *Run) addAveraging(cbs *[]train.Callback) error {
	a := run.Recipe.Averaging
	var err error
	if a.EMA > 0 {
		if run.EMA, err = average.NewEMA(run.Model, average.EMAConfig{Decay: a.EMA, Every: a.EMAEvery}); err != nil {
			return invalidf("recipe: averaging: %w", err)
		}
		*cbs = append(*cbs, run.EMA)
	}
	if a.SWAStart > 0 {
		if run.SWA, err = average.NewSWA(run.Model, average.SWAConfig{Start: a.SWAStart, Every: a.SWAEvery}); err != nil {
			return invalidf("recipe: averaging: %w", err)
		}
		*cbs = append(*cbs, run.SWA)
		c := average.SWALRConfig{StartStep: (a.SWAStart - 1) * run.stepsPerEpoch, LR: a.SWALR}
		if a.SWACyclic {
			c.CycleSteps, c.MinLR = a.SWAEvery*run.stepsPerEpoch, a.SWAMinLR
		}
		if run.Schedule, err = average.NewSWALR(run.Schedule, c); err != nil {
			return invalidf("recipe: averaging: %w", err)
		}
	}
	return nil
}

// Close releases the trainer's loader workers and the output folder's lock.
func (run *Run) Close() error {
	err := run.out.abandon() // unlocks; a folder this run created and left empty goes
	run.out = nil
	if run.Trainer == nil {
		return err
	}
	if terr := run.Trainer.Close(); terr != nil {
		return terr
	}
	return err
}

// Resume restores the training state saved in dir by an earlier Fit of the same recipe
// (its checkpoint.safetensors), so that Fit continues from the next epoch. The run's
// recipe may differ from the checkpoint's only as ResumeRecipe allows (more epochs,
// threads, a lower lr after a non-finite stop); such changes are recorded in the next
// metrics record, others are refused with a *ResumeError.
func (run *Run) Resume(dir string) error {
	if run.Trainer == nil {
		return fmt.Errorf("recipe: optim %s runs cannot be resumed", run.Recipe.Optim.Name)
	}
	changed, err := run.checkResume(dir)
	if err != nil {
		return err
	}
	if err := run.Trainer.LoadState(dir); err != nil {
		return err
	}
	if len(changed) > 0 {
		run.Trainer.NoteResume(changed)
	}
	return nil
}

// Metrics are a model's loss and accuracy on one split.
type Metrics struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	Examples int     `json:"examples"`
}

// String formats m as "SPLIT accuracy: A (SPLIT loss L)"; nil as "SPLIT: none".
func (m *Metrics) String(split string) string {
	if m == nil {
		return split + ": none"
	}
	return fmt.Sprintf("%s accuracy: %.4f (%s loss %.4f)", split, m.Accuracy, split, m.Loss)
}

// Averaged is the test result of an averaged model (EMA or SWA).
type Averaged struct {
	Kind      string   `json:"kind"` // "ema" or "swa"
	File      string   `json:"file"`
	Test      *Metrics `json:"test,omitempty"`
	Val       *Metrics `json:"val,omitempty"`
	BNBatches int      `json:"bn_refresh_batches,omitempty"`
}

// Result is what a run reports (summary.json).
type Result struct {
	Model            string     `json:"model"`
	Data             string     `json:"data"`
	Params           int        `json:"params"`
	Epochs           int        `json:"epochs"` // epochs trained (fewer than the recipe's after an early stop)
	Threads          int        `json:"threads"`
	Kernel           string     `json:"kernel"`
	Train            Metrics    `json:"train"` // the last epoch's running training loss and accuracy
	Val              *Metrics   `json:"val,omitempty"`
	Test             *Metrics   `json:"test,omitempty"`
	BestEpoch        int        `json:"best_epoch,omitempty"` // lowest validation loss (model_best.safetensors)
	EarlyStopped     bool       `json:"early_stopped,omitempty"`
	TrainSeconds     float64    `json:"train_seconds"`
	SamplesPerSecond float64    `json:"samples_per_second"`
	Averaged         []Averaged `json:"averaged,omitempty"`
	// SecondOrder holds the extra figures of a Newton/BFGS/L-BFGS run.
	SecondOrder *SecondOrderResult `json:"second_order,omitempty"`
	// Transfer is the fine-tuning report (load, freeze, per-group learning rates).
	Transfer *TransferReport `json:"transfer,omitempty"`
	Recipe   Recipe          `json:"recipe"`
}

// evaluate returns the model's metrics on ds (nil for no set) with the run's threads.
func (run *Run) evaluate(ds *data.InMemory) (*Metrics, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, nil
	}
	l, a, err := train.EvaluateN(run.Model, ds, 1000, run.Recipe.Threads)
	if err != nil {
		return nil, err
	}
	return &Metrics{Loss: l, Accuracy: a, Examples: ds.Len()}, nil
}

// Fit trains to the recipe's epochs (or an early stop), evaluates the final model on the
// validation and test splits, writes the model, the averaged models and summary.json to
// Options.OutDir, and returns the result. A cancelled ctx stops after the current step
// with ctx's error; the last epoch's checkpoint is kept.
func (run *Run) Fit(ctx context.Context) (*Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if run.Recipe.Optim.SecondOrder() {
		return run.fitSecondOrder(ctx)
	}
	tr := run.Trainer
	if err := tr.Fit(ctx); err != nil {
		return nil, err
	}
	hist := tr.History()
	if len(hist) == 0 {
		return nil, fmt.Errorf("recipe: no epoch was trained (the checkpoint is already at epoch %d of %d)", tr.Epoch(), run.Recipe.Epochs)
	}
	last := hist[len(hist)-1]
	res := run.newResult(len(hist), tr.TrainSeconds())
	res.Train = Metrics{Loss: last.TrainLoss, Accuracy: last.TrainAccuracy, Examples: run.Data.Train.Len()}
	if run.stop != nil {
		res.EarlyStopped = tr.Stopped()
	}
	if run.best != nil {
		res.BestEpoch = run.best.BestEpoch()
	}
	if err := run.evaluateFinal(res); err != nil {
		return nil, err
	}
	if err := run.finishAveraging(res); err != nil {
		return nil, err
	}
	return res, run.writeResult(res)
}

func (run *Run) newResult(epochs int, secs float64) *Result {
	n := float64(epochs * run.Data.Train.Len())
	return &Result{Model: run.Recipe.Model.Name, Data: run.Data.Name, Params: nn.NumParams(run.Model), Epochs: epochs,
		Threads: run.Recipe.Threads, Kernel: kernel.Name(), TrainSeconds: secs, SamplesPerSecond: n / math.Max(secs, 1e-9),
		Recipe: run.Recipe, Transfer: run.Transfer}
}

// evaluateFinal fills the validation and test metrics of the final weights.
func (run *Run) evaluateFinal(res *Result) error {
	var err error
	if res.Val, err = run.evaluate(run.Data.Val); err != nil {
		return err
	}
	if res.Test, err = run.evaluate(run.Data.Test); err != nil {
		return err
	}
	return nil
}

// finishAveraging evaluates the averaged weights and saves them next to the model as
// model_ema.safetensors and model_swa.safetensors (loadable by LoadModel); SWA's batch-
// norm statistics are recomputed first with one pass over the training split. The live
// weights are restored afterwards.
func (run *Run) finishAveraging(res *Result) error {
	out := run.opts.OutDir
	do := func(kind string) func() error {
		return func() error {
			a := Averaged{Kind: kind, File: "model_" + kind + ".safetensors"}
			var err error
			if a.Val, err = run.evaluate(run.Data.Val); err != nil {
				return err
			}
			if a.Test, err = run.evaluate(run.Data.Test); err != nil {
				return err
			}
			if out != "" {
				if err := SaveModel(filepath.Join(out, a.File), run.Model, run.Recipe, run.Data); err != nil {
					return err
				}
			}
			res.Averaged = append(res.Averaged, a)
			return nil
		}
	}
	if run.EMA != nil {
		if err := run.EMA.With(do("ema")); err != nil {
			return err
		}
	}
	if run.SWA != nil {
		if run.SWA.Count() == 0 {
			return fmt.Errorf("recipe: swa: no weights were averaged (averaging.swa_start %d)", run.Recipe.Averaging.SWAStart)
		}
		n, err := run.SWA.With(run.Data.Train, run.Recipe.Batch, do("swa"))
		if err != nil {
			return err
		}
		res.Averaged[len(res.Averaged)-1].BNBatches = n
	}
	return nil
}

// writeResult saves the model and summary.json.
func (run *Run) writeResult(res *Result) error {
	out := run.opts.OutDir
	if out == "" {
		return nil
	}
	if err := SaveModel(filepath.Join(out, ModelFile), run.Model, run.Recipe, run.Data); err != nil {
		return err
	}
	return WriteJSON(filepath.Join(out, SummaryFile), res)
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("recipe: %s: %w", path, err)
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadCheckpointRecipe returns the recipe stored in dir's training checkpoint (the run
// to resume).
func ReadCheckpointRecipe(dir string) (Recipe, error) {
	r, _, err := readSaved(dir)
	return r, err
}

// readSaved reads dir's training checkpoint once: its recipe and state information.
func readSaved(dir string) (Recipe, *train.StateInfo, error) {
	info, err := train.ReadStateInfo(dir)
	if err != nil {
		return Recipe{}, nil, err
	}
	raw, ok := info.Meta["recipe"]
	if !ok {
		return Recipe{}, nil, fmt.Errorf("recipe: %s: the checkpoint holds no recipe (written by an older temper?)", filepath.Join(dir, train.StateFile))
	}
	r, err := Parse([]byte(raw))
	return r, info, err
}

// Diff lists the fields (JSON paths) whose values differ between a and b, as
// "path: a → b".
func Diff(a, b Recipe) []string {
	var fa, fb map[string]any
	json.Unmarshal(a.Marshal(), &fa)
	json.Unmarshal(b.Marshal(), &fb)
	var out []string
	var walk func(prefix string, x, y map[string]any)
	walk = func(prefix string, x, y map[string]any) {
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		for _, k := range sorted {
			xm, xok := x[k].(map[string]any)
			ym, yok := y[k].(map[string]any)
			if xok && yok {
				walk(prefix+k+".", xm, ym)
				continue
			}
			xs, _ := json.Marshal(x[k])
			ys, _ := json.Marshal(y[k])
			if string(xs) != string(ys) {
				out = append(out, fmt.Sprintf("%s%s: %s → %s", prefix, k, xs, ys))
			}
		}
	}
	walk("", fa, fb)
	return out
}

// mixingCallback runs the recipe's batch mixing (mixup, cutmix) before each step and
// keeps its random stream in the checkpoint.
type mixingCallback struct {
	train.BaseCallback
	m interface {
		Apply(x *tensor.Tensor, y []int)
		RandomStreams() []*rng.Stream
	}
}

func (c *mixingCallback) BeforeStep(s *train.StepInfo) error {
	c.m.Apply(s.X, s.Y)
	return nil
}

func (c *mixingCallback) StateKey() string { return "mixing" }

func (c *mixingCallback) State() ([]checkpoint.Named, string, error) {
	var parts []string
	for _, s := range c.m.RandomStreams() {
		b, err := s.MarshalBinary()
		if err != nil {
			return nil, "", err
		}
		parts = append(parts, fmt.Sprintf("%x", b))
	}
	return nil, strings.Join(parts, ","), nil
}

func (c *mixingCallback) LoadState(_ map[string]*tensor.Tensor, meta string) error {
	parts := strings.Split(meta, ",")
	ss := c.m.RandomStreams()
	if len(parts) != len(ss) {
		return fmt.Errorf("recipe: mixing state has %d streams, want %d", len(parts), len(ss))
	}
	for i, p := range parts {
		var b []byte
		if _, err := fmt.Sscanf(p, "%x", &b); err != nil {
			return fmt.Errorf("recipe: mixing state: %v", err)
		}
		if err := ss[i].UnmarshalBinary(b); err != nil {
			return fmt.Errorf("recipe: mixing state: %v", err)
		}
	}
	return nil
}
