package lrfind

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/train"
)

// blobs is a 3-class problem: Gaussian clusters in 8 dimensions.
func blobs(t testing.TB, n int, seed uint64) *data.InMemory {
	t.Helper()
	r := rng.New(seed)
	const d, k = 8, 3
	x := make([]float32, n*d)
	y := make([]int, n)
	for i := range y {
		c := r.IntN(k)
		y[i] = c
		for j := 0; j < d; j++ {
			mean := 0.0
			if j%k == c {
				mean = 2
			}
			x[i*d+j] = float32(mean + r.NormFloat64())
		}
	}
	ds, err := data.NewInMemory(x, y, []int{d}, k)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// smallNet is 8-32-3 with dropout, initialized from seed.
func smallNet(seed uint64) nn.Module {
	r := rng.New(seed)
	return nn.NewSequential(
		nn.NewLinear(8, 32, r.Split(), nn.LinearConfig{}),
		nn.ReLU{},
		must(nn.NewDropout(0.2, r.Split())),
		nn.NewLinear(32, 3, r.Split(), nn.LinearConfig{}),
	)
}

// bnNet is smallNet with batch norm after the first layer (buffers to restore).
func bnNet(seed uint64) nn.Module {
	r := rng.New(seed)
	return nn.NewSequential(
		nn.NewLinear(8, 32, r.Split(), nn.LinearConfig{}),
		must(nn.NewBatchNorm1D(32, nn.BatchNormConfig{})),
		nn.ReLU{},
		must(nn.NewDropout(0.2, r.Split())),
		nn.NewLinear(32, 3, r.Split(), nn.LinearConfig{}),
	)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func sgd(t testing.TB, m nn.Module, lr, wd float64) optim.Optimizer {
	t.Helper()
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: lr, WeightDecay: wd}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSuggestionRules(t *testing.T) {
	lrs := make([]float64, 10)
	for i := range lrs {
		lrs[i] = math.Pow(10, float64(i-8)) // 1e-8 .. 10
	}
	cases := []struct {
		name   string
		m      Method
		losses []float64
		want   float64
	}{
		// Longest decreasing subsequence: 5 4.9 4 2.5 2 1.5 1 ends at 7 with lds[7] = 7,
		// so start = 0; k = 7/3, index 0 + 2 + 1 = 3.
		{"valley", Valley, []float64{5, 5, 4.9, 4, 2.5, 2, 1.5, 1, 3, 9}, lrs[3]},
		// The subsequence need not be contiguous: 9 8 7 6 5 (indices 0, 2, 4, 6, 8) beats
		// the run 9 1: lds[8] = 5, start 3, k = 5/3, index 3 + 1 + 0 = 4.
		{"valley skips bumps", Valley, []float64{9, 10, 8, 10, 7, 10, 6, 10, 5, 10}, lrs[4]},
		// A strictly decreasing curve: start = n-1-n = -1, k = 3, index -1 + 3 + 1 = 3.
		{"valley monotone", Valley, []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, lrs[3]},
		{"steep", Steep, []float64{5, 5, 4.9, 4, 2.5, 2, 1.5, 1, 3, 9}, lrs[3]},
		{"steep single drop", Steep, []float64{1, 2, 3, 4, 5, 6, 7, 8, 0, 9}, lrs[7]},
		{"minimum", Minimum, []float64{5, 5, 4.9, 4, 3, 2, 1.5, 1, 3, 9}, lrs[7] / 10},
		{"minimum first of equals", Minimum, []float64{5, 1, 4.9, 4, 3, 2, 1.5, 1, 3, 9}, lrs[1] / 10},
	}
	for _, c := range cases {
		got, err := Suggest(c.m, lrs, c.losses)
		if err != nil || got != c.want {
			t.Errorf("%s: got %g, %v; want %g", c.name, got, err, c.want)
		}
	}
}

func TestSlide(t *testing.T) {
	// 40 points: flat (gradient 0) up to index 24, then the loss rises with gradient 0.1.
	n := 40
	lrs, losses := make([]float64, n), make([]float64, n)
	for i := range lrs {
		lrs[i] = float64(i + 1)
		if i > 24 {
			losses[i] = 0.1 * float64(i-24)
		}
	}
	// np.gradient: g[24] = 0.05, g[i] = 0.1 for i > 24, 0 before. The interval [l, r]
	// with r-l = 15 slides left while |g[r]-g[l]| > 0.005: it starts at r=39, l=24
	// (|0.1-0.05| > thresh: local = lrs[24]), r=38, l=23 (0.1 vs 0: local = lrs[23]) ...
	// until r = 24 (g 0.05) vs l = 9 (0): still > thresh, local = lrs[9]; r = 23, l = 8:
	// equal gradients, stop. So the suggestion is lrs[9] = 10.
	got, err := SuggestSlide(lrs, losses, SlideConfig{})
	if err != nil || got != 10 {
		t.Fatalf("slide: got %g, %v; want 10", got, err)
	}
	got, _ = SuggestSlide(lrs, losses, SlideConfig{Adjust: 0.5})
	if got != 5 {
		t.Fatalf("slide with adjust 0.5: got %g, want 5", got)
	}
	// When every interval differs, the slide runs to the left end: lrs[0].
	for i := range losses {
		losses[i] = float64(i * i)
	}
	if got, _ := SuggestSlide(lrs, losses, SlideConfig{}); got != 1 {
		t.Fatalf("slide on a parabola: got %g, want lrs[0] = 1", got)
	}
}

func TestSuggestionErrors(t *testing.T) {
	cases := []struct {
		m      Method
		lrs    []float64
		losses []float64
	}{
		{Valley, []float64{1}, []float64{1}},
		{Steep, nil, nil},
		{Minimum, nil, nil},
		{Slide, make([]float64, 15), make([]float64, 15)},
		{Valley, []float64{1, 2}, []float64{1}},
	}
	for _, c := range cases {
		if _, err := Suggest(c.m, c.lrs, c.losses); err == nil {
			t.Errorf("%s on %d points: no error", c.m, len(c.losses))
		}
	}
	if _, err := Suggest("median", nil, nil); err == nil || !strings.Contains(err.Error(), "valley") {
		t.Errorf("unknown method: %v", err)
	}
	if m, err := ParseMethod("slide"); err != nil || m != Slide {
		t.Errorf("ParseMethod(slide) = %q, %v", m, err)
	}
}

func TestConfigValidation(t *testing.T) {
	ds := blobs(t, 64, 1)
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{StartLR: -1}, "start lr -1 out of range"},
		{Config{StartLR: 1, EndLR: 0.5}, "end lr 0.5 out of range"},
		{Config{Steps: 1}, "steps 1 out of range [2, ∞)"},
		{Config{Beta: 1}, "smoothing beta 1 out of range [0, 1)"},
		{Config{DivergeFactor: 0.5}, "divergence factor 0.5 out of range (1, ∞)"},
		{Config{BatchSize: -2}, "batch size -2 out of range"},
		{Config{LabelSmoothing: 1}, "label smoothing 1 out of range"},
		{Config{Slide: SlideConfig{Thresh: -1}}, "slide threshold -1 out of range"},
	}
	for _, c := range cases {
		m := smallNet(1)
		_, err := RangeTest(context.Background(), m, sgd(t, m, 0.1, 0), ds, c.cfg, rng.New(1))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want it to contain %q", c.cfg, err, c.want)
		}
	}
}

