package recipe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/train"
)

// Ensemble describes an independent ensemble (Lakshminarayanan et al. 2017, "Simple and
// Scalable Predictive Uncertainty Estimation using Deep Ensembles"): Members runs of one
// recipe that differ by seed — member i trains Recipe with Seed+i, so member 0 is the
// model a lone run of Recipe trains, bit for bit — and optionally by learning rate or
// architecture.
type Ensemble struct {
	Recipe Recipe `json:"recipe"`
	// Members is the number of members K, range [1, 1024].
	Members int `json:"members"`
	// LRs and Models, if set, are cycled over the members (member i gets LRs[i%len]).
	LRs    []float64 `json:"lrs,omitempty"`
	Models []string  `json:"models,omitempty"`
	// Combine is how predictions combine: probabilities, logits or vote.
	Combine string `json:"combine"`
	// Parallel caps the members trained at once (0: min(threads, members), limited by
	// the memory available). It never changes a member's weights: the kernel thread count
	// of every member is Recipe.Threads / min(Recipe.Threads, Members) (ensemble.Plan).
	Parallel int `json:"parallel"`
}

// DefaultEnsemble returns an ensemble of 5 members of r combined by averaging
// probabilities.
func DefaultEnsemble(r Recipe) Ensemble {
	return Ensemble{Recipe: r, Members: 5, Combine: "probabilities"}
}

