package kernel

import (
	"fmt"
	"sync"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices.
//
// op(A) is m×k and op(B) is k×n; C is m×n with leading dimension ldc >= n.
// If transA is false A is stored m×k (lda >= k), otherwise A is stored k×m (lda >= m).
// If transB is false B is stored k×n (ldb >= n), otherwise B is stored n×k (ldb >= k).
// beta == 0 means C is overwritten (NaNs in C do not propagate), as in BLAS.
//
// The work is split across the worker pool (see Parallel) by column or row panels of C.
// Every element of C is computed by the same sequence of operations whatever the split,
// so results are bit-identical run to run, and also across thread counts (tested); they
// differ in the last bits between kernel paths (see Name). Sgemm may be called from
// several goroutines at once, and does not allocate once its buffers are warm.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	im := impl
	if n < im.nr/2 && m >= 2*im.nr && beta == 0 {
		// A narrow C (a classifier layer's output) wastes most lanes of the nr-wide
		// tiles: compute Cᵀ = op(B)ᵀ·op(A)ᵀ instead, whose rows are m long, into a
		// temporary and transpose it into C.
		tp := apPool.Get().(*[]float32)
		*tp = grow(*tp, n*m)
		t := *tp
		Sgemm(!transB, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m)
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
		alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	slivM := (m + im.mr - 1) / im.mr
	slivN := (n + im.nr - 1) / im.nr
	t := Threads()
	if 2*float64(m)*float64(n)*float64(k) < parallelFlops {
		t = 1 // below ~15 µs of work a parallel region does not pay on a busy machine
	}

	splitN := slivN >= 2*t || slivN >= slivM
	// Phase 1: pack all of op(A) once, shared by all threads (split over row slivers).
	// When the threads split the rows, or A is small, each thread packs its own A
	// slivers in phase 2 instead (a duplicate of a small A is cheaper than a region).
	job.packOwnA = t <= 1 || !splitN || slivM*im.mr*k <= 64*1024
	var ap *[]float32
	if !job.packOwnA {
		ap = apPool.Get().(*[]float32)
		*ap = grow(*ap, slivM*im.mr*k)
		job.ap = *ap
		job.phase = phasePackA
		parallelRun(slivM, max(1, 16384/(im.mr*k)), job)
	}

	// Phase 2: compute C by panels of whole B slivers (each thread packs its own columns
	// of B), or by panels of A slivers when n is too narrow to feed every thread.
	job.phase = phaseCompute
	switch {
	case t <= 1:
		job.run(0, slivN)
	case splitN:
		parallelRun(slivN, 1, job)
	default:
		job.splitM = true
		parallelRun(slivM, 1, job)
	}
	if ap != nil {
		apPool.Put(ap)
	}
	*job = gemmJob{}
	jobPool.Put(job)
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
	// pc*roundUp(m, mr)), each block a sequence of row slivers of kc×mr values.
	ap       []float32
	packOwnA bool // each thread packs the A slivers it uses, in its k-block loop
	phase    int
	splitM   bool
}

const (
	phasePackA = iota
	phaseCompute
)

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

// run does the work of slivers [lo, hi) of the current phase.
func (j *gemmJob) run(lo, hi int) {
	im := j.impl
	mr := im.mr
	if j.phase == phasePackA {
		mPad := roundUp(j.m, mr)
		for pc := 0; pc < j.k; pc += im.kc {
			kc := min(im.kc, j.k-pc)
			j.packASlivers(j.ap[pc*mPad+lo*mr*kc:], pc, kc, lo, hi)
		}
		return
	}
	i0, i1, j0, j1 := 0, j.m, 0, j.n
	if j.splitM {
		i0, i1 = lo*mr, min(hi*mr, j.m)
	} else {
		j0, j1 = lo*im.nr, min(hi*im.nr, j.n)
	}
	buf := bufPool.Get().(*gemmBuf)
	buf.b = grow(buf.b, min(im.nc, roundUp(j1-j0, im.nr))*min(im.kc, j.k))
	if j.packOwnA {
		buf.a = grow(buf.a, roundUp(i1-i0, mr)*min(im.kc, j.k))
	}
	j.block(buf, i0, i1, j0, j1)
	bufPool.Put(buf)
}

func (j *gemmJob) block(buf *gemmBuf, i0, i1, j0, j1 int) {
	im := j.impl
	mr, nr := im.mr, im.nr
	mPad := roundUp(j.m, mr)
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
			// The packed A block of this k-block: shared (phase 1), or this thread's own.
			var aBlk []float32
			aOff := 0
			if !j.packOwnA {
				aBlk = j.ap[pc*mPad:]
			} else {
				aBlk, aOff = buf.a, i0
				j.packASlivers(aBlk, pc, kc, i0/mr, (i1+mr-1)/mr)
			}
			for ir := i0; ir < i1; ir += mr {
				rows := min(mr, i1-ir)
				ap := aBlk[(ir-aOff)*kc : (ir-aOff+mr)*kc]
				for jr := 0; jr < nc; jr += nr {
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

// partialTile computes a partial rows×cols tile with a full-tile kernel: into a zeroed
// temporary tile t (mr×nr), then added into c.
func partialTile(kern func(k int, ap, bp, c []float32, ldc int, alpha, beta float32), t []float32, nr int,
	k int, ap, bp, c []float32, ldc int, alpha, beta float32, rows, cols int) {
	kern(k, ap, bp, t, nr, alpha, 0)
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
		var t [16]float32
		partialTile(kernGeneric4x4, t[:], 4, k, ap, bp, c, ldc, alpha, beta, rows, cols)
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

// inPlaceRows is the number of row slivers of A up to which B is read in place.
var inPlaceRows = 2
