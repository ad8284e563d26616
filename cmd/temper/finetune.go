package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
	"github.com/temperml/temper/zoo"
)

func init() { commands = append(commands, newFinetuneCmd) }

func newFinetuneCmd() *cobra.Command {
	var out, cache string
	var quiet bool
	var rf *runFlags
	cmd := &cobra.Command{
		Use:   "finetune --from zoo:NAME|FILE --data SOURCE [--strategy S]",
		Short: "Fine-tune a pretrained model (a zoo entry or a weights file) on your data",
		Long: `Fine-tune a pretrained model on a target dataset (recipe.Finetune).

The model starts from the weights of --from (zoo:NAME, see 'temper zoo list', or a
.safetensors model file or PyTorch state dict, with --model naming its architecture), gets
a new classifier for the target's classes (--keep-head keeps the source's), an adapted stem
when the channel count differs, and the source's input normalization (--normalize to
change). The load report (loaded, missing, unexpected, shape-mismatched, dtype-converted)
is printed; the load is strict unless --allow-partial.

--strategy: head (frozen body, train the classifier), last:K (and the last K layer groups),
full (everything, at discriminative rates), fastai (fastai's fine_tune), probe (a linear
classifier on the frozen body's features, computed once in eval mode and cached in
--feature-cache), custom (--freeze-to N, --freeze PATTERNS). BatchNorm layers of the frozen
part run in inference mode (statistics frozen). --lr-slice LO,HI and --layer-decay D set
per-layer-group learning rates; the summary shows them. The freeze policy is part of the
recipe the checkpoint stores: 'temper train --resume DIR' continues a head, last:K, full or
custom fine-tune with the same parameters frozen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !rf.fs.Changed("from") {
				return usagef("--from is required: zoo:NAME (temper zoo list) or a weights file")
			}
			r, err := rf.r.WithFinetuneDefaults(rf.given())
			if err != nil {
				if errors.Is(err, zoo.ErrUnknown) || errors.Is(err, recipe.ErrInvalid) {
					return rf.usage(err)
				}
				return err
			}
			if out == "" {
				out = filepath.Join("runs", "finetune-"+r.Model.Name)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			var progress io.Writer = cmd.ErrOrStderr()
			if quiet {
				progress = nil
			}
			return finetuneRun(cmd, r, out, cache, progress)
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll|transferFlags)
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder (default runs/finetune-MODEL)")
	f.StringVar(&cache, "feature-cache", "", "probe: folder of cached features (default: the user cache folder, temper/features)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no per-epoch lines")
	return cmd
}

func finetuneRun(cmd *cobra.Command, r recipe.Recipe, out, cache string, progress io.Writer) error {
	stdout := cmd.OutOrStdout()
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	opts := recipe.Options{OutDir: out, Log: stdout}
	if progress != nil {
		opts.Callbacks = append(opts.Callbacks, train.NewProgress(progress))
	}
	fmt.Fprintf(stdout, "finetune %s from %s on %s, strategy %s, %d epochs, %d threads\n",
		r.Model.Name, r.Transfer.From, r.Data.Source, r.Transfer.Strategy, r.Epochs, r.Threads)
	res, err := recipe.Finetune(ctx, r, opts, cache)
	if err != nil {
		return recipeErr(err)
	}
	if res.Transfer != nil && r.Transfer.Strategy != "probe" && r.Transfer.Strategy != "fastai" {
		// Build printed the report already; repeat the rates next to the result.
		var parts []string
		for _, g := range res.Transfer.Groups {
			if g.Trainable {
				parts = append(parts, fmt.Sprintf("%s %.3g", g.Name, g.LR))
			}
		}
		fmt.Fprintf(stdout, "trained layer groups (peak lr): %s\n", strings.Join(parts, ", "))
	}
	if r.Transfer.Strategy == "probe" {
		fmt.Fprintf(stdout, "probe: features %.2fs (%d splits from the cache), classifier %.2fs\n", res.FeatureSeconds, res.CacheHits, res.HeadSeconds)
	}
	printResult(stdout, res.Result, out)
	return nil
}
