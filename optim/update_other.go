//go:build !amd64

package optim

var useAVX2 = false

func vector() bool { return false }

func sgdPlainAVX2(p, grad *float32, n int, lr, wd float32)                  { panic("unreachable") }
func sgdMomentumAVX2(p, grad, b *float32, n int, lr, wd, mom, damp float32) { panic("unreachable") }
func sgdNesterovAVX2(p, grad, b *float32, n int, lr, wd, mom float32)       { panic("unreachable") }
func adamAVX2(p, grad, m, v *float32, n int, c *adamCoef)                   { panic("unreachable") }
func adagradAVX2(p, grad, sum *float32, n int, clr, wd, eps float32)        { panic("unreachable") }
func rmsPlainAVX2(p, grad, sq *float32, n int, c *rmsCoef)                  { panic("unreachable") }
func rmsMomentumAVX2(p, grad, sq, buf *float32, n int, c *rmsCoef)          { panic("unreachable") }
func rmsCenteredAVX2(p, grad, sq, avg *float32, n int, c *rmsCoef)          { panic("unreachable") }
func rmsCenteredMomentumAVX2(p, grad, sq, avg, buf *float32, n int, c *rmsCoef) {
	panic("unreachable")
}
