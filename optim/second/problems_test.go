package second

import (
	"math"
)

// rosenbrock is the extended Rosenbrock function sum_i 100(x_{i+1}-x_i²)² + (1-x_i)²,
// summed in the same order as the golden script's torch expression.
func rosenbrock(x, g []float64) (float64, error) {
	n := len(x)
	for i := range g {
		g[i] = 0
	}
	var f float64
	for i := 0; i < n-1; i++ {
		a := x[i+1] - x[i]*x[i]
		b := 1 - x[i]
		f += 100*a*a + b*b
		g[i] += -400*a*x[i] - 2*b
		g[i+1] += 200 * a
	}
	return f, nil
}

// logreg is mean binary cross-entropy with logits plus 0.5·l2·‖w‖², x = (w, b).
type logreg struct {
	a  [][]float64
	y  []float64
	l2 float64
}

func softplus(z float64) float64 {
	// torch's softplus (beta=1, threshold=20): z if z > 20 else log1p(exp(z)).
	if z > 20 {
		return z
	}
	return math.Log1p(math.Exp(z))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func (p *logreg) eval(x, g []float64) (float64, error) {
	d := len(x) - 1
	for i := range g {
		g[i] = 0
	}
	var f float64
	n := float64(len(p.a))
	for k, row := range p.a {
		z := x[d]
		for j := 0; j < d; j++ {
			z += row[j] * x[j]
		}
		f += softplus(z) - p.y[k]*z
		r := (sigmoid(z) - p.y[k]) / n
		for j := 0; j < d; j++ {
			g[j] += r * row[j]
		}
		g[d] += r
	}
	f /= n
	var ww float64
	for j := 0; j < d; j++ {
		ww += x[j] * x[j]
		g[j] += p.l2 * x[j]
	}
	return f + 0.5*p.l2*ww, nil
}

// quadratic is f(x) = ½ xᵀAx - bᵀx with A symmetric positive definite (dense).
type quadratic struct {
	a []float64 // n×n row-major
	b []float64
}

func (q *quadratic) eval(x, g []float64) (float64, error) {
	n := len(x)
	var f float64
	for i := 0; i < n; i++ {
		var s float64
		for j := 0; j < n; j++ {
			s += q.a[i*n+j] * x[j]
		}
		g[i] = s - q.b[i]
		f += 0.5*x[i]*s - q.b[i]*x[i]
	}
	return f, nil
}

// newQuadratic builds a well-conditioned SPD quadratic: A = MᵀM/n + I with a fixed
// pseudo-random M.
func newQuadratic(n int) *quadratic {
	m := make([]float64, n*n)
	s := uint64(12345)
	next := func() float64 {
		s = s*6364136223846793005 + 1442695040888963407
		return float64(s>>11)/float64(1<<53)*2 - 1
	}
	for i := range m {
		m[i] = next()
	}
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var v float64
			for k := 0; k < n; k++ {
				v += m[k*n+i] * m[k*n+j]
			}
			a[i*n+j] = v / float64(n)
		}
		a[i*n+i]++
	}
	b := make([]float64, n)
	for i := range b {
		b[i] = next()
	}
	return &quadratic{a: a, b: b}
}
