package lrfind

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/workpool"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

// Builder builds a fresh model and optimizer for one trial with learning rate lr and
// weight decay wd. It must build the same initial weights on every call (draw the
// initialization from a stream seeded identically each time), so that trials differ only
// in their hyperparameters. It is called from several goroutines at once when
// SearchConfig.Parallel > 1.
type Builder func(lr, wd float64) (nn.Module, optim.Optimizer, error)

// Range is a closed interval [Lo, Hi] of positive values, sampled log-uniformly.
type Range struct{ Lo, Hi float64 }

func (r Range) valid() bool {
	return r.Lo > 0 && r.Hi >= r.Lo && !math.IsInf(r.Hi, 0)
}

// String formats r as "lo..hi".
func (r Range) String() string { return fmt.Sprintf("%.3g..%.3g", r.Lo, r.Hi) }

// SearchConfig configures Search. Zero values are the documented defaults.
type SearchConfig struct {
	// LR is the first round's learning-rate range; default [1e-4, 1].
	LR Range
	// WD is the first round's weight-decay range; the zero Range means weight decay is
	// not searched and every trial uses FixedWD.
	WD Range
	// FixedWD is the weight decay of every trial when WD is the zero Range; default 0.
	FixedWD float64
	// Trials per round; default 8.
	Trials int
	// Rounds of sampling; default 2 (one coarse, one fine).
	Rounds int
	// TopK is how many of the best trials so far delimit the next round's range; default 3.
	TopK int
	// Shrink caps the next round's range at Shrink times the width (in log space) of the
	// current one, centred on the best trial; in (0, 1], default 0.5.
	Shrink float64
	// Pad widens the span of the top trials by Pad times the current width (log space)
	// on each side before the cap, so a round can move past a best trial at its edge;
	// default 0.1, negative means 0.
	Pad float64
	// Epochs is each trial's training budget in epochs of the training part, when Steps
	// is 0; default 1.
	Epochs int
	// Steps, when > 0, is each trial's budget in optimizer steps instead of epochs.
	Steps int
	// BatchSize of training; default 128.
	BatchSize int
	// ValFraction of the dataset held out for validation (rounded to whole examples, at
	// least 1); default 0.1, in (0, 1). ValSize, when > 0, overrides it.
	ValFraction float64
	ValSize     int
	// Parallel is the number of trials run at once, each in its own goroutine; default 1.
	Parallel int
	// Seed draws the held-out split, the data order (the same for every trial) and the
	// sampled hyperparameters.
	Seed uint64
	// LabelSmoothing of the default cross-entropy loss; default 0.
	LabelSmoothing float64
	// Loss overrides the training objective (default softmax cross-entropy); validation
	// always uses the plain cross-entropy.
	Loss func(logits *ag.Var, labels []int) *ag.Var
	// OnTrial, if set, is called after each trial completes (serialized, in completion
	// order, which depends on scheduling), e.g. for progress output.
	OnTrial func(Trial)
}

