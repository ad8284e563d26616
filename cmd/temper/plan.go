package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/store"
)

func init() { commands = append(commands, newPlanCmd) }

func newPlanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Plan an ensemble, a search round or a k-fold as independent work items (for a cluster)",
		Long: `Write a plan: a deterministic list of work items (index -> recipe: seed, fold,
hyperparameters), each with the SHA-256 of everything that defines it, for
'temper worker' to run one item per process (a Kubernetes Indexed Job's pods) and for
'temper collect' to combine. The same flags give the same plan, byte for byte.

  temper plan ensemble [run flags] --members K   member i = 'temper ensemble train' member i
  temper plan search [search flags]              round 1 of 'temper search' (collect plans the next)
  temper plan kfold [run flags] --folds K        item i validates on fold i of K

--store URL also puts the plan into the store as plan.json, where workers read it when
they get no --plan. See docs/scale-out.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPlanEnsembleCmd(), newPlanSearchCmd(), newPlanKFoldCmd())
	return cmd
}

// planOutput holds the flags every plan command has.
type planOutput struct{ out, storeURL string }

func addPlanOutput(cmd *cobra.Command) *planOutput {
	po := &planOutput{}
	cmd.Flags().StringVar(&po.out, "out", "plan.json", "plan file to write")
	cmd.Flags().StringVar(&po.storeURL, "store", "", "also put the plan into this store as plan.json (file:///DIR, DIR or s3://BUCKET/PREFIX?endpoint=...)")
	return po
}

// write writes the plan and reports it.
func (po *planOutput) write(cmd *cobra.Command, p *scaleout.Plan, err error) error {
	if err != nil {
		return recipeErr(err)
	}
	if err := p.Write(po.out); err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "wrote %s: %s plan of %d items on %s (sha256 %s)\n", po.out, p.Kind, len(p.Items), p.DataSource, p.SHA256)
	if po.storeURL != "" {
		st, err := store.Open(cmd.Context(), po.storeURL)
		if err != nil {
			return usageError{err}
		}
		defer st.Close()
		if err := p.PutPlan(cmd.Context(), st); err != nil {
			return err
		}
		fmt.Fprintf(w, "put it into %s as %s\n", po.storeURL, scaleout.PlanKey)
	}
	printItems(w, p)
	return nil
}

func printItems(w io.Writer, p *scaleout.Plan) {
	for _, it := range p.Items {
		fmt.Fprintf(w, "  item %d: %s seed %d lr %s wd %s", it.Index, it.Recipe.Model.Name, it.Seed, fmtFloat(it.Recipe.Optim.LR), fmtFloat(it.Recipe.Optim.WeightDecay))
		if it.Fold != nil {
			fmt.Fprintf(w, " fold %d/%d", *it.Fold, it.Recipe.Data.Folds)
		}
		if it.Trial != nil {
			fmt.Fprintf(w, " (round %d trial %d)", it.Trial.Round, it.Trial.Trial)
		}
		fmt.Fprintf(w, "  %s\n", it.SHA256[:12])
	}
}

func newPlanEnsembleCmd() *cobra.Command {
	var rf *runFlags
	var ef *ensembleFlags
	e := new(recipe.Ensemble)
	var po *planOutput
	cmd := &cobra.Command{
		Use:   "ensemble",
		Short: "Plan the members of an independent ensemble",
		Long: `Plan K ensemble members: item i is member i of 'temper ensemble train' with the same flags
(seed SEED+i, --lrs and --models cycled), with --threads kernel threads per member. So a
collected member's file is byte-identical to the one 'temper ensemble train' writes when
each of its members runs with that thread count (e.g. both with --threads 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			if err := ef.resolve(r); err != nil {
				return err
			}
			p, err := scaleout.PlanEnsemble(*e)
			return po.write(cmd, p, err)
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	ef = addEnsembleFlags(cmd.Flags(), rf, e)
	po = addPlanOutput(cmd)
	return cmd
}

func newPlanSearchCmd() *cobra.Command {
	var sf *searchFlags
	var po *planOutput
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Plan round 1 of a coarse-to-fine search (as 'temper search' samples it)",
		Long: `Plan the first round of 'temper search' with the same flags: one item per trial, with the
learning rates (and weight decays) 'temper search' samples. 'temper collect' ranks a round
as 'temper search' ranks it and writes the next round's plan (next-plan.json), until
--rounds rounds are done. --threads does not change a trial (each runs on one thread).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, sc, err := sf.resolve()
			if err != nil {
				return err
			}
			p, err := scaleout.PlanSearch(r, sc)
			return po.write(cmd, p, err)
		},
	}
	sf = addSearchFlags(cmd.Flags())
	po = addPlanOutput(cmd)
	return cmd
}

func newPlanKFoldCmd() *cobra.Command {
	var rf *runFlags
	var folds int
	var po *planOutput
	cmd := &cobra.Command{
		Use:   "kfold",
		Short: "Plan a stratified k-fold cross-validation",
		Long: `Plan K runs of the recipe the run flags describe: item i validates on fold i of a stratified,
seeded K-fold partition of the training data and trains on the other folds. 'temper collect'
writes kfold.json (each fold's validation metrics, their mean and standard deviation) and
ensemble.json (the fold models as an ensemble).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := rf.refuse("the fold is the validation split", "val-fraction", "val-size"); err != nil {
				return err
			}
			if folds < 2 || folds > 1000 {
				return usagef("--folds %d out of range [2, 1000]", folds)
			}
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			p, err := scaleout.PlanKFold(r, folds)
			return po.write(cmd, p, err)
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	cmd.Flags().IntVar(&folds, "folds", 5, "number of folds K")
	po = addPlanOutput(cmd)
	return cmd
}
