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
					e := relErr(iterates[k][i], want[i])
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
