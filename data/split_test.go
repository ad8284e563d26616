package data

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/temperml/temper/rng"
)

// classSet returns a dataset with counts[c] examples of class c, interleaved; example i
// holds the value i so that examples can be identified.
func classSet(t *testing.T, counts []int) *InMemory {
	t.Helper()
	var y []int
	left := slices.Clone(counts)
	for more := true; more; {
		more = false
		for c := range left {
			if left[c] > 0 {
				y = append(y, c)
				left[c]--
				more = true
			}
		}
	}
	x := make([]float32, len(y))
	for i := range x {
		x[i] = float32(i)
	}
	d, err := NewInMemory(x, y, []int{1}, len(counts))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStratifiedSplit(t *testing.T) {
	for _, tc := range []struct {
		counts []int
		n      int
		want   []int // held per class
	}{
		{[]int{50, 30, 20}, 10, []int{5, 3, 2}},
		{[]int{5, 5}, 1, []int{1, 0}},       // equal remainders: the lower label
		{[]int{7, 2, 1}, 3, []int{2, 1, 0}}, // quotas 2.1, 0.6, 0.3
		{[]int{1, 1, 98}, 50, []int{1, 0, 49}},
		{[]int{3, 0, 3}, 5, []int{3, 0, 2}},
	} {
		d := classSet(t, tc.counts)
		rest, held, err := StratifiedSplit(d, tc.n, rng.New(1))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int, len(tc.counts))
		for _, l := range held.Y {
			got[l]++
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v n=%d: held per class %v, want %v", tc.counts, tc.n, got, tc.want)
		}
		// Disjoint, complete, original order, labels kept.
		ids := append(slices.Clone(rest.X), held.X...)
		if rest.Len()+held.Len() != d.Len() || !slices.IsSorted(rest.X) || !slices.IsSorted(held.X) {
			t.Errorf("%v: sizes %d+%d or order wrong", tc.counts, rest.Len(), held.Len())
		}
		slices.Sort(ids)
		for i, v := range ids {
			if v != float32(i) {
				t.Fatalf("%v: example %d missing or duplicated", tc.counts, i)
			}
		}
		for k, v := range held.X {
			if held.Y[k] != d.Y[int(v)] {
				t.Errorf("label of example %v changed", v)
			}
		}
	}
	d := classSet(t, []int{40, 40})
	_, a, _ := StratifiedSplit(d, 10, rng.New(7))
	_, b, _ := StratifiedSplit(d, 10, rng.New(7))
	_, c, _ := StratifiedSplit(d, 10, rng.New(8))
	if !slices.Equal(a.X, b.X) {
		t.Error("same seed, different split")
	}
	if slices.Equal(a.X, c.X) {
		t.Error("different seeds, same split")
	}
	for _, n := range []int{0, -1, 80, 81} {
		if _, _, err := StratifiedSplit(d, n, rng.New(1)); !errors.Is(err, ErrInvalid) {
			t.Errorf("n=%d: %v", n, err)
		}
	}
}

func TestNormalization(t *testing.T) {
	// Two examples [2, 1, 2]: channel 0 values 1,3,5,7 (mean 4, std sqrt(5)); channel 1 constant 2.
	d, err := NewInMemory([]float32{1, 3, 2, 2, 5, 7, 2, 2}, []int{0, 1}, []int{2, 1, 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	n := ComputeNormalization(d)
	if math.Abs(n.Mean[0]-4) > 1e-12 || math.Abs(n.Std[0]-math.Sqrt(5)) > 1e-12 || n.Mean[1] != 2 || n.Std[1] != 1 {
		t.Fatalf("got %+v, want mean [4 2] std [sqrt5 1]", n)
	}
	if err := n.Validate(2); err != nil {
		t.Fatal(err)
	}
	orig := slices.Clone(d.X)
	out, err := n.Apply(d)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.X, orig) {
		t.Error("Apply modified its input")
	}
	again := ComputeNormalization(out)
	for c := range 2 {
		if math.Abs(again.Mean[c]) > 1e-6 {
			t.Errorf("normalized mean[%d] = %v", c, again.Mean[c])
		}
	}
	if math.Abs(again.Std[0]-1) > 1e-6 {
		t.Errorf("normalized std[0] = %v", again.Std[0])
	}
	// ApplyTo on one example equals Apply; inverting it gives the input back.
	x := slices.Clone(orig[4:])
	if err := n.ApplyTo(x, []int{2, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, out.X[4:]) {
		t.Errorf("ApplyTo %v, Apply %v", x, out.X[4:])
	}
	for i, v := range x {
		c := i / 2
		if back := float64(v)*n.Std[c] + n.Mean[c]; math.Abs(back-float64(orig[4+i])) > 1e-5 {
			t.Errorf("round trip %d: %v, want %v", i, back, orig[4+i])
		}
	}
	// JSON form.
	b, _ := json.Marshal(Normalization{Mean: []float64{0.5}, Std: []float64{0.25}})
	if string(b) != `{"mean":[0.5],"std":[0.25]}` {
		t.Errorf("JSON %s", b)
	}
	for _, bad := range []struct {
		n  Normalization
		ch int
	}{
		{Normalization{Mean: []float64{0}, Std: []float64{1}}, 3},
		{Normalization{Mean: []float64{0}, Std: []float64{0}}, 1},
		{Normalization{Mean: []float64{math.NaN()}, Std: []float64{1}}, 1},
		{Normalization{Mean: []float64{0}, Std: []float64{math.Inf(1)}}, 1},
		{Normalization{Mean: []float64{0, 0}, Std: []float64{-1, 1}}, 2},
	} {
		if err := bad.n.Validate(bad.ch); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v, %d) = %v", bad.n, bad.ch, err)
		}
	}
	if err := n.ApplyTo(make([]float32, 5), []int{2, 1, 2}); !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong length: %v", err)
	}
	if err := n.ApplyTo(make([]float32, 4), []int{2, 2}); !errors.Is(err, ErrInvalid) {
		t.Errorf("rank 2: %v", err)
	}
	if _, err := (Normalization{Mean: []float64{0}, Std: []float64{1}}).Apply(d); !errors.Is(err, ErrInvalid) {
		t.Errorf("channel count mismatch: %v", err)
	}
	empty, _ := NewInMemory(nil, nil, []int{3, 2, 2}, 2)
	if e := ComputeNormalization(empty); len(e.Mean) != 3 || e.Std[2] != 1 || e.Mean[0] != 0 {
		t.Errorf("empty: %+v", e)
	}
}
