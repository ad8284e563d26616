package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/temperml/temper/rng"
)

// writeImageFolder writes a two-class folder of n images per class: "top" images are
// bright in their upper half, "bottom" ones in their lower half, of assorted sizes, PNG
// and JPEG, with noise.
func writeImageFolder(t *testing.T, dir string, n int) {
	t.Helper()
	r := rng.New(9)
	for _, class := range []string{"bottom", "top"} {
		sub := filepath.Join(dir, class)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			w, h := 20+int(r.Uint64()%24), 20+int(r.Uint64()%24)
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			for y := range h {
				for x := range w {
					v := 40 + int(r.Uint64()%40)
					if (y < h/2) == (class == "top") {
						v += 150
					}
					img.Set(x, y, color.RGBA{uint8(v), uint8(v * 9 / 10), uint8(v * 8 / 10), 255})
				}
			}
			p := filepath.Join(sub, fmt.Sprintf("%s-%02d", class, i))
			f, err := os.Create(p + map[bool]string{true: ".png", false: ".jpg"}[i%2 == 0])
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				err = png.Encode(f, img)
			} else {
				err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

// TestImageFolderTrainEvalPredict: a folder of the user's own images, end to end.
func TestImageFolderTrainEvalPredict(t *testing.T) {
	root := t.TempDir()
	imgs, out := filepath.Join(root, "imgs"), filepath.Join(root, "run")
	writeImageFolder(t, imgs, 24)
	code, stdout, stderr := runCLI("train", "--data", "images:"+imgs, "--image-size", "12", "--test-fraction", "0.25",
		"--val-size", "8", "--epochs", "4", "--batch", "8", "--threads", "1", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	acc := regexp.MustCompile(`test accuracy: ([0-9.]+)`)
	m := acc.FindStringSubmatch(stdout)
	if m == nil || m[1] < "0.9" {
		t.Fatalf("test accuracy on an easy image folder: %q", stdout)
	}
	for _, f := range []string{"model.safetensors", "model_best.safetensors", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if !strings.Contains(string(raw), `"val_loss"`) || strings.Contains(string(raw), `"test_loss"`) {
		t.Errorf("metrics.jsonl should report validation, not test, per epoch:\n%s", raw)
	}
	code, evalOut, stderr := runCLI("eval", out)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	if m2 := acc.FindStringSubmatch(evalOut); m2 == nil || m2[1] != m[1] {
		t.Fatalf("eval says %q, training said %s", evalOut, m[1])
	}
	// predict: a file and a folder, text and JSON.
	code, text, stderr := runCLI("predict", out, filepath.Join(imgs, "top", "top-00.png"), "--top", "2")
	if code != 0 || !strings.HasPrefix(text, filepath.Join(imgs, "top", "top-00.png")+": top ") {
		t.Fatalf("predict: exit %d, %q %s", code, text, stderr)
	}
	code, js, stderr := runCLI("predict", out, filepath.Join(imgs, "bottom"), "--json")
	if code != 0 {
		t.Fatalf("predict --json: exit %d: %s", code, stderr)
	}
	var items []struct {
		File string `json:"file"`
		Top  []struct {
			Class int     `json:"class"`
			Name  string  `json:"name"`
			Prob  float64 `json:"probability"`
		} `json:"top"`
	}
	if err := json.Unmarshal([]byte(js), &items); err != nil {
		t.Fatalf("predict --json output: %v\n%s", err, js)
	}
	right := 0
	for _, it := range items {
		if len(it.Top) != 2 || it.Top[0].Prob < it.Top[1].Prob {
			t.Fatalf("bad top list %+v", it)
		}
		if it.Top[0].Name == "bottom" && it.Top[0].Class == 0 {
			right++
		}
	}
	if len(items) != 24 || right < 22 {
		t.Errorf("predict on 24 bottom images: %d items, %d predicted bottom", len(items), right)
	}
	// A corrupt image is a one-line error naming the file, exit 1.
	bad := filepath.Join(root, "bad.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	if code, _, stderr := runCLI("predict", out, bad); code != 1 || !strings.Contains(stderr, "bad.png") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("corrupt image: exit %d, stderr %q", code, stderr)
	}
}

// TestBadImageFolders: each broken folder is one line naming the problem, exit 1.
func TestBadImageFolders(t *testing.T) {
	cases := []struct {
		name, want string
		make       func(dir string)
	}{
		{"empty class", "has no .png", func(dir string) {
			writeImageFolder(t, dir, 2)
			os.MkdirAll(filepath.Join(dir, "third"), 0o755)
		}},
		{"single class", "2 classes", func(dir string) {
			writeImageFolder(t, dir, 2)
			os.RemoveAll(filepath.Join(dir, "top"))
		}},
		{"corrupt image", "top-01.jpg", func(dir string) {
			writeImageFolder(t, dir, 2)
			os.WriteFile(filepath.Join(dir, "top", "top-01.jpg"), []byte("\xff\xd8\xff garbage"), 0o644)
		}},
	}
	for _, c := range cases {
		dir := t.TempDir()
		c.make(dir)
		code, _, stderr := runCLI("train", "--data", "images:"+dir, "--image-size", "8", "--epochs", "1", "-q", "--out", t.TempDir())
		if code != 1 || !strings.Contains(strings.ToLower(stderr), strings.ToLower(c.want)) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want 1 and one line mentioning %q", c.name, code, stderr, c.want)
		}
	}
}

// TestFashionMNIST trains briefly on Debian's Fashion-MNIST and predicts with its class
// names. .ci/run installs the package; elsewhere the test is skipped if it is missing.
func TestFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads Fashion-MNIST")
	}
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
		t.Skip("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI("train", "--data", "fashion-mnist", "--train-size", "6000", "--val-fraction", "0.1",
		"--epochs", "2", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Fashion-MNIST") || !strings.Contains(stdout, "(600 held out for validation)") {
		t.Errorf("output does not describe the data:\n%s", stdout)
	}
	acc := regexp.MustCompile(`test accuracy: ([0-9.]+) \(test loss [0-9.]+\) after 2 epochs`)
	if m := acc.FindStringSubmatch(stdout); m == nil || m[1] < "0.75" {
		t.Errorf("test accuracy after 2 epochs on 5400 examples: %q", stdout)
	}
	code, evalOut, stderr := runCLI("eval", out)
	if code != 0 || !strings.Contains(evalOut, "on 10000 examples of Fashion-MNIST") {
		t.Errorf("eval: exit %d, %q %s", code, evalOut, stderr)
	}
}
