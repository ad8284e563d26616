// Package scaleout runs the independent parts of temper's work — the members of an
// ensemble, the trials of a learning-rate search round, the folds of a k-fold
// cross-validation — as separate processes, typically the pods of a Kubernetes Indexed
// Job, and combines their results. It is plan / work / collect over a store:
//
//	p, _ := scaleout.PlanEnsemble(recipe.DefaultEnsemble(recipe.Default()))  // or PlanSearch, PlanKFold
//	p.Write("plan.json")                        // deterministic: same inputs, same bytes
//	st, _ := store.Open(ctx, "s3://bucket/run1?endpoint=http://minio:9000")
//	res, _ := p.Work(ctx, st, scaleout.WorkOptions{Index: i})   // in pod i, for every i
//	out, _ := p.Collect(ctx, st, "ens", scaleout.CollectOptions{}) // once, anywhere
//
// A Plan lists its items: item i is a recipe.Recipe (seed, fold, hyperparameters) plus,
// for a search trial, the trial's budget, and carries the SHA-256 of everything that
// defines it, so a worker refuses an item that was edited and collect refuses results of
// another plan. Work is idempotent and safe to run twice at once for one index: each run
// writes under items/I/attempt-ID/ (ID unique per run) and finishes by writing
// items/I/DONE.json, which names the attempt and the SHA-256 of its files; a run that
// finds DONE.json returns at once. An ensemble or k-fold member uploads its training
// checkpoint after every epoch, and a later run of the same index resumes from the most
// advanced checkpoint any attempt left (runs are bit-identical after a resume, so the
// member's file is the same either way). Collect reads only DONE markers and the files
// they name.
//
// Store layout, relative to the store URL:
//
//	plans/SHA.json, plan.json             the plan (PutPlan: by its hash, and the latest)
//	items/I/DONE.json                     item I is done: attempt, file hashes, metrics
//	items/I/attempt-ID/progress.json      last epoch whose checkpoint was uploaded
//	items/I/attempt-ID/checkpoint.safetensors
//	items/I/attempt-ID/model.safetensors, summary.json, metrics.jsonl, ...  (members)
//	items/I/attempt-ID/trial.json         (search trials)
//	items/I/attempt-ID/FAILED.json        the attempt failed: error and exit code
package scaleout

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/internal/fsafe"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
)

// PlanFormat identifies a plan's layout (its "format" field).
const PlanFormat = "temper-plan/1"

// Kinds of plans.
const (
	KindEnsemble = "ensemble" // independent ensemble members (recipe.Ensemble)
	KindSearch   = "search"   // one round of lrfind's coarse-to-fine random search
	KindKFold    = "kfold"    // the folds of a stratified k-fold cross-validation
)

// MaxItems bounds a plan's items (a Kubernetes Indexed Job allows 10^5 completions with
// backoffLimitPerIndex).
const MaxItems = 100000

// ErrInvalidPlan is wrapped by the errors of a plan that does not parse or validate.
var ErrInvalidPlan = errors.New("invalid plan")

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPlan}, a...)...)
}

// Plan is a deterministic list of work items and what combines them.
type Plan struct {
	Format string `json:"format"`
	Kind   string `json:"kind"`
	// DataSource is the items' data (recipe data.source); every pod must see the same
	// data under it.
	DataSource string `json:"data_source"`
	// Ensemble (KindEnsemble, KindKFold: how the members combine), Search (KindSearch).
	Ensemble *EnsembleSpec `json:"ensemble,omitempty"`
	Search   *SearchSpec   `json:"search,omitempty"`
	KFold    *KFoldSpec    `json:"kfold,omitempty"`
	Items    []Item        `json:"items"`
	// SHA256 is the hash of the plan's JSON with this field empty.
	SHA256 string `json:"sha256"`
}

// Item is one unit of work: one training run, or one search trial.
type Item struct {
	Index int `json:"index"`
	// Recipe is the run (for a trial: the search's recipe with the trial's learning rate
	// and weight decay; its epochs and schedule are not used, Trial holds the budget).
	Recipe recipe.Recipe `json:"recipe"`
	// Seed is Recipe.Seed, Fold Recipe.Data.Fold (k-fold), repeated for readers.
	Seed uint64 `json:"seed"`
	Fold *int   `json:"fold,omitempty"`
	// Trial is the search trial (KindSearch).
	Trial *TrialSpec `json:"trial,omitempty"`
	// SHA256 is the hash of everything that defines the item (ItemHash).
	SHA256 string `json:"sha256"`
}

// EnsembleSpec is how an ensemble's members combine.
type EnsembleSpec struct {
	// Members, LRs, Models and Combine as in recipe.Ensemble.
	Members int       `json:"members"`
	LRs     []float64 `json:"lrs,omitempty"`
	Models  []string  `json:"models,omitempty"`
	Combine string    `json:"combine"`
}

