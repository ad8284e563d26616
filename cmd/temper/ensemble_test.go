package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/ensemble"
)

func TestEnsembleBadInputExitTwo(t *testing.T) {
	cases := [][]string{
		{"ensemble", "train", "--members", "0"},
		{"ensemble", "train", "--ema", "1.5"},
		{"ensemble", "train", "--epochs", "2", "--swa-start", "3"},
		{"ensemble", "train", "--swa-every", "-1"},
		{"ensemble", "train", "--ema-every", "-2"},
		{"ensemble", "train", "--swa-lr", "0.1", "--swa-min-lr", "0.2"},
		{"ensemble", "train", "--lrs", "0.1,x"},
		{"ensemble", "train", "--models", "mlp,nope"},
		{"ensemble", "train", "--combine", "median"},
		{"ensemble", "train", "--parallel", "-1"},
		{"ensemble", "train", "--epochs", "0"},
		{"ensemble", "snapshot", "--cycles", "0"},
		{"ensemble", "snapshot", "--epochs", "4", "--cycles", "3"},
		{"ensemble", "snapshot", "--epochs", "4", "--cycles", "2", "--keep", "3"},
		{"ensemble", "eval"},
		{"ensemble", "eval", "a", "b"},
		{"ensemble", "eval", filepath.Join(t.TempDir(), "none")},
		{"ensemble", "eval", "--combine", "median", "."},
		{"ensemble", "eval", "--threads", "0", "."},
		{"ensemble", "eval", "--last", "-1", "."},
		{"ensemble", "eval", t.TempDir()},
		{"ensemble", "nope"},
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

func TestEnsembleEvalBrokenManifest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ensemble.ManifestFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("ensemble", "eval", dir)
	if code != 1 || !strings.Contains(stderr, "not a valid manifest") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func readSHA(t *testing.T, dir string) []string {
	t.Helper()
	man, err := ensemble.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range man.Members {
		out = append(out, m.SHA256)
	}
	return out
}

// TestEnsembleTrainEval trains a 2-member ensemble twice, in parallel (--threads 2) and
// one member after another (--threads 1): the member files are identical. Then eval,
// moving the folder, and a missing or altered member.
func TestEnsembleTrainEval(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	root := t.TempDir()
	par, seq := filepath.Join(root, "par"), filepath.Join(root, "seq")
	common := []string{"ensemble", "train", "--members", "2", "--train-size", "300", "--epochs", "1", "--batch", "50", "-q"}
	code, out, stderr := runCLI(append(common, "--threads", "2", "--out", par)...)
	if code != 0 {
		t.Fatalf("ensemble train exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "2 at a time with 1 kernel thread(s)") {
		t.Errorf("parallel run did not train 2 members at once:\n%s", out)
	}
	for _, want := range []string{"member-0", "member-1", "mean of members", "ensemble (probabilities) *", "ensemble (vote)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out2, stderr := runCLI(append(common, "--threads", "1", "--out", seq)...)
	if code != 0 {
		t.Fatalf("ensemble train exit %d: %s", code, stderr)
	}
	if !strings.Contains(out2, "1 at a time") {
		t.Errorf("sequential run output:\n%s", out2)
	}
	// --parallel 1 keeps the kernel thread count of --threads 2 with 2 members (1).
	one := filepath.Join(root, "one")
	if code, out, stderr := runCLI(append(common, "--threads", "2", "--parallel", "1", "--out", one)...); code != 0 ||
		!strings.Contains(out, "1 at a time with 1 kernel thread(s)") {
		t.Fatalf("--parallel 1: exit %d: %s\n%s", code, stderr, out)
	}
	a, b, c := readSHA(t, par), readSHA(t, seq), readSHA(t, one)
	if len(a) != 2 || a[0] != b[0] || a[1] != b[1] || a[0] != c[0] || a[1] != c[1] {
		t.Errorf("members differ between parallel and sequential training: %v vs %v vs %v", a, b, c)
	}
	if a[0] == a[1] {
		t.Error("both members are identical")
	}
	// Weight averaging in the members: EMA and SWA weights, loadable by 'temper eval'.
	avg := filepath.Join(root, "avg")
	code, out4, stderr := runCLI(append(common, "--threads", "2", "--out", avg, "--ema", "0.9", "--swa-start", "1")...)
	if code != 0 {
		t.Fatalf("ensemble train with averaging: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"member-0 EMA weights: test accuracy", "member-1 SWA weights: test accuracy"} {
		if !strings.Contains(out4, want) {
			t.Errorf("output lacks %q:\n%s", want, out4)
		}
	}
	for _, f := range []string{"model_swa.safetensors", "model_ema.safetensors", "summary.json", "checkpoint.safetensors"} {
		if _, err := os.Stat(filepath.Join(avg, "member-0", f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, stderr := runCLI("eval", filepath.Join(avg, "member-0", "model_ema.safetensors")); code != 0 {
		t.Errorf("eval model_ema.safetensors: exit %d: %s", code, stderr)
	}
	// Move the folder: eval still works, on the manifest or the folder.
	moved := filepath.Join(root, "moved")
	if err := os.Rename(par, moved); err != nil {
		t.Fatal(err)
	}
	code, out3, stderr := runCLI("ensemble", "eval", filepath.Join(moved, ensemble.ManifestFile))
	if code != 0 {
		t.Fatalf("eval after move: exit %d: %s", code, stderr)
	}
	if tail := func(s string) string { return s[strings.Index(s, "independent ensemble"):] }; tail(out3) != tail(out) {
		t.Errorf("eval after the move differs from the table after training:\n%s\nvs\n%s", out3, out)
	}
	// An altered member, then a missing one: exit 1, one line naming the file.
	p := filepath.Join(moved, "member-1", "model.safetensors")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-2] ^= 1
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		damage     func()
	}{
		{"altered", "checksum mismatch", func() {}},
		{"missing", "member file missing", func() { os.Remove(p) }},
	} {
		tc.damage()
		code, _, stderr := runCLI("ensemble", "eval", moved)
		if code != 1 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "member-1/model.safetensors") ||
			strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s member: exit %d, stderr %q", tc.name, code, stderr)
		}
	}
}

func TestEnsembleSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	dir := t.TempDir()
	code, out, stderr := runCLI("ensemble", "snapshot", "--cycles", "2", "--epochs", "2", "--keep", "2", "--train-size", "300",
		"--batch", "50", "--out", dir, "-q")
	if code != 0 {
		t.Fatalf("snapshot exit %d: %s", code, stderr)
	}
	for _, f := range []string{"snapshot-01.safetensors", "snapshot-02.safetensors", "ensemble.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	for _, want := range []string{"took 2 snapshots", "snapshot-01 (epoch 1)", "snapshot-02 (epoch 2)", "ensemble (probabilities) *"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	man, err := ensemble.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range man.Members {
		if mb.Metrics == nil || !(mb.Metrics.TestAccuracy > 0) {
			t.Errorf("snapshot %s has no test metrics: %+v", mb.Name, mb.Metrics)
		}
	}
	code, out, stderr = runCLI("ensemble", "eval", "--last", "1", dir)
	if code != 0 || strings.Contains(out, "snapshot-01") || !strings.Contains(out, "ensemble of 1 members") {
		t.Errorf("eval --last 1: exit %d, stderr %q, output:\n%s", code, stderr, out)
	}
	if code, _, stderr := runCLI("ensemble", "eval", "--last", "3", dir); code != 2 {
		t.Errorf("eval --last 3 of 2: exit %d (%s), want 2", code, stderr)
	}
	if code, _, stderr := runCLI("eval", filepath.Join(dir, "snapshot-02.safetensors")); code != 0 {
		t.Errorf("eval of a snapshot: exit %d: %s", code, stderr)
	}
}

func TestParseFloats(t *testing.T) {
	if v, err := parseFloats("0.1, 0.2"); err != nil || len(v) != 2 || v[1] != 0.2 {
		t.Errorf("parseFloats: %v %v", v, err)
	}
	for _, bad := range []string{"0", "-1", "x", "inf", "0.1,,0.2"} {
		if _, err := parseFloats(bad); err == nil {
			t.Errorf("parseFloats(%q): no error", bad)
		}
	}
}

// TestEnsembleMemberZeroIsTrain: member 0 of 'ensemble train --members 1 --seed S' is the
// model 'train --seed S' trains with the same flags, byte for byte (recipe, metadata and
// weights), for the default recipe of a conv model (one-cycle, crops).
func TestEnsembleMemberZeroIsTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	root := t.TempDir()
	flags := []string{"--model", "cnn", "--seed", "3", "--train-size", "256", "--epochs", "1", "--batch", "64", "--threads", "2", "-q"}
	a, b := filepath.Join(root, "train"), filepath.Join(root, "ensemble")
	if code, _, stderr := runCLI(append([]string{"train", "--out", a}, flags...)...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(append([]string{"ensemble", "train", "--members", "1", "--out", b}, flags...)...); code != 0 {
		t.Fatalf("ensemble train: exit %d: %s", code, stderr)
	}
	x, err := os.ReadFile(filepath.Join(a, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(b, "member-0", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("member 0 (%d bytes) differs from the model of temper train (%d bytes)", len(y), len(x))
	}
}
