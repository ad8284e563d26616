package checkpoint

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite: a tensor holds NaN or ±Inf.
var ErrNonFinite = errors.New("non-finite value")

// CheckFinite returns a *FileError wrapping ErrNonFinite naming the first tensor (in
// file order) that holds NaN or ±Inf, with the index and value of its first such
// element; nil if every tensor is finite. Loading weights with a NaN would otherwise
// carry it silently into evaluation and further training.
func (f *File) CheckFinite(file string) error {
	for _, n := range f.Names {
		for i, v := range f.Tensors[n].Data() {
			if x := float64(v); math.IsNaN(x) || math.IsInf(x, 0) {
				return &FileError{File: file, Err: ErrNonFinite, Msg: fmt.Sprintf("tensor %q holds %v at index %d", n, v, i)}
			}
		}
	}
	return nil
}
