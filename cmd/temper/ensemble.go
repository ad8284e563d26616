package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/train"
)

func init() { commands = append(commands, newEnsembleCmd) }

func newEnsembleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ensemble",
		Short: "Train and evaluate ensembles (independent members, snapshot ensembles)",
		Long: `Ensembles of models whose predicted probabilities are averaged.

  temper ensemble train --members K      K members from seeds SEED, SEED+1, ... (in parallel)
  temper ensemble snapshot --cycles C    one run, cosine warm restarts, a snapshot per cycle
  temper ensemble eval DIR               per-member, mean-of-members and ensemble metrics

Each writes DIR/ensemble.json, the manifest listing the member files (relative paths and
SHA-256 checksums): the folder can be moved, and a missing or altered member is an error.
Weight averaging (Polyak/EMA, SWA) is --ema and --swa-start on 'ensemble train'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newEnsembleTrainCmd(), newEnsembleSnapshotCmd(), newEnsembleEvalCmd())
	return cmd
}

// addRunFlags registers the flags of 'temper train' that define a run.
func addRunFlags(f *pflag.FlagSet, c *runConfig) {
	f.StringVar(&c.Model, "model", c.Model, "model: "+fmt.Sprint(nn.ModelNames()))
	f.StringVar(&c.Data, "data", "", "folder with the MNIST IDX files (default: the GoMNIST module in the Go module cache)")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "epochs to train (per member)")
	f.IntVar(&c.Batch, "batch", c.Batch, "minibatch size")
	f.StringVar(&c.Optim, "optim", c.Optim, "optimizer: sgd (with --momentum/--nesterov), "+fmt.Sprint(optim.Names))
	f.Float64Var(&c.LR, "lr", c.LR, "learning rate")
	f.Float64Var(&c.Momentum, "momentum", c.Momentum, "momentum (sgd, rmsprop)")
	f.BoolVar(&c.Nesterov, "nesterov", c.Nesterov, "Nesterov momentum (sgd)")
	f.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "weight decay")
	f.Float64Var(&c.LabelSmoothing, "label-smoothing", 0, "label smoothing of the cross-entropy target")
	f.IntVar(&c.TrainSize, "train-size", 0, "train on the first N training images only (0 = all)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (member i uses seed+i)")
	f.IntVar(&c.Threads, "threads", c.Threads, "worker threads (shared by the members trained in parallel)")
}

// ---------------------------------------------------------------------------------------
// Weight averaging: the flags and wiring shared by 'ensemble train' and (when wired)
// 'temper train'.

// averagingFlags are the weight-averaging options of a run. The zero value is "no
// averaging" (EMAEvery and SWAEvery 0 mean 1), so commands that do not register the flags
// validate it.
type averagingFlags struct {
	EMA       float64 `json:"ema,omitempty"`
	EMAEvery  int     `json:"ema_every,omitempty"`
	SWAStart  int     `json:"swa_start,omitempty"`
	SWALR     float64 `json:"swa_lr,omitempty"`
	SWAEvery  int     `json:"swa_every,omitempty"`
	SWACyclic bool    `json:"swa_cyclic,omitempty"`
	SWAMinLR  float64 `json:"swa_min_lr,omitempty"`
}

func (a *averagingFlags) addFlags(f *pflag.FlagSet) {
	f.Float64Var(&a.EMA, "ema", 0, "keep an exponential moving average of the weights with this decay, e.g. 0.999 (0 = off); warm-up min(d, (1+t)/(10+t))")
	f.IntVar(&a.EMAEvery, "ema-every", 1, "update the EMA every N optimizer steps")
	f.IntVar(&a.SWAStart, "swa-start", 0, "stochastic weight averaging of the weights at the ends of epochs EPOCH, EPOCH+swa-every, ... (0 = off)")
	f.Float64Var(&a.SWALR, "swa-lr", 0, "learning rate from --swa-start on (0 = --lr)")
	f.IntVar(&a.SWAEvery, "swa-every", 1, "epochs between SWA averages (the cycle length of --swa-cyclic)")
	f.BoolVar(&a.SWACyclic, "swa-cyclic", false, "cyclic SWA learning rate: linear from --swa-lr to --swa-min-lr within each --swa-every epochs")
	f.Float64Var(&a.SWAMinLR, "swa-min-lr", 0, "learning rate at the end of each cycle of --swa-cyclic")
}

func (a *averagingFlags) validate(epochs int) error {
	switch {
	case a.EMA != 0 && !(a.EMA > 0 && a.EMA < 1):
		return usagef("--ema %v out of range (0, 1) (0 = off)", a.EMA)
	case a.EMAEvery < 0:
		return usagef("--ema-every %d out of range [1, ∞)", a.EMAEvery)
	case a.SWAStart < 0 || a.SWAStart > epochs:
		return usagef("--swa-start %d out of range [0, epochs=%d] (0 = off)", a.SWAStart, epochs)
	case !(a.SWALR >= 0) || math.IsInf(a.SWALR, 0):
		return usagef("--swa-lr %v out of range [0, ∞) (0 = --lr)", a.SWALR)
	case a.SWAEvery < 0:
		return usagef("--swa-every %d out of range [1, ∞)", a.SWAEvery)
	case !(a.SWAMinLR >= 0) || (a.SWALR > 0 && a.SWAMinLR > a.SWALR):
		return usagef("--swa-min-lr %v out of range [0, --swa-lr]", a.SWAMinLR)
	}
	return nil
}

// averaging holds a run's EMA and SWA.
type averaging struct {
	flags averagingFlags
	model nn.Module
	ema   *ensemble.EMA
	swa   *ensemble.SWA
}

// averagedResult is one averaged model's test metrics.
type averagedResult struct {
	Kind         string  `json:"kind"` // "ema" or "swa"
	Path         string  `json:"path"`
	TestAccuracy float64 `json:"test_accuracy"`
	TestNLL      float64 `json:"test_nll"`
	BNBatches    int     `json:"bn_refresh_batches,omitempty"`
}

// newAveraging attaches the EMA and SWA that a asks for to m and returns them with the
// schedule to train with (sched wrapped in the SWA learning rate from --swa-start).
func newAveraging(a averagingFlags, m nn.Module, sched schedule.Schedule, stepsPerEpoch int) (*averaging, schedule.Schedule, error) {
	av := &averaging{flags: a, model: m}
	var err error
	if a.EMA > 0 {
		if av.ema, err = ensemble.NewEMA(m, ensemble.EMAConfig{Decay: a.EMA, Every: a.EMAEvery}); err != nil {
			return nil, nil, usageError{err}
		}
	}
	if a.SWAStart > 0 {
		if av.swa, err = ensemble.NewSWA(m, ensemble.SWAConfig{Start: a.SWAStart, Every: a.SWAEvery}); err != nil {
			return nil, nil, usageError{err}
		}
		c := ensemble.SWALRConfig{StartStep: (a.SWAStart - 1) * stepsPerEpoch, LR: a.SWALR}
		if a.SWACyclic {
			c.CycleSteps, c.MinLR = max(a.SWAEvery, 1)*stepsPerEpoch, a.SWAMinLR
		}
		s, err := ensemble.NewSWALR(sched, c)
		if err != nil {
			return nil, nil, usageError{err}
		}
		sched = s
	}
	return av, sched, nil
}

// hooks returns the train hooks of the averages. With dir set, their states are saved
// there after every epoch (ema_state.safetensors, swa_state.safetensors; train's hooks
// run before its checkpoint), so that loadState can continue them on --resume.
func (av *averaging) hooks(dir string) []train.Hook {
	var h []train.Hook
	if av.ema != nil {
		h = append(h, av.ema.Hook())
	}
	if av.swa != nil {
		h = append(h, av.swa.Hook())
	}
	if dir != "" && len(h) > 0 {
		h = append(h, train.Hook{AfterEpoch: func(*train.EpochRecord) error {
			if av.ema != nil {
				if err := av.ema.SaveState(filepath.Join(dir, ensemble.StateFileName("ema"))); err != nil {
					return err
				}
			}
			if av.swa != nil {
				return av.swa.SaveState(filepath.Join(dir, ensemble.StateFileName("swa")))
			}
			return nil
		}})
	}
	return h
}

// loadState restores the averages saved in dir by hooks(dir) (call after
// Trainer.LoadState when resuming).
func (av *averaging) loadState(dir string) error {
	if av.ema != nil {
		if err := av.ema.LoadState(filepath.Join(dir, ensemble.StateFileName("ema"))); err != nil {
			return fmt.Errorf("resume --ema: %w", err)
		}
	}
	if av.swa != nil {
		if err := av.swa.LoadState(filepath.Join(dir, ensemble.StateFileName("swa"))); err != nil {
			return fmt.Errorf("resume --swa-start: %w", err)
		}
	}
	return nil
}

// finish evaluates the averaged weights on testSet and saves them next to the model as
// out/model_ema.safetensors and out/model_swa.safetensors (loadable by 'temper eval');
// SWA's batch-norm statistics are recomputed first with one pass over trainSet. The live
// weights are restored afterwards.
func (av *averaging) finish(out string, c runConfig, trainSet, testSet data.Dataset, stdout io.Writer) ([]averagedResult, error) {
	var res []averagedResult
	do := func(kind string, apply, restore func() error, refresh bool) error {
		if err := apply(); err != nil {
			return err
		}
		r := averagedResult{Kind: kind, Path: "model_" + kind + ".safetensors"}
		err := func() error {
			if refresh {
				n, err := ensemble.RefreshBatchNorm(av.model, trainSet, ensemble.RefreshConfig{BatchSize: c.Batch})
				if err != nil {
					return err
				}
				r.BNBatches = n
			}
			var err error
			if r.TestNLL, r.TestAccuracy, err = train.Evaluate(av.model, testSet, 1000, nil, nil); err != nil {
				return err
			}
			return saveModel(filepath.Join(out, r.Path), av.model, c)
		}()
		if rerr := restore(); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
		res = append(res, r)
		extra := ""
		if refresh && r.BNBatches > 0 {
			extra = fmt.Sprintf(", batch-norm statistics recomputed over %d batches", r.BNBatches)
		}
		fmt.Fprintf(stdout, "%s weights: test accuracy %.4f (test loss %.4f)%s; wrote %s\n", strings.ToUpper(kind), r.TestAccuracy, r.TestNLL, extra,
			filepath.Join(out, r.Path))
		return nil
	}
	if av.ema != nil {
		if err := do("ema", av.ema.Apply, av.ema.Restore, false); err != nil {
			return nil, err
		}
	}
	if av.swa != nil {
		if av.swa.Count() == 0 {
			return nil, fmt.Errorf("swa: no weights were averaged (--swa-start %d)", av.flags.SWAStart)
		}
		if err := do("swa", av.swa.Apply, av.swa.Restore, true); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// ---------------------------------------------------------------------------------------
// temper ensemble train

// ensembleConfig is what 'ensemble train' records in the manifest.
type ensembleConfig struct {
	Run       runConfig      `json:"run"`
	Members   int            `json:"members"`
	LRs       []float64      `json:"lrs,omitempty"`
	Models    []string       `json:"models,omitempty"`
	Workers   int            `json:"workers"`
	Kernel    int            `json:"kernel_threads"`
	Averaging averagingFlags `json:"averaging"`
	// EpochEval evaluates every member on the test set after every epoch (metrics.jsonl);
	// without it only at the end.
	EpochEval bool `json:"epoch_eval"`
}

// memberResult is one trained member.
type memberResult struct {
	member   ensemble.Member
	averaged []averagedResult
	secs     float64
}

func newEnsembleTrainCmd() *cobra.Command {
	c := defaultRunConfig()
	var out, lrs, models, combine string
	var members, parallel int
	var quiet bool
	epochEval := true
	var avg averagingFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train an independent ensemble: K members from different seeds",
		Long: `Train K members that differ by seed (member i uses --seed + i, so member 0 is the model
'temper train --seed SEED' trains) and optionally by learning rate (--lrs) or architecture
(--models), then evaluate the ensemble on the test set.

