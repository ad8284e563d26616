package lrfind

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
)

// Parallel trials run on internal/workpool: a panicking builder and a panicking OnTrial
// become errors naming the trial, and every trial of an error-free round reaches
// OnTrial exactly once.
func TestSearchPoolErrors(t *testing.T) {
	ds := blobs(t, 200, 4)
	var calls atomic.Int32
	panicky := func(lr, wd float64) (nn.Module, optim.Optimizer, error) {
		if calls.Add(1) == 1 {
			panic("builder blew up")
		}
		m := smallNet(11)
		return m, sgd(t, m, lr, wd), nil
	}
	_, err := Search(context.Background(), panicky, ds, SearchConfig{Trials: 3, Rounds: 1, Parallel: 1, Steps: 1})
	if err == nil || !strings.Contains(err.Error(), "trial 0") || !strings.Contains(err.Error(), "builder blew up") {
		t.Errorf("panicking builder: %v", err)
	}
	_, err = Search(context.Background(), builder(t, nil), ds, SearchConfig{Trials: 3, Rounds: 1, Parallel: 2, Steps: 1,
		OnTrial: func(tr Trial) {
			if tr.Index == 1 {
				panic("callback blew up")
			}
		}})
	if err == nil || !strings.Contains(err.Error(), "trial 1: OnTrial") || !strings.Contains(err.Error(), "callback blew up") {
		t.Errorf("panicking OnTrial: %v", err)
	}
	seen := map[int]int{}
	res, err := Search(context.Background(), builder(t, nil), ds, SearchConfig{Trials: 4, Rounds: 2, Parallel: 3, Steps: 1,
		OnTrial: func(tr Trial) { seen[tr.Index]++ }}) // serialized: no lock needed
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(res.Trials) || len(res.Trials) != 8 {
		t.Fatalf("OnTrial saw %d trials of %d", len(seen), len(res.Trials))
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("OnTrial called %d times for trial %d", n, i)
		}
	}
}
