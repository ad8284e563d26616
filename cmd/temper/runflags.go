package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout/katib"
	"github.com/temperml/temper/train"
)

// The run flags: every command that describes a run registers them from here, onto a
// recipe.Recipe, and takes its defaults from recipe.Default / recipe.Defaults. A flag
// belongs to one group; a command registers the groups it uses.
type flagGroup int

const (
	dataFlags      flagGroup = 1 << iota // --data, --image-size, --train-size, --val-*, ...
	modelFlags                           // --model and its structural regularizers
	optimFlags                           // --optim, --lr, --momentum, ...
	batchFlags                           // --batch, --label-smoothing
	trainingFlags                        // --epochs, --schedule, --augment, --l1, ...
	averagingFlags                       // --ema, --swa-*
	transferFlags                        // --from, --strategy, --freeze*, --lr-slice, ... (finetune)
	runFlagsAll    = dataFlags | modelFlags | optimFlags | batchFlags | trainingFlags | averagingFlags
)

// runFlags binds flags to a recipe. After parsing, resolve returns the recipe with the
// defaults that depend on the chosen model, optimizer and data filled in for every flag
// the user did not give.
type runFlags struct {
	r     recipe.Recipe
	fs    *pflag.FlagSet
	paths map[string]string // flag name -> recipe JSON path
}

