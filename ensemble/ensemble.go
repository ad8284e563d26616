// Package ensemble combines several models into one predictor: independent ensembles,
// snapshot ensembles, and the manifests that list their members.
//
// Use: load an ensemble folder written by training (recipe.Ensemble, recipe.Snapshot or
// by hand with SaveMember and Manifest.Write) and evaluate or predict with it:
//
//	e, man, err := ensemble.Load("runs/ens", nil, ensemble.Config{})
//	rep, err := e.Evaluate(testSet) // each member, their mean, and the ensemble
//	probs, err := e.Predict(x)      // averaged class probabilities of a batch
//
// or score members' logits directly with Score (see its Example).
//
// Two ways to buy accuracy with more than one set of weights live here:
//
//   - Independent ensembles: K members trained from different seeds (optionally with
//     different hyperparameters), their predicted probabilities averaged (Ensemble).
//     Run and Plan train members in parallel (on internal/workpool) with a thread split
//     that keeps every member bit-identical to its run alone; MemberBytes,
//     AvailableMemory and MaxParallel cap the parallelism by memory. An ensemble of K
//     models costs K trainings.
//   - Snapshot ensembles (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for
//     free", arXiv:1704.00109): one run with a cosine schedule with warm restarts (SGDR,
//     Loshchilov & Hutter 2017, SnapshotSchedule); the model at the end of each cycle,
//     where the learning rate is near zero and the weights sit in a local minimum, is
//     saved (Snapshots) and the last M snapshots are ensembled — at the training cost of
//     one model.
//
// Weight averaging (Polyak/EMA, SWA with its learning rate and batch-norm refresh) is
// package average: trainer callbacks with checkpointed state. An averaged model saved
// with SaveAveraged can be a member like any other.
//
// Members and snapshots are safetensors files listed by a manifest (ensemble.json) with
// relative paths and SHA-256 checksums, so an ensemble folder can be moved and reloaded
// (Load) and a missing or altered member is a clear error.
package ensemble

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Combine is how an Ensemble turns its members' outputs into one prediction.
type Combine int

const (
	// Probabilities averages the members' softmax probabilities:
	// p(y|x) = (1/K) Σ_k softmax(z_k(x))_y. It is the default and what Huang et al.
	// 2017 and most of the ensemble literature use.
	Probabilities Combine = iota
	// Logits averages the logits and applies the softmax: p = softmax((1/K) Σ_k z_k),
	// a geometric mean of the members' probabilities (renormalized).
	Logits
	// Vote predicts the class most members predict (majority vote); ties go to the class
	// with the larger mean probability. Votes carry no calibrated probability, so the
	// NLL of a vote is NaN.
	Vote
)

var combineNames = []string{"probabilities", "logits", "vote"}

// String returns "probabilities", "logits" or "vote".
func (c Combine) String() string {
	if c >= 0 && int(c) < len(combineNames) {
		return combineNames[c]
	}
	return fmt.Sprintf("Combine(%d)", int(c))
}

// ParseCombine maps "probabilities" (or "prob", "mean"), "logits" and "vote" to a Combine.
func ParseCombine(s string) (Combine, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "probabilities", "probs", "prob", "mean", "":
		return Probabilities, nil
	case "logits", "logit":
		return Logits, nil
	case "vote", "majority":
		return Vote, nil
	}
	return 0, fmt.Errorf("ensemble: combine %q unknown (want one of %v)", s, combineNames)
}

// Config configures an Ensemble. The zero value averages probabilities and evaluates in
// batches of 1000.
type Config struct {
	// Combine is the rule of combination; default Probabilities.
	Combine Combine
	// BatchSize of the forward passes in Evaluate and Predict; 0 means 1000.
	BatchSize int
}

// Ensemble is a set of models predicting together. The members are used in evaluation
// mode (New sets it; dropout off, batch norm on its running statistics) and must accept
// the same input and produce logits over the same classes.
type Ensemble struct {
	Members []nn.Module
	// Names label the members in reports ("member-0", "snapshot-3", ...).
	Names []string
	cfg   Config
	tape  *ag.Tape
}

