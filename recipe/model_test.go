package recipe_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/temperml/temper/recipe"
)

// TestLoadLegacyModel: a model file of an older temper (metadata temper.config, written by
// `temper train --model linear --train-size 2000 --epochs 1` at commit 5abea44, whose
// `temper eval` printed test accuracy 0.8343, test loss 0.5712) still loads and evaluates.
func TestLoadLegacyModel(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	m, err := recipe.LoadModel(filepath.Join("testdata", "legacy-linear.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Recipe.Model.Name != "linear" || len(m.ClassNames) != 10 || m.ClassNames[3] != "3" {
		t.Fatalf("legacy model: %s, classes %v", m.Recipe.Model.Name, m.ClassNames)
	}
	ts, _, err := m.TestSet("")
	if err != nil {
		t.Fatal(err)
	}
	l, acc, err := m.Evaluate(ts, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%.4f %.4f", acc, l); got != "0.8343 0.5712" {
		t.Errorf("legacy model evaluates to %s, the temper that wrote it said 0.8343 0.5712", got)
	}
}

func TestLoadModelErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "g.safetensors")
	os.WriteFile(garbage, []byte("not a model"), 0o644)
	for _, p := range []string{filepath.Join(dir, "missing.safetensors"), garbage, dir} {
		if _, err := recipe.LoadModel(p); err == nil {
			t.Errorf("LoadModel(%s): no error", p)
		}
	}
	// A file without temper metadata is ErrNotModel.
	bare := filepath.Join(dir, "bare.safetensors")
	raw, err := os.ReadFile(filepath.Join("testdata", "legacy-linear.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the metadata key so that it is no longer recognized (same length).
	for i := 0; i+13 <= len(raw); i++ {
		if string(raw[i:i+13]) == "temper.config" {
			copy(raw[i:], "xxxxxx.config")
		}
	}
	os.WriteFile(bare, raw, 0o644)
	if _, err := recipe.LoadModel(bare); !errors.Is(err, recipe.ErrNotModel) {
		t.Errorf("model without temper metadata: %v, want ErrNotModel", err)
	}
}
