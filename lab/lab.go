// Package lab runs the claims of CS231n lecture 7 ("Training Neural Networks II") as
// paired, seeded experiments with a verdict.
//
// Each claim is registered with, declared before anything runs: its statement, the
// metric, two arms (A, the baseline, and B, the technique; each a recipe.Recipe), the
// metric's direction, the kind of comparison (B beats A, B is not worse than A, or the
// two are equivalent) and the minimum effect (or margin). Both arms run on the same
// seeds; the lab reports each arm's mean ± sd, the paired difference B − A with its 95%
// Student-t interval, every seed's value and a verdict word: SUPPORTED, CONTRADICTED,
// INCONCLUSIVE or UNDERPOWERED (fewer than 4 seeds never gets a firm verdict). See
// Decide for the rules. Every training run goes through package recipe (Build/Fit,
// Ensemble, Snapshot, RangeTest, Search); the Newton/BFGS cost claims time optim/second
// directly on synthetic objectives, since recipe has no model whose size can be varied
// continuously.
//
// The short path:
//
//	res, err := lab.Run(ctx, lab.Config{Claims: []string{"reg-l2"}, Budget: lab.Quick, Seeds: 4, OutDir: "lab"})
//	res.WriteTable(os.Stdout, false)
//
// Run writes OUT/lab.json (every number), OUT/lab.html (report/page) and the per-epoch
// records of every arm's run under OUT/runs/CLAIM/ARM/seed-N.
package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/report/page"
)

// Arm is one side of a claim: a recipe and, when the claim does more than train it
// (an ensemble of it, a range test on it), a note saying what.
type Arm struct {
	Name   string
	Recipe recipe.Recipe
	// Note says what the arm runs besides Fit, if anything.
	Note string
}

// Measure runs both arms of a claim on one seed and returns their values of the metric.
type Measure func(ctx context.Context, u *Unit) (a, b float64, err error)

// Claim is one of the lecture's claims as an experiment.
type Claim struct {
	Name      string // short, unique, e.g. "reg-l2"
	Area      string // "learning rate", "second order", "regularization", "ensembles"
	Statement string
	Metric    string
	Kind      Kind
	Direction Direction
	// MinEffect is the smallest improvement that counts (Superiority), or the margin
	// (NonInferiority, Equivalence), in the metric's units.
	MinEffect float64
	// Paper is the published number to compare with (docs/REFERENCE.md), if any.
	Paper string
	// Arms builds the two arms for a budget (A: baseline, B: the technique).
	Arms func(Budget) (a, b Arm)
	// Run measures both arms on one seed.
	Run Measure
	// Cost is the claim's run time per seed relative to the others, for the progress
	// estimate (the seconds per seed measured with the quick budget on 2 shared cores,
	// 2026-12-06; 0 counts as 1).
	Cost float64
}

var registry []Claim

// Register adds a claim; names must be unique. Claims of later areas (transfer learning,
// see transfer.go) register themselves the same way.
func Register(c Claim) {
	for _, o := range registry {
		if o.Name == c.Name {
			panic("lab: claim " + c.Name + " registered twice")
		}
	}
	registry = append(registry, c)
}

// Areas lists the claims' areas in the lecture's order; Claims returns them in it.
var Areas = []string{"learning rate", "second order", "regularization", "ensembles", "transfer"}

// Claims returns the registered claims by area (Areas' order), then in registration order.
func Claims() []Claim {
	cs := slices.Clone(registry)
	rank := func(c Claim) int {
		if i := slices.Index(Areas, c.Area); i >= 0 {
			return i
		}
		return len(Areas)
	}
	slices.SortStableFunc(cs, func(a, b Claim) int { return rank(a) - rank(b) })
	return cs
}

// Lookup returns the claim named name.
func Lookup(name string) (Claim, bool) {
	for _, c := range registry {
		if c.Name == name {
			return c, true
		}
	}
	return Claim{}, false
}

// Select returns the claims named (all when names is empty); a name may also be an area
// ("regularization") or a prefix followed by '*' ("reg-*").
func Select(names []string) ([]Claim, error) {
	if len(names) == 0 {
		return Claims(), nil
	}
	var out []Claim
	seen := map[string]bool{}
	for _, n := range names {
		found := false
		for _, c := range Claims() {
			if c.Name == n || c.Area == n || strings.HasSuffix(n, "*") && strings.HasPrefix(c.Name, strings.TrimSuffix(n, "*")) {
				found = true
				if !seen[c.Name] {
					seen[c.Name] = true
					out = append(out, c)
				}
			}
		}
		if !found {
			var all []string
			for _, c := range registry {
				all = append(all, c.Name)
			}
			return nil, fmt.Errorf("lab: unknown claim %q (want a name of `temper lab list`: %s; an area; or a prefix with *)", n, strings.Join(all, ", "))
		}
	}
	return out, nil
}

// Pending lists claims the lecture makes that the lab cannot run yet, and why.
var Pending []string

// ClaimResult is one claim's outcome, an entry of lab.json. Its float fields are
// page.Num (NaN is written as null). The schema lives in report/page, which reads it.
type ClaimResult = page.LabClaim

// Result is lab.json: the invocation and every claim's result.
type Result = page.LabFile
