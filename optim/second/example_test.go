package second_test

import (
	"errors"
	"fmt"

	"github.com/temperml/temper/optim/second"
)

// Full-batch L-BFGS on the 2-D Rosenbrock function, PyTorch's defaults.
func ExampleNewLBFGS() {
	rosen := second.Func(func(x, g []float64) (float64, error) {
		a, b := x[1]-x[0]*x[0], 1-x[0]
		g[0] = -400*a*x[0] - 2*b
		g[1] = 200 * a
		return 100*a*a + b*b, nil
	})
	opt, err := second.NewLBFGS([]float64{-1.2, 1}, second.LBFGSConfig{})
	if err != nil {
		panic(err)
	}
	res, err := second.Minimize(opt, rosen, 10)
	if err != nil {
		panic(err)
	}
	fmt.Printf("x = (%.4f, %.4f) after %d iterations, %d evaluations\n", opt.X()[0], opt.X()[1], res.Iters, res.Evals)
	// Output: x = (1.0000, 1.0000) after 35 iterations, 44 evaluations
}

// Newton and BFGS refuse problems whose dense matrices exceed the memory budget.
func ExampleNewNewton_tooLarge() {
	_, err := second.NewNewton(make([]float64, 100000), second.NewtonConfig{})
	var tl *second.TooLargeError
	fmt.Println(errors.As(err, &tl), tl.Need)
	fmt.Println(err)
	// Output:
	// true 160008000000
	// second: newton with N=100000 parameters needs 160008000000 bytes (149.0 GiB) for its dense N×N matrices, over the memory budget of 2147483648 bytes (2.0 GiB); use L-BFGS or raise MemoryBudget
}
