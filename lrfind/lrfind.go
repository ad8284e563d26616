// Package lrfind finds a learning rate: the LR range test (RangeTest) and a coarse-to-fine
// random search over learning rate and weight decay (Search).
//
// The range test trains for about a hundred batches while the learning rate grows
// exponentially from a tiny to a huge value, records the smoothed training loss, and reads
// a good learning rate off the curve (L. N. Smith, "Cyclical Learning Rates for Training
// Neural Networks", WACV 2017, section 3.3; the procedure and defaults of fastai's
// lr_find). The model and optimizer are restored afterwards, so the test costs nothing but
// time.
//
// The search is the lecture's recipe for hyperparameters (Bergstra & Bengio, "Random
// Search for Hyper-Parameter Optimization", JMLR 2012; CS231n lecture 7, "coarse to fine"):
// sample learning rates (and weight decays) log-uniformly, train each briefly, rank them by
// accuracy on data held out from the training set, then sample again in the narrower range
// where the best ones were.
package lrfind

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// Method names a rule that reads a suggested learning rate off a range-test curve.
type Method string

// The suggestion rules of fastai's lr_find (fastai.callback.schedule).
const (
	// Valley is fastai's default: the learning rate about half-way into the longest
	// descending stretch of the loss curve. RangeTest ignores descents smaller than the
	// curve's noise (SuggestValleyTol, Config.ValleySigmas), which keeps the flat start
	// of a from-scratch curve out of the valley; Suggest applies fastai's rule exactly
	// (SuggestValley).
	Valley Method = "valley"
	// Steep is the learning rate where the loss falls fastest against log(lr).
	Steep Method = "steep"
	// Minimum is one tenth of the learning rate at the lowest loss.
	Minimum Method = "minimum"
	// Slide is fastai's interval slide rule (see SuggestSlide).
	Slide Method = "slide"
)

// Methods lists every suggestion rule, the default first.
var Methods = []Method{Valley, Steep, Minimum, Slide}

// ParseMethod returns the Method named s, or an error listing the valid names.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("lrfind: suggestion method %q unknown (want one of %v)", s, Methods)
}

// ErrTooShort is wrapped by the error of a suggestion rule given too few points.
var ErrTooShort = errors.New("curve too short")

// Config configures RangeTest. Zero values are the documented defaults (fastai lr_find's).
type Config struct {
	// StartLR is the first learning rate; default 1e-7. Must lie in (0, EndLR).
	StartLR float64
	// EndLR is the learning rate the sweep tends to; default 10.
	EndLR float64
	// Steps is the number of batches (fastai's num_it); default 100, at least 2. The
	// learning rate of step i (from 0) is StartLR·(EndLR/StartLR)^(i/Steps), as in fastai.
	Steps int
	// Beta is the smoothing factor of the loss, in [0, 1); default 0.98. The smoothed
	// loss is the bias-corrected exponential moving average
	// avg_i = Beta·avg_{i-1} + (1-Beta)·loss_i, smoothed_i = avg_i / (1 - Beta^(i+1)).
	// NoSmoothing turns smoothing off (Beta 0).
	Beta        float64
	NoSmoothing bool
	// DivergeFactor stops the test once the smoothed loss exceeds DivergeFactor times the
	// best smoothed loss so far; default 4, must be > 1. NoStop runs all Steps (a
	// non-finite loss still stops the test).
	DivergeFactor float64
	NoStop        bool
	// SkipStart and SkipEnd points are dropped from the curve before the suggestion rules
	// run (fastai drops num_it/10 at the start and 5 at the end, where the smoothed loss
	// is still warming up or already exploding). Defaults Steps/10 and 5; a negative value
	// means 0.
	SkipStart, SkipEnd int
	// BatchSize of the sweep; default 128.
	BatchSize int
	// LabelSmoothing of the default cross-entropy loss; default 0.
	LabelSmoothing float64
	// Loss overrides the objective (default softmax cross-entropy).
	Loss func(logits *ag.Var, labels []int) *ag.Var
	// Slide configures the slide rule.
	Slide SlideConfig
	// ValleySigmas is the valley rule's noise tolerance: a point extends a descending
	// stretch only if it lies more than ValleySigmas × Result.Noise below the previous
	// one (see SuggestValleyTol). Default 3; a negative value means 0, which is fastai's
	// valley rule exactly.
	ValleySigmas float64
}

