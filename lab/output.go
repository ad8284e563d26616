package lab

import (
	"fmt"
	"io"
	"os"
	"sort"
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
	for _, c := range Claims() {
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

// WriteMarkdown writes the results as Markdown: the invocation, one table row per claim
// (arms' means ± sd, the paired difference with its 95% interval, the verdict and the
// published number beside it), then every claim's per-seed values and reason. The lab
// writes it as OUT/lab.md; docs/lab.md is made from it.
func WriteMarkdown(w io.Writer, res *Result) error {
	fmt.Fprintf(w, "Budget `%s`, %d claims, %.0f s. Command: `%s`; date %s; commit %s; CPU: %s.\n\n",
		res.Budget, len(res.Claims), float64(res.Seconds), res.Command, res.Date, res.Commit, res.CPU)
	fmt.Fprintln(w, "| claim | metric | A: mean ± sd | B: mean ± sd | B − A [95% CI] | min effect | seeds | verdict | published |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|---|")
	for _, c := range res.Claims {
		me := fmt.Sprintf("%g", c.MinEffect)
		switch Kind(c.Kind) {
		case Equivalence:
			me = "±" + me
		case NonInferiority:
			me = "margin " + me
		}
		fmt.Fprintf(w, "| [%s](#%s) | %s | %s %.4g ± %.2g | %s %.4g ± %.2g | %+.4g [%.4g, %.4g] | %s | %d | **%s** | %s |\n",
			c.Name, c.Name, c.Metric, c.ArmA, float64(c.MeanA), float64(c.SDA), c.ArmB, float64(c.MeanB), float64(c.SDB),
			float64(c.Diff), float64(c.Lo), float64(c.Hi), me, len(c.A), c.Verdict, c.Paper)
	}
	for _, p := range res.Pending {
		fmt.Fprintf(w, "\nNot yet run: %s.\n", p)
	}
	for _, c := range res.Claims {
		fmt.Fprintf(w, "\n### %s\n\n%s (%s; %s, %s.)\n\n- A `%s`%s\n- B `%s`%s\n- %s: %s\n",
			c.Name, c.Statement, c.Metric, c.Direction, c.Kind, c.ArmA, note(c.NoteA), c.ArmB, note(c.NoteB), c.Verdict, c.Reason)
		if c.Error != "" {
			fmt.Fprintf(w, "- errors: %s\n", c.Error)
		}
		fmt.Fprintf(w, "\n| seed | A | B | B − A |")
		keys := sortedKeys(c.Details)
		for _, k := range keys {
			fmt.Fprintf(w, " %s |", k)
		}
		fmt.Fprintf(w, "\n|---:|---:|---:|---:|%s\n", strings.Repeat("---:|", len(keys)))
		for i := range c.A {
			fmt.Fprintf(w, "| %d | %.5g | %.5g | %+.4g |", c.Seeds[i], float64(c.A[i]), float64(c.B[i]), float64(c.B[i]-c.A[i]))
			for _, k := range keys {
				if i < len(c.Details[k]) {
					fmt.Fprintf(w, " %.5g |", float64(c.Details[k][i]))
				}
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
