package nn

import (
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/tensor"
)

// Winograd minimal filtering F(2×2, 3×3) for 3×3 convolutions with stride 1, no
// dilation and one group (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", CVPR 2016). The output is cut into 2×2 tiles; the 4×4 input window d of
// a tile and a 3×3 filter g give the tile as
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
//	Bᵀ = ⎡1  0 −1  0⎤   G = ⎡ 1    0    0 ⎤   Aᵀ = ⎡1 1  1  0⎤
//	     ⎢0  1  1  0⎥       ⎢1/2  1/2  1/2⎥        ⎣0 1 −1 −1⎦
//	     ⎢0 −1  1  0⎥       ⎢1/2 −1/2  1/2⎥
//	     ⎣0  1  0 −1⎦       ⎣ 0    0    1 ⎦
//
// so the 36 multiplications of a tile per channel pair become 16, and, summed over the
// input channels, 16 independent matrix products per block of tiles:
// M_ξ = U_ξ·V_ξ with U_ξ = (G g Gᵀ)_ξ (out × in) and V_ξ = (Bᵀ d B)_ξ (in × tiles), each
// an sgemm. The backward pass is the exact gradient of that computation (not a second
// convolution): with dM = A dY Aᵀ per output tile,
//
//	dU_ξ = dM_ξ · V_ξᵀ,  dW = Gᵀ dU G,  dV_ξ = U_ξᵀ · dM_ξ,  dx += B dV Bᵀ (overlapping windows)
//
// which also costs 2.25x fewer multiplications than im2col's products, reuses the saved
// V (4/9 the size of im2col's columns for a 3×3 layer) and needs neither im2col nor
// col2im. Rounding differs from the direct method by a few ulps of the transforms
// (golden tests against PyTorch hold at 1e-4; see conv_winograd_test.go).
//
// The minibatch is cut into winoUnits units of whole images, which the threads claim as
// they come; a unit walks its tiles (images in order, row-major tiles within each) in
// blocks of at most winoBlock tiles, so a block's V, M and dV stay in L2.

// winoBlock is the number of tiles per block: the n of each block's 16 products.
var winoBlock = 128

// winoSave keeps the transformed input V of all images from the forward pass for the
// weight gradient, instead of recomputing it in the backward pass.
var winoSave = true

// useWinograd turns the Winograd path on for the layers it applies to (tests switch it
// off to compare against im2col).
var useWinograd = true

// winoAlways makes winogradOK ignore whether the transforms are vectorized (tests run
// the Go transforms through it on every kernel path).
var winoAlways = false

// winogradOK reports whether conv2d uses the Winograd path for geometry g: a 3×3,
// stride-1, undilated, ungrouped convolution with more than one input channel, when the
// transforms run vectorized (kernel.WinogradVectorized: measured on the AVX2 path, the Go
// transforms made conv2 of the cnn model 1.1–2x slower than im2col).
func winogradOK(g *kernel.ConvGeom, groups int) bool {
	return useWinograd && (winoAlways || kernel.WinogradVectorized()) && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 &&
		groups == 1 && g.Rows() > convDotRows
}

// winoUnits is the number of work units a minibatch is cut into (fewer if it has fewer
// images). The units are claimed by the pool's threads as they come (kernel.ParallelEachN
// with the tape's thread count), so a thread the host deschedules for a while does not
// hold up the pass, and their partial sums (dW, db, the linked BN's statistics) are added in unit order: the results
// do not depend on the thread count or on which thread ran which unit.
const winoUnits = 8

