package scaleout

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/temperml/temper/exitcode"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout/store"
	"github.com/temperml/temper/train"
)

// Names of the files in the store (see the package comment).
const (
	PlanKey      = "plan.json"
	DoneFile     = "DONE.json"
	FailedFile   = "FAILED.json"
	ProgressFile = "progress.json"
	TrialFile    = "trial.json"
	DoneFormat   = "temper-done/1"
)

// ItemsPrefix is the folder of the plan's items in the store: "items/" for ensembles
// and k-folds, "round-R/items/" for round R of a search (so that the rounds of one
// search can share a store).
func (p *Plan) ItemsPrefix() string {
	if p.Kind == KindSearch {
		return fmt.Sprintf("round-%d/items/", p.Search.Round)
	}
	return "items/"
}

// ItemPrefix is item i's folder in the store.
func (p *Plan) ItemPrefix(i int) string { return p.ItemsPrefix() + strconv.Itoa(i) + "/" }

// Float is a float64 whose JSON form is a number when finite and the string "+Inf",
// "-Inf" or "NaN" otherwise (a diverged trial's loss is +Inf).
type Float float64

// MarshalJSON writes f exactly.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(`"` + strconv.FormatFloat(v, 'g', -1, 64) + `"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or "+Inf", "-Inf", "NaN".
func (f *Float) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
		if s != "+Inf" && s != "-Inf" && s != "NaN" {
			return fmt.Errorf("scaleout: %q is not a number, +Inf, -Inf or NaN", s)
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("scaleout: %s is not a number", b)
	}
	*f = Float(v)
	return nil
}

// Metrics are a model's loss and accuracy on one split.
type Metrics struct {
	Loss     Float `json:"loss"`
	Accuracy Float `json:"accuracy"`
	Examples int   `json:"examples"`
}

func metricsOf(m *recipe.Metrics) *Metrics {
	if m == nil {
		return nil
	}
	return &Metrics{Loss: Float(m.Loss), Accuracy: Float(m.Accuracy), Examples: m.Examples}
}

// MemberResult is what a finished training run (ensemble member, fold) reports.
type MemberResult struct {
	Model        string   `json:"model"`
	InShape      []int    `json:"in_shape"`
	Classes      int      `json:"classes"`
	Epochs       int      `json:"epochs"`
	TrainSeconds float64  `json:"train_seconds"`
	Train        Metrics  `json:"train"`
	Val          *Metrics `json:"val,omitempty"`
	Test         *Metrics `json:"test,omitempty"`
	BestEpoch    int      `json:"best_epoch,omitempty"`
}

// TrialResult is a search trial with its outcome (lrfind.Trial in a JSON-safe form).
type TrialResult struct {
	Round       int     `json:"round"`
	Index       int     `json:"index"`
	LR          float64 `json:"lr"`
	WD          float64 `json:"wd"`
	ValAccuracy Float   `json:"val_accuracy"`
	ValLoss     Float   `json:"val_loss"`
	TrainLoss   Float   `json:"train_loss"`
	Diverged    bool    `json:"diverged"`
	Steps       int     `json:"steps"`
	// TrainSize and ValSize are the sizes of the parts the trial trained and ranked on.
	TrainSize int `json:"train_size"`
	ValSize   int `json:"val_size"`
}

// Trial returns the lrfind form.
func (t TrialResult) Trial() lrfind.Trial {
	return lrfind.Trial{Round: t.Round, Index: t.Index, LR: t.LR, WD: t.WD, ValAccuracy: float64(t.ValAccuracy),
		ValLoss: float64(t.ValLoss), TrainLoss: float64(t.TrainLoss), Diverged: t.Diverged, Steps: t.Steps}
}

func trialResult(t lrfind.Trial, trainSize, valSize int) TrialResult {
	return TrialResult{Round: t.Round, Index: t.Index, LR: t.LR, WD: t.WD, ValAccuracy: Float(t.ValAccuracy),
		ValLoss: Float(t.ValLoss), TrainLoss: Float(t.TrainLoss), Diverged: t.Diverged, Steps: t.Steps,
		TrainSize: trainSize, ValSize: valSize}
}