// New returns an ensemble of members (at least one). names may be nil (members are then
// called "0", "1", ...) or must have one name per member.
func New(members []nn.Module, names []string, cfg Config) (*Ensemble, error) {
	if len(members) == 0 {
		return nil, errors.New("ensemble: no members")
	}
	if cfg.Combine < Probabilities || cfg.Combine > Vote {
		return nil, fmt.Errorf("ensemble: combine %d out of range [0, %d]", int(cfg.Combine), int(Vote))
	}
	if cfg.BatchSize < 0 {
		return nil, fmt.Errorf("ensemble: batch size %d out of range [1, ∞)", cfg.BatchSize)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 1000
	}
	if names == nil {
		for i := range members {
			names = append(names, fmt.Sprint(i))
		}
	}
	if len(names) != len(members) {
		return nil, fmt.Errorf("ensemble: %d names for %d members", len(names), len(members))
	}
	for i, m := range members {
		if m == nil {
			return nil, fmt.Errorf("ensemble: member %d (%s) is nil", i, names[i])
		}
		nn.SetTraining(m, false)
	}
	return &Ensemble{Members: members, Names: names, cfg: cfg, tape: ag.NewTape()}, nil
}

// Config returns the resolved configuration.
func (e *Ensemble) Config() Config { return e.cfg }

// logits runs member m on x (shape [n, example...]) and returns its [n·classes] logits,
// copied into dst (allocated when nil) and the number of classes. A shape mismatch inside
// the member becomes an error.
func (e *Ensemble) logits(m nn.Module, x *tensor.Tensor, dst []float32) (out []float32, classes int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ensemble: forward pass: %v", r)
		}
	}()
	tp := e.tape
	prev := tp.SetNoGrad(true)
	defer tp.SetNoGrad(prev)
	tp.Reset()
	defer tp.Reset()
	z := m.Forward(tp.Const(x)).Value.Contiguous()
	s := z.Shape()
	if len(s) != 2 || s[0] != x.Shape()[0] {
		return nil, 0, fmt.Errorf("ensemble: member output shape %v, want [%d, classes]", s, x.Shape()[0])
	}
	if dst == nil {
		dst = make([]float32, z.Len())
	}
	if len(dst) != z.Len() {
		return nil, 0, fmt.Errorf("ensemble: member predicts %d classes, want %d", s[1], len(dst)/s[0])
	}
	copy(dst, z.Data())
	return dst, s[1], nil
}

// Logits returns every member's logits on ds: out[k] holds member k's [N·classes] row-
// major logits, and labels the N labels.
func (e *Ensemble) Logits(ds data.Dataset) (out [][]float32, labels []int, err error) {
	if ds == nil || ds.Len() == 0 {
		return nil, nil, errors.New("ensemble: empty dataset")
	}
	n, c := ds.Len(), ds.Classes()
	labels = make([]int, 0, n)
	out = make([][]float32, len(e.Members))
	for k := range out {
		out[k] = make([]float32, n*c)
	}
	l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: e.cfg.BatchSize}, rng.New(0))
	if err != nil {
		return nil, nil, fmt.Errorf("ensemble: %w", err)
	}
	defer l.Close()
	off := 0
	for b := range l.Batches() {
		for k, m := range e.Members {
			if _, _, err := e.logits(m, b.X, out[k][off*c:(off+b.N)*c]); err != nil {
				return nil, nil, fmt.Errorf("%w (member %s; the dataset has %d classes)", err, e.Names[k], c)
			}
		}
		labels = append(labels, b.Y...)
		off += b.N
	}
	return out, labels, nil
}

// Predict returns the ensemble's class probabilities for x (shape [n, example...]) as an
// [n, classes] tensor, combined by the configured rule (for Vote: the fraction of
// members voting for each class, the winner of a tie raised by 1e-9 so that the argmax is
// the vote's decision).
func (e *Ensemble) Predict(x *tensor.Tensor) (*tensor.Tensor, error) {
	n := x.Shape()[0]
	var all [][]float32
	c := 0
	for k, m := range e.Members {
		var dst []float32
		if c > 0 {
			dst = make([]float32, n*c)
		}
		z, got, err := e.logits(m, x, dst)
		if err != nil {
			return nil, fmt.Errorf("%w (member %s)", err, e.Names[k])
		}
		c = got
		all = append(all, z)
	}
	out := tensor.New(n, c)
	p := make([]float64, c)
	od := out.Data()
	for i := 0; i < n; i++ {
		combineRow(e.cfg.Combine, all, i, c, p)
		for j := range p {
			od[i*c+j] = float32(p[j])
		}
	}
	return out, nil
}

// Metrics are accuracy and mean negative log-likelihood (natural log) on a dataset.
type Metrics struct {
	Accuracy float64 `json:"accuracy"`
	NLL      float64 `json:"nll"`
}

