package rng_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/rng"
)

func TestStateRoundTrip(t *testing.T) {
	a := rng.New(42)
	for i := 0; i < 10; i++ {
		a.Float64()
	}
	st, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var b rng.Stream
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if x, y := a.NormFloat64(), b.NormFloat64(); x != y {
			t.Fatalf("draw %d: %v != %v after restore", i, x, y)
		}
	}
	if err := b.UnmarshalBinary([]byte("garbage")); err == nil {
		t.Fatal("garbage state accepted")
	}
}

func TestSplitIndependentAndDeterministic(t *testing.T) {
	a, b := rng.New(1), rng.New(1)
	ca, cb := a.Split(), b.Split()
	if ca.Uint64() != cb.Uint64() {
		t.Fatal("split not deterministic")
	}
	if a.Uint64() == ca.Uint64() {
		t.Fatal("child repeats parent")
	}
}

func TestBernoulliRate(t *testing.T) {
	d := make([]float32, 200000)
	rng.New(3).Bernoulli(d, 0.8)
	s := 0.0
	for _, v := range d {
		s += float64(v)
	}
	if p := s / float64(len(d)); math.Abs(p-0.8) > 0.005 {
		t.Fatalf("keep rate %v, want 0.8", p)
	}
}
