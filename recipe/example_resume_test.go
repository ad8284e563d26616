package recipe_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/temperml/temper/recipe"
)

// An output folder belongs to one run: a new run on it is refused, and resuming checks
// the recipe against the checkpoint's, allowing only more epochs, threads and (after a
// non-finite stop) a lower learning rate.
func ExampleResumeRecipe() {
	dir, err := os.MkdirTemp("", "temper-resume")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	r := recipe.Default()
	r.Data.TrainSize, r.Epochs, r.Threads = 300, 1, 1
	run, err := r.Build(recipe.Options{OutDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := run.Fit(context.Background()); err != nil {
		log.Fatal(err)
	}
	run.Close()

	_, err = r.Build(recipe.Options{OutDir: dir}) // OutNew: the folder holds a run
	fmt.Println("new run refused:", errors.Is(err, recipe.ErrOutInUse))

	given := r
	given.Epochs, given.Seed = 3, 7
	_, err = recipe.ResumeRecipe(dir, given, map[string]bool{"epochs": true, "seed": true})
	var re *recipe.ResumeError
	if errors.As(err, &re) {
		for _, c := range re.Differs {
			fmt.Printf("refused %v (%s)\n", c, c.Why)
		}
	}
	rr, err := recipe.ResumeRecipe(dir, given, map[string]bool{"epochs": true})
	if err != nil {
		log.Fatal(err)
	}
	run, err = rr.Build(recipe.Options{OutDir: dir, OutMode: recipe.OutResume})
	if err != nil {
		log.Fatal(err)
	}
	defer run.Close()
	if err := run.Resume(dir); err != nil {
		log.Fatal(err)
	}
	res, err := run.Fit(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("epochs after the resume:", res.Epochs)
	// Output:
	// new run refused: true
	// refused seed: 1 → 7 (it would make another run)
	// epochs after the resume: 3
}
