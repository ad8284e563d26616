package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/recipe"
)

func newEvalCmd() *cobra.Command {
	var source string
	var threads, batch int
	cmd := &cobra.Command{
		Use:   "eval MODEL",
		Short: "Evaluate a trained model on its test set",
		Long: `Evaluate a trained model on the test split of the data it was trained on (or of --data) and
print its accuracy and loss.

MODEL is a run's output folder (its model.safetensors is used) or a .safetensors model file
written by temper (model.safetensors, model_best, model_ema, model_swa, a snapshot): the
architecture, class names and input preprocessing (image size, channels, normalization)
are read from the file's metadata, so the test set is prepared as in training.`,
		Args: exactArgs(1, "MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if threads < 1 {
				return usagef("--threads %d out of range [1, ∞)", threads)
			}
			if batch < 1 {
				return usagef("--batch %d out of range [1, ∞)", batch)
			}
			m, err := recipe.LoadModel(args[0])
			if err != nil {
				return err
			}
			m.Threads = threads
			ts, name, err := m.TestSet(source)
			if err != nil {
				return err
			}
			l, acc, err := m.Evaluate(ts, batch)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "test accuracy: %.4f (test loss %.4f) on %d examples of %s, model %s\n", acc, l, ts.Len(), name, m.Recipe.Model.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&source, "data", "", "test on this data source's test split (default: the one the model was trained on)")
	cmd.Flags().IntVar(&threads, "threads", runtime.GOMAXPROCS(0), "worker threads for the kernels")
	cmd.Flags().IntVar(&batch, "batch", 1000, "evaluation batch size")
	return cmd
}
