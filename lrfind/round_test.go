package lrfind

import (
	"context"
	"reflect"
	"testing"
)

// TestRoundsComposeToSearch: sampling each round with SampleRound, running each trial
// alone with RunTrial, ranking with Rank and narrowing with NextRanges gives Search's
// result bit for bit (the distributed search of package scaleout relies on it), with
// and without a searched weight decay.
func TestRoundsComposeToSearch(t *testing.T) {
	ds := blobs(t, 400, 4)
	for _, wd := range []Range{{}, {1e-5, 1e-2}} {
		cfg := SearchConfig{LR: Range{1e-3, 3}, WD: wd, FixedWD: 1e-4, Trials: 4, Rounds: 3, TopK: 2, Steps: 8, BatchSize: 32, Seed: 7}
		want, err := Search(context.Background(), builder(t, nil), ds, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var all []Trial
		var lrs, wds []Range
		lr := cfg.LR
		for round := 1; round <= cfg.Rounds; round++ {
			lrs, wds = append(lrs, lr), append(wds, wd)
			trials, err := cfg.SampleRound(round, lr, wd)
			if err != nil {
				t.Fatal(err)
			}
			for i := range trials { // in reverse: each trial is independent of the others
				tr := &trials[len(trials)-1-i]
				if err := RunTrial(context.Background(), builder(t, nil), ds, cfg, tr); err != nil {
					t.Fatal(err)
				}
			}
			all = append(all, trials...)
			if round < cfg.Rounds {
				if lr, wd, err = cfg.NextRanges(lr, wd, Rank(all)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !reflect.DeepEqual(all, want.Trials) {
			t.Fatalf("wd %v: trials differ:\n got %+v\nwant %+v", cfg.WD, all, want.Trials)
		}
		if !reflect.DeepEqual(Rank(all), want.Ranked) || !reflect.DeepEqual(lrs, want.Ranges) {
			t.Fatalf("wd %v: ranking or ranges differ", cfg.WD)
		}
		if want.WDRanges != nil && !reflect.DeepEqual(wds, want.WDRanges) {
			t.Fatalf("wd ranges %v, want %v", wds, want.WDRanges)
		}
		ts, vs, err := cfg.TrialSplit(ds)
		if err != nil || ts != want.TrainSize || vs != want.ValSize {
			t.Fatalf("TrialSplit = %d, %d, %v; want %d, %d", ts, vs, err, want.TrainSize, want.ValSize)
		}
	}
}

func TestSampleRoundErrors(t *testing.T) {
	cfg := SearchConfig{Trials: 2, Rounds: 2}
	for _, c := range []struct {
		round  int
		lr, wd Range
	}{{0, Range{1e-3, 1}, Range{}}, {3, Range{1e-3, 1}, Range{}}, {1, Range{1, 0.1}, Range{}}, {1, Range{1e-3, 1}, Range{1e-4, 1e-3}}} {
		if _, err := cfg.SampleRound(c.round, c.lr, c.wd); err == nil {
			t.Errorf("SampleRound(%d, %v, %v): no error", c.round, c.lr, c.wd)
		}
	}
}
