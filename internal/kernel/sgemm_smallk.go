package kernel

import "sync"

// The small-depth path of Sgemm. With k this small (the input gradient of a classifier
// layer: dX = dY·W, k = 10 classes) a packed micro-tile does a handful of FMA steps per
// prologue and epilogue, and packing B costs as much as the product: the product is
// computed instead by kernels that read op(A) and B in place (see tools/gen/kernelasm,
// smallK) on row blocks of up to smallKRows rows × all columns.

// smallKLimit is the largest depth the small-k kernels accept (each path has its own,
// lower or equal, implementation.smallKMax up to which Sgemm uses them); smallKRows is
// their largest row block.
const (
	smallKLimit = 128
	smallKRows  = 6
)

// smallKAVX2Max is the AVX2 path's smallKMax (and the depth its kernels accept): measured
// slower than packing from k = 48.
const smallKAVX2Max = 32

// smallKBlockRows returns the rows of the next row block when left rows remain: whole
// blocks of smallKRows, except that 7 and 8 rows are cut 4+3 and 4+4 (a block of one or
// two rows has too few independent accumulators to keep the FMA units busy).
func smallKBlockRows(left int) int {
	switch {
	case left == smallKRows+1 || left == smallKRows+2:
		return 4
	case left >= smallKRows:
		return smallKRows
	}
	return left
}

// smallKCols is the column block of a column split of the small-k path.
const smallKCols = 64

// sgemmSmallK computes C = alpha*op(A)·B + beta*C with the path's small-k kernels
// (!transB, 1 <= k <= im.smallKMax, alpha != 0, m, n >= 1). Large products are split across
// the pool by row blocks (or by 64-column blocks when C has too few rows); every element
// is computed by the same operations whatever the split.
func sgemmSmallK(im *implementation, threads int, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t := ResolveThreads(threads)
	job := smallKJobPool.Get().(*smallKJob)
	*job = smallKJob{im: im, transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
		b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	if t <= 1 || 2*float64(m)*float64(n)*float64(k) < parallelFlops {
		job.block(0, m, 0, n)
		*job = smallKJob{}
		smallKJobPool.Put(job)
		return
	}
	rowBlocks := (m + smallKRows - 1) / smallKRows
	colBlocks := (n + smallKCols - 1) / smallKCols
	if rowBlocks >= 2*t || rowBlocks >= colBlocks {
		parallelRun(t, rowBlocks, 1, job)
	} else {
		job.byCols = true
		parallelRun(t, colBlocks, 1, job)
	}
	*job = smallKJob{}
	smallKJobPool.Put(job)
}

type smallKJob struct {
	im             *implementation
	transA, byCols bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

var smallKJobPool = sync.Pool{New: func() any { return new(smallKJob) }}

// run computes row blocks [lo, hi) of C, or column blocks if byCols.
func (j *smallKJob) run(lo, hi int) {
	if j.byCols {
		j.block(0, j.m, lo*smallKCols, min(hi*smallKCols, j.n))
		return
	}
	j.block(lo*smallKRows, min(hi*smallKRows, j.m), 0, j.n)
}

// smallKPanelBytes bounds the part of B (k × columns) that one sweep of the row blocks
// reads: C is computed in column panels of at most smallKPanelBytes/(4k) columns, so that
// the panel of B stays in L2 while every row block reads it.
var smallKPanelBytes = 256 << 10

// block computes C[i0:i1, j0:j1], column panel by column panel.
func (j *smallKJob) block(i0, i1, j0, j1 int) {
	var a []float32
	if j.transA {
		a = j.a[i0:]
	} else {
		a = j.a[i0*j.lda:]
	}
	c := j.c[i0*j.ldc:]
	nc := max(smallKCols, smallKPanelBytes/(4*j.k)/smallKCols*smallKCols)
	for jc := j0; jc < j1; jc += nc {
		w := min(nc, j1-jc)
		j.im.smallK(j.transA, i1-i0, w, j.k, j.alpha, a, j.lda, j.b[jc:], j.ldb, j.beta, c[jc:], j.ldc)
	}
}
