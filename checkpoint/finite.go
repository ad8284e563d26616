package checkpoint

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ErrNonFinite: a tensor holds NaN or ±Inf.
var ErrNonFinite = errors.New("non-finite value")

// CheckFinite returns a *FileError wrapping ErrNonFinite naming the first tensor (in
// file order) that holds NaN or ±Inf, with the index and value of its first such
// element; nil if every tensor is finite. Loading weights with a NaN would otherwise
// carry it silently into evaluation and further training.
//
// With prefixes, only tensors whose names start with one of them are checked (a training
// state's "model." and "optim." tensors; callbacks may store bit patterns, e.g. the low
// halves of float64 averages, that are not floats).
func (f *File) CheckFinite(file string, prefixes ...string) error {
	for _, n := range f.Names {
		if len(prefixes) > 0 && !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(n, p) }) {
			continue
		}
		for i, v := range f.Tensors[n].Data() {
			if x := float64(v); math.IsNaN(x) || math.IsInf(x, 0) {
				return &FileError{File: file, Err: ErrNonFinite, Msg: fmt.Sprintf("tensor %q holds %v at index %d", n, v, i)}
			}
		}
	}
	return nil
}
