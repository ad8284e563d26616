package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLabAndReportCommands(t *testing.T) {
	for _, args := range [][]string{
		{"lab", "--budget", "huge"},
		{"lab", "--seeds", "-1"},
		{"lab", "--threads", "0"},
		{"lab", "no-such-claim"},
		{"report"},
	} {
		code, _, stderr := runCLI(args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("temper %v: exit %d, stderr %q (want 2 and one line)", args, code, stderr)
		}
	}
	code, out, _ := runCLI("lab", "list")
	if code != 0 || !strings.Contains(out, "reg-l2 (regularization)") || !strings.Contains(out, "transfer-little-data (transfer)") {
		t.Fatalf("lab list: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if code, _, stderr := runCLI("train", "--train-size", "300", "--val-size", "100", "--epochs", "2", "-q", "--out", run); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	page := filepath.Join(dir, "report.html")
	code, out, stderr := runCLI("report", run, "--out", page)
	if code != 0 || !strings.Contains(out, "1 runs") {
		t.Fatalf("report: exit %d %s %s", code, out, stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(b), "Content-Security-Policy") || !strings.Contains(string(b), "best val loss") {
		t.Fatalf("report page: %v", err)
	}
	if code, _, stderr := runCLI("report", t.TempDir()); code != 1 || !strings.Contains(stderr, "nothing to report") {
		t.Errorf("report of an empty folder: exit %d, %q", code, stderr)
	}
}
