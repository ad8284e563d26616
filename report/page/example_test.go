package page_test

import (
	"fmt"
	"strings"

	"github.com/temperml/temper/report/page"
)

// ReadMetrics keeps the last record of an epoch a resumed run repeated and reads a
// missing key as a gap (NaN).
func ExampleReadMetrics() {
	in := `{"epoch":1,"train_loss":0.9,"val_loss":0.8}
{"epoch":2,"train_loss":0.5}
{"epoch":2,"train_loss":0.45,"val_loss":0.6}
`
	eps, err := page.ReadMetrics(strings.NewReader(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range eps {
		fmt.Println(e.Epoch, e.TrainLoss, e.ValLoss, e.TestLoss)
	}
	// Output:
	// 1 0.9 0.8 NaN
	// 2 0.45 0.6 NaN
}

// Load reads run, ensemble, range-test and lab folders; Write renders one
// self-contained page.
func ExampleLoad() {
	rep, err := page.Load([]string{"runs/a", "runs/b"}, page.LoadOptions{EvaluateEnsembles: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := rep.Write("report.html"); err != nil {
		fmt.Println(err)
	}
}
