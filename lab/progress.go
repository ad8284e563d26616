package lab

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports which claim and seed runs and the time left, estimated from the time
// spent so far and the claims' relative costs (Claim.Cost). On a terminal it draws a bar
// that shows the running unit; otherwise it writes one line per finished unit.
type progress struct {
	w          io.Writer
	bar        *progressbar.ProgressBar
	total      float64 // cost of all units
	doneCost   float64
	units, n   int
	begin, one time.Time
}

func cost(c Claim) float64 {
	if c.Cost > 0 {
		return c.Cost
	}
	return 1
}

func newProgress(w io.Writer, claims []Claim, seeds int) *progress {
	p := &progress{w: w, begin: time.Now()}
	for _, c := range claims {
		p.total += cost(c) * float64(seeds)
		p.units += seeds
	}
	if w != nil && isTerminal(w) {
		p.bar = progressbar.NewOptions(p.units, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(24), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200*time.Millisecond))
	}
	return p
}

func (p *progress) eta() string {
	if p.doneCost == 0 {
		return "?"
	}
	el := time.Since(p.begin)
	left := time.Duration(float64(el) * (p.total - p.doneCost) / p.doneCost)
	return left.Round(time.Second).String()
}

func (p *progress) start(c Claim, seed int) {
	p.one = time.Now()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s seed %d, left ~%s", c.Name, seed, p.eta()))
	}
}

func (p *progress) finish(c Claim, seed int, a, b float64, err error) {
	p.n++
	p.doneCost += cost(c)
	if p.w == nil {
		return
	}
	if p.bar != nil {
		p.bar.Add(1)
		return
	}
	res := fmt.Sprintf("A %.5g, B %.5g", a, b)
	if err != nil {
		res = "error: " + err.Error()
	}
	fmt.Fprintf(p.w, "lab: [%d/%d] %s seed %d: %s (%.1fs); time left ~%s\n", p.n, p.units, c.Name, seed, res,
		time.Since(p.one).Seconds(), p.eta())
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
