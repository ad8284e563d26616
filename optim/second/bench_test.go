package second

import (
	"fmt"
	"testing"
)

// BenchmarkLBFGSDirection: the two-loop recursion, O(m·N).
func BenchmarkLBFGSDirection(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			o, err := NewLBFGS(make([]float64, n), LBFGSConfig{History: 10})
			if err != nil {
				b.Fatal(err)
			}
			for k := 0; k < 10; k++ {
				for i := range o.yb {
					o.yb[i] = float64((i+k)%7) + 1
					o.sb[i] = float64((i*k)%5) + 1
				}
				o.pushPair(dot(o.yb, o.sb))
			}
			for i := range o.g {
				o.g[i] = float64(i%3) - 1
			}
			o.hDiag = 0.5
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				o.direction()
			}
		})
	}
}

// BenchmarkBFGSUpdate: the dense inverse-Hessian update, O(N²).
func BenchmarkBFGSUpdate(b *testing.B) {
	for _, n := range []int{250, 500, 1000, 2000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			o, err := NewBFGS(make([]float64, n), BFGSConfig{})
			if err != nil {
				b.Fatal(err)
			}
			for i := range o.s {
				o.s[i] = 1e-3 * float64(i%5+1)
				o.y[i] = 2e-3 * float64(i%5+1)
			}
			for b.Loop() {
				o.update()
			}
		})
	}
}

// BenchmarkNewtonSolve: damping + Cholesky + solve, O(N³).
func BenchmarkNewtonSolve(b *testing.B) {
	for _, n := range []int{100, 200, 400, 800} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			q := newQuadratic(n)
			o, err := NewNewton(make([]float64, n), NewtonConfig{})
			if err != nil {
				b.Fatal(err)
			}
			copy(o.hess, q.a)
			copy(o.g, q.b)
			for b.Loop() {
				if err := o.solve(1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
