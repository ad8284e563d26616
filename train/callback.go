package train

import (
	"errors"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/tensor"
)

// ErrStop, returned (possibly wrapped) by a callback, ends Fit after the current epoch's
// records and checkpoint are written; Fit then returns nil and Trainer.Stopped reports
// true (early stopping). From BeforeStep or AfterStep the epoch still runs to its end (a
// checkpoint holds whole epochs); from AfterEpoch the later callbacks still run.
var ErrStop = errors.New("train: stop requested by a callback")

// StepInfo is what a callback sees of one optimizer step.
type StepInfo struct {
	Trainer    *Trainer
	Epoch      int // 1-based epoch of the step
	GlobalStep int // steps taken before this one (BeforeStep), or including it (AfterStep)
	// X and Y are the batch; BeforeStep may rewrite them in place (batch-level
	// augmentation such as mixup).
	X *tensor.Tensor
	Y []int
	// Loss and Correct are set for AfterStep.
	Loss    float64
	Correct int
}

// Callback observes and extends the loop. Callbacks run in the order given in
// Config.Callbacks. Embed BaseCallback to implement only some of the methods.
type Callback interface {
	// BeforeStep runs before the forward pass of every training step.
	BeforeStep(s *StepInfo) error
	// AfterStep runs after every optimizer step.
	AfterStep(s *StepInfo) error
	// AfterEpoch runs after each epoch's evaluation, before the record is written to
	// metrics.jsonl and before the checkpoint; it may add to rec. Returning ErrStop ends
	// training after this epoch.
	AfterEpoch(t *Trainer, rec *EpochRecord) error
}

// BaseCallback implements Callback with methods that do nothing.
type BaseCallback struct{}

// BeforeStep does nothing.
func (BaseCallback) BeforeStep(*StepInfo) error { return nil }

// AfterStep does nothing.
func (BaseCallback) AfterStep(*StepInfo) error { return nil }

// AfterEpoch does nothing.
func (BaseCallback) AfterEpoch(*Trainer, *EpochRecord) error { return nil }

// StatefulCallback is a callback whose state is saved in the training checkpoint
// (checkpoint.safetensors) and restored by LoadState, so a resumed run continues it
// bit-identically. Its tensors are stored as "cb.<StateKey>.<name>", its metadata as
// "cb.<StateKey>".
type StatefulCallback interface {
	Callback
	// StateKey names the callback's state; unique among a trainer's callbacks.
	StateKey() string
	// State returns the tensors and metadata to save (the tensors are written before the
	// next step, so they may alias live buffers).
	State() (tensors []checkpoint.Named, meta string, err error)
	// LoadState restores what State returned.
	LoadState(tensors map[string]*tensor.Tensor, meta string) error
}
