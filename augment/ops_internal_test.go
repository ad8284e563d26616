package augment

import (
	"math"
	"testing"
)

func TestPadIndex(t *testing.T) {
	// Row [a b c d] (n = 4) padded by 3 on both sides.
	for _, c := range []struct {
		mode PadMode
		want []int
	}{
		{ZeroPad, []int{-1, -1, -1, 0, 1, 2, 3, -1, -1, -1}},
		{ReflectPad, []int{3, 2, 1, 0, 1, 2, 3, 2, 1, 0}},
		{EdgePad, []int{0, 0, 0, 0, 1, 2, 3, 3, 3, 3}},
	} {
		for i, want := range c.want {
			if got := padIndex(i-3, 4, c.mode); got != want {
				t.Errorf("%v: padIndex(%d) = %d, want %d", c.mode, i-3, got, want)
			}
		}
	}
}

// TestWarpExact checks the affine warp on cases with exact answers: a 90° rotation of a
// 3×3 image about its center, and whole-pixel translations.
func TestWarpExact(t *testing.T) {
	img := func() []float32 { return []float32{1, 2, 3, 4, 5, 6, 7, 8, 9} }
	x := img()
	warp(x, 1, 3, 3, math.Pi/2, 0, 0)
	// +90° turns the image counter-clockwise as displayed: the right column (3 6 9) becomes
	// the top row.
	want := []float32{3, 6, 9, 2, 5, 8, 1, 4, 7}
	for i := range want {
		if math.Abs(float64(x[i]-want[i])) > 1e-5 {
			t.Fatalf("rotate 90: got %v, want %v", x, want)
		}
	}
	x = img()
	warp(x, 1, 3, 3, 0, 1, 0) // shift right by one pixel
	want = []float32{0, 1, 2, 0, 4, 5, 0, 7, 8}
	for i := range want {
		if math.Abs(float64(x[i]-want[i])) > 1e-6 {
			t.Fatalf("shift right: got %v, want %v", x, want)
		}
	}
	x = img()
	warp(x, 1, 3, 3, 0, 0, -0.5) // half a pixel up: rows average
	want = []float32{2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 3.5, 4, 4.5}
	for i := range want {
		if math.Abs(float64(x[i]-want[i])) > 1e-5 {
			t.Fatalf("shift up 0.5: got %v, want %v", x, want)
		}
	}
}

func TestShiftHue(t *testing.T) {
	// Pure red shifted by a third of a turn is pure green, by two thirds pure blue.
	for _, c := range []struct {
		d    float64
		want [3]float32
	}{{0, [3]float32{1, 0, 0}}, {1.0 / 3, [3]float32{0, 1, 0}}, {2.0 / 3, [3]float32{0, 0, 1}}, {-1.0 / 3, [3]float32{0, 0, 1}}} {
		x := []float32{1, 0, 0}
		shiftHue(x, 1, c.d)
		for i := range x {
			if math.Abs(float64(x[i]-c.want[i])) > 1e-5 {
				t.Errorf("shift %v: got %v, want %v", c.d, x, c.want)
			}
		}
	}
	// Gray pixels are unchanged; an arbitrary color keeps its value (max) and saturation.
	x := []float32{0.3, 0.3, 0.3}
	shiftHue(x, 1, 0.2)
	if x[0] != 0.3 || x[1] != 0.3 || x[2] != 0.3 {
		t.Errorf("gray changed: %v", x)
	}
	x = []float32{0.8, 0.4, 0.2}
	shiftHue(x, 1, 0.37)
	mx := max(x[0], x[1], x[2])
	mn := min(x[0], x[1], x[2])
	if math.Abs(float64(mx-0.8)) > 1e-5 || math.Abs(float64((mx-mn)/mx-0.75)) > 1e-5 {
		t.Errorf("value/saturation changed: %v", x)
	}
}
