package lrfind

import (
	"context"
	"errors"
	"fmt"
)

// The pieces of Search one round and one trial at a time, for running the trials of a
// round as separate processes (scaleout: one Kubernetes pod per trial) and combining
// them afterwards: SampleRound draws a round's trials as Search does, RunTrial trains and
// evaluates one of them as Search does, Rank orders results as Search does and
// NextRanges narrows the ranges for the following round as Search does. Run in that
// order over every round, they compute Search's SearchResult exactly (tested).

// SampleRound returns the trials Search samples in round (from 1) when that round's
// learning-rate range is lr and its weight-decay range wd (the zero Range: weight decay
// not searched, every trial gets FixedWD). Indexes count over all rounds, as in Search:
// the first trial of round r has index (r−1)·Trials. The sampling stream is replayed
// from Seed, so the values are those Search draws whatever ran before.
func (c SearchConfig) SampleRound(round int, lr, wd Range) ([]Trial, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if round < 1 || round > cfg.Rounds {
		return nil, fmt.Errorf("lrfind: round %d out of range [1, rounds=%d]", round, cfg.Rounds)
	}
	if !lr.valid() || (wd != (Range{}) && !wd.valid()) {
		return nil, fmt.Errorf("lrfind: round %d: ranges lr %v, wd %v out of range (want 0 < lo <= hi < ∞)", round, lr, wd)
	}
	searchWD := wd != (Range{})
	if searchWD != (cfg.WD != (Range{})) {
		return nil, errors.New("lrfind: SampleRound: weight decay is searched in some rounds only")
	}
	_, _, _, sampleRand, err := holdOut(stub(2), cfg.withValSize(1))
	if err != nil {
		return nil, err
	}
	draws := 1
	if searchWD {
		draws = 2
	}
	for range (round - 1) * cfg.Trials * draws {
		sampleRand.Float64()
	}
	trials := make([]Trial, cfg.Trials)
	for i := range trials {
		t := Trial{Round: round, Index: (round-1)*cfg.Trials + i, LR: logUniform(sampleRand, lr), WD: cfg.FixedWD}
		if searchWD {
			t.WD = logUniform(sampleRand, wd)
		}
		trials[i] = t
	}
	return trials, nil
}

func (c SearchConfig) withValSize(n int) SearchConfig { c.ValSize = n; return c }

// stub is a dataset of n examples that holdOut may split (SampleRound only needs the
// streams, which do not depend on the data).
type stub int

func (s stub) Len() int             { return int(s) }
func (stub) Shape() []int           { return []int{1} }
func (stub) Classes() int           { return 2 }
func (stub) Get(int, []float32) int { return 0 }

// TrialSplit reports the sizes of the training and held-out parts Search and RunTrial
// carve out of ds.
func (c SearchConfig) TrialSplit(ds interface{ Len() int }) (trainSize, valSize int, err error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return 0, 0, err
	}
	tp, vp, _, _, err := holdOut(stub(ds.Len()), cfg)
	if err != nil {
		return 0, 0, err
	}
	return tp.Len(), vp.Len(), nil
}

// RunTrial trains t (its LR and WD) with a model from build and evaluates it on the
// held-out part, exactly as Search does for the same trial: the same hold-out and data
// order (from Seed), one kernel thread, the same budget. It fills t's results; a
// diverged trial is a result (Diverged, accuracy 0, loss +Inf), not an error.
func RunTrial(ctx context.Context, build Builder, ds interface {
	Len() int
	Shape() []int
	Classes() int
	Get(i int, x []float32) int
}, cfg SearchConfig, t *Trial) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if build == nil {
		return errors.New("lrfind: nil builder")
	}
	if ds == nil || ds.Len() < 2 {
		return errors.New("lrfind: a trial needs a dataset of at least 2 examples")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	trainPart, valPart, orderSeed, _, err := holdOut(ds, cfg)
	if err != nil {
		return err
	}
	t.ValAccuracy, t.ValLoss, t.TrainLoss, t.Diverged, t.Steps = 0, 0, 0, false, 0
	return runTrial(ctx, build, trainPart, valPart, t, orderSeed, cfg)
}

// Rank returns a copy of trials best first, as SearchResult.Ranked orders them: higher
// validation accuracy, then lower validation loss, then lower index.
func Rank(trials []Trial) []Trial { return rank(trials) }

// NextRanges returns the ranges of the round after one whose ranges were lr and wd, from
// the trials of every round so far ranked best first (Rank), as Search narrows them. wd
// stays the zero Range when weight decay is not searched.
func (c SearchConfig) NextRanges(lr, wd Range, ranked []Trial) (Range, Range, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return Range{}, Range{}, err
	}
	if len(ranked) == 0 {
		return Range{}, Range{}, errors.New("lrfind: NextRanges: no trials")
	}
	top := ranked[:min(cfg.TopK, len(ranked))]
	lr = narrow(lr, top, func(t Trial) float64 { return t.LR }, cfg)
	if wd != (Range{}) {
		wd = narrow(wd, top, func(t Trial) float64 { return t.WD }, cfg)
	}
	return lr, wd, nil
}
