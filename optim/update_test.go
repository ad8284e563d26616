package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/temperml/temper/internal/kernel"
)

// vectorPath returns the active kernel path when it has vector update loops, "" if not.
func vectorPath() string {
	if n := kernel.Name(); n != "generic" {
		return n
	}
	return ""
}

// useKernel makes path name active (kernel.SetKernel) for a comparison.
func useKernel(t testing.TB, name string) {
	t.Helper()
	if err := kernel.SetKernel(name); err != nil {
		t.Fatal(err)
	}
}

// TestVectorPathsBitIdentical runs every update loop with and without the AVX2 path on the
// same random data and requires bit-identical parameters and buffers.
func TestVectorPathsBitIdentical(t *testing.T) {
	vec := vectorPath()
	if vec == "" {
		t.Skip("no vector path on this machine")
	}
	r := rand.New(rand.NewPCG(1, 2))
	type bufs struct{ p, g, b, v, b2 []float32 }
	mk := func(n int) bufs {
		f := func(scale float32) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64()) * scale
			}
			return x
		}
		return bufs{f(1), f(0.1), f(0.01), f(0.001), f(0.05)}
	}
	clone := func(b bufs) bufs {
		c := func(x []float32) []float32 { return append([]float32(nil), x...) }
		v := c(b.v)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		return bufs{c(b.p), c(b.g), c(b.b), v, c(b.b2)}
	}
	cases := []struct {
		name string
		f    func(b bufs, wd float32)
	}{
		{"plain", func(b bufs, wd float32) { sgdPlain(b.p, b.g, -0.1, wd) }},
		{"momentum", func(b bufs, wd float32) { sgdMomentum(b.p, b.g, b.b, -0.1, wd, 0.9, 0.7) }},
		{"nesterov", func(b bufs, wd float32) { sgdNesterov(b.p, b.g, b.b, -0.1, wd, 0.9) }},
		{"adam", func(b bufs, wd float32) {
			c := adamCoef{B1: 0.9, OmB1: 0.1, B2: 0.999, OmB2: 0.001, Eps: 1e-8, BC2S: 0.3, Step: -0.01, WD: wd, Decay: 1}
			adam(b.p, b.g, b.b, b.v, &c)
		}},
		{"adagrad", func(b bufs, wd float32) { adagrad(b.p, b.g, b.v, -0.1, wd, 1e-10) }},
		{"rmsprop", func(b bufs, wd float32) {
			rmsPlain(b.p, b.g, b.v, &rmsCoef{Alpha: 0.99, OmA: 0.01, Eps: 1e-8, LR: -0.01, WD: wd})
		}},
		{"rmsprop momentum", func(b bufs, wd float32) {
			rmsMomentum(b.p, b.g, b.v, b.b, &rmsCoef{Alpha: 0.99, OmA: 0.01, Eps: 1e-8, Mom: 0.9, LR: -0.01, WD: wd})
		}},
		{"rmsprop centered", func(b bufs, wd float32) {
			rmsCentered(b.p, b.g, b.v, b.b, nil, &rmsCoef{Alpha: 0.9, OmA: 0.1, Eps: 1e-8, LR: -0.01, WD: wd})
		}},
		{"rmsprop centered momentum", func(b bufs, wd float32) {
			rmsCentered(b.p, b.g, b.v, b.b, b.b2, &rmsCoef{Alpha: 0.9, OmA: 0.1, Eps: 1e-8, Mom: 0.5, LR: -0.01, WD: wd})
		}},
		{"adamw", func(b bufs, wd float32) {
			c := adamCoef{B1: 0.9, OmB1: 0.1, B2: 0.999, OmB2: 0.001, Eps: 1e-8, BC2S: 0.3, Step: -0.01, Decay: 1 - wd}
			adam(b.p, b.g, b.b, b.v, &c)
		}},
	}
	defer useKernel(t, vec)
	for _, tc := range cases {
		for _, n := range []int{1, 7, 8, 9, 16, 31, 1000, 1027} {
			for _, wd := range []float32{0, 0.01} {
				base := clone(mk(n))
				got, ref := clone(base), clone(base)
				useKernel(t, vec)
				tc.f(got, wd)
				useKernel(t, "generic")
				tc.f(ref, wd)
				for k, pair := range [][2][]float32{{got.p, ref.p}, {got.b, ref.b}, {got.v, ref.v}, {got.b2, ref.b2}} {
					for i := range pair[0] {
						if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
							t.Fatalf("%s n=%d wd=%v: slice %d [%d] = %v on %s, %v on generic", tc.name, n, wd, k, i, pair[0][i], vec, pair[1][i])
						}
					}
				}
			}
		}
	}
}

// TestThreadsIdentical: splitting a large parameter over the worker pool with the
// optimizer's own thread count (Threaded) does not change the result (every update is
// elementwise), for every optimizer.
func TestThreadsIdentical(t *testing.T) {
	for _, name := range Names {
		run := func(threads int) []float32 {
			g := oneGroup(0.01, 3*parallelGrain+5)
			cfg, _ := DefaultConfig(name)
			cfg.LR, cfg.WeightDecay = 0.01, 1e-3
			o, err := New(name, g, cfg)
			if err != nil {
				t.Fatal(err)
			}
			th, ok := o.(Threaded)
			if !ok {
				t.Fatalf("%s does not implement Threaded", name)
			}
			if prev := th.SetThreads(threads); prev != 0 {
				t.Fatalf("%s: SetThreads on a new optimizer returned %d, want 0", name, prev)
			}
			if want := kernel.ResolveThreads(threads); th.Threads() != want {
				t.Fatalf("%s: Threads() = %d after SetThreads(%d), want %d", name, th.Threads(), threads, want)
			}
			for range 3 {
				o.Step()
			}
			return g[0].Params[0].Value.Data()
		}
		one := run(1)
		for _, threads := range []int{2, 3, 0} {
			other := run(threads)
			for i := range one {
				if math.Float32bits(one[i]) != math.Float32bits(other[i]) {
					t.Fatalf("%s [%d] = %v with 1 thread, %v with %d", name, i, one[i], other[i], threads)
				}
			}
		}
	}
}

var (
	_ Threaded = (*SGD)(nil)
	_ Threaded = (*AdaGrad)(nil)
	_ Threaded = (*RMSProp)(nil)
	_ Threaded = (*Adam)(nil)
)
