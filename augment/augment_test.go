package augment_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/ag/gradcheck"
	"github.com/temperml/temper/augment"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/loss"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// image returns a (c, h, w) example with values in [0, 1] that are all different.
func image(seed uint64, c, h, w int) []float32 {
	x := make([]float32, c*h*w)
	rng.New(seed).Uniform(x, 0.05, 0.95)
	return x
}

func TestFlip(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // (1, 2, 3)
	shape := []int{1, 2, 3}
	for _, c := range []struct {
		f    augment.Flip
		want []float32
	}{
		{augment.Flip{Horizontal: true, P: 1}, []float32{3, 2, 1, 6, 5, 4}},
		{augment.Flip{Vertical: true, P: 1}, []float32{4, 5, 6, 1, 2, 3}},
		{augment.Flip{Horizontal: true, Vertical: true, P: 1}, []float32{6, 5, 4, 3, 2, 1}},
	} {
		y := slices.Clone(x)
		c.f.Apply(y, shape, rng.New(1))
		if !slices.Equal(y, c.want) {
			t.Errorf("%s: got %v, want %v", c.f, y, c.want)
		}
	}
	// P = 0.5: about half the examples are flipped.
	r := rng.New(2)
	flipped := 0
	for i := 0; i < 2000; i++ {
		y := slices.Clone(x)
		augment.Flip{Horizontal: true}.Apply(y, shape, r)
		if y[0] == 3 {
			flipped++
		}
	}
	if flipped < 900 || flipped > 1100 {
		t.Errorf("flipped %d of 2000, want about 1000", flipped)
	}
}

// TestCropShifts: every crop is the image shifted by (dy, dx) in [−pad, pad] with the
// padding filled by the mode; all shifts occur.
func TestCropShifts(t *testing.T) {
	const h, w, pad = 5, 6, 2
	x := image(1, 2, h, w)
	shape := []int{2, h, w}
	for _, mode := range []augment.PadMode{augment.ZeroPad, augment.ReflectPad, augment.EdgePad} {
		r := rng.New(3)
		seen := map[[2]int]bool{}
		for k := 0; k < 300; k++ {
			y := slices.Clone(x)
			augment.Crop{Pad: pad, Mode: mode}.Apply(y, shape, r)
			// Find the shift from an interior pixel match.
			found := false
			for dy := -pad; dy <= pad && !found; dy++ {
				for dx := -pad; dx <= pad && !found; dx++ {
					ok := true
					for c := 0; c < 2 && ok; c++ {
						for i := 0; i < h && ok; i++ {
							for j := 0; j < w && ok; j++ {
								si, sj := i+dy, j+dx
								got := y[c*h*w+i*w+j]
								if si >= 0 && si < h && sj >= 0 && sj < w {
									ok = got == x[c*h*w+si*w+sj]
								} else if mode == augment.ZeroPad {
									ok = got == 0
								} else if mode == augment.EdgePad {
									ok = got == x[c*h*w+min(max(si, 0), h-1)*w+min(max(sj, 0), w-1)]
								}
							}
						}
					}
					if ok {
						found = true
						seen[[2]int{dy, dx}] = true
					}
				}
			}
			if !found {
				t.Fatalf("%v: crop %d is no shift of the image", mode, k)
			}
		}
		if len(seen) != (2*pad+1)*(2*pad+1) {
			t.Errorf("%v: saw %d of %d shifts", mode, len(seen), (2*pad+1)*(2*pad+1))
		}
	}
}

