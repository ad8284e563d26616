package nn_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

func TestConv2DGradcheck(t *testing.T) {
	r := rng.New(11)
	cases := []struct {
		name    string
		x, w    []int
		opt     nn.ConvOptions
		bias    bool
		threads int
	}{
		{"3x3 pad1", []int{2, 2, 5, 5}, []int{3, 2, 3, 3}, nn.ConvOptions{Padding: [2]int{1, 1}}, true, 0},
		{"stride2", []int{2, 3, 6, 5}, []int{2, 3, 3, 3}, nn.ConvOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, true, 0},
		{"dilation2 nobias", []int{1, 2, 7, 7}, []int{2, 2, 3, 2}, nn.ConvOptions{Dilation: [2]int{2, 2}}, false, 0},
		{"groups2", []int{2, 4, 5, 4}, []int{4, 2, 3, 3}, nn.ConvOptions{Padding: [2]int{1, 1}, Groups: 2}, true, 0},
		{"1x1 stride2", []int{2, 3, 4, 4}, []int{2, 3, 1, 1}, nn.ConvOptions{Stride: [2]int{2, 2}}, false, 0},
		{"batched blocks, 1 thread", []int{5, 1, 3, 3}, []int{2, 1, 3, 3}, nn.ConvOptions{Padding: [2]int{1, 1}}, true, 1},
		{"batched blocks, 3 threads", []int{7, 1, 3, 3}, []int{2, 1, 2, 2}, nn.ConvOptions{Padding: [2]int{1, 1}}, true, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.threads > 0 {
				prev := kernel.Threads()
				kernel.SetThreads(c.threads)
				defer kernel.SetThreads(prev)
			}
			in := []*tensor.Tensor{tensor.Randn(r, c.x...), tensor.Randn(r, c.w...)}
			f := func(_ *ag.Tape, v []*ag.Var) *ag.Var { return nn.Conv2DOp(v[0], v[1], nil, c.opt) }
			if c.bias {
				in = append(in, tensor.Randn(r, c.w[0]))
				f = func(_ *ag.Tape, v []*ag.Var) *ag.Var { return nn.Conv2DOp(v[0], v[1], v[2], c.opt) }
			}
			if err := gradcheck.Check(f, in, gradcheck.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// spread returns a tensor of distinct values ≥ 0.05 apart (so max pooling and ReLU have
// no kinks within the finite-difference step), in pseudo-random order.
func spread(r *rng.Stream, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	d := x.Data()
	p := r.Perm(len(d))
	for i := range d {
		d[i] = 0.05*float32(p[i]) - 0.025*float32(len(d)) + 0.013
	}
	return x
}

func TestPoolGradcheck(t *testing.T) {
	r := rng.New(12)
	mk := func(m nn.Module, err error) nn.Module {
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name string
		m    nn.Module
		x    []int
	}{
		{"max 2", mk(nn.NewMaxPool2D(2, nn.PoolConfig{})), []int{2, 2, 4, 6}},
		{"max 3 s2 p1", mk(nn.NewMaxPool2D(3, nn.PoolConfig{Stride: 2, Padding: 1})), []int{1, 2, 5, 6}},
		{"max 2 dil2", mk(nn.NewMaxPool2D(2, nn.PoolConfig{Stride: 1, Dilation: 2})), []int{1, 1, 5, 5}},
		{"avg 2", mk(nn.NewAvgPool2D(2, nn.PoolConfig{})), []int{2, 2, 4, 5}},
		{"avg 3 s2 p1", mk(nn.NewAvgPool2D(3, nn.PoolConfig{Stride: 2, Padding: 1})), []int{1, 2, 5, 6}},
		{"avg exclude pad", mk(nn.NewAvgPool2D(3, nn.PoolConfig{Stride: 2, Padding: 1, ExcludePadding: true})), []int{1, 2, 5, 6}},
		{"adaptive 2x3", mk(nn.NewAdaptiveAvgPool2D(2, 3)), []int{2, 2, 5, 7}},
		{"global", mk(nn.NewAdaptiveAvgPool2D(1, 1)), []int{2, 3, 3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := func(_ *ag.Tape, v []*ag.Var) *ag.Var { return c.m.Forward(v[0]) }
			if err := gradcheck.Check(f, []*tensor.Tensor{spread(r, c.x...)}, gradcheck.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBatchNormGradcheck(t *testing.T) {
	r := rng.New(13)
	cases := []struct {
		name  string
		dims  int
		x     []int
		train bool
		relu  bool
	}{
		{"2d train", 2, []int{3, 2, 3, 2}, true, false},
		{"2d train relu", 2, []int{3, 2, 3, 2}, true, true},
		{"2d eval", 2, []int{2, 3, 2, 2}, false, false},
		{"1d train", 1, []int{5, 3}, true, false},
		{"1d train (N,C,L)", 1, []int{2, 3, 4}, true, false},
		{"1d eval relu", 1, []int{4, 3}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bn *nn.BatchNorm
			if c.dims == 2 {
				bn, _ = nn.NewBatchNorm2D(c.x[1], nn.BatchNormConfig{})
			} else {
				bn, _ = nn.NewBatchNorm1D(c.x[1], nn.BatchNormConfig{})
			}
			bn.FuseReLU = c.relu
			bn.SetTraining(c.train)
			r.Uniform(bn.RunningMean.Data(), -0.5, 0.5)
			r.Uniform(bn.RunningVar.Data(), 0.5, 1.5)
			f := func(_ *ag.Tape, v []*ag.Var) *ag.Var {
				bn.Weight.Var, bn.Bias.Var = v[1], v[2]
				return bn.Forward(v[0])
			}
			gamma := tensor.Rand(r, 0.5, 1.5, c.x[1])
			beta := tensor.Rand(r, -0.5, 0.5, c.x[1])
			// Training-mode BN of a perturbed input moves slowly: a smaller step keeps the
			// finite differences of the normalization's curvature small.
			o := gradcheck.Options{Eps: 3e-3, RTol: 3e-2, ATol: 5e-3}
			if err := gradcheck.Check(f, []*tensor.Tensor{spread(r, c.x...), gamma, beta}, o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBasicBlockGradcheck(t *testing.T) {
	for _, sc := range []nn.Shortcut{nn.ShortcutA, nn.ShortcutB} {
		b, err := nn.NewBasicBlock(2, 4, 2, sc, nil, rng.New(14))
		if err != nil {
			t.Fatal(err)
		}
		f := func(_ *ag.Tape, v []*ag.Var) *ag.Var { return b.Forward(v[0]) }
		x := spread(rng.New(15), 2, 2, 4, 4)
		x.Fill(0)
		tensor.Randn(rng.New(15), 2, 2, 4, 4).Contiguous()
		x.CopyFrom(tensor.Randn(rng.New(15), 2, 2, 4, 4))
		if err := gradcheck.Check(f, []*tensor.Tensor{x}, gradcheck.Options{Eps: 1e-3, RTol: 5e-2, ATol: 1e-2}); err != nil {
			t.Errorf("shortcut %d: %v", sc, err)
		}
	}
}

func TestAddReLUGradcheck(t *testing.T) {
	r := rng.New(16)
	f := func(_ *ag.Tape, v []*ag.Var) *ag.Var { return nn.AddReLU(v[0], v[1]) }
	if err := gradcheck.Check(f, []*tensor.Tensor{spread(r, 3, 4), spread(r, 3, 4)}, gradcheck.Options{Eps: 1e-3}); err != nil {
		t.Fatal(err)
	}
}

func TestBatchNormOneValuePerChannel(t *testing.T) {
	bn1, _ := nn.NewBatchNorm1D(3, nn.BatchNormConfig{})
	bn2, _ := nn.NewBatchNorm2D(3, nn.BatchNormConfig{})
	cases := []struct {
		bn *nn.BatchNorm
		x  []int
	}{{bn1, []int{1, 3}}, {bn1, []int{1, 3, 1}}, {bn2, []int{1, 3, 1, 1}}}
	for _, c := range cases {
		func() {
			defer func() {
				r := recover()
				var se *tensor.ShapeError
				err, _ := r.(error)
				if !errors.As(err, &se) || !strings.Contains(se.Error(), "batch norm needs more than one value per channel in training") {
					t.Errorf("x %v: panic %v, want a *tensor.ShapeError about one value per channel", c.x, r)
				}
			}()
			tp := ag.NewTape()
			c.bn.SetTraining(true)
			c.bn.Forward(tp.Const(tensor.Full(1, c.x...)))
		}()
		// Evaluation mode uses the running statistics: fine with one value.
		c.bn.SetTraining(false)
		y := c.bn.Forward(ag.NewTape().Const(tensor.Full(1, c.x...)))
		for _, v := range y.Value.Data() {
			if v != v {
				t.Errorf("x %v: eval-mode output is NaN", c.x)
			}
		}
	}
	// Two values per channel are enough (N=1 with H·W=2, or N=2).
	bn2.SetTraining(true)
	bn2.Forward(ag.NewTape().Const(tensor.Randn(rng.New(1), 1, 3, 1, 2)))
}

func TestConfigValidation(t *testing.T) {
	r := rng.New(1)
	m := -0.5
	errs := []error{}
	_, err := nn.NewConv2D(0, 4, 3, r, nn.Conv2DConfig{})
	errs = append(errs, err)
	_, err = nn.NewConv2D(3, 4, 3, r, nn.Conv2DConfig{Groups: 2})
	errs = append(errs, err)
	_, err = nn.NewConv2D(4, 4, 3, r, nn.Conv2DConfig{Stride: -1})
	errs = append(errs, err)
	_, err = nn.NewMaxPool2D(2, nn.PoolConfig{Padding: 2})
	errs = append(errs, err)
	_, err = nn.NewAvgPool2D(0, nn.PoolConfig{})
	errs = append(errs, err)
	_, err = nn.NewBatchNorm2D(4, nn.BatchNormConfig{Momentum: &m})
	errs = append(errs, err)
	_, err = nn.NewBatchNorm2D(4, nn.BatchNormConfig{Eps: -1})
	errs = append(errs, err)
	_, err = nn.NewAdaptiveAvgPool2D(0, 1)
	errs = append(errs, err)
	_, err = nn.NewBasicBlock(8, 4, 2, nn.ShortcutA, nil, r)
	errs = append(errs, err)
	for i, e := range errs {
		if e == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
	// A shape mismatch panics with a *tensor.ShapeError naming both shapes.
	conv, _ := nn.NewConv2D(3, 4, 3, r, nn.Conv2DConfig{})
	defer func() {
		se, ok := recover().(*tensor.ShapeError)
		if !ok || !strings.Contains(se.Error(), "[2 2 5 5]") || !strings.Contains(se.Error(), "[4 3 3 3]") {
			t.Errorf("panic %v, want a *tensor.ShapeError naming both shapes", se)
		}
	}()
	conv.Forward(ag.NewTape().Const(tensor.New(2, 2, 5, 5)))
}

func TestCNNModelsNamesAndShapes(t *testing.T) {
	m, err := nn.Build("cnn", nn.ModelConfig{Dropout: 0.5}, rng.New(0))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		shape []int
	}{
		{"0.weight", []int{32, 1, 3, 3}}, {"0.bias", []int{32}}, {"1.weight", []int{32}}, {"1.bias", []int{32}},
		{"1.running_mean", []int{32}}, {"1.running_var", []int{32}}, {"1.num_batches_tracked", nil},
		{"4.weight", []int{64, 32, 3, 3}}, {"4.bias", []int{64}}, {"5.weight", []int{64}}, {"5.bias", []int{64}},
		{"5.running_mean", []int{64}}, {"5.running_var", []int{64}}, {"5.num_batches_tracked", nil},
		{"9.weight", []int{128, 3136}}, {"9.bias", []int{128}}, {"12.weight", []int{10, 128}}, {"12.bias", []int{10}},
	}
	sd := nn.StateDict(m)
	if len(sd) != len(want) {
		t.Fatalf("state dict has %d entries, want %d", len(sd), len(want))
	}
	for i, w := range want {
		if sd[i].Name != w.name || !tensor.SameShape(sd[i].T.Shape(), w.shape) {
			t.Errorf("entry %d = %s %v, want %s %v", i, sd[i].Name, sd[i].T.Shape(), w.name, w.shape)
		}
	}
	if got := nn.NumParams(m); got != 421834 { // torch: sum(p.numel() for p in model(cnn).parameters())
		t.Errorf("cnn has %d parameters, want 421834", got)
	}
	for _, c := range []struct {
		model  string
		in     []int
		params int
	}{
		{"lenet5", []int{1, 28, 28}, 61706},
		{"lenet5", []int{3, 32, 32}, 83126},
		{"resnet20", []int{3, 32, 32}, 269722},
		{"resnet20", []int{1, 28, 28}, 269434},
		{"cnn", []int{3, 32, 32}, 545290},
	} {
		m, err := nn.Build(c.model, nn.ModelConfig{InShape: c.in, Classes: 10}, rng.New(0))
		if err != nil {
			t.Fatal(err)
		}
		if got := nn.NumParams(m); got != c.params {
			t.Errorf("%s %v: %d parameters, want %d", c.model, c.in, got, c.params)
		}
		tp := ag.NewTape()
		y := m.Forward(tp.Const(tensor.Randn(rng.New(1), append([]int{3}, c.in...)...)))
		if !tensor.SameShape(y.Value.Shape(), []int{3, 10}) {
			t.Errorf("%s %v: output shape %v, want [3 10]", c.model, c.in, y.Value.Shape())
		}
	}
	r, _ := nn.Build("resnet20", nn.ModelConfig{InShape: []int{3, 32, 32}}, rng.New(0))
	names := map[string]bool{}
	for _, e := range nn.StateDict(r) {
		names[e.Name] = true
	}
	for _, n := range []string{"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer2.0.bn2.num_batches_tracked",
		"layer3.2.conv2.weight", "linear.weight", "linear.bias"} {
		if !names[n] {
			t.Errorf("resnet20 state dict lacks %s", n)
		}
	}
}

// TestCNNStepAllocations: after warm-up a training step of the cnn model allocates
// nothing (the tape arena and the job free lists are reused). AllocsPerRun averages over
// 40 steps, so a rare runtime allocation (a new OS thread under CPU contention, a
// sync.Pool refill in the sgemm after a GC) does not count as a per-step allocation.
func TestCNNStepAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	if kernel.Name() == "generic" {
		// The portable sgemm micro-kernel allocates (internal/kernel.kernGeneric) and is
		// ~30x slower; the fast path is what a training step runs.
		t.Skip("TEMPER_KERNEL=generic: the portable sgemm kernel allocates")
	}
	root := rng.New(1)
	m, err := nn.Build("cnn", nn.ModelConfig{Dropout: 0.5}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, _ := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.01, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	x := tensor.Rand(rng.New(2), 0, 1, 16, 1, 28, 28)
	y := make([]int, 16)
	for i := range y {
		y[i] = i % 10
	}
	ds, _ := data.NewInMemory(x.Data(), y, []int{1, 28, 28}, 10)
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{BatchSize: 16}, root.Split())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i := 0; i < 10; i++ {
		if _, _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(40, func() {
		if _, _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("a steady-state cnn training step allocates %v times, want 0", allocs)
	}
}

// TestFusedBNReLUPool checks BatchNorm with FuseReLU and FuseMaxPool2 against the unfused
// BN, ReLU and MaxPool2D modules, in training and evaluation, forward and backward.
func TestFusedBNReLUPool(t *testing.T) {
	for _, train := range []bool{true, false} {
		for _, shape := range [][]int{{3, 4, 6, 6}, {2, 3, 7, 5}, {4, 2, 28, 28}} {
			r := rng.New(21)
			x := tensor.Randn(r, shape...)
			gamma := tensor.Rand(r, -1, 1.5, shape[1]) // a negative γ flips the order
			beta := tensor.Rand(r, -0.5, 0.5, shape[1])
			run := func(fused bool) (y, dx, dg, db *tensor.Tensor, rm []float32) {
				bn, _ := nn.NewBatchNorm2D(shape[1], nn.BatchNormConfig{})
				bn.Weight.Value.CopyFrom(gamma)
				bn.Bias.Value.CopyFrom(beta)
				bn.FuseReLU = true
				var m nn.Module = nn.NewSequential(bn, mustPool(t))
				if fused {
					bn.FuseMaxPool2 = true
					m = bn
				}
				bn.SetTraining(train)
				tp := ag.NewTape()
				xp := ag.NewParam(x.Clone())
				out := m.Forward(tp.Watch(xp))
				g := tensor.Randn(rng.New(22), out.Value.Shape()...)
				ag.Sum(ag.Mul(out, tp.Const(g))).Backward()
				return out.Value.Clone(), xp.Grad, bn.Weight.Grad, bn.Bias.Grad, bn.RunningMean.Clone().Data()
			}
			y0, dx0, dg0, db0, rm0 := run(false)
			y1, dx1, dg1, db1, rm1 := run(true)
			name := fmt.Sprintf("train=%v %v", train, shape)
			for _, c := range []struct {
				what      string
				got, want []float32
			}{{"y", y1.Data(), y0.Data()}, {"dx", dx1.Data(), dx0.Data()}, {"dγ", dg1.Data(), dg0.Data()},
				{"dβ", db1.Data(), db0.Data()}, {"running mean", rm1, rm0}} {
				if len(c.got) != len(c.want) {
					t.Fatalf("%s %s: %d values, want %d", name, c.what, len(c.got), len(c.want))
				}
				if e := relErr(c.got, c.want); e > 1e-5 {
					t.Errorf("%s %s: relative error %.3g", name, c.what, e)
				}
			}
		}
	}
	// Gradcheck of the fused op itself.
	bn, _ := nn.NewBatchNorm2D(2, nn.BatchNormConfig{})
	bn.FuseReLU, bn.FuseMaxPool2 = true, true
	f := func(_ *ag.Tape, v []*ag.Var) *ag.Var {
		bn.Weight.Var, bn.Bias.Var = v[1], v[2]
		return bn.Forward(v[0])
	}
	r := rng.New(23)
	in := []*tensor.Tensor{spread(r, 3, 2, 4, 4), tensor.Rand(r, 0.5, 1.5, 2), tensor.Rand(r, -0.5, 0.5, 2)}
	if err := gradcheck.Check(f, in, gradcheck.Options{Eps: 3e-3, RTol: 3e-2, ATol: 5e-3}); err != nil {
		t.Fatal(err)
	}
}

func mustPool(t *testing.T) *nn.MaxPool2D {
	p, err := nn.NewMaxPool2D(2, nn.PoolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
