// Command fuzzseeds writes the hand-made parts of the committed fuzz seed corpora
// (PKG/testdata/fuzz/FuzzX/seed-*) that coverage-guided runs rarely find themselves:
// whole valid files (a model checkpoint, PNG and JPEG images, CIFAR records, recipes) to
// mutate from. Run from the repository root: go run ./tools/fuzzseeds
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/rng"
)

// entry is one corpus file: the Go fuzzing encoding of the target's arguments.
func entry(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		default:
			log.Fatalf("type %T", a)
		}
	}
	return b.Bytes()
}

func write(dir, name string, b []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		log.Fatal(err)
	}
}

func gradient(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 11), uint8(x + y), 255})
		}
	}
	return img
}

func main() {
	// Images: a PNG and a JPEG, gray and colour.
	var p, j bytes.Buffer
	png.Encode(&p, gradient(12, 9))
	jpeg.Encode(&j, gradient(16, 8), &jpeg.Options{Quality: 80})
	dir := filepath.Join("data", "testdata", "fuzz", "FuzzImageFolder")
	write(dir, "seed-png", entry(p.Bytes(), false, uint8(0), uint8(8)))
	write(dir, "seed-jpeg", entry(j.Bytes(), true, uint8(2), uint8(5)))

	// CIFAR: two records.
	rec := make([]byte, 2*3073)
	for i := range rec {
		rec[i] = byte(i % 251)
	}
	rec[0], rec[3073] = 3, 9
	write(filepath.Join("data", "testdata", "fuzz", "FuzzCIFAR"), "seed-two-records", entry(rec))

	// A small model file as temper saves it.
	m := nn.NewSequential(nn.NewLinear(4, 3, rng.New(1), nn.LinearConfig{}), nn.ReLU{}, nn.NewLinear(3, 2, rng.New(2), nn.LinearConfig{}))
	tmp, err := os.MkdirTemp("", "fuzzseeds")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	mp := filepath.Join(tmp, "m.safetensors")
	if err := checkpoint.SaveModule(mp, m, map[string]string{"recipe": string(recipe.Default().Marshal())}); err != nil {
		log.Fatal(err)
	}
	b, err := os.ReadFile(mp)
	if err != nil {
		log.Fatal(err)
	}
	write(filepath.Join("checkpoint", "testdata", "fuzz", "FuzzLoad"), "seed-model", entry(b))

	// Recipes: the default, and one with every section away from its defaults.
	r := recipe.Default()
	write(filepath.Join("recipe", "testdata", "fuzz", "FuzzParse"), "seed-default", entry(r.Marshal()))
	r.Model.Name, r.Optim.Name, r.Optim.LR, r.Optim.Momentum, r.Optim.Nesterov = "cnn", "adam", 0.003, 0, false
	r.Averaging.EMA, r.Averaging.SWAStart, r.Data.ValFraction, r.Schedule, r.Augment = 0.999, 3, 0.1, "plateau", "crop:pad=2+flip:h"
	write(filepath.Join("recipe", "testdata", "fuzz", "FuzzParse"), "seed-cnn-adam", entry(r.Marshal()))
}