func (c SearchConfig) withDefaults() (SearchConfig, error) {
	if c.LR == (Range{}) {
		c.LR = Range{1e-4, 1}
	}
	if c.Trials == 0 {
		c.Trials = 8
	}
	if c.Rounds == 0 {
		c.Rounds = 2
	}
	if c.TopK == 0 {
		c.TopK = 3
	}
	if c.Shrink == 0 {
		c.Shrink = 0.5
	}
	if c.Pad == 0 {
		c.Pad = 0.1
	}
	c.Pad = max(c.Pad, 0)
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.ValFraction == 0 {
		c.ValFraction = 0.1
	}
	if c.Parallel == 0 {
		c.Parallel = 1
	}
	switch {
	case !c.LR.valid():
		return c, fmt.Errorf("lrfind: learning-rate range %v..%v out of range (want 0 < lo <= hi < ∞)", c.LR.Lo, c.LR.Hi)
	case c.WD != (Range{}) && !c.WD.valid():
		return c, fmt.Errorf("lrfind: weight-decay range %v..%v out of range (want 0 < lo <= hi < ∞)", c.WD.Lo, c.WD.Hi)
	case !(c.FixedWD >= 0) || math.IsInf(c.FixedWD, 0):
		return c, fmt.Errorf("lrfind: weight decay %v out of range [0, ∞)", c.FixedWD)
	case c.Trials < 1:
		return c, fmt.Errorf("lrfind: trials %d out of range [1, ∞)", c.Trials)
	case c.Rounds < 1:
		return c, fmt.Errorf("lrfind: rounds %d out of range [1, ∞)", c.Rounds)
	case c.TopK < 1:
		return c, fmt.Errorf("lrfind: top-k %d out of range [1, ∞)", c.TopK)
	case !(c.Shrink > 0 && c.Shrink <= 1):
		return c, fmt.Errorf("lrfind: shrink %v out of range (0, 1]", c.Shrink)
	case math.IsNaN(c.Pad) || math.IsInf(c.Pad, 0):
		return c, fmt.Errorf("lrfind: pad %v out of range [0, ∞)", c.Pad)
	case c.Epochs < 1:
		return c, fmt.Errorf("lrfind: epochs %d out of range [1, ∞)", c.Epochs)
	case c.Steps < 0:
		return c, fmt.Errorf("lrfind: steps %d out of range [0, ∞)", c.Steps)
	case c.BatchSize < 1:
		return c, fmt.Errorf("lrfind: batch size %d out of range [1, ∞)", c.BatchSize)
	case !(c.ValFraction > 0 && c.ValFraction < 1):
		return c, fmt.Errorf("lrfind: validation fraction %v out of range (0, 1)", c.ValFraction)
	case c.ValSize < 0:
		return c, fmt.Errorf("lrfind: validation size %d out of range [0, ∞)", c.ValSize)
	case c.Parallel < 1:
		return c, fmt.Errorf("lrfind: parallel trials %d out of range [1, ∞)", c.Parallel)
	case !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1):
		return c, fmt.Errorf("lrfind: label smoothing %v out of range [0, 1)", c.LabelSmoothing)
	}
	return c, nil
}

// Trial is one sampled setting and its outcome.
type Trial struct {
	// Round (from 1) and Index (from 0, over all rounds, in sampling order).
	Round, Index int
	LR, WD       float64
	// ValAccuracy and ValLoss on the held-out part after the budget; a diverged trial
	// has accuracy 0 and loss +Inf.
	ValAccuracy, ValLoss float64
	// TrainLoss is the mean training loss over the budget's steps.
	TrainLoss float64
	// Diverged is set when the training loss became NaN/Inf (the trial stopped there).
	Diverged bool
	// Steps is the number of optimizer steps taken.
	Steps int
}

// SearchResult is the outcome of Search.
type SearchResult struct {
	// Trials in sampling order (Trials[i].Index == i).
	Trials []Trial
	// Ranked holds the same trials, best first: higher validation accuracy, then lower
	// validation loss, then lower index.
	Ranked []Trial
	// Ranges[r] is the learning-rate range sampled in round r+1; WDRanges likewise (nil
	// when weight decay was not searched).
	Ranges, WDRanges []Range
	// TrainSize and ValSize are the sizes of the training and held-out parts.
	TrainSize, ValSize int
}

// Best returns the best trial.
func (r *SearchResult) Best() Trial { return r.Ranked[0] }

