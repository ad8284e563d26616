package recipe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/zoo"
)

// Transfer makes a recipe a fine-tuning run: the model starts from pretrained weights
// (a zoo entry or a model file), gets a fresh classifier for the target's classes, and
// trains only what the strategy says, at per-layer-group learning rates. It is part of
// the recipe, so checkpoints and model files keep it and a resumed run freezes the same
// parameters.
type Transfer struct {
	// From is "zoo:NAME" (zoo.Open) or a safetensors model file: a temper model file
	// (its metadata give the architecture, classes, input shape and normalization) or a
	// PyTorch state dict (then model.name says the architecture, e.g. resnet18).
	From string `json:"from"`
	// SHA256 of the source's weights file; when set, a source with other weights is an
	// error (resume and re-runs use the weights they started from).
	SHA256 string `json:"sha256,omitempty"`
	// Strategy: "head" (train the classifier only), "last:K" (also the last K layer
	// groups), "full" (everything, at discriminative rates: lr_slice [lr/10, lr] unless
	// lr_slice or layer_decay is given), "fastai" (fastai's fine_tune: FreezeEpochs of
	// the head at lr, then all layers for Epochs at slice(lr/200, lr/2)), "probe" (a
	// linear classifier on cached features of the frozen body), or "custom" (FreezeTo and
	// Freeze as given). fastai and probe run through Finetune.
	Strategy string `json:"strategy"`
	// FreezeTo freezes the first FreezeTo layer groups (nn.LayerGroups); Freeze freezes
	// the parameters matching the patterns (nn.MatchName). Used by "custom" (and added
	// to the other strategies).
	FreezeTo int      `json:"freeze_to,omitempty"`
	Freeze   []string `json:"freeze,omitempty"`
	// TrainBN keeps BatchNorm γ and β of the frozen part trainable (fastai's train_bn);
	// running statistics of frozen BN layers are never updated either way.
	TrainBN bool `json:"train_bn,omitempty"`
	// LRSlice [lo, hi] spreads the learning rate geometrically over the layer groups,
	// lo for the first, hi for the head (fastai's slice(lo, hi)); it replaces optim.lr.
	LRSlice []float64 `json:"lr_slice,omitempty"`
	// LayerDecay D in (0, 1] gives layer group i of L+1 groups lr·D^(L−i) (timm's layer-wise
	// decay); 0 is off.
	LayerDecay float64 `json:"layer_decay,omitempty"`
	// KeepHead loads the source's classifier too (same classes only); by default the
	// classifier is new (freshly initialized for the target's classes).
	KeepHead bool `json:"keep_head,omitempty"`
	// AllowPartial accepts a load that misses tensors or has unexpected ones (reported);
	// by default the load is strict. ReinitMismatched keeps the fresh initialization of
	// tensors whose shape differs (reported) instead of failing.
	AllowPartial     bool `json:"allow_partial,omitempty"`
	ReinitMismatched bool `json:"reinit_mismatched,omitempty"`
	// FreezeEpochs is the fastai strategy's head-only phase (default 1).
	FreezeEpochs int `json:"freeze_epochs,omitempty"`
}

// Strategies are the fine-tuning strategies (last:K takes K).
var Strategies = []string{"probe", "head", "last:K", "full", "fastai", "custom"}

// TransferReport is what Build did with the pretrained weights: the load report, the
// stem adaptation, what was frozen and the learning rate of every layer group.
type TransferReport struct {
	From       string                 `json:"from"`
	SHA256     string                 `json:"sha256"`
	Strategy   string                 `json:"strategy"`
	Load       *checkpoint.LoadReport `json:"load"`
	Frozen     []string               `json:"frozen_groups"`
	FrozenBN   int                    `json:"frozen_batchnorm"`
	FrozenVals int                    `json:"frozen_values"`
	Groups     []GroupLR              `json:"groups"`
	Norm       string                 `json:"normalization"`
}

// GroupLR is one layer group's learning rate.
type GroupLR struct {
	Name      string  `json:"name"`
	LR        float64 `json:"lr"`
	Params    int     `json:"params"`
	Trainable bool    `json:"trainable"`
}