// SlideConfig configures the slide rule; zero values are fastai's defaults.
type SlideConfig struct {
	// LRDiff is the width (in points) of the sliding interval; default 15.
	LRDiff int
	// Thresh is the largest difference of the loss gradients at the interval's ends that
	// stops the slide; default 0.005.
	Thresh float64
	// Adjust multiplies the result; default 1.
	Adjust float64
}

func (c *SlideConfig) defaults() error {
	if c.LRDiff == 0 {
		c.LRDiff = 15
	}
	if c.Thresh == 0 {
		c.Thresh = 0.005
	}
	if c.Adjust == 0 {
		c.Adjust = 1
	}
	switch {
	case c.LRDiff < 1:
		return fmt.Errorf("lrfind: slide lr diff %d out of range [1, ∞)", c.LRDiff)
	case !(c.Thresh > 0) || math.IsInf(c.Thresh, 0):
		return fmt.Errorf("lrfind: slide threshold %v out of range (0, ∞)", c.Thresh)
	case !(c.Adjust > 0) || math.IsInf(c.Adjust, 0):
		return fmt.Errorf("lrfind: slide adjust %v out of range (0, ∞)", c.Adjust)
	}
	return nil
}

// withDefaults fills zero values and validates c.
func (c Config) withDefaults() (Config, error) {
	if c.StartLR == 0 {
		c.StartLR = 1e-7
	}
	if c.EndLR == 0 {
		c.EndLR = 10
	}
	if c.Steps == 0 {
		c.Steps = 100
	}
	if c.Beta == 0 && !c.NoSmoothing {
		c.Beta = 0.98
	}
	if c.NoSmoothing {
		c.Beta = 0
	}
	if c.DivergeFactor == 0 {
		c.DivergeFactor = 4
	}
	if c.SkipStart == 0 {
		c.SkipStart = c.Steps / 10
	}
	if c.SkipEnd == 0 {
		c.SkipEnd = 5
	}
	c.SkipStart, c.SkipEnd = max(c.SkipStart, 0), max(c.SkipEnd, 0)
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.ValleySigmas == 0 {
		c.ValleySigmas = 3
	}
	c.ValleySigmas = max(c.ValleySigmas, 0)
	switch {
	case !(c.StartLR > 0) || math.IsInf(c.StartLR, 0):
		return c, fmt.Errorf("lrfind: start lr %v out of range (0, ∞)", c.StartLR)
	case !(c.EndLR > c.StartLR) || math.IsInf(c.EndLR, 0):
		return c, fmt.Errorf("lrfind: end lr %v out of range (start lr %v, ∞)", c.EndLR, c.StartLR)
	case c.Steps < 2:
		return c, fmt.Errorf("lrfind: steps %d out of range [2, ∞)", c.Steps)
	case !(c.Beta >= 0 && c.Beta < 1):
		return c, fmt.Errorf("lrfind: smoothing beta %v out of range [0, 1)", c.Beta)
	case !(c.DivergeFactor > 1) || math.IsInf(c.DivergeFactor, 0):
		return c, fmt.Errorf("lrfind: divergence factor %v out of range (1, ∞)", c.DivergeFactor)
	case c.BatchSize < 1:
		return c, fmt.Errorf("lrfind: batch size %d out of range [1, ∞)", c.BatchSize)
	case !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1):
		return c, fmt.Errorf("lrfind: label smoothing %v out of range [0, 1)", c.LabelSmoothing)
	case math.IsNaN(c.ValleySigmas) || math.IsInf(c.ValleySigmas, 0):
		return c, fmt.Errorf("lrfind: valley sigmas %v out of range [0, ∞)", c.ValleySigmas)
	}
	if err := c.Slide.defaults(); err != nil {
		return c, err
	}
	return c, nil
}

