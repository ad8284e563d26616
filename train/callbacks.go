package train

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/tensor"
)

// CallbackFuncs is a Callback made of functions; a nil func does nothing.
type CallbackFuncs struct {
	OnBeforeStep func(s *StepInfo) error
	OnAfterStep  func(s *StepInfo) error
	OnAfterEpoch func(t *Trainer, rec *EpochRecord) error
}

// BeforeStep calls OnBeforeStep.
func (c CallbackFuncs) BeforeStep(s *StepInfo) error {
	if c.OnBeforeStep == nil {
		return nil
	}
	return c.OnBeforeStep(s)
}

// AfterStep calls OnAfterStep.
func (c CallbackFuncs) AfterStep(s *StepInfo) error {
	if c.OnAfterStep == nil {
		return nil
	}
	return c.OnAfterStep(s)
}

// AfterEpoch calls OnAfterEpoch.
func (c CallbackFuncs) AfterEpoch(t *Trainer, rec *EpochRecord) error {
	if c.OnAfterEpoch == nil {
		return nil
	}
	return c.OnAfterEpoch(t, rec)
}

// bestState is the checkpoint form of EarlyStopping's and KeepBest's state. float64
// values round-trip exactly through encoding/json (shortest representation).
type bestState struct {
	Best      float64 `json:"best"`
	HasBest   bool    `json:"has_best"`
	BestEpoch int     `json:"best_epoch"`
	Wait      int     `json:"wait,omitempty"`
}

func (s bestState) encode() (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

func (s *bestState) decode(meta string) error {
	var v bestState
	if err := json.Unmarshal([]byte(meta), &v); err != nil {
		return err
	}
	if v.HasBest && (!finite(v.Best) || v.BestEpoch < 1) || v.Wait < 0 {
		return fmt.Errorf("state %s out of range", meta)
	}
	*s = v
	return nil
}

// EarlyStopping ends training (ErrStop) when the validation loss has not improved for
// Patience epochs in a row: epoch e improves when its loss L_e < best − MinDelta, where
// best is the lowest loss of the improving epochs so far (the first finite loss always
// improves; a non-finite loss never does). With Patience 3 and the best loss at epoch 5, training
// stops after epoch 8 unless epoch 6, 7 or 8 improves. This is the rule of Keras's and
// PyTorch Lightning's EarlyStopping (mode "min"); combine it with KeepBest to keep the
// weights of the best epoch rather than the last.
//
// Patience must be in [1, ∞) and MinDelta in [0, ∞); New checks them and that there is a
// validation set (ErrNeedsVal). Its best loss and the count of epochs without improvement
// are saved in checkpoints (StateKey "early_stopping"), so a resumed run stops at the same
// epoch.
type EarlyStopping struct {
	BaseCallback
	Patience int
	MinDelta float64

	s bestState
}

func (e *EarlyStopping) validate() error {
	switch {
	case e.Patience < 1:
		return fmt.Errorf("train: early stopping patience %d out of range [1, ∞)", e.Patience)
	case !(e.MinDelta >= 0) || math.IsInf(e.MinDelta, 0):
		return fmt.Errorf("train: early stopping min delta %v out of range [0, ∞)", e.MinDelta)
	}
	return nil
}

// AfterEpoch observes rec.ValLoss and returns ErrStop once Patience epochs passed
// without improvement; it is an error (wrapping ErrNeedsVal) in a trainer without a
// validation set.
func (e *EarlyStopping) AfterEpoch(t *Trainer, rec *EpochRecord) error {
	if err := e.validate(); err != nil {
		return err
	}
	if t != nil && t.Sets.Val == nil {
		return fmt.Errorf("train: early stopping %w", ErrNeedsVal)
	}
	l := rec.ValLoss
	if finite(l) && (!e.s.HasBest || l < e.s.Best-e.MinDelta) {
		e.s.Best, e.s.HasBest, e.s.BestEpoch, e.s.Wait = l, true, rec.Epoch, 0
		return nil
	}
	e.s.Wait++
	if e.s.Wait >= e.Patience {
		return fmt.Errorf("train: early stopping after epoch %d: validation loss not below %.6g − %g for %d epochs: %w",
			rec.Epoch, e.s.Best, e.MinDelta, e.s.Wait, ErrStop)
	}
	return nil
}

// BestEpoch returns the last improving epoch (from 1), or 0 before any.
func (e *EarlyStopping) BestEpoch() int { return e.s.BestEpoch }

// Wait returns the number of epochs since the last improvement.
func (e *EarlyStopping) Wait() int { return e.s.Wait }

// StateKey implements StatefulCallback.
func (e *EarlyStopping) StateKey() string { return "early_stopping" }

// State implements StatefulCallback: the best loss, its epoch and the wait, as JSON.
func (e *EarlyStopping) State() ([]checkpoint.Named, string, error) {
	m, err := e.s.encode()
	return nil, m, err
}

// LoadState implements StatefulCallback.
func (e *EarlyStopping) LoadState(_ map[string]*tensor.Tensor, meta string) error {
	return e.s.decode(meta)
}

// KeepBest calls Save whenever the validation loss reaches a new minimum (strictly below
// every earlier epoch's; a non-finite loss never does), e.g. to write model_best.safetensors. Save sees
// the model with that epoch's weights and the epoch's record. The best loss and epoch
// are saved in checkpoints (StateKey "keep_best"), so a resumed run saves at the same
// epochs. It needs a validation set (New returns an error wrapping ErrNeedsVal).
type KeepBest struct {
	BaseCallback
	Save func(t *Trainer, rec *EpochRecord) error

	s bestState
}

// AfterEpoch calls Save at a new minimum of rec.ValLoss.
func (k *KeepBest) AfterEpoch(t *Trainer, rec *EpochRecord) error {
	if t != nil && t.Sets.Val == nil {
		return fmt.Errorf("train: keep best %w", ErrNeedsVal)
	}
	l := rec.ValLoss
	if !finite(l) || (k.s.HasBest && !(l < k.s.Best)) {
		return nil
	}
	k.s.Best, k.s.HasBest, k.s.BestEpoch = l, true, rec.Epoch
	if k.Save == nil {
		return nil
	}
	if err := k.Save(t, rec); err != nil {
		return fmt.Errorf("train: keep best: epoch %d: %w", rec.Epoch, err)
	}
	return nil
}

// BestEpoch returns the epoch (from 1) of the lowest validation loss so far, or 0.
func (k *KeepBest) BestEpoch() int { return k.s.BestEpoch }

// BestLoss returns the lowest validation loss so far, or NaN before any epoch.
func (k *KeepBest) BestLoss() float64 {
	if !k.s.HasBest {
		return math.NaN()
	}
	return k.s.Best
}

// StateKey implements StatefulCallback.
func (k *KeepBest) StateKey() string { return "keep_best" }

// State implements StatefulCallback: the best loss and its epoch, as JSON.
func (k *KeepBest) State() ([]checkpoint.Named, string, error) {
	m, err := k.s.encode()
	return nil, m, err
}

// LoadState implements StatefulCallback.
func (k *KeepBest) LoadState(_ map[string]*tensor.Tensor, meta string) error {
	return k.s.decode(meta)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
