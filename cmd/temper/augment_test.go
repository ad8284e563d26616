package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/data"
)

func TestAugmentPreviewUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "g.png")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"augment", "preview", "--augment", "flip:h+crop:pad=x", "--out", out}, "at column 17: want an integer in [0, 2^20] for pad"},
		{[]string{"augment", "preview", "--augment", "flip:h+blur", "--out", out}, `unknown op "blur"`},
		{[]string{"augment", "preview", "--out", out}, "--augment SPEC is required"},
		{[]string{"augment", "preview", "--augment", "flip"}, "--out FILE is required"},
		{[]string{"augment", "preview", "--augment", "flip", "--out", out, "--n", "0"}, "--n 0 out of range"},
		{[]string{"augment"}, "needs a subcommand"},
	} {
		code, _, stderr := runCLI(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, code, stderr, c.want)
		}
	}
}

func TestAugmentPreviewWritesGrid(t *testing.T) {
	if _, err := data.MNISTDir(""); err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	out := filepath.Join(t.TempDir(), "sub", "grid.png")
	code, stdout, stderr := runCLI("augment", "preview", "--augment", "crop:pad=2+rotate:deg=10+cutmix", "--n", "3", "--copies", "2", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote") {
		t.Errorf("stdout %q", stdout)
	}
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	// 3 columns (original + 2) of 28·3 px with 2 px gaps (8 px after the originals).
	if b := img.Bounds(); b.Dx() != 3*84+2*2+6+4 || b.Dy() != 3*84+4*2 {
		t.Errorf("grid is %dx%d", b.Dx(), b.Dy())
	}
}
