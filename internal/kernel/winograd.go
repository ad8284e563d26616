package kernel

import (
	"fmt"
	"math/bits"
)

// Kernels for the transforms of Winograd F(2×2, 3×3) convolution (package nn,
// conv_winograd.go). The work of a block of tiles is described by runs: a run is nt
// consecutive 2×2 output tiles of one tile row of one image (1 <= nt <= 15, so its
// input window fits in 32 columns), with the tiles in the lanes of one vector (the
// stride-2 windows are split into even and odd columns by permutes rather than
// gathered). Each kernel walks the channels in the outer loop and the runs in the inner
// one, so the 16 plane rows of a channel are written (or read) completely while they
// are in L1. The transformed tiles live in 16 planes (one per element ξ = 4k+l of the
// 4×4 transform): channel c of plane ξ at c·chanP + ξ·planeP, tile t of a run at
// +Run.T+t.
//
// The AVX-512 versions and the Go versions perform the same float32 operations in the
// same order, so they agree bit for bit (tested), the statistics lanes too.

// WinogradVectorized reports whether the Winograd kernels run vectorized (the AVX-512
// path). Their Go versions cost 30–50 ns per tile, which makes Winograd slower than
// im2col, so package nn uses it only when this is true.
func WinogradVectorized() bool { return useBNAsm() }

// WinoRun is one run of tiles.
type WinoRun struct {
	// Input-side kernels (WinoInput, WinoInputGrad): Off[a] is where input row a of the
	// run's 4×4 windows starts (the column of its first window, possibly left of the
	// image) relative to channel 0, and bit a of Rows says whether the row is inside
	// the image. Output-side kernels (WinoOutput, WinoGrad): Off[0] is where the run's
	// first output row starts relative to channel 0, and Rows is the number of output
	// rows inside the image (1 or 2).
	Off  [4]int
	Rows int
	// Cols has bit i set if column i (of the 32 from Off) is inside the image; the
	// others read as zero and are not written.
	Cols int
	T    int // position of the run's first tile in the planes
	NT   int // tiles, 1..15
}

// WinoInput writes V = Bᵀ d B for every run and channel: input row a of channel c is
// x[c·chanX + Off[a] ...], and element ξ of tile t goes to v[c·chanP + ξ·planeP + T + t].
func WinoInput(x []float32, chanX int, runs []WinoRun, v []float32, chanP, planeP, nc int) {
	if nc <= 0 || len(runs) == 0 {
		return
	}
	for i := range runs {
		checkInRun("WinoInput", &runs[i], len(x), chanX, nc)
		checkPlanes("WinoInput", &runs[i], len(v), chanP, planeP, nc)
	}
	if useBNAsm() {
		winoInputAVX512(&x[0], chanX, &runs[0], len(runs), &v[0], chanP, planeP, nc)
		return
	}
	for c := 0; c < nc; c++ {
		for i := range runs {
			winoInputGo(x, c*chanX, &runs[i], v, c*chanP, planeP)
		}
	}
}

func winoInputGo(x []float32, xb int, r *WinoRun, v []float32, vb, planeP int) {
	var u [4][4][16]float32
	for a := 0; a < 4; a++ {
		if r.Rows>>a&1 == 0 {
			continue
		}
		var d [34]float32
		for i := 0; i < 32; i++ {
			if r.Cols>>i&1 != 0 {
				d[i] = x[xb+r.Off[a]+i]
			}
		}
		for t := 0; t < 15; t++ {
			e, o, e1, o1 := d[2*t], d[2*t+1], d[2*t+2], d[2*t+3]
			u[a][0][t] = e - e1
			u[a][1][t] = o + e1
			u[a][2][t] = e1 - o
			u[a][3][t] = o - o1
		}
	}
	base := vb + r.T
	for l := 0; l < 4; l++ {
		for t := 0; t < r.NT; t++ {
			v[base+l*planeP+t] = u[0][l][t] - u[2][l][t]
			v[base+(4+l)*planeP+t] = u[1][l][t] + u[2][l][t]
			v[base+(8+l)*planeP+t] = u[2][l][t] - u[1][l][t]
			v[base+(12+l)*planeP+t] = u[1][l][t] - u[3][l][t]
		}
	}
}

