package lab

import (
	"context"
	"math"

	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/report/page"
)

// defaults returns recipe.Defaults for a built-in choice (which is valid).
func defaults(model, optimizer string) recipe.Recipe {
	r, err := recipe.Defaults(model, optimizer, "mnist")
	if err != nil {
		panic(err)
	}
	return r
}

// small returns the recipe of model trained on train examples of MNIST with a
// stratified validation split of val carved from the first train+val, for epochs, with
// no regularization and no augmentation (the baseline the arms change one thing of).
func small(model string, train, val, epochs int) recipe.Recipe {
	r := defaults(model, "sgd")
	r.Data.TrainSize, r.Data.ValSize = train+val, val
	r.Epochs = epochs
	r.Model.Dropout, r.Augment, r.Optim.WeightDecay = 0, "none", 0
	return r
}

func minVal(f *Fitted) float64 {
	best := math.Inf(1)
	for _, e := range f.History {
		if e.ValLoss < best {
			best = e.ValLoss
		}
	}
	return best
}

func init() {
	Register(Claim{
		Name: "lr-plateau", Area: "learning rate",
		Statement: "Decaying the learning rate when the validation loss plateaus lowers the validation loss further than keeping it constant.",
		Metric:    "lowest validation loss over the run", Kind: Superiority, Direction: LowerIsBetter, MinEffect: 0.01,
		Paper: "lecture 7: loss drops after each step decay (ResNet, He et al. 2016)",
		Cost:  13.5,
		Arms: func(b Budget) (Arm, Arm) {
			a := small("mlp", b.PlateauTrain, b.Val, b.PlateauEpochs)
			a.Schedule, a.Optim.LR, a.Optim.WeightDecay = "const", 0.1, 5e-4
			p := a
			p.Schedule = "plateau:patience=2,factor=0.1"
			return Arm{Name: "constant", Recipe: a}, Arm{Name: "plateau-decay", Recipe: p}
		},
		Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
			fa, fb, err := fitBoth(ctx, u)
			if err != nil {
				return 0, 0, err
			}
			return minVal(fa), minVal(fb), nil
		},
	})
	Register(Claim{
		Name: "lr-rangetest", Area: "learning rate",
		Statement: "The LR range test's suggestion (valley) is near the best learning rate a coarse-to-fine random search finds (within half a decade).",
		Metric:    "log10 of the learning rate", Kind: Equivalence, Direction: HigherIsBetter, MinEffect: 0.5,
		Paper: "Smith 2017: the range test replaces a grid search (CIFAR-10 81.4% in 25k instead of 70k iterations)",
		Cost:  4,
		Arms: func(b Budget) (Arm, Arm) {
			r := small("mlp", b.Train, 0, 1)
			r.Data.ValSize, r.Schedule = 0, "const"
			s := r
			s.Data.ValFraction = 0.2
			return Arm{Name: "range-test", Recipe: r, Note: "recipe.RangeTest, 100 steps from 1e-7 to 10, valley rule"},
				Arm{Name: "search", Recipe: s, Note: "recipe.Search: 2 rounds of random trials of 1 epoch each, lr in [1e-4, 1], ranked on 20% held out"}
		},
		Run: func(ctx context.Context, u *Unit) (float64, float64, error) {
			ra := u.prepare(u.A.Recipe)
			rt, _, err := ra.RangeTest(ctx, lrfind.Config{})
			if err != nil {
				return 0, 0, err
			}
			sg, _ := rt.Suggested(lrfind.Valley)
			if sg.Err != nil {
				return 0, 0, sg.Err
			}
			if d := u.runDir(u.A); d != "" {
				if err := page.WriteRangeTest(d, page.RangeTestFrom(u.A.Name, rt, lrfind.Valley)); err != nil {
					return 0, 0, err
				}
			}
			rb := u.prepare(u.B.Recipe)
			// the search runs Threads trials at once, one kernel thread each
			sr, _, err := rb.Search(ctx, lrfind.SearchConfig{Trials: u.Budget.SearchTrials, Rounds: 2})
			if err != nil {
				return 0, 0, err
			}
			best := sr.Best()
			u.Detail("valley_lr", sg.LR)
			u.Detail("search_lr", best.LR)
			u.Detail("search_val_accuracy", best.ValAccuracy)
			return math.Log10(sg.LR), math.Log10(best.LR), nil
		},
	})
}