// snapshotBytes captures everything the range test must restore, as comparable values.
func snapshotBytes(t *testing.T, m nn.Module, o optim.Optimizer) (params map[string][]float32, state map[string][]float32, streams [][]byte, lrs []float64) {
	t.Helper()
	params = map[string][]float32{}
	for _, e := range nn.StateDict(m) {
		params[e.Name] = e.T.ToSlice()
	}
	for _, p := range nn.Params(m) {
		params[p.Name+".grad"] = p.Grad.ToSlice()
	}
	state = map[string][]float32{}
	for k, v := range o.State() {
		state[k] = v.ToSlice()
	}
	for _, s := range nn.RandomStreams(m) {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, b)
	}
	for _, g := range o.Groups() {
		lrs = append(lrs, g.LR, g.BaseLR, g.WeightDecay)
	}
	return
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestRangeTestRestoresState warms up a model with batch norm and dropout (so the
// optimizer state is not zero), runs the range test (to lr 10) and checks every bit of the
// state is back: parameters, BN buffers, gradients, optimizer buffers, dropout streams
// and the groups' learning rates.
func TestRangeTestRestoresState(t *testing.T) {
	ds := blobs(t, 512, 1)
	m := bnNet(7)
	o := sgd(t, m, 0.05, 1e-3)
	// Warm up: a few steps so momentum buffers and step counts are non-trivial.
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{}, rng.New(0))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x, y := ds.Tensor(0, 64)
	for i := 0; i < 3; i++ {
		if _, _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	p0, s0, r0, g0 := snapshotBytes(t, m, o)

	res, err := RangeTest(context.Background(), m, o, ds, Config{}, rng.New(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LRs) < 50 {
		t.Errorf("the sweep took only %d steps (stopped: %s)", len(res.LRs), res.Stopped)
	}
	p1, s1, r1, g1 := snapshotBytes(t, m, o)
	for k, v := range p0 {
		if !sameFloats(v, p1[k]) {
			t.Errorf("%s changed by the range test", k)
		}
	}
	for k, v := range s0 {
		if !sameFloats(v, s1[k]) {
			t.Errorf("optimizer state %s changed by the range test", k)
		}
	}
	if len(r0) == 0 {
		t.Fatal("the model has no random streams; the test needs dropout")
	}
	if _, ok := p0["1.running_mean"]; !ok {
		t.Fatalf("no batch-norm buffers in the state: %v", keys(p0))
	}
	for i := range r0 {
		if !bytes.Equal(r0[i], r1[i]) {
			t.Errorf("random stream %d changed by the range test", i)
		}
	}
	for i := range g0 {
		if g0[i] != g1[i] {
			t.Errorf("group hyperparameters %v became %v", g0, g1)
			break
		}
	}
	// And the test itself is reproducible from the restored state.
	res2, err := RangeTest(context.Background(), m, o, ds, Config{}, rng.New(5))
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Losses) != len(res.Losses) {
		t.Fatalf("second run took %d steps, first %d", len(res2.Losses), len(res.Losses))
	}
	for i := range res.Losses {
		if res.Losses[i] != res2.Losses[i] {
			t.Fatalf("step %d: loss %v then %v", i, res.Losses[i], res2.Losses[i])
		}
	}
}

func TestRangeTestCurve(t *testing.T) {
	ds := blobs(t, 256, 2) // 2 batches of 128 per epoch: the sweep cycles through epochs
	cases := []struct {
		name      string
		cfg       Config
		wantSteps int
		stopped   string
	}{
		{"no stop", Config{StartLR: 1e-5, EndLR: 1e-1, Steps: 30, NoStop: true}, 30, ""},
		{"defaults diverge", Config{}, -1, "diverged"},
		{"no smoothing", Config{StartLR: 1e-4, EndLR: 1e-2, Steps: 12, NoSmoothing: true}, 12, ""},
	}
	for _, c := range cases {
		m := smallNet(1)
		res, err := RangeTest(context.Background(), m, sgd(t, m, 0.1, 0), ds, c.cfg, rng.New(1))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cfg, _ := c.cfg.withDefaults()
		if c.wantSteps > 0 && len(res.LRs) != c.wantSteps {
			t.Errorf("%s: %d steps, want %d", c.name, len(res.LRs), c.wantSteps)
		}
		if c.stopped != "" && res.Stopped == "" {
			t.Errorf("%s: ran all %d steps, want it to stop (%s)", c.name, len(res.LRs), c.stopped)
		}
		if c.stopped == "" && res.Stopped != "" {
			t.Errorf("%s: stopped (%s) after %d steps", c.name, res.Stopped, len(res.LRs))
		}
		for i, lr := range res.LRs {
			want := cfg.StartLR * math.Pow(cfg.EndLR/cfg.StartLR, float64(i)/float64(cfg.Steps))
			if math.Abs(lr-want) > 1e-12*want {
				t.Fatalf("%s: step %d lr %g, want %g", c.name, i, lr, want)
			}
		}
		// Bias-corrected EMA: the first smoothed value is the first loss.
		if res.Smoothed[0] != res.Losses[0] && math.Abs(res.Smoothed[0]-res.Losses[0]) > 1e-12 {
			t.Errorf("%s: smoothed[0] %v != loss[0] %v", c.name, res.Smoothed[0], res.Losses[0])
		}
		if c.cfg.NoSmoothing {
			for i := range res.Losses {
				if res.Smoothed[i] != res.Losses[i] {
					t.Fatalf("%s: smoothing off but smoothed[%d] %v != %v", c.name, i, res.Smoothed[i], res.Losses[i])
				}
			}
		}
		if res.Lo != cfg.SkipStart || res.Hi != len(res.LRs)-cfg.SkipEnd {
			t.Errorf("%s: window [%d, %d), want [%d, %d)", c.name, res.Lo, res.Hi, cfg.SkipStart, len(res.LRs)-cfg.SkipEnd)
		}
		if len(res.Suggestions) != len(Methods) {
			t.Fatalf("%s: %d suggestions", c.name, len(res.Suggestions))
		}
		for _, s := range res.Suggestions {
			if s.Err != nil {
				if c.name == "no smoothing" && s.Method == Slide && errors.Is(s.Err, ErrTooShort) {
					continue // 12 - 1 - 5 points: too few for the slide's 15-point interval
				}
				t.Errorf("%s: %s: %v", c.name, s.Method, s.Err)
				continue
			}
			lo, hi := res.LRs[0]/10, res.LRs[len(res.LRs)-1]
			if !(s.LR >= lo && s.LR <= hi) {
				t.Errorf("%s: %s suggests %g outside the swept range [%g, %g]", c.name, s.Method, s.LR, lo, hi)
			}
		}
	}
}

// TestValleyOnBlobs: with the defaults on an easy problem the valley suggestion is a
// learning rate that trains well (between 1e-3 and 1 for this net).
func TestValleyOnBlobs(t *testing.T) {
	ds := blobs(t, 1024, 3)
	m := smallNet(2)
	res, err := RangeTest(context.Background(), m, sgd(t, m, 0.1, 0), ds, Config{BatchSize: 32}, rng.New(9))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := res.Suggested(Valley)
	if !ok || s.Err != nil {
		t.Fatalf("no valley suggestion: %+v", s)
	}
	if s.LR < 1e-3 || s.LR > 1 {
		t.Errorf("valley suggests %g; want it in [1e-3, 1]", s.LR)
	}
}

func TestRangeTestCancel(t *testing.T) {
	ds := blobs(t, 64, 1)
	m := smallNet(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RangeTest(ctx, m, sgd(t, m, 0.1, 0), ds, Config{}, rng.New(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := RangeTest(context.Background(), m, sgd(t, m, 0.1, 0), nil, Config{}, rng.New(1)); err == nil {
		t.Fatal("nil dataset: no error")
	}
}

func keys(m map[string][]float32) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// driftCurve is a range-test curve shaped like the MNIST MLP's (docs/lr.md): batch losses
// at 2.303 with noise of deviation 0.005 for points 0..59, falling by 0.6 over points
// 60..84, then exploding; returned smoothed as RangeTest smooths them (EMA β = 0.98,
// bias-corrected), with the noise level RangeTest would estimate from the first 10.
func driftCurve() (lrs, smoothed []float64, noise float64) {
	r := rng.New(4)
	var raw []float64
	avg := 0.0
	for i := 0; i < 100; i++ {
		lrs = append(lrs, 1e-7*math.Pow(10, float64(i)/12.5))
		l := 2.303 + 0.005*r.NormFloat64()
		switch {
		case i >= 85:
			l = 1.7 + 0.5*float64(i-84)
		case i >= 60:
			l -= 0.6 * float64(i-59) / 25
		}
		raw = append(raw, l)
		avg = 0.98*avg + 0.02*l
		smoothed = append(smoothed, avg/(1-math.Pow(0.98, float64(i+1))))
	}
	// The rules read points 10..94, like RangeTest's defaults.
	return lrs[10:95], smoothed[10:95], NoiseLevel(raw[:10], 0.98)
}

// TestValleyToleranceIgnoresFlatNoise: with a tolerance of 3 noise deviations the valley
// is inside the descent (points 60..84 of the sweep). See TestValleyOnMLPCurve for the
// measured curve where fastai's rule fails.
func TestValleyToleranceIgnoresFlatNoise(t *testing.T) {
	lrs, losses, noise := driftCurve()
	fa, err := SuggestValley(lrs, losses)
	if err != nil {
		t.Fatal(err)
	}
	tol, err := SuggestValleyTol(lrs, losses, 3*noise)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 1e-7*math.Pow(10, 61/12.5), 1e-7*math.Pow(10, 84/12.5)
	t.Logf("noise %.2g: fastai valley %.3g, with tolerance %.3g; descent %.3g..%.3g", noise, fa, tol, lo, hi)
	if !(tol >= lo && tol <= hi) {
		t.Errorf("valley with tolerance suggests %g; want it inside the descent [%g, %g]", tol, lo, hi)
	}
	// Tolerance 0 is fastai's rule.
	if z, _ := SuggestValleyTol(lrs, losses, 0); z != fa {
		t.Errorf("tolerance 0: %g, fastai's rule %g", z, fa)
	}
	if _, err := SuggestValleyTol(lrs, losses, math.NaN()); err == nil {
		t.Error("NaN tolerance: no error")
	}
	if _, err := SuggestValleyTol(lrs, losses, -1); err == nil {
		t.Error("negative tolerance: no error")
	}
}

// TestNoiseLevel: on white noise of deviation s the estimate is s·√((1-β)/(1+β)) within
// sampling error, robust to a few outliers.
func TestNoiseLevel(t *testing.T) {
	r := rng.New(7)
	head := make([]float64, 400)
	for i := range head {
		head[i] = 2.3 + 0.05*r.NormFloat64()
	}
	head[3], head[100] = 50, -40 // outliers barely move a median
	for _, beta := range []float64{0, 0.9, 0.98} {
		want := 0.05 * math.Sqrt((1-beta)/(1+beta))
		if got := NoiseLevel(head, beta); math.Abs(got-want) > 0.1*want {
			t.Errorf("beta %g: noise %g, want %g ± 10%%", beta, got, want)
		}
	}
	if got := NoiseLevel(head[:2], 0.98); got != 0 {
		t.Errorf("2 points: %g, want 0", got)
	}
}

// TestRangeTestValleySigmas: RangeTest reports the noise and applies the tolerance;
// a negative ValleySigmas gives fastai's rule on the same curve.
func TestRangeTestValleySigmas(t *testing.T) {
	ds := blobs(t, 1024, 3)
	run := func(sig float64) *Result {
		m := smallNet(2)
		res, err := RangeTest(context.Background(), m, sgd(t, m, 0.1, 0), ds, Config{BatchSize: 32, ValleySigmas: sig}, rng.New(9))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	def, fa := run(0), run(-1)
	if !(def.Noise > 0) {
		t.Fatalf("noise %g, want > 0", def.Noise)
	}
	want, err := SuggestValleyTol(def.LRs[def.Lo:def.Hi], def.Smoothed[def.Lo:def.Hi], 3*def.Noise)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := def.Suggested(Valley); s.LR != want {
		t.Errorf("default valley %g, want SuggestValleyTol(3·noise) = %g", s.LR, want)
	}
	wantFA, _ := SuggestValley(fa.LRs[fa.Lo:fa.Hi], fa.Smoothed[fa.Lo:fa.Hi])
	if s, _ := fa.Suggested(Valley); s.LR != wantFA {
		t.Errorf("ValleySigmas -1: valley %g, want fastai's %g", s.LR, wantFA)
	}
	if _, err := (Config{ValleySigmas: math.NaN()}).withDefaults(); err == nil {
		t.Error("NaN ValleySigmas: no error")
	}
}

// TestValleyOnMLPCurve reads the measured range-test curve of docs/lr.md (`temper lrfind
// --train-size 10000 --threads 2`, the MNIST MLP with SGD-Nesterov; testdata/
// mlp_sgd_rangetest.csv) and checks the documented suggestions: fastai's valley 0.00912,
// 11.7x below the search's best (0.1069); with the noise tolerance 0.0832.
func TestValleyOnMLPCurve(t *testing.T) {
	f, err := os.Open("testdata/mlp_sgd_rangetest.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var lrs, raw, sm []float64
	for _, r := range rows[1:] {
		v := make([]float64, 3)
		for i := range v {
			if v[i], err = strconv.ParseFloat(r[i+1], 64); err != nil {
				t.Fatal(err)
			}
		}
		lrs, raw, sm = append(lrs, v[0]), append(raw, v[1]), append(sm, v[2])
	}
	lo, hi := 10, len(lrs)-5
	noise := NoiseLevel(raw[:10], 0.98)
	fa, _ := SuggestValley(lrs[lo:hi], sm[lo:hi])
	tol, _ := SuggestValleyTol(lrs[lo:hi], sm[lo:hi], 3*noise)
	if math.Abs(fa-0.00912) > 0.00001 || math.Abs(tol-0.0832) > 0.0001 {
		t.Errorf("fastai's valley %.3g (want 0.00912), with tolerance %.3g (want 0.0832); noise %.2g", fa, tol, noise)
	}
}
