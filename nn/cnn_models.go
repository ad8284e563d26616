package nn

import (
	"fmt"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/rng"
)

func init() {
	RegisterModelDefaults("cnn", ModelConfig{InShape: []int{1, 28, 28}, Classes: 10, Dropout: 0.5}, buildCNN)
	RegisterModel("lenet5", buildLeNet5)
	RegisterModel("resnet20", buildResNet20)
}

// imageShape checks a model config's input shape (C, H, W) against a minimum size.
func imageShape(name string, cfg ModelConfig, minHW int) (c, h, w int, err error) {
	if len(cfg.InShape) != 3 {
		return 0, 0, 0, fmt.Errorf("nn: model %s wants input shape (C, H, W), got %v", name, cfg.InShape)
	}
	c, h, w = cfg.InShape[0], cfg.InShape[1], cfg.InShape[2]
	if c < 1 || h < minHW || w < minHW {
		return 0, 0, 0, fmt.Errorf("nn: model %s input shape %v out of range (want C >= 1, H and W >= %d)", name, cfg.InShape, minHW)
	}
	return c, h, w, nil
}

// buildCNN is the reference CNN of shared/bench/torch_mnist.py, as an nn.Sequential with
// PyTorch's indices (state-dict names "0.weight", "1.running_mean", …, "9.weight",
// "12.weight"):
//
//	0 conv3x3(C→32, pad 1)  1 BN  2 ReLU  3 maxpool2
//	4 conv3x3(32→64, pad 1) 5 BN  6 ReLU  7 maxpool2
//	8 Flatten  9 fc(64·H/4·W/4 → 128)  10 ReLU  11 dropout (default 0.5)  12 fc(128 → classes)
//
// Each BN computes its ReLU and the following 2×2 max pooling in the same pass
// (BatchNorm.FuseReLU and FuseMaxPool2, decided by Fuse from the layer graph), so modules
// 2, 3, 6 and 7 are identities that keep the indices; the math is unchanged
// (TestFusedBNReLUPool checks it against the unfused modules).
func buildCNN(cfg ModelConfig, r *rng.Stream) (Module, error) {
	c, h, w, err := imageShape("cnn", cfg, 4)
	if err != nil {
		return nil, err
	}
	conv1, err := NewConv2D(c, 32, 3, r, Conv2DConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	bn1, _ := NewBatchNorm2D(32, BatchNormConfig{})
	conv2, _ := NewConv2D(32, 64, 3, r, Conv2DConfig{Padding: 1})
	bn2, _ := NewBatchNorm2D(64, BatchNormConfig{})
	fc1 := NewLinear(64*(h/4)*(w/4), 128, r, LinearConfig{})
	drop, err := NewDropout(cfg.Dropout, r.Split())
	if err != nil {
		return nil, err
	}
	fc2 := NewLinear(128, cfg.Classes, r, LinearConfig{})
	pool1, _ := NewMaxPool2D(2, PoolConfig{})
	pool2, _ := NewMaxPool2D(2, PoolConfig{})
	// NewSequential fuses conv+BN+ReLU+pool (Fuse): modules 2, 3, 6 and 7 become the
	// identities FusedReLU{} and FusedMaxPool2D{}.
	return NewSequential(conv1, bn1, ReLU{}, pool1, conv2, bn2, ReLU{}, pool2,
		Flatten{}, fc1, ReLU{}, drop, fc2), nil
}

// FusedMaxPool2D marks, in a Sequential, a 2×2 max pooling computed by the preceding
// module (a BatchNorm with FuseMaxPool2): it is the identity and keeps PyTorch's indices.
type FusedMaxPool2D struct{}

// Forward returns x unchanged.
func (FusedMaxPool2D) Forward(x *ag.Var) *ag.Var { return x }

// FusedReLU marks, in a Sequential, a ReLU computed by the preceding module (a BatchNorm
// with FuseReLU): it is the identity and keeps PyTorch's module indices.
type FusedReLU struct{}

// Forward returns x unchanged.
func (FusedReLU) Forward(x *ag.Var) *ag.Var { return x }

// buildLeNet5 is LeNet-5 (LeCun et al. 1998, "Gradient-based learning applied to document
// recognition") as most PyTorch tutorials write it, with ReLU and max pooling instead of
// the paper's scaled tanh and trainable subsampling, and a padded first layer so 28×28
// MNIST gets the paper's 32×32 geometry:
//
//	0 conv5x5(C→6, pad 2) 1 ReLU 2 maxpool2 3 conv5x5(6→16) 4 ReLU 5 maxpool2
//	6 Flatten 7 fc(16·H'·W' → 120) 8 ReLU 9 fc(120 → 84) 10 ReLU 11 fc(84 → classes)
func buildLeNet5(cfg ModelConfig, r *rng.Stream) (Module, error) {
	c, h, w, err := imageShape("lenet5", cfg, 12)
	if err != nil {
		return nil, err
	}
	conv1, err := NewConv2D(c, 6, 5, r, Conv2DConfig{Padding: 2})
	if err != nil {
		return nil, err
	}
	conv2, _ := NewConv2D(6, 16, 5, r, Conv2DConfig{})
	p1, _ := NewMaxPool2D(2, PoolConfig{})
	p2, _ := NewMaxPool2D(2, PoolConfig{})
	oh, ow := (h/2-4)/2, (w/2-4)/2
	return NewSequential(conv1, ReLU{}, p1, conv2, ReLU{}, p2, Flatten{},
		NewLinear(16*oh*ow, 120, r, LinearConfig{}), ReLU{},
		NewLinear(120, 84, r, LinearConfig{}), ReLU{},
		NewLinear(84, cfg.Classes, r, LinearConfig{})), nil
}

// ResNet is the CIFAR ResNet of He et al. 2016 (§4.2): a 3×3 conv to 16 channels with BN
// and ReLU, three stages of n basic blocks with 16, 32 and 64 channels (stages 2 and 3
// start with stride 2, option-A shortcuts), global average pooling and a linear layer;
// depth 6n+2 (resnet20: n = 3, 0.27M parameters). Names follow the common PyTorch CIFAR
// implementation (conv1, bn1, layer1…layer3, linear); conv and linear weights use
// Kaiming-normal init as it does.
type ResNet struct {
	Conv1  *Conv2D
	BN1    *BatchNorm
	Layers [3]*Sequential
	Pool   *AdaptiveAvgPool2D
	Linear *Linear
}

// NewResNet returns a CIFAR ResNet with n blocks per stage for inChannels-channel input
// and the given number of classes.
func NewResNet(n, inChannels, classes int, sc Shortcut, r *rng.Stream) (*ResNet, error) {
	if n < 1 {
		return nil, fmt.Errorf("nn: resnet blocks per stage %d out of range [1, ∞)", n)
	}
	init := KaimingNormal(0)
	conv1, err := NewConv2D(inChannels, 16, 3, r, Conv2DConfig{Padding: 1, NoBias: true, Init: init})
	if err != nil {
		return nil, err
	}
	m := &ResNet{Conv1: conv1}
	m.BN1, _ = NewBatchNorm2D(16, BatchNormConfig{})
	m.BN1.FuseReLU = true
	in := 16
	for s, width := range []int{16, 32, 64} {
		var blocks []Module
		for i := 0; i < n; i++ {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			b, err := NewBasicBlock(in, width, stride, sc, init, r)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
			in = width
		}
		m.Layers[s] = NewSequential(blocks...)
	}
	m.Pool, _ = NewAdaptiveAvgPool2D(1, 1)
	m.Linear = NewLinear(64, classes, r, LinearConfig{Init: init})
	return m, nil
}

// Children implements Parent.
func (m *ResNet) Children() []Child {
	return []Child{{"conv1", m.Conv1}, {"bn1", m.BN1}, {"layer1", m.Layers[0]}, {"layer2", m.Layers[1]},
		{"layer3", m.Layers[2]}, {"linear", m.Linear}}
}

// Forward maps images (N, C, H, W) to logits (N, classes).
func (m *ResNet) Forward(x *ag.Var) *ag.Var { return m.Linear.Forward(m.Features(x)) }

func buildResNet20(cfg ModelConfig, r *rng.Stream) (Module, error) {
	c, _, _, err := imageShape("resnet20", cfg, 1)
	if err != nil {
		return nil, err
	}
	return NewResNet(3, c, cfg.Classes, ShortcutA, r)
}