// winoJob is the state of one parallel Winograd pass.
type winoJob struct {
	g              kernel.ConvGeom
	n, out, units  int
	threads        int           // the tape's thread count
	slots          int           // scratch sets: the most units that can run at once
	busy           atomic.Uint64 // scratch sets in use
	th, tw, tpi    int           // tiles per column, per row, per image
	phase          int
	x, u, b, y, gy []float32
	saved          []float32 // all images' V (training), else nil
	stats          []float32 // per-unit channel sums for a linked BN
	dx             []float32
	dxFresh        bool
	needW, needB   bool
	dUPart, dbPart []float32          // per unit
	vbuf, mbuf, dv []float32          // per scratch set, winoBlock tiles each
	sbuf           []float32          // per scratch set: lane sums, 32 per channel
	runs           [][]kernel.WinoRun // per scratch set: input-side and output-side runs of a block (kept across reuse)
	fn             func(lo, hi int)
}

var winoJobs = freeList[winoJob]{newItem: func() *winoJob {
	j := new(winoJob)
	j.fn = j.run
	return j
}}

func newWinoJob(t *ag.Tape, g *kernel.ConvGeom, n, out int) *winoJob {
	j := winoJobs.get()
	fn, runs := j.fn, j.runs
	*j = winoJob{g: *g, n: n, out: out, fn: fn, runs: runs, threads: t.Threads()}
	j.units = max(1, min(winoUnits, n))
	j.slots = max(1, min(j.threads, j.units, 64))
	for len(j.runs) < 2*j.slots {
		j.runs = append(j.runs, make([]kernel.WinoRun, 0, winoBlock))
	}
	j.th, j.tw = (g.OH+1)/2, (g.OW+1)/2
	j.tpi = j.th * j.tw
	return j
}

func (j *winoJob) release() {
	fn, runs := j.fn, j.runs
	*j = winoJob{fn: fn, runs: runs}
	winoJobs.put(j)
}

// parallel runs the job's phase over its units.
func (j *winoJob) parallel() {
	if j.slots == 1 {
		j.run(0, j.units)
		return
	}
	kernel.ParallelEachN(j.threads, j.units, j.fn)
}

func (j *winoJob) run(lo, hi int) {
	slot := j.acquire()
	for u := lo; u < hi; u++ {
		if j.phase == convForward {
			j.forward(u, slot)
		} else {
			j.backward(u, slot)
		}
	}
	j.busy.And(^(uint64(1) << slot))
}

// acquire returns a free scratch set. At most j.threads units run at once (the region's
// own count, whatever other goroutines run), and there are that many sets (up to 64).
func (j *winoJob) acquire() int {
	all := uint64(1)<<j.slots - 1
	for {
		b := j.busy.Load()
		if free := all &^ b; free != 0 {
			i := bits.TrailingZeros64(free)
			if j.busy.CompareAndSwap(b, b|uint64(1)<<i) {
				return i
			}
			continue
		}
		runtime.Gosched()
	}
}

// unitImages returns the images of unit u.
func (j *winoJob) unitImages(u int) (n0, n1 int) {
	return u * j.n / j.units, (u + 1) * j.n / j.units
}

// blocks returns how unit u's tiles are cut into blocks: the number of tiles, and the
// number and size of the blocks (equal but the last, at most winoBlock).
func (j *winoJob) blocks(u int) (total, nb, size int) {
	n0, n1 := j.unitImages(u)
	total = (n1 - n0) * j.tpi
	nb = (total + winoBlock - 1) / winoBlock
	size = (total + nb - 1) / nb
	return total, nb, size
}

// winoPad is added to the distance between the 16 planes of a block's V, M, dM and dV:
// without it the planes of a 128-tile block are 16 or 32 KiB apart, so the 16 elements of
// a tile fall in one L1 set and evict each other (measured 5x slower transforms).
const winoPad = 16

// vLen and mLen are the lengths of the V (or dV) and M (or dM) of a block of cnt tiles.
func (j *winoJob) vLen(cnt int) int { return 16 * (j.g.C*cnt + winoPad) }
func (j *winoJob) mLen(cnt int) int { return 16 * (j.out*cnt + winoPad) }

// savedStart returns where unit u's blocks start in the saved V of all images (with
// u = units, its length): unit by unit, block by block, each block's V as vLen.
func (j *winoJob) savedStart(u int) int {
	off := 0
	for i := 0; i < u; i++ {
		total, nb, _ := j.blocks(i)
		off += 16 * (j.g.C*total + winoPad*nb)
	}
	return off
}

