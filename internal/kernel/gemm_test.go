package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// forEachPath runs f with every kernel path this CPU supports made active.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := impl
	defer func() { impl = saved }()
	for _, name := range Available() {
		if err := SetKernel(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// refGemm computes alpha*op(A)*op(B) + beta*C in float64, and the magnitude bound
// |alpha|*|op(A)|*|op(B)| + |beta*C| used for the error bound.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if transB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				sa += math.Abs(av * bv)
			}
			w := float64(alpha) * s
			g := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				w += float64(beta) * float64(c[i*ldc+j])
				g += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j] = w
			mag[i*n+j] = g
		}
	}
	return want, mag
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra leading-dimension padding of A, B and C
}

func (g gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_m%d_n%d_k%d_a%g_b%g_pad%d", t(g.transA), t(g.transB), g.m, g.n, g.k, g.alpha, g.beta, g.pad)
}

// checkGemmCase runs Sgemm on random data and compares with the float64 reference.
// Error bound: each C element is a float32 dot product of length k (k roundings), plus
// the roundings of alpha (folded into packed A), of beta*C and of the final add:
// |err| <= gamma_{k+3} * (|alpha|·|A|·|B| + |beta·C|) with gamma_n = n*u/(1-n*u),
// u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). This is a
// worst-case bound, so the test cannot flake; typical errors are ~sqrt(k) times smaller.
func checkGemmCase(t *testing.T, r *rand.Rand, g gemmCase) {
	t.Helper()
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc := ac+g.pad, bc+g.pad, g.n+g.pad
	a := randSlice(r, max(ar*lda, 1))
	b := randSlice(r, max(br*ldb, 1))
	c := randSlice(r, max(g.m*ldc, 1))
	if g.beta == 0 {
		for i := range c {
			if i%3 == 0 {
				c[i] = float32(math.NaN()) // beta == 0 must not propagate NaN
			}
		}
	}
	orig := append([]float32(nil), c...)
	want, mag := refGemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc)
	Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc)
	nu := float64(g.k+3) * 0x1p-24
	gamma := nu / (1 - nu)
	bad := 0
	for i := 0; i < g.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= g.n {
				if math.Float32bits(got) != math.Float32bits(orig[i*ldc+j]) {
					t.Fatalf("%v: padding C[%d,%d] changed: %v -> %v", g, i, j, orig[i*ldc+j], got)
				}
				continue
			}
			w := want[i*g.n+j]
			tol := gamma*mag[i*g.n+j] + 1e-30
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				if bad < 5 {
					t.Errorf("%v: C[%d,%d] = %v, want %v (|err| %.3g > bound %.3g)", g, i, j, got, w, d, tol)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d wrong elements", g, bad)
	}
}

func TestSgemmShapes(t *testing.T) {
	sizes := []int{1, 2, 3, 7, 17, 31, 33, 127, 129}
	if !testing.Short() {
		sizes = append(sizes, 513)
	}
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		n := 0
		for _, m := range sizes {
			for _, nn := range sizes {
				for ti := 0; ti < 4; ti++ {
					// k cycles through the sizes; alpha/beta/padding vary with the case.
					k := sizes[(n*7+ti)%len(sizes)]
					if m*nn*k > 40_000_000 {
						k = 17
					}
					g := gemmCase{transA: ti&1 != 0, transB: ti&2 != 0, m: m, n: nn, k: k,
						alpha: []float32{1, -0.5, 2}[n%3], beta: []float32{0, 1, 0.25}[(n/3)%3], pad: []int{0, 3, 16}[n%3]}
					checkGemmCase(t, r, g)
					n++
				}
			}
		}
	})
}

