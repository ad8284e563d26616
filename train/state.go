package train

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/internal/fsafe"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/tensor"
)

// StateFile is the name of the training-state checkpoint inside an output folder.
const StateFile = "checkpoint.safetensors"

// MetricsFile is the name of the per-epoch JSONL metrics inside an output folder.
const MetricsFile = "metrics.jsonl"

const stateFormat = "temper-train-state/1"

func encodeStream(s *rng.Stream) (string, error) {
	b, err := s.MarshalBinary()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// SaveState writes the whole training state to dir/checkpoint.safetensors atomically:
// model parameters and buffers ("model.<name>"), optimizer state ("optim.<key>"), the
// tensors of every StatefulCallback ("cb.<key>.<name>"), and in the metadata the epoch,
// global step, random streams, plateau state, metrics history, whether a callback stopped
// the run, each StatefulCallback's metadata ("cb.<key>") and Config.Meta ("user.<key>").
// The group learning rates are stored for inspection only ("optim.lrs"; LoadState does
// not restore them: the schedule recomputes them from the global step).
func (t *Trainer) SaveState(dir string) error {
	var named []checkpoint.Named
	for _, e := range nn.StateDict(t.Model) {
		named = append(named, checkpoint.Named{Name: "model." + e.Name, T: e.T})
	}
	st := t.Optimizer.State()
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		named = append(named, checkpoint.Named{Name: "optim." + k, T: st[k]})
	}
	meta := map[string]string{
		"format":        stateFormat,
		"epoch":         strconv.Itoa(t.epoch),
		"global_step":   strconv.Itoa(t.globalStep),
		"train_seconds": strconv.FormatFloat(t.trainSecs, 'g', -1, 64),
	}
	var err error
	if meta["rng.loader"], err = encodeStream(t.rand); err != nil {
		return err
	}
	var streams []string
	for _, s := range t.streams() {
		e, err := encodeStream(s)
		if err != nil {
			return err
		}
		streams = append(streams, e)
	}
	var jsErr error
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil && jsErr == nil {
			jsErr = err
		}
		return string(b)
	}
	meta["rng.model"] = js(streams)
	var lrs []float64
	for _, g := range t.Optimizer.Groups() {
		lrs = append(lrs, g.LR)
	}
	meta["optim.lrs"] = js(lrs)
	meta["history"] = js(t.history)
	if p := schedule.FindPlateau(t.Config.Schedule); p != nil {
		meta["schedule.plateau"] = js(p.State())
	}
	for k, v := range t.Config.Meta {
		meta["user."+k] = v
	}
	if t.stopped {
		meta["stopped"] = "true"
	}
	for _, sc := range t.statefulCallbacks() {
		k := sc.StateKey()
		ts, m, err := sc.State()
		if err != nil {
			return fmt.Errorf("train: callback %q state: %w", k, err)
		}
		for _, e := range ts {
			named = append(named, checkpoint.Named{Name: "cb." + k + "." + e.Name, T: e.T})
		}
		meta["cb."+k] = m
	}
	if jsErr != nil {
		return fmt.Errorf("train: encode state: %w", jsErr)
	}
	return checkpoint.Save(filepath.Join(dir, StateFile), named, meta)
}

// ReadMeta returns the user metadata (Config.Meta) stored in dir's training state, so a
// caller can rebuild the same model and optimizer before LoadState.
func ReadMeta(dir string) (map[string]string, error) {
	info, err := ReadStateInfo(dir)
	if err != nil {
		return nil, err
	}
	return info.Meta, nil
}

// StateInfo is what a training state says about its run without loading it into a
// trainer.
type StateInfo struct {
	// Epoch is the number of completed epochs the state holds.
	Epoch int
	// NonFinite, if not empty, says that the run continued from this state stopped on a
	// non-finite loss (the NonFiniteError's message).
	NonFinite string
	// Stopped: a callback (early stopping) ended the run at Epoch.
	Stopped bool
	// Meta is the user metadata (Config.Meta).
	Meta map[string]string
}

// ReadStateInfo reads dir's training state and checks its metadata for consistency.
func ReadStateInfo(dir string) (*StateInfo, error) {
	path := filepath.Join(dir, StateFile)
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %w", err)
	}
	if f.Meta["format"] != stateFormat {
		return nil, fmt.Errorf("train: resume: %s is not a temper training state (format %q, want %q)",
			path, f.Meta["format"], stateFormat)
	}
	epoch, _, _, err := stateCounts(f)
	if err != nil {
		return nil, fmt.Errorf("train: resume from %s: %v", path, err)
	}
	info := &StateInfo{Epoch: epoch, NonFinite: f.Meta[nonFiniteKey], Stopped: f.Meta["stopped"] == "true", Meta: map[string]string{}}
	for k, v := range f.Meta {
		if strings.HasPrefix(k, "user.") {
			info.Meta[strings.TrimPrefix(k, "user.")] = v
		}
	}
	return info, nil
}

