package ensemble

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Write prints the report as a table — each member, the mean of the members and the
// ensemble under each rule, accuracy and NLL (nats) — the chosen rule marked "*", and a
// closing line with the chosen rule's gain over the mean member. man labels snapshot
// members with their epochs.
func (r *Report) Write(w io.Writer, man *Manifest, chosen Combine) error {
	fmt.Fprintf(w, "%s ensemble of %d members on %d test examples:\n", man.Kind, len(r.Members), r.N)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\taccuracy\tNLL\t")
	nll := func(v float64) string {
		if math.IsNaN(v) {
			return "—"
		}
		return fmt.Sprintf("%.4f", v)
	}
	for k, m := range r.Members {
		label := r.Names[k]
		if mb := man.Members[k]; mb.Epoch > 0 && man.Kind == KindSnapshot {
			label += fmt.Sprintf(" (epoch %d)", mb.Epoch)
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%s\t\n", label, m.Accuracy, nll(m.NLL))
	}
	fmt.Fprintf(tw, "mean of members\t%.4f\t%s\t\n", r.MemberMean.Accuracy, nll(r.MemberMean.NLL))
	for rule := Probabilities; rule <= Vote; rule++ {
		mark := ""
		if rule == chosen {
			mark = " *"
		}
		m := r.ByCombine[rule]
		fmt.Fprintf(tw, "ensemble (%s)%s\t%.4f\t%s\t\n", rule, mark, m.Accuracy, nll(m.NLL))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	m := r.ByCombine[chosen]
	_, err := fmt.Fprintf(w, "ensemble (%s): test accuracy %.4f (%+.2f points over the mean member), NLL %s\n",
		chosen, m.Accuracy, 100*(m.Accuracy-r.MemberMean.Accuracy), nll(m.NLL))
	return err
}
