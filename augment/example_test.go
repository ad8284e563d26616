package augment_test

import (
	"fmt"

	"github.com/temperml/temper/augment"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/rng"
)

// Example shows the wiring in a training loop: per-example ops run in the loader's
// workers; a batch-level op (mixup/cutmix) runs on the training goroutine through a
// Mixing, whose Loss replaces the cross-entropy.
func Example() {
	pipe, err := augment.Parse("crop:pad=2+rotate:deg=10+mixup:alpha=0.2")
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := data.LoaderConfig{BatchSize: 64, Shuffle: true, Transform: pipe.PerExample()}
	mix := augment.NewMixing(pipe.Batch, rng.New(1)) // Batch may be nil: then a no-op
	_ = cfg
	// for b := range loader.Batches() {
	//     mix.Apply(b.X, b.Y)                       // before Forward
	//     l := mix.Loss(model.Forward(tape.Const(b.X)), b.Y)
	//     ...
	// }
	fmt.Println(pipe.String(), mix.Op != nil)

	_, err = augment.Parse("flip:h+crop:pad=x")
	fmt.Println(err)
	// Output:
	// crop:pad=2+rotate:deg=10+mixup:alpha=0.2 true
	// augment "flip:h+crop:pad=x": at column 17: want an integer in [0, 2^20] for pad, got "x"
}
