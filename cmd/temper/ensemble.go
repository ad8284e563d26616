package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

func init() { commands = append(commands, newEnsembleCmd) }

func newEnsembleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ensemble",
		Short: "Train and evaluate ensembles (independent members, snapshot ensembles)",
		Long: `Ensembles of models whose predicted probabilities are averaged.

  temper ensemble train --members K      K members from seeds SEED, SEED+1, ... (in parallel)
  temper ensemble snapshot --cycles C    one run, cosine warm restarts, a snapshot per cycle
  temper ensemble eval DIR               per-member, mean-of-members and ensemble metrics

Each writes DIR/ensemble.json, the manifest listing the member files (relative paths and
SHA-256 checksums): the folder can be moved, and a missing or altered member is an error.
Every run flag of 'temper train' applies, with the same defaults; weight averaging
(Polyak/EMA, SWA) is --ema and --swa-start on 'temper train' and 'ensemble train' alike.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newEnsembleTrainCmd(), newEnsembleSnapshotCmd(), newEnsembleEvalCmd())
	return cmd
}

func newEnsembleTrainCmd() *cobra.Command {
	var out string
	var quiet, overwrite bool
	var rf *runFlags
	var ef *ensembleFlags
	e := new(recipe.Ensemble)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train an independent ensemble: K members from different seeds",
		Long: `Train K members that differ by seed (member i is the recipe of 'temper train' with the
same flags and --seed SEED+i, so member 0 is bit for bit the model 'temper train --seed SEED'
trains when the members have the same thread count) and optionally by learning rate (--lrs)
or architecture (--models), then evaluate the ensemble on the test set.

Members train in parallel when --threads allows: min(threads, members) at a time (capped by
--parallel and by the memory available), each with threads/min(threads, members) kernel
threads. A member's weights depend only on its recipe and that thread count, never on how
many members actually train at once.

OUT receives OUT/member-I/ (a 'temper train' folder) and OUT/ensemble.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			if err := ef.resolve(r); err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join("runs", "ensemble-"+r.Model.Name)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stdout := cmd.OutOrStdout()
			opts := recipe.EnsembleOptions{OutDir: out, Log: stdout, OutMode: outMode(overwrite)}
			if !quiet {
				opts.Callbacks = func(_, workers int) []train.Callback {
					if workers > 1 {
						return nil // interleaved bars would be unreadable
					}
					return []train.Callback{train.NewProgress(cmd.ErrOrStderr())}
				}
			}
			res, err := e.Train(ctx, opts)
			if err != nil {
				return recipeErr(err)
			}
			sum := 0.0
			for _, m := range res.Members {
				sum += m.TrainSeconds
			}
			fmt.Fprintf(stdout, "trained %d members in %.1fs wall time (%.1fs of training summed over members); wrote %s\n",
				e.Members, res.WallSeconds, sum, filepath.Join(out, ensemble.ManifestFile))
			return evalEnsemble(out, "", 1000, nil, 0, r.Threads, stdout)
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	ef = addEnsembleFlags(cmd.Flags(), rf, e)
	f := cmd.Flags()
	f.IntVar(&e.Parallel, "parallel", e.Parallel, "at most this many members at once (0 = min(threads, members), limited by memory)")
	f.StringVar(&out, "out", "", "output folder (default runs/ensemble-MODEL)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(&overwrite, "overwrite", false, "replace the results of an earlier run in --out (removed before training)")
	return cmd
}

// ensembleFlags are the flags that describe an independent ensemble's members
// (temper ensemble train, temper plan ensemble).
type ensembleFlags struct {
	rf          *runFlags
	e           *recipe.Ensemble
	lrs, models string
}

func addEnsembleFlags(f *pflag.FlagSet, rf *runFlags, e *recipe.Ensemble) *ensembleFlags {
	*e = recipe.DefaultEnsemble(recipe.Default())
	ef := &ensembleFlags{rf: rf, e: e}
	f.IntVar(&e.Members, "members", e.Members, "number of members K")
	f.StringVar(&ef.lrs, "lrs", "", "per-member learning rates, comma-separated, cycled over the members (default --lr)")
	f.StringVar(&ef.models, "models", "", "per-member models, comma-separated, cycled over the members (default --model)")
	f.StringVar(&e.Combine, "combine", e.Combine, "how the ensemble combines: probabilities, logits or vote")
	return ef
}

// resolve completes the ensemble with the run flags' recipe r and validates it.
func (ef *ensembleFlags) resolve(r recipe.Recipe) error {
	e := ef.e
	e.Recipe = r
	var err error
	if e.LRs, err = parseFloats(ef.lrs); err != nil {
		return usagef("--lrs: %v", err)
	}
	e.Models = nil
	if ef.models != "" {
		for _, m := range strings.Split(ef.models, ",") {
			e.Models = append(e.Models, strings.TrimSpace(m))
		}
	}
	if err := e.Validate(); err != nil {
		return ef.rf.usage(err)
	}
	return nil
}

func parseFloats(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a learning rate in (0, ∞)", p)
		}
		out = append(out, v)
	}
	return out, nil
}

