package second

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// fixture is one file written by tools/golden/lbfgs.py.
type fixture struct {
	Name   string `json:"name"`
	Config struct {
		LR             float64 `json:"lr"`
		MaxIter        int     `json:"max_iter"`
		HistorySize    int     `json:"history_size"`
		LineSearchFunc *string `json:"line_search_fn"`
	} `json:"config"`
	X0       []float64   `json:"x0"`
	Iterates [][]float64 `json:"iterates"`
	Losses   []float64   `json:"losses"`
	Steps    []struct {
		Loss  float64 `json:"loss"`
		Iters int     `json:"iters"`
		Evals int     `json:"evals"`
	} `json:"steps"`
	A  [][]float64 `json:"a"`
	Y  []float64   `json:"y"`
	L2 float64     `json:"l2"`
}

func loadFixture(t *testing.T, name string) *fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lbfgs_"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(1, math.Abs(want))
}

// TestLBFGSGoldenPyTorch checks the iterates, per-step losses, iteration and
// evaluation counts against torch.optim.LBFGS (tools/golden/lbfgs.py).
func TestLBFGSGoldenPyTorch(t *testing.T) {
	cases := []string{"rosen2", "rosen2_maxiter4", "rosen10", "rosen10_hist5", "logreg", "logreg_fixed"}
	const tol = 1e-5
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			fx := loadFixture(t, name)
			var obj Objective = Func(rosenbrock)
			if fx.A != nil {
				lr := &logreg{a: fx.A, y: fx.Y, l2: fx.L2}
				obj = Func(lr.eval)
			}
			cfg := LBFGSConfig{LR: fx.Config.LR, MaxIter: fx.Config.MaxIter, History: fx.Config.HistorySize}
			if fx.Config.LineSearchFunc == nil {
				cfg.LineSearch = FixedStep
			}
			var iterates [][]float64
			opt, err := NewLBFGS(fx.X0, cfg)
			if err != nil {
				t.Fatal(err)
			}
			opt.cfg.OnIter = func(IterInfo) { iterates = append(iterates, append([]float64(nil), opt.X()...)) }
			for s, want := range fx.Steps {
				got, err := opt.Step(obj)
				if err != nil {
					t.Fatalf("step %d: %v", s, err)
				}
				if got.Iters != want.Iters || got.Evals != want.Evals || relErr(got.Loss, want.Loss) > tol {
					t.Errorf("step %d: got loss %.17g iters %d evals %d, want loss %.17g iters %d evals %d",
						s, got.Loss, got.Iters, got.Evals, want.Loss, want.Iters, want.Evals)
				}
			}
			if len(iterates) != len(fx.Iterates) {
				t.Fatalf("got %d iterates, want %d", len(iterates), len(fx.Iterates))
			}
			if len(iterates) < 20 {
				t.Fatalf("fixture has %d iterates, want >= 20", len(iterates))
			}
			worst := 0.0
			for k, want := range fx.Iterates {
				for i := range want {
					// Relative to |want|, with a 1e-10 absolute floor for entries near 0.
					e := math.Abs(iterates[k][i]-want[i]) / math.Max(math.Abs(want[i]), 1e-5)
					worst = math.Max(worst, e)
					if e > tol {
						t.Fatalf("iterate %d x[%d]: got %.17g, want %.17g (rel %.2g)", k+1, i, iterates[k][i], want[i], e)
					}
				}
				g := make([]float64, len(want))
				f, _ := obj.Eval(iterates[k], g)
				if e := relErr(f, fx.Losses[k]); e > tol {
					t.Errorf("iterate %d loss: got %.17g, want %.17g", k+1, f, fx.Losses[k])
				}
			}
			t.Logf("%d iterates, worst relative difference %.3g", len(iterates), worst)
		})
	}
}

// TestNewtonHessianGoldenPyTorch compares Newton's central-difference Hessian of the
// logistic regression with torch.autograd.functional.hessian (exact, by double
// backward) from testdata/hessian_logreg.json.
func TestNewtonHessianGoldenPyTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "hessian_logreg.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		A       [][]float64 `json:"a"`
		Y       []float64   `json:"y"`
		L2      float64     `json:"l2"`
		X       []float64   `json:"x"`
		Loss    float64     `json:"loss"`
		Hessian [][]float64 `json:"hessian"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	p := &logreg{a: fx.A, y: fx.Y, l2: fx.L2}
	o, err := NewNewton(fx.X, NewtonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &evaluator{obj: Func(p.eval), method: "newton", iter: 1, evals: &o.evals}
	f, err := ev.eval(o.x, o.g)
	if err != nil {
		t.Fatal(err)
	}
	if relErr(f, fx.Loss) > 1e-12 {
		t.Errorf("loss %.17g, torch %.17g", f, fx.Loss)
	}
	if err := o.buildHessian(ev); err != nil {
		t.Fatal(err)
	}
	n := len(fx.X)
	// Scale: the largest entry (features span 3^-4..3^3, so entries span many decades).
	var scale float64
	for _, r := range fx.Hessian {
		scale = math.Max(scale, maxAbs(r))
	}
	worst := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			e := math.Abs(o.hess[i*n+j]-fx.Hessian[i][j]) / scale
			worst = math.Max(worst, e)
			if e > 1e-7 {
				t.Errorf("H[%d,%d] = %.12g, torch %.12g", i, j, o.hess[i*n+j], fx.Hessian[i][j])
			}
		}
	}
	t.Logf("max |H - H_torch| / max|H_torch| = %.3g", worst)
}
