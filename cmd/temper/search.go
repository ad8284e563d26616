package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
)

func init() { commands = append(commands, newSearchCmd) }

// parseRange parses "LO,HI" (or "LO:HI", "LO..HI") with 0 < LO <= HI < ∞.
func parseRange(flag, s string) (lrfind.Range, error) {
	var parts []string
	for _, sep := range []string{",", "..", ":"} {
		if strings.Contains(s, sep) {
			parts = strings.SplitN(s, sep, 2)
			break
		}
	}
	if len(parts) != 2 {
		return lrfind.Range{}, usagef("--%s %q: want LO,HI (e.g. 1e-4,1)", flag, s)
	}
	var v [2]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return lrfind.Range{}, usagef("--%s %q: %q is not a number", flag, s, p)
		}
		v[i] = f
	}
	r := lrfind.Range{Lo: v[0], Hi: v[1]}
	if !(r.Lo > 0) || !(r.Hi >= r.Lo) || math.IsInf(r.Hi, 0) {
		return lrfind.Range{}, usagef("--%s %q out of range: want 0 < LO <= HI < ∞", flag, s)
	}
	return r, nil
}

// searchFlags are the flags of a coarse-to-fine search (temper search, temper plan
// search): the run flags of lrfindGroups with the search's smaller training set, and the
// search's own.
type searchFlags struct {
	rf               *runFlags
	sc               lrfind.SearchConfig
	lrRange, wdRange string
}

func addSearchFlags(f *pflag.FlagSet) *searchFlags {
	sf := &searchFlags{}
	sf.rf = addRunFlags(f, lrfindGroups, func(r *recipe.Recipe) { r.Data.TrainSize, r.Data.ValFraction = 10000, 0.1 })
	f.Lookup("train-size").Usage = "use the first N training examples, validation part included (0 = all)"
	f.Lookup("val-fraction").Usage = "fraction of the training examples held out (stratified) to rank the trials"
	f.Lookup("threads").Usage = "trials run at once (each with one kernel thread)"
	f.StringVar(&sf.lrRange, "lr-range", "1e-4,1", "first round's learning-rate range LO,HI (sampled log-uniformly)")
	f.StringVar(&sf.wdRange, "wd-range", "", "first round's weight-decay range LO,HI (default: not searched, --weight-decay)")
	f.IntVar(&sf.sc.Trials, "trials", 8, "trials per round")
	f.IntVar(&sf.sc.Rounds, "rounds", 2, "rounds (1 coarse + refinements)")
	f.IntVar(&sf.sc.TopK, "top", 3, "best trials that delimit the next round's range")
	f.IntVar(&sf.sc.Epochs, "epochs", 1, "training budget of each trial in epochs (unless --steps)")
	f.IntVar(&sf.sc.Steps, "steps", 0, "training budget of each trial in optimizer steps (0: use --epochs)")
	return sf
}

// resolve returns the search's recipe and configuration, or a usage error.
func (sf *searchFlags) resolve() (recipe.Recipe, lrfind.SearchConfig, error) {
	rf, sc := sf.rf, sf.sc
	if err := rf.refuse("the search samples the learning rate in --lr-range", "lr"); err != nil {
		return recipe.Recipe{}, sc, err
	}
	r, err := rf.resolve()
	if err != nil {
		return r, sc, err
	}
	if sc.LR, err = parseRange("lr-range", sf.lrRange); err != nil {
		return r, sc, err
	}
	if sf.wdRange != "" {
		if sc.WD, err = parseRange("wd-range", sf.wdRange); err != nil {
			return r, sc, err
		}
		if err := rf.refuse("the search samples the weight decay in --wd-range", "weight-decay"); err != nil {
			return r, sc, err
		}
	}
	switch {
	case sc.Trials < 1:
		return r, sc, usagef("--trials %d out of range [1, ∞)", sc.Trials)
	case sc.Rounds < 1:
		return r, sc, usagef("--rounds %d out of range [1, ∞)", sc.Rounds)
	case sc.TopK < 1:
		return r, sc, usagef("--top %d out of range [1, ∞)", sc.TopK)
	case sc.Epochs < 1:
		return r, sc, usagef("--epochs %d out of range [1, ∞)", sc.Epochs)
	case sc.Steps < 0:
		return r, sc, usagef("--steps %d out of range [0, ∞)", sc.Steps)
	case !(r.Data.ValFraction > 0):
		return r, sc, usagef("--val-fraction %v out of range (0, 1): the search ranks its trials on held-out training examples", r.Data.ValFraction)
	}
	return r, sc, nil
}

