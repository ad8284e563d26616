package tensor_test

import (
	"errors"
	"math"
	"testing"

	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func eq(t *testing.T, got *tensor.Tensor, shape []int, want []float32) {
	t.Helper()
	if !tensor.SameShape(got.Shape(), shape) {
		t.Fatalf("shape %v, want %v", got.Shape(), shape)
	}
	g := got.ToSlice()
	for i := range want {
		if math.Abs(float64(g[i]-want[i])) > 1e-5 {
			t.Fatalf("got %v, want %v", g, want)
		}
	}
}

func seq(shape ...int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(i)
	}
	return tensor.FromSlice(d, shape...)
}

func TestViews(t *testing.T) {
	x := seq(2, 3)
	eq(t, x.T(), []int{3, 2}, []float32{0, 3, 1, 4, 2, 5})
	eq(t, x.Reshape(3, -1), []int{3, 2}, []float32{0, 1, 2, 3, 4, 5})
	eq(t, x.Slice(1, 1, 3), []int{2, 2}, []float32{1, 2, 4, 5})
	eq(t, x.T().Reshape(6), []int{6}, []float32{0, 3, 1, 4, 2, 5})
	y := seq(2, 3, 4)
	eq(t, y.Permute(2, 0, 1).Slice(0, 1, 2), []int{1, 2, 3}, []float32{1, 5, 9, 13, 17, 21})
	if x.T().IsContiguous() || !x.IsContiguous() {
		t.Fatal("contiguity wrong")
	}
	// Views share storage.
	v := x.Slice(0, 1, 2)
	v.Set(42, 0, 0)
	if x.At(1, 0) != 42 {
		t.Fatal("slice is not a view")
	}
}

func TestBroadcastArithmetic(t *testing.T) {
	a := seq(2, 3)
	b := tensor.FromSlice([]float32{10, 20, 30}, 3)
	eq(t, tensor.Add(a, b), []int{2, 3}, []float32{10, 21, 32, 13, 24, 35})
	col := tensor.FromSlice([]float32{1, 2}, 2, 1)
	eq(t, tensor.Mul(a, col), []int{2, 3}, []float32{0, 1, 2, 6, 8, 10})
	eq(t, tensor.Sub(col, b), []int{2, 3}, []float32{-9, -19, -29, -8, -18, -28})
	eq(t, tensor.Div(a, tensor.Scalar(2)), []int{2, 3}, []float32{0, 0.5, 1, 1.5, 2, 2.5})
	eq(t, tensor.Add(a.T(), tensor.Full(1, 3, 1)), []int{3, 2}, []float32{1, 4, 2, 5, 3, 6})
}

func TestReductions(t *testing.T) {
	x := seq(2, 3)
	eq(t, x.SumAxis(0, false), []int{3}, []float32{3, 5, 7})
	eq(t, x.SumAxis(1, true), []int{2, 1}, []float32{3, 12})
	eq(t, x.MeanAxis(-1, false), []int{2}, []float32{1, 4})
	eq(t, x.MaxAxis(0, false), []int{3}, []float32{3, 4, 5})
	if got := tensor.FromSlice([]float32{1, 5, 5, 2, 0, 9}, 2, 3).ArgMaxAxis(1); got[0] != 1 || got[1] != 2 {
		t.Fatalf("argmax = %v, want [1 2] (first maximum)", got)
	}
	if x.Sum() != 15 || x.Mean() != 2.5 || x.Max() != 5 {
		t.Fatal("full reductions wrong")
	}
}

func TestMatMulAgainstNaive(t *testing.T) {
	r := rng.New(1)
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 2}, {17, 33, 9}, {64, 31, 70}} {
		m, k, n := s[0], s[1], s[2]
		a, b := tensor.Randn(r, m, k), tensor.Randn(r, k, n)
		for _, tc := range []struct {
			name string
			a, b *tensor.Tensor
		}{{"NN", a, b}, {"TN", a.T().Contiguous().T(), b}, {"NT", a, b.T().Contiguous().T()}, {"TT", a.T().Contiguous().T(), b.T().Contiguous().T()}} {
			got := tensor.MatMul(tc.a, tc.b)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var want float64
					for p := 0; p < k; p++ {
						want += float64(a.At(i, p)) * float64(b.At(p, j))
					}
					if d := math.Abs(float64(got.At(i, j)) - want); d > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("%v %s: C[%d,%d] = %v, want %v", s, tc.name, i, j, got.At(i, j), want)
					}
				}
			}
		}
	}
}

func TestShapeErrors(t *testing.T) {
	cases := map[string]func(){
		"add":     func() { tensor.Add(seq(2, 3), seq(3, 2)) },
		"matmul":  func() { tensor.MatMul(seq(2, 3), seq(2, 3)) },
		"reshape": func() { seq(2, 3).Reshape(4, 2) },
		"slice":   func() { seq(2, 3).Slice(1, 2, 4) },
		"from":    func() { tensor.FromSlice(make([]float32, 5), 2, 3) },
		"axis":    func() { seq(2, 3).SumAxis(2, false) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				var se *tensor.ShapeError
				if err, ok := r.(error); !ok || !errors.As(err, &se) {
					t.Fatalf("panic %v, want *tensor.ShapeError", r)
				}
				if se.Error() == "" {
					t.Fatal("empty message")
				}
			}()
			f()
		})
	}
}

func TestRandomCreationDeterministic(t *testing.T) {
	a := tensor.Randn(rng.New(5), 100)
	b := tensor.Randn(rng.New(5), 100)
	for i := range a.Data() {
		if a.Data()[i] != b.Data()[i] {
			t.Fatal("same seed, different values")
		}
	}
	u := tensor.Rand(rng.New(1), -2, 3, 1000)
	for _, v := range u.Data() {
		if v < -2 || v >= 3 {
			t.Fatalf("uniform value %v outside [-2, 3)", v)
		}
	}
}
