package recipe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/optim/second"
	"github.com/temperml/temper/train"
)

// SecondOrderResult holds what a Newton, BFGS or L-BFGS run reports besides the metrics.
type SecondOrderResult struct {
	FullBatch   bool    `json:"full_batch"`
	Objective   float64 `json:"objective"` // full-batch objective at the final point
	Passes      float64 `json:"passes"`    // passes over the training data
	Iterations  int     `json:"iterations"`
	Evaluations int     `json:"evaluations"`
	Stopped     string  `json:"stopped,omitempty"` // convergence reason in full-batch mode
}

// SecondOrderRecord is one line of a second-order run's metrics.jsonl.
type SecondOrderRecord struct {
	Epoch        int     `json:"epoch"`
	Objective    float64 `json:"objective"`
	Iterations   int     `json:"iterations"`
	Evaluations  int     `json:"evaluations"`
	Passes       float64 `json:"passes"`
	ValLoss      float64 `json:"val_loss,omitempty"`
	ValAccuracy  float64 `json:"val_accuracy,omitempty"`
	TrainSeconds float64 `json:"train_seconds"`
}

// ErrTooLarge is wrapped when a second-order optimizer's memory would exceed its bound.
var ErrTooLarge = second.ErrTooLarge

// fitSecondOrder trains with Newton, BFGS or L-BFGS over the flattened parameters. In
// full-batch mode each epoch is one optimizer step of up to MaxIter iterations on the
// whole training split; in minibatch mode one step per minibatch. The weight decay adds
// (λ/2)‖θ‖² to the objective.
func (run *Run) fitSecondOrder(ctx context.Context) (*Result, error) {
	r, s, m := run.Recipe, run.Data, run.Model
	batch := 0
	if !r.Optim.FullBatch {
		batch = r.Batch
	}
	obj, err := train.NewModelObjective(m, s.Train, 1000, batch, r.Optim.WeightDecay, r.streams().data)
	if err != nil {
		return nil, err
	}
	x0 := obj.Params()
	var opt second.Optimizer
	switch r.Optim.Name {
	case "lbfgs":
		opt, err = second.NewLBFGS(x0, second.LBFGSConfig{MaxIter: r.Optim.MaxIter, History: r.Optim.History})
	case "bfgs":
		opt, err = second.NewBFGS(x0, second.BFGSConfig{MaxIter: r.Optim.MaxIter})
	case "newton":
		opt, err = second.NewNewton(x0, second.NewtonConfig{MaxIter: r.Optim.MaxIter})
	}
	if err != nil {
		return nil, invalidf("recipe: optim %s with model %s (%d parameters): %w", r.Optim.Name, r.Model.Name, obj.Dim(), err)
	}
	out := run.opts.OutDir
	var records []SecondOrderRecord
	sres := &SecondOrderResult{FullBatch: r.Optim.FullBatch}
	var trainSecs float64
	for ep := 1; ep <= r.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		var res second.Result
		if r.Optim.FullBatch {
			res, err = second.Minimize(opt, obj, 1)
		} else {
			res, err = second.MinimizeBatches(opt, obj, 1)
		}
		trainSecs += time.Since(t0).Seconds()
		if err != nil {
			return nil, fmt.Errorf("%s step %d: %w", r.Optim.Name, ep, err)
		}
		obj.SetParams(opt.X())
		rec := SecondOrderRecord{Epoch: ep, Objective: res.Loss, Iterations: opt.Iters(), Evaluations: opt.Evals(),
			Passes: obj.Passes(), TrainSeconds: trainSecs}
		if s.Val != nil {
			if rec.ValLoss, rec.ValAccuracy, err = train.EvaluateN(m, s.Val, 1000, r.Threads); err != nil {
				return nil, err
			}
		}
		records = append(records, rec)
		if out != "" {
			if err := writeJSONL(filepath.Join(out, train.MetricsFile), records); err != nil {
				return nil, err
			}
		}
		if run.opts.Log != nil {
			val := ""
			if s.Val != nil {
				val = fmt.Sprintf(" | val loss %.4f acc %.2f%%", rec.ValLoss, 100*rec.ValAccuracy)
			}
			fmt.Fprintf(run.opts.Log, "step %d/%d: objective %.5f | %d iterations, %d evaluations, %.1f passes over the data%s | %.1fs\n",
				ep, r.Epochs, res.Loss, opt.Iters(), opt.Evals(), obj.Passes(), val, trainSecs)
		}
		if r.Optim.FullBatch && res.Reason.Converged() {
			sres.Stopped = fmt.Sprint(res.Reason)
			break
		}
	}
	// The full-batch objective at the final point in both modes (a minibatch step's loss
	// is one batch's); this evaluation is not counted in the passes.
	full, err := train.NewModelObjective(m, s.Train, 1000, 0, r.Optim.WeightDecay, nil)
	if err != nil {
		return nil, err
	}
	x := obj.Params()
	if sres.Objective, err = full.Eval(x, make([]float64, len(x))); err != nil {
		return nil, err
	}
	sres.Passes, sres.Iterations, sres.Evaluations = obj.Passes(), opt.Iters(), opt.Evals()
	res := run.newResult(len(records), trainSecs)
	res.SamplesPerSecond = obj.Passes() * float64(s.Train.Len()) / max(trainSecs, 1e-9)
	res.SecondOrder = sres
	res.Train = Metrics{Loss: sres.Objective, Accuracy: -1, Examples: s.Train.Len()}
	if l, a, err := train.EvaluateN(m, s.Train, 1000, r.Threads); err == nil {
		res.Train = Metrics{Loss: l, Accuracy: a, Examples: s.Train.Len()}
	}
	if err := run.evaluateFinal(res); err != nil {
		return nil, err
	}
	return res, run.writeResult(res)
}

// writeJSONL rewrites path atomically with one JSON record per line.
func writeJSONL[T any](path string, recs []T) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b []byte
	for _, rec := range recs {
		line, err := json.Marshal(rec)
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