// Done is an item's completion marker, items/I/DONE.json.
type Done struct {
	Format     string `json:"format"`
	Kind       string `json:"kind"`
	Index      int    `json:"index"`
	PlanSHA256 string `json:"plan_sha256"`
	ItemSHA256 string `json:"item_sha256"`
	// Attempt is the folder ("attempt-ID") holding the item's files.
	Attempt string `json:"attempt"`
	// ResumedFrom and ResumedEpoch name the attempt whose checkpoint this attempt
	// continued, and after which epoch ("" and 0: trained from the start).
	ResumedFrom  string `json:"resumed_from,omitempty"`
	ResumedEpoch int    `json:"resumed_epoch,omitempty"`
	// Files maps the attempt's file names to their SHA-256 (hex).
	Files map[string]string `json:"files"`
	// PeakRSS is the worker process's peak resident memory in bytes when it wrote the
	// marker (Linux VmHWM; 0 where unknown): what its pod's memory request must cover.
	PeakRSS uint64        `json:"peak_rss,omitempty"`
	Member  *MemberResult `json:"member,omitempty"`
	Trial   *TrialResult  `json:"trial,omitempty"`
}

var (
	hexHash     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	attemptName = regexp.MustCompile(`^attempt-[a-z0-9][a-z0-9-]{0,80}$`)
	fileName    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
)

// ParseDone reads a DONE marker strictly and checks its form.
func ParseDone(b []byte) (*Done, error) {
	d := new(Done)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("scaleout: not a DONE marker: %v", err)
	}
	if dec.More() {
		return nil, errors.New("scaleout: DONE marker: trailing data after the JSON object")
	}
	switch {
	case d.Format != DoneFormat:
		return nil, fmt.Errorf("scaleout: DONE marker: format %q, want %q", d.Format, DoneFormat)
	case !hexHash.MatchString(d.PlanSHA256) || !hexHash.MatchString(d.ItemSHA256):
		return nil, errors.New("scaleout: DONE marker: plan_sha256 and item_sha256 must be 64 hex digits")
	case !attemptName.MatchString(d.Attempt):
		return nil, fmt.Errorf("scaleout: DONE marker: attempt %q is not attempt-ID", d.Attempt)
	case (d.Member == nil) == (d.Trial == nil):
		return nil, errors.New("scaleout: DONE marker: holds neither or both of member and trial")
	case d.Member != nil && len(d.Member.InShape) == 0:
		return nil, errors.New("scaleout: DONE marker: member without in_shape")
	}
	for name, sum := range d.Files {
		if !fileName.MatchString(name) || !hexHash.MatchString(sum) {
			return nil, fmt.Errorf("scaleout: DONE marker: file %q with sha256 %q", name, sum)
		}
	}
	return d, nil
}

// Failed is an attempt's failure record, items/I/attempt-ID/FAILED.json.
type Failed struct {
	Attempt  string `json:"attempt"`
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// Progress is an attempt's last uploaded checkpoint, items/I/attempt-ID/progress.json.
type Progress struct {
	ItemSHA256 string `json:"item_sha256"`
	Epoch      int    `json:"epoch"`
}

// WorkOptions say which item a worker runs and how.
type WorkOptions struct {
	// Index of the item (see IndexFromEnv).
	Index int
	// Attempt is this run's ID (lower-case letters, digits, '-'); "" makes one from the
	// host name (the pod's name) and 8 random hex digits.
	Attempt string
	// WorkDir is the local scratch folder; "" uses a temporary folder removed at the end.
	WorkDir string
	// Log receives what the worker does; nil: nothing.
	Log io.Writer
	// Callbacks observe a member's training (progress, Katib metric lines).
	Callbacks []train.Callback
}

// WorkResult is what Work did.
type WorkResult struct {
	// AlreadyDone: the item had a DONE marker; nothing ran.
	AlreadyDone bool
	Attempt     string
	Done        *Done
}

// IndexEnv are the environment variables a worker reads its index from, in order:
// Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX, Volcano jobs VC_TASK_INDEX.
var IndexEnv = []string{"JOB_COMPLETION_INDEX", "VC_TASK_INDEX"}

// IndexFromEnv returns the item index from the first variable of IndexEnv that is set.
func IndexFromEnv(getenv func(string) string) (int, string, error) {
	for _, name := range IndexEnv {
		v := getenv(name)
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return 0, name, fmt.Errorf("scaleout: %s=%q is not an item index (want an integer >= 0)", name, v)
		}
		return i, name, nil
	}
	return 0, "", fmt.Errorf("scaleout: no item index: give --index or set %s", strings.Join(IndexEnv, " or "))
}

