package ensemble_test

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ensemble"
)

// Two members disagree on the second example; averaging their probabilities gets both
// right and a lower NLL than either member.
func ExampleScore() {
	ln := func(p ...float64) []float32 {
		out := make([]float32, len(p))
		for i, v := range p {
			out[i] = float32(math.Log(v))
		}
		return out
	}
	// Logits of 2 examples × 2 classes per member (row-major).
	a := append(ln(0.9, 0.1), ln(0.6, 0.4)...)
	b := append(ln(0.7, 0.3), ln(0.2, 0.8)...)
	r := ensemble.Score([][]float32{a, b}, []int{0, 1}, 2, []string{"a", "b"}, ensemble.Probabilities)
	for k, m := range r.Members {
		fmt.Printf("member %s: accuracy %.2f, NLL %.3f\n", r.Names[k], m.Accuracy, m.NLL)
	}
	fmt.Printf("mean of members: accuracy %.2f, NLL %.3f\n", r.MemberMean.Accuracy, r.MemberMean.NLL)
	fmt.Printf("ensemble: accuracy %.2f, NLL %.3f\n", r.Ensemble.Accuracy, r.Ensemble.NLL)
	// Output:
	// member a: accuracy 0.50, NLL 0.511
	// member b: accuracy 1.00, NLL 0.290
	// mean of members: accuracy 0.75, NLL 0.400
	// ensemble: accuracy 1.00, NLL 0.367
}
