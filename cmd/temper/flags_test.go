package main

import (
	"strings"
	"testing"
)

// TestFlagRanges: every out-of-range or ineffective flag value of issue #18 is a usage
// error (exit 2) on one line naming the flag and what it wants.
func TestFlagRanges(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--dropout", "-0.1"}, []string{"--dropout -0.1 out of range [0, 1)"}},
		{[]string{"--dropout", "NaN"}, []string{"--dropout NaN out of range [0, 1)"}},
		{[]string{"--ema-every", "0"}, []string{"--ema-every 0 out of range [1, ∞)"}},
		{[]string{"--schedule", ""}, []string{`--schedule ""`, "const"}},
		{[]string{"--schedule", "  "}, []string{`--schedule ""`}},
		{[]string{"--optim", "adam", "--momentum", "0.5"}, []string{"--momentum 0.5 does nothing with optim adam"}},
		{[]string{"--augment", "crop:pad=1048576"}, []string{"crop pad 1048576 out of range [0, 28] for 28x28 images"}},
		{[]string{"--augment", "cutout:size=100000"}, []string{"cutout size 100000 out of range [1, 28]"}},
		{[]string{"--batch", "2001", "--train-size", "2000", "--epochs", "1"}, []string{"onecycle total 1 out of range", "2000 training examples in batches of 2001"}},
		{[]string{"--epochs", "9223372036854775807"}, []string{"--epochs 9223372036854775807 out of range [1, 1048576]"}},
		{[]string{"--epochs", "99999999999999999999"}, []string{"--epochs", "out of range"}},
		{[]string{"--ema-every", "5"}, []string{"--ema-every 5 does nothing without --ema"}},
		{[]string{"--swa-every", "2"}, []string{"--swa-every 2 does nothing without --swa-start"}},
		{[]string{"--swa-lr", "0.1"}, []string{"--swa-lr 0.1 does nothing without --swa-start"}},
		{[]string{"--swa-min-lr", "0.01", "--swa-start", "1"}, []string{"--swa-min-lr 0.01 does nothing without --swa-cyclic"}},
		{[]string{"--history", "5"}, []string{"--history 5 does nothing with optim sgd"}},
		{[]string{"--max-iter", "5"}, []string{"--max-iter 5 does nothing with optim sgd"}},
		{[]string{"--full-batch"}, []string{"--full-batch true does nothing with optim sgd"}},
		{[]string{"--model", "lenet5", "--dropout", "0.3"}, []string{"--dropout 0.3 does nothing: model lenet5 has no dropout layers"}},
		{[]string{"--dropout", "0", "--dropout-mode", "classic"}, []string{"--dropout-mode classic does nothing without dropout"}},
		{[]string{"--optim", "adam", "--nesterov"}, []string{"--nesterov needs sgd"}},
		{[]string{"--eps", "1e-5"}, []string{"--eps 1e-05 does nothing with optim sgd"}},
		{[]string{"--label-smoothing", "1"}, []string{"--label-smoothing 1 out of range [0, 1)"}},
		{[]string{"--threads", "0"}, []string{"--threads 0 out of range [1, 1024]"}},
		{[]string{"--batch", "-1"}, []string{"--batch -1 out of range [1, 1048576]"}},
		{[]string{"--channels", "2"}, []string{"--channels 2 out of range"}},
		{[]string{"--early-stop", "3"}, []string{"--early-stop", "--val-fraction"}},
		{[]string{"--lr", "NaN"}, []string{"--lr NaN out of range (0, ∞)"}},
		{[]string{"--resume", "x", "--overwrite"}, []string{"--overwrite and --resume exclude each other"}},
	} {
		args := append([]string{"train", "-q", "--train-size", "300", "--out", t.TempDir()}, tc.args...)
		code, _, stderr := runCLI(args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", tc.args, code, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
}

// After a non-finite loss the error names the kept checkpoint and the resume command with
// a lower rate; that resume is accepted, a higher rate is refused.
func TestNonFiniteStopSuggestsResume(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI("train", "-q", "--train-size", "500", "--epochs", "3", "--out", dir, "--threads", "1",
		"--lr", "1000", "--schedule", "step:size=2,gamma=1000")
	if code != 3 || !strings.Contains(stderr, "loss is NaN") || !strings.Contains(stderr, "kept the checkpoint of epoch 1") || // 3: exitcode.Diverged
		!strings.Contains(stderr, "temper train --resume "+dir+" --lr 100") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("train", "-q", "--resume", dir, "--lr", "2000"); code != 2 || !strings.Contains(stderr, "may only be lowered") {
		t.Fatalf("resume with a higher lr: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI("train", "-q", "--resume", dir, "--lr", "100"); strings.Contains(stderr, "other settings") {
		t.Fatalf("resume with a lower lr refused: exit %d, %q", code, stderr)
	}
}
