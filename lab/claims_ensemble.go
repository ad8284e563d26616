package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

// ensBase is the ensemble claims' member recipe: the MLP on Train examples, no
// validation split.
func ensBase(b Budget, epochs int) recipe.Recipe {
	r := small("mlp", b.Train, 0, epochs)
	r.Data.ValSize = 0
	return r
}

// copyMetrics copies a run folder's metrics.jsonl into the arm's run folder.
func (u *Unit) copyMetrics(from string, arm Arm, res *recipe.Result) error {
	dir := u.runDir(arm)
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src, err := os.Open(filepath.Join(from, train.MetricsFile))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return recipe.WriteJSON(filepath.Join(dir, recipe.SummaryFile), res)
}

func averaged(res *recipe.Result, kind string) (*recipe.Averaged, error) {
	for i := range res.Averaged {
		if res.Averaged[i].Kind == kind {
			return &res.Averaged[i], nil
		}
	}
	return nil, fmt.Errorf("the run reported no %s weights", kind)
}

func init() {
	Register(Claim{
		Name: "ens-independent", Area: "ensembles",
		Statement: "An ensemble of independently trained models (averaged probabilities) beats its average member.",
		Metric:    "test accuracy (all 10,000 MNIST test images)", Kind: Superiority, Direction: HigherIsBetter, MinEffect: 0.005,
		Paper: "lecture 7: about 2% better (less on MNIST, where one model is near the ceiling)", Cost: 8,
		Arms: func(b Budget) (Arm, Arm) {
			r := ensBase(b, b.Epochs)
			return Arm{Name: "mean-member", Recipe: r, Note: "the members' mean accuracy"},
				Arm{Name: "ensemble", Recipe: r, Note: fmt.Sprintf("recipe.Ensemble of %d members (seeds 1000·s … 1000·s+%d), probabilities averaged", b.Members, b.Members-1)}
		},
		Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
			r := u.prepare(u.B.Recipe)
			r.Seed = 1000 * u.Seed // members take Seed+i: keep the seeds' members apart
			tmp, err := u.TempDir()
			if err != nil {
				return 0, 0, err
			}
			defer os.RemoveAll(tmp)
			e := recipe.DefaultEnsemble(r)
			e.Members, e.Parallel = u.Budget.Members, 1
			er, err := e.Train(ctx, recipe.EnsembleOptions{OutDir: tmp})
			if err != nil {
				return 0, 0, err
			}
			rep, _, _, err := recipe.EvaluateEnsemble(tmp, "", 1000, 0)
			if err != nil {
				return 0, 0, err
			}
			if err := u.copyMetrics(filepath.Join(tmp, "member-0"), Arm{Name: "member-0"}, er.Members[0]); err != nil {
				return 0, 0, err
			}
			u.Detail("ensemble_nll", rep.ByCombine[ensemble.Probabilities].NLL)
			u.Detail("mean_member_nll", rep.MemberMean.NLL)
			return rep.MemberMean.Accuracy, rep.ByCombine[ensemble.Probabilities].Accuracy, nil
		},
	})
	Register(Claim{
		Name: "ens-snapshot", Area: "ensembles",
		Statement: "A snapshot ensemble (cosine cycles with warm restarts, one snapshot per cycle) beats a single model trained for the same epochs — part of an ensemble's gain at the cost of one run.",
		Metric:    "test accuracy (all 10,000 MNIST test images)", Kind: Superiority, Direction: HigherIsBetter, MinEffect: 0.002,
		Paper: "Huang et al. 2017: DenseNet CIFAR-10 3.4% error at the cost of one model", Cost: 7.5,
		Arms: func(b Budget) (Arm, Arm) {
			r := ensBase(b, 2*b.Cycles)
			return Arm{Name: "single", Recipe: r, Note: "one run, one-cycle schedule"},
				Arm{Name: "snapshot", Recipe: r, Note: fmt.Sprintf("recipe.Snapshot: %d cosine cycles of 2 epochs, all snapshots averaged", b.Cycles)}
		},
		Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
			ra := u.prepare(u.A.Recipe)
			s, err := u.Splits(ra, true)
			if err != nil {
				return 0, 0, err
			}
			run, err := ra.Build(recipe.Options{Splits: s})
			if err != nil {
				return 0, 0, err
			}
			defer run.Close()
			single, err := run.Fit(ctx)
			if err != nil {
				return 0, 0, err
			}
			if err := u.SaveHistory(u.A, single, run.Trainer.History()); err != nil {
				return 0, 0, err
			}
			tmp, err := u.TempDir()
			if err != nil {
				return 0, 0, err
			}
			defer os.RemoveAll(tmp)
			sn := recipe.Snapshot{Recipe: u.prepare(u.B.Recipe), Cycles: u.Budget.Cycles}
			sr, err := sn.Train(ctx, recipe.Options{OutDir: tmp, Splits: s})
			if err != nil {
				return 0, 0, err
			}
			rep, _, _, err := recipe.EvaluateEnsemble(tmp, "", 1000, 0)
			if err != nil {
				return 0, 0, err
			}
			if err := u.copyMetrics(tmp, u.B, sr.Result); err != nil {
				return 0, 0, err
			}
			u.Detail("last_snapshot_accuracy", rep.Members[len(rep.Members)-1].Accuracy)
			return single.Test.Accuracy, rep.ByCombine[ensemble.Probabilities].Accuracy, nil
		},
	})
	avgClaim := func(name, what, paper string, cost float64, apply func(b Budget, r *recipe.Recipe)) {
		Register(Claim{
			Name: name, Area: "ensembles",
			Statement: what + " beat the final weights of the same run (constant learning rate).",
			Metric:    "test accuracy", Kind: Superiority, Direction: HigherIsBetter, MinEffect: 0.001, Paper: paper, Cost: cost,
			Arms: func(b Budget) (Arm, Arm) {
				a := small("mlp", b.Train, 0, b.Epochs)
				a.Data.ValSize, a.Schedule, a.Optim.LR = 0, "const", 0.05
				r := a
				apply(b, &r)
				return Arm{Name: "final", Recipe: a, Note: "the final weights of arm B's run (averaging only observes training)"},
					Arm{Name: name[len("ens-"):], Recipe: r}
			},
			Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
				f, err := u.Fit(ctx, u.B)
				if err != nil {
					return 0, 0, err
				}
				kind := "ema"
				if f.Run.SWA != nil {
					kind = "swa"
				}
				av, err := averaged(f.Result, kind)
				if err != nil {
					return 0, 0, err
				}
				return f.Result.Test.Accuracy, av.Test.Accuracy, nil
			},
		})
	}
	avgClaim("ens-ema", "Polyak/EMA averaged weights (decay 1 − 1/(2·steps per epoch))", "Polyak & Juditsky 1992; timm ModelEmaV2", 2.6,
		func(b Budget, r *recipe.Recipe) {
			steps := (b.Train + r.Batch - 1) / r.Batch
			r.Averaging.EMA = 1 - 1/float64(2*steps)
		})
	avgClaim("ens-swa", "SWA weights (equal average of every epoch's weights from the middle of training, BN refreshed)",
		"Izmailov et al. 2018: +0.6..0.8 points on CIFAR-100", 1.8, func(b Budget, r *recipe.Recipe) {
			r.Averaging.SWAStart = b.Epochs/2 + 1
		})
}
