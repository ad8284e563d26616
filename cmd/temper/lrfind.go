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
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/report"
	"github.com/temperml/temper/rng"
)

func init() { commands = append(commands, newLRFindCmd) }

// addModelFlags registers the flags that define the model, optimizer and data of a run
// (those of `temper train` that lrfind and search share).
func addModelFlags(cmd *cobra.Command, c *runConfig) {
	f := cmd.Flags()
	f.StringVar(&c.Model, "model", c.Model, "model: "+fmt.Sprint(nn.ModelNames()))
	f.StringVar(&c.Data, "data", "", "folder with the MNIST IDX files (default: the GoMNIST module in the Go module cache)")
	f.IntVar(&c.Batch, "batch", c.Batch, "minibatch size")
	f.StringVar(&c.Optim, "optim", c.Optim, "optimizer: sgd (with --momentum/--nesterov), "+fmt.Sprint(optim.Names))
	f.Float64Var(&c.Momentum, "momentum", c.Momentum, "momentum (sgd, rmsprop)")
	f.BoolVar(&c.Nesterov, "nesterov", c.Nesterov, "Nesterov momentum (sgd)")
	f.Float64Var(&c.LabelSmoothing, "label-smoothing", c.LabelSmoothing, "label smoothing of the cross-entropy target")
	f.IntVar(&c.TrainSize, "train-size", c.TrainSize, "use the first N training images only (0 = all)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (init, data order, sampling)")
}

// positive checks a float flag is in (0, ∞).
func positive(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return usagef("--%s %v out of range (0, ∞)", name, v)
	}
	return nil
}

func newLRFindCmd() *cobra.Command {
	c := defaultRunConfig()
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
			if err := c.validate(); err != nil {
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
			lc.BatchSize, lc.LabelSmoothing = c.Batch, c.LabelSmoothing
			if err := lc.Validate(); err != nil {
				return usageError{err}
			}
			return runLRFind(cmd.Context(), c, lc, method, out, cmd.OutOrStdout())
		},
	}
	addModelFlags(cmd, &c)
	f := cmd.Flags()
	f.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay during the sweep")
	f.IntVar(&c.Threads, "threads", c.Threads, "worker threads for the kernels")
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

func runLRFind(ctx context.Context, c runConfig, lc lrfind.Config, method lrfind.Method, out string, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	kernel.SetThreads(c.Threads)
	trainSet, _, err := loadData(c)
	if err != nil {
		return err
	}
	p, err := setup(c, trainSet)
	if err != nil {
		return err
	}
	m, opt := p.model, p.opt
	// The sweep's data order has its own stream, derived from the seed.
	res, err := lrfind.RangeTest(ctx, m, opt, trainSet, lc, rng.New(c.Seed).Split().Split())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "range test: %s, %s, wd %g, lr %.3g -> %.3g over %d steps, batch %d, on %d MNIST images\n",
		c.Model, optimName(c), c.WeightDecay, lc.StartLR, lc.EndLR, lc.Steps, c.Batch, trainSet.Len())
	if res.Stopped != "" {
		fmt.Fprintf(stdout, "stopped after %d steps (%s) at lr %.3g\n", len(res.LRs), res.Stopped, lastOr(res.LRs, 0))
	}
	fmt.Fprintf(stdout, "suggestions (smoothed loss, points %d..%d; noise %.2g):\n", res.Lo, res.Hi-1, res.Noise)
	chosen := 0.0
	for _, s := range res.Suggestions {
		mark := ""
		if s.Method == method {
			mark, chosen = "  <-", s.LR
		}
		if s.Err != nil {
			fmt.Fprintf(stdout, "  %-8s none (%v)%s\n", s.Method, s.Err, mark)
			continue
		}
		fmt.Fprintf(stdout, "  %-8s %.3g%s\n", s.Method, s.LR, mark)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("step,lr,loss,smoothed\n")
	for i := range res.LRs {
		fmt.Fprintf(&b, "%d,%s,%s,%s\n", i, fmtFloat(res.LRs[i]), fmtFloat(res.Losses[i]), fmtFloat(res.Smoothed[i]))
	}
	csvPath := filepath.Join(out, "lrfind.csv")
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		return err
	}
	pngPath := filepath.Join(out, "lrfind.png")
	// Like fastai's plot, leave out the last SkipEnd points where the loss explodes.
	hi := res.Hi
	if hi <= res.Lo {
		hi = len(res.LRs)
	}
	plot := report.LRFindPlot(res.LRs[:hi], res.Losses[:hi], res.Smoothed[:hi], chosen, string(method))
	plot.Title = fmt.Sprintf("LR range test: %s, %s", c.Model, optimName(c))
	if err := plot.Save(pngPath); err != nil {
		return fmt.Errorf("lrfind: plotting %s: %w", pngPath, err)
	}
	if chosen <= 0 {
		return fmt.Errorf("lrfind: no %s suggestion: the curve is too short (%d steps taken; lower --start-lr or raise --steps)", method, len(res.LRs))
	}
	fmt.Fprintf(stdout, "suggested lr: %.3g (%s)\n", chosen, method)
	fmt.Fprintf(stdout, "wrote %s and %s\n", pngPath, csvPath)
	return nil
}

func optimName(c runConfig) string {
	if c.Optim == "sgd" {
		switch {
		case c.Momentum > 0 && c.Nesterov:
			return fmt.Sprintf("sgd nesterov %g", c.Momentum)
		case c.Momentum > 0:
			return fmt.Sprintf("sgd momentum %g", c.Momentum)
		}
	}
	return c.Optim
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func lastOr(s []float64, d float64) float64 {
	if len(s) == 0 {
		return d
	}
	return s[len(s)-1]
}
