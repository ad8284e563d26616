package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradAsmMatchesGo runs the four Winograd row kernels with random runs (1..15
// tiles, several channels, rows in and out of the image, random column masks including
// runs that start left of the image) through the AVX-512 code and the Go code and
// requires bit-identical results.
func TestWinogradAsmMatchesGo(t *testing.T) {
	if !useBNAsm() {
		t.Skip("AVX-512 path not selected")
	}
	r := rand.New(rand.NewPCG(1, 2))
	randv := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	same := func(name string, a, b []float32) {
		t.Helper()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: element %d: asm %g, Go %g", name, i, a[i], b[i])
			}
		}
	}
	const margin = 64
	for trial := 0; trial < 400; trial++ {
		nt := 1 + r.IntN(15)
		nc := 1 + r.IntN(4)
		cols := r.Uint32()
		if trial%3 == 0 {
			cols = 0xffffffff >> r.IntN(32)
		}
		rows := uint(r.IntN(16))
		var off [4]int
		for a := range off {
			off[a] = -margin/2 + r.IntN(margin)
		}
		chanX := 2*margin + 40 + r.IntN(8)
		xb := margin
		planeP := 16 + r.IntN(8)
		chanP := 16*planeP + r.IntN(4)
		nplanes := nc * chanP
		// Input transform.
		x := randv(xb + nc*chanX + margin)
		v1, v2 := randv(nplanes), make([]float32, nplanes)
		copy(v2, v1)
		WinoInput(x, xb, off, rows, cols, chanX, v1, 0, chanP, planeP, nc, nt)
		winoInputGo(x, xb, off, rows, cols, chanX, v2, 0, chanP, planeP, nc, nt)
		same("WinoInput", v1, v2)
		// Input gradient.
		dx1 := randv(len(x))
		dx2 := append([]float32(nil), dx1...)
		WinoInputGrad(v1, 0, planeP, chanP, dx1, xb, off, rows, cols, chanX, nc, nt)
		winoInputGradGo(v1, 0, planeP, chanP, dx2, xb, off, rows, cols, chanX, nc, nt)
		same("WinoInputGrad", dx1, dx2)
		// Output transform, with and without bias and sums.
		orows := 1 + r.IntN(2)
		ow := 40 + r.IntN(8)
		chanY := 2*ow + r.IntN(4)
		y1 := randv(nc*chanY + 32)
		y2 := append([]float32(nil), y1...)
		var bias, s1, s2 []float32
		if trial%2 == 0 {
			bias = randv(nc)
			s1 = randv(32 * nc)
			s2 = append([]float32(nil), s1...)
		}
		WinoOutput(v1, 0, planeP, chanP, y1, 0, ow, chanY, orows, cols, bias, s1, nc, nt)
		winoOutputGo(v1, 0, planeP, chanP, y2, 0, ow, chanY, orows, cols, bias, s2, nc, nt)
		same("WinoOutput y", y1, y2)
		same("WinoOutput sums", s1, s2)
		// Output gradient.
		m1, m2 := randv(nplanes), make([]float32, nplanes)
		copy(m2, m1)
		var g1, g2 []float32
		if trial%2 == 1 {
			g1 = randv(16 * nc)
			g2 = append([]float32(nil), g1...)
		}
		WinoGrad(y1, 0, ow, chanY, orows, cols, m1, 0, planeP, chanP, g1, nc, nt)
		winoGradGo(y1, 0, ow, chanY, orows, cols, m2, 0, planeP, chanP, g2, nc, nt)
		same("WinoGrad dm", m1, m2)
		same("WinoGrad sums", g1, g2)
	}
}

// TestWinogradRunChecks checks that a run outside its slices panics before any access.
func TestWinogradRunChecks(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	x, v := make([]float32, 64), make([]float32, 16*8)
	mustPanic("nt 16", func() { WinoInput(x, 0, [4]int{}, 1, 1, 64, v, 0, 128, 8, 1, 16) })
	mustPanic("left of x", func() { WinoInput(x, 0, [4]int{-1}, 1, 1, 64, v, 0, 128, 8, 1, 1) })
	mustPanic("right of x", func() { WinoInput(x, 0, [4]int{40}, 1, 0xffffffff, 64, v, 0, 128, 8, 1, 1) })
	mustPanic("planes", func() { WinoInput(x, 0, [4]int{}, 1, 1, 64, v, 0, 128, 9, 1, 1) })
	mustPanic("rows 3", func() { WinoOutput(v, 0, 8, 128, x, 0, 8, 64, 3, 1, nil, nil, 1, 1) })
}
