package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
)

func init() { commands = append(commands, newLRFindCmd) }

// positive checks a float flag is in (0, ∞).
func positive(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return usagef("--%s %v out of range (0, ∞)", name, v)
	}
	return nil
}

// lrfindGroups are the run flags of lrfind and search: the data, model and optimizer
// (whose learning rate they choose) and the batch.
const lrfindGroups = dataFlags | modelFlags | optimFlags | batchFlags

func newLRFindCmd() *cobra.Command {
	var rf *runFlags
	var lc lrfind.Config
	var out, suggest string
	var noStop bool
	cmd := &cobra.Command{
		Use:   "lrfind",
		Short: "LR range test: sweep the learning rate exponentially and suggest one",
		Long: `Run the learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training
Neural Networks"; fastai's lr_find): train for --steps batches while the learning rate
grows exponentially from --start-lr to --end-lr, smooth the loss (EMA, beta 0.98, bias-
corrected) and stop once it exceeds 4x its best value. The model and optimizer are
restored afterwards (the command saves nothing else).

Four rules read a learning rate off the smoothed curve (fastai's): valley (the default:
about half-way down the longest descending stretch; temper counts a point as descending
only if it falls by more than --valley-sigmas times the curve's noise, estimated from the
first steps — a negative value gives fastai's rule exactly), steep (where the loss falls fastest
against log lr), minimum (the lr of the lowest loss / 10) and slide (fastai's interval
slide rule). All four are printed; --suggest picks the one on the "suggested lr:" line
and marked in lrfind.png. The curve goes to lrfind.csv (step,lr,loss,smoothed).

The optimizer's other hyperparameters (momentum, weight decay) are the run's: sweep with
the settings you will train with.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if noStop {
				lc.NoStop = true
			}
			if err := rf.refuse("the range test sweeps the learning rate from --start-lr to --end-lr", "lr"); err != nil {
				return err
			}
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			method, err := lrfind.ParseMethod(suggest)
			if err != nil {
				return usagef("--suggest %q unknown (want one of %v)", suggest, lrfind.Methods)
			}
			for _, p := range []struct {
				name string
				v    float64
			}{{"start-lr", lc.StartLR}, {"end-lr", lc.EndLR}} {
				if err := positive(p.name, p.v); err != nil {
					return err
				}
			}
			switch {
			case lc.EndLR <= lc.StartLR:
				return usagef("--end-lr %v out of range (--start-lr %v, ∞)", lc.EndLR, lc.StartLR)
			case lc.Steps < 2:
				return usagef("--steps %d out of range [2, ∞)", lc.Steps)
			case !(lc.DivergeFactor > 1) || math.IsInf(lc.DivergeFactor, 0):
				return usagef("--diverge %v out of range (1, ∞)", lc.DivergeFactor)
			case !(lc.Beta >= 0 && lc.Beta < 1):
				return usagef("--beta %v out of range [0, 1)", lc.Beta)
			case math.IsNaN(lc.ValleySigmas) || math.IsInf(lc.ValleySigmas, 0):
				return usagef("--valley-sigmas %v out of range (-∞, ∞)", lc.ValleySigmas)
			}
			if lc.Beta == 0 {
				lc.NoSmoothing = true
			}
			lc.BatchSize, lc.LabelSmoothing = r.Batch, r.LabelSmoothing
			if err := lc.Validate(); err != nil {
				return usageError{err}
			}
			return runLRFind(cmd.Context(), r, lc, method, out, cmd.OutOrStdout())
		},
	}
	rf = addRunFlags(cmd.Flags(), lrfindGroups)
	f := cmd.Flags()
	f.Float64Var(&lc.StartLR, "start-lr", 1e-7, "first learning rate of the sweep")
	f.Float64Var(&lc.EndLR, "end-lr", 10, "learning rate the sweep tends to (step i uses start·(end/start)^(i/steps))")
	f.IntVar(&lc.Steps, "steps", 100, "number of batches of the sweep")
	f.Float64Var(&lc.Beta, "beta", 0.98, "smoothing of the loss (0 = none)")
	f.Float64Var(&lc.DivergeFactor, "diverge", 4, "stop when the smoothed loss exceeds this times its best")
	f.Float64Var(&lc.ValleySigmas, "valley-sigmas", 3, "valley ignores descents smaller than this many noise deviations (negative: fastai's rule exactly)")
	f.BoolVar(&noStop, "no-stop", false, "run all --steps even after the loss diverges")
	f.StringVar(&suggest, "suggest", string(lrfind.Valley), "suggestion rule to report and mark: valley, steep, minimum or slide")
	f.StringVar(&out, "out", ".", "folder for lrfind.png and lrfind.csv")
	return cmd
}

func runLRFind(ctx context.Context, r recipe.Recipe, lc lrfind.Config, method lrfind.Method, out string, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	kernel.SetThreads(r.Threads) // main owns the process default thread count
	res, s, err := r.RangeTest(ctx, lc)
	if err != nil {
		return recipeErr(err)
	}
	fmt.Fprintf(stdout, "range test: %s, %s, wd %g, lr %.3g -> %.3g over %d steps, batch %d, on %d examples of %s\n",
		r.Model.Name, optimName(r), r.Optim.WeightDecay, lc.StartLR, lc.EndLR, lc.Steps, r.Batch, s.Train.Len(), s.Name)
	if res.Stopped != "" {
		fmt.Fprintf(stdout, "stopped after %d steps (%s) at lr %.3g\n", len(res.LRs), res.Stopped, res.LRs[len(res.LRs)-1])
	}
	chosen := res.WriteSuggestions(stdout, method)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	csvPath, pngPath := filepath.Join(out, "lrfind.csv"), filepath.Join(out, "lrfind.png")
	if err := res.WriteCSV(csvPath); err != nil {
		return err
	}
	if err := res.Plot(method, fmt.Sprintf("LR range test: %s, %s", r.Model.Name, optimName(r))).Save(pngPath); err != nil {
		return fmt.Errorf("lrfind: plotting %s: %w", pngPath, err)
	}
	if chosen <= 0 {
		return fmt.Errorf("lrfind: no %s suggestion: the curve is too short (%d steps taken; lower --start-lr or raise --steps)", method, len(res.LRs))
	}
	fmt.Fprintf(stdout, "suggested lr: %.3g (%s)\nwrote %s and %s\n", chosen, method, pngPath, csvPath)
	return nil
}

func optimName(r recipe.Recipe) string {
	o := r.Optim
	if o.Name == "sgd" {
		switch {
		case o.Momentum > 0 && o.Nesterov:
			return fmt.Sprintf("sgd nesterov %g", o.Momentum)
		case o.Momentum > 0:
			return fmt.Sprintf("sgd momentum %g", o.Momentum)
		}
	}
	return o.Name
}