// block returns the V of block b (tiles [τ0, τ0+cnt)) of unit u: its slice of saved, or
// the scratch set's.
func (j *winoJob) block(u, slot, b, τ0, cnt int) []float32 {
	if j.saved != nil {
		off := j.savedStart(u) + 16*(j.g.C*τ0+winoPad*b)
		return j.saved[off : off+j.vLen(cnt)]
	}
	return j.vbuf[slot*j.vLen(winoBlock):][:j.vLen(cnt)]
}

func (j *winoJob) forward(u, slot int) {
	n0, _ := j.unitImages(u)
	C, O := j.g.C, j.out
	var st []float32
	if j.stats != nil {
		st = j.stats[u*4*O : (u+1)*4*O]
		clear(st)
	}
	m := j.mbuf[slot*j.mLen(winoBlock):][:j.mLen(winoBlock)]
	sums := j.sbuf[slot*32*O : (slot+1)*32*O]
	total, nb, size := j.blocks(u)
	for b := 0; b < nb; b++ {
		τ0 := b * size
		cnt := min(size, total-τ0)
		vs, ms := C*cnt+winoPad, O*cnt+winoPad
		v := j.block(u, slot, b, τ0, cnt)
		j.inputTiles(slot, n0, τ0, cnt, v)
		for xi := 0; xi < 16; xi++ {
			kernel.SgemmN(j.threads, false, false, O, cnt, C, 1, j.u[xi*O*C:], C, v[xi*vs:], cnt, 0, m[xi*ms:], cnt)
		}
		j.outputTiles(slot, n0, τ0, cnt, m, st, sums)
	}
}

func (j *winoJob) backward(u, slot int) {
	n0, n1 := j.unitImages(u)
	g := &j.g
	C, O := g.C, j.out
	if j.dx != nil && j.dxFresh {
		clear(j.dx[n0*C*g.H*g.W : n1*C*g.H*g.W])
	}
	var dU, db []float32
	if j.needW {
		dU = j.dUPart[u*16*O*C : (u+1)*16*O*C]
		clear(dU)
	}
	if j.needB {
		db = j.dbPart[u*2*O : (u+1)*2*O]
		clear(db)
	}
	dm := j.mbuf[slot*j.mLen(winoBlock):][:j.mLen(winoBlock)]
	sums := j.sbuf[slot*32*O : (slot+1)*32*O]
	total, nb, size := j.blocks(u)
	for b := 0; b < nb; b++ {
		τ0 := b * size
		cnt := min(size, total-τ0)
		vs, ms := C*cnt+winoPad, O*cnt+winoPad
		j.gradTiles(slot, n0, τ0, cnt, dm, db, sums)
		if j.needW {
			v := j.block(u, slot, b, τ0, cnt)
			if j.saved == nil {
				j.inputTiles(slot, n0, τ0, cnt, v)
			}
			for xi := 0; xi < 16; xi++ {
				kernel.SgemmN(j.threads, false, true, O, C, cnt, 1, dm[xi*ms:], cnt, v[xi*vs:], cnt, 1, dU[xi*O*C:], C)
			}
		}
		if j.dx != nil {
			dv := j.dv[slot*j.vLen(winoBlock):][:j.vLen(cnt)]
			for xi := 0; xi < 16; xi++ {
				kernel.SgemmN(j.threads, true, false, C, cnt, O, 1, j.u[xi*O*C:], C, dm[xi*ms:], cnt, 0, dv[xi*vs:], cnt)
			}
			j.inputGradTiles(slot, n0, τ0, cnt, dv)
		}
	}
}

// tilePos returns the image and tile coordinates of thread-relative tile τ.
func (j *winoJob) tilePos(n0, τ int) (img, ti, tj int) {
	r := τ % j.tpi
	return n0 + τ/j.tpi, r / j.tw, r % j.tw
}

