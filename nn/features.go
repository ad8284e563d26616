package nn

import (
	"fmt"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/tensor"
)

// Features maps images (N, C, H, W) to the pooled features (N, 64) the classifier reads.
func (m *ResNet) Features(x *ag.Var) *ag.Var {
	h := m.BN1.Forward(m.Conv1.Forward(x))
	for _, l := range m.Layers {
		h = l.Forward(h)
	}
	return flatPooled(m.Pool.Forward(h), "nn.ResNet")
}

// flatPooled reshapes globally pooled features (N, C, 1, 1) to (N, C).
func flatPooled(h *ag.Var, op string) *ag.Var {
	s := h.Value.Shape()
	if len(s) != 4 {
		panic(&tensor.ShapeError{Op: op, A: s, Msg: "pooled features must be (N, C, 1, 1)"})
	}
	return ag.Reshape(h, s[0], s[1])
}

// SplitHead splits a model into its body (input to the features its classifier reads)
// and its classifier, the module with the model's last parameters: for the ResNets the
// pooled features and the final Linear, for a Sequential every layer but the last and
// the last (which must be a Linear). Forward(x) = head.Forward(body(x)).
func SplitHead(m Module) (body func(*ag.Var) *ag.Var, head *Linear, err error) {
	switch m := m.(type) {
	case *ResNet:
		return m.Features, m.Linear, nil
	case *ImageNetResNet:
		return m.Features, m.FC, nil
	case *Sequential:
		if n := len(m.Layers); n > 0 {
			if l, ok := m.Layers[n-1].(*Linear); ok {
				rest := NewSequential(m.Layers[:n-1]...)
				return rest.Forward, l, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("nn: %T has no body/classifier split (want a ResNet or a Sequential ending in a Linear)", m)
}
