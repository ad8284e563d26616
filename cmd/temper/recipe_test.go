package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestRunFlagsDefaults: the flags take the defaults of the chosen model, optimizer and
// data for what the user did not give — the optimizer's peak learning rate, 2-pixel
// crops for the convolutional models only, no normalization for MNIST — and never
// override a flag that was given, including an explicit "none".
func TestRunFlagsDefaults(t *testing.T) {
	cases := []struct {
		args []string
		lr   float64
		augm string
		norm string
	}{
		{[]string{"--model", "mlp"}, 0.2, "none", "none"},
		{[]string{"--model", "cnn"}, 0.2, "crop:pad=2", "none"},
		{[]string{"--model", "lenet5"}, 0.2, "crop:pad=2", "none"},
		{[]string{"--model", "resnet20"}, 0.2, "crop:pad=2", "none"},
		{[]string{"--model", "cnn", "--augment", "none"}, 0.2, "none", "none"},
		{[]string{"--model", "cnn", "--augment", "flip:h", "--lr", "0.05"}, 0.05, "flip:h", "none"},
		{[]string{"--model", "mlp", "--augment", "crop:pad=4"}, 0.2, "crop:pad=4", "none"},
		{[]string{"--optim", "adamw"}, 0.003, "none", "none"},
		{[]string{"--model", "cnn", "--data", "fashion-mnist"}, 0.2, "crop:pad=2", "per-channel"},
		{[]string{"--data", "fashion-mnist", "--normalize", "none"}, 0.2, "none", "none"},
	}
	for _, tc := range cases {
		f := pflag.NewFlagSet("train", pflag.ContinueOnError)
		rf := addRunFlags(f, runFlagsAll)
		if err := f.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		r, err := rf.resolve()
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if r.Optim.LR != tc.lr || r.Augment != tc.augm || r.Data.Normalize != tc.norm {
			t.Errorf("%v: lr %g augment %q normalize %q, want %g %q %q", tc.args, r.Optim.LR, r.Augment, r.Data.Normalize, tc.lr, tc.augm, tc.norm)
		}
	}
}

// TestRunFlagsErrors: a bad value is a usage error naming the flag, not the recipe field.
func TestRunFlagsErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--lr", "-1"}, "--lr -1 out of range"},
		{[]string{"--epochs", "0"}, "--epochs 0 out of range"},
		{[]string{"--val-fraction", "1.5"}, "--val-fraction 1.5 out of range"},
		{[]string{"--schedule", "plateau"}, "add --val-fraction F or --val-size N"},
		{[]string{"--early-stop", "3"}, "add --val-fraction F or --val-size N"},
		{[]string{"--schedule", ""}, "--schedule"},
		{[]string{"--augment", ""}, "--augment"},
		{[]string{"--weight-decay", "-0.1"}, "--weight-decay -0.1 out of range"},
		{[]string{"--beta1", "1"}, "--beta1 1 out of range"},
	}
	for _, tc := range cases {
		f := pflag.NewFlagSet("train", pflag.ContinueOnError)
		rf := addRunFlags(f, runFlagsAll)
		if err := f.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := rf.resolve()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
			continue
		}
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %T is not a usage error", tc.args, err)
		}
	}
}
