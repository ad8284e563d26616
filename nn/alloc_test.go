package nn_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// settle runs two collections (sync.Pool keeps items through one: its victim cache) and
// then f twice, so the pools the kernels draw on are full again and no collection that
// the warm-up's garbage would trigger falls inside the measured runs to empty them.
func settle(f func()) {
	runtime.GC()
	runtime.GC()
	f()
	f()
}

func skipAllocCounts(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	if kernel.Name() == "generic" {
		t.Skip("TEMPER_KERNEL=generic: the portable sgemm kernel allocates")
	}
}

// TestInferenceAllocations: in evaluation mode with gradient recording off (what
// train.Evaluate and recipe's predict paths run) a forward pass of every built-in model,
// at batch 1 (latency) and 64 (throughput), allocates nothing after warm-up, and no
// parameter gets a gradient. One thread: with two, under CPU contention (CI runs test
// binaries side by side) a parallel region's job can miss the kernels' sync.Pool and
// allocate a few times per pass; TestCNNStepAllocations covers two threads where the
// regions are few enough to average out.
func TestInferenceAllocations(t *testing.T) {
	skipAllocCounts(t)
	for _, name := range []string{"mlp", "cnn", "lenet5", "resnet20"} {
		for _, batch := range []int{1, 64} {
			t.Run(fmt.Sprintf("%s/batch%d", name, batch), func(t *testing.T) {
				m, err := nn.Build(name, nn.ModelConfig{}, rng.New(1))
				if err != nil {
					t.Fatal(err)
				}
				nn.SetTraining(m, false)
				tp := ag.NewTape()
				tp.SetNoGrad(true)
				tp.SetThreads(1)
				x := tensor.Rand(rng.New(2), 0, 1, batch, 1, 28, 28)
				forward := func() {
					tp.Reset()
					if out := m.Forward(tp.Const(x)); out.Value.Shape()[0] != batch {
						t.Fatalf("output shape %v", out.Value.Shape())
					}
				}
				for i := 0; i < 3; i++ {
					forward()
				}
				settle(forward)
				if a := testing.AllocsPerRun(20, forward); a > 0 {
					t.Errorf("an inference forward pass allocates %v times, want 0", a)
				}
				for _, p := range nn.Params(m) {
					for _, g := range p.Grad.Data() {
						if g != 0 {
							t.Fatalf("%s got a gradient in inference", p.Name)
						}
					}
				}
			})
		}
	}
}

// TestResNet20StepAllocations: after warm-up a resnet20 training step (batch 8, one
// thread: see TestInferenceAllocations) allocates nothing, like the cnn's
// (TestCNNStepAllocations).
func TestResNet20StepAllocations(t *testing.T) {
	skipAllocCounts(t)
	root := rng.New(1)
	m, err := nn.Build("resnet20", nn.ModelConfig{}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, _ := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.01, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	const n = 8
	x := tensor.Rand(rng.New(2), 0, 1, n, 1, 28, 28)
	y := make([]int, n)
	for i := range y {
		y[i] = i % 10
	}
	ds, _ := data.NewInMemory(x.Data(), y, []int{1, 28, 28}, 10)
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{BatchSize: n, Threads: 1}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	step := func() {
		if _, _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		step()
	}
	settle(step)
	if a := testing.AllocsPerRun(20, step); a > 0 {
		t.Errorf("a steady-state resnet20 training step allocates %v times, want 0", a)
	}
}