// Search runs a coarse-to-fine random search (Bergstra & Bengio 2012; CS231n lecture 7).
//
// It holds out a random ValFraction of ds (drawn from Seed; the test set is never
// touched), then for each round samples Trials learning rates log-uniformly in the
// round's range (and weight decays, when WD is set), trains a model built by build for
// the budget (Epochs, or Steps) on the rest of ds, every trial with the same data order,
// and measures accuracy and loss on the held-out part. The next round's range (in log
// space) is the span of the TopK best trials so far, padded by Pad times the current
// width on each side, and capped at Shrink times the current width around the best trial.
//
// Up to Parallel trials run at once, each trial's kernels on one thread (its trainer's
// thread count; the process default is untouched): parallel
// trials use the cores better than parallel kernels on small models, and every trial
// computes exactly what it would alone, so the result depends on Seed and not on
// Parallel. A diverging trial (non-finite loss) ranks last instead of failing the
// search; any other error stops it. ctx cancels between steps.
func Search(ctx context.Context, build Builder, ds data.Dataset, cfg SearchConfig) (*SearchResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if build == nil {
		return nil, errors.New("lrfind: nil builder")
	}
	if ds == nil || ds.Len() < 2 {
		return nil, errors.New("lrfind: search needs a dataset of at least 2 examples")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	trainPart, valPart, orderSeed, sampleRand, err := holdOut(ds, cfg)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{TrainSize: trainPart.Len(), ValSize: valPart.Len()}
	lr, wd := cfg.LR, cfg.WD
	searchWD := cfg.WD != (Range{})
	for round := 1; round <= cfg.Rounds; round++ {
		res.Ranges = append(res.Ranges, lr)
		if searchWD {
			res.WDRanges = append(res.WDRanges, wd)
		}
		first := len(res.Trials)
		for i := 0; i < cfg.Trials; i++ {
			t := Trial{Round: round, Index: len(res.Trials), LR: logUniform(sampleRand, lr), WD: cfg.FixedWD}
			if searchWD {
				t.WD = logUniform(sampleRand, wd)
			}
			res.Trials = append(res.Trials, t)
		}
		if err := runTrials(ctx, build, trainPart, valPart, res.Trials[first:], orderSeed, cfg); err != nil {
			return nil, err
		}
		res.Ranked = rank(res.Trials)
		if round < cfg.Rounds {
			top := res.Ranked[:min(cfg.TopK, len(res.Ranked))]
			lr = narrow(lr, top, func(t Trial) float64 { return t.LR }, cfg)
			if searchWD {
				wd = narrow(wd, top, func(t Trial) float64 { return t.WD }, cfg)
			}
		}
	}
	return res, nil
}

// holdOut draws Search's random streams from cfg.Seed and splits ds into the training
// and held-out parts: the split, the data order's seed and the sampling stream, in
// that order.
func holdOut(ds data.Dataset, cfg SearchConfig) (trainPart, valPart data.Dataset, orderSeed uint64, sampleRand *rng.Stream, err error) {
	root := rng.New(cfg.Seed)
	splitRand := root.Split()
	orderSeed, sampleRand = root.Uint64(), root.Split()
	nVal := cfg.ValSize
	if nVal == 0 {
		nVal = max(1, int(math.Round(cfg.ValFraction*float64(ds.Len()))))
	}
	if nVal >= ds.Len() {
		return nil, nil, 0, nil, fmt.Errorf("lrfind: validation size %d out of range [1, %d)", nVal, ds.Len())
	}
	perm := splitRand.Perm(ds.Len())
	valIdx, trainIdx := perm[:nVal], perm[nVal:]
	sort.Ints(valIdx)
	sort.Ints(trainIdx)
	return &indexed{ds, trainIdx}, &indexed{ds, valIdx}, orderSeed, sampleRand, nil
}

// logUniform draws exp(U(log lo, log hi)).
func logUniform(r *rng.Stream, rg Range) float64 {
	a, b := math.Log(rg.Lo), math.Log(rg.Hi)
	return math.Exp(a + (b-a)*r.Float64())
}

// narrow computes the next round's range from the top trials (see Search).
func narrow(cur Range, top []Trial, get func(Trial) float64, cfg SearchConfig) Range {
	width := math.Log(cur.Hi) - math.Log(cur.Lo)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range top {
		if t.Diverged {
			continue
		}
		v := math.Log(get(t))
		lo, hi = min(lo, v), max(hi, v)
	}
	if math.IsInf(lo, 1) { // every top trial diverged: keep the range
		return cur
	}
	lo, hi = lo-cfg.Pad*width, hi+cfg.Pad*width
	if limit := cfg.Shrink * width; hi-lo > limit {
		c := math.Log(get(top[0]))
		lo, hi = c-limit/2, c+limit/2
	}
	return Range{math.Exp(lo), math.Exp(hi)}
}

// rank sorts a copy of trials best first.
func rank(trials []Trial) []Trial {
	r := append([]Trial(nil), trials...)
	sort.SliceStable(r, func(i, j int) bool {
		a, b := r[i], r[j]
		if a.ValAccuracy != b.ValAccuracy {
			return a.ValAccuracy > b.ValAccuracy
		}
		if a.ValLoss != b.ValLoss {
			return a.ValLoss < b.ValLoss
		}
		return a.Index < b.Index
	})
	return r
}

// runTrials runs trials (filling in their results) with up to cfg.Parallel at once on
// internal/workpool. The first failure cancels the others; the error is the lowest
// failing trial's, not the cancellations it caused.
func runTrials(ctx context.Context, build Builder, trainPart, valPart data.Dataset, trials []Trial, orderSeed uint64, cfg SearchConfig) error {
	var mu sync.Mutex // serializes OnTrial
	err := workpool.Run(ctx, len(trials), cfg.Parallel, func(ctx context.Context, i int) error {
		if err := runTrial(ctx, build, trainPart, valPart, &trials[i], orderSeed, cfg); err != nil {
			return err
		}
		if cfg.OnTrial != nil {
			mu.Lock()
			defer mu.Unlock()
			cfg.OnTrial(trials[i])
		}
		return nil
	})
	var te *workpool.TaskError
	if !errors.As(err, &te) {
		return err
	}
	var pe *workpool.PanicError
	if errors.As(te.Err, &pe) { // runTrial recovers its own panics: this one is OnTrial's
		return fmt.Errorf("lrfind: trial %d: OnTrial: %w", trials[te.Index].Index, te.Err)
	}
	return te.Err
}

// runTrial trains one trial for the budget and evaluates it on the held-out part.
func runTrial(ctx context.Context, build Builder, trainPart, valPart data.Dataset, t *Trial, orderSeed uint64, cfg SearchConfig) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("lrfind: trial %d (lr %g, wd %g): %v", t.Index, t.LR, t.WD, r)
		}
	}()
	model, opt, err := build(t.LR, t.WD)
	if err != nil {
		return fmt.Errorf("lrfind: trial %d (lr %g, wd %g): %w", t.Index, t.LR, t.WD, err)
	}
	tr, err := train.New(model, opt, train.Sets{Train: trainPart}, train.Config{BatchSize: cfg.BatchSize, Threads: 1,
		LabelSmoothing: cfg.LabelSmoothing, Loss: cfg.Loss}, rng.New(0))
	if err != nil {
		return fmt.Errorf("lrfind: %w", err)
	}
	defer tr.Close()
	loader, err := data.NewLoader(trainPart, data.LoaderConfig{BatchSize: cfg.BatchSize, Shuffle: true}, rng.New(orderSeed))
	if err != nil {
		return fmt.Errorf("lrfind: %w", err)
	}
	defer loader.Close()
	budget := cfg.Steps
	if budget == 0 {
		budget = cfg.Epochs * loader.BatchesPerEpoch()
	}
	nn.SetTraining(model, true)
	var lossSum float64
	n := 0
	for t.Steps < budget && !t.Diverged {
		loader.Start()
		for t.Steps < budget {
			b, ok := loader.Next()
			if !ok {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			l, _, err := tr.Step(b.X, b.Y)
			t.Steps++
			if err != nil {
				if errors.Is(err, train.ErrNonFinite) {
					t.Diverged = true
					break
				}
				return fmt.Errorf("lrfind: trial %d: %w", t.Index, err)
			}
			lossSum += l * float64(b.N)
			n += b.N
		}
	}
	if t.Diverged {
		t.ValAccuracy, t.ValLoss, t.TrainLoss = 0, math.Inf(1), math.Inf(1)
		return nil
	}
	t.TrainLoss = lossSum / float64(max(n, 1))
	vl, va, err := train.EvaluateN(model, valPart, 1000, 1)
	if err != nil {
		return fmt.Errorf("lrfind: trial %d: %w", t.Index, err)
	}
	if math.IsNaN(vl) || math.IsInf(vl, 0) {
		// Finite training losses can still end in weights whose validation loss overflows.
		vl = math.Inf(1)
	}
	t.ValAccuracy, t.ValLoss = va, vl
	return nil
}

// indexed is the view of ds restricted to idx (the training or held-out part).
type indexed struct {
	ds  data.Dataset
	idx []int
}

func (d *indexed) Len() int                   { return len(d.idx) }
func (d *indexed) Shape() []int               { return d.ds.Shape() }
func (d *indexed) Classes() int               { return d.ds.Classes() }
func (d *indexed) Get(i int, x []float32) int { return d.ds.Get(d.idx[i], x) }

// Validate fills c's defaults and reports the first out-of-range value, without running
// anything (Search validates too).
func (c SearchConfig) Validate() error {
	_, err := c.withDefaults()
	return err
}
