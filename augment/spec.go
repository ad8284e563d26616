package augment

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/temperml/temper/rng"
)

// ErrSpec is wrapped by every *SpecError.
var ErrSpec = errors.New("augment: bad spec")

// SpecError reports a malformed SPEC: the byte position (0-based) and text of the
// offending fragment and what was expected.
type SpecError struct {
	Spec     string
	Pos      int
	Fragment string
	Msg      string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("augment: bad spec %q at byte %d (%q): %s", e.Spec, e.Pos, e.Fragment, e.Msg)
}

// Unwrap returns ErrSpec.
func (e *SpecError) Unwrap() error { return ErrSpec }

// Pipeline is a parsed SPEC: per-example transforms applied in order, then at most one
// batch-level transform (mixup or cutmix).
type Pipeline struct {
	Steps []Transform
	// Batch is the batch-level mixing op, nil if none (use with NewMixing).
	Batch BatchTransform
}

// Transform applies every step to one example in order: the function to set as
// data.LoaderConfig.Transform (see PerExample for a nil-when-empty variant).
func (p *Pipeline) Transform(x []float32, shape []int, r *rng.Stream) {
	for _, s := range p.Steps {
		s.Apply(x, shape, r)
	}
}

// PerExample returns p.Transform, or nil when there are no per-example steps (so a
// loader does not need a transform stream).
func (p *Pipeline) PerExample() func(x []float32, shape []int, r *rng.Stream) {
	if p == nil || len(p.Steps) == 0 {
		return nil
	}
	return p.Transform
}

// String returns the canonical SPEC of p (Parse(p.String()) is equivalent to p).
func (p *Pipeline) String() string {
	var parts []string
	for _, s := range p.Steps {
		parts = append(parts, s.String())
	}
	if p.Batch != nil {
		parts = append(parts, p.Batch.String())
	}
	return strings.Join(parts, "+")
}

// Ops lists the op names Parse accepts, with their options, for help texts.
const Ops = `flip:h|v[,p=0.5]            random horizontal and/or vertical flip (default h)
crop:pad=N[,mode=zero|reflect|edge]   pad N pixels and crop back at a random offset
jitter:b=,c=,s=,h=          color jitter: brightness, contrast, saturation, hue (<= 0.5)
rcrop:smin=0.08,smax=1,rmin=0.75,rmax=1.333   random resized crop (bilinear)
rotate:deg=D                random rotation in [-D, D] degrees (bilinear, zero fill)
translate:px=P | frac=F     random shift up to P pixels or F of the size (bilinear)
affine:deg=D,px=P|frac=F    rotation and translation together
cutout:size=S[,n=1]         zero S×S squares at random centers
mixup:alpha=0.2             batch-level: blend pairs of examples and their labels
cutmix:alpha=1              batch-level: paste a box from another example, mix labels`

type option struct {
	key, val string
	hasVal   bool
	pos      int // byte position of the option in the spec
	text     string
}

