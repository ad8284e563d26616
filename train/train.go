// Package train is the training loop: epochs of minibatch steps, evaluation, a learning-
// rate schedule, a progress bar, JSONL metrics per epoch, a guard that stops on a
// non-finite loss, and a checkpoint of the whole training state at every epoch end from
// which a run resumes bit-identically.
//
// One step, as data flows: the Loader yields a batch -> model.Forward records ops on the
// tape -> loss -> Backward fills parameter gradients -> the schedule sets each group's LR
// -> Optimizer.Step -> metrics. The tape's arena and the loader's ring are reused, so a
// steady-state step allocates nothing in proportion to the model.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
)

// ErrNonFinite is wrapped by the error returned when the loss becomes NaN or ±Inf.
var ErrNonFinite = errors.New("non-finite loss")

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

// Config configures the loop. Zero values are the defaults noted.
type Config struct {
	// Epochs to train; default 1.
	Epochs int
	// BatchSize; default 128.
	BatchSize int
	// EvalBatchSize for evaluation; default 1000.
	EvalBatchSize int
	// Threads for the kernels; default GOMAXPROCS.
	Threads int
	// LabelSmoothing for the cross-entropy loss; default 0.
	LabelSmoothing float64
	// Schedule sets every group's LR from its BaseLR before each step (stepped per batch;
	// use schedule.PerEpoch for epoch-indexed schedules). Nil keeps the LR constant.
	// A ReduceOnPlateau inside it observes the test loss at every epoch end.
	Schedule schedule.Schedule
	// OutDir receives checkpoint.safetensors after every epoch and metrics.jsonl. Empty
	// disables checkpoints and metrics files.
	OutDir string
	// Progress receives the progress bar and per-epoch lines; nil is silent.
	Progress io.Writer
	// Meta is stored in checkpoints (e.g. the CLI's flags as JSON) and returned on resume.
	Meta map[string]string
	// Hooks run at points of the loop (EMA, SWA, snapshots, ...).
	Hooks []Hook
	// EvalTrain also evaluates the loss and accuracy on the whole training set in
	// evaluation mode after each epoch (one more pass; EpochRecord.TrainEvalLoss), the
	// quantity to compare with full-batch optimizers.
	EvalTrain bool
	// Loss overrides the objective; default softmax cross-entropy with LabelSmoothing.
	Loss func(logits *ag.Var, labels []int) *ag.Var
	// EvalLoss is the loss reported on evaluation sets; default plain cross-entropy (no
	// smoothing, penalty or mixing, whatever Loss adds in training).
	EvalLoss func(logits *ag.Var, labels []int) *ag.Var
	// Transform is applied to every training example inside the loader's workers (data
	// augmentation, see package augment); deterministic given the loader's stream.
	Transform func(x []float32, shape []int, r *rng.Stream)
	// BeforeStep, if set, may rewrite a training batch in place before the forward pass
	// (batch-level augmentation such as mixup).
	BeforeStep func(x *tensor.Tensor, y []int)
	// Streams are further random streams whose states checkpoints save (e.g. mixup's).
	Streams []*rng.Stream
}

// Hook observes the loop. Either func may be nil.
type Hook struct {
	// AfterStep runs after each optimizer step with the global step (from 1).
	AfterStep func(globalStep int) error
	// AfterEpoch runs after each epoch's evaluation with its record.
	AfterEpoch func(rec *EpochRecord) error
}

// EpochRecord is one line of metrics.jsonl.
type EpochRecord struct {
	Epoch            int     `json:"epoch"`
	GlobalStep       int     `json:"global_step"`
	LR               float64 `json:"lr"`
	TrainLoss        float64 `json:"train_loss"`
	TrainAccuracy    float64 `json:"train_accuracy"`
	TestLoss         float64 `json:"test_loss"`
	TestAccuracy     float64 `json:"test_accuracy"`
	TrainEvalLoss    float64 `json:"train_eval_loss,omitempty"`
	TrainEvalAcc     float64 `json:"train_eval_accuracy,omitempty"`
	TrainSeconds     float64 `json:"train_seconds"`
	SamplesPerSecond float64 `json:"samples_per_second"`
}

// Trainer holds what a run needs. Build one with New.
type Trainer struct {
	Model     nn.Module
	Optimizer optim.Optimizer
	TrainSet  data.Dataset
	TestSet   data.Dataset
	Config    Config

	rand       *rng.Stream // the loader's shuffling stream
	loader     *data.Loader
	tape       *ag.Tape
	evalTape   *ag.Tape
	epoch      int // epochs completed
	globalStep int
	history    []EpochRecord
	trainSecs  float64
}

