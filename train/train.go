// Package train is the training loop: epochs of minibatch steps, evaluation on a
// validation set, a learning-rate schedule, JSONL metrics per epoch, a guard that stops on
// a non-finite loss, callbacks (progress, early stopping, best-model saving, weight
// averaging, batch mixing), and a checkpoint of the whole training state at every epoch
// end from which a run resumes bit-identically.
//
// Use: build the model and optimizer, then a Trainer over the data sets, and Fit:
//
//	tr, err := train.New(model, opt, train.Sets{Train: trainSet, Val: valSet},
//		train.Config{Epochs: 10, Callbacks: []train.Callback{train.NewProgress(os.Stderr)}}, rng.New(1))
//	defer tr.Close()
//	err = tr.Fit(ctx)
//	loss, acc, err := train.Evaluate(model, testSet, 1000, nil, nil)
//
// The validation set steers training (ReduceOnPlateau, EarlyStopping, KeepBest); the test
// set is evaluated per epoch only when Config.TestEachEpoch asks for curves, and otherwise
// by the caller at the end. The Trainer prints nothing: NewProgress is the callback that
// draws the bar and the per-epoch lines.
//
// One step, as data flows: the Loader yields a batch -> BeforeStep callbacks (may rewrite
// the batch) -> model.Forward records ops on the tape -> loss -> Backward fills parameter
// gradients -> ApplyLR sets each group's LR from the schedule -> Optimizer.Step ->
// AfterStep callbacks. The tape's arena and the loader's ring are reused, so a
// steady-state step allocates nothing.
//
// Threads: the ops of a step and of evaluation run with Config.Threads threads, set on the
// trainer's tapes (ag.Tape.SetThreads); the trainer never changes the process-wide
// default of internal/kernel. Results are bit-identical for a fixed seed and thread count.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
)

// ErrNonFinite is wrapped by the error returned when the loss becomes NaN or ±Inf.
var ErrNonFinite = errors.New("non-finite loss")

// ErrNeedsVal is wrapped by the error of something that observes the validation loss (a
// ReduceOnPlateau in the schedule, EarlyStopping, KeepBest) in a trainer without a
// validation set. The message names what needs it: "train: schedule observes the
// validation loss, and there is no validation set".
var ErrNeedsVal = errors.New("observes the validation loss, and there is no validation set")

// NonFiniteError names the step at which the loss stopped being finite.
type NonFiniteError struct {
	Epoch, Step, GlobalStep int
	Loss                    float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("train: loss is %v at epoch %d, step %d (global step %d); lower the learning rate or check the data",
		e.Loss, e.Epoch, e.Step, e.GlobalStep)
}

func (e *NonFiniteError) Unwrap() error { return ErrNonFinite }

// ErrNonFiniteWeights is wrapped by the error of Fit when a parameter or buffer holds NaN
// or ±Inf at an epoch end (checked before the epoch's checkpoint is written, so the
// checkpoint on disk stays the last finite one).
var ErrNonFiniteWeights = errors.New("non-finite weights")

