package recipe

import (
	"context"

	"github.com/temperml/temper/zoo"
)

// Fingerprint runs r for one epoch on its first n training examples (after data.classes),
// without a test set, and returns the zoo fingerprint of the weights it ends with
// (zoo.StateHash). The same recipe gives the same fingerprint at the same thread count:
// the zoo's rebuild test relies on it.
func Fingerprint(r Recipe, n int) (zoo.Fingerprint, error) {
	r.Epochs, r.Data.TrainSize = 1, n
	s, err := r.LoadData()
	if err != nil {
		return zoo.Fingerprint{}, err
	}
	s.Test = nil
	run, err := r.Build(Options{Splits: s})
	if err != nil {
		return zoo.Fingerprint{}, err
	}
	defer run.Close()
	if _, err := run.Fit(context.Background()); err != nil {
		return zoo.Fingerprint{}, err
	}
	return zoo.Fingerprint{TrainSize: n, Steps: run.stepsPerEpoch, SHA256: zoo.StateHash(run.Model)}, nil
}
