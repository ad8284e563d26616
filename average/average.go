// Package average keeps averages of a model's weights during training — Polyak averaging
// as an exponential moving average (EMA) and stochastic weight averaging (SWA) — as
// trainer callbacks whose state is saved in the training checkpoint, plus SWA's learning
// rate (NewSWALR) and the batch-norm refresh an averaged model needs (RefreshBatchNorm).
//
// Use: build the average on the model, give it to the trainer as a callback, and after
// training use the averaged weights inside With, which swaps them into the model and the
// live ones back afterwards:
//
//	ema, err := average.NewEMA(model, average.DefaultEMAConfig())
//	cfg := train.Config{Epochs: 10, Callbacks: []train.Callback{ema}}
//	tr, err := train.New(model, opt, train.Sets{Train: trainSet, Val: valSet}, cfg, r)
//	err = tr.Fit(ctx)
//	err = ema.With(func() error {
//		loss, acc, err := train.Evaluate(model, testSet, 1000, nil, nil)
//		... // save the model here: it holds the averaged weights
//		return err
//	})
//
// SWA is the same with NewSWA, the schedule wrapped in NewSWALR (so the trainer stays the
// one writer of the learning rate), and SWA.With, which also recomputes the batch-norm
// statistics of the averaged weights over the training set before calling fn:
//
//	swa, err := average.NewSWA(model, average.SWAConfig{Start: 8, Every: 1})
//	cfg.Schedule, err = average.NewSWALR(cfg.Schedule, average.SWALRConfig{StartStep: 7 * stepsPerEpoch, LR: 0.01})
//	cfg.Callbacks = append(cfg.Callbacks, swa)
//	... // train.New, Fit
//	bnBatches, err := swa.With(trainSet, 128, func() error { ... })
//
// Both are train.StatefulCallback: their float64 running averages (stored exactly), the
// copied buffers and their counters go into the trainer's checkpoint.safetensors under
// "cb.ema.*" and "cb.swa.*", so a resumed run continues the same averages bit-identically.
//
// References: Polyak & Juditsky 1992, "Acceleration of stochastic approximation by
// averaging"; Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima and Better
// Generalization", arXiv:1803.05407.
package average

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// ErrApplied is wrapped by the error of an operation that needs the live weights in the
// model while the averaged ones are applied (Update, State, LoadState, a second Apply).
var ErrApplied = errors.New("averaged weights are applied")

// ErrEmpty is wrapped by the error of SWA.Apply and SWA.With before any weights were
// averaged.
var ErrEmpty = errors.New("no weights averaged yet")

// ErrState is wrapped by the error of LoadState for a state that does not fit this
// average (another kind, model, decay or period).
var ErrState = errors.New("average: state does not fit")

// Averager is what EMA and SWA have in common: a trainer callback with checkpoint state
// whose averaged weights can be swapped into the model and back.
type Averager interface {
	train.StatefulCallback
	// Kind is "ema" or "swa".
	Kind() string
	// Model is the model whose weights are averaged.
	Model() nn.Module
	// Apply swaps the averaged weights (and buffers) into the model; Restore puts the
	// live ones back.
	Apply() error
	Restore() error
	// StateDict returns float32 copies of the averaged parameters and buffers under the
	// model's state-dict names.
	StateDict() []nn.NamedTensor
}

var (
	_ Averager = (*EMA)(nil)
	_ Averager = (*SWA)(nil)
)

// counterSuffix names the buffers that are counters (BatchNorm's num_batches_tracked):
// never averaged, always copied.
const counterSuffix = "num_batches_tracked"

// averaged is the machinery EMA and SWA share: a float64 running average of some of the
// model's tensors (the parameters, and for EMA the floating buffers), a float32 copy of
// the other buffers, and the swap of the averaged model into the live one and back.
type averaged struct {
	what    string // "ema" or "swa", for errors
	model   nn.Module
	names   []string         // state-dict names of the averaged tensors
	live    []*tensor.Tensor // the model's averaged tensors: parameters first, then buffers
	avg     [][]float64      // running average per averaged tensor
	copied  []nn.NamedTensor // buffers copied from the live model, not averaged
	copies  []*tensor.Tensor // the averaged model's copied buffers
	backup  []*tensor.Tensor // live tensors (live, then copied) while swapped
	swapped bool
}

