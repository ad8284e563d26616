package data

import (
	"github.com/temperml/temper/rng"
)

// StratifiedFold returns fold i of a stratified k-fold partition of d (Kohavi 1995, "A
// Study of Cross-Validation and Bootstrap for Accuracy Estimation and Model Selection",
// stratified cross-validation): the examples of each class, classes in label order, are
// shuffled by r and dealt to the folds in turn, continuing the turn from one class to
// the next, so every example is in exactly one fold, the folds' sizes differ by at most
// one, and each class is spread over the folds within one example of evenly. The
// partition is a function of d, k and r's state; calling it with the same state for
// i = 0..k−1 gives the k disjoint folds. It returns the other k−1 folds and fold i, each
// a copy in the original order. k must be in [2, d.Len()] and i in [0, k).
func StratifiedFold(d *InMemory, k, i int, r *rng.Stream) (rest, held *InMemory, err error) {
	if d == nil || r == nil {
		return nil, nil, invalid("StratifiedFold", "nil dataset or stream")
	}
	N := d.Len()
	if k < 2 || k > N {
		return nil, nil, invalid("StratifiedFold", "%d folds out of range [2, %d] for %d examples", k, N, N)
	}
	if i < 0 || i >= k {
		return nil, nil, invalid("StratifiedFold", "fold %d out of range [0, %d)", i, k)
	}
	byClass := make([][]int, d.Classes())
	for j, l := range d.Y {
		if l < 0 || l >= len(byClass) {
			return nil, nil, invalid("StratifiedFold", "label %d of example %d outside [0, %d)", l, j, len(byClass))
		}
		byClass[l] = append(byClass[l], j)
	}
	fold := make([]int, N)
	turn := 0
	for _, idx := range byClass {
		perm := append([]int(nil), idx...)
		r.Shuffle(perm)
		for _, j := range perm {
			fold[j] = turn % k
			turn++
		}
	}
	var restIdx, heldIdx []int
	for j, f := range fold {
		if f == i {
			heldIdx = append(heldIdx, j)
		} else {
			restIdx = append(restIdx, j)
		}
	}
	if rest, err = d.Subset(restIdx); err != nil {
		return nil, nil, err
	}
	if held, err = d.Subset(heldIdx); err != nil {
		return nil, nil, err
	}
	return rest, held, nil
}
