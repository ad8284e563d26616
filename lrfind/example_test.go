package lrfind_test

import (
	"fmt"
	"math"

	"github.com/temperml/temper/lrfind"
)

// The suggestion rules read a learning rate off a range-test curve: here a loss that is
// flat up to 1e-4, falls linearly in log(lr) until 1e-1 and then explodes. valley lands
// 1.2 decades into the descent, steep at its start (all slopes tie; the first wins),
// minimum a decade below the lowest loss. slide moves a 15-point interval left while the
// loss gradients at its ends differ by more than 0.005; on this noiseless piecewise-linear
// curve they differ at every position, so it runs to the first point (on measured curves it
// stops earlier: 0.023 for the MNIST MLP in docs/lr.md).
func ExampleSuggest() {
	var lrs, losses []float64
	for i := 0; i <= 40; i++ {
		lr := math.Pow(10, -7+float64(i)/5) // 1e-7 .. 10
		loss := 2.3
		switch {
		case lr > 1e-1:
			loss = 0.3 + 10*(math.Log10(lr)+1)
		case lr > 1e-4:
			loss = 2.3 - 2*(math.Log10(lr)+4)/3
		}
		lrs, losses = append(lrs, lr), append(losses, loss)
	}
	for _, m := range lrfind.Methods {
		lr, err := lrfind.Suggest(m, lrs, losses)
		fmt.Printf("%-7s %.2g %v\n", m, lr, err)
	}
	// Output:
	// valley  0.0016 <nil>
	// steep   0.0001 <nil>
	// minimum 0.01 <nil>
	// slide   1e-07 <nil>
}