Members train in parallel when --threads allows: min(threads, members) at a time (capped by
--parallel and by the memory available), each with threads/min(threads, members) kernel
threads. A member's weights depend only on its seed, its configuration, --threads and
--members, never on how many members actually train at once.

OUT receives OUT/member-I/ (a 'temper train' folder: model.safetensors, metrics.jsonl,
summary.json, checkpoint.safetensors; with --ema/--swa-start also model_ema/model_swa)
and OUT/ensemble.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.validate(); err != nil {
				return err
			}
			if members < 1 {
				return usagef("--members %d out of range [1, ∞)", members)
			}
			if parallel < 0 {
				return usagef("--parallel %d out of range [0, ∞) (0 = automatic)", parallel)
			}
			if err := avg.validate(c.Epochs); err != nil {
				return err
			}
			comb, err := ensemble.ParseCombine(combine)
			if err != nil {
				return usagef("--combine: %v", err)
			}
			lrList, err := parseFloats(lrs)
			if err != nil {
				return usagef("--lrs: %v", err)
			}
			var modelList []string
			if models != "" {
				for _, m := range strings.Split(models, ",") {
					m = strings.TrimSpace(m)
					if !slices.Contains(nn.ModelNames(), m) {
						return usagef("--models: unknown model %q (want one of %v)", m, nn.ModelNames())
					}
					modelList = append(modelList, m)
				}
			}
			if out == "" {
				out = filepath.Join("runs", "ensemble-"+c.Model)
			}
			ec := ensembleConfig{Run: c, Members: members, LRs: lrList, Models: modelList, Averaging: avg, EpochEval: epochEval}
			var progress io.Writer = cmd.ErrOrStderr()
			if quiet {
				progress = nil
			}
			return runEnsembleTrain(cmd.Context(), ec, comb, parallel, out, progress, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	addRunFlags(f, &c)
	f.StringVar(&c.Schedule, "schedule", "", "learning-rate schedule SPEC of every member (see schedule.Parse)")
	avg.addFlags(f)
	f.IntVar(&members, "members", 5, "number of members K")
	f.IntVar(&parallel, "parallel", 0, "at most this many members at once (0 = min(threads, members), limited by memory)")
	f.StringVar(&lrs, "lrs", "", "per-member learning rates, comma-separated, cycled over the members (default --lr)")
	f.StringVar(&models, "models", "", "per-member models, comma-separated, cycled over the members (default --model)")
	f.StringVar(&combine, "combine", "probabilities", "how the ensemble combines: probabilities, logits or vote")
	f.StringVar(&out, "out", "", "output folder (default runs/ensemble-MODEL)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(&epochEval, "epoch-eval", true, "evaluate on the test set after every epoch (false: only at the end, faster; no metrics.jsonl or checkpoint)")
	return cmd
}

func parseFloats(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a learning rate in (0, ∞)", p)
		}
		out = append(out, v)
	}
	return out, nil
}