// Suggestion is one rule's reading of the curve.
type Suggestion struct {
	Method Method
	// LR is the suggested learning rate; 0 when the rule found none (Err says why).
	LR float64
	// Err is non-nil when the curve was too short for the rule.
	Err error
}

// Result is a range test's curve and its suggestions.
type Result struct {
	// LRs[i], Losses[i] and Smoothed[i] are the learning rate, the batch loss and the
	// smoothed loss of step i, for the steps taken.
	LRs, Losses, Smoothed []float64
	// Stopped says why the test ended before Config.Steps: "" (it ran them all),
	// "diverged" (smoothed loss above DivergeFactor × best) or "non-finite loss" (the
	// step whose loss was NaN/Inf is not in the curve).
	Stopped string
	// Lo and Hi delimit the part of the curve the rules read: [Lo, Hi).
	Lo, Hi int
	// Noise estimates the standard deviation of the smoothed loss's noise (see
	// NoiseLevel); the valley rule ignores descents smaller than Config.ValleySigmas × Noise.
	Noise float64
	// Suggestions holds one entry per Methods element, in that order.
	Suggestions []Suggestion
}

// Suggested returns the suggestion of method m.
func (r *Result) Suggested(m Method) (Suggestion, bool) {
	for _, s := range r.Suggestions {
		if s.Method == m {
			return s, true
		}
	}
	return Suggestion{}, false
}

// RangeTest runs the LR range test (Smith 2017; fastai lr_find) on model and opt with
// batches drawn from ds in an order shuffled by r, and returns the loss curve with every
// rule's suggestion.
//
// Step i runs at the learning rate StartLR·(EndLR/StartLR)^(i/Steps) in every parameter
// group (relative group learning rates are not kept: all groups sweep the same value); the
// sweep is the schedule of a train.Trainer, whose train.ApplyLR is the one writer of the
// groups' learning rates. It takes one optimizer step (train.Trainer.Step) and updates
// the bias-corrected smoothed loss; it stops after Steps steps, when the smoothed loss
// exceeds DivergeFactor times its minimum, or on a non-finite loss. The data cycles
// through further epochs if Steps batches are more than one epoch.
//
// Afterwards the model's parameters and buffers (BatchNorm statistics), their gradients,
// the random streams of its modules (dropout), the optimizer's state and every group's
// BaseLR and WeightDecay are restored bit-identically, and every group's LR is set to its
// BaseLR (by train.ApplyLR, what a trainer sets before its next step anyway): the test
// leaves no trace except that the model is in training mode. ctx cancels between steps
// (the state is restored then too).
//
// The suggestion rules see Smoothed[Lo:Hi] with Lo = SkipStart and Hi = len - SkipEnd,
// like fastai, which suggests from the smoothed losses it records.
func RangeTest(ctx context.Context, model nn.Module, opt optim.Optimizer, ds data.Dataset, cfg Config, r *rng.Stream) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if ds == nil || ds.Len() == 0 {
		return nil, errors.New("lrfind: the dataset is empty")
	}
	if r == nil {
		return nil, errors.New("lrfind: nil random stream")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	snap, err := takeSnapshot(model, opt)
	if err != nil {
		return nil, err
	}
	defer snap.restore()

	sweep := &sweepSchedule{start: cfg.StartLR, ratio: cfg.EndLR / cfg.StartLR, steps: cfg.Steps}
	tr, err := train.New(model, opt, train.Sets{Train: ds}, train.Config{BatchSize: cfg.BatchSize,
		LabelSmoothing: cfg.LabelSmoothing, Loss: cfg.Loss, Schedule: sweep}, rng.New(0))
	if err != nil {
		return nil, fmt.Errorf("lrfind: %w", err)
	}
	defer tr.Close()
	loader, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: cfg.BatchSize, Shuffle: true}, r)
	if err != nil {
		return nil, fmt.Errorf("lrfind: %w", err)
	}
	defer loader.Close()
	nn.SetTraining(model, true)

	res := &Result{}
	var avg float64
	best := math.Inf(1)
	step := 0
	for step < cfg.Steps && res.Stopped == "" {
		loader.Start()
		for {
			b, ok := loader.Next()
			if !ok || step >= cfg.Steps || res.Stopped != "" {
				break
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			lr := sweep.LR(step, 0) // the trainer sets it (train.ApplyLR) for its step `step`
			l, _, err := tr.Step(b.X, b.Y)
			step++
			if err != nil {
				if errors.Is(err, train.ErrNonFinite) {
					res.Stopped = "non-finite loss"
					break
				}
				return nil, fmt.Errorf("lrfind: %w", err)
			}
			avg = cfg.Beta*avg + (1-cfg.Beta)*l
			sm := avg / (1 - math.Pow(cfg.Beta, float64(len(res.Losses)+1)))
			res.LRs = append(res.LRs, lr)
			res.Losses = append(res.Losses, l)
			res.Smoothed = append(res.Smoothed, sm)
			best = min(best, sm)
			if !cfg.NoStop && sm > cfg.DivergeFactor*best {
				res.Stopped = "diverged"
			}
		}
	}
	res.Lo, res.Hi = cfg.SkipStart, len(res.LRs)-cfg.SkipEnd
	if res.Hi < res.Lo {
		res.Hi = res.Lo
	}
	lrs, losses := sub(res.LRs, res.Lo, res.Hi), sub(res.Smoothed, res.Lo, res.Hi)
	res.Noise = NoiseLevel(res.Losses[:min(len(res.Losses), max(cfg.SkipStart, 5))], cfg.Beta)
	for _, m := range Methods {
		lr, err := suggest(m, lrs, losses, cfg.Slide, cfg.ValleySigmas*res.Noise)
		res.Suggestions = append(res.Suggestions, Suggestion{Method: m, LR: lr, Err: err})
	}
	return res, nil
}

