package lab

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// ansi colours of the verdict words (only with color on).
var ansi = map[string]string{Supported: "\x1b[32m", Contradicted: "\x1b[31m", Inconclusive: "\x1b[33m", Underpowered: "\x1b[2m"}

// UseColor reports whether w should get colours: a terminal, and NO_COLOR unset or empty
// (https://no-color.org).
func UseColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == ""
}

// WriteTable prints one line per claim — name, arm means ± sd, the paired difference with
// its 95% interval, the number of seeds and the verdict word — then each claim's reason.
func WriteTable(w io.Writer, res *Result, color bool) error {
	fmt.Fprintf(w, "temper lab, budget %s, %.0fs\n", res.Budget, float64(res.Seconds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "claim\tmetric\tA: mean ± sd\tB: mean ± sd\tB − A [95% CI]\tseeds\tverdict")
	for _, c := range res.Claims {
		v := c.Verdict
		if color {
			v = ansi[v] + v + "\x1b[0m"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %.4g ± %.2g\t%s %.4g ± %.2g\t%+.4g [%.4g, %.4g]\t%d\t%s\n", c.Name, short(c.Metric, 28),
			c.ArmA, float64(c.MeanA), float64(c.SDA), c.ArmB, float64(c.MeanB), float64(c.SDB),
			float64(c.Diff), float64(c.Lo), float64(c.Hi), len(c.A), v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range res.Claims {
		fmt.Fprintf(w, "%s: %s — %s\n", c.Name, c.Verdict, c.Reason)
		if c.Error != "" {
			fmt.Fprintf(w, "  errors: %s\n", c.Error)
		}
	}
	for _, p := range res.Pending {
		fmt.Fprintf(w, "not yet run: %s\n", p)
	}
	return nil
}

func short(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// WriteList prints every registered claim with what it declares: area, statement,
// metric, kind, direction, minimum effect and the two arms.
func WriteList(w io.Writer, b Budget) error {
	for _, c := range registry {
		a, bb := c.Arms(b)
		fmt.Fprintf(w, "%s (%s)\n  %s\n  metric: %s (%s); %s, minimum effect %g\n  A: %s%s\n  B: %s%s\n",
			c.Name, c.Area, c.Statement, c.Metric, c.Direction, c.Kind, c.MinEffect, a.Name, note(a.Note), bb.Name, note(bb.Note))
	}
	for _, p := range Pending {
		fmt.Fprintf(w, "pending: %s\n", p)
	}
	return nil
}

func note(s string) string {
	if s == "" {
		return ""
	}
	return " — " + strings.TrimSpace(s)
}