// Write prints the report: the load report's lines, the frozen part and the rates.
func (t *TransferReport) Write(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprintf(w, "transfer: from %s (sha256 %.12s…), strategy %s, normalization %s\n", t.From, t.SHA256, t.Strategy, t.Norm)
	if t.Load != nil {
		t.Load.Write(w)
	}
	fmt.Fprintf(w, "freeze: %d layer groups frozen (%s), %d values, %d BatchNorm layers in inference mode\n",
		len(t.Frozen), strings.Join(t.Frozen, ", "), t.FrozenVals, t.FrozenBN)
	var parts []string
	for _, g := range t.Groups {
		if g.Trainable {
			parts = append(parts, fmt.Sprintf("%s %.3g", g.Name, g.LR))
		} else {
			parts = append(parts, g.Name+" frozen")
		}
	}
	fmt.Fprintf(w, "lr per layer group: %s\n", strings.Join(parts, ", "))
}

func (t *Transfer) validate(r Recipe) error {
	switch {
	case strings.TrimSpace(t.From) == "":
		return rangeErr("transfer.from", `""`, "(zoo:NAME or a model file)")
	case t.FreezeTo < 0:
		return rangeErr("transfer.freeze_to", t.FreezeTo, "[0, layer groups]")
	case t.FreezeEpochs < 0:
		return rangeErr("transfer.freeze_epochs", t.FreezeEpochs, "[0, ∞)")
	case t.LayerDecay != 0 && !(t.LayerDecay > 0 && t.LayerDecay <= 1):
		return rangeErr("transfer.layer_decay", t.LayerDecay, "(0, 1] (0 = off)")
	case t.LRSlice != nil && (len(t.LRSlice) != 2 || !(t.LRSlice[0] > 0) || !(t.LRSlice[1] >= t.LRSlice[0]) || !finite(t.LRSlice[1])):
		return rangeErr("transfer.lr_slice", fmt.Sprint(t.LRSlice), "[lo, hi] with 0 < lo <= hi")
	case t.LRSlice != nil && t.LayerDecay != 0:
		return invalidf("recipe: transfer.lr_slice and transfer.layer_decay both set; give one")
	}
	if _, err := parseStrategy(t.Strategy); err != nil {
		return err
	}
	if r.Optim.SecondOrder() {
		return invalidf("recipe: transfer needs a first-order optimizer (optim %s)", r.Optim.Name)
	}
	return nil
}

// parseStrategy returns K of "last:K" (0 for the other strategies).
func parseStrategy(s string) (int, error) {
	if k, ok := strings.CutPrefix(s, "last:"); ok {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 {
			return 0, rangeErr("transfer.strategy", fmt.Sprintf("%q", s), "last:K with K >= 1 layer groups")
		}
		return n, nil
	}
	if !slices.Contains(Strategies, s) || s == "last:K" {
		return 0, rangeErr("transfer.strategy", fmt.Sprintf("%q", s), fmt.Sprint(Strategies))
	}
	return 0, nil
}

// source is an opened pretrained model: its weights file and what its metadata say.
type source struct {
	file    *checkpoint.File
	sha256  string
	arch    string // "" for a file without temper metadata
	inShape []int
	classes []string
	norm    *data.Normalization // nil: unknown
}

// ImageNetNormalization is the mean and std torchvision's pretrained weights expect.
var ImageNetNormalization = data.Normalization{Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}

// openWeights reads a model file or a zoo entry (checksum checked) and its SHA-256.
func openWeights(from string) (*checkpoint.File, string, error) {
	if strings.HasPrefix(from, zoo.Prefix) {
		reg, err := zoo.Open()
		if err != nil {
			return nil, "", err
		}
		e, err := reg.Get(from)
		if err != nil {
			return nil, "", err
		}
		b, err := e.WeightsFile()
		if err != nil {
			return nil, "", err
		}
		f, err := checkpoint.Parse(from, b)
		return f, e.SHA256, err
	}
	if st, err := os.Stat(from); err == nil && st.IsDir() {
		from = filepath.Join(from, ModelFile)
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return nil, "", &checkpoint.FileError{File: from, Err: err}
	}
	f, err := checkpoint.Parse(from, b)
	return f, zoo.SHA256(b), err
}

