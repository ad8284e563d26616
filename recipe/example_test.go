package recipe_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/temperml/temper/recipe"
)

// The short path from Go: describe a run, train it, evaluate it, and load the saved
// model back with its preprocessing.
func Example() {
	out, err := os.MkdirTemp("", "temper-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)

	r := recipe.Default() // the MLP on MNIST, SGD + Nesterov, one-cycle to 0.2
	r.Data.TrainSize = 5000
	r.Data.ValFraction = 0.1 // 500 stratified examples for validation
	r.Epochs = 2
	r.Threads = 1
	run, err := r.Build(recipe.Options{OutDir: out}) // loads the data, builds the trainer
	if err != nil {
		log.Fatal(err)
	}
	defer run.Close()
	res, err := run.Fit(context.Background()) // trains, then evaluates val and test once
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("trained on", res.Train.Examples, "examples, validated on", res.Val.Examples)
	fmt.Println("test accuracy above 85%:", res.Test.Accuracy > 0.85)

	m, err := recipe.LoadModel(out) // model.safetensors: weights, recipe, classes, normalization
	if err != nil {
		log.Fatal(err)
	}
	test, _, err := m.TestSet("") // the test split, prepared as in training
	if err != nil {
		log.Fatal(err)
	}
	_, acc, err := m.Evaluate(test, 1000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the loaded model agrees:", acc == res.Test.Accuracy)
	_, err = os.Stat(filepath.Join(out, recipe.BestFile))
	fmt.Println("kept the best epoch by validation loss:", err == nil)
	// Output:
	// trained on 4500 examples, validated on 500
	// test accuracy above 85%: true
	// the loaded model agrees: true
	// kept the best epoch by validation loss: true
}

// A recipe is a value with a documented JSON form: the one checkpoints, model files and
// summary.json store.
func ExampleParse() {
	r := recipe.Default()
	r.Model.Name = "cnn"
	r, err := r.WithDefaults(map[string]bool{"model.name": true}) // the cnn's own defaults
	if err != nil {
		log.Fatal(err)
	}
	back, err := recipe.Parse(r.Marshal())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Model.Name, back.Augment, back.Optim.LR, back.Schedule)
	r.Optim.LR = -1
	fmt.Println(r.Validate())
	// Output:
	// cnn crop:pad=2 0.2 onecycle
	// recipe: optim.lr -1 out of range (0, ∞)
}
