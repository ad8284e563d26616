package kernel

import (
	"fmt"
	"math/bits"
)

// Row kernels for Winograd F(2×2, 3×3) convolution (package nn, conv_winograd.go). Each
// processes one run of nt consecutive 2×2 output tiles of one tile row (1 <= nt <= 15,
// so the run's input window fits in 32 columns), for nc channels in turn, with the
// tiles in the lanes of one vector: the stride-2 windows are split into even and odd
// columns by permutes rather than gathered. The transformed tiles live in 16 planes
// (one per element ξ = 4k+l of the 4×4 transform), channel c of plane ξ at
// c·chanP + ξ·planeP, tile t of the run at +t. Column masks say which of the 32
// columns of a row starting at the run's first column lie inside the image (the rest
// are zero padding); a row outside the image has its bit in rows clear.
//
// The AVX-512 versions and the Go versions perform the same float32 operations in the
// same order, so they agree bit for bit (tested); the statistics lanes too.

// WinoInput writes V = Bᵀ d B for the run: for input row a (0..3) of channel c the 32
// columns start at x[xb + c·chanX + off[a]] (columns not in cols, and rows not in rows,
// read as zero), and element ξ of tile t goes to v[vb + c·chanP + ξ·planeP + t].
func WinoInput(x []float32, xb int, off [4]int, rows uint, cols uint32, chanX int, v []float32, vb, chanP, planeP, nc, nt int) {
	if nc <= 0 {
		return
	}
	checkRun(nt)
	for a := 0; a < 4; a++ {
		if rows>>a&1 != 0 && cols != 0 {
			checkSpan("WinoInput x", len(x), xb+off[a]+bits.TrailingZeros32(cols), xb+(nc-1)*chanX+off[a]+31-bits.LeadingZeros32(cols))
		}
	}
	checkSpan("WinoInput v", len(v), vb, vb+(nc-1)*chanP+15*planeP+nt-1)
	if useBNAsm() {
		winoInputAVX512(&x[xb], off[0], off[1], off[2], off[3], int(rows), int(cols), chanX, &v[vb], chanP, planeP, nc, nt)
		return
	}
	winoInputGo(x, xb, off, rows, cols, chanX, v, vb, chanP, planeP, nc, nt)
}

func winoInputGo(x []float32, xb int, off [4]int, rows uint, cols uint32, chanX int, v []float32, vb, chanP, planeP, nc, nt int) {
	for c := 0; c < nc; c++ {
		var u [4][4][16]float32
		for a := 0; a < 4; a++ {
			if rows>>a&1 == 0 {
				continue
			}
			var d [34]float32
			for i := 0; i < 32; i++ {
				if cols>>i&1 != 0 {
					d[i] = x[xb+c*chanX+off[a]+i]
				}
			}
			for t := 0; t < 16; t++ {
				e, o, e1, o1 := d[2*t], d[2*t+1], d[2*t+2], d[2*t+3]
				if t == 15 { // lanes the vector code fills with columns 0 and 1
					e1, o1 = d[0], d[1]
				}
				u[a][0][t] = e - e1
				u[a][1][t] = o + e1
				u[a][2][t] = e1 - o
				u[a][3][t] = o - o1
			}
		}
		base := vb + c*chanP
		for l := 0; l < 4; l++ {
			for t := 0; t < nt; t++ {
				v[base+l*planeP+t] = u[0][l][t] - u[2][l][t]
				v[base+(4+l)*planeP+t] = u[1][l][t] + u[2][l][t]
				v[base+(8+l)*planeP+t] = u[2][l][t] - u[1][l][t]
				v[base+(12+l)*planeP+t] = u[1][l][t] - u[3][l][t]
			}
		}
	}
}

