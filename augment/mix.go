package augment

import (
	"fmt"
	"math"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// BatchTransform mixes the examples of a batch, which mixes their labels too.
type BatchTransform interface {
	// Mix transforms the batch x (N, ...) in place using partner example perm[i] for
	// example i, and returns the weight lam of the original labels: the target of example
	// i becomes lam·onehot(y[i]) + (1−lam)·onehot(y[perm[i]]).
	Mix(x *tensor.Tensor, perm []int, r *rng.Stream) (lam float64)
	String() string
}

// Mixup (Zhang, Cisse, Dauphin & Lopez-Paz 2018, "mixup: Beyond Empirical Risk
// Minimization", ICLR): with λ ~ Beta(α, α) drawn once per batch and a random permutation
// π of the batch, x_i ← λ·x_i + (1−λ)·x_π(i), target λ·y_i + (1−λ)·y_π(i). α = 0.2 is the
// paper's ImageNet value (0.2–0.4 work for CIFAR).
type Mixup struct {
	// Alpha > 0; 0 means 0.2.
	Alpha float64
}

func (m Mixup) alpha() float64 {
	if m.Alpha == 0 {
		return 0.2
	}
	return m.Alpha
}

// Mix implements BatchTransform.
func (m Mixup) Mix(x *tensor.Tensor, perm []int, r *rng.Stream) float64 {
	n, inner := batchGeom("Mixup", x, perm)
	lam := Beta(r, m.alpha(), m.alpha())
	// x_i ← λx_i + (1−λ)x_π(i) needs the originals of the partners: mix into a copy.
	b := getBuf(x.Len())
	src := *b
	d := x.Data()
	copy(src, d)
	l := float32(lam)
	for i := 0; i < n; i++ {
		dst := d[i*inner : (i+1)*inner]
		a, p := src[i*inner:(i+1)*inner], src[perm[i]*inner:(perm[i]+1)*inner]
		for k := range dst {
			dst[k] = l*a[k] + (1-l)*p[k]
		}
	}
	bufPool.Put(b)
	return lam
}

func (m Mixup) String() string { return fmt.Sprintf("mixup:alpha=%g", m.alpha()) }

// CutMix (Yun, Han, Oh, Chun, Choe & Yoo 2019, "CutMix: Regularization Strategy to Train
// Strong Classifiers with Localizable Features", ICCV): with λ ~ Beta(α, α), one box of
// size (H·√(1−λ), W·√(1−λ)) centered uniformly (row, then column; clipped at the
// borders) is pasted from example π(i) into example i, for the whole batch; λ is then
// corrected to the exact kept area 1 − box/(H·W), which weights the labels. α = 1 is the
// paper's default. Examples must be (C, H, W) (or (H, W)).
type CutMix struct {
	// Alpha > 0; 0 means 1.
	Alpha float64
}

func (m CutMix) alpha() float64 {
	if m.Alpha == 0 {
		return 1
	}
	return m.Alpha
}

// Mix implements BatchTransform.
func (m CutMix) Mix(x *tensor.Tensor, perm []int, r *rng.Stream) float64 {
	n, inner := batchGeom("CutMix", x, perm)
	s := x.Shape()
	var c, h, w int
	switch len(s) {
	case 3:
		c, h, w = 1, s[1], s[2]
	case 4:
		c, h, w = s[1], s[2], s[3]
	default:
		panic(&tensor.ShapeError{Op: "augment.CutMix", A: s, Msg: "want a batch shaped (N, C, H, W) or (N, H, W)"})
	}
	lam := Beta(r, m.alpha(), m.alpha())
	cut := math.Sqrt(1 - lam)
	bh, bw := int(float64(h)*cut), int(float64(w)*cut)
	cy, cx := r.IntN(h), r.IntN(w)
	y0, y1 := max(cy-bh/2, 0), min(cy+bh/2, h)
	x0, x1 := max(cx-bw/2, 0), min(cx+bw/2, w)
	if y1 <= y0 || x1 <= x0 {
		return 1
	}
	b := getBuf(x.Len())
	src := *b
	d := x.Data()
	copy(src, d)
	for i := 0; i < n; i++ {
		for p := 0; p < c; p++ {
			off, poff := i*inner+p*h*w, perm[i]*inner+p*h*w
			for y := y0; y < y1; y++ {
				copy(d[off+y*w+x0:off+y*w+x1], src[poff+y*w+x0:poff+y*w+x1])
			}
		}
	}
	bufPool.Put(b)
	return 1 - float64((y1-y0)*(x1-x0))/float64(h*w)
}

func (m CutMix) String() string { return fmt.Sprintf("cutmix:alpha=%g", m.alpha()) }

func batchGeom(op string, x *tensor.Tensor, perm []int) (n, inner int) {
	s := x.Shape()
	if len(s) < 1 || s[0] != len(perm) || !x.IsContiguous() {
		panic(&tensor.ShapeError{Op: "augment." + op, A: s, B: []int{len(perm)}, Msg: "want a contiguous batch and one partner index per example"})
	}
	n = s[0]
	if n == 0 {
		return 0, 0
	}
	return n, x.Len() / n
}

// Beta draws from the Beta(a, b) distribution as G_a/(G_a + G_b) with Gamma variates
// (Marsaglia & Tsang 2000; for shape < 1 the boost G_{k+1}·U^{1/k}).
func Beta(r *rng.Stream, a, b float64) float64 {
	x, y := gamma(r, a), gamma(r, b)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

func gamma(r *rng.Stream, k float64) float64 {
	if k < 1 {
		u := r.Float64()
		return gamma(r, k+1) * math.Pow(u, 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		z := r.NormFloat64()
		v := 1 + c*z
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*z*z*z*z || math.Log(u) < 0.5*z*z+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Mixing applies a BatchTransform to training batches and remembers the mixed labels for
// the loss. Wiring it into a training loop (the only two calls needed):
//
//	mix := augment.NewMixing(pipeline.Batch, rng.Split())   // once
//	cfg.Loss = mix.Loss                                     // train.Config.Loss
//	...
//	for each training batch b, before model.Forward:
//	    mix.Apply(b.X, b.Y)                                 // mixes b.X in place
//
// Loss then returns MixedCrossEntropy(logits, y, y[π], λ) for the batch just mixed and
// plain cross-entropy otherwise (evaluation batches, which are never mixed: Loss consumes
// the mix, so the next call without Apply is unmixed). Accuracy on mixed batches should
// be counted against y (the dominant labels for λ > 0.5 are not guaranteed; training
// accuracy is only indicative under mixing). A Mixing is not safe for concurrent use;
// call Apply on the training goroutine (it needs the whole batch, so it cannot run in
// the loader's per-example Transform).
type Mixing struct {
	Op   BatchTransform
	Rand *rng.Stream

	perm   []int
	yB     []int
	lam    float64
	active bool
	// Smoothing is label smoothing applied to both targets (0: none).
	Smoothing float64
}

// NewMixing returns a Mixing drawing permutations and λ from r. op may be nil (then Apply
// does nothing and Loss is plain cross-entropy).
func NewMixing(op BatchTransform, r *rng.Stream) *Mixing { return &Mixing{Op: op, Rand: r} }

// RandomStreams lets a checkpoint save the mixing stream.
func (m *Mixing) RandomStreams() []*rng.Stream { return []*rng.Stream{m.Rand} }

// Apply mixes the batch x (N, ...) with labels y in place and records (y[π], λ). It draws
// the permutation (Fisher–Yates, N−1 draws) and then the op's own numbers.
func (m *Mixing) Apply(x *tensor.Tensor, y []int) {
	m.active = false
	if m.Op == nil || len(y) < 2 {
		return
	}
	n := len(y)
	if cap(m.perm) < n {
		m.perm = make([]int, n)
		m.yB = make([]int, n)
	}
	m.perm, m.yB = m.perm[:n], m.yB[:n]
	for i := range m.perm {
		m.perm[i] = i
	}
	m.Rand.Shuffle(m.perm)
	m.lam = m.Op.Mix(x, m.perm, m.Rand)
	for i, p := range m.perm {
		m.yB[i] = y[p]
	}
	m.active = true
}

// Last returns the partner labels and λ of the last Apply (nil, 1 if none is pending).
func (m *Mixing) Last() (yB []int, lam float64) {
	if !m.active {
		return nil, 1
	}
	return m.yB, m.lam
}

// Loss is the training objective to use with Apply (train.Config.Loss's signature).
func (m *Mixing) Loss(logits *ag.Var, y []int) *ag.Var {
	if m.active && len(y) == len(m.yB) {
		m.active = false
		return MixedCrossEntropySmoothed(logits, y, m.yB, m.lam, m.Smoothing)
	}
	return MixedCrossEntropySmoothed(logits, y, y, 1, m.Smoothing)
}

// MixedCrossEntropy is the loss of mixup and cutmix: the mean over the batch of
//
//	λ·CE(z_i, yA_i) + (1−λ)·CE(z_i, yB_i) = −Σ_k t_ik log softmax(z_i)_k
//
// with the soft target t_i = λ·onehot(yA_i) + (1−λ)·onehot(yB_i) (the two forms are
// equal because cross-entropy is linear in the target). Gradient (softmax(z) − t)/n.
// λ = 1 is plain cross-entropy (loss.CrossEntropy).
func MixedCrossEntropy(logits *ag.Var, yA, yB []int, lam float64) *ag.Var {
	return MixedCrossEntropySmoothed(logits, yA, yB, lam, 0)
}

// MixedCrossEntropySmoothed adds label smoothing ε: t ← (1−ε)·t + ε/C.
func MixedCrossEntropySmoothed(logits *ag.Var, yA, yB []int, lam, smoothing float64) *ag.Var {
	s := logits.Value.Shape()
	if len(s) != 2 || s[0] != len(yA) || len(yA) != len(yB) {
		panic(&tensor.ShapeError{Op: "augment.MixedCrossEntropy", A: s, B: []int{len(yA), len(yB)}, Msg: "want logits (n, classes) and n labels in each of yA and yB"})
	}
	n, c := s[0], s[1]
	for i := range yA {
		if yA[i] < 0 || yA[i] >= c || yB[i] < 0 || yB[i] >= c {
			panic(&tensor.ShapeError{Op: "augment.MixedCrossEntropy", A: s, B: []int{i, yA[i], yB[i]}, Msg: fmt.Sprintf("label of example %d out of range [0, %d)", i, c)})
		}
	}
	t := ag.TapeOf(logits)
	logp := t.Empty(n, c)
	ag.LogSoftmaxRows(logp.Data(), logits.Value.Contiguous().Data(), n, c)
	lp := logp.Data()
	sum := 0.0
	for i := 0; i < n; i++ {
		row := lp[i*c : (i+1)*c]
		l := -(lam*float64(row[yA[i]]) + (1-lam)*float64(row[yB[i]]))
		if smoothing > 0 {
			all := 0.0
			for _, v := range row {
				all += float64(v)
			}
			l = (1-smoothing)*l - smoothing*all/float64(c)
		}
		sum += l
	}
	out := t.Empty()
	out.Data()[0] = float32(sum / float64(max(n, 1)))
	// The backward pass needs log p (Aux) and the labels and (λ, ε), packed into one
	// arena tensor [yA..., yB..., λ, ε] (labels are exact in float32 below 2^24).
	lab := t.Empty(2*n + 2)
	ld := lab.Data()
	for i := 0; i < n; i++ {
		ld[i], ld[n+i] = float32(yA[i]), float32(yB[i])
	}
	ld[2*n], ld[2*n+1] = float32(lam), float32(smoothing)
	v := t.Op(out, mixedCEBackward, logits, t.Const(lab))
	v.Aux = logp
	return v
}

func mixedCEBackward(o *ag.Var) {
	in := o.Inputs()
	x := in[0]
	if !x.RequiresGrad() {
		return
	}
	n, c := x.Value.Shape()[0], x.Value.Shape()[1]
	lp, ld := o.Aux.Data(), in[1].Value.Data()
	lam, eps := ld[2*n], ld[2*n+1]
	scale := o.Grad.Item() / float32(max(n, 1))
	dst, fresh := x.GradForWrite()
	d := dst.Data()
	for i := 0; i < n; i++ {
		ya, yb := int(ld[i]), int(ld[n+i])
		for j := 0; j < c; j++ {
			tj := eps / float32(c)
			if j == ya {
				tj += (1 - eps) * lam
			}
			if j == yb {
				tj += (1 - eps) * (1 - lam)
			}
			g := (float32(math.Exp(float64(lp[i*c+j]))) - tj) * scale
			if fresh {
				d[i*c+j] = g
			} else {
				d[i*c+j] += g
			}
		}
	}
}