// memberConfig is member i's run configuration.
func (ec ensembleConfig) memberConfig(i int) runConfig {
	c := ec.Run
	c.Seed = ec.Run.Seed + uint64(i)
	if len(ec.LRs) > 0 {
		c.LR = ec.LRs[i%len(ec.LRs)]
	}
	if len(ec.Models) > 0 {
		c.Model = ec.Models[i%len(ec.Models)]
	}
	c.Threads = ec.Kernel
	return c
}

// lockedWriter serializes writes of concurrent members.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func runEnsembleTrain(ctx context.Context, ec ensembleConfig, comb ensemble.Combine, parallel int, out string, progress, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	c := ec.Run
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// Memory: how many members fit at once.
	memCap := 0
	if parallel == 0 {
		probe := ec.memberConfig(0)
		p, err := setup(probe, trainSet)
		if err != nil {
			return err
		}
		m := p.model
		x, _ := trainSet.Tensor(0, min(c.Batch, trainSet.Len()))
		if b, err := ensemble.MemberBytes(m, x); err == nil {
			memCap = ensemble.MaxParallel(ensemble.AvailableMemory(), b+uint64(4*testSet.Len()*10))
		}
	} else {
		memCap = parallel
	}
	ec.Workers, ec.Kernel = ensemble.Plan(c.Threads, ec.Members, memCap)
	kernel.SetThreads(ec.Kernel)
	fmt.Fprintf(stdout, "training %d members of %s on %d MNIST images, %d epochs each: %d at a time with %d kernel thread(s) each, %s kernels\n",
		ec.Members, c.Model, trainSet.Len(), c.Epochs, ec.Workers, ec.Kernel, kernel.Name())
	var memberProgress io.Writer
	if ec.Workers == 1 {
		memberProgress = progress
	}
	lw := &lockedWriter{w: stdout}
	results := make([]memberResult, ec.Members)
	start := time.Now()
	err = ensemble.Run(ctx, ec.Members, ec.Workers, func(ctx context.Context, i int) error {
		mc := ec.memberConfig(i)
		r, err := trainMember(ctx, mc, ec.Averaging, ec.EpochEval, out, fmt.Sprintf("member-%d", i), trainSet, testSet, memberProgress, lw)
		if err != nil {
			return err
		}
		results[i] = r
		return nil
	})
	if err != nil {
		return err
	}
	wall := time.Since(start).Seconds()
	cfgJSON, _ := json.Marshal(ec)
	man := &ensemble.Manifest{Kind: ensemble.KindIndependent, Combine: comb.String(), TrainSeconds: wall, Config: cfgJSON}
	sumSecs := 0.0
	for _, r := range results {
		man.Members = append(man.Members, r.member)
		sumSecs += r.secs
	}
	if err := man.Write(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained %d members in %.1fs wall time (%.1fs of training summed over members); wrote %s\n",
		ec.Members, wall, sumSecs, filepath.Join(out, ensemble.ManifestFile))
	return evalManifest(out, c.Data, 1000, nil, stdout)
}