// WinoOutput writes Y = Aᵀ M A + bias for every run and channel: tile t reads
// m[c·chanP + ξ·planeP + T + t]; output row q (< Rows) of channel c starts at
// y[c·chanY + Off[0] + q·ow], and of its 32 columns those in Cols are written (tile t
// covers columns 2t and 2t+1). bias (one per channel) may be nil. If sums is not nil,
// the written values before the bias are added lane-wise into sums[32c .. 32c+16) and
// their squares into sums[32c+16 .. 32c+32) (sum the lanes for Σy and Σy²).
func WinoOutput(m []float32, planeP, chanP int, runs []WinoRun, y []float32, ow, chanY int, bias, sums []float32, nc int) {
	if nc <= 0 || len(runs) == 0 {
		return
	}
	for i := range runs {
		checkPlanes("WinoOutput", &runs[i], len(m), chanP, planeP, nc)
		checkOutRun("WinoOutput", &runs[i], len(y), ow, chanY, nc)
	}
	if bias != nil && len(bias) < nc || sums != nil && len(sums) < 32*nc {
		panic("kernel: WinoOutput bias or sums too short")
	}
	if useBNAsm() {
		bp, sp := &zero32[0], (*float32)(nil)
		bstep := 0
		if bias != nil {
			bp, bstep = &bias[0], 1
		}
		if sums != nil {
			sp = &sums[0]
		}
		winoOutputAVX512(&m[0], planeP, chanP, &runs[0], len(runs), &y[0], ow, chanY, bp, bstep, sp, nc)
		return
	}
	for c := 0; c < nc; c++ {
		var b float32
		if bias != nil {
			b = bias[c]
		}
		var s []float32
		if sums != nil {
			s = sums[32*c : 32*c+32]
		}
		for i := range runs {
			winoOutputGo(m, c*chanP, planeP, &runs[i], y, c*chanY, ow, b, s)
		}
	}
}

var zero32 [1]float32

func winoOutputGo(m []float32, mb, planeP int, r *WinoRun, y []float32, yb, ow int, b float32, s []float32) {
	var p [16][16]float32
	for xi := 0; xi < 16; xi++ {
		for t := 0; t < r.NT; t++ {
			p[xi][t] = m[mb+xi*planeP+r.T+t]
		}
	}
	var out [2][32]float32
	for t := 0; t < 16; t++ {
		a0, a1, a2, a3 := p[0][t]+p[4][t]+p[8][t], p[1][t]+p[5][t]+p[9][t], p[2][t]+p[6][t]+p[10][t], p[3][t]+p[7][t]+p[11][t]
		b0, b1, b2, b3 := p[4][t]-p[8][t]-p[12][t], p[5][t]-p[9][t]-p[13][t], p[6][t]-p[10][t]-p[14][t], p[7][t]-p[11][t]-p[15][t]
		out[0][2*t], out[0][2*t+1] = a0+a1+a2, a1-a2-a3
		out[1][2*t], out[1][2*t+1] = b0+b1+b2, b1-b2-b3
	}
	for q := 0; q < r.Rows; q++ {
		row := yb + r.Off[0] + q*ow
		for i := 0; i < 32; i++ {
			if r.Cols>>i&1 == 0 {
				continue
			}
			val := out[q][i]
			if s != nil {
				s[i%16] += val
				s[16+i%16] += val * val
			}
			y[row+i] = val + b
		}
	}
}