// Parse parses a SPEC such as "flip:h+crop:pad=4+jitter:b=0.2,c=0.2" or
// "crop:pad=2+rotate:deg=10". Errors are *SpecError values pointing at the bad fragment.
func Parse(spec string) (*Pipeline, error) {
	p := &Pipeline{}
	if strings.TrimSpace(spec) == "" {
		return nil, &SpecError{Spec: spec, Pos: 0, Fragment: spec, Msg: "empty spec (want ops joined by '+', e.g. flip:h+crop:pad=4)"}
	}
	pos := 0
	for _, part := range strings.Split(spec, "+") {
		start := pos
		pos += len(part) + 1
		fail := func(at int, frag, format string, a ...any) error {
			return &SpecError{Spec: spec, Pos: at, Fragment: frag, Msg: fmt.Sprintf(format, a...)}
		}
		if part == "" {
			return nil, fail(start, part, "empty op (two '+' in a row, or a '+' at an end)")
		}
		name, rest, hasOpts := strings.Cut(part, ":")
		var opts []option
		if hasOpts {
			if rest == "" {
				return nil, fail(start, part, "':' with no options after it")
			}
			opos := start + len(name) + 1
			for _, o := range strings.Split(rest, ",") {
				if o == "" {
					return nil, fail(opos, part, "empty option (stray ',')")
				}
				k, v, has := strings.Cut(o, "=")
				if k == "" {
					return nil, fail(opos, o, "option without a name")
				}
				if has && v == "" {
					return nil, fail(opos, o, "option %s has '=' but no value", k)
				}
				for _, prev := range opts {
					if prev.key == k {
						return nil, fail(opos, o, "option %s given twice", k)
					}
				}
				opts = append(opts, option{key: k, val: v, hasVal: has, pos: opos, text: o})
				opos += len(o) + 1
			}
		}
		b := &builder{name: name, opts: opts, fail: fail, start: start, part: part}
		var t Transform
		var bt BatchTransform
		switch name {
		case "flip":
			f := Flip{}
			f.Horizontal = b.flag("h")
			f.Vertical = b.flag("v")
			f.P = b.float("p", 0.5, 0, 1, false)
			if !f.Horizontal && !f.Vertical {
				f.Horizontal = true
			}
			t = f
		case "crop":
			c := Crop{Pad: b.int("pad", 4, 0, 1<<20)}
			switch m := b.word("mode", "zero"); m {
			case "zero", "constant":
				c.Mode = ZeroPad
			case "reflect":
				c.Mode = ReflectPad
			case "edge", "replicate":
				c.Mode = EdgePad
			default:
				b.bad("mode", "crop option mode wants zero, reflect or edge, not %q", m)
			}
			t = c
		case "jitter":
			t = Jitter{
				Brightness: b.float2("b", "brightness", 0, 0, 10),
				Contrast:   b.float2("c", "contrast", 0, 0, 10),
				Saturation: b.float2("s", "saturation", 0, 0, 10),
				Hue:        b.float2("h", "hue", 0, 0, 0.5),
			}
			if b.err == nil && t.(Jitter) == (Jitter{}) {
				b.err = fail(start, part, "jitter needs at least one of b, c, s, h > 0")
			}
		case "rcrop", "resizedcrop":
			rc := ResizedCrop{
				ScaleMin: b.float("smin", 0.08, 0, 1, false),
				ScaleMax: b.float("smax", 1, 0, 1, false),
				RatioMin: b.float("rmin", 0.75, 0, 100, false),
				RatioMax: b.float("rmax", 4.0/3, 0, 100, false),
			}
			if b.err == nil && (rc.ScaleMin > rc.ScaleMax || rc.RatioMin > rc.RatioMax) {
				b.err = fail(start, part, "rcrop wants smin <= smax and rmin <= rmax")
			}
			t = rc
		case "rotate":
			t = Affine{Degrees: b.floatReq("deg", 0, 180)}
		case "translate":
			a := Affine{Translate: b.float("frac", 0, 0, 1, true), Pixels: b.float("px", 0, 0, 1<<20, true)}
			if b.err == nil && (a.Translate == 0) == (a.Pixels == 0) {
				b.err = fail(start, part, "translate wants exactly one of px=P or frac=F (> 0)")
			}
			t = a
		case "affine":
			a := Affine{Degrees: b.float("deg", 0, 0, 180, true), Translate: b.float("frac", 0, 0, 1, true), Pixels: b.float("px", 0, 0, 1<<20, true)}
			if b.err == nil && a.Translate > 0 && a.Pixels > 0 {
				b.err = fail(start, part, "affine wants px or frac, not both")
			}
			if b.err == nil && a == (Affine{}) {
				b.err = fail(start, part, "affine needs deg, px or frac > 0")
			}
			t = a
		case "cutout":
			t = Cutout{Size: b.intReq("size", 1, 1<<20), N: b.int("n", 1, 1, 1000)}
		case "mixup":
			bt = Mixup{Alpha: b.float("alpha", 0.2, 0, 1000, false)}
		case "cutmix":
			bt = CutMix{Alpha: b.float("alpha", 1, 0, 1000, false)}
		default:
			return nil, fail(start, name, "unknown op %q (want flip, crop, jitter, rcrop, rotate, translate, affine, cutout, mixup or cutmix)", name)
		}
		if b.err == nil {
			b.leftovers()
		}
		if b.err != nil {
			return nil, b.err
		}
		if bt != nil {
			if p.Batch != nil {
				return nil, fail(start, part, "only one batch-level op (mixup or cutmix) per spec")
			}
			p.Batch = bt
			continue
		}
		if p.Batch != nil {
			return nil, fail(start, part, "per-example op after the batch-level op %s (put mixup/cutmix last)", p.Batch.String())
		}
		p.Steps = append(p.Steps, t)
	}
	return p, nil
}