// runAt returns the run of tiles of a tile row starting at block position t (at most 15
// tiles, the kernels' width): its image, tile row and column, and length.
func (j *winoJob) runAt(n0, τ0, t, cnt int) (img, ti, tj, nt int) {
	img, ti, tj = j.tilePos(n0, τ0+t)
	return img, ti, tj, min(15, j.tw-tj, cnt-t)
}

// colMask returns the bits i < n with 0 <= x0+i < w.
func colMask(x0, w, n int) int {
	lo, hi := max(0, -x0), min(n, w-x0)
	if hi <= lo {
		return 0
	}
	return int((uint64(1)<<hi - 1) &^ (uint64(1)<<lo - 1))
}

// inRuns returns the input-side runs of tiles [τ0, τ0+cnt) of a thread (images from
// n0) in buf: the rows of their 4×4 windows, relative to channel 0 of the tensor.
func (j *winoJob) inRuns(buf []kernel.WinoRun, n0, τ0, cnt int) []kernel.WinoRun {
	g := &j.g
	buf = buf[:0]
	for t := 0; t < cnt; {
		img, ti, tj, nt := j.runAt(n0, τ0, t, cnt)
		y0, x0 := 2*ti-g.PH, 2*tj-g.PW
		r := kernel.WinoRun{Cols: colMask(x0, g.W, 2*nt+2), T: t, NT: nt}
		for a := 0; a < 4; a++ {
			if yy := y0 + a; yy >= 0 && yy < g.H {
				r.Rows |= 1 << a
				r.Off[a] = img*g.C*g.H*g.W + yy*g.W + x0
			}
		}
		buf = append(buf, r)
		t += nt
	}
	return buf
}

// outRuns returns the output-side runs of tiles [τ0, τ0+cnt) in buf.
func (j *winoJob) outRuns(buf []kernel.WinoRun, n0, τ0, cnt int) []kernel.WinoRun {
	g := &j.g
	buf = buf[:0]
	for t := 0; t < cnt; {
		img, ti, tj, nt := j.runAt(n0, τ0, t, cnt)
		oy, ox := 2*ti, 2*tj
		r := kernel.WinoRun{Rows: 1, Cols: colMask(0, g.OW-ox, 2*nt), T: t, NT: nt}
		if oy+1 < g.OH {
			r.Rows = 2
		}
		r.Off[0] = img*j.out*g.OH*g.OW + oy*g.OW + ox
		buf = append(buf, r)
		t += nt
	}
	return buf
}

// inputTiles writes V = Bᵀ d B of tiles [τ0, τ0+cnt) into v, laid out [ξ][c][tile].
func (j *winoJob) inputTiles(slot, n0, τ0, cnt int, v []float32) {
	C := j.g.C
	runs := j.inRuns(j.runs[2*slot], n0, τ0, cnt)
	j.runs[2*slot] = runs
	kernel.WinoInput(j.x, j.g.H*j.g.W, runs, v, cnt, C*cnt+winoPad, C)
}

// outputTiles writes Y = Aᵀ M A (+ bias) of tiles [τ0, τ0+cnt) from m ([ξ][o][tile])
// into y, adding Σ(y−b) and Σ(y−b)² per channel to st (float64 pairs) if it is not nil;
// sums is scratch for 32 values per channel.
func (j *winoJob) outputTiles(slot, n0, τ0, cnt int, m, st, sums []float32) {
	O := j.out
	if st == nil {
		sums = nil
	} else {
		clear(sums)
	}
	runs := j.outRuns(j.runs[2*slot+1], n0, τ0, cnt)
	j.runs[2*slot+1] = runs
	kernel.WinoOutput(m, O*cnt+winoPad, cnt, runs, j.y, j.g.OW, j.g.OH*j.g.OW, j.b, sums, O)
	if st != nil {
		for o := 0; o < O; o++ {
			var s1, s2 float64
			for i := 0; i < 16; i++ {
				s1 += float64(sums[32*o+i])
				s2 += float64(sums[32*o+16+i])
			}
			setF64(st, 2*o, getF64(st, 2*o)+s1)
			setF64(st, 2*o+1, getF64(st, 2*o+1)+s2)
		}
	}
}

