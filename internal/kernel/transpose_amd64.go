package kernel

//go:noescape
func transpose8(dst, src *float32, ld, kc8, stride int)

//go:noescape
func transpose4(dst, src *float32, ld, kc4, stride int)

// transposePack writes dst[p*stride + r] = src[r*ld + p] for p < kc, r < rows, and zero
// for rows <= r < width: rows of a row-major matrix become the contiguous groups of a
// packed sliver. Blocks of 8 and 4 rows go through the AVX transposes; the rest is Go.
func transposePack(dst, src []float32, ld, kc, rows, width, stride int) {
	if kc == 0 {
		return
	}
	_ = dst[(kc-1)*stride+width-1]
	if rows > 0 {
		_ = src[(rows-1)*ld+kc-1]
	}
	r := 0
	for ; r+8 <= rows && kc >= 8; r += 8 {
		transpose8(&dst[r], &src[r*ld], ld, kc/8, stride)
	}
	done8 := r
	for ; r+4 <= rows && kc >= 4; r += 4 {
		transpose4(&dst[r], &src[r*ld], ld, kc/4, stride)
	}
	done4 := r
	// Columns past the last full 8- (or 4-) block of the transposed rows, then the
	// remaining rows, then zero padding.
	for rr := 0; rr < done4; rr++ {
		p0 := kc &^ 7
		if rr >= done8 {
			p0 = kc &^ 3
		}
		s := src[rr*ld : rr*ld+kc]
		for p := p0; p < kc; p++ {
			dst[p*stride+rr] = s[p]
		}
	}
	for ; r < rows; r++ {
		s := src[r*ld : r*ld+kc]
		for p, v := range s {
			dst[p*stride+r] = v
		}
	}
	if rows < width {
		for p := 0; p < kc; p++ {
			clear(dst[p*stride+rows : p*stride+width])
		}
	}
}
