package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestWinoRunLayout pins the offsets winograd_amd64.s reads a WinoRun at.
func TestWinoRunLayout(t *testing.T) {
	var r WinoRun
	got := []uintptr{unsafe.Offsetof(r.Off), unsafe.Offsetof(r.Rows), unsafe.Offsetof(r.Cols),
		unsafe.Offsetof(r.T), unsafe.Offsetof(r.NT), unsafe.Sizeof(r)}
	want := []uintptr{0, 32, 40, 48, 56, 64}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("WinoRun layout %v, the assembly reads %v", got, want)
		}
	}
}

// randomRuns returns n random runs for planes of the given geometry: 1..15 tiles at
// positions that do not overlap, rows in and out of the image, random column masks
// (including runs that start left of their row).
func randomRuns(r *rand.Rand, n, planeLen, margin int, output bool) []WinoRun {
	runs := make([]WinoRun, n)
	t := 0
	for i := range runs {
		nt := 1 + r.IntN(15)
		if t+nt > planeLen {
			t = 0
		}
		cols := r.Uint32()
		if i%3 == 0 {
			cols = 0xffffffff >> r.IntN(32)
		}
		var off [4]int
		for a := range off {
			off[a] = margin/2 + r.IntN(margin)
		}
		rows := r.IntN(16)
		if output {
			rows = 1 + r.IntN(2)
		}
		runs[i] = WinoRun{Off: off, Rows: rows, Cols: int(cols), T: t, NT: nt}
		t += nt
	}
	return runs
}

// TestWinogradAsmMatchesGo runs the four Winograd kernels over random runs and several
// channels through the AVX-512 code and the Go code and requires bit-identical results.
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
	withGo := func(f func()) {
		saved := impl
		impl = generic
		defer func() { impl = saved }()
		f()
	}
	for trial := 0; trial < 100; trial++ {
		nc := 1 + r.IntN(4)
		planeLen := 40 + r.IntN(40)
		planeP := planeLen + r.IntN(8)
		chanP := 16*planeP + r.IntN(4)
		const margin = 64
		chanX := 3*margin + 40
		runs := randomRuns(r, 1+r.IntN(12), planeLen, margin, false)
		x := randv(nc*chanX + margin)
		v1 := randv(nc * chanP)
		v2 := append([]float32(nil), v1...)
		WinoInput(x, chanX, runs, v1, chanP, planeP, nc)
		withGo(func() { WinoInput(x, chanX, runs, v2, chanP, planeP, nc) })
		same("WinoInput", v1, v2)

		dx1 := randv(len(x))
		dx2 := append([]float32(nil), dx1...)
		WinoInputGrad(v1, planeP, chanP, runs, dx1, chanX, nc)
		withGo(func() { WinoInputGrad(v1, planeP, chanP, runs, dx2, chanX, nc) })
		same("WinoInputGrad", dx1, dx2)

		oruns := randomRuns(r, 1+r.IntN(12), planeLen, margin, true)
		ow := 40 + r.IntN(8)
		chanY := 2*margin + 2*ow
		y1 := randv(nc*chanY + margin)
		y2 := append([]float32(nil), y1...)
		var bias, s1, s2 []float32
		if trial%2 == 0 {
			bias = randv(nc)
			s1 = randv(32 * nc)
			s2 = append([]float32(nil), s1...)
		}
		WinoOutput(v1, planeP, chanP, oruns, y1, ow, chanY, bias, s1, nc)
		withGo(func() { WinoOutput(v1, planeP, chanP, oruns, y2, ow, chanY, bias, s2, nc) })
		same("WinoOutput y", y1, y2)
		same("WinoOutput sums", s1, s2)

		m1 := randv(nc * chanP)
		m2 := append([]float32(nil), m1...)
		var g1, g2 []float32
		if trial%2 == 1 {
			g1 = randv(16 * nc)
			g2 = append([]float32(nil), g1...)
		}
		WinoGrad(y1, ow, chanY, oruns, m1, planeP, chanP, g1, nc)
		withGo(func() { WinoGrad(y1, ow, chanY, oruns, m2, planeP, chanP, g2, nc) })
		same("WinoGrad dm", m1, m2)
		same("WinoGrad sums", g1, g2)
	}
}

// TestWinogradRunChecks checks that a run reaching outside its slices panics before any
// access.
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
	run := func(off, rows, cols, tt, nt int) []WinoRun {
		return []WinoRun{{Off: [4]int{off}, Rows: rows, Cols: cols, T: tt, NT: nt}}
	}
	mustPanic("nt 16", func() { WinoInput(x, 64, run(0, 1, 1, 0, 16), v, 128, 8, 1) })
	mustPanic("left of x", func() { WinoInput(x, 64, run(-1, 1, 1, 0, 1), v, 128, 8, 1) })
	mustPanic("right of x", func() { WinoInput(x, 64, run(40, 1, 0xffffffff, 0, 1), v, 128, 8, 1) })
	mustPanic("second channel", func() { WinoInput(x, 64, run(0, 1, 1, 0, 1), v, 128, 8, 2) })
	mustPanic("planes", func() { WinoInput(x, 64, run(0, 1, 1, 0, 1), v, 128, 9, 1) })
	mustPanic("rows 3", func() { WinoOutput(v, 8, 128, run(0, 3, 1, 0, 1), x, 8, 64, nil, nil, 1) })
	mustPanic("sums", func() { WinoGrad(x, 8, 64, run(0, 1, 1, 0, 1), v, 8, 128, make([]float32, 8), 1) })
	// In range: no panic.
	WinoInput(x, 64, run(1, 1, 0xffff, 0, 7), v, 128, 8, 1)
}
