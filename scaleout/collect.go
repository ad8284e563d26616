package scaleout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout/store"
	"github.com/temperml/temper/train"
)

// CollectOptions say what Collect does with an incomplete plan.
type CollectOptions struct {
	// Partial writes the outputs of the items that are done even when others are
	// missing or failed (an ensemble of the members done; a search round ranked on the
	// trials done, and no next round). Otherwise an incomplete plan writes nothing.
	Partial bool
}

// ItemStatus is what the store says of one item.
type ItemStatus struct {
	Index int
	// State is "done", "failed" (an attempt wrote FAILED.json and none finished),
	// "running" (an attempt uploaded a checkpoint; it may have been killed) or "missing".
	State string
	// Detail: the failure's message and exit code, or the running attempt's epoch.
	Detail string
	Done   *Done
}

// CollectResult is what Collect found and wrote.
type CollectResult struct {
	Items []ItemStatus
	// Complete reports whether every item is done.
	Complete bool
	// Manifest is the ensemble written (KindEnsemble, KindKFold), ensemble.json in the
	// output folder.
	Manifest *ensemble.Manifest
	// KFold is the cross-validation summary (KindKFold), kfold.json.
	KFold *KFoldResult
	// Search is the search so far, ranked (KindSearch), search.csv; Next the plan of the
	// next round (next-plan.json), nil after the last round or for a partial round.
	Search *lrfind.SearchResult
	Next   *Plan
	// Files written, relative to the output folder.
	Files []string
}

// KFoldResult summarizes a cross-validation: each fold's validation metrics and their
// mean and sample standard deviation over the folds done.
type KFoldResult struct {
	Folds       []FoldResult `json:"folds"`
	MeanValAcc  float64      `json:"mean_val_accuracy"`
	StdValAcc   float64      `json:"std_val_accuracy"`
	MeanValLoss float64      `json:"mean_val_loss"`
	StdValLoss  float64      `json:"std_val_loss"`
}

// FoldResult is one fold's validation (and test) metrics.
type FoldResult struct {
	Fold int      `json:"fold"`
	Val  Metrics  `json:"val"`
	Test *Metrics `json:"test,omitempty"`
}

// Missing returns the items that are not done, by state.
func (r *CollectResult) Missing() (failed, running, missing []ItemStatus) {
	for _, it := range r.Items {
		switch it.State {
		case "failed":
			failed = append(failed, it)
		case "running":
			running = append(running, it)
		case "missing":
			missing = append(missing, it)
		}
	}
	return
}

