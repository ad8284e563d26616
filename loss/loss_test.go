package loss_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func TestGradcheck(t *testing.T) {
	labels := []int{0, 3, 2, 3, 1}
	z := tensor.Randn(rng.New(1), 5, 4)
	target := tensor.Randn(rng.New(2), 5, 4)
	cases := map[string]gradcheck.Func{
		"ce":          func(_ *ag.Tape, in []*ag.Var) *ag.Var { return loss.CrossEntropy(in[0], labels, 0) },
		"ce-smoothed": func(_ *ag.Tape, in []*ag.Var) *ag.Var { return loss.CrossEntropy(in[0], labels, 0.1) },
		"hinge":       func(_ *ag.Tape, in []*ag.Var) *ag.Var { return loss.Hinge(in[0], labels, 1) },
		"mse":         func(_ *ag.Tape, in []*ag.Var) *ag.Var { return loss.MSE(in[0], target) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if err := gradcheck.Check(f, []*tensor.Tensor{z}, gradcheck.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Values computed with torch 1.13: F.cross_entropy(z, y, label_smoothing=s) for
// z = [[1,2,3],[1000,0,-1000]], y = [2, 1] (the second row checks stability).
func TestCrossEntropyValuesAndStability(t *testing.T) {
	tp := ag.NewTape()
	z := tp.Const(tensor.FromSlice([]float32{1, 2, 3, 1000, 0, -1000}, 2, 3))
	got := float64(loss.CrossEntropy(z, []int{2, 1}, 0).Value.Item())
	// row 0: -log softmax = log(e^-2+e^-1+1) = 0.40760596; row 1: 1000 + log(1+e^-1000+e^-2000) = 1000
	want := (0.40760596 + 1000) / 2
	if math.Abs(got-want) > 1e-3 {
		t.Fatalf("CE = %v, want %v", got, want)
	}
	gotS := float64(loss.CrossEntropy(tp.Const(tensor.FromSlice([]float32{1, 2, 3}, 1, 3)), []int{2}, 0.1).Value.Item())
	// (1-0.1)*0.40760596 + 0.1/3 * (2.40760596 + 1.40760596 + 0.40760596)
	wantS := 0.9*0.40760596 + 0.1/3*(2.40760596+1.40760596+0.40760596)
	if math.Abs(gotS-wantS) > 1e-5 {
		t.Fatalf("smoothed CE = %v, want %v", gotS, wantS)
	}
}

func TestHingeValue(t *testing.T) {
	tp := ag.NewTape()
	// CS231n example: scores [3.2, 5.1, -1.7], label 0 -> max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1) = 2.9
	z := tp.Const(tensor.FromSlice([]float32{3.2, 5.1, -1.7}, 1, 3))
	if got := loss.Hinge(z, []int{0}, 1).Value.Item(); math.Abs(float64(got)-2.9) > 1e-5 {
		t.Fatalf("hinge = %v, want 2.9", got)
	}
}

func TestBadLabelPanicsWithShapeError(t *testing.T) {
	defer func() {
		if _, ok := recover().(*tensor.ShapeError); !ok {
			t.Fatal("want *tensor.ShapeError panic")
		}
	}()
	tp := ag.NewTape()
	loss.CrossEntropy(tp.Const(tensor.New(2, 3)), []int{0, 3}, 0)
}
