package lrfind

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/report"
)

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteSuggestions prints every rule's suggestion, one per line, marking method with
// "<-", and returns method's learning rate (0 if it has none).
func (r *Result) WriteSuggestions(w io.Writer, method Method) (chosen float64) {
	fmt.Fprintf(w, "suggestions (smoothed loss, points %d..%d; noise %.2g):\n", r.Lo, r.Hi-1, r.Noise)
	for _, s := range r.Suggestions {
		mark := ""
		if s.Method == method {
			mark, chosen = "  <-", s.LR
		}
		if s.Err != nil {
			fmt.Fprintf(w, "  %-8s none (%v)%s\n", s.Method, s.Err, mark)
			continue
		}
		fmt.Fprintf(w, "  %-8s %.3g%s\n", s.Method, s.LR, mark)
	}
	return chosen
}

// WriteCSV writes the curve (step,lr,loss,smoothed; exact floats) to path atomically.
func (r *Result) WriteCSV(path string) error {
	var b strings.Builder
	b.WriteString("step,lr,loss,smoothed\n")
	for i := range r.LRs {
		fmt.Fprintf(&b, "%d,%s,%s,%s\n", i, fmtFloat(r.LRs[i]), fmtFloat(r.Losses[i]), fmtFloat(r.Smoothed[i]))
	}
	return writeText(path, b.String())
}

// Plot draws the curve with method's suggestion marked; like fastai's plot it leaves out
// the points after Hi, where the loss explodes.
func (r *Result) Plot(method Method, title string) *report.LinePlot {
	hi := r.Hi
	if hi <= r.Lo {
		hi = len(r.LRs)
	}
	chosen := 0.0
	if s, ok := r.Suggested(method); ok && s.Err == nil {
		chosen = s.LR
	}
	p := report.LRFindPlot(r.LRs[:hi], r.Losses[:hi], r.Smoothed[:hi], chosen, string(method))
	p.Title = title
	return p
}

// WriteTable prints the split sizes, the ranges each round sampled, the trials ranked
// best first, and a closing "best: lr=... wd=... val_acc=..." line.
func (r *SearchResult) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "trained on %d examples, ranked on %d held out; rounds sampled lr in:", r.TrainSize, r.ValSize)
	for i, rg := range r.Ranges {
		fmt.Fprintf(w, " %d: %s", i+1, rg)
		if r.WDRanges != nil {
			fmt.Fprintf(w, " (wd %s)", r.WDRanges[i])
		}
		if i+1 < len(r.Ranges) {
			fmt.Fprint(w, ";")
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tround\tlr\twd\tval_acc\tval_loss\ttrain_loss\t")
	for i, t := range r.Ranked {
		fmt.Fprintf(tw, "%d\t%d\t%.4g\t%.4g\t%.4f\t%s\t%s\t%s\n", i+1, t.Round, t.LR, t.WD, t.ValAccuracy,
			lossCell(t.ValLoss), lossCell(t.TrainLoss), t.DivergedNote())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	best := r.Best()
	_, err := fmt.Fprintf(w, "best: lr=%.4g wd=%.4g val_acc=%.4f\n", best.LR, best.WD, best.ValAccuracy)
	return err
}

// DivergedNote is " diverged at step N" for a diverged trial, "" otherwise.
func (t Trial) DivergedNote() string {
	if t.Diverged {
		return fmt.Sprintf(" diverged at step %d", t.Steps)
	}
	return ""
}

// lossCell formats a loss for the table: 4 decimals, or 4 significant digits once it
// has blown up (a diverging trial's loss can be 1e23).
func lossCell(l float64) string {
	if math.Abs(l) >= 1000 {
		return fmt.Sprintf("%.4g", l)
	}
	return fmt.Sprintf("%.4f", l)
}

// WriteCSV writes the ranked trials (exact floats) to path atomically.
func (r *SearchResult) WriteCSV(path string) error {
	var b strings.Builder
	b.WriteString("rank,index,round,lr,wd,val_acc,val_loss,train_loss,steps,diverged\n")
	for i, t := range r.Ranked {
		fmt.Fprintf(&b, "%d,%d,%d,%s,%s,%s,%s,%s,%d,%t\n", i+1, t.Index, t.Round, fmtFloat(t.LR), fmtFloat(t.WD),
			fmtFloat(t.ValAccuracy), fmtFloat(t.ValLoss), fmtFloat(t.TrainLoss), t.Steps, t.Diverged)
	}
	return writeText(path, b.String())
}

// Plot draws held-out accuracy against learning rate, one line per round (trials sorted
// by lr), with the best trial marked.
func (r *SearchResult) Plot(title string) *report.LinePlot {
	lp := &report.LinePlot{Title: title, XLabel: "learning rate", YLabel: "held-out accuracy", LogX: true}
	for k := range r.Ranges {
		var ts []Trial
		for _, t := range r.Trials {
			if t.Round == k+1 {
				ts = append(ts, t)
			}
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].LR < ts[j].LR })
		s := report.Series{Name: fmt.Sprintf("round %d (lr %s)", k+1, r.Ranges[k]), Dashed: k > 0}
		for _, t := range ts {
			s.X, s.Y = append(s.X, t.LR), append(s.Y, t.ValAccuracy)
		}
		lp.Series = append(lp.Series, s)
	}
	best := r.Best()
	lp.Markers = []report.Marker{{X: best.LR, Label: fmt.Sprintf("best: %.3g", best.LR)}}
	return lp
}

func writeText(path, s string) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	})
}
