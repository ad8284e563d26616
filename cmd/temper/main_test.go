package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestBadFlagsExitTwoWithOneLine(t *testing.T) {
	cases := [][]string{
		{"train", "--epochs", "0"},
		{"train", "--epochs", "abc"},
		{"train", "--lr", "-1"},
		{"train", "--batch", "0"},
		{"train", "--threads", "0"},
		{"train", "--model", "nope"},
		{"train", "--optim", "nope", "--train-size", "10"},
		{"train", "--schedule", "step:size=x", "--train-size", "10"},
		{"train", "--no-such-flag"},
		{"train", "extra-arg"},
		{"eval"},
		{"nope"},
		{"train", "--optim", "newton", "--model", "mlp", "--train-size", "10", "-q"},
		{"train", "--optim", "lbfgs", "--history", "-1"},
		{"train", "--dropout", "1.5", "--train-size", "10", "-q"},
		{"train", "--dropout-mode", "nope", "--train-size", "10", "-q"},
		{"train", "--pool", "nope", "--train-size", "10", "-q"},
		{"train", "--stochastic-depth", "0.5", "--train-size", "10", "-q"},
		{"train", "--l2", "-1", "--train-size", "10", "-q"},
		{"train", "--augment", "flip:h+crop:pad=x", "--train-size", "10", "-q"},
		{"train", "--schedule", "plateau", "--train-size", "10", "-q"},
		{"train", "--early-stop", "2", "--train-size", "10", "-q"},
		{"train", "--val-fraction", "1", "-q"},
		{"train", "--data", "nope:x", "-q"},
		{"train", "--data", "images:" + os.TempDir(), "-q"},
		{"predict"},
		{"predict", "model-only"},
		{"predict", "m", "f", "--top", "0"},
		{"ensemble", "train", "--members", "0"},
		{"ensemble", "snapshot", "--epochs", "4", "--cycles", "3"},
		{"lrfind", "--lr", "0.1"},
		{"search", "--val-fraction", "0"},
	}
	for _, args := range cases {
		code, _, stderr := runCLI(args...)
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2 (stderr %q)", args, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "temper: ") {
			t.Errorf("%v: stderr %q, want one line starting with \"temper: \"", args, stderr)
		}
	}
}

func TestMissingDataIsAnError(t *testing.T) {
	code, _, stderr := runCLI("train", "--data", "mnist:"+t.TempDir(), "-q")
	if code != 1 || !strings.Contains(stderr, "train-images") {
		t.Fatalf("exit %d, stderr %q; want 1 and a message naming the missing file", code, stderr)
	}
}

// TestTrainEvalResume trains a small run, checks the files, evaluates the saved model
// (same accuracy to the digit), then resumes for one more epoch.
func TestTrainEvalResume(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	dir := t.TempDir()
	code, out, stderr := runCLI("train", "--train-size", "1000", "--epochs", "1", "--out", dir, "-q")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	for _, f := range []string{"model.safetensors", "metrics.jsonl", "summary.json", "checkpoint.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	var s map[string]any
	raw, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"test", "train_seconds", "samples_per_second", "epochs", "model", "threads", "recipe"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}
	acc := regexp.MustCompile(`test accuracy: ([0-9.]+)`)
	m := acc.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no test accuracy in output %q", out)
	}
	code, evalOut, stderr := runCLI("eval", dir)
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	if m2 := acc.FindStringSubmatch(evalOut); m2 == nil || m2[1] != m[1] {
		t.Fatalf("eval says %q, training said %s", evalOut, m[1])
	}
	code, _, stderr = runCLI("train", "--resume", dir, "--epochs", "2", "--lr", "0.1", "-q")
	if code != 2 || !strings.Contains(stderr, "--lr 0.2 → 0.1") || !strings.Contains(stderr, "only more --epochs, --threads") {
		t.Fatalf("resume with another lr: exit %d, stderr %q; want 2 naming the difference", code, stderr)
	}
	code, out, stderr = runCLI("train", "--resume", dir, "--epochs", "2", "-q")
	if code != 0 || !strings.Contains(out, "resumed") {
		t.Fatalf("resume exit %d: %s %s", code, out, stderr)
	}
	raw, _ = os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if n := strings.Count(string(raw), "\n"); n != 2 {
		t.Fatalf("metrics.jsonl has %d records after resume, want 2", n)
	}
	// A corrupt model file is a clear error, not a panic.
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("garbage"), 0o644)
	if code, _, stderr := runCLI("eval", dir); code != 1 || !strings.Contains(stderr, "model.safetensors") {
		t.Fatalf("corrupt model: exit %d, stderr %q", code, stderr)
	}
}

func TestSecondOrderTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	for _, args := range [][]string{
		{"--optim", "lbfgs", "--max-iter", "5"},
		{"--optim", "lbfgs", "--batch", "100", "--max-iter", "2"},
		{"--optim", "bfgs", "--max-iter", "3"},
	} {
		dir := t.TempDir()
		full := append([]string{"train", "--model", "linear", "--train-size", "500", "--epochs", "1", "--out", dir, "-q"}, args...)
		code, out, stderr := runCLI(full...)
		if code != 0 || !strings.Contains(out, "test accuracy") {
			t.Fatalf("%v: exit %d, %s %s", args, code, out, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRegularizedTrainResumeAndEval trains with every loss- and data-side regularizer,
// resumes, and evaluates: the rebuilt model (classic dropout, DropConnect) must give the
// accuracy training printed.
func TestRegularizedTrainResumeAndEval(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	dir := t.TempDir()
	args := []string{"train", "--train-size", "600", "--epochs", "1", "--out", dir, "-q", "--l2", "1e-3", "--l1", "1e-5",
		"--dropout", "0.3", "--dropout-mode", "classic", "--dropconnect", "0.2", "--augment", "crop:pad=2+mixup:alpha=0.2"}
	code, _, stderr := runCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, out, stderr := runCLI("train", "--resume", dir, "--epochs", "2", "-q")
	if code != 0 {
		t.Fatalf("resume exit %d: %s", code, stderr)
	}
	acc := regexp.MustCompile(`test accuracy: ([0-9.]+)`)
	m := acc.FindStringSubmatch(out)
	code, evalOut, stderr := runCLI("eval", dir)
	if code != 0 || m == nil {
		t.Fatalf("eval exit %d: %s %s", code, out, stderr)
	}
	if m2 := acc.FindStringSubmatch(evalOut); m2 == nil || m2[1] != m[1] {
		t.Fatalf("eval says %q, training said %s", evalOut, m[1])
	}
}
