package zoo_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/zoo"
)

// requiredEntries are the entries the zoo must ship.
var requiredEntries = []string{"resnet20-mnist04", "resnet20-mnist", "resnet20-fashion", "cnn-mnist"}

func TestRegistry(t *testing.T) {
	reg, err := zoo.Open()
	if err != nil {
		t.Fatal(err)
	}
	specs, err := zoo.Specs()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		e, err := reg.Get(s.Name)
		if err != nil {
			t.Errorf("recipe %s has no registry entry (run go run ./tools/zoo rebuild): %v", s.Name, err)
			continue
		}
		b, err := e.WeightsFile()
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		r, err := recipe.Parse(e.Recipe)
		if err != nil {
			t.Errorf("%s: recipe: %v", e.Name, err)
		}
		if int64(len(b)) != e.Bytes || e.Params <= 0 || !(e.TestAccuracy > 0.5) || len(e.ClassNames) < 2 || e.License == "" || r.Threads != e.Threads {
			t.Errorf("%s: incomplete entry %+v", e.Name, e)
		}
		m, err := recipe.LoadModel("zoo:" + e.Name)
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
		} else if len(m.ClassNames) != len(e.ClassNames) {
			t.Errorf("%s: model has %d classes, entry %d", e.Name, len(m.ClassNames), len(e.ClassNames))
		}
	}
	for _, n := range requiredEntries {
		if _, err := reg.Get(n); err != nil {
			t.Errorf("required entry: %v", err)
		}
	}
	if _, err := reg.Get("zoo:nope"); !errors.Is(err, zoo.ErrUnknown) || !strings.Contains(err.Error(), "resnet20-mnist04") {
		t.Errorf("unknown entry: %v", err)
	}
}

// TestFingerprint rebuilds the resnet20-mnist04 entry from its committed recipe for a few
// steps (one epoch of its first 256 examples: 2 steps) and checks the weights are
// bit-identical to the ones recorded by the rebuild, at the recorded thread count.
func TestFingerprint(t *testing.T) {
	reg, err := zoo.Open()
	if err != nil {
		t.Fatal(err)
	}
	e, err := reg.Get("resnet20-mnist04")
	if err != nil {
		t.Fatal(err)
	}
	specs, _ := zoo.Specs()
	var spec *zoo.Spec
	for i := range specs {
		if specs[i].Name == e.Name {
			spec = &specs[i]
		}
	}
	r, err := recipe.Parse(spec.Recipe)
	if err != nil {
		t.Fatal(err)
	}
	if r.Threads != e.Threads {
		t.Fatalf("recipe threads %d, entry %d", r.Threads, e.Threads)
	}
	fp, err := recipe.Fingerprint(r, e.Fingerprint.TrainSize)
	if err != nil {
		t.Fatal(err)
	}
	if fp != e.Fingerprint {
		t.Errorf("rebuilt fingerprint %+v, registry %+v: the recipe no longer rebuilds the entry bit for bit", fp, e.Fingerprint)
	}
}

func TestCorruptWeights(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(zoo.RegistryFile))
	os.MkdirAll(filepath.Join(dir, zoo.WeightsDir), 0o755)
	os.WriteFile(filepath.Join(dir, zoo.RegistryFile), src, 0o644)
	w, err := os.ReadFile(filepath.Join(zoo.WeightsDir, "resnet20-mnist04.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	w[100] ^= 1
	os.WriteFile(filepath.Join(dir, zoo.WeightsDir, "resnet20-mnist04.safetensors"), w, 0o644)
	reg, err := zoo.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := reg.Get("resnet20-mnist04")
	if _, err := e.WeightsFile(); !errors.Is(err, zoo.ErrChecksum) || strings.Contains(err.Error(), "\n") {
		t.Errorf("corrupt weights: %v", err)
	}
	t.Setenv(zoo.EnvDir, dir)
	if _, err := recipe.LoadModel("zoo:resnet20-mnist04"); !errors.Is(err, zoo.ErrChecksum) {
		t.Errorf("LoadModel of a corrupt entry: %v", err)
	}
}

// Example lists the zoo and loads an entry as a model.
func Example() {
	reg, err := zoo.Open()
	if err != nil {
		panic(err)
	}
	e, err := reg.Get("resnet20-mnist04")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Name, e.Architecture, e.ClassNames, e.InputShape)
	m, err := recipe.LoadModel("zoo:" + e.Name)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(m.ClassNames), "classes")
	// Output:
	// resnet20-mnist04 resnet20 [0 1 2 3 4] [1 28 28]
	// 5 classes
}
