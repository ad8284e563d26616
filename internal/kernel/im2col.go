package kernel

import "fmt"

// ConvGeom is the geometry of a 2-d convolution or pooling window over one image plane
// stack: C channels of H×W, a KH×KW window with strides SH, SW, zero padding PH, PW and
// dilations DH, DW (>= 1). OH and OW are the output size, set by Init:
// OH = ⌊(H + 2·PH − DH·(KH−1) − 1)/SH⌋ + 1, and likewise OW (PyTorch's formula).
type ConvGeom struct {
	C, H, W int
	KH, KW  int
	SH, SW  int
	PH, PW  int
	DH, DW  int
	OH, OW  int
}

// Init computes OH and OW and checks the geometry, returning an error naming the value
// out of range.
func (g *ConvGeom) Init() error {
	switch {
	case g.C < 1 || g.H < 1 || g.W < 1:
		return fmt.Errorf("kernel: conv input %dx%dx%d must be positive", g.C, g.H, g.W)
	case g.KH < 1 || g.KW < 1:
		return fmt.Errorf("kernel: conv window %dx%d must be positive", g.KH, g.KW)
	case g.SH < 1 || g.SW < 1:
		return fmt.Errorf("kernel: conv stride %dx%d must be positive", g.SH, g.SW)
	case g.PH < 0 || g.PW < 0:
		return fmt.Errorf("kernel: conv padding %dx%d must be non-negative", g.PH, g.PW)
	case g.DH < 1 || g.DW < 1:
		return fmt.Errorf("kernel: conv dilation %dx%d must be positive", g.DH, g.DW)
	}
	g.OH = (g.H+2*g.PH-g.DH*(g.KH-1)-1)/g.SH + 1
	g.OW = (g.W+2*g.PW-g.DW*(g.KW-1)-1)/g.SW + 1
	if g.H+2*g.PH-g.DH*(g.KH-1)-1 < 0 || g.W+2*g.PW-g.DW*(g.KW-1)-1 < 0 || g.OH < 1 || g.OW < 1 {
		return fmt.Errorf("kernel: conv output size %dx%d is too small (input %dx%d, window %dx%d, padding %dx%d, dilation %dx%d)",
			g.OH, g.OW, g.H, g.W, g.KH, g.KW, g.PH, g.PW, g.DH, g.DW)
	}
	return nil
}

// Rows is the number of rows of the column matrix: C·KH·KW.
func (g *ConvGeom) Rows() int { return g.C * g.KH * g.KW }

// Cols is the number of columns of the column matrix: OH·OW.
func (g *ConvGeom) Cols() int { return g.OH * g.OW }

