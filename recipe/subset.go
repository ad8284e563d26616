package recipe

import (
	"fmt"
	"slices"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/rng"
)

// validateSubset checks data.classes and data.labels_per_class.
func (d Data) validateSubset() error {
	if d.Classes != nil && len(d.Classes) < 2 {
		return rangeErr("data.classes", fmt.Sprint(d.Classes), "at least 2 distinct labels of the source (or absent: all)")
	}
	seen := map[int]bool{}
	for _, c := range d.Classes {
		if c < 0 || c > 1<<16 {
			return rangeErr("data.classes", c, "labels in [0, 65536]")
		}
		if seen[c] {
			return invalidf("recipe: data.classes %v lists label %d twice", d.Classes, c)
		}
		seen[c] = true
	}
	if d.LabelsPerClass < 0 {
		return rangeErr("data.labels_per_class", d.LabelsPerClass, "[0, ∞) (0 = all)")
	}
	return nil
}

// selectClasses keeps the examples whose label is in classes and relabels them by their
// position in classes (classes [5 6 7 8 9] turns label 5 into 0). d may be nil.
func selectClasses(d *data.InMemory, classes []int) (*data.InMemory, error) {
	if d == nil {
		return nil, nil
	}
	pos := make(map[int]int, len(classes))
	for i, c := range classes {
		if c >= d.Classes() {
			return nil, invalidf("recipe: data.classes %v: label %d, the source has labels [0, %d)", classes, c, d.Classes())
		}
		pos[c] = i
	}
	var idx []int
	for i, y := range d.Y {
		if _, ok := pos[y]; ok {
			idx = append(idx, i)
		}
	}
	s, err := d.Subset(idx)
	if err != nil {
		return nil, err
	}
	for i, y := range s.Y {
		s.Y[i] = pos[y]
	}
	s.NumClasses = len(classes)
	return s, nil
}

// applyClasses restricts the loaded sets to the recipe's data.classes (no-op without).
func (d Data) applyClasses(sets *data.Sets) (*data.Sets, error) {
	if d.Classes == nil {
		return sets, nil
	}
	out := *sets
	var err error
	for _, p := range []**data.InMemory{&out.Train, &out.Val, &out.Test} {
		if *p, err = selectClasses(*p, d.Classes); err != nil {
			return nil, err
		}
	}
	out.ClassNames = nil
	for _, c := range d.Classes {
		name := fmt.Sprint(c)
		if c < len(sets.ClassNames) {
			name = sets.ClassNames[c]
		}
		out.ClassNames = append(out.ClassNames, name)
	}
	out.Name = fmt.Sprintf("%s (classes %v)", sets.Name, d.Classes)
	return &out, nil
}

// LabelsPerClass returns a stratified, seeded subset of d with n examples of every class
// (all of a class that has fewer), in d's order: within each class the first n of a
// shuffle by r. n must be >= 1.
func LabelsPerClass(d *data.InMemory, n int, r *rng.Stream) (*data.InMemory, error) {
	if n < 1 {
		return nil, invalidf("recipe: labels per class %d, want >= 1", n)
	}
	byClass := make([][]int, d.Classes())
	for i, y := range d.Y {
		byClass[y] = append(byClass[y], i)
	}
	var keep []int
	for _, idx := range byClass {
		perm := slices.Clone(idx)
		r.Shuffle(perm)
		keep = append(keep, perm[:min(n, len(perm))]...)
	}
	slices.Sort(keep)
	return d.Subset(keep)
}
