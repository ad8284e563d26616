package recipe

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/train"
)

// Snapshot describes a snapshot ensemble (Huang et al. 2017, "Snapshot Ensembles: Train
// 1, get M for free"): one run of Recipe whose learning rate follows cosine annealing
// with warm restarts (SGDR, Loshchilov & Hutter 2017) in Cycles cycles of
// Epochs/Cycles epochs each, stepped per batch,
//
//	α(t) = α0/2 · (cos(π · mod(t, T/M) / (T/M)) + 1),
//
// with a snapshot of the weights at the end of every cycle; the last Keep snapshots
// (0: all) form the ensemble. Recipe.Schedule is replaced by that schedule.
type Snapshot struct {
	Recipe Recipe `json:"recipe"`
	// Cycles M, range [1, epochs]; it must divide Recipe.Epochs.
	Cycles int `json:"cycles"`
	// Keep the last Keep snapshots in the ensemble; 0 means all.
	Keep int `json:"keep"`
}

// DefaultSnapshot returns 5 cycles over r, all kept.
func DefaultSnapshot(r Recipe) Snapshot { return Snapshot{Recipe: r, Cycles: 5} }

// recipe returns the run's recipe: Recipe with the snapshot schedule.
func (s Snapshot) recipe() Recipe {
	r := s.Recipe
	if s.Cycles > 0 {
		r.Schedule = fmt.Sprintf("cosine-restarts:t0=%d,smooth=true", max(r.Epochs/s.Cycles, 1))
	}
	return r
}

// Validate checks the cycles against the recipe's epochs and the recipe.
func (s Snapshot) Validate() error {
	r := s.Recipe
	switch {
	case s.Cycles < 1 || s.Cycles > r.Epochs:
		return rangeErr("cycles", s.Cycles, fmt.Sprintf("[1, epochs=%d]", r.Epochs))
	case r.Epochs%s.Cycles != 0:
		return invalidf("recipe: epochs %d is not a multiple of cycles %d (each cycle must end at an epoch end)", r.Epochs, s.Cycles)
	case s.Keep < 0 || s.Keep > s.Cycles:
		return rangeErr("keep", s.Keep, fmt.Sprintf("[0, cycles=%d] (0 = all)", s.Cycles))
	}
	return s.recipe().Validate()
}

// SnapshotResult is what Snapshot.Train reports.
type SnapshotResult struct {
	Result   *Result
	Manifest *ensemble.Manifest
	// Taken is the number of snapshots saved (the manifest lists the last Keep).
	Taken        int
	TrainSeconds float64
}

// snapshotCallback takes a snapshot of the trainer's model at the end of every cycle,
// with its test metrics (measured then if the epoch did not evaluate the test set).
type snapshotCallback struct {
	train.BaseCallback
	cfg  ensemble.SnapshotConfig
	test data.Dataset        // nil: no test split
	s    *ensemble.Snapshots // made at the first snapshot, on the trainer's model
}

func (c *snapshotCallback) AfterEpoch(t *train.Trainer, rec *train.EpochRecord) error {
	if rec.Epoch%c.cfg.CycleEpochs != 0 {
		return nil
	}
	if c.s == nil {
		var err error
		if c.s, err = ensemble.NewSnapshots(t.Model, c.cfg); err != nil {
			return err
		}
	}
	r := *rec
	if c.test != nil && math.IsNaN(r.TestAccuracy) {
		var err error
		if r.TestLoss, r.TestAccuracy, err = train.EvaluateN(t.Model, c.test, 1000, t.Config.Threads); err != nil {
			return err
		}
	}
	return c.s.Take(&r)
}

// Train runs the recipe, saving OUT/snapshot-01.safetensors, ... (model files, loadable
// by LoadModel) besides the run's own files, and writes OUT/ensemble.json.
func (s Snapshot) Train(ctx context.Context, opts Options) (*SnapshotResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if opts.OutDir == "" {
		return nil, invalidf("recipe: a snapshot ensemble needs an output folder")
	}
	r := s.recipe()
	splits := opts.Splits
	if splits == nil {
		var err error
		if splits, err = r.LoadData(); err != nil {
			return nil, err
		}
		opts.Splits = splits
	}
	cycleEpochs := r.Epochs / s.Cycles
	cb := &snapshotCallback{cfg: ensemble.SnapshotConfig{Dir: opts.OutDir, CycleEpochs: cycleEpochs, Keep: s.Keep,
		Model: r.Model.Name, InShape: splits.Train.Shape(), Classes: splits.Train.Classes(), Seed: r.Seed,
		Config: r.Marshal(), Meta: modelMeta(r, splits)}}
	if splits.Test != nil {
		cb.test = splits.Test
	}
	opts.Callbacks = append([]train.Callback{cb}, opts.Callbacks...)
	run, err := r.Build(opts)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "training %s on %d examples of %s, %d epochs in %d cosine cycles of %d epochs (lr %g → 0), %d threads\n",
		r.Model.Name, splits.Train.Len(), splits.Name, r.Epochs, s.Cycles, cycleEpochs, r.Optim.LR, r.Threads)
	res, err := run.Fit(ctx)
	if err != nil {
		return nil, err
	}
	if cb.s == nil {
		return nil, fmt.Errorf("recipe: no snapshot was taken")
	}
	man := cb.s.Manifest()
	man.TrainSeconds = res.TrainSeconds
	if err := man.Write(opts.OutDir); err != nil {
		return nil, err
	}
	return &SnapshotResult{Result: res, Manifest: man, Taken: len(cb.s.Taken()), TrainSeconds: res.TrainSeconds}, nil
}