// InterruptedError is returned by Fit when its context is cancelled: training stopped
// after step Step of epoch Epoch+1, and the state of the last completed epoch (Epoch; 0:
// none) is what the checkpoint holds. It wraps the context's error.
type InterruptedError struct {
	Epoch, Step int
	Err         error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("train: interrupted in epoch %d after %d steps (%v)", e.Epoch+1, e.Step, e.Err)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Sets are the data of a run. Train is required; Val and Test may be nil.
type Sets struct {
	// Train is the training set, shuffled every epoch.
	Train data.Dataset
	// Val, the validation set, is evaluated after every epoch (EpochRecord.ValLoss); the
	// schedule's ReduceOnPlateau, EarlyStopping and KeepBest observe its loss.
	Val data.Dataset
	// Test is evaluated after every epoch only with Config.TestEachEpoch.
	Test data.Dataset
}

// Config configures the loop. Zero values are the defaults noted.
type Config struct {
	// Epochs to train; default 1.
	Epochs int
	// BatchSize; default 128.
	BatchSize int
	// EvalBatchSize for evaluation; default 1000.
	EvalBatchSize int
	// Threads the ops of a step and of evaluation use (set on the trainer's tapes);
	// default 0, the process default of internal/kernel (GOMAXPROCS at start).
	Threads int
	// LabelSmoothing for the default cross-entropy loss; default 0.
	LabelSmoothing float64
	// Schedule sets every group's LR from its BaseLR before each step (stepped per batch;
	// use schedule.PerEpoch for epoch-indexed schedules). Nil keeps LR = BaseLR.
	// A ReduceOnPlateau inside it (schedule.FindPlateau) observes the validation loss at
	// every epoch end; New returns an error wrapping ErrNeedsVal without a validation set.
	Schedule schedule.Schedule
	// OutDir receives checkpoint.safetensors after every epoch and metrics.jsonl. Empty
	// disables checkpoints and metrics files.
	OutDir string
	// Meta is stored in checkpoints (e.g. the run's recipe as JSON) and returned by
	// ReadMeta.
	Meta map[string]string
	// EvalTrain also evaluates the loss and accuracy on the whole training set in
	// evaluation mode after each epoch (one more pass; EpochRecord.TrainEvalLoss), the
	// quantity to compare with full-batch optimizers.
	EvalTrain bool
	// TestEachEpoch evaluates Sets.Test after every epoch (EpochRecord.TestLoss, for
	// curves; NewProgress labels it "test"). Otherwise the test set is not evaluated by
	// Fit: the caller evaluates it at the end.
	TestEachEpoch bool
	// Loss overrides the objective; default softmax cross-entropy with LabelSmoothing.
	Loss func(logits *ag.Var, labels []int) *ag.Var
	// EvalLoss is the loss reported on evaluation sets; default plain cross-entropy (no
	// smoothing, penalty or mixing, whatever Loss adds in training).
	EvalLoss func(logits *ag.Var, labels []int) *ag.Var
	// Transform is applied to every training example inside the loader's workers (data
	// augmentation, see package augment); deterministic given the loader's stream.
	Transform func(x []float32, shape []int, r *rng.Stream)
	// Callbacks extend the loop, called in this order (see Callback). Those that are
	// StatefulCallback have their state saved in checkpoints; their StateKeys must be
	// unique and contain no '.'.
	Callbacks []Callback
}

// EpochRecord is one line of metrics.jsonl. A metric that was not evaluated is NaN in the
// record: ValLoss/ValAccuracy without a validation set, TestLoss/TestAccuracy unless
// Config.TestEachEpoch; in JSON those fields are then left out (and read back as NaN).
// Other non-finite values are written as null.
type EpochRecord struct {
	Epoch            int     `json:"epoch"`
	GlobalStep       int     `json:"global_step"`
	LR               float64 `json:"lr"`
	TrainLoss        float64 `json:"train_loss"`
	TrainAccuracy    float64 `json:"train_accuracy"`
	ValLoss          float64 `json:"val_loss,omitempty"`
	ValAccuracy      float64 `json:"val_accuracy,omitempty"`
	TestLoss         float64 `json:"test_loss,omitempty"`
	TestAccuracy     float64 `json:"test_accuracy,omitempty"`
	TrainEvalLoss    float64 `json:"train_eval_loss,omitempty"`
	TrainEvalAcc     float64 `json:"train_eval_accuracy,omitempty"`
	TrainSeconds     float64 `json:"train_seconds"`
	SamplesPerSecond float64 `json:"samples_per_second"`
	// ResumeChanges lists the recipe changes applied when the run was resumed before this
	// epoch ("epochs: 2 → 4"); see Trainer.NoteResume.
	ResumeChanges []string `json:"resume_changes,omitempty"`
}

// Trainer holds what a run needs. Build one with New.
type Trainer struct {
	Model     nn.Module
	Optimizer optim.Optimizer
	Sets      Sets
	Config    Config

	rand       *rng.Stream // the loader's shuffling stream
	loader     *data.Loader
	tape       *ag.Tape
	evalTape   *ag.Tape
	info       StepInfo // reused by Step: calling callbacks allocates nothing
	epoch      int      // epochs completed
	globalStep int
	history    []EpochRecord
	trainSecs  float64
	stopReq    bool // a callback returned ErrStop during the current epoch
	stopped    bool
	note       []string // resume changes for the next epoch record
	// evalLoaders are the loaders of the validation, test and training sets' evaluation,
	// kept across epochs.
	evalLoaders [3]*data.Loader
}

// NoteResume records changes made to the run on resume (e.g. "epochs: 2 → 4"); the next
// epoch record (metrics.jsonl, History) carries them as ResumeChanges.
func (t *Trainer) NoteResume(changes []string) { t.note = changes }

// New validates the configuration and returns a Trainer whose data order is drawn from
// r. Model and optimizer must already be built; their random streams are part of the
// training state saved in checkpoints.
func New(model nn.Module, opt optim.Optimizer, sets Sets, cfg Config, r *rng.Stream) (*Trainer, error) {
	if cfg.Epochs == 0 {
		cfg.Epochs = 1
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 128
	}
	if cfg.EvalBatchSize == 0 {
		cfg.EvalBatchSize = 1000
	}
	switch {
	case cfg.Epochs < 0:
		return nil, fmt.Errorf("train: epochs %d out of range [1, ∞)", cfg.Epochs)
	case cfg.BatchSize < 0:
		return nil, fmt.Errorf("train: batch size %d out of range [1, ∞)", cfg.BatchSize)
	case cfg.EvalBatchSize < 0:
		return nil, fmt.Errorf("train: eval batch size %d out of range [1, ∞)", cfg.EvalBatchSize)
	case cfg.Threads < 0:
		return nil, fmt.Errorf("train: threads %d out of range [0, ∞)", cfg.Threads)
	case !(cfg.LabelSmoothing >= 0 && cfg.LabelSmoothing < 1):
		return nil, fmt.Errorf("train: label smoothing %v out of range [0, 1)", cfg.LabelSmoothing)
	case model == nil:
		return nil, errors.New("train: nil model")
	case opt == nil:
		return nil, errors.New("train: nil optimizer")
	case sets.Train == nil || sets.Train.Len() == 0:
		return nil, errors.New("train: the training set is empty")
	case sets.Val != nil && sets.Val.Len() == 0:
		return nil, errors.New("train: the validation set is empty (leave Sets.Val nil for none)")
	case r == nil:
		return nil, errors.New("train: nil random stream")
	}
	if err := checkCallbacks(cfg, sets); err != nil {
		return nil, err
	}
	if cfg.Loss == nil {
		ls := cfg.LabelSmoothing
		cfg.Loss = func(z *ag.Var, y []int) *ag.Var { return loss.CrossEntropy(z, y, ls) }
	}
	l, err := data.NewLoader(sets.Train, data.LoaderConfig{BatchSize: cfg.BatchSize, Shuffle: true, Transform: cfg.Transform}, r)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t := &Trainer{Model: model, Optimizer: opt, Sets: sets, Config: cfg,
		rand: r, loader: l, tape: ag.NewTape(), evalTape: ag.NewTape()}
	t.tape.SetThreads(cfg.Threads)
	t.evalTape.SetThreads(cfg.Threads)
	if th, ok := opt.(optim.Threaded); ok {
		th.SetThreads(cfg.Threads)
	}
	t.info.Trainer = t
	return t, nil
}

// checkCallbacks reports what needs a validation set without one, and bad state keys.
func checkCallbacks(cfg Config, sets Sets) error {
	if sets.Val == nil && schedule.FindPlateau(cfg.Schedule) != nil {
		return fmt.Errorf("train: schedule %w", ErrNeedsVal)
	}
	keys := map[string]bool{}
	for i, cb := range cfg.Callbacks {
		switch c := cb.(type) {
		case nil:
			return fmt.Errorf("train: callback %d is nil", i)
		case *EarlyStopping:
			if err := c.validate(); err != nil {
				return err
			}
			if sets.Val == nil {
				return fmt.Errorf("train: early stopping %w", ErrNeedsVal)
			}
		case *KeepBest:
			if sets.Val == nil {
				return fmt.Errorf("train: keep best %w", ErrNeedsVal)
			}
		}
		if sc, ok := cb.(StatefulCallback); ok {
			k := sc.StateKey()
			switch {
			case k == "" || strings.Contains(k, "."):
				return fmt.Errorf("train: callback %d: state key %q must be non-empty and contain no '.'", i, k)
			case keys[k]:
				return fmt.Errorf("train: callback %d: state key %q used twice", i, k)
			}
			keys[k] = true
		}
	}
	return nil
}

// Epoch returns the number of completed epochs.
func (t *Trainer) Epoch() int { return t.epoch }

// GlobalStep returns the number of optimizer steps taken.
func (t *Trainer) GlobalStep() int { return t.globalStep }

// StepsPerEpoch returns the number of optimizer steps (batches) in an epoch.
func (t *Trainer) StepsPerEpoch() int { return t.loader.BatchesPerEpoch() }

// History returns the records of completed epochs (including those before a resume).
func (t *Trainer) History() []EpochRecord { return t.history }

// TrainSeconds returns the time spent in training steps (no evaluation or I/O).
func (t *Trainer) TrainSeconds() float64 { return t.trainSecs }

// Stopped reports whether a callback ended training early (returned ErrStop). It is saved
// in checkpoints: Fit on a trainer resumed from a stopped run returns at once.
func (t *Trainer) Stopped() bool { return t.stopped }

// Close releases the loaders' workers.
func (t *Trainer) Close() error {
	for i, l := range t.evalLoaders {
		if l != nil {
			l.Close()
			t.evalLoaders[i] = nil
		}
	}
	return t.loader.Close()
}

// ApplyLR is the one writer of the parameter groups' learning rates: it sets every group's
// LR to s.LR(step, g.BaseLR) — g.BaseLR itself when s is nil — and, when s cycles
// momentum (schedule.MomentumCycler), the optimizer's momentum. The Trainer calls it
// before every optimizer step with the number of steps taken so far; nothing else in the
// library writes a group's LR (LoadState does not: the schedule recomputes it from the
// global step).
func ApplyLR(opt optim.Optimizer, s schedule.Schedule, step int) {
	for _, g := range opt.Groups() {
		if s == nil {
			g.LR = g.BaseLR
		} else {
			g.LR = s.LR(step, g.BaseLR)
		}
	}
	if s == nil {
		return
	}
	if m, ok := schedule.MomentumAt(s, step); ok {
		if mc, ok := opt.(optim.MomentumSetter); ok {
			_ = mc.SetMomentum(m) // the schedule's momenta are validated at parse time
		}
	}
}

// Step runs one optimization step on a batch and returns its loss and number of correct
// predictions: BeforeStep callbacks, forward, loss, backward, ApplyLR, the optimizer step,
// AfterStep callbacks. A callback's ErrStop is recorded (Fit stops after the epoch) and
// not returned. It is the allocation-free hot path.
func (t *Trainer) Step(x *tensor.Tensor, y []int) (lossValue float64, correct int, err error) {
	defer func() {
		// A shape mismatch inside the model is a programming error that panics with a
		// *tensor.ShapeError; at this API boundary it becomes an error naming the step.
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				e = fmt.Errorf("%v", r)
			}
			err = fmt.Errorf("train: step %d: %w", t.globalStep+1, e)
		}
	}()
	cbs := t.Config.Callbacks
	info := &t.info
	*info = StepInfo{Trainer: t, Epoch: t.epoch + 1, GlobalStep: t.globalStep, X: x, Y: y}
	for _, cb := range cbs {
		if err := t.callbackErr(cb.BeforeStep(info)); err != nil {
			return 0, 0, err
		}
	}
	tp := t.tape
	tp.Reset()
	for _, g := range t.Optimizer.Groups() {
		for _, p := range g.Params {
			clear(p.Grad.Data())
		}
	}
	logits := t.Model.Forward(tp.Const(info.X))
	l := t.Config.Loss(logits, info.Y)
	lv := float64(l.Value.Item())
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return lv, 0, &NonFiniteError{Epoch: t.epoch + 1, GlobalStep: t.globalStep + 1, Loss: lv}
	}
	l.Backward()
	ApplyLR(t.Optimizer, t.Config.Schedule, t.globalStep)
	t.Optimizer.Step()
	t.globalStep++
	c := countCorrect(logits.Value, info.Y)
	info.GlobalStep, info.Loss, info.Correct = t.globalStep, lv, c
	for _, cb := range cbs {
		if err := t.callbackErr(cb.AfterStep(info)); err != nil {
			return lv, c, err
		}
	}
	return lv, c, nil
}

