package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/report/page"
	"github.com/temperml/temper/train"
)

// Budget sizes the lab's runs. Quick and Full are the two the CLI offers; a test may
// make its own.
type Budget struct {
	Name string
	// Seeds is the default number of seeds (Config.Seeds overrides it).
	Seeds int
	// Train and Val are the training and validation examples of the MLP claims (a
	// stratified validation split carved from the first Train+Val MNIST training images);
	// Epochs their length.
	Train, Val, Epochs int
	// RegTrain and RegEpochs: the small training set of the regularization claims.
	RegTrain, RegEpochs int
	// ConvTrain and ConvEpochs: the convolutional (lenet5, cnn) runs; ResTrain and
	// ResEpochs: resnet20's.
	ConvTrain, ConvEpochs int
	ResTrain, ResEpochs   int
	// LinearTrain: the softmax-regression (second-order) claims' training examples.
	LinearTrain int
	// PlateauTrain and PlateauEpochs: the learning-rate decay claim (long enough for the
	// validation loss to plateau at a constant rate).
	PlateauTrain, PlateauEpochs int
	// Test examples the final evaluation uses (the first ones of MNIST's test set; 0: all
	// 10,000). Ensemble claims always use all of them.
	Test int
	// Members of the independent ensemble; Cycles of the snapshot ensemble.
	Members, Cycles int
	// SearchTrials per round of the learning-rate search (2 rounds).
	SearchTrials int
	// Sizes are the parameter counts N of the Newton/BFGS cost sweep.
	Sizes []int
	// TransferFew labelled examples per class (for TransferFewEpochs) in the little-data
	// transfer claim; TransferMany per class (one epoch) in the more-layers claim.
	TransferFew, TransferFewEpochs, TransferMany int
}

// Quick runs the whole lab in about 15 minutes on 2 cores (measured in docs/lab.md).
var Quick = Budget{Name: "quick", Seeds: 4, Train: 2000, Val: 1000, Epochs: 8,
	RegTrain: 1000, RegEpochs: 15, ConvTrain: 1000, ConvEpochs: 8, ResTrain: 250, ResEpochs: 3,
	LinearTrain: 10000, PlateauTrain: 5000, PlateauEpochs: 16, Test: 2000, Members: 4, Cycles: 4, SearchTrials: 6,
	Sizes: []int{300, 600, 1200, 2400}, TransferFew: 10, TransferFewEpochs: 10, TransferMany: 200}

// Full is what docs/lab.md reports: 6 seeds and about twice Quick's training sets
// (about 40 minutes on 2 shared cores).
var Full = Budget{Name: "full", Seeds: 6, Train: 4000, Val: 1000, Epochs: 10,
	RegTrain: 2000, RegEpochs: 15, ConvTrain: 1500, ConvEpochs: 8, ResTrain: 400, ResEpochs: 3,
	LinearTrain: 20000, PlateauTrain: 8000, PlateauEpochs: 20, Test: 0, Members: 5, Cycles: 5, SearchTrials: 8,
	Sizes: []int{300, 600, 1200, 2400}, TransferFew: 10, TransferFewEpochs: 10, TransferMany: 1000}

// ParseBudget returns the budget named quick or full.
func ParseBudget(name string) (Budget, error) {
	switch name {
	case "quick":
		return Quick, nil
	case "full":
		return Full, nil
	}
	return Budget{}, fmt.Errorf("lab: budget %q unknown (want quick or full)", name)
}

// Config is one invocation of the lab.
type Config struct {
	// Claims to run (names, areas or prefixes with '*'; empty: all).
	Claims []string
	Budget Budget
	// Seeds is the number of seeds, 1..N (0: the budget's). Fewer than 4 still runs, and
	// every verdict is then UNDERPOWERED.
	Seeds int
	// OutDir receives lab.json, lab.html and runs/ ("" writes nothing).
	OutDir string
	// Threads of every run's kernels (0: all cores). Results are bit-identical for a
	// given seed and thread count.
	Threads int
	// Progress receives which claim and seed runs and the time left: a bar when it is a
	// terminal, one line per finished unit otherwise; nil: none.
	Progress io.Writer
	// Command, Commit and CPU are recorded in lab.json (the CLI fills them in).
	Command, Commit, CPU string
}

// Unit is one seed of one claim: what a claim's Run receives.
type Unit struct {
	Claim   Claim
	A, B    Arm
	Seed    uint64
	Budget  Budget
	Threads int
	dir     string // OUT/runs/CLAIM, "" for none
	details map[string]float64
	splits  map[string]*recipe.Splits
}

