package recipe

import (
	"testing"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// TestAdaptStemSum: a 3-channel stem becomes a 1-channel one by summing its RGB kernels
// (a gray image x gives the pre-activation the RGB image (x, x, x) gave), and a 2-channel
// one by repeating them scaled by 3/2.
func TestAdaptStemSum(t *testing.T) {
	m, err := nn.Build("resnet18", nn.ModelConfig{InShape: []int{1, 32, 32}, Classes: 4}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	w := tensor.Randn(rng.New(2), 64, 3, 7, 7)
	adapt := adaptStem(m)
	got, note := adapt("conv1.weight", w, []int{64, 1, 7, 7})
	if got == nil || note == "" {
		t.Fatal("no adaptation")
	}
	src, d := w.Data(), got.Data()
	for o := 0; o < 64; o++ {
		for k := 0; k < 49; k++ {
			want := src[(o*3)*49+k] + src[(o*3+1)*49+k] + src[(o*3+2)*49+k]
			if d[o*49+k] != want {
				t.Fatalf("[%d,0,%d] = %v, want the sum %v", o, k, d[o*49+k], want)
			}
		}
	}
	two, _ := adapt("conv1.weight", w, []int{64, 2, 7, 7})
	if v, want := two.Data()[(5*2+1)*49+3], src[(5*3+1)*49+3]*3/2; v != want {
		t.Errorf("2 channels: %v, want %v", v, want)
	}
	if a, _ := adapt("layer1.0.conv1.weight", w, []int{64, 1, 7, 7}); a != nil {
		t.Error("adapted a tensor that is not the stem")
	}
}
