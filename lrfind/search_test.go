package lrfind

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
)

func builder(t testing.TB, calls *atomic.Int32) Builder {
	return func(lr, wd float64) (nn.Module, optim.Optimizer, error) {
		if calls != nil {
			calls.Add(1)
		}
		m := smallNet(11)
		return m, sgd(t, m, lr, wd), nil
	}
}

// TestSearchDeterministicAcrossParallelism: the same seed gives the same trials, bit for
// bit, whether trials run one at a time or three at once.
func TestSearchDeterministicAcrossParallelism(t *testing.T) {
	ds := blobs(t, 600, 4)
	cfg := SearchConfig{LR: Range{1e-3, 3}, WD: Range{1e-5, 1e-2}, Trials: 5, Rounds: 2, Steps: 12, BatchSize: 32, Seed: 42}
	before := kernel.Threads()
	var results []*SearchResult
	for _, par := range []int{1, 3} {
		cfg.Parallel = par
		var calls atomic.Int32
		res, err := Search(context.Background(), builder(t, &calls), ds, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if int(calls.Load()) != 10 || len(res.Trials) != 10 {
			t.Fatalf("parallel %d: %d builds, %d trials; want 10", par, calls.Load(), len(res.Trials))
		}
		if kernel.Threads() != before {
			t.Fatalf("kernel threads %d after the search, want %d restored", kernel.Threads(), before)
		}
		results = append(results, res)
	}
	a, b := results[0], results[1]
	for i := range a.Trials {
		if a.Trials[i] != b.Trials[i] {
			t.Errorf("trial %d: sequential %+v, parallel %+v", i, a.Trials[i], b.Trials[i])
		}
	}
	if a.Best() != b.Best() {
		t.Errorf("best: %+v vs %+v", a.Best(), b.Best())
	}
	if a.TrainSize != 540 || a.ValSize != 60 {
		t.Errorf("split %d/%d, want 540/60", a.TrainSize, a.ValSize)
	}
	// A different seed samples different learning rates.
	cfg.Seed = 43
	c, err := Search(context.Background(), builder(t, nil), ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Trials[0].LR == a.Trials[0].LR {
		t.Errorf("seeds 42 and 43 drew the same first lr %g", a.Trials[0].LR)
	}
}

// TestSearchRounds checks the sampling ranges, the ranking and the narrowing.
func TestSearchRounds(t *testing.T) {
	ds := blobs(t, 400, 5)
	cfg := SearchConfig{LR: Range{1e-4, 10}, Trials: 6, Rounds: 2, Epochs: 1, BatchSize: 32, Parallel: 2, Seed: 1, FixedWD: 1e-4}
	res, err := Search(context.Background(), builder(t, nil), ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ranges) != 2 || res.WDRanges != nil {
		t.Fatalf("ranges %v, wd ranges %v", res.Ranges, res.WDRanges)
	}
	for _, tr := range res.Trials {
		rg := res.Ranges[tr.Round-1]
		if tr.LR < rg.Lo || tr.LR > rg.Hi {
			t.Errorf("trial %d lr %g outside round %d's range %v", tr.Index, tr.LR, tr.Round, rg)
		}
		if tr.WD != 1e-4 {
			t.Errorf("trial %d wd %g, want the fixed 1e-4", tr.Index, tr.WD)
		}
		if !tr.Diverged && tr.Steps != 12 { // 360 training examples / 32 = 12 batches
			t.Errorf("trial %d took %d steps, want 12 (one epoch)", tr.Index, tr.Steps)
		}
	}
	w0 := math.Log(res.Ranges[0].Hi / res.Ranges[0].Lo)
	w1 := math.Log(res.Ranges[1].Hi / res.Ranges[1].Lo)
	if w1 > 0.5*w0+1e-9 {
		t.Errorf("round 2 range %v (log width %.3f) is not at most half of round 1's %v (%.3f)", res.Ranges[1], w1, res.Ranges[0], w0)
	}
	for i := 1; i < len(res.Ranked); i++ {
		p, q := res.Ranked[i-1], res.Ranked[i]
		if p.ValAccuracy < q.ValAccuracy || (p.ValAccuracy == q.ValAccuracy && p.ValLoss > q.ValLoss) {
			t.Fatalf("ranking out of order at %d: %+v before %+v", i, p, q)
		}
	}
	// This problem is easy: the best trial learns it.
	if best := res.Best(); best.ValAccuracy < 0.9 || best.Diverged {
		t.Errorf("best trial %+v; want validation accuracy >= 0.9", best)
	}
	// lr 10 diverges or does poorly; whichever trials diverged rank last.
	for i, tr := range res.Ranked {
		if tr.Diverged {
			for _, later := range res.Ranked[i:] {
				if !later.Diverged {
					t.Fatalf("a finite trial ranks after a diverged one: %+v", later)
				}
			}
			break
		}
	}
}

func TestNarrow(t *testing.T) {
	cfg, _ := SearchConfig{}.withDefaults()
	cur := Range{1e-4, 1} // log width 4 decades
	cases := []struct {
		name   string
		top    []Trial
		lo, hi float64 // expected, in log10
	}{
		// Span 1e-2..1e-1 padded by 0.4 decades each side: 1.8 decades <= 2 (the cap).
		{"span", []Trial{{LR: 1e-2}, {LR: 1e-1}}, -2.4, -0.6},
		// Span of 3 decades: capped at 2 decades around the best (1e-3).
		{"cap", []Trial{{LR: 1e-3}, {LR: 1}, {LR: 1e-2}}, -4, -2},
		// Diverged trials do not widen the range.
		{"diverged ignored", []Trial{{LR: 1e-2}, {LR: 1, Diverged: true}}, -2.4, -1.6},
		{"all diverged", []Trial{{LR: 1, Diverged: true}}, -4, 0},
	}
	for _, c := range cases {
		got := narrow(cur, c.top, func(t Trial) float64 { return t.LR }, cfg)
		if math.Abs(math.Log10(got.Lo)-c.lo) > 1e-9 || math.Abs(math.Log10(got.Hi)-c.hi) > 1e-9 {
			t.Errorf("%s: got %v, want 1e%.1f..1e%.1f", c.name, got, c.lo, c.hi)
		}
	}
}

func TestSearchValidation(t *testing.T) {
	ds := blobs(t, 50, 1)
	cases := []struct {
		cfg  SearchConfig
		want string
	}{
		{SearchConfig{LR: Range{0, 1}}, "learning-rate range 0..1 out of range"},
		{SearchConfig{LR: Range{1, 0.1}}, "learning-rate range 1..0.1 out of range"},
		{SearchConfig{WD: Range{-1, 1}}, "weight-decay range -1..1 out of range"},
		{SearchConfig{Trials: -1}, "trials -1 out of range"},
		{SearchConfig{Rounds: -1}, "rounds -1 out of range"},
		{SearchConfig{Shrink: 2}, "shrink 2 out of range (0, 1]"},
		{SearchConfig{ValFraction: 1.5}, "validation fraction 1.5 out of range (0, 1)"},
		{SearchConfig{ValSize: 50}, "validation size 50 out of range [1, 50)"},
		{SearchConfig{Parallel: -3}, "parallel trials -3 out of range"},
		{SearchConfig{Epochs: -1}, "epochs -1 out of range"},
	}
	for _, c := range cases {
		_, err := Search(context.Background(), builder(t, nil), ds, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want it to contain %q", c.cfg, err, c.want)
		}
	}
	// A builder error stops the search and is reported with the trial.
	bad := func(lr, wd float64) (nn.Module, optim.Optimizer, error) { return nil, nil, errors.New("no model") }
	_, err := Search(context.Background(), bad, ds, SearchConfig{Trials: 3, Parallel: 2, Steps: 1})
	if err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("builder failure: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, builder(t, nil), ds, SearchConfig{Trials: 2, Steps: 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