// gradTiles writes dM = A dY Aᵀ of tiles [τ0, τ0+cnt) into dm ([ξ][o][tile]) and adds
// Σ dY per channel to db (float64 pairs) if it is not nil; sums is scratch for 16
// values per channel.
func (j *winoJob) gradTiles(slot, n0, τ0, cnt int, dm, db, sums []float32) {
	O := j.out
	if db == nil {
		sums = nil
	} else {
		clear(sums)
	}
	runs := j.outRuns(j.runs[2*slot+1], n0, τ0, cnt)
	j.runs[2*slot+1] = runs
	kernel.WinoGrad(j.gy, j.g.OW, j.g.OH*j.g.OW, runs, dm, O*cnt+winoPad, cnt, sums, O)
	if db != nil {
		for o := 0; o < O; o++ {
			var s float64
			for i := 0; i < 16; i++ {
				s += float64(sums[16*o+i])
			}
			setF64(db, o, getF64(db, o)+s)
		}
	}
}

// inputGradTiles adds dd = B dV Bᵀ of tiles [τ0, τ0+cnt) (dv laid out [ξ][c][tile]) into
// the tiles' overlapping 4×4 input windows of dx, dropping the padding.
func (j *winoJob) inputGradTiles(slot, n0, τ0, cnt int, dv []float32) {
	C := j.g.C
	runs := j.inRuns(j.runs[2*slot], n0, τ0, cnt)
	j.runs[2*slot] = runs
	kernel.WinoInputGrad(dv, C*cnt+winoPad, cnt, runs, j.dx, j.g.H*j.g.W, C)
}

// winoFilter writes U = G g Gᵀ of every filter of w (out × C × 3 × 3) into u, laid out
// [ξ][o][c].
func winoFilter(u, w []float32, out, C int) {
	step := out * C
	for oc := 0; oc < out*C; oc++ {
		f := w[oc*9 : oc*9+9 : oc*9+9]
		// G g: rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2.
		var r [4][3]float32
		for q := 0; q < 3; q++ {
			g0, g1, g2 := f[q], f[3+q], f[6+q]
			r[0][q] = g0
			r[1][q] = 0.5 * (g0 + g1 + g2)
			r[2][q] = 0.5 * (g0 - g1 + g2)
			r[3][q] = g2
		}
		_ = u[oc+15*step]
		for k := 0; k < 4; k++ {
			a, b, c := r[k][0], r[k][1], r[k][2]
			u[oc+(4*k)*step] = a
			u[oc+(4*k+1)*step] = 0.5 * (a + b + c)
			u[oc+(4*k+2)*step] = 0.5 * (a - b + c)
			u[oc+(4*k+3)*step] = c
		}
	}
}

// winoFilterGrad adds dW = Gᵀ dU G of every filter to dw (out × C × 3 × 3), dU laid out
// [ξ][o][c].
func winoFilterGrad(dw, du []float32, out, C int) {
	step := out * C
	for oc := 0; oc < out*C; oc++ {
		var m [16]float32
		for xi := 0; xi < 16; xi++ {
			m[xi] = du[oc+xi*step]
		}
		// Gᵀ dU: rows dU0 + (dU1+dU2)/2, (dU1−dU2)/2, (dU1+dU2)/2 + dU3.
		var r [3][4]float32
		for l := 0; l < 4; l++ {
			u0, u1, u2, u3 := m[l], m[4+l], m[8+l], m[12+l]
			r[0][l] = u0 + 0.5*(u1+u2)
			r[1][l] = 0.5 * (u1 - u2)
			r[2][l] = 0.5*(u1+u2) + u3
		}
		f := dw[oc*9 : oc*9+9 : oc*9+9]
		for p := 0; p < 3; p++ {
			a, b, c, d := r[p][0], r[p][1], r[p][2], r[p][3]
			f[3*p] += a + 0.5*(b+c)
			f[3*p+1] += 0.5 * (b - c)
			f[3*p+2] += 0.5*(b+c) + d
		}
	}
}