// WinoOutput writes Y = Aᵀ M A + bias for the run: tile t of channel c reads
// m[mb + c·chanP + ξ·planeP + t]; output row r (0, and 1 if rows == 2) of channel c
// starts at y[yb + c·chanY + r·ow], and of its 32 columns those in cols are written
// (tile t covers columns 2t and 2t+1). bias (one per channel) may be nil. If sums is
// not nil, the written values before the bias are added lane-wise into
// sums[32c .. 32c+16) and their squares into sums[32c+16 .. 32c+32) (sum the lanes for
// Σy and Σy²).
func WinoOutput(m []float32, mb, planeP, chanP int, y []float32, yb, ow, chanY, rows int, cols uint32, bias, sums []float32, nc, nt int) {
	if nc <= 0 {
		return
	}
	checkRun(nt)
	if rows != 1 && rows != 2 {
		panic(fmt.Sprintf("kernel: WinoOutput rows %d, want 1 or 2", rows))
	}
	checkSpan("WinoOutput m", len(m), mb, mb+(nc-1)*chanP+15*planeP+nt-1)
	if cols != 0 {
		checkSpan("WinoOutput y", len(y), yb+bits.TrailingZeros32(cols), yb+(nc-1)*chanY+(rows-1)*ow+31-bits.LeadingZeros32(cols))
	}
	if bias != nil && len(bias) < nc || sums != nil && len(sums) < 32*nc {
		panic("kernel: WinoOutput bias or sums too short")
	}
	if useBNAsm() {
		bp, sp := &zero32[0], (*float32)(nil)
		bstep := 0
		if bias != nil {
			bp, bstep = &bias[0], 4
		}
		if sums != nil {
			sp = &sums[0]
		}
		winoOutputAVX512(&m[mb], planeP, chanP, &y[yb], ow, chanY, rows, int(cols), bp, bstep, sp, nc, nt)
		return
	}
	winoOutputGo(m, mb, planeP, chanP, y, yb, ow, chanY, rows, cols, bias, sums, nc, nt)
}

var zero32 [1]float32

func winoOutputGo(m []float32, mb, planeP, chanP int, y []float32, yb, ow, chanY, rows int, cols uint32, bias, sums []float32, nc, nt int) {
	for c := 0; c < nc; c++ {
		var p [16][16]float32
		for xi := 0; xi < 16; xi++ {
			for t := 0; t < nt; t++ {
				p[xi][t] = m[mb+c*chanP+xi*planeP+t]
			}
		}
		var r [2][32]float32
		for t := 0; t < 16; t++ {
			a0, a1, a2, a3 := p[0][t]+p[4][t]+p[8][t], p[1][t]+p[5][t]+p[9][t], p[2][t]+p[6][t]+p[10][t], p[3][t]+p[7][t]+p[11][t]
			b0, b1, b2, b3 := p[4][t]-p[8][t]-p[12][t], p[5][t]-p[9][t]-p[13][t], p[6][t]-p[10][t]-p[14][t], p[7][t]-p[11][t]-p[15][t]
			r[0][2*t], r[0][2*t+1] = a0+a1+a2, a1-a2-a3
			r[1][2*t], r[1][2*t+1] = b0+b1+b2, b1-b2-b3
		}
		var b float32
		if bias != nil {
			b = bias[c]
		}
		for q := 0; q < rows; q++ {
			row := yb + c*chanY + q*ow
			for i := 0; i < 32; i++ {
				if cols>>i&1 == 0 {
					continue
				}
				val := r[q][i]
				if sums != nil {
					s := sums[32*c : 32*c+32]
					s[i%16] += val
					s[16+i%16] += val * val
				}
				y[row+i] = val + b
			}
		}
	}
}

// WinoGrad writes dM = A dY Aᵀ for the run: output-gradient row r (0, and 1 if rows ==
// 2) of channel c starts at gy[gb + c·chanY + r·ow], its columns not in cols read as
// zero, and element ξ of tile t goes to dm[db + c·chanP + ξ·planeP + t]. If sums is
// not nil, the gradient values read are added lane-wise into sums[16c .. 16c+16).
func WinoGrad(gy []float32, gb, ow, chanY, rows int, cols uint32, dm []float32, db, planeP, chanP int, sums []float32, nc, nt int) {
	if nc <= 0 {
		return
	}
	checkRun(nt)
	if rows != 1 && rows != 2 {
		panic(fmt.Sprintf("kernel: WinoGrad rows %d, want 1 or 2", rows))
	}
	if cols != 0 {
		checkSpan("WinoGrad gy", len(gy), gb+bits.TrailingZeros32(cols), gb+(nc-1)*chanY+(rows-1)*ow+31-bits.LeadingZeros32(cols))
	}
	checkSpan("WinoGrad dm", len(dm), db, db+(nc-1)*chanP+15*planeP+nt-1)
	if sums != nil && len(sums) < 16*nc {
		panic("kernel: WinoGrad sums too short")
	}
	if useBNAsm() {
		var sp *float32
		if sums != nil {
			sp = &sums[0]
		}
		winoGradAVX512(&gy[gb], ow, chanY, rows, int(cols), &dm[db], planeP, chanP, sp, nc, nt)
		return
	}
	winoGradGo(gy, gb, ow, chanY, rows, cols, dm, db, planeP, chanP, sums, nc, nt)
}

