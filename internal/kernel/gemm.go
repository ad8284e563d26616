package kernel

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices.
//
// op(A) is m×k and op(B) is k×n; C is m×n with leading dimension ldc >= n.
// If transA is false A is stored m×k (lda >= k), otherwise A is stored k×m (lda >= m).
// If transB is false B is stored k×n (ldb >= n), otherwise B is stored n×k (ldb >= k).
// beta == 0 means C is overwritten (NaNs in C do not propagate), as in BLAS.
//
// For op(B) not transposed and a small depth k (see implementation.smallKMax) nothing is
// packed: A and B are read in place (see sgemmSmallK).
//
// The work is split across the worker pool (see Parallel) by column or row panels of C.
// Every element of C is computed by the same sequence of operations whatever the split,
// so results are bit-identical run to run, and also across thread counts (tested); they
// differ in the last bits between kernel paths (see Name). Sgemm may be called from
// several goroutines at once, and does not allocate once its buffers are warm.
//
// Sgemm uses the process default thread count (Threads()); SgemmN takes it explicitly.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmN(0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmN is Sgemm on at most threads threads, the caller included (threads < 1 means
// the process default, Threads()).
func SgemmN(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	im := impl
	if k <= im.smallKMax && !transB && im.smallK != nil {
		// Small depth (before the Cᵀ trick below: a narrow C costs masked lanes here,
		// not a transposed copy): nothing packed (see sgemmSmallK).
		sgemmSmallK(im, threads, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if n < im.nr/2 && m >= 2*im.nr && beta == 0 {
		// A narrow C (a classifier layer's output) wastes most lanes of the nr-wide
		// tiles: compute Cᵀ = op(B)ᵀ·op(A)ᵀ instead, whose rows are m long, into a
		// temporary and transpose it into C.
		tp := apPool.Get().(*[]float32)
		*tp = grow(*tp, n*m)
		t := *tp
		SgemmN(threads, !transB, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m)
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = t[j*m+i]
			}
		}
		apPool.Put(tp)
		return
	}
	job := jobPool.Get().(*gemmJob)
	*job = gemmJob{impl: im, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
		aState: job.aState, bounds: job.bounds[:0]}
	slivM := (m + im.mr - 1) / im.mr
	slivN := (n + im.nr - 1) / im.nr
	t := ResolveThreads(threads)
	if 2*float64(m)*float64(n)*float64(k) < parallelFlops {
		t = 1 // below ~15 µs of work a parallel region does not pay on a busy machine
	}

	var ap *[]float32
	switch {
	case t <= 1:
		job.packOwnA = true
		job.run(0, slivN)
	case slivN >= 2*t || slivN >= slivM:
		// Split by panels of whole B slivers (each chunk packs its own columns of B),
		// several chunks per thread, shrinking toward the end (see chunkBounds), so that
		// a worker that starts late still takes a share and both finish together. All
		// chunks use all of op(A): it is packed once, k-block by k-block, by the first
		// chunk that needs the block (see sharedA).
		ap = apPool.Get().(*[]float32)
		*ap = grow(*ap, slivM*im.mr*k)
		job.ap = *ap
		nkb := (k + im.kc - 1) / im.kc
		if cap(job.aState) < nkb {
			job.aState = make([]atomic.Int32, nkb)
		}
		job.aState = job.aState[:nkb]
		for i := range job.aState {
			job.aState[i].Store(0)
		}
		parallelChunks(t, job.chunkBounds(slivN, t), 1, job)
	default:
		// n is too narrow to feed every thread: split by panels of A slivers, each
		// packing its own rows of A (and all of B).
		job.packOwnA = true
		job.splitM = true
		parallelRun(t, slivM, 1, job)
	}
	if ap != nil {
		apPool.Put(ap)
	}
	*job = gemmJob{aState: job.aState, bounds: job.bounds[:0]}
	jobPool.Put(job)
}

