package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/recipe"
)

func init() { commands = append(commands, newPredictCmd) }

func newPredictCmd() *cobra.Command {
	var top, threads int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "predict MODEL FILE|DIR...",
		Short: "Classify images with a trained model: the top classes and their probabilities",
		Long: `Classify PNG or JPEG images with a trained model and print, per image, its --top most
probable classes with their names and probabilities.

MODEL is a run's output folder or a model file (see 'temper eval'). Each image gets the
model's preprocessing: converted to its channels, the shorter side resized to its input
size and center-cropped, then normalized with the statistics stored in the model. A DIR
argument is searched recursively for .png, .jpg and .jpeg files (in sorted order).
--json prints one JSON array for machines instead of one line per image.`,
		Args: minArgs(2, "MODEL FILE|DIR..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			if top < 1 {
				return usagef("--top %d out of range [1, ∞)", top)
			}
			if threads < 1 {
				return usagef("--threads %d out of range [1, ∞)", threads)
			}
			m, err := recipe.LoadModel(args[0])
			if err != nil {
				return err
			}
			m.Threads = threads
			files, err := imageFiles(args[1:])
			if err != nil {
				return err
			}
			preds, err := m.PredictFiles(files, min(top, len(m.ClassNames)))
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				type item struct {
					File string              `json:"file"`
					Top  []recipe.Prediction `json:"top"`
				}
				items := make([]item, len(files))
				for i, f := range files {
					items[i] = item{File: f, Top: preds[i]}
				}
				b, err := json.MarshalIndent(items, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "%s\n", b)
				return err
			}
			for i, f := range files {
				parts := make([]string, len(preds[i]))
				for j, p := range preds[i] {
					parts[j] = fmt.Sprintf("%s %.4f", p.Name, p.Prob)
				}
				fmt.Fprintf(w, "%s: %s\n", f, strings.Join(parts, ", "))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&top, "top", 3, "print the K most probable classes")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: [{file, top: [{class, name, probability}]}]")
	cmd.Flags().IntVar(&threads, "threads", runtime.GOMAXPROCS(0), "worker threads for the kernels")
	return cmd
}

// imageFiles expands the FILE|DIR arguments: files as given, folders searched
// recursively for images in sorted order.
func imageFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("predict: %v", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".png", ".jpg", ".jpeg":
				if !d.IsDir() {
					found = append(found, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("predict: %v", err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("predict: %s holds no .png, .jpg or .jpeg files", a)
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}