// WinoGrad writes dM = A dY Aᵀ for every run and channel: output-gradient row q (<
// Rows) of channel c starts at gy[c·chanY + Off[0] + q·ow], its columns not in Cols read
// as zero, and element ξ of tile t goes to dm[c·chanP + ξ·planeP + T + t]. If sums is
// not nil, the gradient values read are added lane-wise into sums[16c .. 16c+16).
func WinoGrad(gy []float32, ow, chanY int, runs []WinoRun, dm []float32, planeP, chanP int, sums []float32, nc int) {
	if nc <= 0 || len(runs) == 0 {
		return
	}
	for i := range runs {
		checkOutRun("WinoGrad", &runs[i], len(gy), ow, chanY, nc)
		checkPlanes("WinoGrad", &runs[i], len(dm), chanP, planeP, nc)
	}
	if sums != nil && len(sums) < 16*nc {
		panic("kernel: WinoGrad sums too short")
	}
	if useBNAsm() {
		var sp *float32
		if sums != nil {
			sp = &sums[0]
		}
		winoGradAVX512(&gy[0], ow, chanY, &runs[0], len(runs), &dm[0], planeP, chanP, sp, nc)
		return
	}
	for c := 0; c < nc; c++ {
		var s []float32
		if sums != nil {
			s = sums[16*c : 16*c+16]
		}
		for i := range runs {
			winoGradGo(gy, c*chanY, ow, &runs[i], dm, c*chanP, planeP, s)
		}
	}
}

func winoGradGo(gy []float32, gb, ow int, r *WinoRun, dm []float32, db, planeP int, s []float32) {
	var g [2][32]float32
	for q := 0; q < r.Rows; q++ {
		for i := 0; i < 32; i++ {
			if r.Cols>>i&1 != 0 {
				g[q][i] = gy[gb+r.Off[0]+q*ow+i]
			}
		}
	}
	if s != nil {
		for q := 0; q < r.Rows; q++ {
			for i := 0; i < 16; i++ {
				s[i] += g[q][i]
			}
			for i := 0; i < 16; i++ {
				s[i] += g[q][16+i]
			}
		}
	}
	base := db + r.T
	for t := 0; t < r.NT; t++ {
		g00, g01, g10, g11 := g[0][2*t], g[0][2*t+1], g[1][2*t], g[1][2*t+1]
		r10, r11 := g00+g10, g01+g11
		r20, r21 := g00-g10, g01-g11
		d := [16]float32{g00, g00 + g01, g00 - g01, -g01,
			r10, r10 + r11, r10 - r11, -r11,
			r20, r20 + r21, r20 - r21, -r21,
			-g10, -g10 - g11, g11 - g10, g11}
		for xi := 0; xi < 16; xi++ {
			dm[base+xi*planeP+t] = d[xi]
		}
	}
}

// WinoInputGrad adds dd = B dV Bᵀ of every run and channel into the input gradient:
// tile t reads dv[c·chanP + ξ·planeP + T + t]; input row a (if its bit is set in Rows)
// of channel c starts at dx[c·chanX + Off[a]], and the columns in Cols of its 32
// receive the sums of the overlapping windows (tile t covers columns 2t .. 2t+3). For a
// channel, runs are applied in order (runs of adjacent tile rows overlap by two rows).
func WinoInputGrad(dv []float32, planeP, chanP int, runs []WinoRun, dx []float32, chanX, nc int) {
	if nc <= 0 || len(runs) == 0 {
		return
	}
	for i := range runs {
		checkPlanes("WinoInputGrad", &runs[i], len(dv), chanP, planeP, nc)
		checkInRun("WinoInputGrad", &runs[i], len(dx), chanX, nc)
	}
	if useBNAsm() {
		winoInputGradAVX512(&dv[0], planeP, chanP, &runs[0], len(runs), &dx[0], chanX, nc)
		return
	}
	for c := 0; c < nc; c++ {
		for i := range runs {
			winoInputGradGo(dv, c*chanP, planeP, &runs[i], dx, c*chanX)
		}
	}
}

