package main

import (
	"testing"

	"github.com/spf13/pflag"
)

// TestRecipeDefaults: the default recipe fills what the user did not give — the
// optimizer's peak learning rate, and 2-pixel crops for the convolutional models only —
// and never overrides a flag that was given, including an explicit empty or "none".
func TestRecipeDefaults(t *testing.T) {
	cases := []struct {
		model string
		args  []string
		lr    float64
		augm  string
	}{
		{"mlp", nil, 0.2, ""},
		{"cnn", nil, 0.2, "crop:pad=2"},
		{"lenet5", nil, 0.2, "crop:pad=2"},
		{"resnet20", nil, 0.2, "crop:pad=2"},
		{"cnn", []string{"--augment", "none"}, 0.2, "none"},
		{"cnn", []string{"--augment", ""}, 0.2, ""},
		{"cnn", []string{"--augment", "flip:h", "--lr", "0.05"}, 0.05, "flip:h"},
		{"mlp", []string{"--augment", "crop:pad=4"}, 0.2, "crop:pad=4"},
	}
	for _, tc := range cases {
		c := defaultRunConfig()
		c.Model = tc.model
		f := pflag.NewFlagSet("train", pflag.ContinueOnError)
		f.Float64Var(&c.LR, "lr", c.LR, "")
		f.StringVar(&c.Augment, "augment", "", "")
		if err := f.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		applyRecipeDefaults(f, &c)
		if c.LR != tc.lr || c.Augment != tc.augm {
			t.Errorf("%s %v: lr %g augment %q, want %g %q", tc.model, tc.args, c.LR, c.Augment, tc.lr, tc.augm)
		}
	}
}
