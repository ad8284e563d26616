package nn_test

import (
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// cnnConvShapes are the conv layers of the cnn model at batch 128 (bench/cnn/torch_conv.py
// times the same shapes in PyTorch). The first layer's input is the image, which needs no
// gradient.
var cnnConvShapes = []struct {
	name           string
	n, c, h, w, o  int
	inputNeedsGrad bool
}{
	{"conv1_1x28x28_32", 128, 1, 28, 28, 32, false},
	{"conv2_32x14x14_64", 128, 32, 14, 14, 64, true},
}

// BenchmarkCNNConv times a 3×3 pad-1 convolution with bias: "fwd" is inference (no
// tape recording), "fwdbwd" the training forward plus the backward pass from a given
// output gradient (PyTorch: y.backward(g)).
func BenchmarkCNNConv(b *testing.B) {
	for _, s := range cnnConvShapes {
		conv, err := nn.NewConv2D(s.c, s.o, 3, rng.New(1), nn.Conv2DConfig{Padding: 1})
		if err != nil {
			b.Fatal(err)
		}
		x := tensor.Randn(rng.New(2), s.n, s.c, s.h, s.w)
		b.Run(s.name+"/fwd", func(b *testing.B) {
			tp := ag.NewTape()
			tp.SetNoGrad(true)
			conv.Forward(tp.Const(x)) // warm-up: the tape arena allocates its buffers
			for b.Loop() {
				tp.Reset()
				conv.Forward(tp.Const(x))
			}
		})
		b.Run(s.name+"/fwdbwd", func(b *testing.B) {
			tp := ag.NewTape()
			xp := ag.NewParam(x)
			g := tensor.Randn(rng.New(3), s.n, s.o, s.h, s.w)
			step := func() {
				tp.Reset()
				in := tp.Const(x)
				if s.inputNeedsGrad {
					in = tp.Watch(xp)
				}
				seedGrad(conv.Forward(in), g).Backward()
			}
			step() // warm-up
			for b.Loop() {
				step()
			}
		})
	}
}

// BenchmarkCNNStep times one whole training step of the cnn model (batch 128, SGD with
// Nesterov momentum and weight decay), as `temper train --model cnn` runs it.
func BenchmarkCNNStep(b *testing.B) {
	root := rng.New(1)
	m, err := nn.Build("cnn", nn.ModelConfig{Dropout: 0.5}, root.Split())
	if err != nil {
		b.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, _ := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	x := tensor.Rand(rng.New(2), 0, 1, 128, 1, 28, 28)
	y := make([]int, 128)
	for i := range y {
		y[i] = i % 10
	}
	ds, _ := data.NewInMemory(x.Data(), y, []int{1, 28, 28}, 10)
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{}, root.Split())
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	for i := 0; i < 3; i++ { // warm-up
		if _, _, err := tr.Step(x, y); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, _, err := tr.Step(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// seedGrad returns a scalar whose backward pass copies g into y's gradient: backward from
// a given output gradient, like PyTorch's y.backward(g).
func seedGrad(y *ag.Var, g *tensor.Tensor) *ag.Var {
	t := ag.TapeOf(y)
	v := t.Op(t.Empty(), seedGradBackward, y)
	v.Aux = g
	return v
}

func seedGradBackward(o *ag.Var) {
	dst, _ := o.Inputs()[0].GradForWrite()
	copy(dst.Data(), o.Aux.Data())
}