// callbackErr records ErrStop and returns other errors.
func (t *Trainer) callbackErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrStop) {
		t.stopReq = true
		return nil
	}
	return err
}

func countCorrect(logits *tensor.Tensor, y []int) int {
	s := logits.Shape()
	if len(s) != 2 {
		return 0
	}
	c := s[1]
	d := logits.Data()
	n := 0
	for i, lab := range y {
		row := d[i*c : (i+1)*c]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == lab {
			n++
		}
	}
	return n
}

// Evaluate returns the mean loss and accuracy of the model on ds in evaluation mode
// (restoring training mode afterwards), in batches of batch (default 1000). lossFn
// defaults to plain cross-entropy. The ops run on tp with tp's thread count; a nil tp
// means a new tape with the process default (see EvaluateN). An empty or nil ds gives NaN.
func Evaluate(model nn.Module, ds data.Dataset, batch int, lossFn func(*ag.Var, []int) *ag.Var, tp *ag.Tape) (lossMean, acc float64, err error) {
	if ds == nil || ds.Len() == 0 {
		return math.NaN(), math.NaN(), nil
	}
	if batch <= 0 {
		batch = 1000
	}
	l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batch}, rng.New(0))
	if err != nil {
		return 0, 0, err
	}
	defer l.Close()
	return evaluateLoader(model, l, lossFn, tp)
}