// newAveraged starts the average at m's current values. Parameters are always averaged;
// buffers are averaged when averageBuffers is set and they are not counters, and copied
// otherwise.
func newAveraged(what string, m nn.Module, averageBuffers bool) (*averaged, error) {
	if m == nil {
		return nil, fmt.Errorf("average: %s: nil model", what)
	}
	a := &averaged{what: what, model: m}
	for _, p := range nn.Params(m) {
		a.names, a.live = append(a.names, p.Name), append(a.live, p.Value)
	}
	if len(a.live) == 0 {
		return nil, fmt.Errorf("average: %s: the model has no parameters", what)
	}
	for _, b := range nn.Buffers(m) {
		if averageBuffers && !strings.HasSuffix(b.Name, counterSuffix) {
			a.names, a.live = append(a.names, b.Name), append(a.live, b.T)
		} else {
			a.copied = append(a.copied, b)
			a.copies = append(a.copies, b.T.Clone())
		}
	}
	for _, t := range a.live {
		v := make([]float64, t.Len())
		for i, x := range t.Contiguous().Data() {
			v[i] = float64(x)
		}
		a.avg = append(a.avg, v)
	}
	return a, nil
}

// fold sets every average to f(avg, x) elementwise with x the live value, and copies the
// copied buffers. It is an error while swapped.
func (a *averaged) fold(op string, f func(avg, x float64) float64) error {
	if a.swapped {
		return fmt.Errorf("average: %s: %s: %w", a.what, op, ErrApplied)
	}
	for i, t := range a.live {
		avg := a.avg[i]
		for j, x := range t.Contiguous().Data() {
			avg[j] = f(avg[j], float64(x))
		}
	}
	for i, b := range a.copied {
		a.copies[i].CopyFrom(b.T)
	}
	return nil
}

// apply swaps the averaged weights into the live model, keeping the live ones.
func (a *averaged) apply() error {
	if a.swapped {
		return fmt.Errorf("average: %s: Apply: %w (call Restore first)", a.what, ErrApplied)
	}
	all := a.all()
	if a.backup == nil {
		for _, t := range all {
			a.backup = append(a.backup, t.Clone())
		}
	} else {
		for i, t := range all {
			a.backup[i].CopyFrom(t)
		}
	}
	for i, t := range a.live {
		d := t.Data()
		for j, v := range a.avg[i] {
			d[j] = float32(v)
		}
	}
	for i, b := range a.copied {
		b.T.CopyFrom(a.copies[i])
	}
	a.swapped = true
	return nil
}

// all returns the model's averaged tensors followed by its copied buffers.
func (a *averaged) all() []*tensor.Tensor {
	out := append([]*tensor.Tensor(nil), a.live...)
	for _, b := range a.copied {
		out = append(out, b.T)
	}
	return out
}

// restore brings the live weights back. Copied buffers changed while swapped (a BN
// refresh) are kept as the averaged model's; averaged tensors keep their average.
func (a *averaged) restore() error {
	if !a.swapped {
		return fmt.Errorf("average: %s: Restore: averaged weights not applied", a.what)
	}
	for i, b := range a.copied {
		a.copies[i].CopyFrom(b.T)
	}
	for i, t := range a.all() {
		t.CopyFrom(a.backup[i])
	}
	a.swapped = false
	return nil
}

// with applies, calls fn, and restores, also when fn fails or panics (the panic then
// continues after the restore). fn's error wins over Restore's.
func (a *averaged) with(apply func() error, fn func() error) (err error) {
	if fn == nil {
		return fmt.Errorf("average: %s: With: nil function", a.what)
	}
	if err := apply(); err != nil {
		return err
	}
	defer func() {
		if rerr := a.restore(); err == nil {
			err = rerr
		}
	}()
	return fn()
}

