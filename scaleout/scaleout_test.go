package scaleout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/exitcode"
	"github.com/temperml/temper/internal/tinydata"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/store"
	"github.com/temperml/temper/scaleout/store/storetest"
	"github.com/temperml/temper/train"
)

// tinyRecipe is a recipe of a few milliseconds: mlp-small on 300 synthetic examples.
func tinyRecipe(t testing.TB, epochs int) recipe.Recipe {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := tinydata.WriteMNIST(dir, 300, 100, 1); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Defaults("mlp-small", "sgd", "mnist:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Epochs, r.Threads, r.Batch = epochs, 1, 32
	return r
}

func openStore(t *testing.T, kind string) *store.Store {
	t.Helper()
	u := filepath.Join(t.TempDir(), "store")
	if kind == "s3" {
		u = storetest.FakeS3(t, "temper", "plans/one")
	}
	st, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestPlanDeterministicAndSealed(t *testing.T) {
	r := tinyRecipe(t, 1)
	e := recipe.DefaultEnsemble(r)
	e.Members = 3
	a, err := scaleout.PlanEnsemble(e)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := scaleout.PlanEnsemble(e)
	if !bytes.Equal(a.Marshal(), b.Marshal()) {
		t.Fatal("the same ensemble planned twice gives different plans")
	}
	back, err := scaleout.ParsePlan(a.Marshal())
	if err != nil || !bytes.Equal(back.Marshal(), a.Marshal()) {
		t.Fatalf("round trip: %v", err)
	}
	for i, it := range a.Items {
		if it.Seed != r.Seed+uint64(i) || it.Recipe.Seed != it.Seed {
			t.Errorf("item %d seed %d", i, it.Seed)
		}
	}
	edited := bytes.Replace(a.Marshal(), []byte(`"lr": 0.2`), []byte(`"lr": 0.3`), 1)
	if _, err := scaleout.ParsePlan(edited); !errors.Is(err, scaleout.ErrInvalidPlan) || !strings.Contains(err.Error(), "edited") {
		t.Fatalf("edited plan: %v", err)
	}
	for _, bad := range []string{`{}`, `{"format":"temper-plan/1","kind":"x","items":[]}`, `[`, string(a.Marshal()) + "{}"} {
		if _, err := scaleout.ParsePlan([]byte(bad)); err == nil {
			t.Errorf("ParsePlan(%.40q): no error", bad)
		}
	}
}

// stopAt cancels the run's context at the start of an epoch (a pod killed mid-run).
type stopAt struct {
	train.BaseCallback
	epoch  int
	cancel context.CancelFunc
}

func (s *stopAt) BeforeStep(i *train.StepInfo) error {
	if i.Epoch == s.epoch {
		s.cancel()
	}
	return nil
}

// TestEnsembleWorkCollect: workers (one stopped mid-run and resumed, one run twice) and
// collect give the members recipe.Ensemble.Train writes on one machine, byte for byte,
// on a folder store and on an S3 store.
func TestEnsembleWorkCollect(t *testing.T) {
	r := tinyRecipe(t, 3)
	e := recipe.DefaultEnsemble(r)
	e.Members = 2
	local := t.TempDir()
	want, err := e.Train(context.Background(), recipe.EnsembleOptions{OutDir: local})
	if err != nil {
		t.Fatal(err)
	}
	p, err := scaleout.PlanEnsemble(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			st := openStore(t, kind)
			ctx := context.Background()
			if _, err := p.Collect(ctx, st, t.TempDir(), scaleout.CollectOptions{}); !errors.Is(err, scaleout.ErrIncomplete) {
				t.Fatalf("collect before any work: %v", err)
			}
			cctx, cancel := context.WithCancel(ctx)
			_, err := p.Work(cctx, st, scaleout.WorkOptions{Index: 1, Attempt: "killed", Callbacks: []train.Callback{&stopAt{epoch: 3, cancel: cancel}}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("stopped worker: %v", err)
			}
			items, err := p.Status(ctx, st)
			if err != nil || items[1].State != "running" || !strings.Contains(items[1].Detail, "after epoch 2") {
				t.Fatalf("status after the stop: %+v %v", items, err)
			}
			for _, i := range []int{0, 1} {
				res, err := p.Work(ctx, st, scaleout.WorkOptions{Index: i})
				if err != nil || res.AlreadyDone {
					t.Fatalf("item %d: %+v %v", i, res, err)
				}
				if i == 1 && (res.Done.ResumedFrom != "attempt-killed" || res.Done.ResumedEpoch != 2) {
					t.Fatalf("item 1 did not resume: %+v", res.Done)
				}
			}
			again, err := p.Work(ctx, st, scaleout.WorkOptions{Index: 0})
			if err != nil || !again.AlreadyDone {
				t.Fatalf("second run of a done item: %+v %v", again, err)
			}
			out := t.TempDir()
			res, err := p.Collect(ctx, st, out, scaleout.CollectOptions{})
			if err != nil || !res.Complete {
				t.Fatalf("collect: %v", err)
			}
			for i, mb := range res.Manifest.Members {
				if w := want.Manifest.Members[i]; mb.SHA256 != w.SHA256 {
					t.Errorf("member %d sha256 %s, one machine's %s", i, mb.SHA256, w.SHA256)
				}
			}
			if err := ensemble.Verify(out); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := recipe.EvaluateEnsemble(out, "", 100, 0); err != nil {
				t.Fatalf("the collected ensemble does not evaluate: %v", err)
			}
		})
	}
}

// TestSearchWorkCollect: two rounds of trials run one by one and collected rank as
// recipe.Recipe.Search does, and search.csv is byte-identical.
func TestSearchWorkCollect(t *testing.T) {
	r := tinyRecipe(t, 1)
	r.Data.ValFraction = 0.2
	c := lrfind.SearchConfig{LR: lrfind.Range{Lo: 1e-3, Hi: 1}, WD: lrfind.Range{Lo: 1e-5, Hi: 1e-2}, Trials: 3, Rounds: 2, TopK: 2, Steps: 5}
	want, _, err := r.Search(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	wantDir := t.TempDir()
	want.WriteCSV(filepath.Join(wantDir, "search.csv"))
	p, err := scaleout.PlanSearch(r, c)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, "file")
	ctx := context.Background()
	var res *scaleout.CollectResult
	for round := 1; round <= 2; round++ {
		for i := len(p.Items) - 1; i >= 0; i-- {
			if _, err := p.Work(ctx, st, scaleout.WorkOptions{Index: i}); err != nil {
				t.Fatal(err)
			}
		}
		out := t.TempDir()
		if res, err = p.Collect(ctx, st, out, scaleout.CollectOptions{}); err != nil {
			t.Fatal(err)
		}
		if round == 1 {
			if res.Next == nil {
				t.Fatal("no next round")
			}
			back, err := scaleout.ReadPlan(filepath.Join(out, "next-plan.json"))
			if err != nil || back.SHA256 != res.Next.SHA256 {
				t.Fatalf("next-plan.json: %v", err)
			}
			p = back
			continue
		}
		if res.Next != nil {
			t.Fatal("a next round after the last")
		}
		if !reflect.DeepEqual(res.Search.Ranked, want.Ranked) || !reflect.DeepEqual(res.Search.Ranges, want.Ranges) || !reflect.DeepEqual(res.Search.WDRanges, want.WDRanges) {
			t.Fatalf("collected ranking\n%+v\nwant\n%+v", res.Search.Ranked, want.Ranked)
		}
		got, _ := os.ReadFile(filepath.Join(out, "search.csv"))
		w, _ := os.ReadFile(filepath.Join(wantDir, "search.csv"))
		if !bytes.Equal(got, w) {
			t.Fatalf("search.csv differs:\n%s\nwant\n%s", got, w)
		}
	}
}

// TestFailedAndKFold: a diverging fold fails with exitcode.Diverged and is reported as
// failed by collect; the other folds collect with Partial into kfold.json.
func TestFailedAndKFold(t *testing.T) {
	r := tinyRecipe(t, 1)
	p, err := scaleout.PlanKFold(r, 3)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	st := openStore(t, "file")
	ctx := context.Background()
	for i := range 3 {
		res, err := p.Work(ctx, st, scaleout.WorkOptions{Index: i})
		if err != nil {
			t.Fatal(err)
		}
		total += res.Done.Member.Val.Examples
	}
	if total != 300 {
		t.Fatalf("the folds validate on %d examples, want all 300", total)
	}
	out := t.TempDir()
	res, err := p.Collect(ctx, st, out, scaleout.CollectOptions{})
	if err != nil || len(res.KFold.Folds) != 3 || !(res.KFold.MeanValAcc > 0.2) {
		t.Fatalf("kfold collect: %+v %v", res.KFold, err)
	}

	bad := r
	bad.Optim.LR = 1e6
	bad.Schedule = "const"
	bp, err := scaleout.PlanKFold(bad, 2)
	if err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, "file")
	_, err = bp.Work(ctx, st2, scaleout.WorkOptions{Index: 0})
	var c exitcode.Coder
	if !errors.As(err, &c) || c.ExitCode() != exitcode.Diverged {
		t.Fatalf("diverging run: %v, want exit code %d", err, exitcode.Diverged)
	}
	if _, err := bp.Work(ctx, st2, scaleout.WorkOptions{Index: 1}); err == nil {
		t.Fatal("fold 1 did not diverge either")
	}
	cr, err := bp.Collect(ctx, st2, t.TempDir(), scaleout.CollectOptions{})
	f, _, _ := cr.Missing()
	if !errors.Is(err, scaleout.ErrIncomplete) || len(f) != 2 || !strings.Contains(f[0].Detail, "exit code 3") {
		t.Fatalf("collect of failed items: %v, %+v", err, cr.Items)
	}
	if _, err := bp.Work(ctx, st2, scaleout.WorkOptions{Index: 2}); err == nil {
		t.Fatal("index 2 of 2 items: no error")
	}
}

func TestIndexFromEnv(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if _, _, err := scaleout.IndexFromEnv(get); err == nil {
		t.Fatal("no variable: no error")
	}
	env["VC_TASK_INDEX"] = "4"
	if i, name, err := scaleout.IndexFromEnv(get); err != nil || i != 4 || name != "VC_TASK_INDEX" {
		t.Fatalf("VC_TASK_INDEX: %d %s %v", i, name, err)
	}
	env["JOB_COMPLETION_INDEX"] = "2"
	if i, _, err := scaleout.IndexFromEnv(get); err != nil || i != 2 {
		t.Fatalf("JOB_COMPLETION_INDEX first: %d %v", i, err)
	}
	env["JOB_COMPLETION_INDEX"] = "-1"
	if _, _, err := scaleout.IndexFromEnv(get); err == nil {
		t.Fatal("negative index: no error")
	}
}