// addRunFlags registers the groups' flags on f with the default recipe's values, after
// the adjust funcs (a command's own defaults, e.g. search's smaller training set).
func addRunFlags(f *pflag.FlagSet, groups flagGroup, adjust ...func(*recipe.Recipe)) *runFlags {
	rf := &runFlags{r: recipe.Default(), fs: f, paths: map[string]string{}}
	r := &rf.r
	for _, a := range adjust {
		a(r)
	}
	add := func(p any, name, path, usage string) {
		switch v := p.(type) {
		case *string:
			f.StringVar(v, name, *v, usage)
		case *int:
			f.IntVar(v, name, *v, usage)
		case *float64:
			f.Float64Var(v, name, *v, usage)
		case *bool:
			f.BoolVar(v, name, *v, usage)
		case *uint64:
			f.Uint64Var(v, name, *v, usage)
		case *[]int:
			f.IntSliceVar(v, name, *v, usage)
		case *[]string:
			f.StringSliceVar(v, name, *v, usage)
		case *[]float64:
			f.Float64SliceVar(v, name, *v, usage)
		}
		rf.paths[name] = path
	}
	if groups&dataFlags != 0 {
		add(&r.Data.Source, "data", "data.source", "dataset: mnist, fashion-mnist, cifar10:DIR, images:DIR, mnist:DIR, fashion-mnist:DIR, or a folder (IDX files, CIFAR-10 batches, or one subfolder per class)")
		add(&r.Data.ImageSize, "image-size", "data.image_size", "image folders: resize the shorter side and center-crop to this size (required for image folders)")
		add(&r.Data.Channels, "channels", "data.channels", "convert images to 1 (gray) or 3 (RGB) channels (0: as stored)")
		add(&r.Data.TestFraction, "test-fraction", "data.test_fraction", "image folder without a test/ subfolder: hold out this stratified fraction as the test set")
		add(&r.Data.TrainSize, "train-size", "data.train_size", "use the first N training examples only (0 = all)")
		add(&r.Data.ValFraction, "val-fraction", "data.val_fraction", "hold out this stratified fraction of the training examples for validation (steers plateau schedules, early stopping, model_best)")
		add(&r.Data.ValSize, "val-size", "data.val_size", "hold out N stratified training examples for validation (instead of --val-fraction)")
		add(&r.Data.Normalize, "normalize", "data.normalize", "input normalization: per-channel (training split's mean/std, stored with the model) or none; default none for MNIST, per-channel otherwise (finetune: source, the pretrained model's)")
		add(&r.Data.Classes, "classes", "data.classes", "keep only these labels of the data, relabelled in this order (e.g. 5,6,7,8,9)")
		add(&r.Data.LabelsPerClass, "labels-per-class", "data.labels_per_class", "keep a stratified, seeded subset of N training examples per class (0 = all)")
	}
	if groups&transferFlags != 0 {
		if r.Transfer == nil {
			r.Transfer = &recipe.Transfer{Strategy: "head"}
		}
		t := r.Transfer
		add(&t.From, "from", "transfer.from", "pretrained weights: zoo:NAME (temper zoo list) or a model file / PyTorch state dict (.safetensors)")
		add(&t.Strategy, "strategy", "transfer.strategy", "what to train: probe (linear probe on cached features), head, last:K (the last K layer groups too), full (all, at lr-slice [lr/10, lr]), fastai (fine_tune: 1 head epoch, then all at slice(lr/200, lr/2)), custom (--freeze-to/--freeze)")
		add(&t.FreezeTo, "freeze-to", "transfer.freeze_to", "freeze the first N layer groups (stem, stages, head)")
		add(&t.Freeze, "freeze", "transfer.freeze", "freeze parameters whose dotted name matches these patterns (prefix or glob, e.g. layer1,layer2.*.conv1.weight)")
		add(&t.TrainBN, "train-bn", "transfer.train_bn", "keep BatchNorm γ/β of the frozen part trainable (fastai's train_bn; running statistics stay frozen)")
		add(&t.LRSlice, "lr-slice", "transfer.lr_slice", "LO,HI: learning rates spread geometrically from the first layer group (LO) to the head (HI) (fastai's slice)")
		add(&t.LayerDecay, "layer-decay", "transfer.layer_decay", "layer-wise learning-rate decay D: group i of L+1 trains at lr·D^(L−i) (timm; 0 = off)")
		add(&t.KeepHead, "keep-head", "transfer.keep_head", "load the source's classifier too (same classes only) instead of a new one")
		add(&t.AllowPartial, "allow-partial", "transfer.allow_partial", "accept a load that misses tensors or has unexpected ones (reported)")
		add(&t.ReinitMismatched, "reinit-mismatched", "transfer.reinit_mismatched", "keep the fresh initialization of tensors whose shape differs from the file's (reported) instead of failing")
		add(&t.FreezeEpochs, "freeze-epochs", "transfer.freeze_epochs", "fastai strategy: epochs of the head-only phase (default 1)")
	}
	if groups&modelFlags != 0 {
		add(&r.Model.Name, "model", "model.name", "model: "+strings.Join(nn.ModelNames(), ", "))
		add(&r.Model.Dropout, "dropout", "model.dropout", "dropout probability of the model's dropout layers (default: the model's: mlp 0.2, cnn 0.5, others 0; 0 is none)")
		add(&r.Model.DropoutMode, "dropout-mode", "model.dropout_mode", "dropout form: inverted (scale 1/keep in training) or classic (scale by keep at test)")
		add(&r.Model.DropConnect, "dropconnect", "model.dropconnect", "DropConnect: drop each hidden Linear layer's weights with this probability (Wan 2013)")
		add(&r.Model.StochasticDepth, "stochastic-depth", "model.stochastic_depth", "stochastic depth: survival probability p_L of the last residual block (0: off; Huang 2016)")
		add(&r.Model.Pool, "pool", "model.pool", "pooling of the cnn models: max or fractional (Graham 2014)")
		add(&r.Model.BatchNorm, "batchnorm", "model.batchnorm", "keep the model's batch normalization layers (--batchnorm=false removes them, to measure what BN buys)")
	}
	if groups&optimFlags != 0 {
		add(&r.Optim.Name, "optim", "optim.name", "optimizer: "+strings.Join(recipe.OptimizerNames, ", "))
		add(&r.Optim.LR, "lr", "optim.lr", "learning rate (the one-cycle peak with the default schedule); default by optimizer: sgd 0.2, adam/adamw 0.003, rmsprop 0.001, adagrad 0.01")
		add(&r.Optim.Momentum, "momentum", "optim.momentum", "momentum (sgd, rmsprop; under the default one-cycle schedule it cycles 0.95→0.85→0.95 instead)")
		add(&r.Optim.Nesterov, "nesterov", "optim.nesterov", "Nesterov momentum (sgd)")
		add(&r.Optim.WeightDecay, "weight-decay", "optim.weight_decay", "weight decay (coupled L2 in the gradient; decoupled for adamw; (λ/2)‖θ‖² in the objective of lbfgs/bfgs/newton); 0 is none")
		add(&r.Optim.Beta1, "beta1", "optim.beta1", "adam/adamw first-moment decay β1 (0 allowed)")
		add(&r.Optim.Beta2, "beta2", "optim.beta2", "adam/adamw second-moment decay β2")
		add(&r.Optim.Eps, "eps", "optim.eps", "adam/adamw/rmsprop/adagrad ε added to the denominator")
		add(&r.Optim.FullBatch, "full-batch", "optim.full_batch", "second-order optimizers: full-batch mode (their default unless --batch is given)")
		add(&r.Optim.History, "history", "optim.history", "lbfgs: number of curvature pairs kept")
		add(&r.Optim.MaxIter, "max-iter", "optim.max_iter", "second-order optimizers: iterations per step (each --epochs is one step)")
	}
	if groups&batchFlags != 0 {
		add(&r.Batch, "batch", "batch", "minibatch size")
		add(&r.LabelSmoothing, "label-smoothing", "label_smoothing", "label smoothing of the cross-entropy target")
	}
	if groups&trainingFlags != 0 {
		add(&r.Epochs, "epochs", "epochs", "epochs to train")
		add(&r.Schedule, "schedule", "schedule", "learning-rate schedule SPEC, e.g. onecycle, const, step:size=5,gamma=0.1, plateau (see schedule.Parse)")
		add(&r.L2, "l2", "l2", "L2 penalty (λ/2)Σw² on weights (not biases/BN) added to the loss")
		add(&r.L1, "l1", "l1", "L1 penalty λΣ|w| on weights added to the loss")
		add(&r.Augment, "augment", "augment", "data augmentation SPEC, e.g. crop:pad=2+rotate:deg=10 (see augment.Parse), or none; default crop:pad=2 for cnn, lenet5 and resnet20, none for the MLPs")
		add(&r.EarlyStop, "early-stop", "early_stop", "stop after N epochs without a lower validation loss (0: off; needs --val-fraction or --val-size)")
		add(&r.EvalTrain, "eval-train", "eval_train", "also report the loss on the whole training set (eval mode) after each epoch")
		add(&r.TestEachEpoch, "test-each-epoch", "test_each_epoch", "evaluate the test set after every epoch (for curves; labelled test); otherwise once at the end")
	}
	if groups&averagingFlags != 0 {
		a := &r.Averaging
		add(&a.EMA, "ema", "averaging.ema", "keep an exponential moving average of the weights with this decay, e.g. 0.999 (0 = off); warm-up min(d, (1+t)/(10+t))")
		add(&a.EMAEvery, "ema-every", "averaging.ema_every", "update the EMA every N optimizer steps")
		add(&a.SWAStart, "swa-start", "averaging.swa_start", "stochastic weight averaging of the weights at the ends of epochs EPOCH, EPOCH+swa-every, ... (0 = off)")
		add(&a.SWALR, "swa-lr", "averaging.swa_lr", "learning rate from --swa-start on (0 = --lr)")
		add(&a.SWAEvery, "swa-every", "averaging.swa_every", "epochs between SWA averages (the cycle length of --swa-cyclic)")
		add(&a.SWACyclic, "swa-cyclic", "averaging.swa_cyclic", "cyclic SWA learning rate: linear from --swa-lr to --swa-min-lr within each --swa-every epochs")
		add(&a.SWAMinLR, "swa-min-lr", "averaging.swa_min_lr", "learning rate at the end of each cycle of --swa-cyclic")
	}
	add(&r.Seed, "seed", "seed", "random seed (init, data order, dropout, splits)")
	add(&r.Threads, "threads", "threads", "worker threads for the kernels (results are bit-identical for a given seed and thread count)")
	return rf
}