// builder consumes an op's options, recording the first error.
type builder struct {
	name  string
	opts  []option
	used  []bool
	fail  func(at int, frag, format string, a ...any) error
	err   error
	start int
	part  string
}

func (b *builder) find(key string) (option, bool) {
	if b.used == nil {
		b.used = make([]bool, len(b.opts))
	}
	for i, o := range b.opts {
		if o.key == key {
			b.used[i] = true
			return o, true
		}
	}
	return option{}, false
}

func (b *builder) bad(key, format string, a ...any) {
	if b.err != nil {
		return
	}
	o, _ := b.find(key)
	b.err = b.fail(o.pos, o.text, format, a...)
}

func (b *builder) flag(key string) bool {
	o, ok := b.find(key)
	if !ok {
		return false
	}
	if o.hasVal && b.err == nil {
		switch o.val {
		case "1", "true", "yes":
			return true
		case "0", "false", "no":
			return false
		}
		b.err = b.fail(o.pos, o.text, "%s option %s is a flag (write it alone)", b.name, key)
	}
	return true
}

func (b *builder) word(key, def string) string {
	o, ok := b.find(key)
	if !ok {
		return def
	}
	if !o.hasVal && b.err == nil {
		b.err = b.fail(o.pos, o.text, "%s option %s needs a value (%s=...)", b.name, key, key)
	}
	return o.val
}

// float parses key in [lo, hi] (lo excluded unless loIncl); def when absent.
func (b *builder) float(key string, def, lo, hi float64, loIncl bool) float64 {
	o, ok := b.find(key)
	if !ok {
		return def
	}
	if b.err != nil {
		return def
	}
	rng := fmt.Sprintf("(%g, %g]", lo, hi)
	if loIncl {
		rng = fmt.Sprintf("[%g, %g]", lo, hi)
	}
	if !o.hasVal {
		b.err = b.fail(o.pos, o.text, "%s option %s needs a number in %s (%s=...)", b.name, key, rng, key)
		return def
	}
	v, err := strconv.ParseFloat(o.val, 64)
	if err != nil || math.IsNaN(v) || v > hi || v < lo || (!loIncl && v == lo) {
		b.err = b.fail(o.pos, o.text, "%s option %s wants a number in %s, not %q", b.name, key, rng, o.val)
		return def
	}
	return v
}

// float2 accepts a short or a long key.
func (b *builder) float2(short, long string, def, lo, hi float64) float64 {
	if _, ok := b.find(long); ok {
		if _, ok2 := b.find(short); ok2 && b.err == nil {
			o, _ := b.find(long)
			b.err = b.fail(o.pos, o.text, "%s options %s and %s are the same", b.name, short, long)
		}
		return b.float(long, def, lo, hi, true)
	}
	return b.float(short, def, lo, hi, true)
}

func (b *builder) floatReq(key string, lo, hi float64) float64 {
	if _, ok := b.find(key); !ok && b.err == nil {
		b.err = b.fail(b.start, b.part, "%s needs option %s=... (a number in (%g, %g])", b.name, key, lo, hi)
		return 0
	}
	return b.float(key, 0, lo, hi, false)
}

func (b *builder) int(key string, def, lo, hi int) int {
	o, ok := b.find(key)
	if !ok || b.err != nil {
		return def
	}
	if !o.hasVal {
		b.err = b.fail(o.pos, o.text, "%s option %s needs an integer in [%d, %d] (%s=...)", b.name, key, lo, hi, key)
		return def
	}
	v, err := strconv.Atoi(o.val)
	if err != nil || v < lo || v > hi {
		b.err = b.fail(o.pos, o.text, "%s option %s wants an integer in [%d, %d], not %q", b.name, key, lo, hi, o.val)
		return def
	}
	return v
}

func (b *builder) intReq(key string, lo, hi int) int {
	if _, ok := b.find(key); !ok && b.err == nil {
		b.err = b.fail(b.start, b.part, "%s needs option %s=... (an integer in [%d, %d])", b.name, key, lo, hi)
		return 0
	}
	return b.int(key, 0, lo, hi)
}

// leftovers reports the first option the op did not consume.
func (b *builder) leftovers() {
	if b.used == nil {
		b.used = make([]bool, len(b.opts))
	}
	for i, o := range b.opts {
		if !b.used[i] {
			b.err = b.fail(o.pos, o.text, "%s has no option %q", b.name, o.key)
			return
		}
	}
}
