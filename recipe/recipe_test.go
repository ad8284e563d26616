package recipe_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/temperml/temper/recipe"
)

func TestDefaultIsValidAndExplicit(t *testing.T) {
	r := recipe.Default()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Model.Name != "mlp" || r.Optim.Name != "sgd" || r.Data.Source != "mnist" || r.Schedule != "onecycle" ||
		r.Optim.LR != 0.2 || r.Optim.Momentum != 0.9 || !r.Optim.Nesterov || r.Optim.WeightDecay != 5e-4 ||
		r.Batch != 128 || r.Epochs != 5 || r.Seed != 1 || r.Augment != "none" || r.Data.Normalize != "none" {
		t.Fatalf("default recipe changed: %s", r.Marshal())
	}
}

func TestDefaultsDependOnChoice(t *testing.T) {
	cases := []struct {
		model, optim, source string
		lr                   float64
		augment, norm        string
		momentum             float64
	}{
		{"mlp", "sgd", "mnist", 0.2, "none", "none", 0.9},
		{"cnn", "sgd", "mnist", 0.2, "crop:pad=2", "none", 0.9},
		{"resnet20", "adamw", "fashion-mnist", 0.003, "crop:pad=2", "per-channel", 0},
		{"cnn", "adagrad", "cifar10:/x", 0.01, "crop:pad=2", "per-channel", 0},
		{"linear", "lbfgs", "mnist", 1, "none", "none", 0},
	}
	for _, c := range cases {
		r, err := recipe.Defaults(c.model, c.optim, c.source)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if r.Optim.LR != c.lr || r.Augment != c.augment || r.Data.Normalize != c.norm || r.Optim.Momentum != c.momentum {
			t.Errorf("%s/%s/%s: lr %v augment %q normalize %q momentum %v", c.model, c.optim, c.source, r.Optim.LR, r.Augment, r.Data.Normalize, r.Optim.Momentum)
		}
	}
	if _, err := recipe.Defaults("mlp", "nope", "mnist"); !errors.Is(err, recipe.ErrInvalid) {
		t.Errorf("unknown optimizer: %v", err)
	}
}

