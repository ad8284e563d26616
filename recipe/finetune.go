package recipe

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/zoo"
)

// FinetuneLRFactor divides a from-scratch recipe's default learning rate for a
// fine-tuning recipe (the pretrained weights are near a good solution already).
const FinetuneLRFactor = 10

// FinetuneDefaults returns the default fine-tuning recipe from a pretrained model (from:
// "zoo:NAME" or a temper model file) onto a target data source with the given strategy:
// Default() with the data source and a transfer section, then WithFinetuneDefaults.
func FinetuneDefaults(from, target, strategy string) (Recipe, error) {
	r := Default()
	r.Data.Source = target
	r.Transfer = &Transfer{From: from, Strategy: strategy}
	return r.WithFinetuneDefaults(nil)
}

// WithFinetuneDefaults fills the defaults of a transfer recipe for the fields set does
// not contain (JSON paths, as WithDefaults): model.name the source's architecture,
// optim.lr the optimizer's default divided by FinetuneLRFactor (the pretrained weights
// are near a good solution already), data.normalize "source" (the pretrained model's
// statistics), transfer.freeze_epochs 1 for fastai, and the rest as WithDefaults. It
// records the source's SHA-256 and validates the result.
func (r Recipe) WithFinetuneDefaults(set map[string]bool) (Recipe, error) {
	if r.Transfer == nil {
		return r, invalidf("recipe: WithFinetuneDefaults needs a transfer section")
	}
	t := *r.Transfer
	r.Transfer = &t
	src, err := t.open()
	if err != nil {
		return r, err
	}
	if !set["model.name"] {
		if src.arch == "" {
			return r, invalidf("recipe: %s has no temper metadata (a PyTorch state dict?): give its architecture as model.name (--model), e.g. resnet18", t.From)
		}
		r.Model.Name = src.arch
	}
	if r, err = r.WithDefaults(set); err != nil {
		return r, err
	}
	if !set["optim.lr"] {
		r.Optim.LR /= FinetuneLRFactor
	}
	if !set["data.normalize"] {
		r.Data.Normalize = "source"
	}
	if t.Strategy == "fastai" && !set["transfer.freeze_epochs"] {
		t.FreezeEpochs = 1
	}
	t.SHA256 = src.sha256
	return r, r.Validate()
}

// FinetuneResult adds to Result what the phases of a fastai or probe run took.
type FinetuneResult struct {
	*Result
	// Phases are the fastai phases' results (head, then all layers); nil otherwise.
	Phases []*Result `json:"phases,omitempty"`
	// Probe: seconds spent computing features (0 when all came from the cache), seconds
	// training the classifier on them, and how many splits the cache served.
	FeatureSeconds float64 `json:"feature_seconds,omitempty"`
	HeadSeconds    float64 `json:"head_seconds,omitempty"`
	CacheHits      int     `json:"cache_hits,omitempty"`
}

// Finetune runs a transfer recipe to its end: Build and Fit for head, last:K, full and
// custom; for fastai the head phase (transfer.freeze_epochs at optim.lr) and then the
// whole model (epochs at lr_slice [lr/200, lr/2], fastai's fine_tune with base_lr/2 and
// lr_mult 100); for probe a linear classifier trained on features of the frozen body,
// computed once in evaluation mode and cached in cacheDir ("" : the user cache folder),
// keyed by the body's weights, the preprocessing and the data.
func Finetune(ctx context.Context, r Recipe, opts Options, cacheDir string) (*FinetuneResult, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Transfer == nil {
		return nil, invalidf("recipe: Finetune needs a transfer section")
	}
	s := opts.Splits
	if s == nil {
		var err error
		if s, err = r.LoadData(); err != nil {
			return nil, err
		}
		opts.Splits = s
	}
	switch r.Transfer.Strategy {
	case "fastai":
		return r.finetuneFastai(ctx, opts)
	case "probe":
		return r.finetuneProbe(ctx, opts, cacheDir)
	}
	run, err := r.Build(opts)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	res, err := run.Fit(ctx)
	return &FinetuneResult{Result: res}, err
}