// validRange returns the output positions [lo, hi) whose input coordinate o*s - p + off
// lies in [0, n).
func validRange(n, out, s, p, off int) (lo, hi int) {
	// o*s - p + off >= 0  <=>  o >= ceil((p-off)/s)
	d := p - off
	if d > 0 {
		lo = (d + s - 1) / s
	}
	// o*s - p + off <= n-1  <=>  o <= floor((n-1+p-off)/s)
	e := n - 1 + p - off
	if e < 0 {
		return 0, 0
	}
	hi = e/s + 1
	lo = min(lo, out)
	hi = min(hi, out)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Im2col writes the sliding windows of one image x (C×H×W, contiguous) into cols, a
// (C·KH·KW)×(OH·OW) row-major matrix with leading dimension ld >= OH·OW (so several
// images' columns can sit side by side): cols[((c·KH+i)·KW+j)·ld + oy·OW+ox] =
// x[c, oy·SH−PH+i·DH, ox·SW−PW+j·DW], zero outside the image.
func Im2col(g *ConvGeom, cols []float32, ld int, x []float32) {
	P := g.OH * g.OW
	if ld < P || len(cols) < (g.Rows()-1)*ld+P || len(x) < g.C*g.H*g.W {
		panic("kernel: Im2col buffer too short")
	}
	im2colRows(g, cols, ld, x, 0, g.Rows())
}

// winPos is the geometry of one window position (i, j): its offsets in the input, the
// output rows and columns [ylo, yhi) × [xlo, xhi) that read inside the image, and the
// flat shift of the stride-1 same-size fast path.
type winPos struct {
	offY, offX, ylo, yhi, xlo, xhi, shift int
}

// maxWinPos is the largest KH·KW whose positions are precomputed on the stack.
const maxWinPos = 64

// winPositions fills ps[:KH·KW] (which must be long enough) and returns it.
func (g *ConvGeom) winPositions(ps []winPos) []winPos {
	ps = ps[:g.KH*g.KW]
	for i := 0; i < g.KH; i++ {
		for j := 0; j < g.KW; j++ {
			p := &ps[i*g.KW+j]
			p.offY, p.offX = i*g.DH, j*g.DW
			p.ylo, p.yhi = validRange(g.H, g.OH, g.SH, g.PH, p.offY)
			p.xlo, p.xhi = validRange(g.W, g.OW, g.SW, g.PW, p.offX)
			p.shift = (p.offY-g.PH)*g.W + p.offX - g.PW
		}
	}
	return ps
}

// im2colRows fills rows [r0, r1) of the column matrix.
func im2colRows(g *ConvGeom, cols []float32, ld int, x []float32, r0, r1 int) {
	H, W, OH, OW := g.H, g.W, g.OH, g.OW
	P := OH * OW
	kk := g.KH * g.KW
	var buf [maxWinPos]winPos
	var ps []winPos
	if kk <= maxWinPos {
		ps = g.winPositions(buf[:])
	} else {
		ps = g.winPositions(make([]winPos, kk))
	}
	fast := g.SH == 1 && g.SW == 1 && OW == W
	for r := r0; r < r1; r++ {
		c := r / kk
		row := cols[r*ld : r*ld+P]
		plane := x[c*H*W : (c+1)*H*W]
		wp := ps[r%kk]
		offX := wp.offX
		ylo, yhi, xlo, xhi := wp.ylo, wp.yhi, wp.xlo, wp.xhi
		clear(row[:ylo*OW])
		clear(row[yhi*OW:])
		if fast && yhi > ylo && xhi > xlo {
			// Same-size stride-1 window: the row is the plane shifted by a constant, so
			// one long copy, then zero the columns that fell outside the image.
			lo, hi := ylo*W+xlo, (yhi-1)*W+xhi
			copy(row[lo:hi], plane[lo+wp.shift:hi+wp.shift])
			zeroEdges(row, W, ylo, yhi, xlo, xhi)
			continue
		}
		for oy := ylo; oy < yhi; oy++ {
			iy := oy*g.SH - g.PH + wp.offY
			dst := row[oy*OW : (oy+1)*OW]
			src := plane[iy*W : (iy+1)*W]
			clear(dst[:xlo])
			clear(dst[xhi:])
			ix0 := xlo*g.SW - g.PW + offX
			if g.SW == 1 {
				copy(dst[xlo:xhi], src[ix0:ix0+xhi-xlo])
				continue
			}
			d := dst[xlo:xhi]
			for k := range d {
				d[k] = src[ix0+k*g.SW]
			}
		}
	}
}

// Col2im adds the column matrix cols ((C·KH·KW)×(OH·OW), leading dimension ld) back into
// the image dx (C×H×W): the adjoint of Im2col, dx[c, y, x] += Σ cols over every window
// position reading (y, x). It may zero the entries of cols that read padding (cols is
// treated as scratch).
func Col2im(g *ConvGeom, dx []float32, cols []float32, ld int) {
	P := g.OH * g.OW
	if ld < P || len(cols) < (g.Rows()-1)*ld+P || len(dx) < g.C*g.H*g.W {
		panic("kernel: Col2im buffer too short")
	}
	H, W, OW := g.H, g.W, g.OW
	kk := g.KH * g.KW
	var buf [maxWinPos]winPos
	var ps []winPos
	if kk <= maxWinPos {
		ps = g.winPositions(buf[:])
	} else {
		ps = g.winPositions(make([]winPos, kk))
	}
	for r := 0; r < g.Rows(); r++ {
		c := r / kk
		row := cols[r*ld : r*ld+P]
		plane := dx[c*H*W : (c+1)*H*W]
		wp := ps[r%kk]
		offX := wp.offX
		ylo, yhi, xlo, xhi := wp.ylo, wp.yhi, wp.xlo, wp.xhi
		if xhi <= xlo || yhi <= ylo {
			continue
		}
		if g.SH == 1 && g.SW == 1 && OW == W {
			// The adjoint of Im2col's fast path: zero the out-of-image columns of this
			// (scratch) row, then one long add of the shifted row.
			zeroEdges(row, W, ylo, yhi, xlo, xhi)
			lo, hi := ylo*W+xlo, (yhi-1)*W+xhi
			Axpy(1, row[lo:hi], plane[lo+wp.shift:hi+wp.shift])
			continue
		}
		for oy := ylo; oy < yhi; oy++ {
			iy := oy*g.SH - g.PH + wp.offY
			src := row[oy*OW+xlo : oy*OW+xhi]
			ix0 := xlo*g.SW - g.PW + offX
			if g.SW == 1 {
				dst := plane[iy*W+ix0 : iy*W+ix0+len(src)]
				for k, v := range src {
					dst[k] += v
				}
				continue
			}
			dst := plane[iy*W:]
			for k, v := range src {
				dst[ix0+k*g.SW] += v
			}
		}
	}
}

// zeroEdges zeroes columns [0, xlo) and [xhi, w) of rows [ylo, yhi) of the w-wide row
// blocks of r (a few elements per row: plain stores, not clear calls).
func zeroEdges(r []float32, w, ylo, yhi, xlo, xhi int) {
	if xlo == 0 && xhi == w {
		return
	}
	if yhi > ylo && xlo <= 1 && w-xhi <= 1 { // a 3×3 pad-1 window: one column each side
		r = r[ylo*w : yhi*w]
		if xlo == 1 {
			for b := 0; b < len(r); b += w {
				r[b] = 0
			}
		}
		if xhi == w-1 {
			for b := w - 1; b < len(r); b += w {
				r[b] = 0
			}
		}
		return
	}
	for oy := ylo; oy < yhi; oy++ {
		b := oy * w
		for x := 0; x < xlo; x++ {
			r[b+x] = 0
		}
		for x := xhi; x < w; x++ {
			r[b+x] = 0
		}
	}
}
