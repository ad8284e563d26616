package recipe_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/temperml/temper/recipe"
)

// TestClassesAndLabelsPerClass: data.classes keeps and relabels the listed digits in
// every split; data.labels_per_class keeps N per class, the same N for the same seed and
// others for another seed.
func TestClassesAndLabelsPerClass(t *testing.T) {
	r := recipe.Default()
	r.Data.Classes = []int{7, 3}
	r.Data.LabelsPerClass = 25
	s, err := r.LoadData()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.ClassNames, []string{"7", "3"}) || s.Train.Classes() != 2 || s.Test.Classes() != 2 {
		t.Fatalf("classes %v (%d)", s.ClassNames, s.Train.Classes())
	}
	count := [2]int{}
	for _, y := range s.Train.Y {
		count[y]++
	}
	if count != [2]int{25, 25} {
		t.Errorf("per-class counts %v, want 25 each", count)
	}
	if n := s.Test.Len(); n != 1028+1010 { // MNIST's test set has 1028 sevens and 1010 threes
		t.Errorf("%d test examples of 7 and 3, want 2038", n)
	}
	again, _ := r.LoadData()
	if !slices.Equal(again.Train.X, s.Train.X) {
		t.Error("the same seed chose another subset")
	}
	r.Seed = 2
	other, _ := r.LoadData()
	if slices.Equal(other.Train.X, s.Train.X) {
		t.Error("another seed chose the same subset")
	}
	for _, bad := range [][]int{{1}, {1, 1}, {-1, 2}} {
		b := recipe.Default()
		b.Data.Classes = bad
		if err := b.Validate(); !errors.Is(err, recipe.ErrInvalid) {
			t.Errorf("classes %v: %v", bad, err)
		}
	}
	b := recipe.Default()
	b.Data.Classes = []int{3, 12}
	if _, err := b.LoadData(); !errors.Is(err, recipe.ErrInvalid) {
		t.Errorf("label 12 of MNIST: %v", err)
	}
}