func (r Recipe) finetuneFastai(ctx context.Context, opts Options) (*FinetuneResult, error) {
	p1 := r
	t1 := *r.Transfer
	t1.Strategy, p1.Transfer = "head", &t1
	p1.Epochs = max(t1.FreezeEpochs, 1)
	o1 := opts
	if opts.OutDir != "" {
		o1.OutDir = filepath.Join(opts.OutDir, "freeze")
		if err := os.MkdirAll(o1.OutDir, 0o755); err != nil {
			return nil, err
		}
	}
	noTest := *opts.Splits
	noTest.Test = nil
	o1.Splits = &noTest
	run1, err := p1.Build(o1)
	if err != nil {
		return nil, err
	}
	defer run1.Close()
	res1, err := run1.Fit(ctx)
	if err != nil {
		return nil, err
	}
	p2 := r
	t2 := *r.Transfer
	base := r.Optim.LR / 2
	t2.Strategy, t2.LRSlice, t2.LayerDecay, p2.Transfer = "full", []float64{base / 100, base}, 0, &t2
	nn.Unfreeze(run1.Model)
	o2 := opts
	o2.model = run1.Model
	run2, err := p2.Build(o2)
	if err != nil {
		return nil, err
	}
	defer run2.Close()
	rep := *run1.Transfer
	rep.Strategy, rep.Frozen, rep.FrozenBN, rep.FrozenVals = "fastai", nil, 0, 0
	_, rep.Groups = p2.paramGroups(run2.Model)
	run2.Transfer = &rep
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "fastai: head phase done (%d epochs), now all layers\n", p1.Epochs)
		rep.Write(opts.Log)
	}
	res2, err := run2.Fit(ctx)
	if err != nil {
		return nil, err
	}
	out := *res2
	out.TrainSeconds += res1.TrainSeconds
	out.Epochs += res1.Epochs
	out.Recipe = r
	return &FinetuneResult{Result: &out, Phases: []*Result{res1, res2}}, nil
}

func (r Recipe) finetuneProbe(ctx context.Context, opts Options, cacheDir string) (*FinetuneResult, error) {
	s := opts.Splits
	m, err := r.Model.build(s.Train.Shape(), s.Train.Classes(), r.streams().init)
	if err != nil {
		return nil, err
	}
	src, err := r.Transfer.open()
	if err != nil {
		return nil, err
	}
	tr, err := r.applyTransfer(m, src, s.Train.Classes())
	if err != nil {
		return nil, err
	}
	tr.Norm = r.Data.Normalize
	if r.Data.Normalize == "source" {
		_, tr.Norm = src.normFor(s.Train.Shape()[0])
	}
	body, head, err := nn.SplitHead(m)
	if err != nil {
		return nil, invalid(fmt.Errorf("recipe: transfer.strategy probe: %w", err))
	}
	if cacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(d, "temper", "features")
		} else {
			cacheDir = filepath.Join(os.TempDir(), "temper-features")
		}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	bodyKey := bodyHash(m, head, s.Norm)
	fr := &FinetuneResult{}
	start := time.Now()
	feats := &Splits{ClassNames: s.ClassNames, Name: s.Name + " (features)", Norm: identityNorm(1)}
	for _, p := range []struct {
		in  *data.InMemory
		out **data.InMemory
	}{{s.Train, &feats.Train}, {s.Val, &feats.Val}, {s.Test, &feats.Test}} {
		if p.in == nil {
			continue
		}
		f, hit, err := cachedFeatures(cacheDir, bodyKey, p.in, body, m, r.Threads)
		if err != nil {
			return nil, err
		}
		if hit {
			fr.CacheHits++
		}
		*p.out = f
	}
	fr.FeatureSeconds = time.Since(start).Seconds()
	hr := r
	hr.Transfer, hr.Augment, hr.Data.Normalize = nil, "none", "none"
	hopts := Options{Splits: feats, Callbacks: opts.Callbacks, Log: opts.Log, model: head}
	run, err := hr.Build(hopts)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	tr.Strategy = "probe"
	_, tr.Groups = r.paramGroups(m)
	if opts.Log != nil {
		tr.Write(opts.Log)
		fmt.Fprintf(opts.Log, "probe: features of %d examples in %.2fs (%d splits from the cache %s)\n", s.Train.Len(), fr.FeatureSeconds, fr.CacheHits, cacheDir)
	}
	res, err := run.Fit(ctx)
	if err != nil {
		return nil, err
	}
	fr.HeadSeconds = res.TrainSeconds
	// The result is the whole model (body + the trained classifier), evaluated as such.
	full := &Run{Recipe: r, Data: s, Model: m, Transfer: tr, opts: opts}
	out := full.newResult(res.Epochs, fr.FeatureSeconds+fr.HeadSeconds)
	out.Train = res.Train
	if err := full.evaluateFinal(out); err != nil {
		return nil, err
	}
	fr.Result = out
	if opts.OutDir != "" {
		if err := SaveModel(filepath.Join(opts.OutDir, ModelFile), m, r, s); err != nil {
			return nil, err
		}
		if err := WriteJSON(filepath.Join(opts.OutDir, SummaryFile), fr); err != nil {
			return nil, err
		}
	}
	return fr, nil
}

