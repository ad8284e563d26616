package nn_test

import (
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestForwardFLOPs: the tape counts the direct multiply-adds of convolutions and linear
// layers, checked against the counts written out by hand for the mlp and the cnn.
func TestForwardFLOPs(t *testing.T) {
	for _, c := range []struct {
		model string
		want  int64
	}{
		// 784·512 + 512·512 + 512·10 multiply-adds.
		{"mlp", 2 * (784*512 + 512*512 + 512*10)},
		// conv1 32·28·28·(1·9), conv2 64·14·14·(32·9), fc1 3136·128, fc2 128·10.
		{"cnn", 2 * (32*28*28*9 + 64*14*14*32*9 + 3136*128 + 128*10)},
	} {
		m, err := nn.Build(c.model, nn.ModelConfig{}, rng.New(1))
		if err != nil {
			t.Fatal(err)
		}
		nn.SetTraining(m, false)
		tp := ag.NewTape()
		tp.SetNoGrad(true)
		m.Forward(tp.Const(tensor.Zeros(3, 1, 28, 28)))
		if got := tp.FLOPs(); got != 3*c.want {
			t.Errorf("%s: %d forward FLOPs for 3 images, want %d", c.model, got, 3*c.want)
		}
		tp.Reset()
		if tp.FLOPs() != 0 {
			t.Errorf("%s: Reset kept the FLOP count", c.model)
		}
	}
}
