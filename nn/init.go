package nn

import (
	"fmt"
	"math"

	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Fans returns fan_in and fan_out of a weight shaped like PyTorch's: (out, in, k...) —
// fan_in = in·∏k, fan_out = out·∏k.
func Fans(shape []int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		panic(&tensor.ShapeError{Op: "nn.Fans", A: shape, Msg: "want at least 2 dimensions"})
	}
	rf := tensor.NumElements(shape[2:])
	return shape[1] * rf, shape[0] * rf
}

// Init fills a weight tensor.
type Init func(w *tensor.Tensor, r *rng.Stream)

// KaimingUniform is He et al. 2015 (arXiv:1502.01852) uniform init over fan_in with
// leaky-ReLU slope a: bound = gain·√(3/fan_in), gain = √(2/(1+a²)). With a = √5 it is
// PyTorch's default for Linear and Conv weights (bound 1/√fan_in).
func KaimingUniform(a float64) Init {
	return func(w *tensor.Tensor, r *rng.Stream) {
		fanIn, _ := Fans(w.Shape())
		gain := math.Sqrt(2 / (1 + a*a))
		b := gain * math.Sqrt(3/float64(fanIn))
		r.Uniform(w.Data(), -b, b)
	}
}

// KaimingNormal is He init N(0, 2/fan_in) for ReLU (a = 0).
func KaimingNormal(a float64) Init {
	return func(w *tensor.Tensor, r *rng.Stream) {
		fanIn, _ := Fans(w.Shape())
		gain := math.Sqrt(2 / (1 + a*a))
		r.Normal(w.Data(), 0, gain/math.Sqrt(float64(fanIn)))
	}
}

// XavierUniform is Glorot & Bengio 2010: U(±gain·√(6/(fan_in+fan_out))).
func XavierUniform(gain float64) Init {
	return func(w *tensor.Tensor, r *rng.Stream) {
		fi, fo := Fans(w.Shape())
		b := gain * math.Sqrt(6/float64(fi+fo))
		r.Uniform(w.Data(), -b, b)
	}
}

// XavierNormal is Glorot init N(0, gain²·2/(fan_in+fan_out)).
func XavierNormal(gain float64) Init {
	return func(w *tensor.Tensor, r *rng.Stream) {
		fi, fo := Fans(w.Shape())
		r.Normal(w.Data(), 0, gain*math.Sqrt(2/float64(fi+fo)))
	}
}

// DefaultInit is PyTorch's default weight init for Linear and Conv: KaimingUniform(√5).
var DefaultInit = KaimingUniform(math.Sqrt(5))

// InitByName returns an init scheme by name: "default", "kaiming-uniform",
// "kaiming-normal", "xavier-uniform", "xavier-normal".
func InitByName(name string) (Init, error) {
	switch name {
	case "", "default":
		return DefaultInit, nil
	case "kaiming-uniform", "he-uniform":
		return KaimingUniform(0), nil
	case "kaiming-normal", "he-normal", "he":
		return KaimingNormal(0), nil
	case "xavier-uniform", "glorot-uniform", "xavier", "glorot":
		return XavierUniform(1), nil
	case "xavier-normal", "glorot-normal":
		return XavierNormal(1), nil
	}
	return nil, fmt.Errorf("nn: unknown init %q (want default, kaiming-uniform, kaiming-normal, xavier-uniform or xavier-normal)", name)
}
