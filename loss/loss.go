// Package loss holds training objectives as fused autodiff ops: softmax cross-entropy
// (with optional label smoothing), the multiclass SVM hinge loss and mean squared error.
// Each returns the mean over the batch, as PyTorch's reduction='mean' does.
package loss

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/tensor"
)

func checkLabels(op string, logits *ag.Var, labels []int) (n, c int) {
	s := logits.Value.Shape()
	if len(s) != 2 || s[0] != len(labels) {
		panic(&tensor.ShapeError{Op: op, A: s, B: []int{len(labels)}, Msg: "want logits (n, classes) and n labels"})
	}
	n, c = s[0], s[1]
	for i, y := range labels {
		if y < 0 || y >= c {
			panic(&tensor.ShapeError{Op: op, A: s, B: []int{i, y}, Msg: fmt.Sprintf("label %d of example %d out of range [0, %d)", y, i, c)})
		}
	}
	return n, c
}

// CrossEntropy is the mean softmax cross-entropy −(1/n) Σ_i log softmax(z_i)[y_i], computed
// stably as log-sum-exp with the row maximum subtracted (float64 sums). With smoothing ε > 0
// the target is (1−ε)·onehot + ε/C, as in PyTorch's label_smoothing. Gradient:
// (softmax(z) − target)/n.
func CrossEntropy(logits *ag.Var, labels []int, smoothing float64) *ag.Var {
	n, c := checkLabels("loss.CrossEntropy", logits, labels)
	t := ag.TapeOf(logits)
	z := logits.Value.Contiguous()
	logp := t.Empty(n, c)
	ag.LogSoftmaxRows(logp.Data(), z.Data(), n, c)
	lp := logp.Data()
	sum := 0.0
	for i, y := range labels {
		row := lp[i*c : (i+1)*c]
		l := -float64(row[y])
		if smoothing > 0 {
			s := 0.0
			for _, v := range row {
				s += float64(v)
			}
			l = (1-smoothing)*l - smoothing*s/float64(c)
		}
		sum += l
	}
	out := t.Empty()
	out.Data()[0] = float32(sum / float64(max(n, 1)))
	v := t.Op(out, crossEntropyBackward, logits)
	v.Aux, v.AuxI, v.AuxF = logp, labels, smoothing
	return v
}

func crossEntropyBackward(o *ag.Var) {
	in := o.Inputs()[0]
	n, c := in.Value.Shape()[0], in.Value.Shape()[1]
	scale := o.Grad.Item() / float32(max(n, 1))
	eps := float32(o.AuxF)
	lp := o.Aux.Data()
	dst, fresh := in.GradForWrite()
	d := dst.Data()
	for i, y := range o.AuxI {
		row := lp[i*c : (i+1)*c]
		drow := d[i*c : (i+1)*c]
		for j, v := range row {
			g := float32(math.Exp(float64(v))) - eps/float32(c)
			if j == y {
				g -= 1 - eps
			}
			if fresh {
				drow[j] = g * scale
			} else {
				drow[j] += g * scale
			}
		}
	}
}

// Hinge is the multiclass SVM loss (Weston & Watkins; CS231n): (1/n) Σ_i Σ_{j≠y_i}
// max(0, z_ij − z_iy_i + margin). PyTorch's MultiMarginLoss additionally divides by the
// class count; temper follows the CS231n form. Subgradient at the hinge is 0.
func Hinge(logits *ag.Var, labels []int, margin float64) *ag.Var {
	n, c := checkLabels("loss.Hinge", logits, labels)
	t := ag.TapeOf(logits)
	z := logits.Value.Contiguous().Data()
	sum := 0.0
	for i, y := range labels {
		zy := z[i*c+y]
		for j := 0; j < c; j++ {
			if j != y {
				sum += math.Max(0, float64(z[i*c+j]-zy)+margin)
			}
		}
	}
	out := t.Empty()
	out.Data()[0] = float32(sum / float64(max(n, 1)))
	v := t.Op(out, func(o *ag.Var) {
		in := o.Inputs()[0]
		n, c := in.Value.Shape()[0], in.Value.Shape()[1]
		scale := o.Grad.Item() / float32(max(n, 1))
		z := in.Value.Contiguous().Data()
		d := in.GradBuf().Data()
		for i, y := range o.AuxI {
			zy := z[i*c+y]
			for j := 0; j < c; j++ {
				if j != y && float64(z[i*c+j]-zy)+o.AuxF > 0 {
					d[i*c+j] += scale
					d[i*c+y] -= scale
				}
			}
		}
	}, logits)
	v.AuxI, v.AuxF = labels, margin
	return v
}

// MSE is the mean squared error (1/N) Σ (pred − target)² over all N elements.
func MSE(pred *ag.Var, target *tensor.Tensor) *ag.Var {
	if !tensor.SameShape(pred.Value.Shape(), target.Shape()) {
		panic(&tensor.ShapeError{Op: "loss.MSE", A: pred.Value.Shape(), B: target.Shape(), Msg: "prediction and target shapes differ"})
	}
	t := ag.TapeOf(pred)
	return ag.Mean(ag.Square(ag.Sub(pred, t.Const(target))))
}
