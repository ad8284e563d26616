package katib_test

import (
	"fmt"
	"math"
	"time"

	"github.com/temperml/temper/scaleout/katib"
	"github.com/temperml/temper/train"
)

// The line Printer writes after an epoch, as Katib's StdOut collector reads it.
func ExampleLine() {
	rec := &train.EpochRecord{Epoch: 3, ValAccuracy: 0.8123, ValLoss: 0.4567, TrainLoss: 0.39, TrainAccuracy: 0.86, LR: 0.05,
		TestAccuracy: math.NaN(), TestLoss: math.NaN()}
	fmt.Println(katib.Line(time.Date(2026, 12, 6, 21, 40, 0, 0, time.UTC), rec))
	rec.ValLoss = math.Inf(1)
	fmt.Println(katib.Line(time.Date(2026, 12, 6, 21, 41, 0, 0, time.UTC), rec))
	// Output:
	// 2026-12-06T21:40:00Z epoch=3 val_accuracy=0.8123 val_loss=0.4567 train_loss=0.39 train_accuracy=0.86 lr=0.05
	// 2026-12-06T21:41:00Z epoch=3 val_accuracy=0.8123 train_loss=0.39 train_accuracy=0.86 lr=0.05 nonfinite=val_loss
}