// nonFiniteKey marks a state whose run went on to a non-finite loss.
const nonFiniteKey = "stopped_nonfinite"

// stateCounts reads and cross-checks the epoch, global step and history of a state: the
// history holds one record per completed epoch, numbered 1..epoch, with non-decreasing
// global steps ending at global_step.
func stateCounts(f *checkpoint.File) (epoch, step int, hist []EpochRecord, err error) {
	epoch, err = strconv.Atoi(f.Meta["epoch"])
	if err != nil || epoch < 0 {
		return 0, 0, nil, fmt.Errorf("epoch: %q is not an epoch count", f.Meta["epoch"])
	}
	step, err = strconv.Atoi(f.Meta["global_step"])
	if err != nil || step < 0 {
		return 0, 0, nil, fmt.Errorf("global_step: %q is not a step count", f.Meta["global_step"])
	}
	if err := json.Unmarshal([]byte(f.Meta["history"]), &hist); err != nil {
		return 0, 0, nil, fmt.Errorf("history: %v", err)
	}
	if len(hist) != epoch {
		return 0, 0, nil, fmt.Errorf("metadata says epoch %d but the history holds %d epochs (edited or corrupt)", epoch, len(hist))
	}
	prev := 0
	for i, h := range hist {
		if h.Epoch != i+1 || h.GlobalStep < prev {
			return 0, 0, nil, fmt.Errorf("history record %d (epoch %d, global step %d) is out of order (edited or corrupt)", i+1, h.Epoch, h.GlobalStep)
		}
		prev = h.GlobalStep
	}
	if epoch > 0 && prev != step {
		return 0, 0, nil, fmt.Errorf("global_step %d, but the history ends at step %d (edited or corrupt)", step, prev)
	}
	return epoch, step, hist, nil
}

