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
// The work is split across the worker pool (see Parallel) by column or row panels of C;
// every element of C is computed by the same sequence of operations whatever the thread
// count, and the split depends only on the shapes and Threads(), so results are
// bit-identical run to run for a fixed thread count.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	job := jobPool.Get().(*gemmJob)
	*job = gemmJob{impl: impl, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	im := impl
	slivN := (n + im.nr - 1) / im.nr
	slivM := (m + im.mr - 1) / im.mr
	t := Threads()
	// Splitting along n keeps the packed A shared in spirit (each thread packs the whole
	// A block, which costs 1/n_thread of its flops) and gives each thread its own packed
	// B panel: good for the m=128 shapes of minibatch training. Split along m only when
	// n is too narrow to feed every thread.
	flops := 2 * float64(m) * float64(n) * float64(k)
	switch {
	case t <= 1 || flops < 2*64*64*64:
		job.run(0, slivN) // splitN with a single chunk
	case slivN >= 2*t || slivN >= slivM:
		job.splitN = true
		parallelRun(slivN, 1, job)
	default:
		job.splitM = true
		parallelRun(slivM, 1, job)
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
	splitN, splitM bool
}

var jobPool = sync.Pool{New: func() any { return new(gemmJob) }}

// gemmBuf holds one thread's packing buffers.
type gemmBuf struct {
	a, b, tile []float32
}

var bufPool = sync.Pool{New: func() any { return new(gemmBuf) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// run computes the panel of C given by slivers [lo, hi) (of NR columns if splitN, of MR
// rows if splitM, or of NR columns over all rows otherwise).
func (j *gemmJob) run(lo, hi int) {
	im := j.impl
	i0, i1, j0, j1 := 0, j.m, 0, j.n
	if j.splitM {
		i0, i1 = lo*im.mr, min(hi*im.mr, j.m)
	} else {
		j0, j1 = lo*im.nr, min(hi*im.nr, j.n)
	}
	buf := bufPool.Get().(*gemmBuf)
	ncMax := min(im.nc, roundUp(j1-j0, im.nr))
	kcMax := min(im.kc, j.k)
	buf.a = grow(buf.a, im.mr*kcMax)
	buf.b = grow(buf.b, ncMax*kcMax)
	buf.tile = grow(buf.tile, im.mr*im.nr)
	j.block(buf, i0, i1, j0, j1)
	bufPool.Put(buf)
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

func (j *gemmJob) block(buf *gemmBuf, i0, i1, j0, j1 int) {
	im := j.impl
	mr, nr := im.mr, im.nr
	for jc := j0; jc < j1; jc += im.nc {
		nc := min(im.nc, j1-jc)
		for pc := 0; pc < j.k; pc += im.kc {
			kc := min(im.kc, j.k-pc)
			beta := j.beta
			if pc > 0 {
				beta = 1
			}
			im.packB(buf.b, j.b, j.ldb, j.transB, pc, kc, jc, nc, nr)
			for ir := i0; ir < i1; ir += mr {
				rows := min(mr, i1-ir)
				// Full slivers of A are read in place (rows of A, or columns of Aᵀ);
				// a partial sliver is copied, zero-padded, into the packed layout.
				var ap []float32
				var lda int
				kern := im.kernT
				switch {
				case rows < mr:
					ap, lda = buf.a[:kc*mr], mr
					packAEdge(ap, j.a, j.lda, j.transA, ir, rows, pc, kc, mr)
				case j.transA:
					ap, lda = j.a[pc*j.lda+ir:], j.lda
				default:
					ap, lda, kern = j.a[ir*j.lda+pc:], j.lda, im.kernN
				}
				for jr := 0; jr < nc; jr += nr {
					bp := buf.b[jr*kc : (jr+nr)*kc]
					cols := min(nr, nc-jr)
					off := ir*j.ldc + jc + jr
					if rows == mr && cols == nr {
						kern(kc, ap, lda, bp, j.c[off:], j.ldc, j.alpha, beta)
						continue
					}
					t := buf.tile
					kern(kc, ap, lda, bp, t, nr, j.alpha, 0)
					for r := 0; r < rows; r++ {
						cr := j.c[off+r*j.ldc : off+r*j.ldc+cols]
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
			}
		}
	}
}

// packAEdge copies op(A)[i0:i0+rows, p0:p0+kc] (rows < mr) into dst in the layout the
// 'T' kernels read with lda = mr: for each p, the mr values of column p (zero past rows).
func packAEdge(dst, a []float32, lda int, trans bool, i0, rows, p0, kc, mr int) {
	clear(dst[:kc*mr])
	for r := 0; r < rows; r++ {
		if trans {
			for p := 0; p < kc; p++ {
				dst[p*mr+r] = a[(p0+p)*lda+i0+r]
			}
		} else {
			src := a[(i0+r)*lda+p0 : (i0+r)*lda+p0+kc]
			for p, v := range src {
				dst[p*mr+r] = v
			}
		}
	}
}

// packBGeneric packs op(B)[p0:p0+kc, j0:j0+nc] into slivers of nr columns: sliver t
// holds, for p = 0..kc-1, the nr values op(B)[p0+p, j0+t*nr+c] (zero past column nc).
func packBGeneric(dst, b []float32, ldb int, trans bool, p0, kc, j0, nc, nr int) {
	for t := 0; t < nc; t += nr {
		d := dst[t*kc : (t+nr)*kc]
		cols := min(nr, nc-t)
		if !trans {
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+j0+t : (p0+p)*ldb+j0+t+cols]
				dd := d[p*nr : p*nr+nr]
				copy(dd, src)
				clear(dd[cols:])
			}
			continue
		}
		// op(B)[p, j] = b[j*ldb+p]: walk each column of op(B) (a row of b).
		for c := 0; c < nr; c++ {
			if c >= cols {
				for p := 0; p < kc; p++ {
					d[p*nr+c] = 0
				}
				continue
			}
			src := b[(j0+t+c)*ldb+p0 : (j0+t+c)*ldb+p0+kc]
			for p, v := range src {
				d[p*nr+c] = v
			}
		}
	}
}

// kernGeneric4x4 is the portable micro-kernel: c[0:4, 0:4] = alpha*ap·bp + beta*c, where
// element (r, p) of the A sliver is a[r*rs+p*ps] and bp is a packed k×4 sliver of B.
func kernGeneric4x4(k int, a []float32, rs, ps int, bp, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	bp = bp[:4*k]
	a0s, a1s, a2s, a3s := a[0:], a[rs:], a[2*rs:], a[3*rs:]
	for p := 0; p < k; p++ {
		b := bp[4*p : 4*p+4 : 4*p+4]
		o := p * ps
		a0, a1, a2, a3 := a0s[o], a1s[o], a2s[o], a3s[o]
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

func kernGenericN(k int, a []float32, lda int, bp, c []float32, ldc int, alpha, beta float32) {
	kernGeneric4x4(k, a, lda, 1, bp, c, ldc, alpha, beta)
}

func kernGenericT(k int, a []float32, lda int, bp, c []float32, ldc int, alpha, beta float32) {
	kernGeneric4x4(k, a, 1, lda, bp, c, ldc, alpha, beta)
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