// NewAttemptID returns a fresh attempt ID: the host name (a pod's name), sanitized, and
// 8 random hex digits.
func NewAttemptID() string {
	host, _ := os.Hostname()
	host = strings.ToLower(host)
	var b strings.Builder
	for _, r := range host {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 60 {
		h = h[len(h)-60:]
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	if h == "" {
		return hex.EncodeToString(rnd[:])
	}
	return h + "-" + hex.EncodeToString(rnd[:])
}

// ReadDone returns item i's DONE marker, or nil if there is none.
func (p *Plan) ReadDone(ctx context.Context, st *store.Store, i int) (*Done, error) {
	b, err := st.Get(ctx, p.ItemPrefix(i)+DoneFile)
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d, err := ParseDone(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.ItemPrefix(i)+DoneFile, err)
	}
	if d.ItemSHA256 != p.Items[i].SHA256 || d.Index != i || d.Kind != p.Kind {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("scaleout: %s in %s is the result of another item (item sha256 %s, this plan's item %d is %s): use a fresh store prefix for this plan",
			p.ItemPrefix(i)+DoneFile, st.URL(), d.ItemSHA256, i, p.Items[i].SHA256))
	}
	return d, nil
}

// Work runs item o.Index of the plan and records it in the store (see the package
// comment). It returns at once when the item is already done. A diverged member run is
// an error carrying exitcode.Diverged, a bad index or recipe exitcode.Usage; both are
// also recorded in the attempt's FAILED.json, as is any other failure except a
// cancelled ctx.
func (p *Plan) Work(ctx context.Context, st *store.Store, o WorkOptions) (*WorkResult, error) {
	if o.Index < 0 || o.Index >= len(p.Items) {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("scaleout: item index %d out of range [0, %d) (the plan has %d items)", o.Index, len(p.Items), len(p.Items)))
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if d, err := p.ReadDone(ctx, st, o.Index); err != nil || d != nil {
		if d != nil {
			fmt.Fprintf(log, "item %d is already done (%s): nothing to do\n", o.Index, d.Attempt)
			return &WorkResult{AlreadyDone: true, Attempt: d.Attempt, Done: d}, nil
		}
		return nil, err
	}
	id := o.Attempt
	if id == "" {
		id = NewAttemptID()
	}
	attempt := "attempt-" + id
	if !attemptName.MatchString(attempt) {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("scaleout: attempt ID %q: want lower-case letters, digits and '-'", id))
	}
	work := o.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "temper-worker-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	w := &worker{p: p, st: st, i: o.Index, item: p.Items[o.Index], attempt: attempt,
		prefix: p.ItemPrefix(o.Index) + attempt + "/", dir: filepath.Join(work, attempt), log: log, cbs: o.Callbacks}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return nil, err
	}
	d, err := w.run(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.fail(err)
		}
		return nil, err
	}
	// Another run of the index may have finished meanwhile: its marker stays (its files
	// are as good as ours), ours is not written.
	if prev, err := p.ReadDone(ctx, st, o.Index); err != nil || prev != nil {
		if prev != nil {
			fmt.Fprintf(log, "item %d was finished meanwhile by %s; kept its marker (this attempt's files stay in %s)\n", o.Index, prev.Attempt, w.prefix)
			return &WorkResult{AlreadyDone: true, Attempt: prev.Attempt, Done: prev}, nil
		}
		return nil, err
	}
	d.PeakRSS = PeakRSS()
	b, _ := json.MarshalIndent(d, "", "  ")
	if err := st.Put(ctx, p.ItemPrefix(o.Index)+DoneFile, append(b, '\n')); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "item %d done: wrote %s%s (peak RSS %d MiB)\n", o.Index, p.ItemPrefix(o.Index), DoneFile, d.PeakRSS>>20)
	return &WorkResult{Attempt: attempt, Done: d}, nil
}

