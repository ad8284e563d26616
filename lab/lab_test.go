package lab

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/report/page"
)

// tiny is a budget for tests: a few hundred examples, two or three epochs.
var tiny = Budget{Name: "tiny", Seeds: 4, Train: 300, Val: 200, Epochs: 2, RegTrain: 300, RegEpochs: 2,
	ConvTrain: 200, ConvEpochs: 1, ResTrain: 100, ResEpochs: 1, LinearTrain: 500, PlateauTrain: 300, PlateauEpochs: 2, Test: 300, Members: 2, Cycles: 2,
	SearchTrials: 2, Sizes: []int{20, 40, 80}, TransferFew: 2, TransferFewEpochs: 1, TransferMany: 5}

func TestClaimsDeclared(t *testing.T) {
	areas := map[string]int{}
	for _, c := range Claims() {
		areas[c.Area]++
		if c.Statement == "" || c.Metric == "" || c.Run == nil || c.Arms == nil || !(c.MinEffect > 0) {
			t.Errorf("claim %s is not fully declared: %+v", c.Name, c)
		}
		if !slices.Contains([]Kind{Superiority, NonInferiority, Equivalence}, c.Kind) {
			t.Errorf("claim %s: kind %q", c.Name, c.Kind)
		}
		for _, b := range []Budget{Quick, Full, tiny} {
			a, bb := c.Arms(b)
			if a.Name == "" || bb.Name == "" || a.Name == bb.Name {
				t.Errorf("claim %s: arms %q and %q", c.Name, a.Name, bb.Name)
			}
			for _, arm := range []Arm{a, bb} {
				if arm.Recipe.Version != 0 {
					if err := arm.Recipe.Validate(); err != nil {
						t.Errorf("claim %s arm %s (%s budget): %v", c.Name, arm.Name, b.Name, err)
					}
				}
			}
		}
	}
	for _, a := range []string{"learning rate", "second order", "regularization", "ensembles", "transfer"} {
		if areas[a] < 2 {
			t.Errorf("area %q has %d claims", a, areas[a])
		}
	}
	if len(Pending) != 0 {
		t.Errorf("claims still pending: %v", Pending)
	}
	if _, err := Select([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "reg-l2") {
		t.Errorf("Select(nope) = %v", err)
	}
	if cs, _ := Select([]string{"reg-*"}); len(cs) < 7 {
		t.Errorf("reg-* selected %d claims", len(cs))
	}
}

// TestRunTiny runs two claims on a tiny budget and checks the structure of the result
// and that each verdict is the one the rules give for the measured values (not which
// verdict it is).
func TestRunTiny(t *testing.T) {
	out := t.TempDir()
	var prog strings.Builder
	res, err := Run(context.Background(), Config{Claims: []string{"reg-l2", "ens-ema"}, Budget: tiny, OutDir: out, Threads: 1, Progress: &prog})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Claims) != 2 {
		t.Fatalf("%d claims", len(res.Claims))
	}
	for _, c := range res.Claims {
		if c.Error != "" || len(c.A) != 4 || len(c.B) != 4 || !slices.Equal(c.Seeds, []uint64{1, 2, 3, 4}) {
			t.Fatalf("claim %s: %+v", c.Name, c)
		}
		var a, b []float64
		for i := range c.A {
			a, b = append(a, float64(c.A[i])), append(b, float64(c.B[i]))
		}
		cl, _ := Lookup(c.Name)
		st := Paired(a, b)
		want, _ := Decide(cl.Kind, cl.Direction, cl.MinEffect, st)
		if c.Verdict != want || float64(c.Diff) != st.Diff || float64(c.Lo) != st.Lo {
			t.Errorf("claim %s: verdict %s diff %v, the rules give %s diff %v", c.Name, c.Verdict, c.Diff, want, st.Diff)
		}
	}
	if n := strings.Count(prog.String(), "\n"); n != 8 || !strings.Contains(prog.String(), "reg-l2 seed 4") || !strings.Contains(prog.String(), "time left") {
		t.Errorf("progress (not a terminal: one line per unit) = %q", prog.String())
	}
	// lab.json holds every number and parses back; the runs are where the report finds them
	b, err := os.ReadFile(filepath.Join(out, "lab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || len(back.Claims) != 2 {
		t.Fatalf("lab.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "runs", "reg-l2", "l2", "seed-3", "metrics.jsonl")); err != nil {
		t.Fatal(err)
	}
	rep, err := page.Load([]string{out}, page.LoadOptions{})
	if err != nil || len(rep.Labs) != 1 || len(rep.Labs[0].Runs["reg-l2"]) != 8 {
		t.Fatalf("the report of the lab folder: %v", err)
	}
	h, err := os.ReadFile(filepath.Join(out, "lab.html"))
	if err != nil || !strings.Contains(string(h), res.Claims[0].Verdict) {
		t.Fatalf("lab.html: %v", err)
	}
	var tbl strings.Builder
	if err := WriteTable(&tbl, res, false); err != nil || strings.Contains(tbl.String(), "\x1b[") || !strings.Contains(tbl.String(), "reg-l2") {
		t.Errorf("table %q (%v)", tbl.String(), err)
	}
	// fewer than 4 seeds never get a firm verdict
	res2, err := Run(context.Background(), Config{Claims: []string{"so-bfgs-memory"}, Budget: tiny, Seeds: 2, Threads: 1})
	if err != nil || res2.Claims[0].Verdict != Underpowered {
		t.Fatalf("2 seeds: %v %v", res2.Claims[0].Verdict, err)
	}
}