func winoInputGradGo(dv []float32, vb, planeP int, r *WinoRun, dx []float32, xb int) {
	var p [16][17]float32
	for xi := 0; xi < 16; xi++ {
		for t := 0; t < r.NT; t++ {
			p[xi][t] = dv[vb+xi*planeP+r.T+t]
		}
	}
	for a := 0; a < 4; a++ {
		if r.Rows>>a&1 == 0 {
			continue
		}
		// Row a of B dV, as its four columns (lanes = tiles).
		var R [4][17]float32
		for l := 0; l < 4; l++ {
			for t := 0; t < 16; t++ {
				switch a {
				case 0:
					R[l][t] = p[l][t]
				case 1:
					R[l][t] = p[4+l][t] - p[8+l][t] + p[12+l][t]
				case 2:
					R[l][t] = p[4+l][t] + p[8+l][t] - p[l][t]
				case 3:
					R[l][t] = -p[12+l][t]
				}
			}
		}
		// (row) Bᵀ: tile t adds dd0..dd3 at columns 2t..2t+3; column 2t gets
		// dd0[t] + dd2[t−1], column 2t+1 dd1[t] + dd3[t−1].
		var row [32]float32
		for t := 0; t < 16; t++ {
			var d2, d3 float32
			if t > 0 {
				pp, q, r, s := R[0][t-1], R[1][t-1], R[2][t-1], R[3][t-1]
				d2, d3 = q+r-pp, -s
			}
			pp, q, r, s := R[0][t], R[1][t], R[2][t], R[3][t]
			row[2*t] = pp + d2
			row[2*t+1] = q - r + s + d3
		}
		base := xb + r.Off[a]
		for i := 0; i < 32; i++ {
			if r.Cols>>i&1 != 0 {
				dx[base+i] += row[i]
			}
		}
	}
}

// checkInRun panics unless every element an input-side run reads or writes is in
// [0, n) for channels [0, nc).
func checkInRun(name string, r *WinoRun, n, chanX, nc int) {
	checkRunShape(name, r)
	cols := uint32(r.Cols)
	if cols == 0 {
		return
	}
	for a := 0; a < 4; a++ {
		if r.Rows>>a&1 != 0 {
			checkSpan(name, n, r.Off[a]+bits.TrailingZeros32(cols), (nc-1)*chanX+r.Off[a]+31-bits.LeadingZeros32(cols))
		}
	}
}

// checkOutRun is checkInRun for an output-side run.
func checkOutRun(name string, r *WinoRun, n, ow, chanY, nc int) {
	checkRunShape(name, r)
	if r.Rows != 1 && r.Rows != 2 {
		panic(fmt.Sprintf("kernel: %s: run of %d output rows, want 1 or 2", name, r.Rows))
	}
	if cols := uint32(r.Cols); cols != 0 {
		checkSpan(name, n, r.Off[0]+bits.TrailingZeros32(cols), (nc-1)*chanY+r.Off[0]+(r.Rows-1)*ow+31-bits.LeadingZeros32(cols))
	}
}

// checkPlanes checks the run's tiles in the 16 planes.
func checkPlanes(name string, r *WinoRun, n, chanP, planeP, nc int) {
	checkRunShape(name, r)
	if hi := (nc-1)*chanP + 15*planeP + r.T + r.NT - 1; hi >= n {
		panic(fmt.Sprintf("kernel: %s: planes [%d, %d] outside [0, %d)", name, r.T, hi, n))
	}
}

func checkRunShape(name string, r *WinoRun) {
	if r.NT < 1 || r.NT > 15 || r.T < 0 || r.Cols < 0 || r.Cols > 0xffffffff || r.Rows < 0 || r.Rows > 15 {
		panic(fmt.Sprintf("kernel: %s: bad run %+v (want 1..15 tiles, 32 columns, 4 rows)", name, *r))
	}
}

func checkSpan(name string, n, lo, hi int) {
	if lo < 0 || hi >= n {
		panic(fmt.Sprintf("kernel: %s: elements [%d, %d] outside [0, %d)", name, lo, hi, n))
	}
}
