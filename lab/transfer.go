package lab

import (
	"fmt"

	"github.com/temperml/temper/recipe"
)

// The transfer-learning claims of the lecture, on the zoo's pretrained ResNet-20s
// (zoo/, trained by temper itself; docs/transfer.md has the full table):
//
//   - transfer-little-data: with very little data (TransferFew labelled examples per
//     class of MNIST digits 5–9), retraining only the last layer of the network
//     pretrained on digits 0–4 beats training the same network from scratch;
//   - transfer-more-layers: with more data (TransferMany per class of Fashion-MNIST, a
//     different dataset), fine-tuning every layer of the network pretrained on MNIST
//     beats retraining only its last layer.
//
// Both arms of a claim see the same labelled subset (recipe's data.labels_per_class,
// stratified and seeded by the unit's seed) and the same optimizer settings as
// tools/transfertable: SGD Nesterov, one-cycle, peak lr 0.2 from scratch, 0.1 for the
// head alone, 0.05 for full fine-tuning (with lr_slice [lr/10, lr] over the layer groups).

// transferRecipe is one arm: target data (classes nil: all) with labels examples per
// class, trained for epochs at batch; from "" trains resnet20 from scratch, otherwise
// fine-tunes the zoo entry from with strategy.
func transferRecipe(target string, classes []int, labels, epochs, batch int, from, strategy string) recipe.Recipe {
	r, err := recipe.Defaults("resnet20", "sgd", target)
	if err != nil {
		panic(err)
	}
	r.Data.Normalize = "per-channel"
	if from != "" {
		r.Transfer = &recipe.Transfer{From: from, Strategy: strategy}
		r.Data.Normalize = "source"
		r.Optim.LR = 0.05
		if strategy == "head" {
			r.Optim.LR = 0.1
		}
	}
	r.Data.Classes, r.Data.LabelsPerClass = classes, labels
	r.Epochs, r.Batch = epochs, batch
	return r
}

// testAccuracy is the final test accuracy of a fitted arm.
func testAccuracy(f *Fitted) float64 { return f.Result.Test.Accuracy }

func init() {
	Register(Claim{
		Name: "transfer-little-data", Area: "transfer",
		Statement: "With very little data, retraining only the last layer of a pretrained network beats training it from scratch (MNIST digits 5–9 from the ResNet-20 pretrained on digits 0–4).",
		Metric:    "test accuracy on digits 5–9",
		Kind:      Superiority, Direction: HigherIsBetter, MinEffect: 0.05,
		Paper: "lecture 7: \"very little data: use a linear classifier on the top layer\"; Yosinski et al. 2014: transferred features beat random ones",
		Cost:  11,
		Arms: func(b Budget) (Arm, Arm) {
			a := transferRecipe("mnist", []int{5, 6, 7, 8, 9}, b.TransferFew, b.TransferFewEpochs, 32, "", "")
			h := transferRecipe("mnist", []int{5, 6, 7, 8, 9}, b.TransferFew, b.TransferFewEpochs, 32, "zoo:resnet20-mnist04", "head")
			return Arm{Name: "scratch", Recipe: a, Note: fmt.Sprintf("%d labels per class", b.TransferFew)},
				Arm{Name: "head", Recipe: h, Note: "zoo:resnet20-mnist04, body frozen (BN in inference mode), new classifier"}
		},
		Run: twoFits(testAccuracy),
	})
	Register(Claim{
		Name: "transfer-more-layers", Area: "transfer",
		Statement: "With more data, fine-tuning all layers of a pretrained network beats retraining only its last layer on a different dataset (Fashion-MNIST from the ResNet-20 pretrained on MNIST).",
		Metric:    "test accuracy on Fashion-MNIST",
		Kind:      Superiority, Direction: HigherIsBetter, MinEffect: 0.01,
		Paper: "lecture 7: \"quite a lot of data, different dataset: fine-tune a larger number of layers\"",
		Cost:  19,
		Arms: func(b Budget) (Arm, Arm) {
			h := transferRecipe("fashion-mnist", nil, b.TransferMany, 1, 128, "zoo:resnet20-mnist", "head")
			f := transferRecipe("fashion-mnist", nil, b.TransferMany, 1, 128, "zoo:resnet20-mnist", "full")
			return Arm{Name: "head", Recipe: h, Note: fmt.Sprintf("%d labels per class, one epoch", b.TransferMany)},
				Arm{Name: "full", Recipe: f, Note: "all layers at lr_slice [lr/10, lr]"}
		},
		Run: twoFits(testAccuracy),
	})
}