// evaluateLoader is Evaluate over the batches of l (the trainer keeps one loader per
// evaluated set, so evaluating every epoch allocates no new batch buffers).
func evaluateLoader(model nn.Module, l *data.Loader, lossFn func(*ag.Var, []int) *ag.Var, tp *ag.Tape) (lossMean, acc float64, err error) {
	if lossFn == nil {
		lossFn = func(z *ag.Var, y []int) *ag.Var { return loss.CrossEntropy(z, y, 0) }
	}
	if tp == nil {
		tp = ag.NewTape()
	}
	nn.SetTraining(model, false)
	defer nn.SetTraining(model, true)
	prev := tp.SetNoGrad(true)
	defer tp.SetNoGrad(prev)
	var sum float64
	correct, n := 0, 0
	for b := range l.Batches() {
		tp.Reset()
		z := model.Forward(tp.Const(b.X))
		sum += float64(lossFn(z, b.Y).Value.Item()) * float64(b.N)
		correct += countCorrect(z.Value, b.Y)
		n += b.N
	}
	tp.Reset()
	return sum / float64(n), float64(correct) / float64(n), nil
}

// evalOn evaluates ds with the trainer's cached loader for role (0 validation, 1 test,
// 2 training set), made on first use and remade if the set changed.
func (t *Trainer) evalOn(role int, ds data.Dataset) (lossMean, acc float64, err error) {
	if ds == nil || ds.Len() == 0 {
		return math.NaN(), math.NaN(), nil
	}
	l := t.evalLoaders[role]
	if l == nil || !sameDataset(l.Dataset(), ds) || l.BatchSize() != t.Config.EvalBatchSize {
		if l != nil {
			l.Close()
		}
		if l, err = data.NewLoader(ds, data.LoaderConfig{BatchSize: t.Config.EvalBatchSize}, rng.New(0)); err != nil {
			return 0, 0, err
		}
		t.evalLoaders[role] = l
	}
	return evaluateLoader(t.Model, l, t.Config.EvalLoss, t.evalTape)
}