type worker struct {
	p               *Plan
	st              *store.Store
	i               int
	item            Item
	attempt, prefix string
	dir             string
	log             io.Writer
	cbs             []train.Callback
}

func (w *worker) run(ctx context.Context) (*Done, error) {
	d := &Done{Format: DoneFormat, Kind: w.p.Kind, Index: w.i, PlanSHA256: w.p.SHA256, ItemSHA256: w.item.SHA256,
		Attempt: w.attempt, Files: map[string]string{}}
	var err error
	if w.item.Trial != nil {
		err = w.runTrial(ctx, d)
	} else {
		err = w.runMember(ctx, d)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// runTrial runs a search trial (from the start: trials are short) and uploads
// trial.json.
func (w *worker) runTrial(ctx context.Context, d *Done) error {
	r, spec := w.item.Recipe, w.item.Trial
	c := w.p.Search.Config.lrfind(r)
	t := lrfind.Trial{Round: spec.Round, Index: spec.Trial, LR: spec.LR, WD: spec.WD}
	fmt.Fprintf(w.log, "item %d: search round %d trial %d, lr %g wd %g (%s)\n", w.i, spec.Round, spec.Trial, spec.LR, spec.WD, w.attempt)
	s, err := r.SearchTrial(ctx, c, &t)
	if err != nil {
		return usageIfInvalid(err)
	}
	ts, vs, err := c.TrialSplit(s.Train)
	if err != nil {
		return err
	}
	tr := trialResult(t, ts, vs)
	d.Trial = &tr
	b, _ := json.MarshalIndent(tr, "", "  ")
	return w.upload(ctx, d, TrialFile, append(b, '\n'))
}

// runMember trains a member (or fold), resuming from the most advanced checkpoint an
// earlier attempt uploaded, and uploads its folder.
func (w *worker) runMember(ctx context.Context, d *Done) error {
	r := w.item.Recipe
	out := filepath.Join(w.dir, "out")
	from, _, err := w.findCheckpoint(ctx)
	if err != nil {
		return err
	}
	if from != "" {
		if err := w.st.GetFile(ctx, w.p.ItemPrefix(w.i)+from+"/"+train.StateFile, filepath.Join(out, train.StateFile)); err != nil {
			return err
		}
	}
	up := &uploader{w: w, ctx: context.WithoutCancel(ctx), out: out} // a stopping pod still saves its epoch
	build := func(mode recipe.OutMode) (*recipe.Run, error) {
		run, err := r.Build(recipe.Options{OutDir: out, OutMode: mode, Callbacks: append(slices.Clone(w.cbs), up)})
		return run, usageIfInvalid(err)
	}
	mode := recipe.OutNew
	if from != "" {
		mode = recipe.OutResume // the downloaded checkpoint is this item's own run
	}
	run, err := build(mode)
	if err != nil {
		return err
	}
	defer func() { run.Close() }()
	if from != "" {
		if err := run.Resume(out); err != nil {
			// A checkpoint that does not load (damaged, or of an older temper) must not
			// fail the item on every retry: train from the start instead.
			fmt.Fprintf(w.log, "item %d: cannot resume from %s (%v); training from the start\n", w.i, from, err)
			run.Close()
			if run, err = build(recipe.OutOverwrite); err != nil { // removes the bad checkpoint
				return err
			}
			from = ""
		}
	}
	if from != "" {
		d.ResumedFrom, d.ResumedEpoch = from, run.Trainer.Epoch()
		fmt.Fprintf(w.log, "item %d: resumed from %s after epoch %d (%s)\n", w.i, from, d.ResumedEpoch, w.attempt)
	} else {
		fmt.Fprintf(w.log, "item %d: training %s seed %d, %d epochs (%s)\n", w.i, r.Model.Name, r.Seed, r.Epochs, w.attempt)
	}
	res, err := run.Fit(ctx)
	if err != nil {
		if errors.Is(err, train.ErrNonFinite) {
			return exitcode.With(exitcode.Diverged, err)
		}
		return usageIfInvalid(err)
	}
	if up.err != nil {
		return up.err
	}
	d.Member = &MemberResult{Model: r.Model.Name, InShape: run.Data.Train.Shape(), Classes: run.Data.Train.Classes(),
		Epochs: res.Epochs, TrainSeconds: res.TrainSeconds, Val: metricsOf(res.Val), Test: metricsOf(res.Test), BestEpoch: res.BestEpoch,
		Train: Metrics{Loss: Float(res.Train.Loss), Accuracy: Float(res.Train.Accuracy), Examples: res.Train.Examples}}
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == train.StateFile || !fileName.MatchString(name) || strings.HasPrefix(name, ".") || strings.Contains(name, ".tmp") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			return err
		}
		if err := w.upload(ctx, d, name, b); err != nil {
			return err
		}
	}
	if _, ok := d.Files[recipe.ModelFile]; !ok {
		return fmt.Errorf("scaleout: item %d: the run wrote no %s", w.i, recipe.ModelFile)
	}
	return nil
}

