package train_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// blobs is a small 3-class problem: Gaussian clusters in 8 dimensions.
func blobs(n int, seed uint64) *data.InMemory {
	r := rng.New(seed)
	centers := tensor.Randn(rng.New(99), 3, 8).Data()
	x := make([]float32, n*8)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		c := r.IntN(3)
		y[i] = c
		for j := 0; j < 8; j++ {
			x[i*8+j] = 2*centers[c*8+j] + float32(r.NormFloat64())*0.7
		}
	}
	ds, err := data.NewInMemory(x, y, []int{8}, 3)
	if err != nil {
		panic(err)
	}
	return ds
}

type setup struct {
	model nn.Module
	opt   optim.Optimizer
	rand  *rng.Stream
}

func build(t testing.TB, seed uint64) setup {
	t.Helper()
	root := rng.New(seed)
	m, err := nn.Build("mlp", nn.ModelConfig{InShape: []int{8}, Classes: 3}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	if err != nil {
		t.Fatal(err)
	}
	return setup{m, o, root.Split()}
}

func params(m nn.Module) [][]float32 {
	var out [][]float32
	for _, p := range nn.Params(m) {
		out = append(out, append([]float32(nil), p.Value.Data()...))
	}
	return out
}

func newTrainer(t *testing.T, s setup, epochs int, dir string, sched schedule.Schedule) *train.Trainer {
	t.Helper()
	tr, err := train.New(s.model, s.opt, train.Sets{Train: blobs(300, 1), Val: blobs(100, 2)}, train.Config{Epochs: epochs, BatchSize: 32, OutDir: dir, Schedule: sched}, s.rand)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestLearnsBlobs(t *testing.T) {
	tr := newTrainer(t, build(t, 1), 5, "", nil)
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := tr.History()
	if acc := h[len(h)-1].ValAccuracy; acc < 0.9 {
		t.Fatalf("validation accuracy %v after 5 epochs, want >= 0.9", acc)
	}
}

// TestResumeBitIdentical stops a run after epoch 2, resumes it from the checkpoint in a
// fresh process-like setup, and compares with an uninterrupted run.
func TestResumeBitIdentical(t *testing.T) {
	for _, name := range []string{"constant", "plateau"} {
		t.Run(name, func(t *testing.T) {
			mk := func() schedule.Schedule {
				if name == "constant" {
					return nil
				}
				s, err := schedule.Parse("step:size=20,gamma=0.5*plateau:patience=0,factor=0.5")
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			full := build(t, 7)
			trFull := newTrainer(t, full, 4, t.TempDir(), mk())
			if err := trFull.Fit(context.Background()); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			first := build(t, 7)
			tr1 := newTrainer(t, first, 2, dir, mk())
			if err := tr1.Fit(context.Background()); err != nil {
				t.Fatal(err)
			}
			second := build(t, 12345) // different init: everything must come from the checkpoint
			tr2 := newTrainer(t, second, 4, dir, mk())
			if err := tr2.LoadState(dir); err != nil {
				t.Fatal(err)
			}
			if tr2.Epoch() != 2 {
				t.Fatalf("resumed at epoch %d, want 2", tr2.Epoch())
			}
			if err := tr2.Fit(context.Background()); err != nil {
				t.Fatal(err)
			}
			a, b := params(full.model), params(second.model)
			for i := range a {
				for j := range a[i] {
					if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
						t.Fatalf("param %d[%d]: uninterrupted %v, resumed %v", i, j, a[i][j], b[i][j])
					}
				}
			}
			if len(tr2.History()) != 4 {
				t.Fatalf("history has %d epochs, want 4", len(tr2.History()))
			}
			raw, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			if n := countLines(raw); n != 4 {
				t.Fatalf("metrics.jsonl has %d lines, want 4", n)
			}
		})
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func TestNonFiniteLossStops(t *testing.T) {
	s := build(t, 3)
	for _, g := range s.opt.Groups() {
		g.BaseLR = 1e30 // without a schedule the trainer runs at BaseLR
	}
	tr := newTrainer(t, s, 3, "", nil)
	err := tr.Fit(context.Background())
	var nf *train.NonFiniteError
	if !errors.As(err, &nf) || !errors.Is(err, train.ErrNonFinite) {
		t.Fatalf("err = %v, want a NonFiniteError", err)
	}
	if nf.Step < 1 || nf.GlobalStep < 1 {
		t.Fatalf("error does not name the step: %+v", nf)
	}
}

func TestCorruptStateRejected(t *testing.T) {
	dir := t.TempDir()
	s := build(t, 3)
	tr := newTrainer(t, s, 1, dir, nil)
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, train.StateFile)
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := newTrainer(t, build(t, 3), 2, "", nil).LoadState(dir); err == nil {
		t.Fatal("truncated checkpoint accepted")
	}
}

func TestStepAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	// The MNIST MLP on a batch of 128: after warm-up a step must not allocate in
	// proportion to the model (2.7 MB of parameters).
	root := rng.New(1)
	m, _ := nn.Build("mlp", nn.ModelConfig{}, root.Split())
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, _ := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.01, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	ds := blobs(10, 1)
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x := tensor.Rand(rng.New(2), 0, 1, 128, 1, 28, 28)
	y := make([]int, 128)
	for i := range y {
		y[i] = i % 10
	}
	for i := 0; i < 3; i++ {
		if _, _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("a steady-state training step allocates %v times, want 0", allocs)
	}
}

// TestNoValSetCheckpoints: without validation and test sets their metrics are NaN in
// the records and left out of metrics.jsonl; the run still checkpoints and resumes.
func TestNoValSetCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s := build(t, 4)
	tr, err := train.New(s.model, s.opt, train.Sets{Train: blobs(100, 1), Test: blobs(50, 2)}, train.Config{Epochs: 1, BatchSize: 32, OutDir: dir}, s.rand)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"val_loss", "val_accuracy", "test_loss", "test_accuracy"} {
		if strings.Contains(string(raw), k) {
			t.Errorf("metrics %q hold %s, which was not evaluated", raw, k)
		}
	}
	if !strings.Contains(string(raw), `"train_loss":`) {
		t.Errorf("metrics %q without train_loss", raw)
	}
	s2 := build(t, 4)
	tr2, _ := train.New(s2.model, s2.opt, train.Sets{Train: blobs(100, 1)}, train.Config{Epochs: 2, BatchSize: 32}, s2.rand)
	defer tr2.Close()
	if err := tr2.LoadState(dir); err != nil {
		t.Fatal(err)
	}
	if h := tr2.History(); len(h) != 1 || !math.IsNaN(h[0].TestAccuracy) || !math.IsNaN(h[0].ValLoss) {
		t.Fatalf("history after resume = %+v", h)
	}
}