// winoForward is conv2d's forward pass by F(2×2, 3×3) into y (see the top of this file);
// with save it keeps V of all images for the backward pass.
func winoForward(t *ag.Tape, x, w, b *ag.Var, y *tensor.Tensor, geom *kernel.ConvGeom, opt ConvOptions, aux []int, link *bnStatsLink, save bool) *ag.Var {
	n, out, C := x.Value.Shape()[0], w.Value.Shape()[0], geom.C
	j := newWinoJob(t, geom, n, out)
	j.x, j.y = x.Value.Contiguous().Data(), y.Data()
	j.u = t.Empty(16 * out * C).Data()
	winoFilter(j.u, w.Value.Contiguous().Data(), out, C)
	var saved *tensor.Tensor
	if save && winoSave {
		saved = t.Empty(j.savedStart(j.units))
		j.saved = saved.Data()
	} else {
		j.vbuf = t.Empty(j.slots * j.vLen(winoBlock)).Data()
	}
	j.mbuf = t.Empty(j.slots * j.mLen(winoBlock)).Data()
	j.sbuf = t.Empty(j.slots * 32 * out).Data()
	if b != nil {
		j.b = b.Value.Data()
	}
	if link != nil {
		link.begin()
		j.stats = link.statsBuffers(t, j.units, out, j.b)
	}
	linked := j.stats != nil
	j.phase = convForward
	j.parallel()
	j.release()
	v := recordConv(t, y, x, w, b, opt, aux, 0, 1, saved) // the backward pass recomputes the units from n
	if linked {
		link.out = v
	}
	return v
}

// winoBackward is conv2dBackward for a Winograd forward pass.
func winoBackward(o *ag.Var, geom *kernel.ConvGeom) {
	in := o.Inputs()
	x, w := in[0], in[1]
	t := o.Tape()
	n, out, C := x.Value.Shape()[0], w.Value.Shape()[0], geom.C
	j := newWinoJob(t, geom, n, out)
	j.x, j.gy = x.Value.Contiguous().Data(), o.Grad.Data()
	j.u = t.Empty(16 * out * C).Data()
	winoFilter(j.u, w.Value.Contiguous().Data(), out, C)
	if o.Aux != nil {
		j.saved = o.Aux.Data()
	}
	j.needW = w.RequiresGrad()
	j.needB = len(in) > 2 && in[2].RequiresGrad()
	if x.RequiresGrad() {
		dx, fresh := x.GradForWrite()
		j.dx, j.dxFresh = dx.Data(), fresh
		j.dv = t.Empty(j.slots * j.vLen(winoBlock)).Data()
	}
	du := 16 * out * C
	if j.needW {
		j.dUPart = t.Empty(j.units * du).Data()
		if j.saved == nil {
			j.vbuf = t.Empty(j.slots * j.vLen(winoBlock)).Data()
		}
	}
	if j.needB {
		j.dbPart = t.Empty(j.units * 2 * out).Data()
	}
	j.mbuf = t.Empty(j.slots * j.mLen(winoBlock)).Data()
	j.sbuf = t.Empty(j.slots * 32 * out).Data()
	j.phase = convBackward
	j.parallel()
	if j.needW {
		sum := j.dUPart[:du]
		for i := 1; i < j.units; i++ {
			kernel.Axpy(1, j.dUPart[i*du:(i+1)*du], sum)
		}
		winoFilterGrad(w.GradBuf().Data(), sum, out, C)
	}
	if j.needB {
		addBiasPartials(in[2].GradBuf().Data(), j.dbPart, j.units)
	}
	j.release()
}