func winoGradGo(gy []float32, gb, ow, chanY, rows int, cols uint32, dm []float32, db, planeP, chanP int, sums []float32, nc, nt int) {
	for c := 0; c < nc; c++ {
		var g [2][32]float32
		for q := 0; q < rows; q++ {
			for i := 0; i < 32; i++ {
				if cols>>i&1 != 0 {
					g[q][i] = gy[gb+c*chanY+q*ow+i]
				}
			}
		}
		if sums != nil {
			s := sums[16*c : 16*c+16]
			for q := 0; q < rows; q++ {
				for i := 0; i < 16; i++ {
					s[i] += g[q][i]
				}
				for i := 0; i < 16; i++ {
					s[i] += g[q][16+i]
				}
			}
		}
		base := db + c*chanP
		for t := 0; t < nt; t++ {
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
}

// WinoInputGrad adds dd = B dV Bᵀ of the run into the input gradient: tile t of channel
// c reads dv[vb + c·chanP + ξ·planeP + t]; input row a (0..3, if its bit is set in rows)
// of channel c starts at dx[xb + c·chanX + off[a]], and the columns in cols of its 32
// receive the sums of the overlapping windows (tile t covers columns 2t .. 2t+3).
func WinoInputGrad(dv []float32, vb, planeP, chanP int, dx []float32, xb int, off [4]int, rows uint, cols uint32, chanX, nc, nt int) {
	if nc <= 0 {
		return
	}
	checkRun(nt)
	checkSpan("WinoInputGrad dv", len(dv), vb, vb+(nc-1)*chanP+15*planeP+nt-1)
	for a := 0; a < 4; a++ {
		if rows>>a&1 != 0 && cols != 0 {
			checkSpan("WinoInputGrad dx", len(dx), xb+off[a]+bits.TrailingZeros32(cols), xb+(nc-1)*chanX+off[a]+31-bits.LeadingZeros32(cols))
		}
	}
	if useBNAsm() {
		winoInputGradAVX512(&dv[vb], planeP, chanP, &dx[xb], off[0], off[1], off[2], off[3], int(rows), int(cols), chanX, nc, nt)
		return
	}
	winoInputGradGo(dv, vb, planeP, chanP, dx, xb, off, rows, cols, chanX, nc, nt)
}

func winoInputGradGo(dv []float32, vb, planeP, chanP int, dx []float32, xb int, off [4]int, rows uint, cols uint32, chanX, nc, nt int) {
	for c := 0; c < nc; c++ {
		var p [16][17]float32
		for xi := 0; xi < 16; xi++ {
			for t := 0; t < nt; t++ {
				p[xi][t] = dv[vb+c*chanP+xi*planeP+t]
			}
		}
		for a := 0; a < 4; a++ {
			if rows>>a&1 == 0 {
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
					q, r, s, pp := R[1][t-1], R[2][t-1], R[3][t-1], R[0][t-1]
					d2, d3 = q+r-pp, -s
				}
				pp, q, r, s := R[0][t], R[1][t], R[2][t], R[3][t]
				row[2*t] = pp + d2
				row[2*t+1] = q - r + s + d3
			}
			base := xb + c*chanX + off[a]
			for i := 0; i < 32; i++ {
				if cols>>i&1 != 0 {
					dx[base+i] += row[i]
				}
			}
		}
	}
}

func checkRun(nt int) {
	if nt < 1 || nt > 15 {
		panic(fmt.Sprintf("kernel: Winograd run of %d tiles, want 1..15", nt))
	}
}

func checkSpan(name string, n, lo, hi int) {
	if lo < 0 || hi >= n {
		panic(fmt.Sprintf("kernel: %s: elements [%d, %d] outside [0, %d)", name, lo, hi, n))
	}
}