func (t *Transfer) open() (*source, error) {
	f, sum, err := openWeights(t.From)
	if err != nil {
		return nil, err
	}
	if t.SHA256 != "" && t.SHA256 != sum {
		return nil, fmt.Errorf("recipe: transfer.from %s has weights with SHA-256 %s, the recipe was made with %s", t.From, sum, t.SHA256)
	}
	s := &source{file: f, sha256: sum}
	if raw, ok := f.Meta[metaRecipe]; ok {
		r, err := Parse([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.From, err)
		}
		s.arch = r.Model.Name
		var norm data.Normalization
		for key, dst := range map[string]any{metaClasses: &s.classes, metaInput: &s.inShape, metaNorm: &norm} {
			if err := json.Unmarshal([]byte(f.Meta[key]), dst); err != nil {
				return nil, fmt.Errorf("%s: metadata %s: %v: %w", t.From, key, err, ErrNotModel)
			}
		}
		s.norm = &norm
	}
	return s, nil
}

// normFor is the source's normalization adapted to the target's channel count: one
// channel from several averages their means and stds; several from one repeat it.
func (s *source) normFor(channels int) (data.Normalization, string) {
	n := ImageNetNormalization
	what := "ImageNet's (the source has no temper metadata)"
	if s.norm != nil {
		n, what = *s.norm, "the source's"
	}
	if len(n.Mean) == channels {
		return n, fmt.Sprintf("%s mean %v std %v", what, fmtFloats(n.Mean), fmtFloats(n.Std))
	}
	out := data.Normalization{Mean: make([]float64, channels), Std: make([]float64, channels)}
	if channels == 1 {
		for c := range n.Mean {
			out.Mean[0] += n.Mean[c] / float64(len(n.Mean))
			out.Std[0] += n.Std[c] / float64(len(n.Std))
		}
	} else {
		for c := range out.Mean {
			out.Mean[c], out.Std[c] = n.Mean[c%len(n.Mean)], n.Std[c%len(n.Std)]
		}
	}
	return out, fmt.Sprintf("%s adapted from %d to %d channels: mean %v std %v", what, len(n.Mean), channels, fmtFloats(out.Mean), fmtFloats(out.Std))
}

func fmtFloats(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, strconv.FormatFloat(x, 'g', 4, 64))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// adaptStem returns the Adapt function of the load: the first convolution's weight
// (O, Cs, k, k) of the source becomes (O, Ct, k, k) for the target — for Ct = 1 the sum
// over the source's channels, otherwise the source's channels repeated cyclically and
// scaled by Cs/Ct (timm's adapt_input_conv) — so that a constant image gives the same
// pre-activation.
func adaptStem(m nn.Module) func(string, *tensor.Tensor, []int) (*tensor.Tensor, string) {
	ps := nn.Params(m)
	if len(ps) == 0 {
		return nil
	}
	stem := ps[0].Name
	return func(name string, w *tensor.Tensor, want []int) (*tensor.Tensor, string) {
		ws := w.Shape()
		if name != stem || len(ws) != 4 || len(want) != 4 || ws[0] != want[0] || ws[2] != want[2] || ws[3] != want[3] {
			return nil, ""
		}
		o, cs, ct, k := ws[0], ws[1], want[1], ws[2]*ws[3]
		src := w.Contiguous().Data()
		out := make([]float32, o*ct*k)
		for i := 0; i < o; i++ {
			for c := 0; c < ct; c++ {
				dst := out[(i*ct+c)*k : (i*ct+c+1)*k]
				if ct == 1 {
					for s := 0; s < cs; s++ {
						for j, v := range src[(i*cs+s)*k : (i*cs+s+1)*k] {
							dst[j] += v
						}
					}
					continue
				}
				for j, v := range src[(i*cs+c%cs)*k : (i*cs+c%cs+1)*k] {
					dst[j] = v * float32(cs) / float32(ct)
				}
			}
		}
		how := fmt.Sprintf("stem adapted from %d to %d input channels (repeated, scaled by %d/%d)", cs, ct, cs, ct)
		if ct == 1 {
			how = fmt.Sprintf("stem adapted from %d to 1 input channel (kernels summed)", cs)
		}
		return tensor.FromSlice(out, want...), how
	}
}