func sub(s []float64, lo, hi int) []float64 {
	if lo >= len(s) || hi <= lo {
		return nil
	}
	return s[lo:min(hi, len(s))]
}

// Suggest applies rule m (with fastai's slide defaults, and valley with no noise
// tolerance: fastai's rules exactly) to a curve of learning rates and losses (ascending
// learning rates, typically the smoothed losses of a range test). RangeTest applies
// valley with a noise tolerance (SuggestValleyTol).
func Suggest(m Method, lrs, losses []float64) (float64, error) {
	return suggest(m, lrs, losses, SlideConfig{}, 0)
}

func suggest(m Method, lrs, losses []float64, sc SlideConfig, tol float64) (float64, error) {
	if len(lrs) != len(losses) {
		return 0, fmt.Errorf("lrfind: %d learning rates but %d losses", len(lrs), len(losses))
	}
	switch m {
	case Valley:
		return SuggestValleyTol(lrs, losses, tol)
	case Steep:
		return SuggestSteep(lrs, losses)
	case Minimum:
		return SuggestMinimum(lrs, losses)
	case Slide:
		return SuggestSlide(lrs, losses, sc)
	}
	_, err := ParseMethod(string(m))
	return 0, err
}

func tooShort(m Method, n, want int) error {
	return fmt.Errorf("lrfind: %s: %d points, want at least %d: %w", m, n, want, ErrTooShort)
}

// SuggestValley is fastai's valley rule: find the longest strictly decreasing
// subsequence of the losses (an O(n²) dynamic program, lds[i] = its length ending at i),
// ending at index e and spanning s = e - lds[e] .. e; with k = (e-s)/3 it returns
// lrs[s + ⌊k⌋ + ⌊k/2⌋], about half-way down the valley — a learning rate where the loss
// still falls steadily, well before the minimum. The ties and indices follow fastai's
// code exactly (fastai/callback/schedule.py, valley). It is SuggestValleyTol with tol 0.
func SuggestValley(lrs, losses []float64) (float64, error) {
	return SuggestValleyTol(lrs, losses, 0)
}