// chunkBounds sets j.bounds to the sliver boundaries of the chunks of a column split of
// slivN B slivers over t threads and returns the number of chunks. Guided schedule: each
// chunk takes 1/(chunkDiv*t) of the slivers left (at least minChunkFlops of work, at
// most nc columns), so chunks shrink toward the end and the last one to finish is
// short. Where the boundaries fall does not change any result.
func (j *gemmJob) chunkBounds(slivN, t int) int {
	im := j.impl
	perSliver := 2 * float64(j.m) * float64(j.k) * float64(im.nr)
	minS := max(1, int(minChunkFlops/perSliver+0.999))
	maxS := max(1, im.nc/im.nr)
	b := append(j.bounds[:0], 0)
	for s := 0; s < slivN; {
		d := chunkDiv * t
		s += min(max((slivN-s+d-1)/d, minS), maxS, slivN-s)
		b = append(b, s)
	}
	j.bounds = b
	return len(b) - 1
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernel: Sgemm negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, s []float32, rows, cols, ld int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernel: Sgemm ld%s=%d < %d", name, ld, cols))
		}
		if len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("kernel: Sgemm len(%s)=%d too short for %dx%d with ld %d", name, len(s), rows, cols, ld))
		}
	}
	check("a", a, ar, ac, lda)
	check("b", b, br, bc, ldb)
	check("c", c, m, n, ldc)
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

type gemmJob struct {
	impl           *implementation
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int

	// ap is op(A) packed: k-block by k-block (the block starting at depth pc begins at
	// pc*roundUp(m, mr)), each block a sequence of row slivers of kc×mr values. Unless
	// packOwnA, it is shared by the chunks: aState[b] says whether k-block b is
	// unpacked (0), being packed (1) or ready (2); see sharedA.
	ap       []float32
	aState   []atomic.Int32
	bounds   []int // chunk c of a column split is slivers [bounds[c], bounds[c+1])
	packOwnA bool  // each chunk packs the A slivers it uses, in its k-block loop
	splitM   bool
}

var (
	jobPool = sync.Pool{New: func() any { return new(gemmJob) }}
	apPool  = sync.Pool{New: func() any { return new([]float32) }}
	bufPool = sync.Pool{New: func() any { return new(gemmBuf) }}
)