func TestSgemmSpecial(t *testing.T) {
	cases := []gemmCase{
		{m: 0, n: 5, k: 3, alpha: 1},
		{m: 5, n: 0, k: 3, alpha: 1},
		{m: 4, n: 5, k: 0, alpha: 1, beta: 0},
		{m: 4, n: 5, k: 0, alpha: 1, beta: 0.5},
		{m: 4, n: 5, k: 3, alpha: 0, beta: 2},
		{m: 64, n: 64, k: 64, alpha: 1, beta: 0},
		{m: 96, n: 256, k: 600, alpha: 1, beta: 1, pad: 5},        // several k blocks
		{transB: true, m: 128, n: 512, k: 784, alpha: 1, beta: 0}, // MLP forward
		{m: 128, n: 784, k: 512, alpha: 1, beta: 0},               // MLP dX
		{transA: true, m: 512, n: 784, k: 128, alpha: 1, beta: 1}, // MLP dW (accumulate)
		{transA: true, m: 10, n: 512, k: 128, alpha: 1, beta: 0},  // MLP last layer dW
		{transB: true, m: 128, n: 10, k: 512, alpha: 1, beta: 0},  // MLP last layer forward
		{transA: true, transB: true, m: 300, n: 700, k: 50, alpha: -1, beta: 0.5, pad: 1},
	}
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, g := range cases {
			checkGemmCase(t, r, g)
		}
	})
}

// TestSgemmDeterministic checks bit-identical results run to run, and across thread
// counts (the split never changes the operations that compute an element of C).
func TestSgemmDeterministic(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, g := range []gemmCase{
			{transB: true, m: 200, n: 530, k: 300, beta: 0.25},
			{m: 37, n: 1000, k: 50, beta: 0.25},               // in-place B when split by rows
			{transA: true, m: 1000, n: 20, k: 70, beta: 0.25}, // split by rows
			{m: 150, n: 7, k: 600},                            // narrow C, computed as Cᵀ
			{m: 300, n: 530, k: 10, beta: 0.25},               // small k, split by rows
			{transA: true, m: 200, n: 700, k: 16},             // small k, Aᵀ, split by rows
			{m: 12, n: 3000, k: 40, beta: 0.25},               // small k, split by columns
		} {
			ar, ac := g.m, g.k
			if g.transA {
				ar, ac = ac, ar
			}
			br, bc := g.k, g.n
			if g.transB {
				br, bc = bc, br
			}
			a, b := randSlice(r, ar*ac), randSlice(r, br*bc)
			c0 := randSlice(r, g.m*g.n)
			var first []float32
			for _, th := range []int{1, 2, 3, 4, 1, 2} {
				c := append([]float32(nil), c0...)
				SgemmN(th, g.transA, g.transB, g.m, g.n, g.k, 0.5, a, ac, b, bc, g.beta, c, g.n)
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%v threads=%d: C[%d] = %v, with 1 thread %v", g, th, i, c[i], first[i])
					}
				}
			}
		}
	})
}

// TestSgemmChunks checks the column split with many small chunks (down to one sliver) on
// several threads against one thread, bit for bit, for every transpose.
func TestSgemmChunks(t *testing.T) {
	savedD, savedF := chunkDiv, minChunkFlops
	defer func() { chunkDiv, minChunkFlops = savedD, savedF }()
	chunkDiv, minChunkFlops = 3, 0
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for ti := 0; ti < 4; ti++ {
			g := gemmCase{transA: ti&1 != 0, transB: ti&2 != 0, m: 130, n: 300, k: 600, alpha: 0.5, beta: 0.25}
			ar, ac := g.m, g.k
			if g.transA {
				ar, ac = ac, ar
			}
			br, bc := g.k, g.n
			if g.transB {
				br, bc = bc, br
			}
			a, b := randSlice(r, ar*ac), randSlice(r, br*bc)
			c0 := randSlice(r, g.m*g.n)
			var first []float32
			for _, th := range []int{1, 2, 3, 2} {
				c := append([]float32(nil), c0...)
				SgemmN(th, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, ac, b, bc, g.beta, c, g.n)
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%v threads=%d: C[%d] = %v, with 1 thread %v", g, th, i, c[i], first[i])
					}
				}
			}
			checkGemmCase(t, r, g) // on 2 threads
		}
	})
}