// applyTransfer loads the source into m (new head unless KeepHead, stem adapted), then
// freezes what the strategy says. classes is the target's number of classes.
func (r Recipe) applyTransfer(m nn.Module, src *source, classes int) (*TransferReport, error) {
	t := r.Transfer
	if src.arch != "" && src.arch != r.Model.Name {
		return nil, fmt.Errorf("recipe: %s holds a %s, the recipe's model is %s (weights for another architecture)", t.From, src.arch, r.Model.Name)
	}
	opt := checkpoint.LoadOptions{NonStrict: t.AllowPartial, ReinitMismatched: t.ReinitMismatched, Adapt: adaptStem(m)}
	if !t.KeepHead {
		if head := checkpoint.HeadPrefix(m); head != "" {
			opt.Skip = []string{head}
		}
	}
	rep, err := checkpoint.LoadInto(m, src.file, opt)
	if err != nil {
		var le *checkpoint.LoadError
		if t.KeepHead && errors.As(err, &le) && len(src.classes) > 0 && len(src.classes) != classes {
			return nil, fmt.Errorf("recipe: %s: %w; the source has %d classes, the target %d: drop transfer.keep_head (--keep-head) for a new classifier", t.From, err, len(src.classes), classes)
		}
		return nil, fmt.Errorf("recipe: %s: %w", t.From, err)
	}
	tr := &TransferReport{From: t.From, SHA256: src.sha256, Strategy: t.Strategy, Load: rep}
	groups := nn.LayerGroups(m)
	freezeTo := t.FreezeTo
	switch k, _ := parseStrategy(t.Strategy); {
	case t.Strategy == "head" || t.Strategy == "probe" || t.Strategy == "fastai":
		freezeTo = max(freezeTo, len(groups)-1)
	case k > 0:
		if k > len(groups)-1 {
			return nil, invalidf("recipe: transfer.strategy %s: the model has %d layer groups below its head (%s)", t.Strategy, len(groups)-1, groupList(groups))
		}
		freezeTo = max(freezeTo, len(groups)-1-k)
	}
	fr, err := nn.Freeze(m, nn.FreezeConfig{Patterns: t.Freeze, Groups: freezeTo, TrainBN: t.TrainBN})
	if err != nil {
		return nil, invalid(fmt.Errorf("recipe: transfer: %w", err))
	}
	for _, g := range groups[:freezeTo] {
		tr.Frozen = append(tr.Frozen, g.Name)
	}
	tr.FrozenBN, tr.FrozenVals = len(fr.BatchNorm), fr.Values
	return tr, nil
}

func groupList(gs []nn.LayerGroup) string {
	var n []string
	for _, g := range gs {
		n = append(n, g.Name)
	}
	return strings.Join(n, ", ")
}

// groupLRs returns each layer group's learning rate: optim.lr everywhere, or the
// geometric lr_slice spread (group i of L+1: lo·(hi/lo)^(i/L)), or lr·D^(L−i) with
// layer_decay; full without either uses lr_slice [lr/10, lr].
func (r Recipe) groupLRs(n int) []float64 {
	lr := make([]float64, n)
	t := r.Transfer
	sl := []float64(nil)
	if t != nil {
		sl = t.LRSlice
		if sl == nil && t.LayerDecay == 0 && t.Strategy == "full" {
			sl = []float64{r.Optim.LR / 10, r.Optim.LR}
		}
	}
	last := float64(max(n-1, 1))
	for i := range lr {
		switch {
		case sl != nil:
			lr[i] = sl[0] * math.Pow(sl[1]/sl[0], float64(i)/last)
		case t != nil && t.LayerDecay != 0:
			lr[i] = r.Optim.LR * math.Pow(t.LayerDecay, float64(n-1-i))
		default:
			lr[i] = r.Optim.LR
		}
	}
	if n == 1 && sl != nil {
		lr[0] = sl[1]
	}
	return lr
}

