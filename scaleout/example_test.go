package scaleout_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/temperml/temper/internal/tinydata"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/store"
)

// Plan an ensemble, run every item as a pod of an Indexed Job would (here in turn, in
// one process), and collect the ensemble.
func Example() {
	dir, _ := os.MkdirTemp("", "scaleout-example-")
	defer os.RemoveAll(dir)
	tinydata.WriteMNIST(filepath.Join(dir, "data"), 200, 50, 1)

	r, _ := recipe.Defaults("mlp-small", "sgd", "mnist:"+filepath.Join(dir, "data"))
	r.Epochs, r.Threads = 2, 1
	e := recipe.DefaultEnsemble(r)
	e.Members = 3
	p, err := scaleout.PlanEnsemble(e)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	st, _ := store.Open(ctx, filepath.Join(dir, "store")) // or s3://bucket/prefix?endpoint=...
	defer st.Close()
	for i := range p.Items { // in pod i: scaleout.IndexFromEnv(os.Getenv)
		if _, err := p.Work(ctx, st, scaleout.WorkOptions{Index: i}); err != nil {
			fmt.Println(err)
			return
		}
	}
	res, err := p.Collect(ctx, st, filepath.Join(dir, "ensemble"), scaleout.CollectOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Kind, "of", len(p.Items), "items; complete:", res.Complete)
	for _, mb := range res.Manifest.Members {
		fmt.Println(mb.Name, "seed", mb.Seed, mb.Path)
	}
	// Output:
	// ensemble of 3 items; complete: true
	// member-0 seed 1 member-0/model.safetensors
	// member-1 seed 2 member-1/model.safetensors
	// member-2 seed 3 member-2/model.safetensors
}