func newEnsembleSnapshotCmd() *cobra.Command {
	var out string
	var quiet, overwrite bool
	var rf *runFlags
	sn := recipe.DefaultSnapshot(recipe.Default())
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Train a snapshot ensemble: one run, a snapshot at the end of each cosine cycle",
		Long: `Train one model with cosine annealing and warm restarts (Huang et al. 2017: the learning
rate falls from --lr to 0 within each of --cycles cycles of epochs/cycles epochs and restarts;
--schedule is not used), save a snapshot at the end of each cycle and ensemble the last
--keep snapshots. The training cost is that of one model.

OUT receives snapshot-01.safetensors, ... (each loadable by 'temper eval' and 'temper
predict'), metrics.jsonl, checkpoint.safetensors (the training state) and ensemble.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			sn.Recipe = r
			if err := sn.Validate(); err != nil {
				return rf.usage(err)
			}
			if out == "" {
				out = filepath.Join("runs", "snapshot-"+r.Model.Name)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stdout := cmd.OutOrStdout()
			opts := recipe.Options{OutDir: out, Log: stdout, OutMode: outMode(overwrite)}
			if !quiet {
				opts.Callbacks = []train.Callback{train.NewProgress(cmd.ErrOrStderr())}
			}
			res, err := sn.Train(ctx, opts)
			if err != nil {
				return recipeErr(err)
			}
			fmt.Fprintf(stdout, "took %d snapshots in %.1fs of training; the ensemble uses the last %d; wrote %s\n",
				res.Taken, res.TrainSeconds, len(res.Manifest.Members), filepath.Join(out, ensemble.ManifestFile))
			return evalEnsemble(out, "", 1000, nil, 0, r.Threads, stdout)
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	f := cmd.Flags()
	f.IntVar(&sn.Cycles, "cycles", sn.Cycles, "number of learning-rate cycles (= snapshots); must divide --epochs")
	f.IntVar(&sn.Keep, "keep", sn.Keep, "ensemble the last M snapshots (0 = all)")
	f.StringVar(&out, "out", "", "output folder (default runs/snapshot-MODEL)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar or per-epoch lines")
	f.BoolVar(&overwrite, "overwrite", false, "replace the results of an earlier run in --out (removed before training)")
	return cmd
}

func newEnsembleEvalCmd() *cobra.Command {
	var source, combine string
	var threads, batch, last int
	cmd := &cobra.Command{
		Use:   "eval MANIFEST_OR_DIR",
		Short: "Evaluate an ensemble on its test set: each member, their mean, the ensemble",
		Long: `Load the ensemble described by MANIFEST_OR_DIR (ensemble.json or its folder), verify every
member's checksum, and print accuracy and NLL (mean negative log-likelihood, nats) of each
member, of the average member, and of the ensemble combined by averaging probabilities,
averaging logits and majority vote, on the test split of the members' data (or --data).`,
		Args: exactArgs(1, "MANIFEST_OR_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if threads < 1 {
				return usagef("--threads %d out of range [1, ∞)", threads)
			}
			if batch < 1 {
				return usagef("--batch %d out of range [1, ∞)", batch)
			}
			if last < 0 {
				return usagef("--last %d out of range [0, ∞) (0 = all members)", last)
			}
			var comb *ensemble.Combine
			if cmd.Flags().Changed("combine") {
				cb, err := ensemble.ParseCombine(combine)
				if err != nil {
					return usagef("--combine: %v", err)
				}
				comb = &cb
			}
			if _, err := os.Stat(args[0]); err != nil {
				return usagef("ensemble eval: %v", err)
			}
			if mp := ensemble.ManifestPath(args[0]); mp != args[0] {
				if _, err := os.Stat(mp); err != nil {
					return usagef("ensemble eval: %s holds no %s (not an ensemble folder)", args[0], ensemble.ManifestFile)
				}
			}
			return evalEnsemble(args[0], source, batch, comb, last, threads, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&source, "data", "", "test on this data source's test split (default: the members')")
	cmd.Flags().IntVar(&threads, "threads", runtime.GOMAXPROCS(0), "worker threads for the kernels")
	cmd.Flags().IntVar(&batch, "batch", 1000, "evaluation batch size")
	cmd.Flags().StringVar(&combine, "combine", "", "override the manifest's rule: probabilities, logits or vote")
	cmd.Flags().IntVar(&last, "last", 0, "use only the last M members (e.g. the last M snapshots; 0 = all)")
	return cmd
}

// evalEnsemble evaluates the ensemble at p on its test set (or source's) and prints the
// table.
func evalEnsemble(p, source string, batch int, comb *ensemble.Combine, last, threads int, stdout io.Writer) error {
	kernel.SetThreads(threads) // main owns the process default; the ensemble evaluates with it
	r, man, chosen, err := recipe.EvaluateEnsemble(p, source, batch, last)
	if err != nil {
		return recipeErr(err)
	}
	if comb != nil {
		chosen = *comb
	}
	return r.Write(stdout, man, chosen)
}
