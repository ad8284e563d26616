package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/augment"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

func init() { commands = append(commands, newAugmentCmd) }

func newAugmentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "augment",
		Short: "Data augmentation tools (preview a SPEC)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("augment needs a subcommand: preview")
		},
	}
	cmd.AddCommand(newAugmentPreviewCmd())
	return cmd
}

type previewFlags struct {
	spec, out string
	n, copies int
	scale     int
	rf        *runFlags // --data and its preprocessing, --seed
}

func newAugmentPreviewCmd() *cobra.Command {
	var f previewFlags
	cmd := &cobra.Command{
		Use:   "preview --augment SPEC --out grid.png",
		Short: "Write a PNG grid of augmented training samples",
		Long: `Write a PNG grid of augmented training samples (of --data, default MNIST, before
normalization): one row per sample, the
original in the first column (set off by a wider gap) and --copies augmented versions
beside it, each drawn with its own random stream. A batch-level op (mixup, cutmix) mixes
each column's samples among themselves, as training would.

SPEC chains ops with '+', each with ':'-separated key=value options joined by ',':
` + augment.Ops,
		Example: `  temper augment preview --augment flip:h+crop:pad=4+jitter:b=0.2,c=0.2 --out grid.png
  temper augment preview --augment crop:pad=2+rotate:deg=10 --n 8 --out digits.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAugmentPreview(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.spec, "augment", "", "augmentation SPEC (required), e.g. crop:pad=2+rotate:deg=10")
	fl.StringVar(&f.out, "out", "", "output PNG file (required)")
	fl.IntVar(&f.n, "n", 16, "number of samples (rows)")
	fl.IntVar(&f.copies, "copies", 8, "augmented copies per sample (columns after the original)")
	fl.IntVar(&f.scale, "scale", 3, "pixels per image pixel")
	f.rf = addRunFlags(fl, dataFlags)
	fl.Lookup("seed").Usage = "random seed (choice of samples and augmentations)"
	return cmd
}

func runAugmentPreview(cmd *cobra.Command, f previewFlags) error {
	switch {
	case f.spec == "":
		return usagef("--augment SPEC is required")
	case f.out == "":
		return usagef("--out FILE is required")
	case f.n < 1 || f.n > 1000:
		return usagef("--n %d out of range [1, 1000]", f.n)
	case f.copies < 1 || f.copies > 100:
		return usagef("--copies %d out of range [1, 100]", f.copies)
	case f.scale < 1 || f.scale > 16:
		return usagef("--scale %d out of range [1, 16]", f.scale)
	}
	pipe, err := augment.Parse(f.spec)
	if err != nil {
		return usageError{err}
	}
	if err := f.rf.refuse("the preview shows pixel values before normalization", "normalize"); err != nil {
		return err
	}
	r, err := f.rf.resolve()
	if err != nil {
		return err
	}
	r.Data.Normalize = "none"
	s, err := r.LoadData()
	if err != nil {
		return recipeErr(err)
	}
	trainSet := s.Train
	shape := trainSet.Shape()
	if len(shape) != 3 || (shape[0] != 1 && shape[0] != 3) {
		return fmt.Errorf("augment preview: examples shaped %v, want (1 or 3, H, W)", shape)
	}
	size := tensor.NumElements(shape)
	n := min(f.n, trainSet.Len())
	root := rng.New(r.Seed)
	pick := root.Split().Perm(trainSet.Len())[:n]
	orig := make([]float32, n*size)
	for i, k := range pick {
		trainSet.Get(k, orig[i*size:(i+1)*size])
	}
	cols := make([][]float32, 1, f.copies+1)
	cols[0] = orig
	augRand := root.Split()
	var mix *augment.Mixing
	if pipe.Batch != nil {
		mix = augment.NewMixing(pipe.Batch, root.Split())
	}
	for c := 0; c < f.copies; c++ {
		col := append([]float32(nil), orig...)
		for i := 0; i < n; i++ {
			pipe.Transform(col[i*size:(i+1)*size], shape, augRand.Split())
		}
		if mix != nil {
			mix.Apply(tensor.FromSlice(col, append([]int{n}, shape...)...), make([]int, n))
		}
		cols = append(cols, col)
	}
	img := previewGrid(cols, n, shape, f.scale)
	if err := writePNG(f.out, img); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d samples (rows) × original + %d augmented copies (columns) of %s\n",
		f.out, n, f.copies, pipe.String())
	return nil
}

// previewGrid lays out cols[c][i] (example i of column c) as a grid: rows are examples,
// column 0 the originals followed by a wider gap.
func previewGrid(cols [][]float32, n int, shape []int, scale int) *image.RGBA {
	ch, h, w := shape[0], shape[1], shape[2]
	const gap, bigGap = 2, 8
	cw, rh := w*scale, h*scale
	width := len(cols)*cw + (len(cols)-1)*gap + (bigGap - gap) + 2*gap
	height := n*rh + (n+1)*gap
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	bg := color.RGBA{40, 60, 110, 255}
	for i := range img.Pix {
		img.Pix[i] = []uint8{bg.R, bg.G, bg.B, bg.A}[i%4]
	}
	byte8 := func(v float32) uint8 { return uint8(min(max(v, 0), 1)*255 + 0.5) }
	for c, col := range cols {
		x0 := gap + c*(cw+gap)
		if c > 0 {
			x0 += bigGap - gap
		}
		for i := 0; i < n; i++ {
			y0 := gap + i*(rh+gap)
			ex := col[i*ch*h*w : (i+1)*ch*h*w]
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					var px color.RGBA
					if ch == 1 {
						g := byte8(ex[y*w+x])
						px = color.RGBA{g, g, g, 255}
					} else {
						px = color.RGBA{byte8(ex[y*w+x]), byte8(ex[h*w+y*w+x]), byte8(ex[2*h*w+y*w+x]), 255}
					}
					for dy := 0; dy < scale; dy++ {
						for dx := 0; dx < scale; dx++ {
							img.SetRGBA(x0+x*scale+dx, y0+y*scale+dy, px)
						}
					}
				}
			}
		}
	}
	return img
}

func writePNG(path string, img image.Image) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("augment preview: %w", err)
		}
	}
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("augment preview: %w", err)
	}
	if err := png.Encode(fh, img); err != nil {
		fh.Close()
		return fmt.Errorf("augment preview: write %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("augment preview: write %s: %w", path, err)
	}
	return nil
}