// KFoldSpec is a k-fold cross-validation.
type KFoldSpec struct {
	Folds int `json:"folds"`
}

// SearchSpec is one round of a coarse-to-fine random search (lrfind.Search), with what
// the next round needs.
type SearchSpec struct {
	// Config is the search's configuration as given (lrfind.SearchConfig's values that
	// are not the recipe's).
	Config SearchConfig `json:"config"`
	// Round (from 1) is this plan's round; LR and WD its ranges (WD zero: not searched).
	Round int          `json:"round"`
	LR    lrfind.Range `json:"lr"`
	WD    lrfind.Range `json:"wd"`
	// Ranges and WDRanges of rounds 1..Round (WDRanges nil when WD is not searched).
	Ranges   []lrfind.Range `json:"ranges"`
	WDRanges []lrfind.Range `json:"wd_ranges,omitempty"`
	// Previous are the finished trials of rounds 1..Round−1, with their results.
	Previous []TrialResult `json:"previous,omitempty"`
}

// SearchConfig is the part of lrfind.SearchConfig that a plan stores (the recipe gives
// the held-out fraction, fixed weight decay, batch, seed and label smoothing).
type SearchConfig struct {
	LR     lrfind.Range `json:"lr"`
	WD     lrfind.Range `json:"wd"`
	Trials int          `json:"trials"`
	Rounds int          `json:"rounds"`
	TopK   int          `json:"top_k"`
	Shrink float64      `json:"shrink"`
	Pad    float64      `json:"pad"`
	Epochs int          `json:"epochs"`
	Steps  int          `json:"steps"`
}

// TrialSpec is a search trial: its place in the search, its values and its budget.
type TrialSpec struct {
	Round  int     `json:"round"`
	Trial  int     `json:"trial"` // lrfind.Trial.Index: over all rounds, in sampling order
	LR     float64 `json:"lr"`
	WD     float64 `json:"wd"`
	Epochs int     `json:"epochs"`
	Steps  int     `json:"steps"`
}

// lrfindConfig is the full lrfind configuration of the search in r.
func (c SearchConfig) lrfind(r recipe.Recipe) lrfind.SearchConfig {
	return r.SearchConfig(lrfind.SearchConfig{LR: c.LR, WD: c.WD, Trials: c.Trials, Rounds: c.Rounds, TopK: c.TopK,
		Shrink: c.Shrink, Pad: c.Pad, Epochs: c.Epochs, Steps: c.Steps})
}

// NewSearchConfig keeps the plan's part of c, with lrfind's defaults filled in.
func NewSearchConfig(c lrfind.SearchConfig) SearchConfig {
	s := SearchConfig{LR: c.LR, WD: c.WD, Trials: c.Trials, Rounds: c.Rounds, TopK: c.TopK, Shrink: c.Shrink, Pad: c.Pad,
		Epochs: c.Epochs, Steps: c.Steps}
	if s.LR == (lrfind.Range{}) {
		s.LR = lrfind.Range{Lo: 1e-4, Hi: 1}
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&s.Trials, 8)
	def(&s.Rounds, 2)
	def(&s.TopK, 3)
	def(&s.Epochs, 1)
	if s.Shrink == 0 {
		s.Shrink = 0.5
	}
	if s.Pad == 0 {
		s.Pad = 0.1
	}
	s.Pad = max(s.Pad, 0)
	return s
}

// PlanEnsemble plans the members of an independent ensemble: item i is e.Member(i,
// e.Recipe.Threads), the recipe `temper ensemble train` trains as member i when each of
// its members runs with that many kernel threads (e.g. --threads 1), so the member files
// are byte-identical.
func PlanEnsemble(e recipe.Ensemble) (*Plan, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{Format: PlanFormat, Kind: KindEnsemble, DataSource: e.Recipe.Data.Source,
		Ensemble: &EnsembleSpec{Members: e.Members, LRs: e.LRs, Models: e.Models, Combine: e.Combine}}
	for i := range e.Members {
		r := e.Member(i, e.Recipe.Threads)
		p.Items = append(p.Items, Item{Index: i, Recipe: r, Seed: r.Seed})
	}
	return p, p.seal()
}

