package augment

import (
	"errors"
	"strings"

	"github.com/temperml/temper/internal/spec"
	"github.com/temperml/temper/rng"
)

// ErrSpec is wrapped by every *SpecError.
var ErrSpec = errors.New("augment: bad spec")

// SpecError reports a malformed SPEC: the byte position (0-based) and text of the
// offending fragment and what was wanted there. Its message gives the column:
//
//	augment "crop:pad=x": at column 10: want an integer in [0, 2^20] for pad, got "x"
type SpecError struct {
	Spec     string
	Pos      int
	Fragment string // "" for a missing token, e.g. at the end
	Msg      string
}

func (e *SpecError) Error() string { return spec.Format("augment", e.Spec, e.Pos, e.Msg) }

// Caret returns the spec and, under it, a line marking the fragment with '^~~', for
// printing below the error on a terminal.
func (e *SpecError) Caret() string { return spec.Caret(e.Spec, e.Pos, e.Pos+len(e.Fragment)) }

// Unwrap returns ErrSpec.
func (e *SpecError) Unwrap() error { return ErrSpec }

func specError(e *spec.Error) *SpecError {
	return &SpecError{Spec: e.Spec, Pos: e.Pos, Fragment: e.Fragment(), Msg: e.Msg}
}

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

// syntax is the SPEC grammar's lexical shape: ops end at '+', a name at ':', a key at
// '=' or ',', a value at ','; nothing is skipped or case-folded; bare keys are flags.
var syntax = &spec.Syntax{
	Grammar:  "augment",
	Name:     spec.Not(":+"),
	Key:      spec.Not("=,+"),
	Value:    spec.Not(",+"),
	Flags:    true,
	NameWant: "an op name (" + opNames + ")",
}

const opNames = "flip, crop, jitter, rcrop, rotate, translate, affine, cutout, mixup or cutmix"

// Parse parses a SPEC such as "flip:h+crop:pad=4+jitter:b=0.2,c=0.2" or
// "crop:pad=2+rotate:deg=10". Errors are *SpecError values pointing at the bad fragment.
func Parse(src string) (*Pipeline, error) {
	p, err := parse(syntax.Scanner(src))
	if err != nil {
		return nil, specError(err)
	}
	return p, nil
}

func parse(s *spec.Scanner) (*Pipeline, *spec.Error) {
	if strings.TrimSpace(s.Src()) == "" {
		return nil, s.Errorf(0, len(s.Src()), "empty spec: want ops joined by '+', e.g. flip:h+crop:pad=4")
	}
	p := &Pipeline{}
	for {
		t, err := s.Term()
		if err != nil {
			return nil, err
		}
		if err := p.add(s.Opts(t)); err != nil {
			return nil, err
		}
		if !s.Accept('+') {
			break
		}
	}
	if !s.AtEnd() { // cannot happen: names and values stop only at '+'
		return nil, s.Unexpected("'+' or the end of the spec")
	}
	return p, nil
}

// add builds the op of r's term and appends it to p.
func (p *Pipeline) add(r *spec.Opts) *spec.Error {
	build, ok := ops[r.Term().Name]
	if !ok {
		r.FailName("unknown op %q: want %s", r.Term().Name, opNames)
		return r.Err()
	}
	t, bt := build(r)
	if err := r.Finish(); err != nil {
		return err
	}
	switch {
	case bt != nil && p.Batch != nil:
		r.FailTerm("only one batch-level op (mixup or cutmix) per spec")
	case bt != nil:
		p.Batch = bt
	case p.Batch != nil:
		r.FailTerm("per-example op after the batch-level op %s (put mixup/cutmix last)", p.Batch.String())
	default:
		p.Steps = append(p.Steps, t)
	}
	return r.Err()
}

// ops maps each op name to its builder, which returns a per-example or a batch-level op.
var ops = map[string]func(*spec.Opts) (Transform, BatchTransform){
	"flip":        func(r *spec.Opts) (Transform, BatchTransform) { return flipOp(r), nil },
	"crop":        func(r *spec.Opts) (Transform, BatchTransform) { return cropOp(r), nil },
	"jitter":      func(r *spec.Opts) (Transform, BatchTransform) { return jitterOp(r), nil },
	"rcrop":       func(r *spec.Opts) (Transform, BatchTransform) { return resizedCropOp(r), nil },
	"resizedcrop": func(r *spec.Opts) (Transform, BatchTransform) { return resizedCropOp(r), nil },
	"rotate":      func(r *spec.Opts) (Transform, BatchTransform) { return rotateOp(r), nil },
	"translate":   func(r *spec.Opts) (Transform, BatchTransform) { return translateOp(r), nil },
	"affine":      func(r *spec.Opts) (Transform, BatchTransform) { return affineOp(r), nil },
	"cutout":      func(r *spec.Opts) (Transform, BatchTransform) { return cutoutOp(r), nil },
	"mixup": func(r *spec.Opts) (Transform, BatchTransform) {
		return nil, Mixup{Alpha: r.Float("alpha", 0.2, spec.OpenClosed(0, 1000))}
	},
	"cutmix": func(r *spec.Opts) (Transform, BatchTransform) {
		return nil, CutMix{Alpha: r.Float("alpha", 1, spec.OpenClosed(0, 1000))}
	},
}

