package recipe_test

import (
	"context"
	"fmt"

	"github.com/temperml/temper/recipe"
)

// ExampleFinetuneDefaults fine-tunes the zoo's digits-0–4 ResNet-20 on 20 labelled
// examples of each of the digits 5–9: the last stage and a new head train, the rest is
// frozen (BN statistics included).
func ExampleFinetuneDefaults() {
	r, err := recipe.FinetuneDefaults("zoo:resnet20-mnist04", "mnist", "last:1")
	if err != nil {
		panic(err)
	}
	r.Data.Classes = []int{5, 6, 7, 8, 9}
	r.Data.LabelsPerClass = 20
	r.Epochs, r.Batch, r.Threads = 1, 32, 1
	fmt.Println(r.Model.Name, r.Optim.LR, r.Data.Normalize, r.Transfer.Strategy)
	run, err := r.Build(recipe.Options{})
	if err != nil {
		panic(err)
	}
	defer run.Close()
	fmt.Println("frozen:", run.Transfer.Frozen)
	fmt.Println("new head:", run.Transfer.Load.Skipped)
	_ = context.Background // res, err := recipe.Finetune(ctx, r, recipe.Options{OutDir: "runs/ft"}, "")
	// Output:
	// resnet20 0.02 source last:1
	// frozen: [stem layer1 layer2]
	// new head: [linear.weight linear.bias]
}