// refuse returns a usage error if one of the named flags was given: the command
// registers it with its group but sets the value itself (why says how).
func (rf *runFlags) refuse(why string, names ...string) error {
	for _, n := range names {
		if rf.fs.Changed(n) {
			return usagef("--%s does not apply here: %s", n, why)
		}
	}
	return nil
}

// given returns the recipe paths of the flags set on the command line.
func (rf *runFlags) given() map[string]bool {
	set := map[string]bool{}
	for name, path := range rf.paths {
		if rf.fs.Changed(name) {
			set[path] = true
		}
	}
	return set
}

// resolve returns the recipe the flags describe: the defaults of the chosen model,
// optimizer and data for every dependent flag not given, then validated. Its errors are
// usage errors naming the flag.
func (rf *runFlags) resolve() (recipe.Recipe, error) {
	if s := strings.TrimSpace(rf.r.Schedule); s == "" {
		return recipe.Recipe{}, usagef("--schedule \"\": empty; use const for a constant learning rate")
	}
	r, err := rf.r.WithDefaults(rf.given())
	if err != nil {
		return r, rf.usage(err)
	}
	if r.Optim.SecondOrder() && !rf.fs.Changed("full-batch") {
		r.Optim.FullBatch = !rf.fs.Changed("batch")
	}
	if err := r.Validate(); err != nil {
		return r, rf.usage(err)
	}
	return r, nil
}