// TestSgemmSharedAFallback runs a column panel whose shared A blocks are all claimed by
// a thread that never finishes packing them: the panel must pack private copies and
// give the same bits as Sgemm.
func TestSgemmSharedAFallback(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, transA := range []bool{false, true} {
			m, n, k := 50, 70, 600
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			lda := k
			if transA {
				lda = m
			}
			want := randSlice(r, m*n)
			got := append([]float32(nil), want...)
			Sgemm(transA, false, m, n, k, 0.5, a, lda, b, n, 0.25, want, n)

			im := impl
			nkb := (k + im.kc - 1) / im.kc
			job := &gemmJob{impl: im, transA: transA, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
				b: b, ldb: n, beta: 0.25, c: got, ldc: n,
				ap: make([]float32, roundUp(m, im.mr)*k), aState: make([]atomic.Int32, nkb)}
			for i := range job.aState {
				job.aState[i].Store(1) // being packed, forever
			}
			job.run(0, (n+im.nr-1)/im.nr)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("transA=%v: C[%d] = %v, want %v", transA, i, got[i], want[i])
				}
			}
		}
	})
}

func TestChunkBounds(t *testing.T) {
	j := &gemmJob{impl: &implementation{mr: 12, nr: 32, kc: 256, nc: 512}, m: 128, k: 512}
	for _, tc := range []struct {
		slivN, t int
		want     []int
	}{
		{16, 2, []int{0, 4, 7, 10, 12, 13, 14, 15, 16}},
		{1, 2, []int{0, 1}},
		{40, 1, []int{0, 16, 28, 34, 37, 39, 40}},
	} {
		n := j.chunkBounds(tc.slivN, tc.t)
		if fmt.Sprint(j.bounds) != fmt.Sprint(tc.want) || n != len(tc.want)-1 {
			t.Errorf("chunkBounds(%d, %d) = %d, %v; want %v", tc.slivN, tc.t, n, j.bounds, tc.want)
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"short a", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"small lda", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 1, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"short c", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}},
		{"negative", func() { Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tt.f()
		})
	}
}

func TestSgemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := rand.New(rand.NewPCG(7, 8))
	m, n, k := 128, 512, 256
	a, b, c := randSlice(r, m*k), randSlice(r, n*k), make([]float32, m*n)
	Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
	allocs := testing.AllocsPerRun(20, func() {
		Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
	})
	if allocs > 0.5 {
		t.Errorf("Sgemm allocates %.1f times per call, want 0", allocs)
	}
	// The small-k path on every kernel path, one thread and split, with a column tail.
	c = make([]float32, 300*530)
	forEachPath(t, func(t *testing.T) {
		for _, th := range []int{1, 2} {
			for _, s := range []struct {
				transA  bool
				m, n, k int
			}{{false, 128, 517, 10}, {true, 128, 517, 10}, {false, 300, 530, 16}} {
				lda := s.k
				if s.transA {
					lda = s.m
				}
				f := func() { SgemmN(th, s.transA, false, s.m, s.n, s.k, 0.5, a, lda, b, s.n, 0.25, c, s.n) }
				f()
				if allocs := testing.AllocsPerRun(20, f); allocs > 0.5 {
					t.Errorf("threads=%d %+v: Sgemm allocates %.1f times per call, want 0", th, s, allocs)
				}
			}
		}
	})
}