// gemmBuf holds one thread's packed B block and, if it packs its own, A block.
type gemmBuf struct {
	a, b []float32
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// run computes the C panel of slivers [lo, hi) (of B, or of A if splitM), or of chunks
// [lo, hi) of a column split if bounds is set.
func (j *gemmJob) run(lo, hi int) {
	im := j.impl
	mr := im.mr
	if len(j.bounds) > 0 {
		lo, hi = j.bounds[lo], j.bounds[hi]
	}
	i0, i1, j0, j1 := 0, j.m, 0, j.n
	if j.splitM {
		i0, i1 = lo*mr, min(hi*mr, j.m)
	} else {
		j0, j1 = lo*im.nr, min(hi*im.nr, j.n)
	}
	buf := bufPool.Get().(*gemmBuf)
	buf.b = grow(buf.b, min(im.nc, roundUp(j1-j0, im.nr))*min(im.kc, j.k))
	// Own A slivers, or a private copy of a shared block another thread is packing.
	buf.a = grow(buf.a, roundUp(i1-i0, mr)*min(im.kc, j.k))
	j.block(buf, i0, i1, j0, j1)
	bufPool.Put(buf)
}

func (j *gemmJob) block(buf *gemmBuf, i0, i1, j0, j1 int) {
	im := j.impl
	mr, nr := im.mr, im.nr
	// B is read in place, not packed, when it is not transposed and its slivers are
	// used by at most two row slivers of A (packing would cost as much as it saves).
	inPlaceB := im.inPlaceB && !j.transB && i1-i0 <= inPlaceRows*mr
	for jc := j0; jc < j1; jc += im.nc {
		nc := min(im.nc, j1-jc)
		for pc := 0; pc < j.k; pc += im.kc {
			kc := min(im.kc, j.k-pc)
			beta := j.beta
			if pc > 0 {
				beta = 1
			}
			// The packed A block of this k-block: shared (claimed before packing B, so
			// that another thread packing it meanwhile is usually done when it is
			// needed), or this thread's own.
			var aBlk []float32
			aOff := 0
			if !j.packOwnA {
				aBlk = j.sharedA(pc, kc, false)
			}
			jr := 0
			if !j.transB && im.packBRows != nil && !inPlaceB {
				// Whole slivers row by row, reading B contiguously.
				if full := nc / nr; full > 0 {
					im.packBRows(buf.b, j.b, j.ldb, pc, kc, jc, full)
					jr = full * nr
				}
			}
			for ; jr < nc; jr += nr {
				if cols := min(nr, nc-jr); !inPlaceB || cols < nr {
					im.packB(buf.b[jr*kc:(jr+nr)*kc], j.b, j.ldb, j.transB, pc, kc, jc+jr, cols, nr)
				}
			}
			if !j.packOwnA && aBlk == nil {
				aBlk = j.sharedA(pc, kc, true)
			}
			if aBlk == nil {
				aBlk, aOff = buf.a, i0
				j.packASlivers(aBlk, pc, kc, i0/mr, (i1+mr-1)/mr)
			}
			for ir := i0; ir < i1; ir += mr {
				rows := min(mr, i1-ir)
				ap := aBlk[(ir-aOff)*kc : (ir-aOff+mr)*kc]
				jr := 0
				if full := nc / nr; im.kernSlivers != nil && full > 0 {
					bp, ldb, bsl := buf.b, nr, nr*kc
					if inPlaceB {
						bp, ldb, bsl = j.b[pc*j.ldb+jc:], j.ldb, nr
					}
					im.kernSlivers(kc, ap, bp, ldb, bsl, j.c[ir*j.ldc+jc:], j.ldc, j.alpha, beta, rows, full)
					jr = full * nr
				}
				for ; jr < nc; jr += nr {
					cols := min(nr, nc-jr)
					bp, ldb := buf.b[jr*kc:(jr+nr)*kc], nr
					if inPlaceB && cols == nr {
						bp, ldb = j.b[pc*j.ldb+jc+jr:], j.ldb
					}
					off := ir*j.ldc + jc + jr
					im.kern(kc, ap, bp, ldb, j.c[off:], j.ldc, j.alpha, beta, rows, cols)
				}
			}
		}
	}
}

// sharedA returns the shared packed A block at depth pc (all row slivers), packing it
// if no other thread has claimed it. If another thread is packing it, sharedA returns
// nil at once (wait false), or after waiting up to aWait for it (wait true): the caller
// then packs a private copy, which holds the same values, rather than wait longer for a
// thread that may have been descheduled.
func (j *gemmJob) sharedA(pc, kc int, wait bool) []float32 {
	mPad := roundUp(j.m, j.impl.mr)
	blk := j.ap[pc*mPad : pc*mPad+mPad*kc]
	st := &j.aState[pc/j.impl.kc]
	if st.Load() == 2 {
		return blk
	}
	if st.CompareAndSwap(0, 1) {
		j.packASlivers(blk, pc, kc, 0, mPad/j.impl.mr)
		st.Store(2)
		return blk
	}
	if !wait {
		return nil
	}
	start := time.Now()
	for i := 1; st.Load() != 2; i++ {
		if i%32 == 0 && time.Since(start) > aWait {
			return nil
		}
	}
	return blk
}

// packASlivers packs the row slivers s0 <= s < s1 of op(A)[:, pc:pc+kc] into dst, sliver
// s0 first.
func (j *gemmJob) packASlivers(dst []float32, pc, kc, s0, s1 int) {
	im := j.impl
	mr := im.mr
	s := s0
	if j.transA && im.packARows != nil {
		// Whole slivers row by row, reading Aᵀ contiguously.
		if full := min(s1, j.m/mr) - s0; full > 0 {
			im.packARows(dst, j.a, j.lda, pc, kc, s0*mr, full)
			s += full
		}
	}
	for ; s < s1; s++ {
		i0 := s * mr
		d := dst[(s-s0)*mr*kc : (s-s0+1)*mr*kc]
		im.packA(d, j.a, j.lda, j.transA, i0, min(mr, j.m-i0), pc, kc, mr)
	}
}

// addTile sets c[0:rows, 0:cols] = t[0:rows, 0:cols] + beta*c (beta == 0: overwrite), t
// with leading dimension nr.
func addTile(t []float32, nr int, c []float32, ldc int, beta float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		cr := c[r*ldc : r*ldc+cols]
		tr := t[r*nr : r*nr+cols]
		switch beta {
		case 0:
			copy(cr, tr)
		case 1:
			for q := range cr {
				cr[q] += tr[q]
			}
		default:
			for q := range cr {
				cr[q] = beta*cr[q] + tr[q]
			}
		}
	}
}

