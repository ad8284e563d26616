package recipe_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

func tinyRecipe(epochs int) recipe.Recipe {
	r := recipe.Default()
	r.Data.TrainSize = 300
	r.Epochs = epochs
	r.Threads = 1
	return r
}

func fit(t *testing.T, r recipe.Recipe, opts recipe.Options, resume string) (*recipe.Result, error) {
	t.Helper()
	run, err := r.Build(opts)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	if resume != "" {
		if err := run.Resume(resume); err != nil {
			return nil, err
		}
	}
	return run.Fit(context.Background())
}

func TestOutDirOneRunAtATime(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := tinyRecipe(1)
	// A stale temporary file of a killed write is removed when the next run claims it.
	os.MkdirAll(dir, 0o755)
	stale := filepath.Join(dir, ".checkpoint.safetensors.tmp-12345")
	os.WriteFile(stale, []byte("half a checkpoint"), 0o644)

	run, err := r.Build(recipe.Options{OutDir: dir, Holder: "first run"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temporary file not removed: %v", err)
	}
	// While it holds the folder a second run fails at once, naming the holder.
	if _, err := r.Build(recipe.Options{OutDir: dir, OutMode: recipe.OutOverwrite}); err == nil || !strings.Contains(err.Error(), "first run") {
		t.Fatalf("second Build on a locked folder: %v, want an error naming the holder", err)
	}
	if _, err := run.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	run.Close()

	// A finished run's folder is refused, listing its files ...
	_, err = r.Build(recipe.Options{OutDir: dir})
	var oe *recipe.OutDirError
	if !errors.As(err, &oe) || !errors.Is(err, recipe.ErrOutInUse) || !strings.Contains(err.Error(), "model.safetensors") {
		t.Fatalf("Build on a finished run's folder: %v, want an OutDirError", err)
	}
	// ... and OutOverwrite removes the old run's files before training: killed before
	// its first epoch, the new run leaves nothing of the old one.
	run, err = r.Build(recipe.Options{OutDir: dir, OutMode: recipe.OutOverwrite})
	if err != nil {
		t.Fatal(err)
	}
	run.Close()
	for _, n := range []string{recipe.ModelFile, recipe.SummaryFile, train.StateFile, train.MetricsFile} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s of the old run is still there after OutOverwrite", n)
		}
	}
}

