package data_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/rng"
)

// writeToyFolder writes DIR/{circle,square}/N.png, 4 colour images of 40x30 per class.
func writeToyFolder(dir string) {
	for c, class := range []string{"circle", "square"} {
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for i := range 4 {
			img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
			for y := range 30 {
				for x := range 40 {
					img.SetNRGBA(x, y, color.NRGBA{uint8(100 * c), uint8(x * 6), uint8(i * 60), 255})
				}
			}
			f, _ := os.Create(filepath.Join(dir, class, fmt.Sprint(i, ".png")))
			png.Encode(f, img)
			f.Close()
		}
	}
}

// Load an image folder (one subfolder per class), hold out a stratified test set, carve a
// validation set from the training data and normalize with statistics of the training set.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "toy")
	defer os.RemoveAll(dir)
	writeToyFolder(dir)

	src, err := data.ParseSource(dir) // a path means images:PATH
	if err != nil {
		fmt.Println(err)
		return
	}
	sets, err := data.Load(src, data.LoadConfig{ImageSize: 16, TestFraction: 0.25, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	train, val, err := data.StratifiedSplit(sets.Train, 2, rng.New(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	norm := data.ComputeNormalization(train)
	train, _ = norm.Apply(train)
	fmt.Println(src.Kind, sets.ClassNames)
	fmt.Println("train", train.Len(), train.Shape(), "val", val.Len(), "test", sets.Test.Len())
	fmt.Printf("red channel mean %.3f\n", norm.Mean[0])
	// Output:
	// images [circle square]
	// train 4 [3 16 16] val 2 test 2
	// red channel mean 0.196
}

func ExampleParseSource() {
	for _, s := range []string{"mnist", "fashion-mnist", "cifar10:/data/cifar-10-batches-bin", "./photos", "cifar10"} {
		src, err := data.ParseSource(s)
		if err != nil {
			fmt.Println("error:", s)
			continue
		}
		fmt.Printf("%s -> kind %s, dir %q\n", s, src.Kind, src.Dir)
	}
	// Output:
	// mnist -> kind mnist, dir ""
	// fashion-mnist -> kind fashion-mnist, dir ""
	// cifar10:/data/cifar-10-batches-bin -> kind cifar10, dir "/data/cifar-10-batches-bin"
	// ./photos -> kind images, dir "./photos"
	// error: cifar10
}