// SuggestValleyTol is the valley rule with a noise tolerance: in the dynamic program a
// point j may precede i only if losses[i] < losses[j] - tol. With tol = 0 it is fastai's
// rule (SuggestValley) exactly.
//
// Why the tolerance. fastai's subsequence need not be contiguous, and a strictly smaller
// value is enough to extend it. On a network trained from scratch the smoothed loss sits
// at its initial value for decades of learning rate, drifting by less than its noise
// before it truly falls; the longest subsequence then starts inside that flat part and
// the rule, which takes the half-way point, lands a decade or more before the descent.
// On the MNIST MLP with SGD-Nesterov fastai's rule gives 0.0091 against 0.107 found by
// Search (docs/lr.md). Requiring each step down to exceed the noise (RangeTest uses
// 3 × Result.Noise) makes a flat stretch contribute only a few points, so the valley is
// the real descent; on a curve that falls by much more than its noise at every point
// (a pretrained network) the result is fastai's.
func SuggestValleyTol(lrs, losses []float64, tol float64) (float64, error) {
	n := len(losses)
	if n < 2 {
		return 0, tooShort(Valley, n, 2)
	}
	if math.IsNaN(tol) || tol < 0 {
		return 0, fmt.Errorf("lrfind: valley tolerance %v out of range [0, ∞)", tol)
	}
	lds := make([]int, n)
	for i := range lds {
		lds[i] = 1
	}
	maxStart, maxEnd := 0, 0
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			if losses[i] < losses[j]-tol && lds[i] < lds[j]+1 {
				lds[i] = lds[j] + 1
			}
			if lds[maxEnd] < lds[i] {
				maxEnd = i
				maxStart = maxEnd - lds[maxEnd]
			}
		}
	}
	sections := float64(maxEnd-maxStart) / 3
	idx := maxStart + int(sections) + int(sections/2)
	idx = min(max(idx, 0), n-1)
	return lrs[idx], nil
}

// NoiseLevel estimates the standard deviation of the noise of a loss curve smoothed by
// the EMA with factor beta, from the raw batch losses of the start of a sweep, where the
// learning rate is too small to move the loss: σ = 1.4826·MAD (the median absolute
// deviation, a robust estimate of a normal deviation), times √((1-β)/(1+β)), the factor
// by which an exponential moving average reduces the deviation of white noise. Fewer
// than 3 losses give 0.
func NoiseLevel(head []float64, beta float64) float64 {
	if len(head) < 3 {
		return 0
	}
	med := median(head)
	dev := make([]float64, len(head))
	for i, l := range head {
		dev[i] = math.Abs(l - med)
	}
	s := 1.4826 * median(dev) * math.Sqrt((1-beta)/(1+beta))
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0
	}
	return s
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// SuggestSteep is the steepest-descent rule: the learning rate lrs[i] at which the slope
// (losses[i+1]-losses[i]) / (log lrs[i+1] - log lrs[i]) is most negative.
func SuggestSteep(lrs, losses []float64) (float64, error) {
	n := len(losses)
	if n < 2 {
		return 0, tooShort(Steep, n, 2)
	}
	bi, best := -1, math.Inf(1)
	for i := 0; i+1 < n; i++ {
		d := (losses[i+1] - losses[i]) / (math.Log(lrs[i+1]) - math.Log(lrs[i]))
		if d < best {
			bi, best = i, d
		}
	}
	if bi < 0 {
		return 0, fmt.Errorf("lrfind: steep: no finite slope on the curve: %w", ErrTooShort)
	}
	return lrs[bi], nil
}

// SuggestMinimum is the minimum rule: one tenth of the learning rate at the lowest loss
// (the lowest loss is already too close to divergence to train at).
func SuggestMinimum(lrs, losses []float64) (float64, error) {
	n := len(losses)
	if n < 1 {
		return 0, tooShort(Minimum, n, 1)
	}
	bi := 0
	for i, l := range losses {
		if l < losses[bi] {
			bi = i
		}
	}
	return lrs[bi] / 10, nil
}

