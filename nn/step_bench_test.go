package nn_test

import (
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// BenchmarkMLPStep is one training step of the MNIST MLP (784-512-512-10, ReLU, dropout
// 0.2, SGD Nesterov, batch 128) as train.Trainer.Step runs it, on 1 and 2 threads.
func BenchmarkMLPStep(b *testing.B) {
	defer kernel.SetThreads(kernel.Threads())
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			kernel.SetThreads(threads)
			root := rng.New(1)
			m, _ := nn.Build("mlp", nn.ModelConfig{Dropout: 0.2}, root.Split())
			var ps []optim.Param
			for _, p := range nn.Params(m) {
				ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
			}
			o, _ := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
			x := tensor.Rand(rng.New(2), 0, 1, 128, 1, 28, 28)
			y := make([]int, 128)
			for i := range y {
				y[i] = i % 10
			}
			tp := ag.NewTape()
			step := func() {
				tp.Reset()
				for _, p := range ps {
					clear(p.Grad.Data())
				}
				l := loss.CrossEntropy(m.Forward(tp.Const(x)), y, 0)
				l.Backward()
				o.Step()
			}
			for i := 0; i < 3; i++ {
				step()
			}
			for b.Loop() {
				step()
			}
		})
	}
}
