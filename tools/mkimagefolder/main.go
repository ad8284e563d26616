// Command mkimagefolder writes an image folder — DIR/train/CLASS/*.png|jpg and
// DIR/test/CLASS/*.png|jpg, one subfolder per class — from a dataset temper reads, so that
// the image-folder path (`temper train --data images:DIR`) can be tried end to end on
// real images without a download. Images are written at assorted sizes (nearest-neighbour
// upscaling of the originals to a random side in [-min, -max]), some as PNG and some as
// JPEG, as a folder of a user's own photos would be.
//
//	go run ./tools/mkimagefolder -data fashion-mnist -out /tmp/fashion-images -train 500 -test 100
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/rng"
)

func main() {
	source := flag.String("data", "fashion-mnist", "data source (as temper train --data): mnist, fashion-mnist, cifar10:DIR, ...")
	out := flag.String("out", "", "output folder (required)")
	perTrain := flag.Int("train", 500, "training images per class")
	perTest := flag.Int("test", 100, "test images per class")
	minSide := flag.Int("min", 28, "smallest side of a written image")
	maxSide := flag.Int("max", 64, "largest side of a written image")
	jpegEvery := flag.Int("jpeg-every", 3, "write every Nth image as JPEG (0: all PNG)")
	seed := flag.Uint64("seed", 1, "random seed of the sizes")
	flag.Parse()
	if err := run(*source, *out, *perTrain, *perTest, *minSide, *maxSide, *jpegEvery, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "mkimagefolder:", err)
		os.Exit(1)
	}
}

func run(source, out string, perTrain, perTest, minSide, maxSide, jpegEvery int, seed uint64) error {
	switch {
	case out == "":
		return fmt.Errorf("-out DIR is required")
	case perTrain < 1 || perTest < 0:
		return fmt.Errorf("-train %d, -test %d: want at least 1 and 0", perTrain, perTest)
	case minSide < 1 || maxSide < minSide:
		return fmt.Errorf("-min %d -max %d: want 1 <= min <= max", minSide, maxSide)
	}
	src, err := data.ParseSource(source)
	if err != nil {
		return err
	}
	sets, err := data.Load(src, data.LoadConfig{})
	if err != nil {
		return err
	}
	if sets.Test == nil {
		return fmt.Errorf("%s has no test split", sets.Name)
	}
	r := rng.New(seed)
	n := 0
	for _, split := range []struct {
		name string
		ds   *data.InMemory
		per  int
	}{{"train", sets.Train, perTrain}, {"test", sets.Test, perTest}} {
		count := make([]int, split.ds.Classes())
		for i := 0; i < split.ds.Len(); i++ {
			x, y := split.ds.Example(i)
			if count[y] >= split.per {
				continue
			}
			count[y]++
			dir := filepath.Join(out, split.name, strings.ReplaceAll(sets.ClassNames[y], "/", "-"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			side := minSide + int(r.Uint64()%uint64(maxSide-minSide+1))
			img := toImage(x, split.ds.Shape(), side)
			asJPEG := jpegEvery > 0 && n%jpegEvery == jpegEvery-1
			name := fmt.Sprintf("%05d.png", i)
			if asJPEG {
				name = fmt.Sprintf("%05d.jpg", i)
			}
			err := checkpoint.WriteFileAtomic(filepath.Join(dir, name), func(w io.Writer) error {
				if asJPEG {
					return jpeg.Encode(w, img, &jpeg.Options{Quality: 92})
				}
				return png.Encode(w, img)
			})
			if err != nil {
				return err
			}
			n++
		}
	}
	fmt.Printf("wrote %d images of %d classes (%s) to %s\n", n, len(sets.ClassNames), sets.Name, out)
	return nil
}

// toImage turns an example [C, H, W] with values in [0, 1] into an image of side×side
// pixels (nearest neighbour), gray for C = 1, RGB for C = 3.
func toImage(x []float32, shape []int, side int) image.Image {
	c, h, w := shape[0], shape[1], shape[2]
	px := func(ch, yy, xx int) uint8 {
		v := x[(ch*h+yy*h/side)*w+xx*w/side]
		return uint8(min(max(v, 0), 1)*255 + 0.5)
	}
	if c == 1 {
		img := image.NewGray(image.Rect(0, 0, side, side))
		for yy := range side {
			for xx := range side {
				img.SetGray(xx, yy, color.Gray{px(0, yy, xx)})
			}
		}
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for yy := range side {
		for xx := range side {
			img.SetRGBA(xx, yy, color.RGBA{px(0, yy, xx), px(1, yy, xx), px(2, yy, xx), 255})
		}
	}
	return img
}
