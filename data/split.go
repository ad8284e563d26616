package data

import (
	"cmp"
	"slices"

	"github.com/temperml/temper/rng"
)

// StratifiedSplit holds out n examples of d, chosen by r, with the classes in proportion:
// class c with n_c of the N examples gets floor(n·n_c/N) held-out examples, and the
// n − Σ floor left over go one each to the classes with the largest remainders
// (n·n_c mod N; ties to the lower label) — Hamilton's largest-remainder method. So every
// class's share is within one example of n·n_c/N and never exceeds n_c; a class with very
// few examples can end up entirely in held or entirely in rest (no minimum per class).
// Within each class the held-out examples are the first of a shuffle by r, classes taken
// in label order, so the split is a function of d, n and r's state. It returns the
// remaining examples and the held-out ones, each a copy in the original order. n must be
// in [1, d.Len()).
func StratifiedSplit(d *InMemory, n int, r *rng.Stream) (rest, held *InMemory, err error) {
	if d == nil || r == nil {
		return nil, nil, invalid("StratifiedSplit", "nil dataset or stream")
	}
	N := d.Len()
	if n < 1 || n >= N {
		return nil, nil, invalid("StratifiedSplit", "held-out count %d out of range [1, %d) for %d examples", n, N, N)
	}
	byClass := make([][]int, d.Classes())
	for i, l := range d.Y {
		if l < 0 || l >= len(byClass) {
			return nil, nil, invalid("StratifiedSplit", "label %d of example %d outside [0, %d)", l, i, len(byClass))
		}
		byClass[l] = append(byClass[l], i)
	}
	quota := make([]int, len(byClass))
	type rem struct{ class, r int }
	rems := make([]rem, 0, len(byClass))
	given := 0
	for c, idx := range byClass {
		p := n * len(idx)
		quota[c] = p / N
		given += quota[c]
		if p%N != 0 {
			rems = append(rems, rem{c, p % N})
		}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for _, x := range rems[:n-given] {
		quota[x.class]++
	}
	isHeld := make([]bool, N)
	for c, idx := range byClass {
		if len(idx) == 0 {
			continue
		}
		perm := slices.Clone(idx)
		r.Shuffle(perm)
		for _, i := range perm[:quota[c]] {
			isHeld[i] = true
		}
	}
	return d.splitBy(isHeld)
}

// splitBy returns the examples i with !isHeld[i] and those with isHeld[i], each a copy in
// the original order.
func (d *InMemory) splitBy(isHeld []bool) (rest, held *InMemory, err error) {
	var restIdx, heldIdx []int
	for i, h := range isHeld {
		if h {
			heldIdx = append(heldIdx, i)
		} else {
			restIdx = append(restIdx, i)
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
