package train

import (
	"fmt"
	"math"

	"github.com/temperml/temper/nn"
)

// CheckFinite returns an error wrapping ErrNonFiniteWeights that names the first
// parameter or buffer of m (by its state-dict name) holding NaN or ±Inf, with the index
// and value of the first such element; nil if all are finite.
func CheckFinite(m nn.Module) error {
	for _, e := range nn.StateDict(m) {
		for i, v := range e.T.Data() {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%w: %s[%d] is %v", ErrNonFiniteWeights, e.Name, i, v)
			}
		}
	}
	return nil
}