// stateDict returns float32 copies of the averaged model's parameters and buffers by
// name, in nn.StateDict order.
func (a *averaged) stateDict() []nn.NamedTensor {
	ai := map[string]int{}
	for i, n := range a.names {
		ai[n] = i
	}
	ci := map[string]int{}
	for i, b := range a.copied {
		ci[b.Name] = i
	}
	var out []nn.NamedTensor
	for _, e := range nn.StateDict(a.model) {
		if i, ok := ai[e.Name]; ok {
			t := tensor.New(e.T.Shape()...)
			d := t.Data()
			for j, v := range a.avg[i] {
				d[j] = float32(v)
			}
			out = append(out, nn.NamedTensor{Name: e.Name, T: t})
		} else if i, ok := ci[e.Name]; ok {
			if a.swapped {
				out = append(out, nn.NamedTensor{Name: e.Name, T: e.T.Clone()})
			} else {
				out = append(out, nn.NamedTensor{Name: e.Name, T: a.copies[i].Clone()})
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------
// Checkpoint state.

// stateFormat identifies the metadata of an average's checkpoint state.
const stateFormat = "temper-average-state/2"

// stateMeta is the JSON metadata of an average's state ("cb.<key>" in the checkpoint).
type stateMeta struct {
	Format string `json:"format"`
	Kind   string `json:"kind"`
	// EMA: updates, steps seen (calls), and the settings (stored for checking).
	Updates  int     `json:"updates,omitempty"`
	Calls    int     `json:"calls,omitempty"`
	Decay    float64 `json:"decay,omitempty"`
	NoWarmup bool    `json:"no_warmup,omitempty"`
	// SWA: weight sets averaged, and the settings.
	Count int `json:"count,omitempty"`
	Start int `json:"start,omitempty"`
	// Every is EMA's period in steps or SWA's in epochs.
	Every int `json:"every,omitempty"`
}

// parseMeta decodes and checks the format and kind of an average's metadata.
func (a *averaged) parseMeta(meta string) (stateMeta, error) {
	var m stateMeta
	if meta == "" {
		return m, fmt.Errorf("%w: %s: no %s state in the checkpoint", ErrState, a.what, a.what)
	}
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		return m, fmt.Errorf("%w: %s: metadata: %v", ErrState, a.what, err)
	}
	if m.Format != stateFormat || m.Kind != a.what {
		return m, fmt.Errorf("%w: %s: format %q kind %q, want %q kind %q", ErrState, a.what, m.Format, m.Kind, stateFormat, a.what)
	}
	if m.Updates < 0 || m.Calls < 0 || m.Count < 0 {
		return m, fmt.Errorf("%w: %s: negative counter in %s", ErrState, a.what, meta)
	}
	return m, nil
}

// state returns the tensors of the average and m (format and kind filled in) as JSON.
// The float64 running averages are stored exactly in safetensors (whose writer here is
// float32-only) as two float32 tensors holding the high and low 32 bits of each value
// ("avg.hi.NAME", "avg.lo.NAME": bit patterns, not numbers); copied buffers as
// "buffer.NAME".
func (a *averaged) state(m stateMeta) ([]checkpoint.Named, string, error) {
	if a.swapped {
		return nil, "", fmt.Errorf("average: %s: save state: %w", a.what, ErrApplied)
	}
	var named []checkpoint.Named
	for i, name := range a.names {
		hi, lo := tensor.New(len(a.avg[i])), tensor.New(len(a.avg[i]))
		hd, ld := hi.Data(), lo.Data()
		for j, v := range a.avg[i] {
			b := math.Float64bits(v)
			hd[j], ld[j] = math.Float32frombits(uint32(b>>32)), math.Float32frombits(uint32(b))
		}
		named = append(named, checkpoint.Named{Name: "avg.hi." + name, T: hi}, checkpoint.Named{Name: "avg.lo." + name, T: lo})
	}
	for i, b := range a.copied {
		named = append(named, checkpoint.Named{Name: "buffer." + b.Name, T: a.copies[i].Clone()})
	}
	m.Format, m.Kind = stateFormat, a.what
	js, err := json.Marshal(m)
	if err != nil {
		return nil, "", fmt.Errorf("average: %s: encode state: %w", a.what, err)
	}
	return named, string(js), nil
}

// load restores the tensors written by state. Nothing is changed on error.
func (a *averaged) load(tensors map[string]*tensor.Tensor) error {
	if a.swapped {
		return fmt.Errorf("average: %s: load state: %w", a.what, ErrApplied)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrState, a.what, fmt.Sprintf(format, args...))
	}
	if want := 2*len(a.names) + len(a.copied); len(tensors) != want {
		return bad("%d tensors, the model needs %d", len(tensors), want)
	}
	for i, name := range a.names {
		hi, lo := tensors["avg.hi."+name], tensors["avg.lo."+name]
		if hi == nil || lo == nil || hi.Len() != len(a.avg[i]) || lo.Len() != len(a.avg[i]) {
			return bad("no average of %s with %d values", name, len(a.avg[i]))
		}
	}
	for i, b := range a.copied {
		t := tensors["buffer."+b.Name]
		if t == nil || t.Len() != a.copies[i].Len() {
			return bad("no buffer %s with %d values", b.Name, a.copies[i].Len())
		}
	}
	for i, name := range a.names {
		hd, ld := tensors["avg.hi."+name].Contiguous().Data(), tensors["avg.lo."+name].Contiguous().Data()
		for j := range a.avg[i] {
			a.avg[i][j] = math.Float64frombits(uint64(math.Float32bits(hd[j]))<<32 | uint64(math.Float32bits(ld[j])))
		}
	}
	for i, b := range a.copied {
		copy(a.copies[i].Data(), tensors["buffer."+b.Name].Contiguous().Data())
	}
	return nil
}