// MarkNonFinite records in dir's training state (if there is one) that the run going on
// from it stopped on a non-finite loss, so a resume may lower the learning rate
// (recipe.ResumeRecipe). The state itself is unchanged; the file is rewritten atomically.
func MarkNonFinite(dir string, cause error) error {
	path := filepath.Join(dir, StateFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	f, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	named := make([]checkpoint.Named, len(f.Names))
	for i, n := range f.Names {
		named[i] = checkpoint.Named{Name: n, T: f.Tensors[n]}
	}
	f.Meta[nonFiniteKey] = cause.Error()
	return checkpoint.Save(path, named, f.Meta)
}

// LoadState restores a state written by SaveState into t, whose model and optimizer must
// have been built the same way. Fit then continues from the next epoch, and the run ends
// bit-identical to one that was never interrupted.
func (t *Trainer) LoadState(dir string) error {
	path := filepath.Join(dir, StateFile)
	f, err := checkpoint.Load(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	return t.loadState(path, f)
}

// loadState restores the state held by f (read from path).
func (t *Trainer) loadState(path string, f *checkpoint.File) error {
	bad := func(what string, err error) error {
		return fmt.Errorf("train: resume from %s: %s: %v", path, what, err)
	}
	if f.Meta["format"] != stateFormat {
		return bad("format", fmt.Errorf("got %q, want %q", f.Meta["format"], stateFormat))
	}
	if err := f.CheckFinite(path, "model.", "optim."); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	model := map[string]*tensor.Tensor{}
	opt := map[string]*tensor.Tensor{}
	for name, tt := range f.Tensors {
		switch {
		case strings.HasPrefix(name, "model."):
			model[strings.TrimPrefix(name, "model.")] = tt
		case strings.HasPrefix(name, "optim."):
			opt[strings.TrimPrefix(name, "optim.")] = tt
		}
	}
	if err := nn.LoadStateDict(t.Model, model, true); err != nil {
		return bad("model", err)
	}
	if err := t.Optimizer.LoadState(opt); err != nil {
		return bad("optimizer", err)
	}
	epoch, gs, hist, err := stateCounts(f)
	if err != nil {
		return fmt.Errorf("train: resume from %s: %v", path, err)
	}
	secs, _ := strconv.ParseFloat(f.Meta["train_seconds"], 64)
	decode := func(s string, dst *rng.Stream) error {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return err
		}
		return dst.UnmarshalBinary(b)
	}
	if err := decode(f.Meta["rng.loader"], t.rand); err != nil {
		return bad("loader stream", err)
	}
	var streams []string
	if err := json.Unmarshal([]byte(f.Meta["rng.model"]), &streams); err != nil {
		return bad("model streams", err)
	}
	ms := t.streams()
	if len(ms) != len(streams) {
		return bad("model streams", fmt.Errorf("checkpoint has %d, model has %d", len(streams), len(ms)))
	}
	for i, s := range streams {
		if err := decode(s, ms[i]); err != nil {
			return bad("model streams", err)
		}
	}
	if err := t.loadCallbacks(f); err != nil {
		return bad("callbacks", err)
	}
	if p := schedule.FindPlateau(t.Config.Schedule); p != nil {
		var ps schedule.PlateauState
		if err := json.Unmarshal([]byte(f.Meta["schedule.plateau"]), &ps); err != nil {
			return bad("plateau state", err)
		}
		if err := p.SetState(ps); err != nil {
			return bad("plateau state", err)
		}
	}
	t.epoch, t.globalStep, t.trainSecs, t.history = epoch, gs, secs, hist
	t.stopped = f.Meta["stopped"] == "true"
	return nil
}

// statefulCallbacks returns the callbacks whose state checkpoints save, in Config order.
func (t *Trainer) statefulCallbacks() []StatefulCallback {
	var out []StatefulCallback
	for _, cb := range t.Config.Callbacks {
		if sc, ok := cb.(StatefulCallback); ok {
			out = append(out, sc)
		}
	}
	return out
}

// loadCallbacks restores every StatefulCallback from f. It is strict both ways: a
// callback whose key is not in the checkpoint, or a key in the checkpoint without its
// callback, is an error, since either would make the resumed run differ from the
// uninterrupted one (a callback starting from scratch, or state silently dropped).
func (t *Trainer) loadCallbacks(f *checkpoint.File) error {
	have := map[string]bool{}
	for _, sc := range t.statefulCallbacks() {
		k := sc.StateKey()
		have[k] = true
		m, ok := f.Meta["cb."+k]
		if !ok {
			return fmt.Errorf("the checkpoint holds no state of callback %q (was it added after the run started?)", k)
		}
		prefix := "cb." + k + "."
		ts := map[string]*tensor.Tensor{}
		for name, tt := range f.Tensors {
			if strings.HasPrefix(name, prefix) {
				ts[strings.TrimPrefix(name, prefix)] = tt
			}
		}
		if err := sc.LoadState(ts, m); err != nil {
			return fmt.Errorf("callback %q: %w", k, err)
		}
	}
	var extra []string
	for k := range f.Meta {
		if strings.HasPrefix(k, "cb.") && !have[strings.TrimPrefix(k, "cb.")] {
			extra = append(extra, strings.TrimPrefix(k, "cb."))
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return fmt.Errorf("the checkpoint holds state of callbacks %q that this trainer does not have", extra)
	}
	return nil
}

// metricsLog is dir/metrics.jsonl: rewritten atomically with the checkpoint's records
// when a run starts or resumes (so the records of epochs after the checkpoint, which a
// kill between the append and the checkpoint may leave, are dropped), then appended one
// whole line per epoch with one write and an fsync.
type metricsLog struct{ path string }

func openMetrics(dir string, hist []EpochRecord) (*metricsLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	m := &metricsLog{path: filepath.Join(dir, MetricsFile)}
	if _, err := os.Stat(m.path); len(hist) == 0 && err != nil {
		return m, nil // created by the first record
	}
	var b []byte
	for i := range hist {
		line, err := json.Marshal(&hist[i])
		if err != nil {
			return nil, fmt.Errorf("train: metrics: %w", err)
		}
		b = append(append(b, line...), '\n')
	}
	if err := fsafe.WriteBytes(m.path, b); err != nil {
		return nil, fmt.Errorf("train: metrics: %w", err)
	}
	return m, nil
}

func (m *metricsLog) write(rec *EpochRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := fsafe.AppendLine(m.path, append(b, '\n')); err != nil {
		return fmt.Errorf("train: write metrics: %w", err)
	}
	return nil
}

// streams returns the random streams saved in checkpoints besides the loader's: the
// model's (dropout masks, ...). Callbacks save their own (StatefulCallback).
func (t *Trainer) streams() []*rng.Stream {
	return nn.RandomStreams(t.Model)
}
