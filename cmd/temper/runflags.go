package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/recipe"
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
	bind := func(path, name string) { rf.paths[name] = path }
	if groups&dataFlags != 0 {
		f.StringVar(&r.Data.Source, "data", r.Data.Source, "dataset: mnist, fashion-mnist, cifar10:DIR, images:DIR, mnist:DIR, fashion-mnist:DIR, or a folder (IDX files, CIFAR-10 batches, or one subfolder per class)")
		bind("data.source", "data")
		f.IntVar(&r.Data.ImageSize, "image-size", r.Data.ImageSize, "image folders: resize the shorter side and center-crop to this size (required for image folders)")
		bind("data.image_size", "image-size")
		f.IntVar(&r.Data.Channels, "channels", r.Data.Channels, "convert images to 1 (gray) or 3 (RGB) channels (0: as stored)")
		bind("data.channels", "channels")
		f.Float64Var(&r.Data.TestFraction, "test-fraction", r.Data.TestFraction, "image folder without a test/ subfolder: hold out this stratified fraction as the test set")
		bind("data.test_fraction", "test-fraction")
		f.IntVar(&r.Data.TrainSize, "train-size", r.Data.TrainSize, "use the first N training examples only (0 = all)")
		bind("data.train_size", "train-size")
		f.Float64Var(&r.Data.ValFraction, "val-fraction", r.Data.ValFraction, "hold out this stratified fraction of the training examples for validation (steers plateau schedules, early stopping, model_best)")
		bind("data.val_fraction", "val-fraction")
		f.IntVar(&r.Data.ValSize, "val-size", r.Data.ValSize, "hold out N stratified training examples for validation (instead of --val-fraction)")
		bind("data.val_size", "val-size")
		f.StringVar(&r.Data.Normalize, "normalize", r.Data.Normalize, "input normalization: per-channel (training split's mean/std, stored with the model) or none; default none for MNIST, per-channel otherwise")
		bind("data.normalize", "normalize")
	}
	if groups&modelFlags != 0 {
		f.StringVar(&r.Model.Name, "model", r.Model.Name, "model: "+strings.Join(nn.ModelNames(), ", "))
		bind("model.name", "model")
		f.Float64Var(&r.Model.Dropout, "dropout", r.Model.Dropout, "dropout probability of the model's dropout layers (default: the model's: mlp 0.2, cnn 0.5, others 0; 0 is none)")
		bind("model.dropout", "dropout")
		f.StringVar(&r.Model.DropoutMode, "dropout-mode", r.Model.DropoutMode, "dropout form: inverted (scale 1/keep in training) or classic (scale by keep at test)")
		bind("model.dropout_mode", "dropout-mode")
		f.Float64Var(&r.Model.DropConnect, "dropconnect", r.Model.DropConnect, "DropConnect: drop each hidden Linear layer's weights with this probability (Wan 2013)")
		bind("model.dropconnect", "dropconnect")
		f.Float64Var(&r.Model.StochasticDepth, "stochastic-depth", r.Model.StochasticDepth, "stochastic depth: survival probability p_L of the last residual block (0: off; Huang 2016)")
		bind("model.stochastic_depth", "stochastic-depth")
		f.StringVar(&r.Model.Pool, "pool", r.Model.Pool, "pooling of the cnn models: max or fractional (Graham 2014)")
		bind("model.pool", "pool")
		f.BoolVar(&r.Model.BatchNorm, "batchnorm", r.Model.BatchNorm, "keep the model's batch normalization layers (--batchnorm=false removes them, to measure what BN buys)")
		bind("model.batchnorm", "batchnorm")
	}
	if groups&optimFlags != 0 {
		f.StringVar(&r.Optim.Name, "optim", r.Optim.Name, "optimizer: "+strings.Join(recipe.OptimizerNames, ", "))
		bind("optim.name", "optim")
		f.Float64Var(&r.Optim.LR, "lr", r.Optim.LR, "learning rate (the one-cycle peak with the default schedule); default by optimizer: sgd 0.2, adam/adamw 0.003, rmsprop 0.001, adagrad 0.01")
		bind("optim.lr", "lr")
		f.Float64Var(&r.Optim.Momentum, "momentum", r.Optim.Momentum, "momentum (sgd, rmsprop; under the default one-cycle schedule it cycles 0.95→0.85→0.95 instead)")
		bind("optim.momentum", "momentum")
		f.BoolVar(&r.Optim.Nesterov, "nesterov", r.Optim.Nesterov, "Nesterov momentum (sgd)")
		bind("optim.nesterov", "nesterov")
		f.Float64Var(&r.Optim.WeightDecay, "weight-decay", r.Optim.WeightDecay, "weight decay (coupled L2 in the gradient; decoupled for adamw; (λ/2)‖θ‖² in the objective of lbfgs/bfgs/newton); 0 is none")
		bind("optim.weight_decay", "weight-decay")
		f.Float64Var(&r.Optim.Beta1, "beta1", r.Optim.Beta1, "adam/adamw first-moment decay β1 (0 allowed)")
		bind("optim.beta1", "beta1")
		f.Float64Var(&r.Optim.Beta2, "beta2", r.Optim.Beta2, "adam/adamw second-moment decay β2")
		bind("optim.beta2", "beta2")
		f.Float64Var(&r.Optim.Eps, "eps", r.Optim.Eps, "adam/adamw/rmsprop/adagrad ε added to the denominator")
		bind("optim.eps", "eps")
		f.BoolVar(&r.Optim.FullBatch, "full-batch", r.Optim.FullBatch, "second-order optimizers: full-batch mode (their default unless --batch is given)")
		bind("optim.full_batch", "full-batch")
		f.IntVar(&r.Optim.History, "history", r.Optim.History, "lbfgs: number of curvature pairs kept")
		bind("optim.history", "history")
		f.IntVar(&r.Optim.MaxIter, "max-iter", r.Optim.MaxIter, "second-order optimizers: iterations per step (each --epochs is one step)")
		bind("optim.max_iter", "max-iter")
	}
	if groups&batchFlags != 0 {
		f.IntVar(&r.Batch, "batch", r.Batch, "minibatch size")
		bind("batch", "batch")
		f.Float64Var(&r.LabelSmoothing, "label-smoothing", r.LabelSmoothing, "label smoothing of the cross-entropy target")
		bind("label_smoothing", "label-smoothing")
	}
	if groups&trainingFlags != 0 {
		f.IntVar(&r.Epochs, "epochs", r.Epochs, "epochs to train")
		bind("epochs", "epochs")
		f.StringVar(&r.Schedule, "schedule", r.Schedule, "learning-rate schedule SPEC, e.g. onecycle, const, step:size=5,gamma=0.1, plateau (see schedule.Parse)")
		bind("schedule", "schedule")
		f.Float64Var(&r.L2, "l2", r.L2, "L2 penalty (λ/2)Σw² on weights (not biases/BN) added to the loss")
		bind("l2", "l2")
		f.Float64Var(&r.L1, "l1", r.L1, "L1 penalty λΣ|w| on weights added to the loss")
		bind("l1", "l1")
		f.StringVar(&r.Augment, "augment", r.Augment, "data augmentation SPEC, e.g. crop:pad=2+rotate:deg=10 (see augment.Parse), or none; default crop:pad=2 for cnn, lenet5 and resnet20, none for the MLPs")
		bind("augment", "augment")
		f.IntVar(&r.EarlyStop, "early-stop", r.EarlyStop, "stop after N epochs without a lower validation loss (0: off; needs --val-fraction or --val-size)")
		bind("early_stop", "early-stop")
		f.BoolVar(&r.EvalTrain, "eval-train", r.EvalTrain, "also report the loss on the whole training set (eval mode) after each epoch")
		bind("eval_train", "eval-train")
		f.BoolVar(&r.TestEachEpoch, "test-each-epoch", r.TestEachEpoch, "evaluate the test set after every epoch (for curves; labelled test); otherwise once at the end")
		bind("test_each_epoch", "test-each-epoch")
	}
	if groups&averagingFlags != 0 {
		a := &r.Averaging
		f.Float64Var(&a.EMA, "ema", a.EMA, "keep an exponential moving average of the weights with this decay, e.g. 0.999 (0 = off); warm-up min(d, (1+t)/(10+t))")
		bind("averaging.ema", "ema")
		f.IntVar(&a.EMAEvery, "ema-every", a.EMAEvery, "update the EMA every N optimizer steps")
		bind("averaging.ema_every", "ema-every")
		f.IntVar(&a.SWAStart, "swa-start", a.SWAStart, "stochastic weight averaging of the weights at the ends of epochs EPOCH, EPOCH+swa-every, ... (0 = off)")
		bind("averaging.swa_start", "swa-start")
		f.Float64Var(&a.SWALR, "swa-lr", a.SWALR, "learning rate from --swa-start on (0 = --lr)")
		bind("averaging.swa_lr", "swa-lr")
		f.IntVar(&a.SWAEvery, "swa-every", a.SWAEvery, "epochs between SWA averages (the cycle length of --swa-cyclic)")
		bind("averaging.swa_every", "swa-every")
		f.BoolVar(&a.SWACyclic, "swa-cyclic", a.SWACyclic, "cyclic SWA learning rate: linear from --swa-lr to --swa-min-lr within each --swa-every epochs")
		bind("averaging.swa_cyclic", "swa-cyclic")
		f.Float64Var(&a.SWAMinLR, "swa-min-lr", a.SWAMinLR, "learning rate at the end of each cycle of --swa-cyclic")
		bind("averaging.swa_min_lr", "swa-min-lr")
	}
	f.Uint64Var(&r.Seed, "seed", r.Seed, "random seed (init, data order, dropout, splits)")
	bind("seed", "seed")
	f.IntVar(&r.Threads, "threads", r.Threads, "worker threads for the kernels (results are bit-identical for a given seed and thread count)")
	bind("threads", "threads")
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
	return usageError{fmt.Errorf("%s", msg)}
}

// fmtFloat formats a float exactly (shortest representation).
func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
