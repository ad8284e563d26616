package ag_test

import (
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func randn(seed uint64, shape ...int) *tensor.Tensor { return tensor.Randn(rng.New(seed), shape...) }

// awayFromZero shifts values so none is within 0.1 of zero (kinks of ReLU/Abs).
func awayFromZero(t *tensor.Tensor) *tensor.Tensor {
	return t.Map(func(v float32) float32 {
		if v >= 0 {
			return v + 0.1
		}
		return v - 0.1
	})
}

// dropMask is a fixed inverted-dropout mask: 0 at every third element, 1.25 elsewhere.
func dropMask(shape ...int) *tensor.Tensor {
	m := tensor.New(shape...)
	for i := range m.Data() {
		if i%3 != 0 {
			m.Data()[i] = 1.25
		}
	}
	return m
}

func positive(t *tensor.Tensor) *tensor.Tensor {
	return t.Map(func(v float32) float32 {
		if v < 0 {
			v = -v
		}
		return v + 0.5
	})
}

func TestGradcheckOps(t *testing.T) {
	cases := []struct {
		name   string
		f      gradcheck.Func
		inputs []*tensor.Tensor
	}{
		{"add", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Add(in[0], in[1]) }, []*tensor.Tensor{randn(1, 3, 4), randn(2, 3, 4)}},
		{"add-broadcast", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Add(in[0], in[1]) }, []*tensor.Tensor{randn(1, 2, 3, 4), randn(2, 3, 1)}},
		{"sub-broadcast", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Sub(in[0], in[1]) }, []*tensor.Tensor{randn(1, 3, 4), randn(2, 4)}},
		{"mul-broadcast", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Mul(in[0], in[1]) }, []*tensor.Tensor{randn(1, 3, 4), randn(2, 1, 4)}},
		{"div", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Div(in[0], in[1]) }, []*tensor.Tensor{randn(1, 3, 4), positive(randn(2, 3, 4))}},
		{"scale", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Scale(in[0], -2.5) }, []*tensor.Tensor{randn(1, 5)}},
		{"matmul", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.MatMul(in[0], in[1]) }, []*tensor.Tensor{randn(1, 3, 5), randn(2, 5, 4)}},
		{"matmul-transposed-view", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.MatMul(in[0], ag.Transpose(in[1], 0, 1)) }, []*tensor.Tensor{randn(1, 3, 5), randn(2, 4, 5)}},
		{"mulmask-param", func(t *ag.Tape, in []*ag.Var) *ag.Var { return t.MulMask(in[0], dropMask(5, 7)) }, []*tensor.Tensor{randn(1, 5, 7)}},
		{"mulmask-fresh-and-accumulated", func(t *ag.Tape, in []*ag.Var) *ag.Var {
			s := t.Scale(in[0], 1) // a tape Var: its first gradient is written, the second added
			return ag.Add(ag.MulMask(s, dropMask(5, 7)), ag.MulMask(s, dropMask(7, 5).Reshape(5, 7)))
		}, []*tensor.Tensor{randn(1, 5, 7)}},
		{"recordmulmask", func(t *ag.Tape, in []*ag.Var) *ag.Var {
			s := t.Scale(in[0], 1)
			m := dropMask(5, 7)
			y := t.Empty(5, 7)
			for i, v := range s.Value.Data() {
				y.Data()[i] = v * m.Data()[i]
			}
			return t.RecordMulMask(s, y, m)
		}, []*tensor.Tensor{randn(1, 5, 7)}},
		{"relu", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.ReLU(in[0]) }, []*tensor.Tensor{awayFromZero(randn(1, 4, 5))}},
		{"relu-twice-used", func(_ *ag.Tape, in []*ag.Var) *ag.Var { r := ag.ReLU(in[0]); return ag.Add(r, ag.ReLU(in[0])) }, []*tensor.Tensor{awayFromZero(randn(1, 4, 5))}},
		{"tanh", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Tanh(in[0]) }, []*tensor.Tensor{randn(1, 4, 5)}},
		{"sigmoid", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Sigmoid(in[0]) }, []*tensor.Tensor{randn(1, 4, 5)}},
		{"exp", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Exp(in[0]) }, []*tensor.Tensor{randn(1, 4, 5)}},
		{"log", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Log(in[0]) }, []*tensor.Tensor{positive(randn(1, 4, 5))}},
		{"square", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Square(in[0]) }, []*tensor.Tensor{randn(1, 4, 5)}},
		{"abs", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Abs(in[0]) }, []*tensor.Tensor{awayFromZero(randn(1, 4, 5))}},
		{"logsoftmax", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.LogSoftmax(in[0]) }, []*tensor.Tensor{randn(1, 4, 6)}},
		{"softmax", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Softmax(in[0]) }, []*tensor.Tensor{randn(1, 2, 3, 5)}},
		{"sum", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Sum(in[0]) }, []*tensor.Tensor{randn(1, 4, 5)}},
		{"mean", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Mean(in[0]) }, []*tensor.Tensor{randn(1, 4, 5)}},
		{"sumaxis", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.SumAxis(in[0], 1, false) }, []*tensor.Tensor{randn(1, 3, 4, 2)}},
		{"sumaxis-keep", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.SumAxis(in[0], -1, true) }, []*tensor.Tensor{randn(1, 3, 4)}},
		{"reshape", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Tanh(ag.Reshape(in[0], 4, -1)) }, []*tensor.Tensor{randn(1, 2, 3, 4)}},
		{"transpose", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Tanh(ag.Transpose(in[0], 0, 2)) }, []*tensor.Tensor{randn(1, 2, 3, 4)}},
		{"indexrows", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.IndexRows(in[0], []int{2, 0, 2, 1}) }, []*tensor.Tensor{randn(1, 3, 4)}},
		{"gather", func(_ *ag.Tape, in []*ag.Var) *ag.Var { return ag.Gather(in[0], []int{2, 0, 3}) }, []*tensor.Tensor{randn(1, 3, 4)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := gradcheck.Check(c.f, c.inputs, gradcheck.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGradcheckCatchesWrongGradient makes sure the checker can fail.
func TestGradcheckCatchesWrongGradient(t *testing.T) {
	wrong := func(tp *ag.Tape, in []*ag.Var) *ag.Var {
		x := in[0]
		out := tp.Empty(x.Value.Shape()...)
		out.CopyFrom(x.Value.MulScalar(3))
		return tp.Op(out, func(o *ag.Var) {
			// Claims d(3x)/dx = 2.
			g := o.Grad.MulScalar(2)
			dst := o.Inputs()[0].GradBuf()
			dst.CopyFrom(tensor.Add(dst, g))
		}, x)
	}
	if err := gradcheck.Check(wrong, []*tensor.Tensor{randn(1, 3)}, gradcheck.Options{}); err == nil {
		t.Fatal("gradcheck accepted a wrong gradient")
	}
}

func TestParamGradAccumulatesAndTapeReuse(t *testing.T) {
	w := ag.NewParam(tensor.FromSlice([]float32{1, 2, 3}, 3))
	tp := ag.NewTape()
	for step := 0; step < 3; step++ {
		tp.Reset()
		w.ZeroGrad()
		x := tp.Const(tensor.FromSlice([]float32{2, 2, 2}, 3))
		loss := ag.Sum(ag.Mul(w, x))
		loss.Backward()
		if got := loss.Value.Item(); got != 12 {
			t.Fatalf("step %d loss = %v, want 12", step, got)
		}
		for i, g := range w.Grad.Data() {
			if g != 2 {
				t.Fatalf("step %d grad[%d] = %v, want 2", step, i, g)
			}
		}
	}
}

func TestBackwardNonScalarPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic")
		} else if _, ok := r.(*tensor.ShapeError); !ok {
			t.Fatalf("panic %T, want *tensor.ShapeError", r)
		}
	}()
	w := ag.NewParam(tensor.New(3))
	tp := ag.NewTape()
	ag.Add(w, tp.Const(tensor.New(3))).Backward()
}
