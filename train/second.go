package train

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// ModelObjective exposes a model's training loss as a function of its flattened
// parameters, for the second-order optimizers of package optim/second:
//
//	f(θ) = (1/n) Σ_i CE(model_θ(x_i), y_i) + (λ/2)‖θ‖²
//
// The penalty (λ/2)‖θ‖² has gradient λθ, which is exactly what SGD's coupled weight
// decay λ adds, so the two optimize the same objective. The model runs in evaluation mode
// (dropout off, batch norm on running statistics), which makes f deterministic — a
// requirement for line searches and finite-difference Hessians.
//
// Eval (full batch) sums over the whole dataset in chunks; EvalBatch evaluates one of a
// fixed partition into minibatches (minibatch mode; the partition is reshuffled by
// Reshuffle). Parameters are float32 in the model and float64 in θ: Eval copies θ into the
// model (rounding to float32) before evaluating.
type ModelObjective struct {
	model       nn.Module
	params      []nn.NamedParam
	ds          data.Dataset
	chunk       int
	weightDecay float64
	batchIdx    [][]int
	tape        *ag.Tape
	x           *tensor.Tensor
	y           []int
	passes      float64
}

// NewModelObjective returns the objective of model on ds; chunk is the evaluation batch
// size (default 1000), batch the minibatch size for EvalBatch (0: full batch only).
func NewModelObjective(model nn.Module, ds data.Dataset, chunk, batch int, weightDecay float64, r *rng.Stream) (*ModelObjective, error) {
	if chunk <= 0 {
		chunk = 1000
	}
	if ds == nil || ds.Len() == 0 {
		return nil, fmt.Errorf("train: empty dataset for the objective")
	}
	if weightDecay < 0 {
		return nil, fmt.Errorf("train: weight decay %v out of range [0, ∞)", weightDecay)
	}
	o := &ModelObjective{model: model, params: nn.Params(model), ds: ds, chunk: chunk, weightDecay: weightDecay, tape: ag.NewTape()}
	if batch > 0 {
		idx := make([]int, ds.Len())
		for i := range idx {
			idx[i] = i
		}
		if r != nil {
			r.Shuffle(idx)
		}
		for lo := 0; lo < len(idx); lo += batch {
			o.batchIdx = append(o.batchIdx, idx[lo:min(lo+batch, len(idx))])
		}
	}
	return o, nil
}

// Dim is the number of parameters N.
func (o *ModelObjective) Dim() int {
	n := 0
	for _, p := range o.params {
		n += p.Value.Len()
	}
	return n
}

// Passes returns the number of passes over the dataset the evaluations have cost so far
// (a full-batch Eval is 1, a minibatch EvalBatch is its share).
func (o *ModelObjective) Passes() float64 { return o.passes }

// Params copies the model's parameters into a new θ.
func (o *ModelObjective) Params() []float64 {
	x := make([]float64, 0, o.Dim())
	for _, p := range o.params {
		for _, v := range p.Value.Data() {
			x = append(x, float64(v))
		}
	}
	return x
}

// SetParams copies θ into the model's parameters.
func (o *ModelObjective) SetParams(x []float64) {
	k := 0
	for _, p := range o.params {
		d := p.Value.Data()
		for i := range d {
			d[i] = float32(x[k])
			k++
		}
	}
}

// Eval implements second.Objective over the whole dataset.
func (o *ModelObjective) Eval(x, grad []float64) (float64, error) {
	return o.eval(x, grad, nil)
}

// Batches implements second.BatchObjective.
func (o *ModelObjective) Batches() int { return len(o.batchIdx) }

// EvalBatch implements second.BatchObjective on minibatch b.
func (o *ModelObjective) EvalBatch(b int, x, grad []float64) (float64, error) {
	if b < 0 || b >= len(o.batchIdx) {
		return 0, fmt.Errorf("train: minibatch %d out of range [0, %d)", b, len(o.batchIdx))
	}
	return o.eval(x, grad, o.batchIdx[b])
}

func (o *ModelObjective) eval(x, grad []float64, subset []int) (float64, error) {
	if len(x) != o.Dim() || len(grad) != len(x) {
		return 0, fmt.Errorf("train: objective of %d parameters called with len(x)=%d, len(grad)=%d", o.Dim(), len(x), len(grad))
	}
	o.SetParams(x)
	nn.SetTraining(o.model, false)
	defer nn.SetTraining(o.model, true)
	for _, p := range o.params {
		clear(p.Grad.Data())
	}
	n := o.ds.Len()
	if subset != nil {
		n = len(subset)
	}
	shape := o.ds.Shape()
	size := tensor.NumElements(shape)
	total := 0.0
	for lo := 0; lo < n; lo += o.chunk {
		hi := min(lo+o.chunk, n)
		m := hi - lo
		full := append([]int{m}, shape...)
		if o.x == nil || !tensor.SameShape(o.x.Shape(), full) {
			o.x = tensor.New(full...)
			o.y = make([]int, m)
		}
		xd := o.x.Data()
		for i := 0; i < m; i++ {
			j := lo + i
			if subset != nil {
				j = subset[j]
			}
			o.y[i] = o.ds.Get(j, xd[i*size:(i+1)*size])
		}
		o.tape.Reset()
		logits := o.model.Forward(o.tape.Const(o.x))
		// Mean over the chunk, scaled by m/n so the sum over chunks is the mean over all.
		l := ag.Scale(loss.CrossEntropy(logits, o.y, 0), float32(m)/float32(n))
		total += float64(l.Value.Item())
		l.Backward()
	}
	o.tape.Reset()
	k := 0
	sq := 0.0
	for _, p := range o.params {
		for _, g := range p.Grad.Data() {
			grad[k] = float64(g) + o.weightDecay*x[k]
			sq += x[k] * x[k]
			k++
		}
	}
	total += 0.5 * o.weightDecay * sq
	o.passes += float64(n) / float64(o.ds.Len())
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return total, &NonFiniteError{Loss: total}
	}
	return total, nil
}
