package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestScheduleShow(t *testing.T) {
	cases := []struct {
		args []string
		want []float64 // lr per step
	}{
		{[]string{"schedule", "show", "step:size=3,gamma=0.5", "--steps", "7", "--lr", "0.2"}, []float64{0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05}},
		// every=epoch stages count epochs of --steps-per-epoch batches.
		{[]string{"schedule", "show", "step:size=1,gamma=0.1", "--steps", "4", "--lr", "1", "--steps-per-epoch", "2"}, []float64{1, 1, 0.1, 0.1}},
		{[]string{"schedule", "show", "invtime:k=1", "--steps", "3", "--lr", "1"}, []float64{1, 0.5, 1.0 / 3}},
		{[]string{"schedule", "show", "warmup:steps=2+const", "--steps", "4", "--lr", "0.4"}, []float64{0, 0.2, 0.4, 0.4}},
	}
	for _, c := range cases {
		code, out, stderr := runCLI(c.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if lines[0] != "step,lr" || len(lines) != len(c.want)+1 {
			t.Fatalf("%v: output %q", c.args, out)
		}
		for i, w := range c.want {
			f := strings.Split(lines[i+1], ",")
			got, err := strconv.ParseFloat(f[1], 64)
			if f[0] != strconv.Itoa(i) || err != nil || !near(got, w) {
				t.Errorf("%v: row %d is %q, want %d,%v", c.args, i, lines[i+1], i, w)
			}
		}
	}
	// --momentum adds the momentum of a one-cycle schedule (0.95 at the start).
	code, out, _ := runCLI("schedule", "show", "onecycle:max=0.1", "--steps", "10", "--momentum")
	if code != 0 || !strings.HasPrefix(out, "step,lr,momentum\n0,") || !strings.Contains(strings.Split(out, "\n")[1], ",0.95") {
		t.Errorf("onecycle with --momentum: exit %d, %q", code, out)
	}
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-12*(1+b)
}

func TestSchedulePlot(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.png", "b.svg"} {
		p := filepath.Join(dir, name)
		code, out, stderr := runCLI("schedule", "plot", "cosine-restarts:t0=10,tmult=2", "onecycle:max=0.1", "--steps", "70", "--out", p)
		if code != 0 || !strings.Contains(out, "wrote") {
			t.Fatalf("plot %s: exit %d: %s %s", name, code, out, stderr)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if name == "a.png" && !strings.HasPrefix(string(b), "\x89PNG") {
			t.Errorf("%s is not a PNG", p)
		}
		if name == "b.svg" && !strings.Contains(string(b), "<svg") {
			t.Errorf("%s is not an SVG", p)
		}
	}
	code, _, _ := runCLI("schedule", "plot", "step:size=5", "--log", "--steps", "20", "--out", filepath.Join(dir, "c.png"))
	if code != 0 {
		t.Errorf("--log plot: exit %d", code)
	}
}

// TestScheduleBadInput: usage errors exit 2 with one line; a malformed SPEC's message
// quotes the bad fragment and its byte offset.
func TestScheduleBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"schedule", "show", "step:size=x"}, `at column 11: want an integer in [0, 2^40] for size, got "x"`},
		{[]string{"schedule", "show", "warmup:steps=3+cosin"}, `at column 16: unknown schedule "cosin"`},
		{[]string{"schedule", "show", "step:size=5,gama=0.1"}, `"gama"`},
		{[]string{"schedule", "show", "cosine:tmax=10+"}, "end of spec"},
		{[]string{"schedule", "plot", "step:size=5", "exp:", "--out", filepath.Join(dir, "x.png")}, `schedule "exp:": at column 5 (end of spec)`},
		{[]string{"schedule", "show", "step:size=5", "--steps", "0"}, "--steps 0 out of range"},
		{[]string{"schedule", "show", "step:size=5", "--lr", "-1"}, "--lr -1 out of range"},
		{[]string{"schedule", "show", "step:size=5", "--steps-per-epoch", "-1"}, "--steps-per-epoch -1"},
		{[]string{"schedule", "show"}, "want 1 SPEC"},
		{[]string{"schedule", "show", "a", "b"}, "want 1 SPEC"},
		{[]string{"schedule", "plot", "--out", "x.png"}, "at least 1 SPEC"},
		{[]string{"schedule", "plot", "step:size=5", "--out", filepath.Join(dir, "x.gif")}, ".png, .svg or .pdf"},
		{[]string{"schedule"}, "show or plot"},
		{[]string{"schedule", "show", "step:size=5", "--nope"}, "unknown flag"},
	}
	for _, c := range cases {
		code, out, stderr := runCLI(c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, stderr)
		}
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "temper: ") {
			t.Errorf("%v: stderr %q, want one line starting with \"temper: \"", c.args, stderr)
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, stderr, c.want)
		}
		if out != "" {
			t.Errorf("%v: wrote %q to stdout on error", c.args, out)
		}
	}
}