// WriteStatus prints one line per item that is not done, and a count.
func (r *CollectResult) WriteStatus(w io.Writer) {
	done := 0
	for _, it := range r.Items {
		if it.State == "done" {
			done++
			continue
		}
		fmt.Fprintf(w, "item %d: %s", it.Index, it.State)
		if it.Detail != "" {
			fmt.Fprintf(w, " (%s)", it.Detail)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d of %d items done\n", done, len(r.Items))
}

// ErrIncomplete is wrapped by Collect's error when items are not done and
// CollectOptions.Partial is not set.
var ErrIncomplete = errors.New("plan incomplete")

// Status reads the store's markers for every item, without reading any model file.
func (p *Plan) Status(ctx context.Context, st *store.Store) ([]ItemStatus, error) {
	keys, err := st.List(ctx, p.ItemsPrefix())
	if err != nil {
		return nil, err
	}
	byItem := map[string][]string{}
	for _, k := range keys {
		rel := strings.TrimPrefix(k, p.ItemsPrefix())
		i, rest, _ := strings.Cut(rel, "/")
		byItem[i] = append(byItem[i], rest)
	}
	out := make([]ItemStatus, len(p.Items))
	for i := range p.Items {
		s := ItemStatus{Index: i, State: "missing"}
		files := byItem[fmt.Sprint(i)]
		if slices.Contains(files, DoneFile) {
			if s.Done, err = p.ReadDone(ctx, st, i); err != nil {
				return nil, err
			}
			s.State = "done"
			out[i] = s
			continue
		}
		for _, f := range files {
			att, name := path.Split(f)
			switch name {
			case FailedFile:
				b, err := st.Get(ctx, p.ItemPrefix(i)+f)
				if err != nil {
					return nil, err
				}
				var fl Failed
				if json.Unmarshal(b, &fl) != nil {
					fl.Error = "unreadable " + FailedFile
				}
				s.State, s.Detail = "failed", fmt.Sprintf("%s: exit code %d: %s", strings.TrimSuffix(att, "/"), fl.ExitCode, fl.Error)
			case ProgressFile:
				if s.State == "failed" {
					continue
				}
				b, err := st.Get(ctx, p.ItemPrefix(i)+f)
				if err != nil {
					return nil, err
				}
				var pr Progress
				json.Unmarshal(b, &pr)
				s.State, s.Detail = "running", fmt.Sprintf("%s uploaded its checkpoint after epoch %d", strings.TrimSuffix(att, "/"), pr.Epoch)
			}
		}
		out[i] = s
	}
	return out, nil
}

// Collect reads the DONE markers of every item and writes to outDir: for an ensemble
// the members' files (member-I/model.safetensors, verified against the hashes in the
// markers) and ensemble.json, which `temper ensemble eval` reads; for a k-fold the same
// plus kfold.json; for a search round search.csv (the ranked trials of all rounds so
// far, as `temper search --out` writes it) and, before the last round, next-plan.json.
// Items not done are reported in the result; unless o.Partial, Collect then writes
// nothing and returns an error wrapping ErrIncomplete.
func (p *Plan) Collect(ctx context.Context, st *store.Store, outDir string, o CollectOptions) (*CollectResult, error) {
	items, err := p.Status(ctx, st)
	if err != nil {
		return nil, err
	}
	res := &CollectResult{Items: items, Complete: true}
	var done []*Done
	for _, it := range items {
		if it.State != "done" {
			res.Complete = false
			continue
		}
		done = append(done, it.Done)
	}
	if !res.Complete && !o.Partial {
		f, r, m := res.Missing()
		return res, fmt.Errorf("scaleout: %w: %d of %d items done (%d failed, %d running, %d missing)", ErrIncomplete, len(done), len(items), len(f), len(r), len(m))
	}
	if len(done) == 0 {
		return res, fmt.Errorf("scaleout: %w: no item is done", ErrIncomplete)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	switch p.Kind {
	case KindEnsemble, KindKFold:
		err = p.collectMembers(ctx, st, outDir, done, res)
	case KindSearch:
		err = p.collectSearch(outDir, done, res)
	}
	return res, err
}

func (p *Plan) collectMembers(ctx context.Context, st *store.Store, outDir string, done []*Done, res *CollectResult) error {
	e := recipe.Ensemble{Recipe: p.Items[0].Recipe, Members: len(p.Items), LRs: p.Ensemble.LRs, Models: p.Ensemble.Models, Combine: p.Ensemble.Combine}
	if p.Kind == KindEnsemble {
		e.Recipe.Seed = p.Items[0].Seed // member 0's seed is the ensemble's
	}
	cfg, _ := json.Marshal(e)
	man := &ensemble.Manifest{Kind: ensemble.KindIndependent, Combine: p.Ensemble.Combine, Config: cfg}
	var folds []FoldResult
	for _, d := range done {
		it := p.Items[d.Index]
		name := fmt.Sprintf("member-%d", d.Index)
		rel := name + "/" + recipe.ModelFile
		want, ok := d.Files[recipe.ModelFile]
		if !ok {
			return fmt.Errorf("scaleout: item %d: its DONE marker names no %s", d.Index, recipe.ModelFile)
		}
		local := filepath.Join(outDir, filepath.FromSlash(rel))
		if err := st.GetFile(ctx, p.ItemPrefix(d.Index)+d.Attempt+"/"+recipe.ModelFile, local); err != nil {
			return err
		}
		got, err := ensemble.SHA256File(local)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("scaleout: item %d: %s in %s has sha256 %s, its DONE marker says %s (altered after it was done)", d.Index, recipe.ModelFile, d.Attempt, got, want)
		}
		// The run's record beside the model, as `temper ensemble train` leaves it (temper
		// report draws the members' curves from metrics.jsonl).
		for _, f := range []string{recipe.SummaryFile, train.MetricsFile} {
			sum, ok := d.Files[f]
			if !ok {
				continue
			}
			dst := filepath.Join(outDir, name, f)
			if err := st.GetFile(ctx, p.ItemPrefix(d.Index)+d.Attempt+"/"+f, dst); err != nil {
				return err
			}
			if got, err := ensemble.SHA256File(dst); err != nil || got != sum {
				return fmt.Errorf("scaleout: item %d: %s in %s does not have the sha256 its DONE marker records (%v)", d.Index, f, d.Attempt, err)
			}
		}
		m := d.Member
		mb := ensemble.Member{Name: name, Path: rel, SHA256: got, Model: m.Model, InShape: m.InShape, Classes: m.Classes,
			Seed: it.Seed, Epoch: m.Epochs, Config: it.Recipe.Marshal(), Metrics: &ensemble.MemberMetrics{TrainSeconds: m.TrainSeconds}}
		if m.Test != nil {
			mb.Metrics.TestAccuracy, mb.Metrics.TestNLL = float64(m.Test.Accuracy), float64(m.Test.Loss)
		}
		man.Members = append(man.Members, mb)
		man.TrainSeconds += m.TrainSeconds
		if p.Kind == KindKFold && m.Val != nil {
			folds = append(folds, FoldResult{Fold: *it.Fold, Val: *m.Val, Test: m.Test})
		}
	}
	if err := man.Write(outDir); err != nil {
		return err
	}
	res.Manifest = man
	for _, mb := range man.Members {
		res.Files = append(res.Files, mb.Path)
	}
	res.Files = append(res.Files, ensemble.ManifestFile)
	if p.Kind == KindKFold {
		res.KFold = summarizeFolds(folds)
		if err := recipe.WriteJSON(filepath.Join(outDir, "kfold.json"), res.KFold); err != nil {
			return err
		}
		res.Files = append(res.Files, "kfold.json")
	}
	return nil
}

func summarizeFolds(folds []FoldResult) *KFoldResult {
	k := &KFoldResult{Folds: folds}
	var acc, loss []float64
	for _, f := range folds {
		acc, loss = append(acc, float64(f.Val.Accuracy)), append(loss, float64(f.Val.Loss))
	}
	k.MeanValAcc, k.StdValAcc = meanStd(acc)
	k.MeanValLoss, k.StdValLoss = meanStd(loss)
	return k
}

// meanStd returns the mean and the sample standard deviation (n−1; 0 for one value).
func meanStd(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	if len(v) == 1 {
		return m, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)-1))
}

