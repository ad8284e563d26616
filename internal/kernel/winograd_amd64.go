package kernel

//go:noescape
func winoInputAVX512(x *float32, chanX int, runs *WinoRun, nruns int, v *float32, chanP, planeP, nc int)

//go:noescape
func winoOutputAVX512(m *float32, planeP, chanP int, runs *WinoRun, nruns int, y *float32, ow, chanY int, bias *float32, bstep int, sums *float32, nc int)

//go:noescape
func winoGradAVX512(gy *float32, ow, chanY int, runs *WinoRun, nruns int, dm *float32, planeP, chanP int, sums *float32, nc int)

//go:noescape
func winoInputGradAVX512(dv *float32, planeP, chanP int, runs *WinoRun, nruns int, dx *float32, chanX, nc int)
