package recipe

import (
	"context"

	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
)

// RangeTest runs the learning-rate range test (lrfind.RangeTest) on the recipe's model,
// optimizer (its momentum and weight decay; the swept learning rate replaces its own) and
// training split, with the data order drawn from the recipe's seed. It returns the curve
// and the data it ran on.
func (r Recipe) RangeTest(ctx context.Context, c lrfind.Config) (*lrfind.Result, *Splits, error) {
	if err := r.Validate(); err != nil {
		return nil, nil, err
	}
	s, err := r.LoadData()
	if err != nil {
		return nil, nil, err
	}
	m, err := r.NewModel(s.Train.Shape(), s.Train.Classes())
	if err != nil {
		return nil, nil, err
	}
	opt, err := r.NewOptimizer(m)
	if err != nil {
		return nil, nil, err
	}
	c.BatchSize, c.LabelSmoothing = r.Batch, r.LabelSmoothing
	if err := c.Validate(); err != nil {
		return nil, nil, invalid(err)
	}
	// The sweep's data order: the seed's first stream's first child (as since session 2,
	// so that documented range tests keep their curves).
	res, err := lrfind.RangeTest(ctx, m, opt, s.Train, c, rng.New(r.Seed).Split().Split())
	return res, s, err
}

// Search runs lrfind's coarse-to-fine random search of the learning rate (and weight
// decay, when c.WD is set) over the recipe: every trial trains the recipe's model from the
// same initialization with its optimizer at the sampled values, on the training split
// minus a stratified held-out part of Data.ValFraction (which the search ranks on; it
// must be > 0). Batch, label smoothing, seed and the number of trials at once (Threads)
// are the recipe's.
func (r Recipe) Search(ctx context.Context, c lrfind.SearchConfig) (*lrfind.SearchResult, *Splits, error) {
	s, build, c, err := r.searchSetup(c)
	if err != nil {
		return nil, nil, err
	}
	res, err := lrfind.Search(ctx, build, s.Train, c)
	return res, s, err
}

// SearchTrial trains and evaluates one trial of Search (its LR and WD; t's Round and
// Index are kept) exactly as Search does, filling in t's results: a search's trials can
// run as separate processes (package scaleout) and rank as Search's. It returns the data
// the trial ran on.
func (r Recipe) SearchTrial(ctx context.Context, c lrfind.SearchConfig, t *lrfind.Trial) (*Splits, error) {
	s, build, c, err := r.searchSetup(c)
	if err != nil {
		return nil, err
	}
	return s, lrfind.RunTrial(ctx, build, s.Train, c, t)
}

// SearchConfig returns c completed with the recipe's part of a search: held-out
// fraction, fixed weight decay, batch, label smoothing, seed and trials at once.
func (r Recipe) SearchConfig(c lrfind.SearchConfig) lrfind.SearchConfig {
	c.ValFraction, c.FixedWD, c.BatchSize, c.Parallel = r.Data.ValFraction, r.Optim.WeightDecay, r.Batch, r.Threads
	c.Seed, c.LabelSmoothing = r.Seed, r.LabelSmoothing
	return c
}

// searchSetup validates the recipe for a search and returns its data (the whole
// training split: lrfind holds out its own part), the trials' builder and c completed
// by SearchConfig.
func (r Recipe) searchSetup(c lrfind.SearchConfig) (*Splits, lrfind.Builder, lrfind.SearchConfig, error) {
	if err := r.Validate(); err != nil {
		return nil, nil, c, err
	}
	if !(r.Data.ValFraction > 0) {
		return nil, nil, c, rangeErr("data.val_fraction", r.Data.ValFraction, "(0, 1): the search ranks its trials on held-out training examples")
	}
	whole := r
	whole.Data.ValFraction = 0 // lrfind.Search holds out its own part
	s, err := whole.LoadData()
	if err != nil {
		return nil, nil, c, err
	}
	build := func(lr, wd float64) (nn.Module, optim.Optimizer, error) {
		t := r
		t.Optim.LR, t.Optim.WeightDecay = lr, wd
		m, err := t.NewModel(s.Train.Shape(), s.Train.Classes())
		if err != nil {
			return nil, nil, err
		}
		o, err := t.NewOptimizer(m)
		return m, o, err
	}
	if _, _, err := build(r.Optim.LR, r.Optim.WeightDecay); err != nil { // once, before the trials start
		return nil, nil, c, err
	}
	c = r.SearchConfig(c)
	if err := c.Validate(); err != nil {
		return nil, nil, c, invalid(err)
	}
	return s, build, c, nil
}
