//go:build !amd64

package kernel

func winoInputAVX512(src *float32, off0, off1, off2, off3, rows, cols, chanX int, dst *float32, chanP, planeP, nc, nt int) {
	panic("unreachable")
}

func winoOutputAVX512(m *float32, planeP, chanP int, y *float32, ow, chanY, rows, cols int, bias *float32, bstep int, sums *float32, nc, nt int) {
	panic("unreachable")
}

func winoGradAVX512(gy *float32, ow, chanY, rows, cols int, dm *float32, planeP, chanP int, sums *float32, nc, nt int) {
	panic("unreachable")
}

func winoInputGradAVX512(dv *float32, planeP, chanP int, dx *float32, off0, off1, off2, off3, rows, cols, chanX, nc, nt int) {
	panic("unreachable")
}