// SuggestSlide is fastai's interval slide rule: with g the gradient of the losses over
// the point index (numpy.gradient: central differences inside, one-sided at the ends), an
// interval of cfg.LRDiff points slides from the right end of the curve to the left while
// the gradients at its two ends differ by more than cfg.Thresh; the suggestion is the
// learning rate at its left end when it stops (times cfg.Adjust) — the left edge of the
// flat region before the loss explodes.
func SuggestSlide(lrs, losses []float64, cfg SlideConfig) (float64, error) {
	if err := cfg.defaults(); err != nil {
		return 0, err
	}
	n := len(losses)
	if n <= cfg.LRDiff || n < 2 {
		return 0, tooShort(Slide, n, max(cfg.LRDiff+1, 2))
	}
	g := make([]float64, n)
	g[0], g[n-1] = losses[1]-losses[0], losses[n-1]-losses[n-2]
	for i := 1; i < n-1; i++ {
		g[i] = (losses[i+1] - losses[i-1]) / 2
	}
	r := n - 1
	l := r - cfg.LRDiff
	local := lrs[l]
	for l >= 0 && math.Abs(g[r]-g[l]) > cfg.Thresh {
		local = lrs[l]
		r--
		l--
	}
	return local * cfg.Adjust, nil
}

// snapshot is a copy of everything a range test changes.
type snapshot struct {
	model   nn.Module
	opt     optim.Optimizer
	state   []nn.NamedTensor // live tensors
	saved   []*tensor.Tensor
	grads   []*tensor.Tensor // live
	gsaved  []*tensor.Tensor
	optLive map[string]*tensor.Tensor
	optSave map[string]*tensor.Tensor
	streams [][]byte
	groups  []optim.Group // BaseLR, WeightDecay
}

func takeSnapshot(model nn.Module, opt optim.Optimizer) (*snapshot, error) {
	s := &snapshot{model: model, opt: opt, state: nn.StateDict(model)}
	for _, e := range s.state {
		s.saved = append(s.saved, e.T.Clone())
	}
	for _, p := range nn.Params(model) {
		if p.Grad != nil {
			s.grads = append(s.grads, p.Grad)
			s.gsaved = append(s.gsaved, p.Grad.Clone())
		}
	}
	s.optLive = opt.State()
	s.optSave = make(map[string]*tensor.Tensor, len(s.optLive))
	for k, t := range s.optLive {
		s.optSave[k] = t.Clone()
	}
	for _, st := range nn.RandomStreams(model) {
		b, err := st.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("lrfind: saving a random stream: %w", err)
		}
		s.streams = append(s.streams, b)
	}
	for _, g := range opt.Groups() {
		s.groups = append(s.groups, optim.Group{BaseLR: g.BaseLR, WeightDecay: g.WeightDecay})
	}
	return s, nil
}

func (s *snapshot) restore() {
	for i, e := range s.state {
		e.T.CopyFrom(s.saved[i])
	}
	for i, g := range s.grads {
		g.CopyFrom(s.gsaved[i])
	}
	for k, t := range s.optLive {
		t.CopyFrom(s.optSave[k])
	}
	for i, st := range nn.RandomStreams(s.model) {
		if i < len(s.streams) {
			_ = st.UnmarshalBinary(s.streams[i]) // bytes produced by MarshalBinary above
		}
	}
	for i, g := range s.opt.Groups() {
		if i < len(s.groups) {
			g.BaseLR, g.WeightDecay = s.groups[i].BaseLR, s.groups[i].WeightDecay
		}
	}
	// The LR itself through the one writer: LR = BaseLR, what any trainer sets before its
	// next step anyway.
	train.ApplyLR(s.opt, nil, 0)
}

// sweepSchedule is the range test's exponential sweep, StartLR·(EndLR/StartLR)^(i/Steps)
// at step i, the same in every group (it ignores the base rate).
type sweepSchedule struct {
	start, ratio float64
	steps        int
}

func (s *sweepSchedule) LR(step int, _ float64) float64 {
	return s.start * math.Pow(s.ratio, float64(step)/float64(s.steps))
}

// Validate fills c's defaults and reports the first out-of-range value, without running
// anything (RangeTest validates too).
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}
