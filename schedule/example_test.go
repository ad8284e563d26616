package schedule_test

import (
	"fmt"

	"github.com/temperml/temper/schedule"
)

func ExampleParseWith() {
	// 2 warmup epochs, then cosine over the rest of a 10-epoch run of 100 batches each.
	s, err := schedule.ParseWith("warmup:steps=200+cosine", schedule.Context{TotalSteps: 1000, StepsPerEpoch: 100})
	if err != nil {
		panic(err)
	}
	for _, step := range []int{0, 100, 200, 600, 1000} {
		fmt.Printf("step %4d: lr %.4f\n", step, s.LR(step, 0.1))
	}
	// Output:
	// step    0: lr 0.0000
	// step  100: lr 0.0500
	// step  200: lr 0.1000
	// step  600: lr 0.0500
	// step 1000: lr 0.0000
}

func ExampleParse_error() {
	_, err := schedule.Parse("step:size=5,gama=0.5")
	fmt.Println(err)
	// Output:
	// schedule "step:size=5,gama=0.5": at column 13: step has no option "gama" (it takes every, smooth, for, size, gamma)
}

func ExampleReduceOnPlateau() {
	s, _ := schedule.Parse("plateau:patience=1,factor=0.5")
	p := schedule.FindPlateau(s)
	for epoch, loss := range []float64{1.0, 0.8, 0.8, 0.8, 0.7} {
		reduced := p.Observe(loss)
		fmt.Printf("epoch %d loss %.1f reduced %-5v lr %.3f\n", epoch, loss, reduced, s.LR(0, 0.1))
	}
	// Output:
	// epoch 0 loss 1.0 reduced false lr 0.100
	// epoch 1 loss 0.8 reduced false lr 0.100
	// epoch 2 loss 0.8 reduced false lr 0.100
	// epoch 3 loss 0.8 reduced true  lr 0.050
	// epoch 4 loss 0.7 reduced false lr 0.050
}