// Validate checks the ensemble and its recipe.
func (e Ensemble) Validate() error {
	if err := e.Recipe.Validate(); err != nil {
		return err
	}
	switch {
	case e.Members < 1 || e.Members > 1024:
		return rangeErr("members", e.Members, "[1, 1024]")
	case e.Parallel < 0:
		return rangeErr("parallel", e.Parallel, "[0, ∞) (0 = automatic)")
	}
	if _, err := ensemble.ParseCombine(e.Combine); err != nil {
		return invalidf("recipe: combine: %w", err)
	}
	for _, lr := range e.LRs {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return rangeErr("lrs", lr, "(0, ∞)")
		}
	}
	for i := range max(len(e.LRs), len(e.Models)) {
		if err := e.Member(i, e.Recipe.Threads).Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Member returns member i's recipe with the given kernel thread count.
func (e Ensemble) Member(i, threads int) Recipe {
	r := e.Recipe
	r.Seed += uint64(i)
	if len(e.LRs) > 0 {
		r.Optim.LR = e.LRs[i%len(e.LRs)]
	}
	if len(e.Models) > 0 {
		r.Model.Name = e.Models[i%len(e.Models)]
	}
	r.Threads = threads
	return r
}

// EnsembleOptions are where an ensemble writes and what it prints.
type EnsembleOptions struct {
	// OutDir receives OUT/member-I/ (each a run's folder, as Run.Fit writes it) and
	// OUT/ensemble.json. Required.
	OutDir string
	// Log receives the plan and one line per member; nil: none.
	Log io.Writer
	// Callbacks returns further callbacks for member i (e.g. a progress bar when the
	// members train one at a time); nil: none.
	Callbacks func(i, workers int) []train.Callback
	// OutMode says what to do with an OutDir holding an earlier run's files (see
	// ClaimOutDir; OutResume is not supported for ensembles).
	OutMode OutMode
}

// EnsembleResult is what TrainEnsemble reports.
type EnsembleResult struct {
	Manifest *ensemble.Manifest
	Members  []*Result
	// Workers members trained at once, each with KernelThreads threads.
	Workers, KernelThreads int
	WallSeconds            float64
}

// TrainEnsemble loads the data once, trains the members (several at once when threads
// and memory allow; see Ensemble.Parallel) and writes the manifest.
func (e Ensemble) Train(ctx context.Context, opts EnsembleOptions) (*EnsembleResult, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if opts.OutDir == "" {
		return nil, invalidf("recipe: an ensemble needs an output folder")
	}
	s, err := e.Recipe.LoadData()
	if err != nil {
		return nil, err
	}
	if opts.OutMode == OutResume {
		return nil, invalidf("recipe: an ensemble cannot be resumed")
	}
	claim, err := ClaimOutDir(opts.OutDir, opts.OutMode, "")
	if err != nil {
		return nil, err
	}
	defer claim.Release()
	memCap := e.Parallel
	if memCap == 0 {
		m, err := e.Member(0, 1).NewModel(s.Train.Shape(), s.Train.Classes())
		if err != nil {
			return nil, err
		}
		x, _ := s.Train.Tensor(0, min(e.Recipe.Batch, s.Train.Len()))
		if b, err := ensemble.MemberBytes(m, x); err == nil {
			memCap = ensemble.MaxParallel(ensemble.AvailableMemory(), b)
		}
	}
	res := &EnsembleResult{Members: make([]*Result, e.Members)}
	res.Workers, res.KernelThreads = ensemble.Plan(e.Recipe.Threads, e.Members, memCap)
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "training %d members of %s on %d examples of %s, %d epochs each: %d at a time with %d kernel thread(s) each\n",
		e.Members, e.Recipe.Model.Name, s.Train.Len(), s.Name, e.Recipe.Epochs, res.Workers, res.KernelThreads)
	var mu sync.Mutex
	start := time.Now()
	err = ensemble.Run(ctx, e.Members, res.Workers, func(ctx context.Context, i int) error {
		mr := e.Member(i, res.KernelThreads)
		o := Options{OutDir: filepath.Join(opts.OutDir, memberName(i)), Splits: s}
		if opts.Callbacks != nil {
			o.Callbacks = opts.Callbacks(i, res.Workers)
		}
		run, err := mr.Build(o)
		if err != nil {
			return err
		}
		defer run.Close()
		r, err := run.Fit(ctx)
		if err != nil {
			return err
		}
		res.Members[i] = r
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(log, "%s (seed %d, %s, lr %g): %s, %.1fs\n", memberName(i), mr.Seed, mr.Model.Name, mr.Optim.LR, r.Test.String("test"), r.TrainSeconds)
		for _, a := range r.Averaged {
			fmt.Fprintf(log, "  %s %s weights: %s\n", memberName(i), strings.ToUpper(a.Kind), a.Test.String("test"))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.WallSeconds = time.Since(start).Seconds()
	cfg, _ := json.Marshal(e)
	man := &ensemble.Manifest{Kind: ensemble.KindIndependent, Combine: e.Combine, TrainSeconds: res.WallSeconds, Config: cfg}
	for i, r := range res.Members {
		mb, err := e.manifestMember(opts.OutDir, i, r, s)
		if err != nil {
			return nil, err
		}
		man.Members = append(man.Members, mb)
	}
	if err := man.Write(opts.OutDir); err != nil {
		return nil, err
	}
	res.Manifest = man
	return res, nil
}

func memberName(i int) string { return fmt.Sprintf("member-%d", i) }

// manifestMember is member i's manifest entry.
func (e Ensemble) manifestMember(out string, i int, r *Result, s *Splits) (ensemble.Member, error) {
	name := memberName(i)
	mb := ensemble.Member{Name: name, Path: name + "/" + ModelFile, Model: r.Recipe.Model.Name, InShape: s.Train.Shape(),
		Classes: s.Train.Classes(), Seed: r.Recipe.Seed, Epoch: r.Epochs, Config: r.Recipe.Marshal(),
		Metrics: &ensemble.MemberMetrics{TrainSeconds: r.TrainSeconds}}
	if r.Test != nil {
		mb.Metrics.TestAccuracy, mb.Metrics.TestNLL = r.Test.Accuracy, r.Test.Loss
	}
	var err error
	mb.SHA256, err = ensemble.SHA256File(filepath.Join(out, filepath.FromSlash(mb.Path)))
	return mb, err
}

// LoadEnsemble reads an ensemble folder (or its ensemble.json) written by
// Ensemble.Train or a snapshot run: every member is rebuilt from the recipe stored with
// it and its checksum verified. It returns the ensemble, its manifest and the first
// member's Model (class names, input shape and normalization, which the members share).
func LoadEnsemble(path string, cfg ensemble.Config) (*ensemble.Ensemble, *ensemble.Manifest, *Trained, error) {
	var first *Trained
	build := func(mb ensemble.Member) (nn.Module, error) {
		r, err := Parse(mb.Config)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", mb.Name, err)
		}
		return r.NewModel(mb.InShape, mb.Classes)
	}
	e, man, err := ensemble.Load(path, build, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(man.Members) == 0 {
		return nil, nil, nil, fmt.Errorf("recipe: %s: an ensemble without members", path)
	}
	dir := filepath.Dir(ensemble.ManifestPath(path))
	if first, err = LoadModel(filepath.Join(dir, filepath.FromSlash(man.Members[0].Path))); err != nil {
		return nil, nil, nil, err
	}
	for i, mb := range man.Members {
		if !slices.Equal(mb.InShape, first.InShape) || mb.Classes != len(first.ClassNames) {
			return nil, nil, nil, fmt.Errorf("recipe: %s: member %d takes %v in %d classes, member 0 %v in %d",
				path, i, mb.InShape, mb.Classes, first.InShape, len(first.ClassNames))
		}
	}
	return e, man, first, nil
}

// EvaluateEnsemble loads the ensemble at path (LoadEnsemble), keeps its last members (0:
// all) and evaluates it on the test split of source ("": the members' own data), prepared
// as the members were trained. It returns the report, the manifest (of the members kept)
// and the manifest's rule of combination.
func EvaluateEnsemble(path, source string, batch, last int) (*ensemble.Report, *ensemble.Manifest, ensemble.Combine, error) {
	e, man, first, err := LoadEnsemble(path, ensemble.Config{BatchSize: batch})
	if err != nil {
		return nil, nil, 0, err
	}
	if n := len(e.Members); last < 0 || last > n {
		return nil, nil, 0, rangeErr("last", last, fmt.Sprintf("[0, members=%d] (0 = all)", n))
	} else if last > 0 {
		e.Members, e.Names, man.Members = e.Members[n-last:], e.Names[n-last:], man.Members[n-last:]
	}
	ts, _, err := first.TestSet(source)
	if err != nil {
		return nil, nil, 0, err
	}
	r, err := e.Evaluate(ts)
	if err != nil {
		return nil, nil, 0, err
	}
	return r, man, e.Config().Combine, nil
}