func TestJitter(t *testing.T) {
	// Grayscale: saturation and hue are ignored; brightness/contrast keep values in [0, 1].
	g := image(4, 1, 6, 6)
	y := slices.Clone(g)
	augment.Jitter{Saturation: 0.9, Hue: 0.5}.Apply(y, []int{1, 6, 6}, rng.New(1))
	if !slices.Equal(y, g) {
		t.Error("saturation/hue changed a grayscale image")
	}
	r := rng.New(2)
	changed := 0
	for k := 0; k < 50; k++ {
		y := slices.Clone(g)
		augment.Jitter{Brightness: 0.5, Contrast: 0.5}.Apply(y, []int{1, 6, 6}, r)
		for i, v := range y {
			if v < 0 || v > 1 {
				t.Fatalf("value %v out of [0, 1]", v)
			}
			if v != g[i] {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("brightness/contrast never changed the image")
	}
	// Color: saturation and hue change colors but keep them in range; a gray RGB image
	// is unchanged by saturation and hue.
	c := image(5, 3, 4, 4)
	r = rng.New(3)
	y = slices.Clone(c)
	augment.Jitter{Brightness: 0.3, Contrast: 0.3, Saturation: 0.5, Hue: 0.2}.Apply(y, []int{3, 4, 4}, r)
	if slices.Equal(y, c) {
		t.Error("color jitter changed nothing")
	}
	grayRGB := make([]float32, 3*16)
	for i := 0; i < 16; i++ {
		v := float32(i) / 20
		grayRGB[i], grayRGB[16+i], grayRGB[32+i] = v, v, v
	}
	y = slices.Clone(grayRGB)
	augment.Jitter{Saturation: 0.9, Hue: 0.4}.Apply(y, []int{3, 4, 4}, rng.New(1))
	for i := range y {
		if math.Abs(float64(y[i]-grayRGB[i])) > 1e-6 {
			t.Fatalf("gray RGB changed by saturation/hue: %v vs %v", y[i], grayRGB[i])
		}
	}
}

func TestResizedCrop(t *testing.T) {
	x := image(6, 2, 7, 9)
	// Scale 1 and ratio 9/7: the only window is the whole image, resized to itself.
	y := slices.Clone(x)
	augment.ResizedCrop{ScaleMin: 1, ScaleMax: 1, RatioMin: 9.0 / 7, RatioMax: 9.0 / 7}.Apply(y, []int{2, 7, 9}, rng.New(1))
	for i := range x {
		if math.Abs(float64(y[i]-x[i])) > 1e-6 {
			t.Fatalf("full-window resized crop is not the identity at %d: %v vs %v", i, y[i], x[i])
		}
	}
	// Random crops stay within the input's range (bilinear interpolation is convex).
	lo, hi := slices.Min(x), slices.Max(x)
	r := rng.New(2)
	for k := 0; k < 50; k++ {
		y := slices.Clone(x)
		augment.ResizedCrop{}.Apply(y, []int{2, 7, 9}, r)
		for _, v := range y {
			if v < lo-1e-6 || v > hi+1e-6 {
				t.Fatalf("value %v outside [%v, %v]", v, lo, hi)
			}
		}
	}
}

func TestAffineAndCutout(t *testing.T) {
	// A constant image rotated by a small angle stays constant at its center.
	x := make([]float32, 15*15)
	for i := range x {
		x[i] = 0.7
	}
	r := rng.New(4)
	for k := 0; k < 20; k++ {
		y := slices.Clone(x)
		augment.Affine{Degrees: 10}.Apply(y, []int{15, 15}, r)
		if math.Abs(float64(y[7*15+7]-0.7)) > 1e-6 {
			t.Fatalf("center %v, want 0.7", y[7*15+7])
		}
		y = slices.Clone(x)
		augment.Affine{Pixels: 2}.Apply(y, []int{1, 15, 15}, r)
		if math.Abs(float64(y[7*15+7]-0.7)) > 1e-6 {
			t.Fatalf("translated center %v, want 0.7", y[7*15+7])
		}
	}
	// Cutout zeroes at most size² pixels per channel, the same in every channel.
	c := image(7, 3, 10, 10)
	r = rng.New(5)
	for k := 0; k < 50; k++ {
		y := slices.Clone(c)
		augment.Cutout{Size: 4}.Apply(y, []int{3, 10, 10}, r)
		zeros := 0
		for i := 0; i < 100; i++ {
			z := y[i] == 0
			if z != (y[100+i] == 0) || z != (y[200+i] == 0) {
				t.Fatal("cutout differs across channels")
			}
			if z {
				zeros++
			}
		}
		if zeros == 0 || zeros > 16 {
			t.Fatalf("cutout zeroed %d pixels, want 1..16", zeros)
		}
	}
}

func TestShapePanics(t *testing.T) {
	defer func() {
		if _, ok := recover().(*tensor.ShapeError); !ok {
			t.Error("no *tensor.ShapeError panic for a bad shape")
		}
	}()
	augment.Flip{Horizontal: true}.Apply(make([]float32, 5), []int{1, 2, 3}, rng.New(1))
}

// TestDeterministic: every op gives the same output for the same stream, and the
// pipeline run by the data loader gives the same batches whatever the number of workers.
func TestDeterministic(t *testing.T) {
	p, err := augment.Parse("flip:h,v+crop:pad=3,mode=reflect+jitter:b=0.3,c=0.3,s=0.3,h=0.1+rcrop:smin=0.5+rotate:deg=15+translate:frac=0.1+cutout:size=3")
	if err != nil {
		t.Fatal(err)
	}
	x := image(8, 3, 12, 12)
	a, b := slices.Clone(x), slices.Clone(x)
	p.Transform(a, []int{3, 12, 12}, rng.New(9))
	p.Transform(b, []int{3, 12, 12}, rng.New(9))
	if !slices.Equal(a, b) {
		t.Fatal("pipeline not deterministic given the stream")
	}
	if slices.Equal(a, x) {
		t.Fatal("pipeline changed nothing")
	}
	const n = 40
	xs := make([]float32, 0, n*3*12*12)
	ys := make([]int, n)
	for i := 0; i < n; i++ {
		xs = append(xs, image(uint64(i), 3, 12, 12)...)
		ys[i] = i % 3
	}
	ds, err := data.NewInMemory(xs, ys, []int{3, 12, 12}, 3)
	if err != nil {
		t.Fatal(err)
	}
	run := func(workers int) []float32 {
		l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: 8, Shuffle: true, Workers: workers, Transform: p.Transform}, rng.New(3))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var out []float32
		for bt := range l.Batches() {
			out = append(out, bt.X.Data()...)
		}
		return out
	}
	if !slices.Equal(run(1), run(3)) {
		t.Error("augmented batches depend on the number of workers")
	}
}

