// Command zoo rebuilds temper's model zoo from its committed recipes:
//
//	go run ./tools/zoo rebuild [-only NAME[,NAME]] [-fingerprint-only]
//
// For every zoo/recipes/NAME.json it trains the recipe (recipe.Build + Fit), writes the
// model file to zoo/weights/NAME.safetensors, measures its test accuracy and rewrites the
// entry in zoo/registry.json (name, architecture, dataset and split, class names, input
// shape, normalization, the recipe, test accuracy, parameter count, SHA-256, license).
// It also records each entry's Fingerprint (zoo.Fingerprint): the state hash after one
// epoch of the recipe over its first 256 training examples, which TestFingerprint
// recomputes. Run it from the repository root.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
	"github.com/temperml/temper/zoo"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "rebuild" {
		fmt.Fprintln(os.Stderr, "usage: go run ./tools/zoo rebuild [-only NAME[,NAME]] [-fingerprint-only] [-dir zoo]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	only := fs.String("only", "", "rebuild only these entries (comma-separated)")
	fpOnly := fs.Bool("fingerprint-only", false, "recompute the fingerprints only (keeps weights and accuracies)")
	dir := fs.String("dir", "zoo", "the zoo package folder")
	if err := fs.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if err := rebuild(*dir, *only, *fpOnly, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "zoo:", err)
		os.Exit(1)
	}
}

func rebuild(dir, only string, fpOnly bool, w io.Writer) error {
	specs, err := zoo.Specs()
	if err != nil {
		return err
	}
	regPath := filepath.Join(dir, zoo.RegistryFile)
	b, err := os.ReadFile(regPath)
	if err != nil {
		return err
	}
	reg, err := zoo.ParseRegistry(b)
	if err != nil {
		return err
	}
	var want []string
	if only != "" {
		want = strings.Split(only, ",")
	}
	for _, s := range specs {
		if want != nil && !slices.Contains(want, s.Name) {
			continue
		}
		e := zoo.Entry{Name: s.Name}
		if old, err := reg.Get(s.Name); err == nil {
			e = *old
		}
		if err := build(dir, s, &e, fpOnly, w); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		reg.Entries = slices.DeleteFunc(reg.Entries, func(x zoo.Entry) bool { return x.Name == s.Name })
		reg.Entries = append(reg.Entries, e)
		// Written after every entry, so a long rebuild keeps what it finished.
		if err := checkpoint.WriteFileAtomic(regPath, func(w io.Writer) error { _, err := w.Write(reg.Marshal()); return err }); err != nil {
			return err
		}
	}
	return nil
}

// FingerprintSize is the number of training examples of a fingerprint run.
const FingerprintSize = 256

func build(dir string, s zoo.Spec, e *zoo.Entry, fpOnly bool, w io.Writer) error {
	r, err := recipe.Parse(s.Recipe)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: fingerprint (%d examples, 1 epoch, %d threads)\n", s.Name, FingerprintSize, r.Threads)
	if e.Fingerprint, err = recipe.Fingerprint(r, FingerprintSize); err != nil {
		return err
	}
	if fpOnly {
		return nil
	}
	out, err := os.MkdirTemp("", "zoo-"+s.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	run, err := r.Build(recipe.Options{OutDir: out, Callbacks: []train.Callback{train.NewProgress(w)}})
	if err != nil {
		return err
	}
	defer run.Close()
	fmt.Fprintf(w, "%s: training %s on %s (%d examples), %d epochs, %d threads\n", s.Name, r.Model.Name, run.Data.Name, run.Data.Train.Len(), r.Epochs, r.Threads)
	res, err := run.Fit(context.Background())
	if err != nil {
		return err
	}
	if res.Test == nil {
		return fmt.Errorf("the recipe's data has no test split: a zoo entry needs a measured test accuracy")
	}
	weights, err := os.ReadFile(filepath.Join(out, recipe.ModelFile))
	if err != nil {
		return err
	}
	e.Weights = s.Name + ".safetensors"
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, zoo.WeightsDir, e.Weights), func(w io.Writer) error { _, err := w.Write(weights); return err }); err != nil {
		return err
	}
	e.Architecture, e.Description, e.License = s.Architecture, s.Description, s.License
	e.Dataset = r.Data.Source
	e.Split = fmt.Sprintf("trained on the %d training examples, tested on the %d test examples", run.Data.Train.Len(), res.Test.Examples)
	if r.Data.Classes != nil {
		e.Split += fmt.Sprintf(" of classes %v", r.Data.Classes)
	}
	e.SourceClasses = r.Data.Classes
	e.ClassNames = run.Data.ClassNames
	e.InputShape = run.Data.Train.Shape()
	e.Normalization = zoo.Normalization{Mean: run.Data.Norm.Mean, Std: run.Data.Norm.Std}
	e.Recipe = r.Marshal()
	e.TestAccuracy, e.TestLoss, e.TestExamples = res.Test.Accuracy, res.Test.Loss, res.Test.Examples
	e.Params = res.Params
	e.Bytes = int64(len(weights))
	e.SHA256 = zoo.SHA256(weights)
	e.Threads = r.Threads
	e.TrainSeconds = res.TrainSeconds
	e.Built = fmt.Sprintf("%s, %s, GOARCH %s, kernel %s, go run ./tools/zoo rebuild", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.GOARCH, res.Kernel)
	fmt.Fprintf(w, "%s: test accuracy %.4f, %d params, sha256 %s\n", s.Name, e.TestAccuracy, e.Params, e.SHA256)
	return nil
}

// cpuModel is the "model name" line of /proc/cpuinfo ("unknown CPU" elsewhere).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
