package lab

import (
	"context"

	"github.com/temperml/temper/recipe"
)

// regBase is the regularization claims' baseline: model on a small training set, batch
// 32, the whole training set evaluated after every epoch (train_eval_loss) so the gap
// is measured without the regularizer's noise.
func regBase(b Budget, model string) recipe.Recipe {
	train, val, epochs := b.RegTrain, b.Val, b.RegEpochs
	switch model {
	case "lenet5", "cnn":
		train, epochs = b.ConvTrain, b.ConvEpochs
	case "resnet20":
		train, val, epochs = b.ResTrain, b.ResTrain, b.ResEpochs // resnet20 is slow: a smaller validation split too
	}
	r := small(model, train, val, epochs)
	r.Batch, r.EvalTrain = 32, true
	if model != "mlp" && model != "mlp-small" {
		r.Optim.LR = 0.05 // lenet5 has no batch norm: a one-cycle peak of 0.2 stalls it at batch 32
	}
	return r
}

// gap is the last epoch's validation loss minus its loss on the whole training set.
func gap(f *Fitted) float64 {
	l := f.Last()
	return l.ValLoss - l.TrainEvalLoss
}

// fitBoth trains arm A, then arm B, on the unit's seed.
func fitBoth(ctx context.Context, u *Unit) (fa, fb *Fitted, err error) {
	if fa, err = u.Fit(ctx, u.A); err != nil {
		return nil, nil, err
	}
	if fb, err = u.Fit(ctx, u.B); err != nil {
		return nil, nil, err
	}
	return fa, fb, nil
}

func twoFits(metric func(*Fitted) float64) Measure {
	return func(ctx context.Context, u *Unit) (float64, float64, error) {
		fa, fb, err := fitBoth(ctx, u)
		if err != nil {
			return 0, 0, err
		}
		u.Detail("train_eval_loss_a", fa.Last().TrainEvalLoss)
		u.Detail("train_eval_loss_b", fb.Last().TrainEvalLoss)
		u.Detail("val_loss_a", fa.Last().ValLoss)
		u.Detail("val_loss_b", fb.Last().ValLoss)
		u.Detail("val_accuracy_a", fa.Last().ValAccuracy)
		u.Detail("val_accuracy_b", fb.Last().ValAccuracy)
		return metric(fa), metric(fb), nil
	}
}

func init() {
	gapClaim := func(name, what, model, paper string, cost float64, apply func(*recipe.Recipe)) {
		Register(Claim{
			Name: name, Area: "regularization",
			Statement: what + " shrinks the gap between validation and training loss on a small training set.",
			Metric:    "validation loss − training loss (whole training set, evaluation mode) after the last epoch",
			Kind:      Superiority, Direction: LowerIsBetter, MinEffect: 0.02, Paper: paper, Cost: cost,
			Arms: func(b Budget) (Arm, Arm) {
				a := regBase(b, model)
				r := a
				apply(&r)
				return Arm{Name: "none", Recipe: a}, Arm{Name: name[len("reg-"):], Recipe: r}
			},
			Run: twoFits(gap),
		})
	}
	gapClaim("reg-l2", "An L2 penalty (λ = 5e-3)", "mlp", "", 18, func(r *recipe.Recipe) { r.L2 = 5e-3 })
	gapClaim("reg-dropout", "Dropout (p = 0.5, inverted: kept units scaled by 1/(1−p) in training)", "mlp",
		"Srivastava et al. 2014: SVHN 3.02% → 2.55% error", 8, func(r *recipe.Recipe) { r.Model.Dropout = 0.5 })
	gapClaim("reg-dropout-classic", "Classic dropout (p = 0.5, activations scaled by 1−p at test)", "mlp",
		"Srivastava et al. 2014 (the paper's form)", 8, func(r *recipe.Recipe) { r.Model.Dropout, r.Model.DropoutMode = 0.5, "classic" })
	gapClaim("reg-dropconnect", "DropConnect (p = 0.5 on the hidden layer's weights; the 784-100-10 MLP, since per-example weight masks are costly)", "mlp-small",
		"Wan et al. 2013: MNIST 0.21% error (ensemble)", 1.4, func(r *recipe.Recipe) { r.Model.DropConnect = 0.5 })
	gapClaim("reg-augment", "Data augmentation (random 2-pixel translations)", "lenet5", "", 10,
		func(r *recipe.Recipe) { r.Augment = "crop:pad=2" })
	gapClaim("reg-fmp", "Fractional max pooling", "lenet5", "Graham 2014: MNIST 0.32%, CIFAR-10 3.47% error", 17,
		func(r *recipe.Recipe) { r.Model.Pool = "fractional" })
	gapClaim("reg-stochastic-depth", "Stochastic depth (survival probability 0.5 for the last residual block)", "resnet20",
		"Huang et al. 2016: 110-layer ResNet on CIFAR-10 6.41% → 5.25% error", 32,
		func(r *recipe.Recipe) { r.Model.StochasticDepth = 0.5 })
	Register(Claim{
		Name: "reg-bn-dropout", Area: "regularization",
		Statement: "With batch normalization, adding dropout changes the validation accuracy by less than one point (BN alone is usually enough).",
		Metric:    "validation accuracy after the last epoch", Kind: Equivalence, Direction: HigherIsBetter, MinEffect: 0.01,
		Paper: "Ioffe & Szegedy 2015: BN reduces the need for dropout", Cost: 25,
		Arms: func(b Budget) (Arm, Arm) {
			a := regBase(b, "cnn")
			d := a
			d.Model.Dropout = 0.5
			return Arm{Name: "bn", Recipe: a}, Arm{Name: "bn-dropout", Recipe: d}
		},
		Run: twoFits(func(f *Fitted) float64 { return f.Last().ValAccuracy }),
	})
}