func TestMixupAndCutMix(t *testing.T) {
	const n = 6
	x := tensor.FromSlice(image(1, n, 2, 4*4)[:n*2*16], n, 2, 4, 4)
	y := []int{0, 1, 2, 0, 1, 2}
	for _, op := range []augment.BatchTransform{augment.Mixup{Alpha: 0.4}, augment.CutMix{Alpha: 1}} {
		orig := x.Clone()
		xb := x.Clone()
		m := augment.NewMixing(op, rng.New(5))
		m.Apply(xb, y)
		yB, lam := m.Last()
		if yB == nil || !(lam >= 0 && lam <= 1) {
			t.Fatalf("%s: Last() = %v, %v", op, yB, lam)
		}
		// Recover the permutation from the labels' partners and check the mixing.
		od, xd := orig.Data(), xb.Data()
		inner := 32
		switch op.(type) {
		case augment.Mixup:
			// x_i = λ a_i + (1−λ) a_π(i) for some π consistent with yB.
			for i := 0; i < n; i++ {
				ok := false
				for j := 0; j < n && !ok; j++ {
					if y[j] != yB[i] {
						continue
					}
					ok = true
					for k := 0; k < inner; k++ {
						want := float32(lam)*od[i*inner+k] + float32(1-lam)*od[j*inner+k]
						if math.Abs(float64(xd[i*inner+k]-want)) > 1e-5 {
							ok = false
							break
						}
					}
				}
				if !ok {
					t.Fatalf("mixup: example %d is no λ-mix with a partner labelled %d", i, yB[i])
				}
			}
		case augment.CutMix:
			// The fraction of pixels that differ from the original is at most 1 − λ.
			for i := 0; i < n; i++ {
				diff := 0
				for k := 0; k < 16; k++ {
					if xd[i*inner+k] != od[i*inner+k] {
						diff++
					}
				}
				if float64(diff)/16 > 1-lam+1e-9 {
					t.Fatalf("cutmix: %d of 16 pixels changed, λ = %v", diff, lam)
				}
			}
		}
		// The loss with the mix equals λ·CE(y) + (1−λ)·CE(yB); Loss consumes the mix.
		tp := ag.NewTape()
		logits := tp.Const(randLogits(n, 3))
		got := m.Loss(logits, y).Value.Item()
		want := float32(lam)*loss.CrossEntropy(logits, y, 0).Value.Item() + float32(1-lam)*loss.CrossEntropy(logits, yB, 0).Value.Item()
		if math.Abs(float64(got-want)) > 1e-5 {
			t.Errorf("%s: mixed loss %v, want %v", op, got, want)
		}
		if plain := m.Loss(logits, y).Value.Item(); plain != loss.CrossEntropy(logits, y, 0).Value.Item() {
			t.Errorf("%s: second Loss call (evaluation) is %v, want plain cross-entropy", op, plain)
		}
	}
}

func randLogits(n, c int) *tensor.Tensor { return tensor.Randn(rng.New(77), n, c) }