// trainMember trains one member in out/name, like 'temper train' but on shared data, and
// returns its manifest entry.
func trainMember(ctx context.Context, c runConfig, avg averagingFlags, epochEval bool, out, name string, trainSet, testSet *data.InMemory,
	progress, stdout io.Writer) (memberResult, error) {
	dir := filepath.Join(out, name)
	p, err := setup(c, trainSet)
	if err != nil {
		return memberResult{}, err
	}
	m, opt, sched, dataRand, steps := p.model, p.opt, p.sched, p.dataRand, p.stepsPerEpoch
	av, sched, err := newAveraging(avg, m, sched, steps)
	if err != nil {
		return memberResult{}, err
	}
	cfgJSON, _ := json.Marshal(c)
	// Without a test set train writes NaN test metrics, which its JSON files cannot hold:
	// then no metrics.jsonl and checkpoint.safetensors either.
	var fitTest data.Dataset = testSet
	fitOut := dir
	if !epochEval {
		fitTest, fitOut = nil, ""
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return memberResult{}, err
		}
	}
	tr, err := train.New(m, opt, trainSet, fitTest, train.Config{
		Epochs: c.Epochs, BatchSize: c.Batch, Threads: c.Threads, LabelSmoothing: c.LabelSmoothing,
		Schedule: sched, OutDir: fitOut, Progress: progress, Meta: map[string]string{"config": string(cfgJSON)}, Hooks: av.hooks(fitOut),
	}, dataRand)
	if err != nil {
		return memberResult{}, usageError{err}
	}
	defer tr.Close()
	if err := tr.Fit(ctx); err != nil {
		return memberResult{}, err
	}
	hist := tr.History()
	last := hist[len(hist)-1]
	if !epochEval {
		if last.TestLoss, last.TestAccuracy, err = train.Evaluate(m, testSet, 1000, nil, nil); err != nil {
			return memberResult{}, err
		}
	}
	mb := ensemble.Member{Name: name, Path: name + "/model.safetensors", Model: c.Model, InShape: trainSet.Shape(),
		Classes: trainSet.Classes(), Seed: c.Seed, Epoch: len(hist), Config: cfgJSON,
		Metrics: &ensemble.MemberMetrics{TestAccuracy: last.TestAccuracy, TestNLL: last.TestLoss, TrainSeconds: tr.TrainSeconds()}}
	if err := saveModel(filepath.Join(out, mb.Path), m, c); err != nil {
		return memberResult{}, err
	}
	if mb.SHA256, err = ensemble.SHA256File(filepath.Join(out, mb.Path)); err != nil {
		return memberResult{}, err
	}
	s := summary{Model: c.Model, Epochs: len(hist), Threads: c.Threads, Kernel: kernel.Name(), Params: nn.NumParams(m),
		TestAccuracy: last.TestAccuracy, TestLoss: last.TestLoss, TrainLoss: last.TrainLoss, TrainAccuracy: last.TrainAccuracy,
		TrainSeconds: tr.TrainSeconds(), SamplesPerSecond: float64(len(hist)*trainSet.Len()) / tr.TrainSeconds(),
		TrainExamples: trainSet.Len(), Config: c}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(b, '\n'), 0o644); err != nil {
		return memberResult{}, err
	}
	var buf strings.Builder
	fmt.Fprintf(&buf, "%s (seed %d, %s, lr %g): test accuracy %.4f, NLL %.4f, %.1fs\n", name, c.Seed, c.Model, c.LR,
		last.TestAccuracy, last.TestLoss, tr.TrainSeconds())
	res, err := av.finish(dir, c, trainSet, testSet, &prefixWriter{prefix: "  " + name + " ", w: &buf})
	if err != nil {
		return memberResult{}, err
	}
	if len(res) > 0 {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, "averaged.json"), append(b, '\n'), 0o644); err != nil {
			return memberResult{}, err
		}
	}
	io.WriteString(stdout, buf.String())
	return memberResult{member: mb, averaged: res, secs: tr.TrainSeconds()}, nil
}

