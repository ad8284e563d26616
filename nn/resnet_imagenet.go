package nn

import (
	"fmt"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/rng"
)

func init() {
	RegisterModelDefaults("resnet18", ModelConfig{InShape: []int{3, 224, 224}, Classes: 1000}, func(cfg ModelConfig, r *rng.Stream) (Module, error) {
		return buildImageNetResNet("resnet18", []int{2, 2, 2, 2}, cfg, r)
	})
	RegisterModelDefaults("resnet34", ModelConfig{InShape: []int{3, 224, 224}, Classes: 1000}, func(cfg ModelConfig, r *rng.Stream) (Module, error) {
		return buildImageNetResNet("resnet34", []int{3, 4, 6, 3}, cfg, r)
	})
}

// ImageNetResNet is the ImageNet ResNet of He et al. 2016 (Table 1) with basic blocks, as
// torchvision builds resnet18 and resnet34: a 7×7 stride-2 convolution (no bias) to
// Width channels with BN and ReLU, 3×3 stride-2 max pooling (padding 1), four stages of
// basic blocks with Width, 2·Width, 4·Width and 8·Width channels (stages 2–4 start with
// stride 2 and a 1×1 stride-2 convolution + BN "downsample" shortcut, option B), global
// average pooling and a linear classifier. Width is 64 in torchvision; smaller widths
// keep the topology (the golden test uses 8). State-dict names are torchvision's:
// conv1.weight, bn1.*, layer1.0.conv1.weight, layer2.0.downsample.0.weight,
// layer2.0.downsample.1.running_mean, fc.weight, fc.bias.
//
// Initialization follows torchvision: Kaiming-normal convolutions (fan-out, ReLU gain
// — here fan-in, temper's KaimingNormal; the variance differs by the kernel's
// in/out ratio, irrelevant when pretrained weights are loaded), BN γ = 1 and β = 0,
// PyTorch's default Linear init.
type ImageNetResNet struct {
	Conv1  *Conv2D
	BN1    *BatchNorm
	Pool0  *MaxPool2D
	Layers [4]*Sequential
	Pool   *AdaptiveAvgPool2D
	FC     *Linear
}

// tvBlock is a BasicBlock whose projection shortcut is named "downsample" (torchvision)
// instead of "shortcut".
type tvBlock struct{ *BasicBlock }

// Children implements Parent with torchvision's names.
func (b tvBlock) Children() []Child {
	c := b.BasicBlock.Children()
	for i := range c {
		if c[i].Name == "shortcut" {
			c[i].Name = "downsample"
		}
	}
	return c
}

// NewImageNetResNet returns an ImageNet ResNet with blocks[i] basic blocks in stage i
// ([2 2 2 2]: ResNet-18, [3 4 6 3]: ResNet-34), the given base width (64 in torchvision),
// inChannels-channel input and the given number of classes.
func NewImageNetResNet(blocks []int, width, inChannels, classes int, r *rng.Stream) (*ImageNetResNet, error) {
	if len(blocks) != 4 {
		return nil, fmt.Errorf("nn: imagenet resnet wants 4 stages, got %d", len(blocks))
	}
	if width < 1 || inChannels < 1 || classes < 1 {
		return nil, fmt.Errorf("nn: imagenet resnet width %d, channels %d, classes %d: want all >= 1", width, inChannels, classes)
	}
	init := KaimingNormal(0)
	conv1, err := NewConv2D(inChannels, width, 7, r, Conv2DConfig{Stride: 2, Padding: 3, NoBias: true, Init: init})
	if err != nil {
		return nil, err
	}
	m := &ImageNetResNet{Conv1: conv1}
	m.BN1, _ = NewBatchNorm2D(width, BatchNormConfig{})
	m.BN1.FuseReLU = true
	if m.Pool0, err = NewMaxPool2D(3, PoolConfig{Stride: 2, Padding: 1}); err != nil {
		return nil, err
	}
	in := width
	for s, n := range blocks {
		if n < 1 {
			return nil, fmt.Errorf("nn: imagenet resnet stage %d has %d blocks, want >= 1", s+1, n)
		}
		out := width << s
		var bs []Module
		for i := 0; i < n; i++ {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			b, err := NewBasicBlock(in, out, stride, ShortcutB, init, r)
			if err != nil {
				return nil, err
			}
			bs = append(bs, tvBlock{b})
			in = out
		}
		m.Layers[s] = NewSequential(bs...)
	}
	m.Pool, _ = NewAdaptiveAvgPool2D(1, 1)
	m.FC = NewLinear(in, classes, r, LinearConfig{})
	return m, nil
}

// Children implements Parent.
func (m *ImageNetResNet) Children() []Child {
	return []Child{{"conv1", m.Conv1}, {"bn1", m.BN1}, {"maxpool", m.Pool0}, {"layer1", m.Layers[0]}, {"layer2", m.Layers[1]},
		{"layer3", m.Layers[2]}, {"layer4", m.Layers[3]}, {"fc", m.FC}}
}

// Features maps images (N, C, H, W) to the pooled features (N, 8·Width) the classifier
// reads.
func (m *ImageNetResNet) Features(x *ag.Var) *ag.Var {
	h := m.Pool0.Forward(m.BN1.Forward(m.Conv1.Forward(x)))
	for _, l := range m.Layers {
		h = l.Forward(h)
	}
	return flatPooled(m.Pool.Forward(h), "nn.ImageNetResNet")
}

// Forward maps images (N, C, H, W) to logits (N, classes).
func (m *ImageNetResNet) Forward(x *ag.Var) *ag.Var { return m.FC.Forward(m.Features(x)) }

func buildImageNetResNet(name string, blocks []int, cfg ModelConfig, r *rng.Stream) (Module, error) {
	c, _, _, err := imageShape(name, cfg, 1)
	if err != nil {
		return nil, err
	}
	return NewImageNetResNet(blocks, 64, c, cfg.Classes, r)
}
