package kernel

import (
	"fmt"
	"os"
	"strings"
)

// implementation is one complete set of kernels (one instruction-set path).
type implementation struct {
	name string

	// sgemm: micro-tile mr×nr, cache blocks kc (depth) and nc (columns of packed B, a
	// multiple of nr).
	mr, nr, kc, nc int
	// kern computes the tile c[0:rows, 0:cols] = alpha*ap·bp + beta*c (beta == 0:
	// overwrite, c is not read) from a packed sliver ap (k×mr) and a sliver bp of B
	// whose rows (nr values each) are ldb apart: ldb = nr for a packed sliver, or, if
	// inPlaceB, B itself. rows <= mr, cols <= nr; c has leading dimension ldc.
	kern     func(k int, ap, bp []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows, cols int)
	inPlaceB bool
	// Optional: kernSlivers computes nsl full-width tiles (cols = nr) side by side with
	// the same A sliver, as nsl calls of kern would: tile t has its C at c[t*nr:] and
	// its B sliver at bp[t*bsl:].
	kernSlivers func(k int, ap, bp []float32, ldb, bsl int, c []float32, ldc int, alpha, beta float32, rows, nsl int)
	// packA and packB pack one sliver (see packAGeneric, packBGeneric).
	packA func(dst, a []float32, lda int, trans bool, i0, rows, p0, kc, mr int)
	packB func(dst, b []float32, ldb int, trans bool, p0, kc, j0, cols, nr int)
	// Optional: packARows packs nsl whole slivers of Aᵀ (transA) starting at row i0,
	// packBRows nsl whole slivers of B (not transposed) starting at column j0, both
	// reading the source row by row; dst holds the slivers one after the other.
	packARows func(dst, a []float32, lda, p0, kc, i0, nsl int)
	packBRows func(dst, b []float32, ldb, p0, kc, j0, nsl int)
	// Optional: smallK computes C = alpha*op(A)·B + beta*C (B not transposed, 1 <= k <=
	// smallKMax <= smallKLimit) reading A and B in place, nothing packed (see
	// sgemmSmallK). Sgemm uses it for depths up to smallKMax.
	smallKMax int
	smallK    func(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

	axpy         func(alpha float32, x, y []float32)
	scale        func(alpha float32, x []float32)
	add          func(dst, src []float32)
	relu         func(dst, src []float32)
	reluBackward func(dst, grad, out []float32)
	dot          func(x, y []float32) float32

	// addReLU computes dst = relu(a + b) (addrelu.go).
	addReLU func(dst, a, b []float32)
	// mul computes dst = x⊙y (or dst += x⊙y with add) element-wise (vecmul.go).
	mul func(dst, x, y []float32, add bool)
	// avx512Loops: the path runs the AVX-512 loops of im2col_bn, im2col_pool and
	// winograd (BN sums and affine passes, 2×2 pooling, Winograd transforms).
	avx512Loops bool

	// bernoulli fills a dropout mask from the PCG stream (vecrng.go).
	bernoulli func(mask, y, x []float32, hi, lo, thr uint64, one float32) (uint64, uint64)

	// updates are the optimizers' vector update loops (optimupdate.go); nil: none.
	updates *updateKernels
	// fmaPeak runs the FMA-throughput loop for iters iterations and returns the FLOPs
	// per iteration (fmapeak.go); nil: none.
	fmaPeak func(iters int) int64
}

var generic = &implementation{
	name: "generic",
	mr:   4, nr: 4, kc: 256, nc: 512,
	kern:  kernGeneric,
	packA: packAGeneric,
	packB: packBGeneric,

	axpy:         axpyGeneric,
	scale:        scaleGeneric,
	add:          addGeneric,
	relu:         reluGeneric,
	reluBackward: reluBackwardGeneric,
	dot:          dotGeneric,
	mul:          mulGeneric,
	addReLU:      addReLUGeneric,
	bernoulli:    pcgBernoulliGeneric,
}

// impl is the active implementation, chosen once at start (see init) or by SetKernel.
var impl = generic

// implementations returns the paths this CPU can run, best first; generic is last.
func implementations() []*implementation {
	return append(archImplementations(), generic)
}

func init() {
	if name := strings.TrimSpace(os.Getenv("TEMPER_KERNEL")); name != "" {
		if err := SetKernel(name); err != nil {
			fmt.Fprintf(os.Stderr, "temper: TEMPER_KERNEL: %v; using %s\n", err, implementations()[0].name)
		} else {
			return
		}
	}
	impl = implementations()[0]
}

// Name returns the name of the active kernel path: "avx512", "avx2" or "generic".
func Name() string { return impl.name }

// Available returns the kernel paths this CPU supports, best first ("generic" is always
// last and always present).
func Available() []string {
	var names []string
	for _, im := range implementations() {
		names = append(names, im.name)
	}
	return names
}

// SetKernel makes the named path ("generic", "avx2", "avx512") active for all kernels.
// It returns an error if the path is unknown or this CPU cannot run it. It must not be
// called while kernels are running (tests and start-up only). The environment variable
// TEMPER_KERNEL does the same at start.
func SetKernel(name string) error {
	for _, im := range implementations() {
		if im.name == name {
			impl = im
			return nil
		}
	}
	return fmt.Errorf("kernel: path %q not available on this CPU (available: %s)", name, strings.Join(Available(), ", "))
}
