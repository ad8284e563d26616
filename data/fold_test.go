package data

import (
	"testing"

	"github.com/temperml/temper/rng"
)

// TestStratifiedFoldPartitions: the k folds are disjoint, cover every example, differ
// in size by at most one, and spread each class within one example of evenly.
func TestStratifiedFoldPartitions(t *testing.T) {
	const n, classes, k = 103, 3, 4
	x := make([]float32, n)
	y := make([]int, n)
	for i := range y {
		x[i] = float32(i) // the example's identity
		y[i] = (i * i) % classes
	}
	d, err := NewInMemory(x, y, []int{1}, classes)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, n)
	for i := range k {
		rest, held, err := StratifiedFold(d, k, i, rng.New(5))
		if err != nil {
			t.Fatal(err)
		}
		if rest.Len()+held.Len() != n || held.Len() < n/k || held.Len() > n/k+1 {
			t.Fatalf("fold %d: %d held, %d rest", i, held.Len(), rest.Len())
		}
		perClass := make([]int, classes)
		for j := range held.Len() {
			v, l := held.Example(j)
			seen[int(v[0])]++
			perClass[l]++
		}
		for c, m := range perClass {
			total := 0
			for _, l := range y {
				if l == c {
					total++
				}
			}
			if m < total/k || m > total/k+1 {
				t.Errorf("fold %d class %d: %d of %d examples", i, c, m, total)
			}
		}
	}
	for j, s := range seen {
		if s != 1 {
			t.Fatalf("example %d is in %d folds", j, s)
		}
	}
	if _, _, err := StratifiedFold(d, 1, 0, rng.New(1)); err == nil {
		t.Error("k = 1: no error")
	}
	if _, _, err := StratifiedFold(d, 3, 3, rng.New(1)); err == nil {
		t.Error("fold 3 of 3: no error")
	}
}