// Detail records a further number of this seed (shown in lab.json's details).
func (u *Unit) Detail(key string, v float64) { u.details[key] = v }

// prepare sets the seed and threads of r.
func (u *Unit) prepare(r recipe.Recipe) recipe.Recipe {
	r.Seed, r.Threads = u.Seed, u.Threads
	return r
}

// Splits loads r's data once per unit (both arms of a seed share it when their data
// sections agree), keeping the first Budget.Test test examples unless fullTest.
func (u *Unit) Splits(r recipe.Recipe, fullTest bool) (*recipe.Splits, error) {
	key, _ := json.Marshal(struct {
		D    recipe.Data
		S    uint64
		Full bool
	}{r.Data, r.Seed, fullTest})
	if s, ok := u.splits[string(key)]; ok {
		return s, nil
	}
	s, err := r.LoadData()
	if err != nil {
		return nil, err
	}
	if n := u.Budget.Test; !fullTest && n > 0 && s.Test != nil && s.Test.Len() > n {
		c := *s
		if c.Test, err = s.Test.Head(n); err != nil {
			return nil, err
		}
		s = &c
	}
	u.splits[string(key)] = s
	return s, nil
}

// Fitted is one trained arm.
type Fitted struct {
	Run     *recipe.Run
	Result  *recipe.Result
	History []train.EpochRecord
}

// Last returns the last epoch's record.
func (f *Fitted) Last() train.EpochRecord { return f.History[len(f.History)-1] }

