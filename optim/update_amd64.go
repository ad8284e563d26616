//go:build amd64

package optim

import (
	"golang.org/x/sys/cpu"

	"github.com/temperml/temper/internal/kernel"
)

// useAVX2 reports that the CPU runs the AVX2 loops of update_amd64.s (tests turn it off to
// compare paths). The loops give bit-identical results to the Go loops.
var useAVX2 = cpu.X86.HasAVX2

// vector reports whether to use the AVX2 loops: when the CPU has them and the kernel path
// is not forced to "generic" (TEMPER_KERNEL=generic or kernel.SetKernel).
func vector() bool { return useAVX2 && kernel.Name() != "generic" }

//go:noescape
func sgdPlainAVX2(p, grad *float32, n int, lr, wd float32)

//go:noescape
func sgdMomentumAVX2(p, grad, b *float32, n int, lr, wd, mom, damp float32)

//go:noescape
func sgdNesterovAVX2(p, grad, b *float32, n int, lr, wd, mom float32)

//go:noescape
func adamAVX2(p, grad, m, v *float32, n int, c *adamCoef)

//go:noescape
func adagradAVX2(p, grad, sum *float32, n int, clr, wd, eps float32)

//go:noescape
func rmsPlainAVX2(p, grad, sq *float32, n int, c *rmsCoef)

//go:noescape
func rmsMomentumAVX2(p, grad, sq, buf *float32, n int, c *rmsCoef)

//go:noescape
func rmsCenteredAVX2(p, grad, sq, avg *float32, n int, c *rmsCoef)

//go:noescape
func rmsCenteredMomentumAVX2(p, grad, sq, avg, buf *float32, n int, c *rmsCoef)