// New validates the configuration and returns a Trainer whose data order is drawn from
// r. Model and optimizer must already be built; their random streams are part of the
// training state saved in checkpoints.
func New(model nn.Module, opt optim.Optimizer, trainSet, testSet data.Dataset, cfg Config, r *rng.Stream) (*Trainer, error) {
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
		return nil, fmt.Errorf("train: threads %d out of range [1, ∞)", cfg.Threads)
	case !(cfg.LabelSmoothing >= 0 && cfg.LabelSmoothing < 1):
		return nil, fmt.Errorf("train: label smoothing %v out of range [0, 1)", cfg.LabelSmoothing)
	case trainSet == nil || trainSet.Len() == 0:
		return nil, errors.New("train: the training set is empty")
	case r == nil:
		return nil, errors.New("train: nil random stream")
	}
	if cfg.Loss == nil {
		ls := cfg.LabelSmoothing
		cfg.Loss = func(z *ag.Var, y []int) *ag.Var { return loss.CrossEntropy(z, y, ls) }
	}
	l, err := data.NewLoader(trainSet, data.LoaderConfig{BatchSize: cfg.BatchSize, Shuffle: true, Transform: cfg.Transform}, r)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return &Trainer{Model: model, Optimizer: opt, TrainSet: trainSet, TestSet: testSet, Config: cfg,
		rand: r, loader: l, tape: ag.NewTape(), evalTape: ag.NewTape()}, nil
}

// Epoch returns the number of completed epochs.
func (t *Trainer) Epoch() int { return t.epoch }

// GlobalStep returns the number of optimizer steps taken.
func (t *Trainer) GlobalStep() int { return t.globalStep }

// History returns the records of completed epochs (including those before a resume).
func (t *Trainer) History() []EpochRecord { return t.history }

// TrainSeconds returns the time spent in training steps (no evaluation or I/O).
func (t *Trainer) TrainSeconds() float64 { return t.trainSecs }

// Close releases the loader's workers.
func (t *Trainer) Close() error { return t.loader.Close() }

// setLR applies the schedule for the coming step.
func (t *Trainer) setLR(step int) {
	s := t.Config.Schedule
	if s == nil {
		return
	}
	for _, g := range t.Optimizer.Groups() {
		g.LR = s.LR(step, g.BaseLR)
	}
	if m, ok := schedule.MomentumAt(s, step); ok {
		if mc, ok := t.Optimizer.(optim.MomentumSetter); ok {
			_ = mc.SetMomentum(m) // the schedule's momenta are validated at parse time
		}
	}
}

// Step runs one optimization step on a batch and returns its loss and number of correct
// predictions. It is the allocation-free hot path.
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
	tp := t.tape
	tp.Reset()
	if t.Config.BeforeStep != nil {
		t.Config.BeforeStep(x, y)
	}
	for _, g := range t.Optimizer.Groups() {
		for _, p := range g.Params {
			clear(p.Grad.Data())
		}
	}
	logits := t.Model.Forward(tp.Const(x))
	l := t.Config.Loss(logits, y)
	lv := float64(l.Value.Item())
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return lv, 0, &NonFiniteError{Epoch: t.epoch + 1, GlobalStep: t.globalStep + 1, Loss: lv}
	}
	l.Backward()
	t.setLR(t.globalStep)
	t.Optimizer.Step()
	t.globalStep++
	return lv, countCorrect(logits.Value, y), nil
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
// (restoring training mode afterwards).
func Evaluate(model nn.Module, ds data.Dataset, batch int, lossFn func(*ag.Var, []int) *ag.Var, tp *ag.Tape) (lossMean, acc float64, err error) {
	if ds == nil || ds.Len() == 0 {
		return math.NaN(), math.NaN(), nil
	}
	if batch <= 0 {
		batch = 1000
	}
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
	l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batch}, rng.New(0))
	if err != nil {
		return 0, 0, err
	}
	defer l.Close()
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