// TestSgemmSmallK checks the small-depth path (op(B) not transposed, k up to the path's
// limit; the generic path packs) against the float64 reference on odd shapes, both
// op(A), padded leading dimensions, alpha and beta in {0, 1, other} (NaN in C with beta
// 0), and against the packed path bit for bit: both compute every element as acc = 0,
// acc += a·b for p = 0..k-1 (one FMA each), then alpha, then beta (the AVX2 path's
// column tail adds beta·C separately, so it is compared for beta 0 and 1 only).
func TestSgemmSmallK(t *testing.T) {
	sizes := []int{1, 2, 3, 7, 17, 31, 33, 127, 129}
	if !testing.Short() {
		sizes = append(sizes, 513)
	}
	forEachPath(t, func(t *testing.T) {
		im := impl
		kmax := max(im.smallKMax, 16)
		r := rand.New(rand.NewPCG(17, 18))
		alphas := []float32{1, 0.75, -2}
		betas := []float32{0, 1, -0.5}
		pads := []int{0, 5, 16}
		var cases []gemmCase
		n := 0
		for _, m := range sizes {
			for _, nn := range sizes {
				for _, transA := range []bool{false, true} {
					k := 1 + (n*5)%kmax
					cases = append(cases, gemmCase{transA: transA, m: m, n: nn, k: k,
						alpha: alphas[n%3], beta: betas[(n/3)%3], pad: pads[(n/9)%3]})
					n++
				}
			}
		}
		for k := 1; k <= kmax; k++ {
			for _, transA := range []bool{false, true} {
				cases = append(cases, gemmCase{transA: transA, m: 23, n: 77, k: k,
					alpha: alphas[k%3], beta: betas[(k/3)%3], pad: pads[k%3]})
			}
		}
		for _, g := range cases {
			checkGemmCase(t, r, g)
			if im.smallK == nil || g.k > im.smallKMax || (im.name != "avx512" && g.beta != 0 && g.beta != 1) {
				continue
			}
			// Bits against the packed path.
			a := randSlice(r, g.m*g.k)
			b := randSlice(r, g.k*g.n)
			lda := g.k
			if g.transA {
				lda = g.m
			}
			want := randSlice(r, g.m*g.n)
			got := append([]float32(nil), want...)
			Sgemm(g.transA, false, g.m, g.n, g.k, g.alpha, a, lda, b, g.n, g.beta, got, g.n)
			saved := im.smallKMax
			im.smallKMax = 0
			Sgemm(g.transA, false, g.m, g.n, g.k, g.alpha, a, lda, b, g.n, g.beta, want, g.n)
			im.smallKMax = saved
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v: small-k C[%d] = %v, packed %v", g, i, got[i], want[i])
				}
			}
		}
	})
}

func TestKernelSelection(t *testing.T) {
	saved := impl
	defer func() { impl = saved }()
	av := Available()
	if av[len(av)-1] != "generic" {
		t.Fatalf("Available() = %v, want generic last", av)
	}
	for _, name := range av {
		if err := SetKernel(name); err != nil || Name() != name {
			t.Errorf("SetKernel(%q) = %v, Name() = %q", name, err, Name())
		}
	}
	if err := SetKernel("nonsense"); err == nil {
		t.Errorf("SetKernel(nonsense) = nil, want error")
	}
}