// bodyHash identifies the frozen body and the preprocessing: the state dict without
// the classifier, and the normalization.
func bodyHash(m nn.Module, head *nn.Linear, norm data.Normalization) string {
	h := sha256.New()
	skip := map[*tensor.Tensor]bool{head.Weight.Value: true}
	if head.Bias != nil {
		skip[head.Bias.Value] = true
	}
	var b [8]byte
	for _, t := range nn.StateDict(m) {
		if skip[t.T] {
			continue
		}
		h.Write([]byte(t.Name))
		for _, v := range t.T.Contiguous().Data() {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	fmt.Fprintf(h, "norm %v %v", norm.Mean, norm.Std)
	return hex.EncodeToString(h.Sum(nil))
}

// dataHash is the SHA-256 of a dataset's shape, values and labels.
func dataHash(d *data.InMemory) string {
	h := sha256.New()
	fmt.Fprintf(h, "%v %d %d|", d.Shape(), d.Classes(), d.Len())
	var b [8]byte
	for _, v := range d.X {
		binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
		h.Write(b[:4])
	}
	for _, y := range d.Y {
		binary.LittleEndian.PutUint64(b[:], uint64(y))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cachedFeatures returns body(d) in evaluation mode, from cacheDir when a file with the
// same key (body, preprocessing, data) is there, else computed and stored atomically.
func cachedFeatures(cacheDir, bodyKey string, d *data.InMemory, body func(*ag.Var) *ag.Var, m nn.Module, threads int) (*data.InMemory, bool, error) {
	key := zoo.SHA256([]byte(bodyKey + "|" + dataHash(d)))
	path := filepath.Join(cacheDir, key+".safetensors")
	if f, err := checkpoint.Load(path); err == nil {
		x, y := f.Tensors["features"], f.Tensors["labels"]
		if x != nil && y != nil && len(x.Shape()) == 2 && x.Shape()[0] == d.Len() && y.Len() == d.Len() {
			labels := make([]int, d.Len())
			for i, v := range y.Data() {
				labels[i] = int(v)
			}
			out, err := data.NewInMemory(x.Contiguous().Data(), labels, x.Shape()[1:], d.Classes())
			return out, err == nil, err
		}
	}
	nn.SetTraining(m, false)
	tp := ag.NewTape()
	tp.SetThreads(threads)
	tp.SetNoGrad(true)
	const batch = 500
	var xs []float32
	width := 0
	for lo := 0; lo < d.Len(); lo += batch {
		hi := min(lo+batch, d.Len())
		xt, _ := d.Tensor(lo, hi)
		tp.Reset()
		f := body(tp.Const(xt)).Value.Contiguous()
		width = f.Shape()[1]
		xs = append(xs, f.Data()...)
	}
	ys := make([]float32, d.Len())
	for i, y := range d.Y {
		ys[i] = float32(y)
	}
	out, err := data.NewInMemory(xs, append([]int(nil), d.Y...), []int{width}, d.Classes())
	if err != nil {
		return nil, false, err
	}
	err = checkpoint.Save(path, []checkpoint.Named{{Name: "features", T: tensor.FromSlice(xs, d.Len(), width)}, {Name: "labels", T: tensor.FromSlice(ys, d.Len())}},
		map[string]string{"format": "temper-features/1", "body": bodyKey})
	return out, false, err
}