func TestMixedCrossEntropyGradcheck(t *testing.T) {
	yA, yB := []int{0, 2, 1, 3}, []int{1, 2, 3, 0}
	for _, c := range []struct{ lam, eps float64 }{{0.7, 0}, {0.3, 0.1}, {1, 0}} {
		f := func(_ *ag.Tape, in []*ag.Var) *ag.Var {
			return augment.MixedCrossEntropySmoothed(in[0], yA, yB, c.lam, c.eps)
		}
		if err := gradcheck.Check(f, []*tensor.Tensor{randLogits(4, 5)}, gradcheck.Options{}); err != nil {
			t.Errorf("λ=%v ε=%v: %v", c.lam, c.eps, err)
		}
	}
	// λ = 1 is loss.CrossEntropy (with smoothing too).
	tp := ag.NewTape()
	z := tp.Const(randLogits(4, 5))
	a := augment.MixedCrossEntropySmoothed(z, yA, yB, 1, 0.1).Value.Item()
	b := loss.CrossEntropy(z, yA, 0.1).Value.Item()
	if math.Abs(float64(a-b)) > 1e-6 {
		t.Errorf("λ=1: %v, want %v", a, b)
	}
}

func TestBetaMean(t *testing.T) {
	r := rng.New(1)
	for _, c := range []struct{ a, b float64 }{{0.2, 0.2}, {1, 1}, {2, 5}} {
		s := 0.0
		const n = 20000
		for i := 0; i < n; i++ {
			v := augment.Beta(r, c.a, c.b)
			if v < 0 || v > 1 {
				t.Fatalf("Beta(%v, %v) = %v", c.a, c.b, v)
			}
			s += v
		}
		if m, want := s/n, c.a/(c.a+c.b); math.Abs(m-want) > 0.01 {
			t.Errorf("Beta(%v, %v) mean %v, want %v", c.a, c.b, m, want)
		}
	}
}

func TestParseValid(t *testing.T) {
	for _, c := range []struct{ spec, canon string }{
		{"flip:h+crop:pad=4+jitter:b=0.2,c=0.2", "flip:h+crop:pad=4+jitter:b=0.2,c=0.2"},
		{"crop:pad=2+rotate:deg=10", "crop:pad=2+rotate:deg=10"},
		{"flip", "flip:h"},
		{"flip:v,p=0.3", "flip:v,p=0.3"},
		{"crop:pad=4,mode=reflect+cutout:size=8+mixup:alpha=0.2", "crop:pad=4,mode=reflect+cutout:size=8+mixup:alpha=0.2"},
		{"jitter:brightness=0.4,hue=0.1", "jitter:b=0.4,h=0.1"},
		{"translate:px=2", "translate:px=2"},
		{"translate:frac=0.1+cutmix", "translate:frac=0.1+cutmix:alpha=1"},
		{"rcrop", "rcrop:smin=0.08,smax=1,rmin=0.75,rmax=1.33333"},
		{"affine:deg=5,px=1", "affine:deg=5,px=1"},
		{"mixup", "mixup:alpha=0.2"},
	} {
		p, err := augment.Parse(c.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
			continue
		}
		got := p.String()
		if !strings.HasPrefix(got, strings.Split(c.canon, "rmax=")[0]) {
			t.Errorf("Parse(%q).String() = %q, want %q", c.spec, got, c.canon)
		}
		if _, err := augment.Parse(got); err != nil {
			t.Errorf("canonical %q does not parse: %v", got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		spec string
		pos  int
		frag string
		msg  string
	}{
		{"", 0, "", "empty spec"},
		{"flip:h+crop:pad=x", 16, "x", `want an integer in [0, 2^20] for pad, got "x"`},
		{"flip:h++crop:pad=4", 7, "+", `want an op name`},
		{"flip:h+blur:r=2", 7, "blur", "unknown op"},
		{"crop:pad=4,mode=wrap", 16, "wrap", "zero|reflect|edge"},
		{"jitter:b=0.2,q=1", 13, "q=1", `no option "q" (it takes b, brightness, c, contrast`},
		{"jitter:h=0.7", 9, "0.7", "[0, 0.5]"},
		{"rotate", 0, "rotate", "needs deg="},
		{"rotate:deg=", 11, "", `want a value for option "deg", got the end`},
		{"crop:pad=4,pad=2", 11, "pad=2", "twice"},
		{"mixup+cutmix", 6, "cutmix", "only one batch-level"},
		{"mixup+flip:h", 6, "flip:h", "after the batch-level"},
		{"flip:", 5, "", "want an option name"},
		{"flip:h,", 7, "", "want an option name"},
		{"cutout:size=0", 12, "0", "[1,"},
		{"translate:px=1,frac=0.1", 0, "translate:px=1,frac=0.1", "exactly one"},
		{"flip:p=0", 7, "0", "(0, 1]"},
	} {
		_, err := augment.Parse(c.spec)
		var se *augment.SpecError
		if !errors.As(err, &se) || !errors.Is(err, augment.ErrSpec) {
			t.Errorf("Parse(%q) = %v, want a *SpecError", c.spec, err)
			continue
		}
		if se.Pos != c.pos || se.Fragment != c.frag || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("Parse(%q): pos %d fragment %q msg %q; want pos %d fragment %q msg containing %q",
				c.spec, se.Pos, se.Fragment, se.Msg, c.pos, c.frag, c.msg)
		}
		if !strings.Contains(err.Error(), "at column") {
			t.Errorf("error %q does not give the position", err)
		}
	}
}

// TestParseErrorMessages pins whole messages: the column (in characters, 1-based) of the
// offending fragment and the caret line under it.
func TestParseErrorMessages(t *testing.T) {
	for _, c := range []struct{ spec, msg, caret string }{
		{"flip:h+crop:pad=x", `augment "flip:h+crop:pad=x": at column 17: want an integer in [0, 2^20] for pad, got "x"`,
			"  flip:h+crop:pad=x\n                  ^"},
		{"flip:h+blur:r=2", `augment "flip:h+blur:r=2": at column 8: unknown op "blur": want flip, crop, jitter, rcrop, rotate, translate, affine, cutout, mixup or cutmix`,
			"  flip:h+blur:r=2\n         ^~~~"},
		{"flip:h+", `augment "flip:h+": at column 8 (end of spec): want an op name (flip, crop, jitter, rcrop, rotate, translate, affine, cutout, mixup or cutmix), got the end of the spec`,
			"  flip:h+\n         ^"},
		{"flip:x", `augment "flip:x": at column 6: flip has no option "x" (it takes h, v, p)`,
			"  flip:x\n       ^"},
		{"jitter:b=0.2,brightness=0.3", `augment "jitter:b=0.2,brightness=0.3": at column 14: b and brightness are the same option: give one`,
			"  jitter:b=0.2,brightness=0.3\n               ^~~~~~~~~~~~~~"},
		{"rcrop:smin=0.9,smax=0.5", `augment "rcrop:smin=0.9,smax=0.5": at column 1: rcrop wants smin <= smax and rmin <= rmax`,
			"  rcrop:smin=0.9,smax=0.5\n  ^~~~~~~~~~~~~~~~~~~~~~~"},
		{"crop:pad", `augment "crop:pad": at column 6: want an integer in [0, 2^20] for pad, got no value (write pad=...)`,
			"  crop:pad\n       ^~~"},
	} {
		_, err := augment.Parse(c.spec)
		var se *augment.SpecError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SpecError", c.spec, err)
			continue
		}
		if err.Error() != c.msg {
			t.Errorf("Parse(%q):\n got %s\nwant %s", c.spec, err, c.msg)
		}
		if se.Caret() != c.caret {
			t.Errorf("Parse(%q) caret:\n%s\nwant\n%s", c.spec, se.Caret(), c.caret)
		}
	}
}

