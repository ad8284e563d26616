package recipe_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/zoo"
)

// digits59 is a fine-tuning recipe from the zoo's digits-0–4 ResNet-20 onto 256 training
// examples of the digits 5–9, with its data loaded and the test set cut to 200 examples.
func digits59(t *testing.T, strategy string) (recipe.Recipe, *recipe.Splits) {
	t.Helper()
	r, err := recipe.FinetuneDefaults("zoo:resnet20-mnist04", "mnist", strategy)
	if err != nil {
		t.Fatal(err)
	}
	r.Data.Classes = []int{5, 6, 7, 8, 9}
	r.Data.TrainSize = 256
	r.Epochs, r.Batch, r.Threads = 3, 64, 1
	s, err := r.LoadData()
	if err != nil {
		t.Fatal(err)
	}
	if s.Test, err = s.Test.Head(200); err != nil {
		t.Fatal(err)
	}
	return r, s
}

func source(t *testing.T) map[string][]float32 {
	t.Helper()
	reg, err := zoo.Open()
	if err != nil {
		t.Fatal(err)
	}
	e, err := reg.Get("resnet20-mnist04")
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.WeightsFile()
	if err != nil {
		t.Fatal(err)
	}
	f, err := checkpoint.Parse("zoo", b)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for k, v := range f.Tensors {
		out[k] = v.Data()
	}
	return out
}