// PlanKFold plans a stratified k-fold cross-validation of r: item i trains r validated
// on fold i (recipe data.folds = folds, data.fold = i; every fold's split is drawn from
// r's seed, so the folds partition the training data). The fold models also form an
// ensemble, combined by probabilities.
func PlanKFold(r recipe.Recipe, folds int) (*Plan, error) {
	if r.Data.ValFraction > 0 || r.Data.ValSize > 0 {
		return nil, fmt.Errorf("scaleout: k-fold: the fold is the validation split; leave data.val_fraction and data.val_size at 0")
	}
	p := &Plan{Format: PlanFormat, Kind: KindKFold, DataSource: r.Data.Source, KFold: &KFoldSpec{Folds: folds},
		Ensemble: &EnsembleSpec{Members: folds, Combine: ensemble.Probabilities.String()}}
	for i := range folds {
		fr := r
		fr.Data.Folds, fr.Data.Fold = folds, i
		if err := fr.Validate(); err != nil {
			return nil, err
		}
		fold := i
		p.Items = append(p.Items, Item{Index: i, Recipe: fr, Seed: fr.Seed, Fold: &fold})
	}
	return p, p.seal()
}

// PlanSearch plans the first round of lrfind's coarse-to-fine random search of r (see
// recipe.Recipe.Search): one item per trial, with the learning rates (and weight
// decays) Search samples. Collect ranks the round and plans the next one.
func PlanSearch(r recipe.Recipe, c lrfind.SearchConfig) (*Plan, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if !(r.Data.ValFraction > 0) {
		return nil, fmt.Errorf("scaleout: search: data.val_fraction %v: the search ranks its trials on held-out training examples (want (0, 1))", r.Data.ValFraction)
	}
	sc := NewSearchConfig(c)
	if err := sc.lrfind(r).Validate(); err != nil {
		return nil, err
	}
	spec := &SearchSpec{Config: sc, Round: 1, LR: sc.LR, WD: sc.WD, Ranges: []lrfind.Range{sc.LR}}
	if sc.WD != (lrfind.Range{}) {
		spec.WDRanges = []lrfind.Range{sc.WD}
	}
	return planRound(r, spec)
}

// planRound makes the plan of spec's round: the trials SampleRound draws.
func planRound(r recipe.Recipe, spec *SearchSpec) (*Plan, error) {
	trials, err := spec.Config.lrfind(r).SampleRound(spec.Round, spec.LR, spec.WD)
	if err != nil {
		return nil, err
	}
	p := &Plan{Format: PlanFormat, Kind: KindSearch, DataSource: r.Data.Source, Search: spec}
	for i, t := range trials {
		tr := r
		tr.Optim.LR, tr.Optim.WeightDecay = t.LR, t.WD
		p.Items = append(p.Items, Item{Index: i, Recipe: tr, Seed: tr.Seed,
			Trial: &TrialSpec{Round: t.Round, Trial: t.Index, LR: t.LR, WD: t.WD, Epochs: spec.Config.Epochs, Steps: spec.Config.Steps}})
	}
	return p, p.seal()
}