// flagOf returns the flag ("--lr") of a recipe JSON path ("optim.lr"), or the path.
func (rf *runFlags) flagOf(path string) string {
	for name, p := range rf.paths {
		if p == path {
			return "--" + name
		}
	}
	return path
}

// usage turns a recipe error into a usage error that names the flag of the field.
func (rf *runFlags) usage(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "recipe: ")
	for name, path := range rf.paths {
		if strings.HasPrefix(msg, path+" ") || strings.HasPrefix(msg, path+":") {
			msg = "--" + name + strings.TrimPrefix(msg, path)
			break
		}
	}
	msg = strings.ReplaceAll(msg, "set data.val_fraction or data.val_size", "add --val-fraction F or --val-size N")
	return usageError{fmt.Errorf("%s", rf.flagNames(msg))}
}

// flagNames replaces the recipe JSON paths that name run flags in msg ("without
// averaging.ema") by the flags ("without --ema"), longest paths first, whole words only.
func (rf *runFlags) flagNames(msg string) string {
	type pf struct{ path, flag string }
	var ps []pf
	for name, path := range rf.paths {
		if strings.Contains(path, ".") || strings.Contains(path, "_") {
			ps = append(ps, pf{path, "--" + name})
		}
	}
	slices.SortFunc(ps, func(a, b pf) int { return len(b.path) - len(a.path) })
	word := func(b byte) bool { return b == '_' || b == '.' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	for _, p := range ps {
		for i := 0; ; {
			j := strings.Index(msg[i:], p.path)
			if j < 0 {
				break
			}
			j += i
			end := j + len(p.path)
			if (j > 0 && word(msg[j-1])) || (end < len(msg) && word(msg[end]) && msg[end] != '.') {
				i = end
				continue
			}
			msg = msg[:j] + p.flag + msg[end:]
			i = j + len(p.flag)
		}
	}
	return msg
}

// fmtFloat formats a float exactly (shortest representation).
func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Metrics formats of --metrics-format: how a training run reports its epochs.
const (
	metricsText  = "text"  // a progress bar on terminals and one human line per epoch (stderr)
	metricsKatib = "katib" // one katib.Line per epoch on stdout, for Katib's StdOut collector
)

// addMetricsFormat registers --metrics-format (train, worker).
func addMetricsFormat(f *pflag.FlagSet) *string {
	return f.String("metrics-format", metricsText, "per-epoch report: text (progress bar and epoch lines on stderr) or katib (one '<RFC3339 time> epoch=N val_accuracy=... val_loss=...' line per epoch on stdout, no progress bar, for Katib's StdOut metrics collector)")
}

// epochCallbacks returns the callbacks that report epochs in format; quiet silences the
// text format only (Katib needs its lines).
func epochCallbacks(format string, quiet bool, stderr, stdout io.Writer) ([]train.Callback, error) {
	switch format {
	case metricsText:
		if quiet {
			return nil, nil
		}
		return []train.Callback{train.NewProgress(stderr)}, nil
	case metricsKatib:
		return []train.Callback{katib.NewPrinter(stdout)}, nil
	}
	return nil, usagef("--metrics-format %q: want %s or %s", format, metricsText, metricsKatib)
}
