package nn

import (
	"fmt"
	"strconv"
)

// Fusion is one group of adjacent layers of a Sequential that Fuse made run as one pass.
type Fusion struct {
	// Path is the Sequential's state-dict prefix ("" for the root), Layers the indices
	// of the fused layers within it.
	Path   string
	Layers []int
	// Kind names the pattern: "conv+bn", "bn+relu" or "bn+relu+maxpool2".
	Kind string
}

func (f Fusion) String() string {
	s := ""
	for i, l := range f.Layers {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(l)
	}
	if f.Path == "" {
		return fmt.Sprintf("%s at layers %s", f.Kind, s)
	}
	return fmt.Sprintf("%s at %s layers %s", f.Kind, f.Path, s)
}

// Fuse rewrites the Sequentials of m, in place, so that adjacent layers with a fused
// kernel run as one pass, and returns what it fused. The decision is made from the layer
// graph alone; the math is unchanged (the fused kernels equal the separate layers up to
// float32 rounding: TestFusedBNReLUPool, TestConvBNFused), parameter and buffer names are
// unchanged (a fused ReLU or pool is replaced by the identity FusedReLU{} or
// FusedMaxPool2D{}, which keeps the module indices of PyTorch's nn.Sequential). The
// patterns, within one Sequential:
//
//   - Conv2D → BatchNorm (2-d, same channel count): the convolution computes the batch
//     statistics in its output pass (training mode), and — when the BN also fuses ReLU and
//     pooling, the conv's input needs no gradient and its window is small — the BN's pooled
//     output itself (conv_fused.go). Each condition is checked at every forward pass;
//     when one fails the layers run separately.
//   - BatchNorm → ReLU: the BN applies the ReLU in its affine pass (BatchNorm.FuseReLU).
//   - BatchNorm(2-d) → ReLU → MaxPool2D(2×2, stride 2, no padding, dilation 1): the BN
//     also pools in the same pass (FuseMaxPool2).
//
// NewSequential calls it on its own layers, so a hand-built
// NewSequential(conv, bn, ReLU{}, pool) runs exactly as the built-in cnn model does. A
// Sequential written as a struct literal is not fused until Fuse is called on it; that is
// the way to keep the layers separate. Fuse is idempotent.
func Fuse(m Module) []Fusion {
	var done []Fusion
	walk(m, "", func(prefix string, mod Module) {
		if s, ok := mod.(*Sequential); ok {
			done = append(done, fuseLayers(prefix, s.Layers)...)
		}
	})
	return done
}

// isReLU reports whether m is the ReLU module (by value or pointer).
func isReLU(m Module) bool {
	switch m.(type) {
	case ReLU, *ReLU:
		return true
	}
	return false
}

// isPool2 reports whether m is a 2×2 stride-2 max pooling without padding or dilation,
// the pooling BatchNorm.FuseMaxPool2 computes.
func isPool2(m Module) bool {
	p, ok := m.(*MaxPool2D)
	if !ok {
		return false
	}
	g := p.geom
	return g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1
}

func fuseLayers(prefix string, ls []Module) []Fusion {
	var done []Fusion
	for i, l := range ls {
		bn, ok := l.(*BatchNorm)
		if !ok {
			continue
		}
		if i > 0 {
			if conv, ok := ls[i-1].(*Conv2D); ok && conv.link == nil && bn.link == nil && bn.dims == 2 &&
				conv.Weight != nil && conv.Weight.Value.Shape()[0] == bn.Features {
				fuseConvBN(conv, bn)
				done = append(done, Fusion{Path: prefix, Layers: []int{i - 1, i}, Kind: "conv+bn"})
			}
		}
		if i+1 >= len(ls) || !isReLU(ls[i+1]) {
			continue
		}
		bn.FuseReLU = true
		ls[i+1] = FusedReLU{}
		if bn.dims == 2 && !bn.FuseMaxPool2 && i+2 < len(ls) && isPool2(ls[i+2]) {
			bn.FuseMaxPool2 = true
			ls[i+2] = FusedMaxPool2D{}
			done = append(done, Fusion{Path: prefix, Layers: []int{i, i + 1, i + 2}, Kind: "bn+relu+maxpool2"})
			continue
		}
		done = append(done, Fusion{Path: prefix, Layers: []int{i, i + 1}, Kind: "bn+relu"})
	}
	return done
}