const maxPixels = 1 << 20 // bound on pixel counts (pad, px, size)

func flipOp(r *spec.Opts) Transform {
	f := Flip{Horizontal: r.Flag("h"), Vertical: r.Flag("v"), P: r.Float("p", 0.5, spec.OpenClosed(0, 1))}
	if !f.Horizontal && !f.Vertical {
		f.Horizontal = true
	}
	return f
}

var padModes = map[string]PadMode{"zero": ZeroPad, "constant": ZeroPad, "reflect": ReflectPad, "edge": EdgePad, "replicate": EdgePad}

func cropOp(r *spec.Opts) Transform {
	pad := r.Int("pad", 4, 0, maxPixels)
	mode := r.Choice("mode", "zero", "reflect", "edge", "constant", "replicate")
	return Crop{Pad: pad, Mode: padModes[mode]}
}

// float2 reads an option with a short and a long name (b or brightness) in [0, hi].
func float2(r *spec.Opts, short, long string, hi float64) float64 {
	key := short
	if s, l := r.Get(short), r.Get(long); l != nil {
		key = long
		if s != nil {
			r.Fail(l, "%s and %s are the same option: give one", short, long)
		}
	}
	return r.Float(key, 0, spec.Closed(0, hi))
}

func jitterOp(r *spec.Opts) Transform {
	j := Jitter{
		Brightness: float2(r, "b", "brightness", 10),
		Contrast:   float2(r, "c", "contrast", 10),
		Saturation: float2(r, "s", "saturation", 10),
		Hue:        float2(r, "h", "hue", 0.5),
	}
	if j == (Jitter{}) {
		r.FailTerm("jitter needs at least one of b, c, s, h > 0")
	}
	return j
}

func resizedCropOp(r *spec.Opts) Transform {
	rc := ResizedCrop{
		ScaleMin: r.Float("smin", 0.08, spec.OpenClosed(0, 1)),
		ScaleMax: r.Float("smax", 1, spec.OpenClosed(0, 1)),
		RatioMin: r.Float("rmin", 0.75, spec.OpenClosed(0, 100)),
		RatioMax: r.Float("rmax", 4.0/3, spec.OpenClosed(0, 100)),
	}
	if rc.ScaleMin > rc.ScaleMax || rc.RatioMin > rc.RatioMax {
		r.FailTerm("rcrop wants smin <= smax and rmin <= rmax")
	}
	return rc
}

func rotateOp(r *spec.Opts) Transform {
	r.Need("deg", "D (a number in (0, 180])")
	return Affine{Degrees: r.Float("deg", 0, spec.OpenClosed(0, 180))}
}

func translateOp(r *spec.Opts) Transform {
	a := Affine{Translate: r.Float("frac", 0, spec.Closed(0, 1)), Pixels: r.Float("px", 0, spec.Closed(0, maxPixels))}
	if (a.Translate == 0) == (a.Pixels == 0) {
		r.FailTerm("translate wants exactly one of px=P or frac=F (> 0)")
	}
	return a
}

func affineOp(r *spec.Opts) Transform {
	a := Affine{
		Degrees:   r.Float("deg", 0, spec.Closed(0, 180)),
		Translate: r.Float("frac", 0, spec.Closed(0, 1)),
		Pixels:    r.Float("px", 0, spec.Closed(0, maxPixels)),
	}
	switch {
	case a.Translate > 0 && a.Pixels > 0:
		r.FailTerm("affine wants px or frac, not both")
	case a == (Affine{}):
		r.FailTerm("affine needs deg, px or frac > 0")
	}
	return a
}

func cutoutOp(r *spec.Opts) Transform {
	r.Need("size", "S (an integer in [1, 2^20])")
	return Cutout{Size: r.Int("size", 0, 1, maxPixels), N: r.Int("n", 1, 1, 1000)}
}