// FuzzParse: Parse never panics; an accepted spec's canonical form parses to the same
// canonical form, and its pipeline runs on an image.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"flip:h+crop:pad=4+jitter:b=0.2,c=0.2", "crop:pad=2+rotate:deg=10", "mixup:alpha=0.4",
		"rcrop:smin=0.5,rmax=2", "cutout:size=3,n=2+cutmix", "translate:frac=0.1", "affine:deg=3,px=1", "flip:v,p=1", "+", ":,=", "jitter:hue=0.5",
		// the package doc's and Ops' examples
		"flip:h+crop:pad=4,mode=reflect+cutout:size=8+mixup:alpha=0.2", "flip:h,v,p=0.5", "crop:pad=4,mode=edge",
		"jitter:b=0.4,c=0.4,s=0.4,h=0.1", "rcrop:smin=0.08,smax=1,rmin=0.75,rmax=1.333", "affine:deg=5,frac=0.1",
		"cutout:size=8,n=1", "cutmix:alpha=1", "flip:h++crop", "crop:pad", "flip:h,h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := augment.Parse(spec)
		if err != nil {
			var se *augment.SpecError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SpecError", err)
			}
			if se.Pos < 0 || se.Pos+len(se.Fragment) > len(spec) || spec[se.Pos:se.Pos+len(se.Fragment)] != se.Fragment {
				t.Fatalf("error %v does not locate its fragment", err)
			}
			if !strings.Contains(err.Error(), "at column") {
				t.Fatalf("error %v gives no column", err)
			}
			return
		}
		canon := p.String()
		q, err := augment.Parse(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canon, spec, err)
		}
		if q.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, q.String())
		}
		x := image(1, 3, 8, 8)
		p.Transform(x, []int{3, 8, 8}, rng.New(1))
		for _, v := range x {
			if math.IsNaN(float64(v)) {
				t.Fatalf("%q produced NaN", spec)
			}
		}
	})
}
