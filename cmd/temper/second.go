package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/optim/second"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

func isSecondOrder(name string) bool {
	return name == "lbfgs" || name == "bfgs" || name == "newton"
}

// runSecondOrder trains with Newton, BFGS or L-BFGS over the flattened parameters. In
// full-batch mode each of the --epochs is one optimizer step of up to --max-iter
// iterations on the whole training set; in minibatch mode (--batch N) each epoch is one
// step per minibatch. Learning rate and momentum flags do not apply; --weight-decay adds
// (λ/2)‖θ‖² to the objective.
func runSecondOrder(c runConfig, out string, quiet bool, stdout io.Writer) error {
	kernel.SetThreads(c.Threads)
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	root := rng.New(c.Seed)
	initRand, dataRand := root.Split(), root.Split()
	m, err := buildModel(c, trainSet.Shape(), trainSet.Classes(), initRand)
	if err != nil {
		return err
	}
	batch := 0
	if !c.FullBatch {
		batch = c.Batch
	}
	obj, err := train.NewModelObjective(m, trainSet, 1000, batch, c.WeightDecay, dataRand)
	if err != nil {
		return err
	}
	n := obj.Dim()
	x0 := obj.Params()
	var opt second.Optimizer
	switch c.Optim {
	case "lbfgs":
		opt, err = second.NewLBFGS(x0, second.LBFGSConfig{MaxIter: c.MaxIter, History: c.History})
	case "bfgs":
		opt, err = second.NewBFGS(x0, second.BFGSConfig{MaxIter: c.MaxIter})
	case "newton":
		opt, err = second.NewNewton(x0, second.NewtonConfig{MaxIter: c.MaxIter})
	}
	if err != nil {
		if errors.Is(err, second.ErrTooLarge) {
			return usagef("--optim %s with --model %s (%d parameters): %v", c.Optim, c.Model, n, err)
		}
		return usageError{err}
	}
	mode := "full-batch"
	if !c.FullBatch {
		mode = fmt.Sprintf("minibatch %d", c.Batch)
	}
	fmt.Fprintf(stdout, "training %s (%d parameters) on %d MNIST images with %s (%s), %d steps of up to %d iterations, %d threads\n",
		c.Model, n, trainSet.Len(), c.Optim, mode, c.Epochs, c.MaxIter, c.Threads)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	mf, err := os.Create(filepath.Join(out, train.MetricsFile))
	if err != nil {
		return err
	}
	defer mf.Close()
	var trainSecs, lastLoss float64
	for ep := 1; ep <= c.Epochs; ep++ {
		t0 := time.Now()
		var res second.Result
		if c.FullBatch {
			res, err = second.Minimize(opt, obj, 1)
		} else {
			res, err = second.MinimizeBatches(opt, obj, 1)
		}
		trainSecs += time.Since(t0).Seconds()
		if err != nil {
			return fmt.Errorf("%s step %d: %w", c.Optim, ep, err)
		}
		obj.SetParams(opt.X())
		lastLoss = res.Loss
		testLoss, testAcc, err := train.Evaluate(m, testSet, 1000, nil, nil)
		if err != nil {
			return err
		}
		rec := map[string]any{"epoch": ep, "objective": res.Loss, "iterations": opt.Iters(), "evaluations": opt.Evals(),
			"passes": obj.Passes(), "test_loss": testLoss, "test_accuracy": testAcc, "train_seconds": trainSecs}
		b, _ := json.Marshal(rec)
		fmt.Fprintln(mf, string(b))
		if !quiet {
			fmt.Fprintf(stdout, "step %d/%d: objective %.5f | %d iterations, %d evaluations, %.1f passes over the data | test loss %.4f acc %.2f%% | %.1fs\n",
				ep, c.Epochs, res.Loss, opt.Iters(), opt.Evals(), obj.Passes(), testLoss, 100*testAcc, trainSecs)
		}
		if c.FullBatch && res.Reason.Converged() {
			fmt.Fprintf(stdout, "stopped: %v\n", res.Reason)
			break
		}
	}
	// Report the full-batch objective at the final point in both modes (a minibatch step's
	// loss is one batch's); this evaluation is not counted in the passes.
	full, err := train.NewModelObjective(m, trainSet, 1000, 0, c.WeightDecay, nil)
	if err != nil {
		return err
	}
	x := obj.Params()
	if lastLoss, err = full.Eval(x, make([]float64, len(x))); err != nil {
		return err
	}
	testLoss, testAcc, err := train.Evaluate(m, testSet, 1000, nil, nil)
	if err != nil {
		return err
	}
	if err := saveModel(filepath.Join(out, "model.safetensors"), m, c); err != nil {
		return err
	}
	s := map[string]any{"model": c.Model, "optim": c.Optim, "full_batch": c.FullBatch, "epochs": c.Epochs, "threads": c.Threads,
		"kernel": kernel.Name(), "params": n, "objective": lastLoss, "test_accuracy": testAcc, "test_loss": testLoss,
		"train_seconds": trainSecs, "samples_per_second": obj.Passes() * float64(trainSet.Len()) / trainSecs,
		"passes": obj.Passes(), "iterations": opt.Iters(), "evaluations": opt.Evals(), "config": c}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy: %.4f (test loss %.4f); full-batch objective %.5f after %.1f passes over the data; training took %.2fs; wrote %s\n",
		testAcc, testLoss, lastLoss, obj.Passes(), trainSecs, out)
	return nil
}