func (p *Plan) collectSearch(outDir string, done []*Done, res *CollectResult) error {
	s := p.Search
	sr := &lrfind.SearchResult{Ranges: s.Ranges, WDRanges: s.WDRanges}
	for _, t := range s.Previous {
		sr.Trials = append(sr.Trials, t.Trial())
	}
	for _, d := range done {
		sr.Trials = append(sr.Trials, d.Trial.Trial())
		sr.TrainSize, sr.ValSize = d.Trial.TrainSize, d.Trial.ValSize
	}
	sr.Ranked = lrfind.Rank(sr.Trials)
	res.Search = sr
	if err := sr.WriteCSV(filepath.Join(outDir, "search.csv")); err != nil {
		return err
	}
	res.Files = append(res.Files, "search.csv")
	if !res.Complete || s.Round == s.Config.Rounds {
		return nil
	}
	r := p.Items[0].Recipe
	c := s.Config.lrfind(r)
	lr, wd, err := c.NextRanges(s.LR, s.WD, sr.Ranked)
	if err != nil {
		return err
	}
	next := &SearchSpec{Config: s.Config, Round: s.Round + 1, LR: lr, WD: wd, Ranges: append(slices.Clone(s.Ranges), lr)}
	if s.WDRanges != nil {
		next.WDRanges = append(slices.Clone(s.WDRanges), wd)
	}
	next.Previous = slices.Clone(s.Previous)
	for _, d := range done {
		next.Previous = append(next.Previous, *d.Trial)
	}
	if res.Next, err = planRound(r, next); err != nil {
		return err
	}
	if err := res.Next.Write(filepath.Join(outDir, "next-plan.json")); err != nil {
		return err
	}
	res.Files = append(res.Files, "next-plan.json")
	return nil
}

// PlanKeyFor is where PutPlan stores the plan of the given SHA-256: plans/SHA.json.
func PlanKeyFor(sha string) string { return "plans/" + sha + ".json" }

// PutPlan writes the plan to the store as plans/SHA.json (what the workers of a Job
// pinned to it read) and as plan.json (the latest plan put, for commands given no
// plan).
func (p *Plan) PutPlan(ctx context.Context, st *store.Store) error {
	b := p.Marshal()
	if err := st.Put(ctx, PlanKeyFor(p.SHA256), b); err != nil {
		return err
	}
	return st.Put(ctx, PlanKey, b)
}

// LoadPlan reads a plan from a local file, or, when path is "", from the store:
// plans/WANTSHA.json when wantSHA is given, else plan.json. wantSHA, if not "", must be
// the plan's SHA256 (a Job's pods pin the plan they were made for).
func LoadPlan(ctx context.Context, st *store.Store, path, wantSHA string) (*Plan, error) {
	var p *Plan
	var err error
	if path != "" {
		p, err = ReadPlan(path)
	} else {
		key := PlanKey
		if wantSHA != "" {
			key = PlanKeyFor(wantSHA)
		}
		var b []byte
		if b, err = st.Get(ctx, key); err == nil {
			if p, err = ParsePlan(b); err != nil {
				err = fmt.Errorf("scaleout: %s in %s: %w", key, st.URL(), err)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if wantSHA != "" && p.SHA256 != wantSHA {
		return nil, fmt.Errorf("%w: the plan's sha256 is %s, want %s (the plan was replaced after the manifest was made)", ErrInvalidPlan, p.SHA256, wantSHA)
	}
	return p, nil
}