// TestPackers compares every path's packing routines with the generic ones, including
// partial slivers and depths that are not multiples of the transpose blocks.
func TestPackers(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, im := range implementations() {
		for _, trans := range []bool{false, true} {
			for _, kc := range []int{1, 3, 4, 5, 8, 9, 31, 64} {
				for rows := 1; rows <= im.mr; rows++ {
					ld := 70
					a := randSlice(r, 80*ld)
					got, want := make([]float32, kc*im.mr), make([]float32, kc*im.mr)
					for i := range got {
						got[i] = 99 // must be overwritten, padding included
					}
					im.packA(got, a, ld, trans, 2, rows, 1, kc, im.mr)
					packAGeneric(want, a, ld, trans, 2, rows, 1, kc, im.mr)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s packA trans=%v kc=%d rows=%d: [%d] = %v, want %v", im.name, trans, kc, rows, i, got[i], want[i])
						}
					}
				}
				if im.packARows != nil && trans {
					ld, nsl := 70, 3
					a := randSlice(r, 80*ld)
					got, want := make([]float32, nsl*kc*im.mr), make([]float32, nsl*kc*im.mr)
					im.packARows(got, a, ld, 1, kc, 2, nsl)
					for s := 0; s < nsl; s++ {
						packAGeneric(want[s*kc*im.mr:], a, ld, true, 2+s*im.mr, im.mr, 1, kc, im.mr)
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s packARows kc=%d: [%d] = %v, want %v", im.name, kc, i, got[i], want[i])
						}
					}
				}
				if im.packBRows != nil && !trans {
					ld, nsl := 70, 2
					b := randSlice(r, 80*ld)
					got, want := make([]float32, nsl*kc*im.nr), make([]float32, nsl*kc*im.nr)
					im.packBRows(got, b, ld, 1, kc, 3, nsl)
					for s := 0; s < nsl; s++ {
						packBGeneric(want[s*kc*im.nr:], b, ld, false, 1, kc, 3+s*im.nr, im.nr, im.nr)
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s packBRows kc=%d: [%d] = %v, want %v", im.name, kc, i, got[i], want[i])
						}
					}
				}
				for cols := 1; cols <= im.nr; cols++ {
					ld := 70
					b := randSlice(r, 80*ld)
					got, want := make([]float32, kc*im.nr), make([]float32, kc*im.nr)
					for i := range got {
						got[i] = 99
					}
					im.packB(got, b, ld, trans, 1, kc, 2, cols, im.nr)
					packBGeneric(want, b, ld, trans, 1, kc, 2, cols, im.nr)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s packB trans=%v kc=%d cols=%d: [%d] = %v, want %v", im.name, trans, kc, cols, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestEnvSelectsKernel runs this test binary again with TEMPER_KERNEL set and checks the
// path it reports.
func TestEnvSelectsKernel(t *testing.T) {
	if os.Getenv("TEMPER_KERNEL_CHILD") == "1" {
		fmt.Printf("kernel=%s\n", Name())
		return
	}
	best := Available()[0]
	tests := []struct{ env, want string }{
		{"generic", "generic"},
		{"nonsense", best},
		{"", best},
	}
	for _, name := range Available() {
		tests = append(tests, struct{ env, want string }{name, name})
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvSelectsKernel$")
		cmd.Env = append(os.Environ(), "TEMPER_KERNEL_CHILD=1", "TEMPER_KERNEL="+tt.env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("TEMPER_KERNEL=%s: %v\n%s", tt.env, err, out)
		}
		if !strings.Contains(string(out), "kernel="+tt.want+"\n") {
			t.Errorf("TEMPER_KERNEL=%q: output %q, want kernel=%s", tt.env, out, tt.want)
		}
	}
}

// TestKernSlivers compares each path's multi-tile kernel with one kern call per tile, bit
// for bit: partial row counts, B slivers read with a stride (in place) or packed, every
// beta case, and C columns past the tiles left alone.
func TestKernSlivers(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, im := range implementations() {
		if im.kernSlivers == nil {
			continue
		}
		mr, nr := im.mr, im.nr
		for _, k := range []int{1, 3, 10, 37} {
			for _, rows := range []int{1, 5, mr} {
				for _, beta := range []float32{0, 1, -0.5} {
					for _, inPlace := range []bool{false, true} {
						nsl := 3
						ldb, bsl := nr, nr*k
						if inPlace {
							ldb, bsl = nsl*nr+5, nr
						}
						ap := randSlice(r, mr*k)
						bp := randSlice(r, (nsl-1)*bsl+(k-1)*ldb+nr)
						ldc := nsl*nr + 7
						want := randSlice(r, rows*ldc)
						if beta == 0 {
							want[0] = float32(math.NaN())
						}
						got := append([]float32(nil), want...)
						for s := 0; s < nsl; s++ {
							im.kern(k, ap, bp[s*bsl:], ldb, want[s*nr:], ldc, 1.5, beta, rows, nr)
						}
						im.kernSlivers(k, ap, bp, ldb, bsl, got, ldc, 1.5, beta, rows, nsl)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s k=%d rows=%d beta=%v inPlace=%v: C[%d] = %v, want %v",
									im.name, k, rows, beta, inPlace, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
