package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/store"
)

func init() { commands = append(commands, newCollectCmd) }

func newCollectCmd() *cobra.Command {
	var planPath, storeURL, out string
	var partial bool
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Combine the finished items of a plan: an ensemble, a ranked search round, a k-fold",
		Long: `Read the DONE markers of every item of the plan in the store (nothing else decides what
is done) and write to --out:

  ensemble  member-I/model.safetensors (checked against the hashes in the markers) and
            ensemble.json, which 'temper ensemble eval OUT' evaluates
  kfold     the same, and kfold.json: each fold's validation metrics, mean and std
  search    search.csv (the trials of all rounds so far ranked as 'temper search' ranks
            them), the ranked table on stdout, and next-plan.json for the next round

Items that are not done are listed (failed with their error, running with their last
checkpoint, missing); then nothing is written and the exit code is 1, unless --partial.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if storeURL == "" || out == "" {
				return usagef("--store and --out are required")
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, storeURL)
			if err != nil {
				return usageError{err}
			}
			defer st.Close()
			p, err := scaleout.LoadPlan(ctx, st, planPath, "")
			if err != nil {
				return planErr(err)
			}
			w := cmd.OutOrStdout()
			res, err := p.Collect(ctx, st, out, scaleout.CollectOptions{Partial: partial})
			if res != nil {
				res.WriteStatus(w)
			}
			if err != nil {
				return err
			}
			if res.Search != nil {
				if err := res.Search.WriteTable(w); err != nil {
					return err
				}
			}
			if k := res.KFold; k != nil {
				for _, f := range k.Folds {
					fmt.Fprintf(w, "fold %d: val accuracy %.4f, val loss %.4f (%d examples)\n", f.Fold, f.Val.Accuracy, f.Val.Loss, f.Val.Examples)
				}
				fmt.Fprintf(w, "%d-fold cross-validation: val accuracy %.4f ± %.4f, val loss %.4f ± %.4f (mean ± sample std over %d folds)\n",
					p.KFold.Folds, k.MeanValAcc, k.StdValAcc, k.MeanValLoss, k.StdValLoss, len(k.Folds))
			}
			for _, f := range res.Files {
				fmt.Fprintf(w, "wrote %s\n", filepath.Join(out, f))
			}
			if res.Next != nil {
				fmt.Fprintf(w, "next: round %d of %d samples lr in %s; run its workers with --plan %s, then collect it\n",
					res.Next.Search.Round, res.Next.Search.Config.Rounds, res.Next.Search.LR, filepath.Join(out, "next-plan.json"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&planPath, "plan", "", "plan file (default: plan.json in the store)")
	f.StringVar(&storeURL, "store", "", "store URL the workers wrote to")
	f.StringVar(&out, "out", "", "output folder")
	f.BoolVar(&partial, "partial", false, "write the outputs of the items done even if others are not")
	return cmd
}
