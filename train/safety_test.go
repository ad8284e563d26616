package train_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/train"
)

// poisonLast sets a weight to NaN after the last step of epoch 2: the step's loss was
// finite, so only the epoch-end check of the parameters sees it.
type poisonLast struct {
	train.BaseCallback
	m     nn.Module
	steps int
}

func (p *poisonLast) AfterStep(s *train.StepInfo) error {
	if s.GlobalStep == 2*p.steps {
		nn.Params(p.m)[0].Value.Data()[5] = float32(math.NaN())
	}
	return nil
}

func TestEpochEndChecksWeights(t *testing.T) {
	dir := t.TempDir()
	s := build(t, 3)
	tr := newTrainer(t, s, 3, dir, nil)
	tr.Config.Callbacks = append(tr.Config.Callbacks, &poisonLast{m: s.model, steps: tr.StepsPerEpoch()})
	err := tr.Fit(context.Background())
	if !errors.Is(err, train.ErrNonFiniteWeights) || !strings.Contains(err.Error(), nn.Params(s.model)[0].Name+"[5] is NaN") || !strings.Contains(err.Error(), "after epoch 2") {
		t.Fatalf("err = %v, want ErrNonFiniteWeights naming %s[5] after epoch 2", err, nn.Params(s.model)[0].Name)
	}
	info, err := train.ReadStateInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Epoch != 1 || !strings.Contains(info.NonFinite, "non-finite weights") {
		t.Fatalf("checkpoint at epoch %d, marker %q; want the finite epoch 1, marked", info.Epoch, info.NonFinite)
	}
	if err := newTrainer(t, build(t, 3), 3, "", nil).LoadState(dir); err != nil {
		t.Fatalf("the kept checkpoint does not load: %v", err)
	}
}

// Edited metadata (an epoch count the history does not match) is refused.
func TestStateMetadataConsistency(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, build(t, 3), 2, dir, nil)
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, train.StateFile)
	for _, tc := range []struct{ key, value, msg string }{
		{"epoch", "9", "epoch 9 but the history holds 2"},
		{"global_step", "3", "global_step 3, but the history ends at step"},
		{"epoch", "-1", "is not an epoch count"},
	} {
		f, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		var named []checkpoint.Named
		for _, n := range f.Names {
			named = append(named, checkpoint.Named{Name: n, T: f.Tensors[n]})
		}
		old := f.Meta[tc.key]
		f.Meta[tc.key] = tc.value
		bad := filepath.Join(t.TempDir())
		if err := checkpoint.Save(filepath.Join(bad, train.StateFile), named, f.Meta); err != nil {
			t.Fatal(err)
		}
		f.Meta[tc.key] = old
		if err := newTrainer(t, build(t, 3), 3, "", nil).LoadState(bad); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s=%s: LoadState err = %v, want %q", tc.key, tc.value, err, tc.msg)
		}
		if _, err := train.ReadStateInfo(bad); err == nil {
			t.Errorf("%s=%s: ReadStateInfo accepted it", tc.key, tc.value)
		}
	}
}

// A run interrupted in its first epoch returns an InterruptedError and leaves neither a
// checkpoint nor an empty metrics.jsonl behind.
func TestInterruptedFirstEpochLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	tr := newTrainer(t, build(t, 3), 2, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := tr.Fit(ctx)
	var ie *train.InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Epoch != 0 {
		t.Fatalf("err = %v, want an InterruptedError of epoch 0 wrapping context.Canceled", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("folder holds %d files after an interrupt in epoch 1, want none", len(entries))
	}
}
