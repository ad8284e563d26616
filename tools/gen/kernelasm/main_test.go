package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedAssemblyMatchesGenerator fails when a generated .s file in internal/kernel
// was edited by hand or the generator changed without regenerating it. The tuning
// variables (PFDIST, CPF, SKPF, SKPFDIST) must be unset: the committed files use the
// defaults.
func TestCommittedAssemblyMatchesGenerator(t *testing.T) {
	for _, v := range []string{"PFDIST", "CPF", "SKPF", "SKPFDIST"} {
		if os.Getenv(v) != "" {
			t.Skipf("%s is set: the generator output differs from the committed defaults", v)
		}
	}
	for name, gen := range outputs {
		path := filepath.Join("..", "..", "..", "internal", "kernel", name)
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := gen()
		if got == string(committed) {
			continue
		}
		gl, cl := strings.Split(got, "\n"), strings.Split(string(committed), "\n")
		line := 0
		for line < len(gl) && line < len(cl) && gl[line] == cl[line] {
			line++
		}
		t.Errorf("%s drifted from tools/gen/kernelasm at line %d (regenerate it, see the command's doc)", name, line+1)
	}
}