// ItemHash returns the SHA-256 (hex) of everything that defines item it of a plan of
// the given kind: the kind, the index, the recipe's JSON form and the trial.
func ItemHash(kind string, it Item) string {
	h := sha256.New()
	b, _ := json.Marshal(struct {
		Format string          `json:"format"`
		Kind   string          `json:"kind"`
		Index  int             `json:"index"`
		Recipe json.RawMessage `json:"recipe"`
		Fold   *int            `json:"fold,omitempty"`
		Trial  *TrialSpec      `json:"trial,omitempty"`
	}{PlanFormat, kind, it.Index, it.Recipe.Marshal(), it.Fold, it.Trial})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// seal sets the item hashes and the plan's hash, then validates.
func (p *Plan) seal() error {
	for i := range p.Items {
		p.Items[i].SHA256 = ItemHash(p.Kind, p.Items[i])
	}
	p.SHA256 = p.hash()
	return p.Validate()
}

func (p *Plan) hash() string {
	q := *p
	q.SHA256 = ""
	b, err := json.Marshal(&q)
	if err != nil {
		panic(err) // a plan holds finite numbers only (Validate)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Validate checks the plan's consistency: format, kind and its spec, items numbered
// 0..n−1 with valid recipes of the plan's data source, and every hash.
func (p *Plan) Validate() error {
	switch {
	case p.Format != PlanFormat:
		return invalidf("format %q, want %q", p.Format, PlanFormat)
	case len(p.Items) == 0:
		return invalidf("no items")
	case len(p.Items) > MaxItems:
		return invalidf("%d items, at most %d", len(p.Items), MaxItems)
	}
	switch p.Kind {
	case KindEnsemble:
		if p.Ensemble == nil || p.Search != nil || p.KFold != nil || p.Ensemble.Members != len(p.Items) {
			return invalidf("an ensemble plan needs an ensemble section with members = %d items, and no search or kfold section", len(p.Items))
		}
	case KindKFold:
		if p.KFold == nil || p.Ensemble == nil || p.Search != nil || p.KFold.Folds != len(p.Items) {
			return invalidf("a kfold plan needs kfold.folds = %d items and an ensemble section, and no search section", len(p.Items))
		}
	case KindSearch:
		if err := p.validateSearch(); err != nil {
			return err
		}
	default:
		return invalidf("kind %q, want %s, %s or %s", p.Kind, KindEnsemble, KindSearch, KindKFold)
	}
	if p.Ensemble != nil {
		if _, err := ensemble.ParseCombine(p.Ensemble.Combine); err != nil {
			return invalidf("ensemble.combine: %v", err)
		}
	}
	for i, it := range p.Items {
		if it.Index != i {
			return invalidf("item %d has index %d (items must be numbered 0..%d in order)", i, it.Index, len(p.Items)-1)
		}
		if err := it.Recipe.Validate(); err != nil {
			return invalidf("item %d: %v", i, err)
		}
		if it.Recipe.Data.Source != p.DataSource || it.Seed != it.Recipe.Seed {
			return invalidf("item %d: data source %q and seed %d differ from the plan's %q and the recipe's %d", i, it.Recipe.Data.Source, it.Seed, p.DataSource, it.Recipe.Seed)
		}
		if (p.Kind == KindKFold) != (it.Fold != nil) || (it.Fold != nil && (*it.Fold != it.Recipe.Data.Fold || it.Recipe.Data.Folds != len(p.Items))) {
			return invalidf("item %d: fold does not match the recipe's data.fold/data.folds", i)
		}
		if (p.Kind == KindSearch) != (it.Trial != nil) {
			return invalidf("item %d: a trial section belongs to search plans only", i)
		}
		if got := ItemHash(p.Kind, it); it.SHA256 != got {
			return invalidf("item %d: sha256 %s, but its contents hash to %s (the item was edited)", i, it.SHA256, got)
		}
	}
	if got := p.hash(); p.SHA256 != got {
		return invalidf("sha256 %s, but the plan hashes to %s (the plan was edited)", p.SHA256, got)
	}
	return nil
}

func (p *Plan) validateSearch() error {
	s := p.Search
	if s == nil || p.Ensemble != nil || p.KFold != nil {
		return invalidf("a search plan needs a search section and no ensemble or kfold section")
	}
	if len(p.Items) != s.Config.Trials {
		return invalidf("search round of %d items, config says %d trials", len(p.Items), s.Config.Trials)
	}
	if s.Round < 1 || s.Round > s.Config.Rounds || len(s.Ranges) != s.Round || s.Ranges[s.Round-1] != s.LR ||
		(s.WD == (lrfind.Range{})) != (s.WDRanges == nil) || (s.WDRanges != nil && (len(s.WDRanges) != s.Round || s.WDRanges[s.Round-1] != s.WD)) {
		return invalidf("search round %d of %d does not match its ranges", s.Round, s.Config.Rounds)
	}
	if len(s.Previous) != (s.Round-1)*s.Config.Trials {
		return invalidf("search round %d carries %d earlier trials, want %d", s.Round, len(s.Previous), (s.Round-1)*s.Config.Trials)
	}
	for i, t := range p.Items {
		tr := t.Trial
		if tr == nil {
			return invalidf("item %d: no trial section", i)
		}
		if tr.Round != s.Round || tr.Trial != (s.Round-1)*s.Config.Trials+i || tr.Epochs != s.Config.Epochs || tr.Steps != s.Config.Steps ||
			t.Recipe.Optim.LR != tr.LR || t.Recipe.Optim.WeightDecay != tr.WD {
			return invalidf("item %d: trial does not match the round, budget or recipe", i)
		}
	}
	if err := s.Config.lrfind(p.Items[0].Recipe).Validate(); err != nil {
		return invalidf("search: %v", err)
	}
	return nil
}

// Marshal returns the plan's JSON form (indented; the same plan gives the same bytes).
func (p *Plan) Marshal() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// Write writes the plan to path atomically.
func (p *Plan) Write(path string) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(p.Marshal())
		return err
	})
}

// ParsePlan reads a plan's JSON form strictly (unknown fields are errors) and validates
// it, hashes included.
func ParsePlan(b []byte) (*Plan, error) {
	p := new(Plan)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, invalidf("%v", err)
	}
	if dec.More() {
		return nil, invalidf("trailing data after the JSON object")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// ReadPlan reads and parses the plan file at path.
func ReadPlan(path string) (*Plan, error) {
	b, err := fsafe.ReadFile(path, 64<<20)
	if err != nil {
		return nil, fmt.Errorf("scaleout: %w", err)
	}
	p, err := ParsePlan(b)
	if err != nil {
		return nil, fmt.Errorf("scaleout: %s: %w", path, err)
	}
	return p, nil
}
