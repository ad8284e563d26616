//go:build amd64

package kernel

// The AVX2 update loops of optimupdate_amd64.s (AVX2 is enough: the loops are memory
// bound, and the AVX-512 path uses them too).
var updatesAVX2 = &updateKernels{
	sgdPlain:            sgdPlainAVX2,
	sgdMomentum:         sgdMomentumAVX2,
	sgdNesterov:         sgdNesterovAVX2,
	adam:                adamAVX2,
	adagrad:             adagradAVX2,
	rmsPlain:            rmsPlainAVX2,
	rmsMomentum:         rmsMomentumAVX2,
	rmsCentered:         rmsCenteredAVX2,
	rmsCenteredMomentum: rmsCenteredMomentumAVX2,
}

//go:noescape
func sgdPlainAVX2(p, grad *float32, n int, lr, wd float32)

//go:noescape
func sgdMomentumAVX2(p, grad, b *float32, n int, lr, wd, mom, damp float32)

//go:noescape
func sgdNesterovAVX2(p, grad, b *float32, n int, lr, wd, mom float32)

//go:noescape
func adamAVX2(p, grad, m, v *float32, n int, c *AdamCoef)

//go:noescape
func adagradAVX2(p, grad, sum *float32, n int, clr, wd, eps float32)

//go:noescape
func rmsPlainAVX2(p, grad, sq *float32, n int, c *RMSCoef)

//go:noescape
func rmsMomentumAVX2(p, grad, sq, buf *float32, n int, c *RMSCoef)

//go:noescape
func rmsCenteredAVX2(p, grad, sq, avg *float32, n int, c *RMSCoef)

//go:noescape
func rmsCenteredMomentumAVX2(p, grad, sq, avg, buf *float32, n int, c *RMSCoef)
