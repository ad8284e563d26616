// Package katib makes temper a Katib trial (Kubeflow's hyperparameter tuner, which
// adds TPE, Hyperband and median stopping server-side): a training callback that prints
// the metric lines Katib's StdOut metrics collector parses, and the Experiment that
// runs `temper train` as its trial.
//
// The metric lines. Katib's StdOut collector (kubeflow/katib,
// pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go,
// parseLogsInTextFormat) keeps a line only if it contains an objective or additional
// metric name, takes the line's first space-separated field as its timestamp when it
// parses as RFC 3339, and reads name=value pairs with its default filter
// (pkg/metricscollector/v1beta1/common/const.go):
//
//	DefaultFilter = `([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)`
//
// That filter reads no exponent ("1e-05" would be read as 1) and no NaN or Inf, so
// every value here is printed in plain decimal notation (strconv 'f', shortest exact
// digits), and a non-finite metric is left out of its line and named instead in a
// token the filter cannot read as a value, nonfinite=val_loss: Katib records nothing
// for it (an objective never seen is reported by Katib as unavailable), where printing
// NaN would have recorded a wrong number or none, silently.
package katib

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/temperml/temper/train"
)

// DefaultFilter is Katib's default metrics filter (see the package comment), kept here
// to test the printed lines against.
const DefaultFilter = `([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)`

// Metric names printed (Katib objective and additional metric names).
const (
	ValAccuracy = "val_accuracy"
	ValLoss     = "val_loss"
)

// Printer is the train.Callback that prints one line per epoch:
//
//	2026-12-06T21:40:00Z epoch=3 val_accuracy=0.8123 val_loss=0.4567 train_loss=0.39 train_accuracy=0.86 lr=0.05
//
// with the validation metrics when there is a validation split, test metrics when they
// were evaluated, and no progress bar. Now is the clock (nil: time.Now).
type Printer struct {
	train.BaseCallback
	W   io.Writer
	Now func() time.Time
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer) *Printer { return &Printer{W: w} }

// AfterEpoch prints the epoch's line.
func (p *Printer) AfterEpoch(_ *train.Trainer, rec *train.EpochRecord) error {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	_, err := io.WriteString(p.W, Line(now(), rec)+"\n")
	return err
}

// Line formats one epoch's record (see Printer). Metrics that were not evaluated (NaN
// in the record because there is no such split) are left out; other non-finite values
// are left out and listed in a nonfinite= token.
func Line(t time.Time, rec *train.EpochRecord) string {
	var b strings.Builder
	b.WriteString(t.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, " epoch=%d", rec.Epoch)
	var bad []string
	add := func(name string, v float64, evaluated bool) {
		switch {
		case !evaluated:
		case math.IsNaN(v) || math.IsInf(v, 0):
			bad = append(bad, name)
		default:
			b.WriteString(" " + name + "=" + strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	hasVal := !math.IsNaN(rec.ValAccuracy)
	add(ValAccuracy, rec.ValAccuracy, hasVal)
	add(ValLoss, rec.ValLoss, hasVal)
	add("train_loss", rec.TrainLoss, true)
	add("train_accuracy", rec.TrainAccuracy, true)
	hasTest := !math.IsNaN(rec.TestAccuracy)
	add("test_accuracy", rec.TestAccuracy, hasTest)
	add("test_loss", rec.TestLoss, hasTest)
	add("lr", rec.LR, true)
	if len(bad) > 0 {
		b.WriteString(" nonfinite=" + strings.Join(bad, ","))
	}
	return b.String()
}
