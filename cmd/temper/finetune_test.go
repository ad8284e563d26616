package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/zoo"
)

// TestFinetuneBadInput: each bad input is a one-line error with exit code 1, or 2 for
// usage.
func TestFinetuneBadInput(t *testing.T) {
	base := []string{"finetune", "--data", "mnist", "--classes", "5,6,7", "--labels-per-class", "2", "--epochs", "1", "--threads", "1", "--out", t.TempDir()}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--from", "zoo:resnet50"}, 2, "the zoo has: "},
		{[]string{}, 2, "--from is required"},
		{[]string{"--from", "zoo:resnet20-mnist04", "--model", "cnn"}, 1, "another architecture"},
		{[]string{"--from", "../../checkpoint/testdata/tv_resnet18.safetensors", "--model", "resnet20"}, 1, "another architecture"},
		{[]string{"--from", "zoo:resnet20-mnist04", "--keep-head"}, 1, "drop transfer.keep_head"},
		{[]string{"--from", "zoo:resnet20-mnist04", "--strategy", "last:9"}, 2, "layer groups below its head"},
		{[]string{"--from", "zoo:resnet20-mnist04", "--strategy", "sideways"}, 2, "--strategy"},
		{[]string{"--from", "zoo:resnet20-mnist04", "--lr-slice", "0.1"}, 2, "--lr-slice"},
		{[]string{"--from", "zoo:resnet20-mnist04", "--freeze", "layer9"}, 2, "matches no parameter"},
	} {
		code, _, stderr := runCLI(append(base, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestZooCommands: list names every entry, show prints its record, export writes the
// verified weights; a corrupt weights file (TEMPER_ZOO) is a one-line checksum error.
func TestZooCommands(t *testing.T) {
	code, out, _ := runCLI("zoo", "list")
	if code != 0 || !strings.Contains(out, "resnet20-mnist04") {
		t.Fatalf("zoo list: %d %q", code, out)
	}
	code, out, _ = runCLI("zoo", "show", "resnet20-mnist04")
	if code != 0 || !strings.Contains(out, `"sha256"`) || !strings.Contains(out, `"recipe"`) {
		t.Fatalf("zoo show: %d %q", code, out)
	}
	code, _, stderr := runCLI("zoo", "show", "nope")
	if code != 2 || !strings.Contains(stderr, "resnet20-mnist04") {
		t.Errorf("zoo show nope: %d %q", code, stderr)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "m.safetensors")
	if code, _, stderr := runCLI("zoo", "export", "resnet20-mnist04", file); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	// A zoo folder whose weights were damaged.
	zdir := filepath.Join(dir, "zoo")
	os.MkdirAll(filepath.Join(zdir, zoo.WeightsDir), 0o755)
	reg, _ := os.ReadFile(filepath.Join("..", "..", "zoo", zoo.RegistryFile))
	os.WriteFile(filepath.Join(zdir, zoo.RegistryFile), reg, 0o644)
	b, _ := os.ReadFile(file)
	b[len(b)/2] ^= 0x40
	os.WriteFile(filepath.Join(zdir, zoo.WeightsDir, "resnet20-mnist04.safetensors"), b, 0o644)
	t.Setenv(zoo.EnvDir, zdir)
	for _, args := range [][]string{
		{"zoo", "export", "resnet20-mnist04", filepath.Join(dir, "x")},
		{"finetune", "--from", "zoo:resnet20-mnist04", "--data", "mnist", "--classes", "5,6", "--epochs", "1"},
	} {
		code, _, stderr := runCLI(args...)
		if code != 1 || !strings.Contains(stderr, "checksum") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v with a corrupt zoo file: exit %d, %q", args, code, stderr)
		}
	}
}