// sameDataset reports whether a and b are the same set (false for values that cannot
// be compared).
func sameDataset(a, b data.Dataset) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Type() == vb.Type() && va.Comparable() && vb.Comparable() && a == b
}

// EvaluateN is Evaluate with the default cross-entropy on a new tape running threads
// threads (0: the process default).
func EvaluateN(model nn.Module, ds data.Dataset, batch, threads int) (lossMean, acc float64, err error) {
	tp := ag.NewTape()
	tp.SetThreads(threads)
	return Evaluate(model, ds, batch, nil, tp)
}

// Fit trains from the current epoch up to Config.Epochs. After each epoch it evaluates
// the validation set (and the test set with TestEachEpoch, the training set with
// EvalTrain), lets the schedule's ReduceOnPlateau observe the validation loss, runs the
// AfterEpoch callbacks, appends the record to metrics.jsonl and writes the checkpoint.
//
// It returns nil early, after that epoch's checkpoint, when a callback returned ErrStop
// (Stopped then reports true); with ctx's error if ctx is cancelled (after finishing the
// current step); with a *NonFiniteError on a NaN/Inf loss; and with any other callback
// error at once.
func (t *Trainer) Fit(ctx context.Context) error {
	cfg := t.Config
	if t.stopped {
		return nil
	}
	if err := checkCallbacks(cfg, t.Sets); err != nil { // Config may have changed since New
		return err
	}
	nn.SetTraining(t.Model, true)
	var metrics *metricsLog
	if cfg.OutDir != "" {
		var err error
		if metrics, err = openMetrics(cfg.OutDir, t.history); err != nil {
			return err
		}
	}
	for t.epoch < cfg.Epochs {
		t.stopReq = false
		rec, err := t.runEpoch(ctx)
		if err != nil {
			var nf *NonFiniteError
			if errors.As(err, &nf) && cfg.OutDir != "" {
				if merr := MarkNonFinite(cfg.OutDir, err); merr != nil {
					return fmt.Errorf("%w (and marking the checkpoint failed: %v)", err, merr)
				}
			}
			return err
		}
		if err := CheckFinite(t.Model); err != nil {
			err = fmt.Errorf("train: after epoch %d: %w; lower the learning rate or check the data", t.epoch+1, err)
			if cfg.OutDir != "" {
				if merr := MarkNonFinite(cfg.OutDir, err); merr != nil {
					return fmt.Errorf("%w (and marking the checkpoint failed: %v)", err, merr)
				}
			}
			return err
		}
		rec.ResumeChanges, t.note = t.note, nil
		if err := t.evaluate(rec); err != nil {
			return err
		}
		if p := schedule.FindPlateau(cfg.Schedule); p != nil {
			p.Observe(rec.ValLoss)
		}
		t.epoch++
		for _, cb := range cfg.Callbacks {
			if err := t.callbackErr(cb.AfterEpoch(t, rec)); err != nil {
				return err
			}
		}
		t.stopped = t.stopReq
		t.history = append(t.history, *rec)
		if metrics != nil {
			if err := metrics.write(rec); err != nil {
				return err
			}
		}
		if cfg.OutDir != "" {
			if err := t.SaveState(cfg.OutDir); err != nil {
				return err
			}
		}
		if t.stopped {
			return nil
		}
	}
	return nil
}

