// Package augment is temper's data augmentation: random transformations of training
// examples that leave the label unchanged (flips, pad + random crop, color jitter, random
// resized crop, small rotations and translations, cutout), and the two batch-level
// schemes that mix examples and hence labels (mixup, cutmix) with the loss that goes
// with them.
//
// Per-example ops work in place on one example x in CHW layout (shape (C, H, W), or
// (H, W) for one channel) with pixel values in [0, 1] as the data package produces them,
// and draw every random number from the stream they are given, in a fixed order, so an
// augmented epoch is a function of the loader's stream (see data.LoaderConfig.Transform,
// whose signature Pipeline.Transform has; ops are safe for concurrent use by the loader's
// workers). The output shape always equals the input shape.
//
// A pipeline is written as a SPEC string, parsed by Parse: ops joined by '+', each with
// optional ':'-separated options key=value (or bare flags) joined by ',':
//
//	flip:h+crop:pad=4+jitter:b=0.2,c=0.2
//	crop:pad=2+rotate:deg=10
//	flip:h+crop:pad=4,mode=reflect+cutout:size=8+mixup:alpha=0.2
//
// Differences from torchvision are noted on each op; in short, the random parameters are
// drawn the same way, from temper's streams rather than torch's global generator.
package augment

import (
	"fmt"
	"math"
	"sync"

	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Transform is one per-example augmentation.
type Transform interface {
	// Apply transforms the example x of the given shape in place.
	Apply(x []float32, shape []int, r *rng.Stream)
	// String returns the op in SPEC syntax (Parse(op.String()) gives it back).
	String() string
}

// chw returns the channel, height and width of an example shape; it panics with a
// *tensor.ShapeError for other ranks or a length mismatch.
func chw(op string, x []float32, shape []int) (c, h, w int) {
	switch len(shape) {
	case 2:
		c, h, w = 1, shape[0], shape[1]
	case 3:
		c, h, w = shape[0], shape[1], shape[2]
	default:
		panic(&tensor.ShapeError{Op: "augment." + op, A: shape, Msg: "want an example shaped (C, H, W) or (H, W)"})
	}
	if c*h*w != len(x) || c < 1 || h < 1 || w < 1 {
		panic(&tensor.ShapeError{Op: "augment." + op, A: shape, B: []int{len(x)}, Msg: "example length does not match its shape"})
	}
	return c, h, w
}

// scratch buffers shared by concurrent Apply calls.
var bufPool = sync.Pool{New: func() any { return new([]float32) }}

func getBuf(n int) *[]float32 {
	b := bufPool.Get().(*[]float32)
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return b
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

// Flip mirrors the example left-right (Horizontal) and/or top-bottom (Vertical), each
// independently with probability P (torchvision's RandomHorizontalFlip /
// RandomVerticalFlip). It draws one uniform per enabled direction. Horizontal flips suit
// natural images (CIFAR), not digits; vertical flips rarely suit either.
type Flip struct {
	Horizontal, Vertical bool
	// P is the flip probability; 0 means 0.5.
	P float64
}

func (f Flip) prob() float64 {
	if f.P == 0 {
		return 0.5
	}
	return f.P
}

// Apply implements Transform.
func (f Flip) Apply(x []float32, shape []int, r *rng.Stream) {
	c, h, w := chw("Flip", x, shape)
	p := f.prob()
	if f.Horizontal && r.Float64() < p {
		for row := 0; row < c*h; row++ {
			s := x[row*w : (row+1)*w]
			for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if f.Vertical && r.Float64() < p {
		for ch := 0; ch < c; ch++ {
			pl := x[ch*h*w : (ch+1)*h*w]
			for i, j := 0, h-1; i < j; i, j = i+1, j-1 {
				a, b := pl[i*w:(i+1)*w], pl[j*w:(j+1)*w]
				for k := range a {
					a[k], b[k] = b[k], a[k]
				}
			}
		}
	}
}

func (f Flip) String() string {
	s := "flip:"
	sep := ""
	if f.Horizontal {
		s += "h"
		sep = ","
	}
	if f.Vertical {
		s += sep + "v"
		sep = ","
	}
	if f.P != 0 && f.P != 0.5 {
		s += sep + fmt.Sprintf("p=%g", f.P)
	}
	return s
}

// PadMode is how Crop fills the padding.
type PadMode int

const (
	// ZeroPad fills with 0 (torchvision padding_mode="constant", fill=0).
	ZeroPad PadMode = iota
	// ReflectPad mirrors without repeating the edge (padding_mode="reflect").
	ReflectPad
	// EdgePad repeats the edge pixel (padding_mode="edge").
	EdgePad
)

func (m PadMode) String() string {
	switch m {
	case ReflectPad:
		return "reflect"
	case EdgePad:
		return "edge"
	}
	return "zero"
}

// Crop pads the example by Pad pixels on every side and crops a random window of the
// original size (torchvision's RandomCrop(size, padding=Pad, padding_mode)): the offsets
// (dy, dx) are uniform in [0, 2·Pad], drawn dy first. The classic CIFAR recipe is pad 4;
// for 28×28 digits pad 2 shifts by up to 2 pixels.
type Crop struct {
	Pad  int
	Mode PadMode
}

// padIndex maps a coordinate of the padded image (in [−pad, n+pad)) to the source
// coordinate, or −1 for zero padding.
func padIndex(i, n int, m PadMode) int {
	if i >= 0 && i < n {
		return i
	}
	switch m {
	case EdgePad:
		return min(max(i, 0), n-1)
	case ReflectPad:
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		i %= period
		if i < 0 {
			i += period
		}
		if i >= n {
			i = period - i
		}
		return i
	}
	return -1
}

// Apply implements Transform.
func (cr Crop) Apply(x []float32, shape []int, r *rng.Stream) {
	c, h, w := chw("Crop", x, shape)
	if cr.Pad <= 0 {
		return
	}
	dy := r.IntN(2*cr.Pad+1) - cr.Pad
	dx := r.IntN(2*cr.Pad+1) - cr.Pad
	if dy == 0 && dx == 0 {
		return
	}
	b := getBuf(len(x))
	src := *b
	copy(src, x)
	for ch := 0; ch < c; ch++ {
		sp, dp := src[ch*h*w:(ch+1)*h*w], x[ch*h*w:(ch+1)*h*w]
		for i := 0; i < h; i++ {
			si := padIndex(i+dy, h, cr.Mode)
			for j := 0; j < w; j++ {
				sj := padIndex(j+dx, w, cr.Mode)
				if si < 0 || sj < 0 {
					dp[i*w+j] = 0
				} else {
					dp[i*w+j] = sp[si*w+sj]
				}
			}
		}
	}
	bufPool.Put(b)
}

func (cr Crop) String() string {
	s := fmt.Sprintf("crop:pad=%d", cr.Pad)
	if cr.Mode != ZeroPad {
		s += ",mode=" + cr.Mode.String()
	}
	return s
}

// Jitter is torchvision's ColorJitter: brightness, contrast, saturation and hue changed
// by random factors, applied in a random order (a uniform permutation, drawn first):
//
//	brightness: x·f,                 f ~ U[max(0, 1−B), 1+B]
//	contrast:   f·x + (1−f)·mean(gray(x))   f ~ U[max(0, 1−C), 1+C]
//	saturation: f·x + (1−f)·gray(x)         f ~ U[max(0, 1−S), 1+S]
//	hue:        hue shifted by h (in turns)  h ~ U[−H, H], H ≤ 0.5
//
// clamping to [0, 1] after each (gray = 0.299R + 0.587G + 0.114B, as torchvision). A zero
// coefficient skips its op and its draw. Grayscale (one-channel) images get brightness
// and contrast only (saturation and hue need color; their coefficients are ignored).
type Jitter struct {
	Brightness, Contrast, Saturation, Hue float64
}

// Apply implements Transform.
func (j Jitter) Apply(x []float32, shape []int, r *rng.Stream) {
	c, h, w := chw("Jitter", x, shape)
	color := c == 3
	var order [4]int
	for i := range order {
		order[i] = i
	}
	for i := 3; i > 0; i-- {
		k := r.IntN(i + 1)
		order[i], order[k] = order[k], order[i]
	}
	hw := h * w
	for _, op := range order {
		switch op {
		case 0:
			if j.Brightness > 0 {
				f := float32(uniform(r, math.Max(0, 1-j.Brightness), 1+j.Brightness))
				for i, v := range x {
					x[i] = clamp01(v * f)
				}
			}
		case 1:
			if j.Contrast > 0 {
				f := float32(uniform(r, math.Max(0, 1-j.Contrast), 1+j.Contrast))
				mean := 0.0
				if color {
					for i := 0; i < hw; i++ {
						mean += float64(gray(x, i, hw))
					}
				} else {
					for _, v := range x[:hw] {
						mean += float64(v)
					}
				}
				m := float32(mean / float64(hw))
				for i, v := range x {
					x[i] = clamp01(f*v + (1-f)*m)
				}
			}
		case 2:
			if color && j.Saturation > 0 {
				f := float32(uniform(r, math.Max(0, 1-j.Saturation), 1+j.Saturation))
				for i := 0; i < hw; i++ {
					g := gray(x, i, hw)
					for ch := 0; ch < 3; ch++ {
						x[ch*hw+i] = clamp01(f*x[ch*hw+i] + (1-f)*g)
					}
				}
			}
		case 3:
			if color && j.Hue > 0 {
				shiftHue(x, hw, uniform(r, -j.Hue, j.Hue))
			}
		}
	}
}

func uniform(r *rng.Stream, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

func gray(x []float32, i, hw int) float32 {
	return 0.299*x[i] + 0.587*x[hw+i] + 0.114*x[2*hw+i]
}

// shiftHue rotates the hue of an RGB image by d turns via HSV (torchvision's
// adjust_hue).
func shiftHue(x []float32, hw int, d float64) {
	for i := 0; i < hw; i++ {
		rr, gg, bb := float64(x[i]), float64(x[hw+i]), float64(x[2*hw+i])
		mx := math.Max(rr, math.Max(gg, bb))
		mn := math.Min(rr, math.Min(gg, bb))
		v := mx
		cr := mx - mn
		if cr == 0 {
			continue // gray: hue undefined, unchanged
		}
		s := cr / mx
		var hh float64
		switch mx {
		case rr:
			hh = math.Mod((gg-bb)/cr, 6)
		case gg:
			hh = (bb-rr)/cr + 2
		default:
			hh = (rr-gg)/cr + 4
		}
		hh = hh/6 + d
		hh -= math.Floor(hh)
		// HSV -> RGB
		h6 := hh * 6
		k := math.Floor(h6)
		f := h6 - k
		p := v * (1 - s)
		q := v * (1 - s*f)
		t := v * (1 - s*(1-f))
		var r2, g2, b2 float64
		switch int(k) % 6 {
		case 0:
			r2, g2, b2 = v, t, p
		case 1:
			r2, g2, b2 = q, v, p
		case 2:
			r2, g2, b2 = p, v, t
		case 3:
			r2, g2, b2 = p, q, v
		case 4:
			r2, g2, b2 = t, p, v
		default:
			r2, g2, b2 = v, p, q
		}
		x[i], x[hw+i], x[2*hw+i] = clamp01(float32(r2)), clamp01(float32(g2)), clamp01(float32(b2))
	}
}

func (j Jitter) String() string {
	s := "jitter:"
	sep := ""
	for _, kv := range []struct {
		k string
		v float64
	}{{"b", j.Brightness}, {"c", j.Contrast}, {"s", j.Saturation}, {"h", j.Hue}} {
		if kv.v != 0 {
			s += sep + fmt.Sprintf("%s=%g", kv.k, kv.v)
			sep = ","
		}
	}
	return s
}

// ResizedCrop is torchvision's RandomResizedCrop at the example's own size (Szegedy et al.
// 2015's "Inception" crop): a window of area fraction s ~ U[ScaleMin, ScaleMax] and
// aspect ratio exp(U[log RatioMin, log RatioMax]) is placed uniformly (up to 10 attempts,
// then the central crop clamped to the allowed ratios, as torchvision) and resized back to
// (H, W) bilinearly (align_corners=False, no antialiasing).
type ResizedCrop struct {
	// ScaleMin, ScaleMax: area fractions; zero values mean 0.08 and 1.
	ScaleMin, ScaleMax float64
	// RatioMin, RatioMax: aspect ratios w/h; zero values mean 3/4 and 4/3.
	RatioMin, RatioMax float64
}

func (rc ResizedCrop) params() (smin, smax, rmin, rmax float64) {
	smin, smax, rmin, rmax = rc.ScaleMin, rc.ScaleMax, rc.RatioMin, rc.RatioMax
	if smin == 0 {
		smin = 0.08
	}
	if smax == 0 {
		smax = 1
	}
	if rmin == 0 {
		rmin = 3.0 / 4
	}
	if rmax == 0 {
		rmax = 4.0 / 3
	}
	return
}

// window draws the crop window (top, left, height, width).
func (rc ResizedCrop) window(h, w int, r *rng.Stream) (i, j, ch, cw int) {
	smin, smax, rmin, rmax := rc.params()
	area := float64(h * w)
	for attempt := 0; attempt < 10; attempt++ {
		target := area * uniform(r, smin, smax)
		ratio := math.Exp(uniform(r, math.Log(rmin), math.Log(rmax)))
		cw = int(math.Round(math.Sqrt(target * ratio)))
		ch = int(math.Round(math.Sqrt(target / ratio)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			i = r.IntN(h - ch + 1)
			j = r.IntN(w - cw + 1)
			return
		}
	}
	in := float64(w) / float64(h)
	switch {
	case in < rmin:
		cw = w
		ch = int(math.Round(float64(cw) / rmin))
	case in > rmax:
		ch = h
		cw = int(math.Round(float64(ch) * rmax))
	default:
		cw, ch = w, h
	}
	return (h - ch) / 2, (w - cw) / 2, ch, cw
}

// Apply implements Transform.
func (rc ResizedCrop) Apply(x []float32, shape []int, r *rng.Stream) {
	c, h, w := chw("ResizedCrop", x, shape)
	i0, j0, ch, cw := rc.window(h, w, r)
	b := getBuf(len(x))
	src := *b
	copy(src, x)
	sy, sx := float64(ch)/float64(h), float64(cw)/float64(w)
	for p := 0; p < c; p++ {
		sp, dp := src[p*h*w:(p+1)*h*w], x[p*h*w:(p+1)*h*w]
		for y := 0; y < h; y++ {
			fy := math.Max((float64(y)+0.5)*sy-0.5, 0)
			for xx := 0; xx < w; xx++ {
				fx := math.Max((float64(xx)+0.5)*sx-0.5, 0)
				dp[y*w+xx] = bilinearClamp(sp, w, i0, j0, ch, cw, fy, fx)
			}
		}
	}
	bufPool.Put(b)
}

// bilinearClamp samples the window (i0, j0, ch, cw) of plane p (row length w) at window
// coordinates (fy, fx) >= 0, clamping to the window's last row/column.
func bilinearClamp(p []float32, w, i0, j0, ch, cw int, fy, fx float64) float32 {
	y0, x0 := int(fy), int(fx)
	y0, x0 = min(y0, ch-1), min(x0, cw-1)
	y1, x1 := min(y0+1, ch-1), min(x0+1, cw-1)
	ly, lx := float32(fy-float64(y0)), float32(fx-float64(x0))
	if fy >= float64(ch-1) {
		ly = 0
	}
	if fx >= float64(cw-1) {
		lx = 0
	}
	a := p[(i0+y0)*w+j0+x0]
	b := p[(i0+y0)*w+j0+x1]
	c := p[(i0+y1)*w+j0+x0]
	d := p[(i0+y1)*w+j0+x1]
	return (1-ly)*((1-lx)*a+lx*b) + ly*((1-lx)*c+lx*d)
}

func (rc ResizedCrop) String() string {
	smin, smax, rmin, rmax := rc.params()
	return fmt.Sprintf("rcrop:smin=%g,smax=%g,rmin=%g,rmax=%g", smin, smax, rmin, rmax)
}

// Affine rotates the example by an angle uniform in [−Degrees, Degrees] about its center
// and translates it by (tx, ty) uniform in [−Translate·W, Translate·W] × [−Translate·H,
// Translate·H] pixels (or ±Pixels when Pixels > 0), sampling bilinearly with zero fill
// (torchvision's RandomAffine with degrees and translate, except that translations are not
// rounded to whole pixels and the interpolation is bilinear). Draw order: angle, tx, ty
// (only the enabled parts draw). Small values (10°, 2 px or 0.1) are the usual digit
// augmentations: a rotated or shifted 7 is still a 7.
type Affine struct {
	Degrees   float64
	Translate float64
	Pixels    float64
}

// Apply implements Transform.
func (a Affine) Apply(x []float32, shape []int, r *rng.Stream) {
	c, h, w := chw("Affine", x, shape)
	var ang, tx, ty float64
	if a.Degrees > 0 {
		ang = uniform(r, -a.Degrees, a.Degrees) * math.Pi / 180
	}
	mx, my := a.Translate*float64(w), a.Translate*float64(h)
	if a.Pixels > 0 {
		mx, my = a.Pixels, a.Pixels
	}
	if mx > 0 || my > 0 {
		tx = uniform(r, -mx, mx)
		ty = uniform(r, -my, my)
	}
	if ang == 0 && tx == 0 && ty == 0 {
		return
	}
	warp(x, c, h, w, ang, tx, ty)
}

// warp rotates each plane of x by ang radians about the center and translates it by
// (tx, ty) pixels, bilinearly with zero fill. Positive angles turn the image
// counter-clockwise as displayed (rows top to bottom), as torchvision's rotate does.
func warp(x []float32, c, h, w int, ang, tx, ty float64) {
	b := getBuf(len(x))
	src := *b
	copy(src, x)
	cy, cx := float64(h-1)/2, float64(w-1)/2
	cos, sin := math.Cos(ang), math.Sin(ang)
	for p := 0; p < c; p++ {
		sp, dp := src[p*h*w:(p+1)*h*w], x[p*h*w:(p+1)*h*w]
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				// Inverse map: output (i, j) samples the source at R⁻¹((j,i) − c − t) + c.
				u, v := float64(j)-cx-tx, float64(i)-cy-ty
				sx := cos*u - sin*v + cx
				sy := sin*u + cos*v + cy
				dp[i*w+j] = bilinearZero(sp, h, w, sy, sx)
			}
		}
	}
	bufPool.Put(b)
}

// bilinearZero samples plane p (h×w) at (fy, fx) with zeros outside.
func bilinearZero(p []float32, h, w int, fy, fx float64) float32 {
	y0f, x0f := math.Floor(fy), math.Floor(fx)
	y0, x0 := int(y0f), int(x0f)
	ly, lx := float32(fy-y0f), float32(fx-x0f)
	at := func(y, x int) float32 {
		if y < 0 || y >= h || x < 0 || x >= w {
			return 0
		}
		return p[y*w+x]
	}
	return (1-ly)*((1-lx)*at(y0, x0)+lx*at(y0, x0+1)) + ly*((1-lx)*at(y0+1, x0)+lx*at(y0+1, x0+1))
}

func (a Affine) String() string {
	switch {
	case a.Degrees > 0 && a.Translate == 0 && a.Pixels == 0:
		return fmt.Sprintf("rotate:deg=%g", a.Degrees)
	case a.Degrees == 0 && a.Pixels > 0:
		return fmt.Sprintf("translate:px=%g", a.Pixels)
	case a.Degrees == 0:
		return fmt.Sprintf("translate:frac=%g", a.Translate)
	case a.Pixels > 0:
		return fmt.Sprintf("affine:deg=%g,px=%g", a.Degrees, a.Pixels)
	}
	return fmt.Sprintf("affine:deg=%g,frac=%g", a.Degrees, a.Translate)
}

// Cutout (DeVries & Taylor 2017, "Improved Regularization of Convolutional Neural
// Networks with Cutout") zeroes N squares of side Size in every channel, each centered on
// a uniformly drawn pixel (center row, then column) and clipped at the borders, so a
// square may be partly outside the image as in the paper. The paper uses 16 px on
// CIFAR-10 (8 on CIFAR-100).
type Cutout struct {
	Size int
	// N is the number of squares; 0 means 1.
	N int
}

// Apply implements Transform.
func (co Cutout) Apply(x []float32, shape []int, r *rng.Stream) {
	c, h, w := chw("Cutout", x, shape)
	n := max(co.N, 1)
	for k := 0; k < n; k++ {
		cy, cx := r.IntN(h), r.IntN(w)
		y0, y1 := max(cy-co.Size/2, 0), min(cy-co.Size/2+co.Size, h)
		x0, x1 := max(cx-co.Size/2, 0), min(cx-co.Size/2+co.Size, w)
		for p := 0; p < c; p++ {
			for y := y0; y < y1; y++ {
				clear(x[p*h*w+y*w+x0 : p*h*w+y*w+x1])
			}
		}
	}
}

func (co Cutout) String() string {
	if co.N > 1 {
		return fmt.Sprintf("cutout:size=%d,n=%d", co.Size, co.N)
	}
	return fmt.Sprintf("cutout:size=%d", co.Size)
}
