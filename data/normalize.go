package data

import (
	"math"

	"github.com/temperml/temper/tensor"
)

// MinStd is the smallest standard deviation ComputeNormalization keeps; a channel whose
// population standard deviation is below it (a constant channel) gets Std 1, so it is only
// centred. (Dividing by a tiny std would turn any later deviation, e.g. on test data, into
// a huge value.)
const MinStd = 1e-12

// Normalization is per-channel standardization, y = (x − Mean[c]) / Std[c], as
// torchvision's Normalize(mean, std). It is computed on the training split and stored with
// a model, so evaluation and prediction apply the same preprocessing.
type Normalization struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// ComputeNormalization returns the mean and the population standard deviation
// sqrt(Σ(x − mean)²/M) of each channel over all examples and pixels of d (M values per
// channel), computed in two passes with float64 sums. The channel axis is the first axis
// of d.Shape(). A std below MinStd becomes 1; an empty dataset gives mean 0 and std 1.
func ComputeNormalization(d *InMemory) Normalization {
	ch := d.Shape()[0]
	plane := d.Size() / ch
	nm := Normalization{Mean: make([]float64, ch), Std: make([]float64, ch)}
	n := d.Len()
	m := float64(n * plane)
	for c := range ch {
		sum := 0.0
		for i := range n {
			for _, v := range d.X[(i*ch+c)*plane : (i*ch+c+1)*plane] {
				sum += float64(v)
			}
		}
		mean := 0.0
		if n > 0 {
			mean = sum / m
		}
		ss := 0.0
		for i := range n {
			for _, v := range d.X[(i*ch+c)*plane : (i*ch+c+1)*plane] {
				dv := float64(v) - mean
				ss += dv * dv
			}
		}
		std := 1.0
		if n > 0 {
			std = math.Sqrt(ss / m)
		}
		if !(std >= MinStd) {
			std = 1
		}
		nm.Mean[c], nm.Std[c] = mean, std
	}
	return nm
}

// Validate checks that n has one finite mean and one finite positive std per channel.
func (n Normalization) Validate(channels int) error {
	if len(n.Mean) != channels || len(n.Std) != channels {
		return invalid("Normalization", "%d means and %d stds for %d channels", len(n.Mean), len(n.Std), channels)
	}
	for c := range channels {
		if math.IsNaN(n.Mean[c]) || math.IsInf(n.Mean[c], 0) {
			return invalid("Normalization", "mean[%d] = %v, want a finite number", c, n.Mean[c])
		}
		if !(n.Std[c] > 0) || math.IsInf(n.Std[c], 0) {
			return invalid("Normalization", "std[%d] = %v out of range (0, +Inf)", c, n.Std[c])
		}
	}
	return nil
}

// Apply returns a normalized copy of d (d is untouched).
func (n Normalization) Apply(d *InMemory) (*InMemory, error) {
	out := &InMemory{X: append([]float32(nil), d.X...), Y: append([]int(nil), d.Y...),
		ExampleShape: append([]int(nil), d.ExampleShape...), NumClasses: d.NumClasses}
	shape := append([]int{d.Len()}, d.ExampleShape...)
	if len(shape) < 3 {
		shape = append(shape, 1)
	}
	if err := n.applyAxis(out.X, shape, 1); err != nil {
		return nil, err
	}
	return out, nil
}

// ApplyTo normalizes x in place: one or more examples shaped [..., C, H, W] (the channel
// axis is the third from last). In float32: y = (x − float32(Mean[c])) · float32(1/Std[c]).
func (n Normalization) ApplyTo(x []float32, shape []int) error {
	if len(shape) < 3 {
		return invalid("Normalization.ApplyTo", "shape %v, want [..., C, H, W]", shape)
	}
	return n.applyAxis(x, shape, len(shape)-3)
}

// applyAxis normalizes x shaped shape with the channel axis at axis.
func (n Normalization) applyAxis(x []float32, shape []int, axis int) error {
	for _, d := range shape {
		if d < 0 {
			return invalid("Normalization.ApplyTo", "shape %v has a negative dimension", shape)
		}
	}
	if tensor.NumElements(shape) != len(x) {
		return invalid("Normalization.ApplyTo", "%d values for shape %v", len(x), shape)
	}
	ch := shape[axis]
	if err := n.Validate(ch); err != nil {
		return err
	}
	inner := tensor.NumElements(shape[axis+1:])
	mean := make([]float32, ch)
	inv := make([]float32, ch)
	for c := range ch {
		mean[c], inv[c] = float32(n.Mean[c]), float32(1/n.Std[c])
	}
	for off := 0; off < len(x); off += ch * inner {
		for c := range ch {
			seg := x[off+c*inner : off+(c+1)*inner]
			for i, v := range seg {
				seg[i] = (v - mean[c]) * inv[c]
			}
		}
	}
	return nil
}