func TestResumeChecksTheRecipe(t *testing.T) {
	dir := t.TempDir()
	r := tinyRecipe(2)
	if _, err := fit(t, r, recipe.Options{OutDir: dir}, ""); err != nil {
		t.Fatal(err)
	}
	// Every disallowed difference is listed; fields not given are not compared.
	g := r
	g.Model.Name, g.Batch, g.Seed, g.Optim.LR, g.Data.TrainSize, g.Epochs = "cnn", 64, 7, 0.1, 200, 1
	set := map[string]bool{"model.name": true, "batch": true, "seed": true, "optim.lr": true, "data.train_size": true, "epochs": true}
	_, err := recipe.ResumeRecipe(dir, g, set)
	var re *recipe.ResumeError
	if !errors.As(err, &re) || len(re.Differs) != 6 {
		t.Fatalf("ResumeRecipe: %v, want a ResumeError listing 6 differences", err)
	}
	for _, want := range []string{"model.name", "batch", "seed", "optim.lr: 0.2 → 0.1 (the learning rate may only be lowered after a non-finite loss)", "data.train_size", "epochs: 2 → 1 (the checkpoint has completed 2 epochs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// A complete run with nothing more to train is refused too.
	if _, err := recipe.ResumeRecipe(dir, r, nil); err == nil || !strings.Contains(err.Error(), "complete") {
		t.Errorf("resume of a complete run: %v", err)
	}
	// More epochs and other threads are applied, and recorded in the metrics.
	g = r
	g.Epochs, g.Threads = 3, 2
	rr, err := recipe.ResumeRecipe(dir, g, map[string]bool{"epochs": true, "threads": true})
	if err != nil || rr.Epochs != 3 || rr.Threads != 2 {
		t.Fatalf("ResumeRecipe(more epochs, threads) = %d epochs, %d threads, %v", rr.Epochs, rr.Threads, err)
	}
	if _, err := fit(t, rr, recipe.Options{OutDir: dir, OutMode: recipe.OutResume}, dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || strings.Contains(lines[1], "resume_changes") || !strings.Contains(lines[2], `"resume_changes":["epochs: 2 → 3","threads: 1 → 2"]`) {
		t.Fatalf("metrics.jsonl after resume:\n%s", b)
	}
	// Run.Resume refuses a run built from another recipe, whatever ResumeRecipe said.
	other := tinyRecipe(4)
	other.Seed = 9
	if _, err := fit(t, other, recipe.Options{}, dir); !errors.Is(err, recipe.ErrResumeChange) || !strings.Contains(err.Error(), "seed") {
		t.Fatalf("Resume with another seed: %v", err)
	}
}

// After a non-finite stop the learning rate may be lowered (only lowered) on resume.
func TestResumeLowerLRAfterNonFinite(t *testing.T) {
	dir := t.TempDir()
	r := tinyRecipe(1)
	if _, err := fit(t, r, recipe.Options{OutDir: dir}, ""); err != nil {
		t.Fatal(err)
	}
	if err := train.MarkNonFinite(dir, errors.New("train: loss is NaN at epoch 2")); err != nil {
		t.Fatal(err)
	}
	g := r
	g.Epochs, g.Optim.LR = 2, 0.5
	set := map[string]bool{"epochs": true, "optim.lr": true}
	if _, err := recipe.ResumeRecipe(dir, g, set); err == nil || !strings.Contains(err.Error(), "only be lowered") {
		t.Fatalf("raising lr after a NaN stop: %v, want refused", err)
	}
	g.Optim.LR = 0.05
	rr, err := recipe.ResumeRecipe(dir, g, set)
	if err != nil || rr.Optim.LR != 0.05 {
		t.Fatalf("lowering lr after a NaN stop: %v (lr %v)", err, rr.Optim.LR)
	}
	if _, err := fit(t, rr, recipe.Options{OutDir: dir, OutMode: recipe.OutResume}, dir); err != nil {
		t.Fatal(err)
	}
	// The new checkpoint is of a finite epoch: no further lowering without a new NaN.
	g.Epochs, g.Optim.LR = 3, 0.01
	if _, err := recipe.ResumeRecipe(dir, g, set); err == nil {
		t.Fatal("a second lowering without a NaN stop was accepted")
	}
}

// A model or checkpoint holding NaN is refused at load, naming the tensor.
func TestLoadRefusesNonFinite(t *testing.T) {
	dir := t.TempDir()
	r := tinyRecipe(1)
	if _, err := fit(t, r, recipe.Options{OutDir: dir}, ""); err != nil {
		t.Fatal(err)
	}
	poison := func(path, name string) {
		f, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		var named []checkpoint.Named
		for _, n := range f.Names {
			if n == name {
				f.Tensors[n].Data()[3] = float32(math.Inf(1))
			}
			named = append(named, checkpoint.Named{Name: n, T: f.Tensors[n]})
		}
		if err := checkpoint.Save(path, named, f.Meta); err != nil {
			t.Fatal(err)
		}
	}
	poison(filepath.Join(dir, recipe.ModelFile), "1.weight")
	if _, err := recipe.LoadModel(dir); !errors.Is(err, checkpoint.ErrNonFinite) || !strings.Contains(err.Error(), `"1.weight"`) {
		t.Fatalf("LoadModel with an Inf in 1.weight: %v", err)
	}
	poison(filepath.Join(dir, train.StateFile), "model.1.bias")
	g := r
	g.Epochs = 2
	if _, err := fit(t, g, recipe.Options{}, dir); !errors.Is(err, checkpoint.ErrNonFinite) || !strings.Contains(err.Error(), "model.1.bias") {
		t.Fatalf("resume from a checkpoint with an Inf in model.1.bias: %v", err)
	}
}
