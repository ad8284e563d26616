package ag

// SetRequiresGrad turns gradient tracking of a leaf (a parameter) on or off. Ops record
// a backward step only when one of their inputs requires a gradient, so a model whose
// first layers' parameters are off runs their backward pass not at all (nn.Freeze).
func (v *Var) SetRequiresGrad(on bool) { v.requiresGrad = on }