// Fit trains from the current epoch up to Config.Epochs, evaluating on the test set and
// checkpointing after each epoch. It stops early with ctx's error if ctx is cancelled
// (after finishing the current step), and with a *NonFiniteError on a NaN/Inf loss.
func (t *Trainer) Fit(ctx context.Context) error {
	cfg := t.Config
	if cfg.Threads > 0 {
		kernel.SetThreads(cfg.Threads)
	}
	nn.SetTraining(t.Model, true)
	var metrics io.WriteCloser
	if cfg.OutDir != "" {
		var err error
		if metrics, err = openMetrics(cfg.OutDir, t.history); err != nil {
			return err
		}
		defer metrics.Close()
	}
	for t.epoch < cfg.Epochs {
		rec, err := t.runEpoch(ctx)
		if err != nil {
			return err
		}
		rec.TestLoss, rec.TestAccuracy, err = Evaluate(t.Model, t.TestSet, cfg.EvalBatchSize, cfg.EvalLoss, t.evalTape)
		if err != nil {
			return err
		}
		if cfg.EvalTrain {
			rec.TrainEvalLoss, rec.TrainEvalAcc, err = Evaluate(t.Model, t.TrainSet, cfg.EvalBatchSize, cfg.EvalLoss, t.evalTape)
			if err != nil {
				return err
			}
		}
		if p := schedule.FindPlateau(cfg.Schedule); p != nil {
			m := rec.TestLoss
			if math.IsNaN(m) {
				m = rec.TrainLoss
			}
			p.Observe(m)
		}
		t.epoch++
		t.history = append(t.history, *rec)
		for _, h := range cfg.Hooks {
			if h.AfterEpoch != nil {
				if err := h.AfterEpoch(rec); err != nil {
					return err
				}
			}
		}
		if cfg.Progress != nil {
			extra := ""
			if cfg.EvalTrain {
				extra = fmt.Sprintf(" | full train loss %.5f", rec.TrainEvalLoss)
			}
			fmt.Fprintf(cfg.Progress, "epoch %d/%d: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | lr %.4g | %.2fs, %.0f samples/s%s\n",
				rec.Epoch, cfg.Epochs, rec.TrainLoss, 100*rec.TrainAccuracy, rec.TestLoss, 100*rec.TestAccuracy,
				rec.LR, rec.TrainSeconds, rec.SamplesPerSecond, extra)
		}
		if metrics != nil {
			if err := writeRecord(metrics, rec); err != nil {
				return err
			}
		}
		if cfg.OutDir != "" {
			if err := t.SaveState(cfg.OutDir); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Trainer) runEpoch(ctx context.Context) (*EpochRecord, error) {
	cfg := t.Config
	bar := newProgress(cfg.Progress, t.loader.BatchesPerEpoch(), fmt.Sprintf("epoch %d/%d", t.epoch+1, cfg.Epochs))
	var lossSum float64
	correct, n, step := 0, 0, 0
	start := time.Now()
	for b := range t.loader.Batches() {
		if err := ctx.Err(); err != nil {
			t.loader.Close()
			return nil, err
		}
		l, c, err := t.Step(b.X, b.Y)
		if err != nil {
			var nf *NonFiniteError
			if errors.As(err, &nf) {
				nf.Step = step + 1
			}
			bar.finish()
			return nil, err
		}
		for _, h := range cfg.Hooks {
			if h.AfterStep != nil {
				if err := h.AfterStep(t.globalStep); err != nil {
					return nil, err
				}
			}
		}
		lossSum += l * float64(b.N)
		correct += c
		n += b.N
		step++
		bar.update(step, lossSum/float64(n), float64(correct)/float64(n), float64(n)/time.Since(start).Seconds())
	}
	secs := time.Since(start).Seconds()
	bar.finish()
	t.trainSecs += secs
	lr := 0.0
	if g := t.Optimizer.Groups(); len(g) > 0 {
		lr = g[0].LR
	}
	return &EpochRecord{Epoch: t.epoch + 1, GlobalStep: t.globalStep, LR: lr,
		TrainLoss: lossSum / float64(n), TrainAccuracy: float64(correct) / float64(n),
		TrainSeconds: secs, SamplesPerSecond: float64(n) / secs}, nil
}

// jsonFloat encodes NaN and ±Inf (an epoch without a test set, a diverged loss) as JSON
// null, which encoding/json cannot do for float64, and decodes null back to NaN.
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
	Epoch            int       `json:"epoch"`
	GlobalStep       int       `json:"global_step"`
	LR               jsonFloat `json:"lr"`
	TrainLoss        jsonFloat `json:"train_loss"`
	TrainAccuracy    jsonFloat `json:"train_accuracy"`
	TestLoss         jsonFloat `json:"test_loss"`
	TestAccuracy     jsonFloat `json:"test_accuracy"`
	TrainEvalLoss    jsonFloat `json:"train_eval_loss,omitempty"`
	TrainEvalAcc     jsonFloat `json:"train_eval_accuracy,omitempty"`
	TrainSeconds     jsonFloat `json:"train_seconds"`
	SamplesPerSecond jsonFloat `json:"samples_per_second"`
}

// MarshalJSON writes the record with non-finite values as null.
func (r EpochRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochJSON{r.Epoch, r.GlobalStep, jsonFloat(r.LR), jsonFloat(r.TrainLoss), jsonFloat(r.TrainAccuracy),
		jsonFloat(r.TestLoss), jsonFloat(r.TestAccuracy), jsonFloat(r.TrainEvalLoss), jsonFloat(r.TrainEvalAcc),
		jsonFloat(r.TrainSeconds), jsonFloat(r.SamplesPerSecond)})
}

// UnmarshalJSON reads a record written by MarshalJSON (null as NaN).
func (r *EpochRecord) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = EpochRecord{j.Epoch, j.GlobalStep, float64(j.LR), float64(j.TrainLoss), float64(j.TrainAccuracy),
		float64(j.TestLoss), float64(j.TestAccuracy), float64(j.TrainEvalLoss), float64(j.TrainEvalAcc),
		float64(j.TrainSeconds), float64(j.SamplesPerSecond)}
	return nil
}