// prefixWriter prefixes every write (one line each here) with prefix.
type prefixWriter struct {
	prefix string
	w      io.Writer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

// ---------------------------------------------------------------------------------------
// temper ensemble snapshot

func newEnsembleSnapshotCmd() *cobra.Command {
	c := defaultRunConfig()
	c.Epochs = 10
	c.LR = 0.1
	var out string
	var cycles, keep int
	var quiet bool
	epochEval := true
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Train a snapshot ensemble: one run, a snapshot at the end of each cosine cycle",
		Long: `Train one model with cosine annealing and warm restarts (Huang et al. 2017: the learning
rate falls from --lr to 0 within each of --cycles cycles of epochs/cycles epochs and restarts),
save a snapshot at the end of each cycle and ensemble the last --keep snapshots. The training
cost is that of one model.

OUT receives snapshot-01.safetensors, ... (each loadable by 'temper eval'), metrics.jsonl,
checkpoint.safetensors (the training state) and ensemble.json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.validate(); err != nil {
				return err
			}
			if cycles < 1 || cycles > c.Epochs {
				return usagef("--cycles %d out of range [1, epochs=%d]", cycles, c.Epochs)
			}
			if c.Epochs%cycles != 0 {
				return usagef("--epochs %d is not a multiple of --cycles %d (each cycle must end at an epoch end)", c.Epochs, cycles)
			}
			if keep < 0 || keep > cycles {
				return usagef("--keep %d out of range [0, cycles=%d] (0 = all)", keep, cycles)
			}
			if out == "" {
				out = filepath.Join("runs", "snapshot-"+c.Model)
			}
			var progress io.Writer = cmd.ErrOrStderr()
			if quiet {
				progress = nil
			}
			return runSnapshot(cmd.Context(), c, cycles, keep, epochEval, out, progress, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	addRunFlags(f, &c)
	f.IntVar(&cycles, "cycles", 5, "number of learning-rate cycles (= snapshots); must divide --epochs")
	f.IntVar(&keep, "keep", 0, "ensemble the last M snapshots (0 = all)")
	f.BoolVar(&epochEval, "epoch-eval", true, "evaluate on the test set after every epoch (false: only the snapshots, faster; no metrics.jsonl or checkpoint)")
	f.StringVar(&out, "out", "", "output folder (default runs/snapshot-MODEL)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar or per-epoch lines")
	return cmd
}

func runSnapshot(ctx context.Context, c runConfig, cycles, keep int, epochEval bool, out string, progress, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	kernel.SetThreads(c.Threads)
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	p, err := setup(c, trainSet)
	if err != nil {
		return err
	}
	m, opt, dataRand, steps := p.model, p.opt, p.dataRand, p.stepsPerEpoch
	sched, err := ensemble.SnapshotSchedule(c.Epochs*steps, cycles)
	if err != nil {
		return usageError{err}
	}
	c.Schedule = fmt.Sprintf("cosine-restarts:t0=%d,every=batch", c.Epochs*steps/cycles)
	cfgJSON, _ := json.Marshal(c)
	snaps, err := ensemble.NewSnapshots(m, ensemble.SnapshotConfig{Dir: out, CycleEpochs: c.Epochs / cycles, Keep: keep,
		Model: c.Model, InShape: trainSet.Shape(), Classes: trainSet.Classes(), Seed: c.Seed, Config: cfgJSON,
		Meta: map[string]string{"format": "pt", "temper.model": c.Model, "temper.config": string(cfgJSON)}})
	if err != nil {
		return usageError{err}
	}
	var fitTest data.Dataset = testSet
	fitOut := out
	hooks := []train.Hook{snaps.Hook()}
	if !epochEval {
		// Evaluate only the snapshots, before Snapshots records the epoch's metrics. (No
		// metrics.jsonl or training state then: train cannot write NaN test metrics.)
		fitTest, fitOut = nil, ""
		cycleEpochs := c.Epochs / cycles
		hooks = append([]train.Hook{{AfterEpoch: func(rec *train.EpochRecord) (err error) {
			if rec.Epoch%cycleEpochs == 0 {
				rec.TestLoss, rec.TestAccuracy, err = train.Evaluate(m, testSet, 1000, nil, nil)
			}
			return err
		}}}, hooks...)
	}
	tr, err := train.New(m, opt, trainSet, fitTest, train.Config{
		Epochs: c.Epochs, BatchSize: c.Batch, Threads: c.Threads, LabelSmoothing: c.LabelSmoothing,
		Schedule: sched, OutDir: fitOut, Progress: progress, Meta: map[string]string{"config": string(cfgJSON)},
		Hooks: hooks,
	}, dataRand)
	if err != nil {
		return usageError{err}
	}
	defer tr.Close()
	fmt.Fprintf(stdout, "training %s on %d MNIST images, %d epochs in %d cosine cycles of %d epochs (lr %g → 0), %s kernels, %d threads\n",
		c.Model, trainSet.Len(), c.Epochs, cycles, c.Epochs/cycles, c.LR, kernel.Name(), c.Threads)
	if err := tr.Fit(ctx); err != nil {
		return err
	}
	man := snaps.Manifest()
	man.TrainSeconds = tr.TrainSeconds()
	if err := man.Write(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "took %d snapshots in %.1fs of training; the ensemble uses the last %d; wrote %s\n",
		len(snaps.Taken()), tr.TrainSeconds(), len(man.Members), filepath.Join(out, ensemble.ManifestFile))
	return evalManifest(out, c.Data, 1000, nil, stdout)
}

// ---------------------------------------------------------------------------------------
// temper ensemble eval

func newEnsembleEvalCmd() *cobra.Command {
	var dataDir, combine string
	var threads, batch, last int
	cmd := &cobra.Command{
		Use:   "eval MANIFEST_OR_DIR",
		Short: "Evaluate an ensemble on the MNIST test set: each member, their mean, the ensemble",
		Long: `Load the ensemble described by MANIFEST_OR_DIR (ensemble.json or its folder), verify every
member's checksum, and print accuracy and NLL (mean negative log-likelihood, nats) of each
member, of the average member, and of the ensemble combined by averaging probabilities,
averaging logits and majority vote.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if threads < 1 {
				return usagef("--threads %d out of range [1, ∞)", threads)
			}
			if batch < 1 {
				return usagef("--batch %d out of range [1, ∞)", batch)
			}
			var comb *ensemble.Combine
			if cmd.Flags().Changed("combine") {
				cb, err := ensemble.ParseCombine(combine)
				if err != nil {
					return usagef("--combine: %v", err)
				}
				comb = &cb
			}
			if last < 0 {
				return usagef("--last %d out of range [0, ∞) (0 = all members)", last)
			}
			if _, err := os.Stat(args[0]); err != nil {
				return usagef("ensemble eval: %v", err)
			}
			if mp := ensemble.ManifestPath(args[0]); mp != args[0] {
				if _, err := os.Stat(mp); err != nil {
					return usagef("ensemble eval: %s holds no %s (not an ensemble folder)", args[0], ensemble.ManifestFile)
				}
			}
			kernel.SetThreads(threads)
			return evalManifestLast(args[0], dataDir, batch, comb, last, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "folder with the MNIST IDX files (default: as trained, else the Go module cache)")
	cmd.Flags().IntVar(&threads, "threads", defaultRunConfig().Threads, "worker threads for the kernels")
	cmd.Flags().IntVar(&batch, "batch", 1000, "evaluation batch size")
	cmd.Flags().StringVar(&combine, "combine", "", "override the manifest's rule: probabilities, logits or vote")
	cmd.Flags().IntVar(&last, "last", 0, "use only the last M members (e.g. the last M snapshots; 0 = all)")
	return cmd
}

// evalManifest loads the ensemble at p, evaluates it on the MNIST test set and prints the
// table.
func evalManifest(p, dataDir string, batch int, comb *ensemble.Combine, stdout io.Writer) error {
	return evalManifestLast(p, dataDir, batch, comb, 0, stdout)
}

// evalManifestLast is evalManifest on the last members only (last 0: all).
func evalManifestLast(p, dataDir string, batch int, comb *ensemble.Combine, last int, stdout io.Writer) error {
	e, man, err := ensemble.Load(p, nil, ensemble.Config{BatchSize: batch})
	if err != nil {
		return err
	}
	if n := len(e.Members); last > n {
		return usagef("--last %d out of range [0, members=%d]", last, n)
	} else if last > 0 {
		e.Members, e.Names, man.Members = e.Members[n-last:], e.Names[n-last:], man.Members[n-last:]
	}
	if dataDir == "" {
		dataDir = manifestDataDir(man)
	}
	dir, err := data.MNISTDir(dataDir)
	if err != nil {
		return err
	}
	_, testSet, err := data.LoadMNIST(dir)
	if err != nil {
		return err
	}
	for i, mb := range man.Members {
		if !equalShape(mb.InShape, testSet.Shape()) || mb.Classes != testSet.Classes() {
			return fmt.Errorf("ensemble: member %d (%s) takes input %v with %d classes; the MNIST test set has %v and %d",
				i, mb.Path, mb.InShape, mb.Classes, testSet.Shape(), testSet.Classes())
		}
	}
	r, err := e.Evaluate(testSet)
	if err != nil {
		return err
	}
	chosen := e.Config().Combine
	if comb != nil {
		chosen = *comb
	}
	printReport(stdout, man, r, chosen)
	return nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// manifestDataDir digs the --data folder out of the recorded configuration, if any.
func manifestDataDir(man *ensemble.Manifest) string {
	var probe struct {
		Data string `json:"data"`
		Run  struct {
			Data string `json:"data"`
		} `json:"run"`
	}
	if json.Unmarshal(man.Config, &probe) == nil {
		if probe.Data != "" {
			return probe.Data
		}
		return probe.Run.Data
	}
	return ""
}

func printReport(w io.Writer, man *ensemble.Manifest, r *ensemble.Report, chosen ensemble.Combine) {
	fmt.Fprintf(w, "%s ensemble of %d members on %d test images:\n", man.Kind, len(r.Members), r.N)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\taccuracy\tNLL\t")
	nll := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.4f", v)
	}
	for k, m := range r.Members {
		label := r.Names[k]
		if mb := man.Members[k]; mb.Epoch > 0 && man.Kind == ensemble.KindSnapshot {
			label += fmt.Sprintf(" (epoch %d)", mb.Epoch)
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%s\t\n", label, m.Accuracy, nll(m.NLL))
	}
	fmt.Fprintf(tw, "mean of members\t%.4f\t%s\t\n", r.MemberMean.Accuracy, nll(r.MemberMean.NLL))
	for rule := ensemble.Probabilities; rule <= ensemble.Vote; rule++ {
		mark := ""
		if rule == chosen {
			mark = " *"
		}
		m := r.ByCombine[rule]
		fmt.Fprintf(tw, "ensemble (%s)%s\t%.4f\t%s\t\n", rule, mark, m.Accuracy, nll(m.NLL))
	}
	tw.Flush()
	m := r.ByCombine[chosen]
	fmt.Fprintf(w, "ensemble (%s): test accuracy %.4f (%+.2f points over the mean member), NLL %s\n",
		chosen, m.Accuracy, 100*(m.Accuracy-r.MemberMean.Accuracy), nll(m.NLL))
}