// Report is the evaluation of an ensemble on a dataset.
type Report struct {
	// N is the number of examples.
	N int
	// Names and Members are each member's name and metrics.
	Names   []string
	Members []Metrics
	// MemberMean is the average of the members' metrics (what one model gets, on average).
	MemberMean Metrics
	// Ensemble is the ensemble with the configured Combine rule.
	Ensemble Metrics
	// ByCombine holds the ensemble under every rule, indexed by Combine.
	ByCombine [3]Metrics
}

// Evaluate runs every member on ds and returns per-member, mean-of-members and ensemble
// accuracy and NLL. The NLL of the ensemble is −log of the combined probability of the
// true label, −(1/N) Σ_i log p(y_i|x_i), in float64; probabilities are clamped to 1e-12
// below so a confident mistake costs at most 27.6 nats instead of +Inf.
func (e *Ensemble) Evaluate(ds data.Dataset) (*Report, error) {
	all, labels, err := e.Logits(ds)
	if err != nil {
		return nil, err
	}
	return Score(all, labels, ds.Classes(), e.Names, e.cfg.Combine), nil
}

// minProb is the floor of a probability inside a log-likelihood.
const minProb = 1e-12

// Score computes the Report from member logits (each [N·classes], row-major) and labels.
func Score(all [][]float32, labels []int, classes int, names []string, comb Combine) *Report {
	n, c := len(labels), classes
	r := &Report{N: n, Names: names, Members: make([]Metrics, len(all))}
	p := make([]float64, c)
	for k, z := range all {
		var nll float64
		correct := 0
		for i, y := range labels {
			softmaxRow(z[i*c:(i+1)*c], p)
			nll -= math.Log(max(p[y], minProb))
			if argmax(p) == y {
				correct++
			}
		}
		r.Members[k] = Metrics{Accuracy: float64(correct) / float64(n), NLL: nll / float64(n)}
		r.MemberMean.Accuracy += r.Members[k].Accuracy / float64(len(all))
		r.MemberMean.NLL += r.Members[k].NLL / float64(len(all))
	}
	for rule := Probabilities; rule <= Vote; rule++ {
		var nll float64
		correct := 0
		for i, y := range labels {
			combineRow(rule, all, i, c, p)
			nll -= math.Log(max(p[y], minProb))
			if argmax(p) == y {
				correct++
			}
		}
		m := Metrics{Accuracy: float64(correct) / float64(n), NLL: nll / float64(n)}
		if rule == Vote {
			m.NLL = math.NaN()
		}
		r.ByCombine[rule] = m
	}
	r.Ensemble = r.ByCombine[comb]
	return r
}

// combineRow writes the combined prediction for example i into p (len classes).
func combineRow(rule Combine, all [][]float32, i, c int, p []float64) {
	clear(p)
	k := float64(len(all))
	switch rule {
	case Logits:
		for _, z := range all {
			for j, v := range z[i*c : (i+1)*c] {
				p[j] += float64(v) / k
			}
		}
		softmax64(p)
	case Vote:
		q := make([]float64, c)
		mean := make([]float64, c)
		for _, z := range all {
			softmaxRow(z[i*c:(i+1)*c], q)
			for j, v := range q {
				mean[j] += v / k
			}
			p[argmax(q)]++
		}
		// Break ties by the mean probability: add less than one vote's worth.
		best := 0
		for j := range p {
			if p[j] > p[best] || (p[j] == p[best] && mean[j] > mean[best]) {
				best = j
			}
		}
		for j := range p {
			p[j] /= k
		}
		if best != argmax(p) { // a tie resolved in favour of a later class
			p[best] += 1e-9
		}
	default:
		q := make([]float64, c)
		for _, z := range all {
			softmaxRow(z[i*c:(i+1)*c], q)
			for j, v := range q {
				p[j] += v / k
			}
		}
	}
}

// softmaxRow writes softmax(z) into p in float64 (max-subtracted).
func softmaxRow(z []float32, p []float64) {
	for j, v := range z {
		p[j] = float64(v)
	}
	softmax64(p)
}

func softmax64(p []float64) {
	m := math.Inf(-1)
	for _, v := range p {
		m = max(m, v)
	}
	var s float64
	for j, v := range p {
		p[j] = math.Exp(v - m)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
}

// argmax returns the first index of the largest value.
func argmax(p []float64) int {
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}
