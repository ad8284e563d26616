package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestLRFindBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"lrfind", "--start-lr", "0"}, "--start-lr 0 out of range"},
		{[]string{"lrfind", "--end-lr", "-1"}, "--end-lr -1 out of range"},
		{[]string{"lrfind", "--start-lr", "1", "--end-lr", "0.1"}, "--end-lr 0.1 out of range (--start-lr 1"},
		{[]string{"lrfind", "--steps", "1"}, "--steps 1 out of range [2, ∞)"},
		{[]string{"lrfind", "--diverge", "1"}, "--diverge 1 out of range"},
		{[]string{"lrfind", "--beta", "1"}, "--beta 1 out of range"},
		{[]string{"lrfind", "--valley-sigmas", "NaN"}, "--valley-sigmas NaN out of range"},
		{[]string{"lrfind", "--suggest", "median"}, `--suggest "median" unknown`},
		{[]string{"lrfind", "--batch", "0"}, "--batch 0 out of range"},
		{[]string{"lrfind", "--threads", "0"}, "--threads 0 out of range"},
		{[]string{"lrfind", "--model", "nope", "--train-size", "10"}, "nope"},
		{[]string{"lrfind", "--optim", "nope", "--train-size", "10"}, "nope"},
		{[]string{"lrfind", "--steps", "ten"}, "invalid argument"},
		{[]string{"lrfind", "extra"}, "unknown command"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, stderr)
		}
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", c.args, stderr, c.want)
		}
	}
	if code, _, stderr := runCLI("lrfind", "--data", "mnist:"+t.TempDir()); code != 1 || !strings.Contains(stderr, "train-images") {
		t.Errorf("missing data: exit %d, stderr %q", code, stderr)
	}
}

// TestLRFindMNIST runs a short range test on 2000 MNIST images: it prints the four
// suggestions and "suggested lr: X" and writes lrfind.png and lrfind.csv.
func TestLRFindMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	dir := t.TempDir()
	code, out, stderr := runCLI("lrfind", "--train-size", "2000", "--steps", "60", "--start-lr", "1e-5", "--out", dir, "--threads", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	for _, m := range []string{"valley", "steep", "minimum", "slide"} {
		if !regexp.MustCompile(`(?m)^  ` + m + ` +[0-9.e+-]+`).MatchString(out) {
			t.Errorf("no %s suggestion in %q", m, out)
		}
	}
	sm := regexp.MustCompile(`suggested lr: ([0-9.e+-]+) \(valley\)`).FindStringSubmatch(out)
	if sm == nil {
		t.Fatalf("no suggested lr in %q", out)
	}
	lr, err := strconv.ParseFloat(sm[1], 64)
	if err != nil || lr < 1e-5 || lr > 10 {
		t.Errorf("suggested lr %q outside the sweep", sm[1])
	}
	png, err := os.ReadFile(filepath.Join(dir, "lrfind.png"))
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("lrfind.png: %v", err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "lrfind.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "step,lr,loss,smoothed\n0,1e-05,") {
		t.Errorf("lrfind.csv: %v %.80q", err, csv)
	}
	// --suggest picks the rule on the last line.
	code, out, _ = runCLI("lrfind", "--train-size", "2000", "--steps", "60", "--start-lr", "1e-5", "--out", dir, "--suggest", "minimum")
	if code != 0 || !regexp.MustCompile(`suggested lr: [0-9.e+-]+ \(minimum\)`).MatchString(out) {
		t.Errorf("--suggest minimum: exit %d, %q", code, out)
	}
}
