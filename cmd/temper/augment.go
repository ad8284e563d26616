package main

import (
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/augment"
	"github.com/temperml/temper/checkpoint"
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
	if err := pipe.CheckShape(shape); err != nil {
		return usagef("--augment: %v", err)
	}
	size := tensor.NumElements(shape)
	n := min(f.n, trainSet.Len())
	root := rng.New(r.Seed)
	pick := root.Split().Perm(trainSet.Len())[:n]
	orig := make([]float32, n*size)
	for i, k := range pick {
		trainSet.Get(k, orig[i*size:(i+1)*size])
	}
	img := augment.Preview(pipe, orig, shape, f.copies, f.scale, root)
	if dir := filepath.Dir(f.out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("augment preview: %w", err)
		}
	}
	if err := checkpoint.WriteFileAtomic(f.out, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return fmt.Errorf("augment preview: write %s: %w", f.out, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d samples (rows) × original + %d augmented copies (columns) of %s\n",
		f.out, n, f.copies, pipe.String())
	return nil
}
