package lab_test

import (
	"context"
	"fmt"
	"os"

	"github.com/temperml/temper/lab"
)

// Decide turns paired per-seed values into a verdict: here the validation-loss gap of
// four seeds without (A) and with (B) a regularizer, lower is better.
func ExampleDecide() {
	a := []float64{0.58, 0.48, 0.59, 0.46}
	b := []float64{0.31, 0.27, 0.32, 0.28}
	s := lab.Paired(a, b)
	v, _ := lab.Decide(lab.Superiority, lab.LowerIsBetter, 0.02, s)
	fmt.Printf("B − A = %.3f [%.3f, %.3f]: %s\n", s.Diff, s.Lo, s.Hi, v)
	v, _ = lab.Decide(lab.Superiority, lab.LowerIsBetter, 0.02, lab.Paired(a[:3], b[:3]))
	fmt.Println("3 seeds:", v)
	// Output:
	// B − A = -0.232 [-0.304, -0.161]: SUPPORTED
	// 3 seeds: UNDERPOWERED
}

// Run runs claims on both arms over seeds 1..N and writes lab.json, lab.md and lab.html.
func ExampleRun() {
	res, err := lab.Run(context.Background(), lab.Config{Claims: []string{"reg-l2"}, Budget: lab.Quick, OutDir: "lab-out", Progress: os.Stderr})
	if err != nil {
		fmt.Println(err)
		return
	}
	lab.WriteTable(os.Stdout, res, lab.UseColor(os.Stdout))
}