// packAGeneric packs one row sliver op(A)[i0:i0+rows, p0:p0+kc] (rows <= mr) into dst:
// for each p, the mr values op(A)[i0+r, p0+p], zero for r >= rows.
func packAGeneric(dst, a []float32, lda int, trans bool, i0, rows, p0, kc, mr int) {
	dst = dst[:kc*mr]
	if trans {
		// op(A)[i, p] = a[p*lda+i]: rows contiguous values per p.
		for p := 0; p < kc; p++ {
			d := dst[p*mr : p*mr+mr]
			copy(d, a[(p0+p)*lda+i0:(p0+p)*lda+i0+rows])
			clear(d[rows:])
		}
		return
	}
	if rows < mr {
		clear(dst)
	}
	for r := 0; r < rows; r++ {
		src := a[(i0+r)*lda+p0 : (i0+r)*lda+p0+kc]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}

// packBGeneric packs one column sliver op(B)[p0:p0+kc, j0:j0+cols] (cols <= nr) into
// dst: for each p, the nr values op(B)[p0+p, j0+c], zero for c >= cols.
func packBGeneric(dst, b []float32, ldb int, trans bool, p0, kc, j0, cols, nr int) {
	dst = dst[:kc*nr]
	if !trans {
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			copy(d, b[(p0+p)*ldb+j0:(p0+p)*ldb+j0+cols])
			clear(d[cols:])
		}
		return
	}
	// op(B)[p, j] = b[j*ldb+p]: walk each column of op(B) (a row of b).
	if cols < nr {
		clear(dst)
	}
	for c := 0; c < cols; c++ {
		src := b[(j0+c)*ldb+p0 : (j0+c)*ldb+p0+kc]
		for p, v := range src {
			dst[p*nr+c] = v
		}
	}
}

// kernGeneric is the portable micro-kernel: c[0:rows, 0:cols] = alpha*ap·bp + beta*c for
// packed slivers ap (k×4) and bp (k×4).
func kernGeneric(k int, ap, bp []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows, cols int) {
	if rows < 4 || cols < 4 {
		// Not partialTile: t would escape through its func argument (an allocation per
		// partial tile).
		var t [16]float32
		kernGeneric4x4(k, ap, bp, t[:], 4, alpha, 0)
		addTile(t[:], 4, c, ldc, beta, rows, cols)
		return
	}
	kernGeneric4x4(k, ap, bp, c, ldc, alpha, beta)
}

func kernGeneric4x4(k int, ap, bp, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	ap = ap[:4*k]
	bp = bp[:4*k]
	for p := 0; p < 4*k; p += 4 {
		a := ap[p : p+4 : p+4]
		b := bp[p : p+4 : p+4]
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	store4(c[0:4:4], alpha, beta, c00, c01, c02, c03)
	store4(c[ldc:ldc+4:ldc+4], alpha, beta, c10, c11, c12, c13)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], alpha, beta, c20, c21, c22, c23)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], alpha, beta, c30, c31, c32, c33)
}

func store4(c []float32, alpha, beta float32, v0, v1, v2, v3 float32) {
	c = c[:4]
	if alpha != 1 {
		v0, v1, v2, v3 = alpha*v0, alpha*v1, alpha*v2, alpha*v3
	}
	if beta == 0 {
		c[0], c[1], c[2], c[3] = v0, v1, v2, v3
		return
	}
	c[0] = beta*c[0] + v0
	c[1] = beta*c[1] + v1
	c[2] = beta*c[2] + v2
	c[3] = beta*c[3] + v3
}

// parallelFlops is the size (2mnk) below which Sgemm runs on the caller alone.
var parallelFlops = 2e6

// A chunk of a column split takes 1/(chunkDiv*threads) of the slivers left, and at
// least minChunkFlops of work (2mnk).
var (
	chunkDiv              = 2
	minChunkFlops float64 = 1e6
)

// aWait is how long a thread waits for another to finish packing a shared A block
// before it packs its own copy.
const aWait = 20 * time.Microsecond

// inPlaceRows is the number of row slivers of A up to which B is read in place.
var inPlaceRows = 2