// paramGroups returns the optimizer's groups: one per layer group for a transfer run
// (frozen parameters left out, groups with nothing to train dropped), else one group of
// every unfrozen parameter at optim.lr.
func (r Recipe) paramGroups(m nn.Module) ([]*optim.Group, []GroupLR) {
	toParam := func(p nn.NamedParam) optim.Param {
		return optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad}
	}
	if r.Transfer == nil {
		var params []optim.Param
		for _, p := range nn.TrainableParams(m) {
			params = append(params, toParam(p))
		}
		return []*optim.Group{{Params: params, LR: r.Optim.LR, WeightDecay: r.Optim.WeightDecay}}, nil
	}
	lgs := nn.LayerGroups(m)
	lrs := r.groupLRs(len(lgs))
	var groups []*optim.Group
	var info []GroupLR
	byGroup := make([][]optim.Param, len(lgs))
	var rest []optim.Param
	count := make([]int, len(lgs))
	for _, p := range nn.Params(m) {
		gi := slices.IndexFunc(lgs, func(g nn.LayerGroup) bool { return g.Has(p.Name) })
		if gi >= 0 {
			count[gi] += p.Value.Len()
		}
		if p.Frozen {
			continue
		}
		if gi < 0 {
			rest = append(rest, toParam(p))
			continue
		}
		byGroup[gi] = append(byGroup[gi], toParam(p))
	}
	for i, g := range lgs {
		info = append(info, GroupLR{Name: g.Name, LR: lrs[i], Params: count[i], Trainable: len(byGroup[i]) > 0})
		if len(byGroup[i]) > 0 {
			groups = append(groups, &optim.Group{Params: byGroup[i], LR: lrs[i], WeightDecay: r.Optim.WeightDecay})
		}
	}
	if len(rest) > 0 { // parameters outside every layer group train at the head's rate
		groups = append(groups, &optim.Group{Params: rest, LR: lrs[len(lrs)-1], WeightDecay: r.Optim.WeightDecay})
	}
	return groups, info
}

// normalization is the per-channel normalization of a run: the training split's
// statistics, or the transfer source's for data.normalize "source".
func (r Recipe) normalization(train *data.InMemory) (data.Normalization, error) {
	if r.Data.Normalize != "source" {
		return data.ComputeNormalization(train), nil
	}
	src, err := r.Transfer.open()
	if err != nil {
		return data.Normalization{}, err
	}
	n, _ := src.normFor(train.Shape()[0])
	return n, nil
}

// buildModel builds the run's model: the recipe's architecture, initialized from the
// seed, then for a transfer recipe loaded from the source and frozen.
func (r Recipe) buildModel(s *Splits, st streams, opts Options) (nn.Module, *TransferReport, error) {
	if opts.model != nil {
		return opts.model, nil, nil
	}
	m, err := r.Model.build(s.Train.Shape(), s.Train.Classes(), st.init)
	if err != nil || r.Transfer == nil {
		return m, nil, err
	}
	if r.Transfer.Strategy == "fastai" || r.Transfer.Strategy == "probe" {
		return nil, nil, invalidf("recipe: transfer.strategy %s runs in phases: use recipe.Finetune", r.Transfer.Strategy)
	}
	src, err := r.Transfer.open()
	if err != nil {
		return nil, nil, err
	}
	tr, err := r.applyTransfer(m, src, s.Train.Classes())
	if err != nil {
		return nil, nil, err
	}
	_, tr.Groups = r.paramGroups(m)
	tr.Norm = r.Data.Normalize
	if r.Data.Normalize == "source" {
		_, tr.Norm = src.normFor(s.Train.Shape()[0])
	}
	if opts.Log != nil {
		tr.Write(opts.Log)
	}
	return m, tr, nil
}