// evaluate fills rec's evaluation metrics (NaN for those not evaluated).
func (t *Trainer) evaluate(rec *EpochRecord) error {
	cfg := t.Config
	rec.ValLoss, rec.ValAccuracy = math.NaN(), math.NaN()
	rec.TestLoss, rec.TestAccuracy = math.NaN(), math.NaN()
	var err error
	if t.Sets.Val != nil {
		if rec.ValLoss, rec.ValAccuracy, err = t.evalOn(0, t.Sets.Val); err != nil {
			return fmt.Errorf("train: validation: %w", err)
		}
	}
	if cfg.TestEachEpoch && t.Sets.Test != nil {
		if rec.TestLoss, rec.TestAccuracy, err = t.evalOn(1, t.Sets.Test); err != nil {
			return fmt.Errorf("train: test: %w", err)
		}
	}
	if cfg.EvalTrain {
		if rec.TrainEvalLoss, rec.TrainEvalAcc, err = t.evalOn(2, t.Sets.Train); err != nil {
			return fmt.Errorf("train: training-set evaluation: %w", err)
		}
	}
	return nil
}

func (t *Trainer) runEpoch(ctx context.Context) (*EpochRecord, error) {
	var lossSum float64
	correct, n, step := 0, 0, 0
	start := time.Now()
	for b := range t.loader.Batches() {
		if err := ctx.Err(); err != nil {
			t.loader.Close()
			return nil, &InterruptedError{Epoch: t.epoch, Step: step, Err: err}
		}
		l, c, err := t.Step(b.X, b.Y)
		if err != nil {
			var nf *NonFiniteError
			if errors.As(err, &nf) {
				nf.Step = step + 1
			}
			return nil, err
		}
		lossSum += l * float64(b.N)
		correct += c
		n += b.N
		step++
	}
	secs := time.Since(start).Seconds()
	t.trainSecs += secs
	lr := 0.0
	if g := t.Optimizer.Groups(); len(g) > 0 {
		lr = g[0].LR
	}
	return &EpochRecord{Epoch: t.epoch + 1, GlobalStep: t.globalStep, LR: lr,
		TrainLoss: lossSum / float64(n), TrainAccuracy: float64(correct) / float64(n),
		TrainSeconds: secs, SamplesPerSecond: float64(n) / secs}, nil
}

