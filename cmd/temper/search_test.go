package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	cases := []struct {
		in     string
		lo, hi float64
		bad    bool
	}{
		{"1e-4,1", 1e-4, 1, false},
		{"0.001:0.1", 1e-3, 0.1, false},
		{"1e-3..1e-1", 1e-3, 0.1, false},
		{" 2 , 2 ", 2, 2, false},
		{"1", 0, 0, true},
		{"0,1", 0, 0, true},
		{"1,0.1", 0, 0, true},
		{"a,1", 0, 0, true},
		{"1,inf", 0, 0, true},
	}
	for _, c := range cases {
		r, err := parseRange("lr-range", c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "--lr-range") {
				t.Errorf("%q: error %v, want one naming --lr-range", c.in, err)
			}
			continue
		}
		if err != nil || r.Lo != c.lo || r.Hi != c.hi {
			t.Errorf("%q: got %v, %v; want %g..%g", c.in, r, err, c.lo, c.hi)
		}
	}
}

func TestSearchBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"search", "--lr-range", "1"}, "--lr-range"},
		{[]string{"search", "--lr-range", "1,0.1"}, "--lr-range"},
		{[]string{"search", "--wd-range", "x,1"}, "--wd-range"},
		{[]string{"search", "--trials", "0"}, "--trials 0 out of range"},
		{[]string{"search", "--rounds", "0"}, "--rounds 0 out of range"},
		{[]string{"search", "--top", "0"}, "--top 0 out of range"},
		{[]string{"search", "--epochs", "0"}, "--epochs 0 out of range"},
		{[]string{"search", "--steps", "-1"}, "--steps -1 out of range"},
		{[]string{"search", "--val-fraction", "1"}, "--val-fraction 1 out of range"},
		{[]string{"search", "--threads", "0"}, "--threads 0 out of range"},
		{[]string{"search", "--weight-decay", "-1"}, "--weight-decay -1 out of range"},
		{[]string{"search", "--model", "nope", "--train-size", "10"}, "nope"},
		{[]string{"search", "--nope"}, "unknown flag"},
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
}

// TestSearchMNIST runs a tiny two-round search on 1000 MNIST images, twice with a
// different number of parallel trials: same table, same best.
func TestSearchMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	dir := t.TempDir()
	var tables []string
	for _, threads := range []string{"1", "2"} {
		code, out, stderr := runCLI("search", "--train-size", "1000", "--trials", "3", "--rounds", "2", "--steps", "8",
			"--lr-range", "1e-3,1", "--wd-range", "1e-5,1e-2", "--threads", threads, "--out", dir, "-q")
		if code != 0 {
			t.Fatalf("exit %d: %s %s", code, out, stderr)
		}
		if !regexp.MustCompile(`(?m)^best: lr=[0-9.e+-]+ wd=[0-9.e+-]+ val_acc=[0-9.]+$`).MatchString(out) {
			t.Fatalf("no best line in %q", out)
		}
		if !strings.Contains(out, "rank") || strings.Count(out, "\n") < 9 {
			t.Fatalf("no ranked table of 6 trials in %q", out)
		}
		if !strings.Contains(out, "trained on 900 examples, ranked on 100 held out") {
			t.Errorf("split not reported: %q", out)
		}
		i := strings.Index(out, "trained on")
		tables = append(tables, out[i:strings.Index(out, "wrote")])
	}
	if tables[0] != tables[1] {
		t.Errorf("--threads 1 and 2 differ:\n%s\n%s", tables[0], tables[1])
	}
	csv, err := os.ReadFile(filepath.Join(dir, "search.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 7 {
		t.Errorf("search.csv: %v %q", err, csv)
	}
	png, err := os.ReadFile(filepath.Join(dir, "search.png"))
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("search.png: %v", err)
	}
}