func newSearchCmd() *cobra.Command {
	var sf *searchFlags
	var out string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Coarse-to-fine random search of the learning rate (and weight decay)",
		Long: `Search the learning rate (and, with --wd-range, the weight decay) by coarse-to-fine
random search (Bergstra & Bengio 2012; CS231n lecture 7): each round samples --trials
settings log-uniformly in its range, trains each from the same initialization with the
same data order for a short budget (--epochs, or --steps optimizer steps), and ranks them
by accuracy on a held-out part of the training examples (--val-fraction, stratified; the
test set is never used). The next round samples in the log-range spanned by the --top best trials so
far (padded by a tenth of the current width on each side, and at most half the current
width around the best).

Trials run in parallel, up to --threads at a time, each with single-threaded kernels; the
results depend on --seed only, not on --threads. Prints the ranked trials and
"best: lr=... wd=... val_acc=..."; --out DIR also writes search.csv and search.png
(held-out accuracy against learning rate, one line per round).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, sc, err := sf.resolve()
			if err != nil {
				return err
			}
			var progress io.Writer = cmd.ErrOrStderr()
			if quiet {
				progress = nil
			}
			return runSearch(cmd.Context(), r, sc, out, progress, cmd.OutOrStdout())
		},
	}
	sf = addSearchFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "folder for search.csv and search.png (default: write nothing)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no per-trial progress lines")
	return cmd
}

func runSearch(ctx context.Context, r recipe.Recipe, sc lrfind.SearchConfig, out string, progress, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	total, done := sc.Trials*sc.Rounds, 0
	if progress != nil {
		sc.OnTrial = func(t lrfind.Trial) {
			done++
			fmt.Fprintf(progress, "trial %d/%d (round %d): lr %.3g wd %.3g -> val acc %.4f, val loss %.4f%s\n",
				done, total, t.Round, t.LR, t.WD, t.ValAccuracy, t.ValLoss, t.DivergedNote())
		}
	}
	budget := fmt.Sprintf("%d epoch(s)", sc.Epochs)
	if sc.Steps > 0 {
		budget = fmt.Sprintf("%d steps", sc.Steps)
	}
	wdDesc := fmt.Sprintf("wd %g", r.Optim.WeightDecay)
	if sc.WD != (lrfind.Range{}) {
		wdDesc = "wd in " + sc.WD.String()
	}
	fmt.Fprintf(stdout, "search: %s, %s, lr in %s, %s; %d rounds x %d trials of %s each, batch %d, %d at a time\n",
		r.Model.Name, optimName(r), sc.LR, wdDesc, sc.Rounds, sc.Trials, budget, r.Batch, r.Threads)
	res, _, err := r.Search(ctx, sc)
	if err != nil {
		return recipeErr(err)
	}
	if err := res.WriteTable(stdout); err != nil || out == "" {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	csvPath, pngPath := filepath.Join(out, "search.csv"), filepath.Join(out, "search.png")
	if err := res.WriteCSV(csvPath); err != nil {
		return err
	}
	if err := res.Plot(fmt.Sprintf("random search: %s, %s", r.Model.Name, optimName(r))).Save(pngPath); err != nil {
		return fmt.Errorf("search: plotting %s: %w", pngPath, err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s and %s\n", csvPath, pngPath)
	return err
}