// TestWithDefaultsKeepsGiven: fields the caller gave are never replaced, zero included.
func TestWithDefaultsKeepsGiven(t *testing.T) {
	r := recipe.Default()
	r.Model.Name, r.Optim.Name = "cnn", "adamw"
	r.Optim.WeightDecay, r.Model.Dropout = 0, 0
	got, err := r.WithDefaults(map[string]bool{"optim.weight_decay": true, "model.dropout": true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Optim.WeightDecay != 0 || got.Model.Dropout != 0 {
		t.Errorf("zero given values replaced: wd %v dropout %v", got.Optim.WeightDecay, got.Model.Dropout)
	}
	if got.Optim.LR != 0.003 || got.Augment != "crop:pad=2" || got.Optim.Momentum != 0 || got.Optim.Nesterov {
		t.Errorf("dependent defaults not applied: %s", got.Marshal())
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidateRanges(t *testing.T) {
	cases := []struct {
		field string
		edit  func(r *recipe.Recipe)
	}{
		{"epochs", func(r *recipe.Recipe) { r.Epochs = 0 }},
		{"batch", func(r *recipe.Recipe) { r.Batch = 0 }},
		{"threads", func(r *recipe.Recipe) { r.Threads = 0 }},
		{"label_smoothing", func(r *recipe.Recipe) { r.LabelSmoothing = 1 }},
		{"l2", func(r *recipe.Recipe) { r.L2 = -1 }},
		{"l1", func(r *recipe.Recipe) { r.L1 = math.NaN() }},
		{"optim.lr", func(r *recipe.Recipe) { r.Optim.LR = 0 }},
		{"optim.lr", func(r *recipe.Recipe) { r.Optim.LR = math.Inf(1) }},
		{"optim.momentum", func(r *recipe.Recipe) { r.Optim.Momentum = 1 }},
		{"optim.weight_decay", func(r *recipe.Recipe) { r.Optim.WeightDecay = -1e-4 }},
		{"optim.name", func(r *recipe.Recipe) { r.Optim.Name = "sgdd" }},
		{"model.name", func(r *recipe.Recipe) { r.Model.Name = "vgg" }},
		{"model.dropout", func(r *recipe.Recipe) { r.Model.Dropout = 1 }},
		{"model.dropout_mode", func(r *recipe.Recipe) { r.Model.DropoutMode = "x" }},
		{"model.pool", func(r *recipe.Recipe) { r.Model.Pool = "avg" }},
		{"data.val_fraction", func(r *recipe.Recipe) { r.Data.ValFraction = 1 }},
		{"data.val_size", func(r *recipe.Recipe) { r.Data.ValSize = -1 }},
		{"data.normalize", func(r *recipe.Recipe) { r.Data.Normalize = "minmax" }},
		{"averaging.ema", func(r *recipe.Recipe) { r.Averaging.EMA = 1 }},
		{"averaging.swa_start", func(r *recipe.Recipe) { r.Averaging.SWAStart = 6 }},
		{"version", func(r *recipe.Recipe) { r.Version = 2 }},
	}
	for _, c := range cases {
		r := recipe.Default()
		c.edit(&r)
		err := r.Validate()
		var re *recipe.RangeError
		if !errors.As(err, &re) || re.Field != c.field || !errors.Is(err, recipe.ErrInvalid) {
			t.Errorf("%s: error %v, want a RangeError for the field", c.field, err)
		}
	}
}

func TestValidateConsistency(t *testing.T) {
	cases := []struct {
		name, want string
		edit       func(r *recipe.Recipe)
	}{
		{"plateau without val", "validation", func(r *recipe.Recipe) { r.Schedule = "plateau" }},
		{"early stop without val", "validation", func(r *recipe.Recipe) { r.EarlyStop = 2 }},
		{"both val fields", "both", func(r *recipe.Recipe) { r.Data.ValFraction, r.Data.ValSize = 0.1, 100 }},
		{"unused beta1 on sgd", "beta1", func(r *recipe.Recipe) { r.Optim.Beta1 = 0.5 }},
		{"nesterov without momentum", "nesterov", func(r *recipe.Recipe) { r.Optim.Momentum = 0 }},
		{"image size for mnist", "image_size", func(r *recipe.Recipe) { r.Data.ImageSize = 32 }},
		{"image folder without size", "image_size", func(r *recipe.Recipe) { r.Data.Source = "images:/tmp/x" }},
		{"empty schedule", "schedule", func(r *recipe.Recipe) { r.Schedule = " " }},
		{"second order with a schedule", "schedule", func(r *recipe.Recipe) {
			r.Optim.Name, r.Optim.Momentum, r.Optim.Nesterov, r.Model.Name = "lbfgs", 0, false, "linear"
		}},
	}
	for _, c := range cases {
		r := recipe.Default()
		c.edit(&r)
		err := r.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, recipe.ErrInvalid) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	r := recipe.Default()
	r.Schedule, r.EarlyStop, r.Data.ValFraction = "plateau", 3, 0.1
	if err := r.Validate(); err != nil {
		t.Errorf("plateau and early stop with a validation split: %v", err)
	}
}

// TestZeroMeansZero: zero is a value, not "use the default", for every field where zero
// means something.
func TestZeroMeansZero(t *testing.T) {
	for _, opt := range []string{"sgd", "adam", "adamw", "rmsprop", "adagrad"} {
		r, err := recipe.Defaults("mlp", opt, "mnist")
		if err != nil {
			t.Fatal(err)
		}
		r.Optim.WeightDecay = 0
		if opt == "adam" || opt == "adamw" {
			r.Optim.Beta1 = 0
		}
		r.Model.Dropout = 0
		if err := r.Validate(); err != nil {
			t.Fatalf("%s: %v", opt, err)
		}
		back, err := recipe.Parse(r.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if back.Optim.WeightDecay != 0 || back.Optim.Beta1 != r.Optim.Beta1 || back.Model.Dropout != 0 {
			t.Errorf("%s: zeros lost in JSON: %s", opt, back.Marshal())
		}
	}
}

func TestJSONRoundTripAndVersion(t *testing.T) {
	r := recipe.Default()
	r.Model.Name, r.Data.ValFraction, r.Averaging.EMA, r.Schedule = "cnn", 0.1, 0.999, "cosine"
	back, err := recipe.Parse(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Marshal()) != string(r.Marshal()) {
		t.Fatalf("round trip changed the recipe:\n%s\n%s", r.Marshal(), back.Marshal())
	}
	bad := map[string]string{
		"no version":    `{"epochs": 1}`,
		"version 2":     strings.Replace(string(r.Marshal()), `"version": 1`, `"version": 2`, 1),
		"unknown field": strings.Replace(string(r.Marshal()), `"epochs"`, `"epoch_count": 3, "epochs"`, 1),
		"invalid value": strings.Replace(string(r.Marshal()), `"batch": 128`, `"batch": -1`, 1),
		"trailing":      string(r.Marshal()) + "{}",
		"not json":      "recipe",
	}
	for name, b := range bad {
		if _, err := recipe.Parse([]byte(b)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestDiff(t *testing.T) {
	a := recipe.Default()
	b := a
	b.Optim.LR, b.Epochs = 0.1, 7
	d := recipe.Diff(a, b)
	if len(d) != 2 || !strings.HasPrefix(d[0], "epochs: 5 → 7") || !strings.HasPrefix(d[1], "optim.lr: 0.2 → 0.1") {
		t.Fatalf("Diff = %q", d)
	}
	if d := recipe.Diff(a, a); len(d) != 0 {
		t.Fatalf("Diff of equal recipes = %q", d)
	}
}

func TestEnsembleMemberZeroIsTheRecipe(t *testing.T) {
	r := recipe.Default()
	e := recipe.DefaultEnsemble(r)
	e.LRs = []float64{0.1, 0.2}
	if m := e.Member(0, r.Threads); m.Seed != r.Seed || m.Optim.LR != 0.1 {
		t.Errorf("member 0: seed %d lr %v", m.Seed, m.Optim.LR)
	}
	if m := e.Member(3, 1); m.Seed != r.Seed+3 || m.Optim.LR != 0.2 || m.Threads != 1 {
		t.Errorf("member 3: seed %d lr %v threads %d", m.Seed, m.Optim.LR, m.Threads)
	}
	e.Members = 0
	if err := e.Validate(); err == nil {
		t.Error("0 members validated")
	}
}
