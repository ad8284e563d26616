//go:build amd64

package kernel

import "testing"

// TestFMAPeak: every vector path's peak loop runs and reports its FLOPs; the sum it
// stores is the fixed point of acc = acc/2 + 1 (2 per lane, times the chains).
func TestFMAPeak(t *testing.T) {
	defer func(im *implementation) { impl = im }(impl)
	for _, im := range implementations() {
		impl = im
		f := FMAPeak(100)
		if im.fmaPeak == nil {
			if f != 0 {
				t.Errorf("%s: FMAPeak = %v without a peak loop", im.name, f)
			}
			continue
		}
		if f <= 0 {
			t.Errorf("%s: FMAPeak(100) = %v", im.name, f)
		}
		if got := peakSink[0]; got < 1 || got > 64 {
			t.Errorf("%s: peak loop stored %v, want a sum of values in (1, 2]", im.name, got)
		}
	}
}