// upload puts b as the attempt's file name and records its hash.
func (w *worker) upload(ctx context.Context, d *Done, name string, b []byte) error {
	if err := w.st.Put(ctx, w.prefix+name, b); err != nil {
		return err
	}
	s := sha256.Sum256(b)
	d.Files[name] = hex.EncodeToString(s[:])
	return nil
}

// findCheckpoint returns the attempt of this item whose uploaded checkpoint is the most
// advanced (ties: the first by name), and its epoch; "" if none.
func (w *worker) findCheckpoint(ctx context.Context) (string, int, error) {
	keys, err := w.st.List(ctx, w.p.ItemPrefix(w.i))
	if err != nil {
		return "", 0, err
	}
	best, bestEpoch := "", 0
	for _, k := range keys {
		rel := strings.TrimPrefix(k, w.p.ItemPrefix(w.i))
		att, file := path.Split(rel)
		att = strings.TrimSuffix(att, "/")
		if file != ProgressFile || !attemptName.MatchString(att) {
			continue
		}
		b, err := w.st.Get(ctx, k)
		if err != nil {
			return "", 0, err
		}
		var pr Progress
		if json.Unmarshal(b, &pr) != nil || pr.ItemSHA256 != w.item.SHA256 || pr.Epoch <= bestEpoch {
			continue // unreadable or another item's: not resumable
		}
		best, bestEpoch = att, pr.Epoch
	}
	return best, bestEpoch, nil
}

// fail records err in the attempt's FAILED.json (best effort: the error is returned
// anyway).
func (w *worker) fail(err error) {
	code := exitcode.Failure
	var c exitcode.Coder
	if errors.As(err, &c) {
		code = c.ExitCode()
	}
	b, _ := json.MarshalIndent(Failed{Attempt: w.attempt, Error: err.Error(), ExitCode: code}, "", "  ")
	w.st.Put(context.Background(), w.prefix+FailedFile, append(b, '\n'))
}

func usageIfInvalid(err error) error {
	if errors.Is(err, recipe.ErrInvalid) {
		return exitcode.With(exitcode.Usage, err)
	}
	return err
}

// uploader copies the training checkpoint to the attempt's folder in the store after
// every epoch but the last (the trainer writes it after the AfterEpoch callbacks, so it
// is uploaded before the next epoch's first step), then progress.json.
type uploader struct {
	train.BaseCallback
	w       *worker
	ctx     context.Context
	out     string
	pending bool
	err     error
}

func (u *uploader) AfterEpoch(*train.Trainer, *train.EpochRecord) error {
	u.pending = true
	return nil
}

func (u *uploader) BeforeStep(s *train.StepInfo) error {
	if !u.pending {
		return nil
	}
	u.pending = false
	w := u.w
	if err := w.st.PutFile(u.ctx, w.prefix+train.StateFile, filepath.Join(u.out, train.StateFile)); err != nil {
		u.err = err
		return err
	}
	b, _ := json.Marshal(Progress{ItemSHA256: w.item.SHA256, Epoch: s.Epoch - 1})
	if err := w.st.Put(u.ctx, w.prefix+ProgressFile, b); err != nil {
		u.err = err
		return err
	}
	return nil
}

// PeakRSS returns this process's peak resident set size in bytes (VmHWM of
// /proc/self/status, Linux), or 0 where it is not known.
func PeakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