// jsonFloat encodes NaN and ±Inf (a diverged loss) as JSON null, which encoding/json
// cannot do for float64, and decodes null back to NaN.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

type epochJSON struct {
	Epoch            int        `json:"epoch"`
	GlobalStep       int        `json:"global_step"`
	LR               jsonFloat  `json:"lr"`
	TrainLoss        jsonFloat  `json:"train_loss"`
	TrainAccuracy    jsonFloat  `json:"train_accuracy"`
	ValLoss          *jsonFloat `json:"val_loss,omitempty"`
	ValAccuracy      *jsonFloat `json:"val_accuracy,omitempty"`
	TestLoss         *jsonFloat `json:"test_loss,omitempty"`
	TestAccuracy     *jsonFloat `json:"test_accuracy,omitempty"`
	TrainEvalLoss    jsonFloat  `json:"train_eval_loss,omitempty"`
	TrainEvalAcc     jsonFloat  `json:"train_eval_accuracy,omitempty"`
	TrainSeconds     jsonFloat  `json:"train_seconds"`
	SamplesPerSecond jsonFloat  `json:"samples_per_second"`
	ResumeChanges    []string   `json:"resume_changes,omitempty"`
}

// optional is nil (field left out) for NaN, "not evaluated".
func optional(v float64) *jsonFloat {
	if math.IsNaN(v) {
		return nil
	}
	f := jsonFloat(v)
	return &f
}

func fromOptional(f *jsonFloat) float64 {
	if f == nil {
		return math.NaN()
	}
	return float64(*f)
}

// MarshalJSON writes the record with NaN validation and test metrics left out and other
// non-finite values as null.
func (r EpochRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochJSON{
		Epoch: r.Epoch, GlobalStep: r.GlobalStep, LR: jsonFloat(r.LR),
		TrainLoss: jsonFloat(r.TrainLoss), TrainAccuracy: jsonFloat(r.TrainAccuracy),
		ValLoss: optional(r.ValLoss), ValAccuracy: optional(r.ValAccuracy),
		TestLoss: optional(r.TestLoss), TestAccuracy: optional(r.TestAccuracy),
		TrainEvalLoss: jsonFloat(r.TrainEvalLoss), TrainEvalAcc: jsonFloat(r.TrainEvalAcc),
		TrainSeconds: jsonFloat(r.TrainSeconds), SamplesPerSecond: jsonFloat(r.SamplesPerSecond),
		ResumeChanges: r.ResumeChanges,
	})
}

// UnmarshalJSON reads a record written by MarshalJSON (null and missing validation and
// test metrics as NaN).
func (r *EpochRecord) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = EpochRecord{
		Epoch: j.Epoch, GlobalStep: j.GlobalStep, LR: float64(j.LR),
		TrainLoss: float64(j.TrainLoss), TrainAccuracy: float64(j.TrainAccuracy),
		ValLoss: fromOptional(j.ValLoss), ValAccuracy: fromOptional(j.ValAccuracy),
		TestLoss: fromOptional(j.TestLoss), TestAccuracy: fromOptional(j.TestAccuracy),
		TrainEvalLoss: float64(j.TrainEvalLoss), TrainEvalAcc: float64(j.TrainEvalAcc),
		TrainSeconds: float64(j.TrainSeconds), SamplesPerSecond: float64(j.SamplesPerSecond),
		ResumeChanges: j.ResumeChanges,
	}
	return nil
}