// Fit trains arm on the unit's seed (recipe.Build and Run.Fit, with the unit's data)
// and saves its per-epoch records and summary under OUT/runs/CLAIM/ARM/seed-N.
func (u *Unit) Fit(ctx context.Context, arm Arm) (*Fitted, error) {
	r := u.prepare(arm.Recipe)
	s, err := u.Splits(r, false)
	if err != nil {
		return nil, err
	}
	dir := u.runDir(arm)
	opts := recipe.Options{Splits: s}
	if r.Optim.SecondOrder() && dir != "" {
		opts.OutDir = dir // second-order runs keep their records only there
	}
	run, err := r.Build(opts)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	res, err := run.Fit(ctx)
	if err != nil {
		return nil, fmt.Errorf("arm %s, seed %d: %w", arm.Name, u.Seed, err)
	}
	f := &Fitted{Run: run, Result: res}
	if run.Trainer != nil {
		f.History = run.Trainer.History()
	}
	if dir != "" {
		if err := u.save(dir, f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (u *Unit) runDir(arm Arm) string {
	if u.dir == "" {
		return ""
	}
	return filepath.Join(u.dir, arm.Name, fmt.Sprintf("seed-%d", u.Seed))
}

// save writes the records and the summary; model files are not kept (the lab's
// numbers are in lab.json, the curves in metrics.jsonl).
func (u *Unit) save(dir string, f *Fitted) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if f.History != nil {
		if err := writeRecords(filepath.Join(dir, train.MetricsFile), f.History); err != nil {
			return err
		}
	}
	for _, name := range []string{recipe.ModelFile, recipe.BestFile} {
		os.Remove(filepath.Join(dir, name))
	}
	return recipe.WriteJSON(filepath.Join(dir, recipe.SummaryFile), f.Result)
}

// SaveHistory writes records of arm (e.g. of an ensemble's member) as its run.
func (u *Unit) SaveHistory(arm Arm, res *recipe.Result, hist []train.EpochRecord) error {
	dir := u.runDir(arm)
	if dir == "" {
		return nil
	}
	return u.save(dir, &Fitted{Result: res, History: hist})
}

func writeRecords(path string, recs []train.EpochRecord) error {
	var b []byte
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b = append(append(b, line...), '\n')
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// TempDir returns a fresh folder for files a measurement needs only briefly (ensemble
// members); remove it when done.
func (u *Unit) TempDir() (string, error) { return os.MkdirTemp("", "temper-lab-") }

// Run runs the selected claims, each on seeds 1..N with both arms, and returns (and, with
// an OutDir, writes) the results. A claim whose run fails on some seed records the error
// and decides on the seeds that succeeded; only a cancelled ctx stops the lab.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	claims, err := Select(cfg.Claims)
	if err != nil {
		return nil, err
	}
	b := cfg.Budget
	if b.Name == "" {
		b = Quick
	}
	seeds := cfg.Seeds
	if seeds == 0 {
		seeds = b.Seeds
	}
	if seeds < 1 || seeds > 1000 {
		return nil, fmt.Errorf("lab: seeds %d out of range [1, 1000]", seeds)
	}
	threads := cfg.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if threads < 1 || threads > 1024 {
		return nil, fmt.Errorf("lab: threads %d out of range [1, 1024]", threads)
	}
	res := &Result{Budget: b.Name, Command: cfg.Command, Commit: cfg.Commit, CPU: cfg.CPU,
		Date: time.Now().UTC().Format(time.RFC3339), Pending: Pending}
	if cfg.OutDir != "" {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, err
		}
	}
	prog := newProgress(cfg.Progress, claims, seeds)
	start := time.Now()
	for _, c := range claims {
		cr, err := runClaim(ctx, c, b, seeds, threads, cfg.OutDir, prog)
		if err != nil {
			return nil, err
		}
		res.Claims = append(res.Claims, *cr)
		res.Seconds = page.Num(time.Since(start).Seconds())
		if cfg.OutDir != "" {
			if err := recipe.WriteJSON(filepath.Join(cfg.OutDir, page.LabFileName), res); err != nil {
				return nil, err
			}
		}
	}
	prog.done()
	if cfg.OutDir != "" {
		if err := WriteHTML(cfg.OutDir); err != nil {
			return nil, err
		}
		err := checkpoint.WriteFileAtomic(filepath.Join(cfg.OutDir, "lab.md"), func(w io.Writer) error { return WriteMarkdown(w, res) })
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// WriteHTML renders dir/lab.json and its runs as dir/lab.html (report/page).
func WriteHTML(dir string) error {
	rep, err := page.Load([]string{dir}, page.LoadOptions{})
	if err != nil {
		return err
	}
	rep.Title = "temper lab"
	return rep.Write(filepath.Join(dir, "lab.html"))
}

func runClaim(ctx context.Context, c Claim, b Budget, seeds, threads int, out string, prog *progress) (*ClaimResult, error) {
	a, bb := c.Arms(b)
	cr := &ClaimResult{Name: c.Name, Area: c.Area, Statement: c.Statement, Metric: c.Metric, Kind: string(c.Kind),
		Direction: c.Direction.String(), MinEffect: c.MinEffect, ArmA: a.Name, ArmB: bb.Name, NoteA: a.Note, NoteB: bb.Note,
		Paper: c.Paper, Details: map[string][]page.Num{}}
	if a.Recipe.Version != 0 {
		cr.RecipeA = a.Recipe.Marshal()
	}
	if bb.Recipe.Version != 0 {
		cr.RecipeB = bb.Recipe.Marshal()
	}
	dir := ""
	if out != "" {
		dir = filepath.Join(out, "runs", c.Name)
		os.RemoveAll(dir) // the runs of an earlier invocation
	}
	var va, vb []float64
	var errs []string
	t0 := time.Now()
	for s := 1; s <= seeds; s++ {
		u := &Unit{Claim: c, A: a, B: bb, Seed: uint64(s), Budget: b, Threads: threads, dir: dir,
			details: map[string]float64{}, splits: map[string]*recipe.Splits{}}
		prog.start(c, s)
		x, y, err := c.Run(ctx, u)
		prog.finish(c, s, x, y, err)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if err == nil && (!finite(x) || !finite(y)) {
			err = fmt.Errorf("a non-finite value (A %v, B %v)", x, y)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("seed %d: %v", s, err))
			continue
		}
		cr.Seeds = append(cr.Seeds, uint64(s))
		va, vb = append(va, x), append(vb, y)
		for k, v := range u.details {
			cr.Details[k] = append(cr.Details[k], page.Num(v))
		}
	}
	cr.Seconds = page.Num(time.Since(t0).Seconds())
	cr.A, cr.B = page.Nums(va), page.Nums(vb)
	st := Paired(va, vb)
	cr.MeanA, cr.SDA, cr.MeanB, cr.SDB = page.Num(st.MeanA), page.Num(st.SDA), page.Num(st.MeanB), page.Num(st.SDB)
	cr.Diff, cr.SDDiff, cr.Lo, cr.Hi = page.Num(st.Diff), page.Num(st.SDDiff), page.Num(st.Lo), page.Num(st.Hi)
	cr.Verdict, cr.Reason = Decide(c.Kind, c.Direction, c.MinEffect, st)
	if len(errs) > 0 {
		cr.Error = strings.Join(errs, "; ")
	}
	if len(cr.Details) == 0 {
		cr.Details = nil
	}
	return cr, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
