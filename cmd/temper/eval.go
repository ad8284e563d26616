package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

func newEvalCmd() *cobra.Command {
	var dataDir string
	var threads, batch int
	cmd := &cobra.Command{
		Use:   "eval MODEL",
		Short: "Evaluate a trained model on the MNIST test set",
		Long: `Evaluate a trained model on the MNIST test set and print its accuracy and loss.

MODEL is a run's output folder (its model.safetensors is used) or a .safetensors file written
by 'temper train'; the architecture is read from the file's metadata.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if threads < 1 {
				return usagef("--threads %d out of range [1, ∞)", threads)
			}
			if batch < 1 {
				return usagef("--batch %d out of range [1, ∞)", batch)
			}
			kernel.SetThreads(threads)
			m, c, err := loadModel(args[0])
			if err != nil {
				return err
			}
			if dataDir != "" {
				c.Data = dataDir
			}
			dir, err := data.MNISTDir(c.Data)
			if err != nil {
				return err
			}
			_, testSet, err := data.LoadMNIST(dir)
			if err != nil {
				return err
			}
			l, acc, err := train.Evaluate(m, testSet, batch, nil, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "test accuracy: %.4f (test loss %.4f) on %d images, model %s\n", acc, l, testSet.Len(), c.Model)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "folder with the MNIST IDX files (default: as trained, else the Go module cache)")
	cmd.Flags().IntVar(&threads, "threads", defaultRunConfig().Threads, "worker threads for the kernels")
	cmd.Flags().IntVar(&batch, "batch", 1000, "evaluation batch size")
	return cmd
}

// loadModel rebuilds the model described by a model.safetensors file and loads its weights.
func loadModel(path string) (nn.Module, runConfig, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "model.safetensors")
	}
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, runConfig{}, err
	}
	c := defaultRunConfig()
	raw, ok := f.Meta["temper.config"]
	if !ok {
		return nil, c, fmt.Errorf("%s has no temper.config metadata: not written by temper train", path)
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, c, fmt.Errorf("%s: temper.config metadata: %v", path, err)
	}
	inShape := []int{1, 28, 28}
	m, err := buildModel(c, inShape, data.MNISTClasses, rng.New(0))
	if err != nil {
		return nil, c, fmt.Errorf("%s: %v", path, err)
	}
	sd := map[string]*tensor.Tensor{}
	for k, v := range f.Tensors {
		sd[k] = v
	}
	if err := nn.LoadStateDict(m, sd, true); err != nil {
		return nil, c, fmt.Errorf("%s: %v", path, err)
	}
	return m, c, nil
}