// TestFinetuneFrozenBitIdentical trains last:1 (stem, layer1 and layer2 frozen) for three
// epochs with momentum and weight decay: every frozen parameter and every running
// statistic of a frozen BN stays bit-identical to the pretrained weights, the optimizer
// holds no frozen parameter, and the rest moved. Resuming from its checkpoint keeps the
// freeze.
func TestFinetuneFrozenBitIdentical(t *testing.T) {
	r, s := digits59(t, "last:1")
	if r.Optim.Momentum == 0 || r.Optim.WeightDecay == 0 {
		t.Fatal("the test needs momentum and weight decay")
	}
	dir := t.TempDir()
	var log bytes.Buffer
	run, err := r.Build(recipe.Options{Splits: s, OutDir: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range run.Optimizer.Groups() {
		for _, p := range g.Params {
			if strings.HasPrefix(p.Name, "layer1.") || strings.HasPrefix(p.Name, "conv1") {
				t.Fatalf("frozen %s is in the optimizer", p.Name)
			}
		}
	}
	res, err := run.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src := source(t)
	check := func(m nn.Module, what string) {
		for _, e := range nn.StateDict(m) {
			frozen := !strings.HasPrefix(e.Name, "layer3.") && !strings.HasPrefix(e.Name, "linear.")
			same := slices.Equal(src[e.Name], e.T.Data())
			if strings.HasSuffix(e.Name, "num_batches_tracked") {
				continue
			}
			if frozen && !same {
				t.Errorf("%s: frozen %s changed", what, e.Name)
			}
			if !frozen && same {
				t.Errorf("%s: trainable %s did not change", what, e.Name)
			}
		}
	}
	check(run.Model, "after 3 epochs")
	if res.Transfer == nil || len(res.Transfer.Frozen) != 3 || res.Transfer.Groups[4].LR != r.Optim.LR {
		t.Errorf("summary transfer %+v", res.Transfer)
	}
	for _, want := range []string{"load:", "skipped", "freeze: 3 layer groups frozen", "lr per layer group"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	// Resume: the checkpoint's recipe carries the freeze policy.
	rr, err := recipe.ReadCheckpointRecipe(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Transfer == nil || rr.Transfer.Strategy != "last:1" {
		t.Fatalf("checkpoint recipe transfer %+v", rr.Transfer)
	}
	rr.Epochs = 4
	run.Close() // release the folder for the resumed run
	run2, err := rr.Build(recipe.Options{Splits: s, OutDir: dir, OutMode: recipe.OutResume})
	if err != nil {
		t.Fatal(err)
	}
	defer run2.Close()
	if err := run2.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := run2.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(run2.Model, "after resuming for a fourth epoch")
}

func TestFinetuneStrategies(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	cache := t.TempDir()
	for _, strategy := range []string{"head", "full", "fastai", "probe"} {
		r, s := digits59(t, strategy)
		r.Epochs, r.Optim.LR = 4, 0.1
		res, err := recipe.Finetune(context.Background(), r, recipe.Options{Splits: s}, cache)
		if err != nil {
			t.Fatalf("%s: %v", strategy, err)
		}
		if res.Test == nil || res.Test.Accuracy < 0.5 {
			t.Errorf("%s: test %+v, want better than 50%% on digits 5-9 after transfer", strategy, res.Test)
		}
		if strategy == "probe" {
			again, err := recipe.Finetune(context.Background(), r, recipe.Options{Splits: s}, cache)
			if err != nil {
				t.Fatal(err)
			}
			if again.CacheHits != 2 || again.Test.Accuracy != res.Test.Accuracy {
				t.Errorf("second probe: %d cache hits, accuracy %v vs %v", again.CacheHits, again.Test.Accuracy, res.Test.Accuracy)
			}
		}
		if strategy == "fastai" && len(res.Phases) != 2 {
			t.Errorf("fastai: %d phases", len(res.Phases))
		}
	}
}

func TestDiscriminativeLR(t *testing.T) {
	r, s := digits59(t, "full")
	r.Transfer.LRSlice = []float64{0.001, 0.1}
	run, err := r.Build(recipe.Options{Splits: s})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	want := []float64{0.001, 0.001 * 3.1622776601683795, 0.01, 0.031622776601683794, 0.1}
	for i, g := range run.Transfer.Groups {
		if d := g.LR/want[i] - 1; d > 1e-12 || d < -1e-12 {
			t.Errorf("lr_slice group %s: lr %v, want %v", g.Name, g.LR, want[i])
		}
	}
	r.Transfer.LRSlice, r.Transfer.LayerDecay = nil, 0.5
	run2, err := r.Build(recipe.Options{Splits: s})
	if err != nil {
		t.Fatal(err)
	}
	defer run2.Close()
	for i, g := range run2.Transfer.Groups {
		if w := r.Optim.LR / float64(int(1)<<(4-i)); g.LR != w {
			t.Errorf("layer_decay group %s: lr %v, want %v", g.Name, g.LR, w)
		}
	}
	if len(run2.Optimizer.Groups()) != 5 {
		t.Errorf("%d optimizer groups, want 5", len(run2.Optimizer.Groups()))
	}
}

// TestStemAdaptation fine-tunes the 1-channel zoo model on 3-channel input: the stem's
// kernels are repeated and scaled by 1/3, and the report says so.
func TestStemAdaptation(t *testing.T) {
	r, s := digits59(t, "head")
	r.Data.Channels = 3
	s3, err := r.LoadData()
	if err != nil {
		t.Fatal(err)
	}
	_ = s
	run, err := r.Build(recipe.Options{Splits: s3})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if !slices.ContainsFunc(run.Transfer.Load.Adapted, func(a string) bool { return strings.Contains(a, "from 1 to 3 input channels") }) {
		t.Errorf("adapted %v", run.Transfer.Load.Adapted)
	}
	src := source(t)["conv1.weight"]
	got := nn.StateDict(run.Model)[0]
	if got.Name != "conv1.weight" || got.T.Shape()[1] != 3 {
		t.Fatalf("%s %v", got.Name, got.T.Shape())
	}
	d := got.T.Data()
	for o := 0; o < 16; o++ {
		for c := 0; c < 3; c++ {
			for k := 0; k < 9; k++ {
				if d[(o*3+c)*9+k] != src[o*9+k]/3 {
					t.Fatalf("conv1.weight[%d,%d,%d] = %v, want %v/3", o, c, k, d[(o*3+c)*9+k], src[o*9+k])
				}
			}
		}
	}
	if len(run.Data.Norm.Mean) != 3 || run.Data.Norm.Mean[0] != run.Data.Norm.Mean[2] {
		t.Errorf("normalization %v, want the source's repeated over 3 channels", run.Data.Norm)
	}
}

func TestTransferBadInput(t *testing.T) {
	r, s := digits59(t, "head")
	cnn := r
	cnn.Model.Name = "cnn"
	if _, err := cnn.Build(recipe.Options{Splits: s}); err == nil || !strings.Contains(err.Error(), "another architecture") {
		t.Errorf("resnet20 weights for a cnn: %v", err)
	}
	keep := r
	tr := *r.Transfer
	tr.KeepHead = true
	keep.Transfer = &tr
	keep.Data.Classes = []int{5, 6, 7}
	if _, err := keep.Build(recipe.Options{}); err == nil || !strings.Contains(err.Error(), "drop transfer.keep_head") || strings.Contains(err.Error(), "\n") {
		t.Errorf("keep_head with 5 source classes and 3 target classes: %v", err)
	}
	if _, err := recipe.FinetuneDefaults("zoo:resnet50", "mnist", "head"); !errors.Is(err, zoo.ErrUnknown) || !strings.Contains(err.Error(), "resnet20-mnist04") {
		t.Errorf("unknown zoo entry: %v", err)
	}
	for _, bad := range []string{"last:0", "last:x", "everything"} {
		b := r
		tb := *r.Transfer
		tb.Strategy = bad
		b.Transfer = &tb
		if err := b.Validate(); !errors.Is(err, recipe.ErrInvalid) {
			t.Errorf("strategy %q: %v", bad, err)
		}
	}
	deep := r
	td := *r.Transfer
	td.Strategy = "last:5"
	deep.Transfer = &td
	if _, err := deep.Build(recipe.Options{Splits: s}); err == nil || !strings.Contains(err.Error(), "4 layer groups below its head") {
		t.Errorf("last:5 of resnet20: %v", err)
	}
	// A file whose weights changed since the recipe was made.
	dir := t.TempDir()
	f := filepath.Join(dir, "m.safetensors")
	reg, _ := zoo.Open()
	e, _ := reg.Get("resnet20-mnist04")
	b, _ := e.WeightsFile()
	os.WriteFile(f, b, 0o644)
	fr, err := recipe.FinetuneDefaults(f, "mnist", "head")
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	os.WriteFile(f, b, 0o644)
	fr.Data.Classes = r.Data.Classes
	if _, err := fr.Build(recipe.Options{Splits: s}); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("changed source weights: %v", err)
	}
}
