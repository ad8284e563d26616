// Package page writes temper's report: one self-contained HTML file with inline SVG
// charts drawn by temper (no chart library, no external URL, a strict
// Content-Security-Policy), the data embedded once as JSON, and a few KB of inline
// script that adds a smoothing control and legend toggles; with JavaScript off the page
// shows the same charts, static.
//
// It shows per-epoch training, validation and test loss and accuracy and the learning
// rate of one or many runs on shared axes (runs that differ only by seed as mean ± sd
// bands), the run table, the configuration diff (only what differs), LR range tests with
// their suggestions, ensembles' member/ensemble tables and the lab's verdict table.
//
// It is a package of its own, not part of report, because it reads what recipe,
// ensemble and lrfind write, and lrfind draws its PNGs with report: report cannot import
// them without a cycle.
package page

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/recipe"
)

//go:embed script.js
var script string

//go:embed style.css
var style string

// Num is a float64 whose JSON form is null for NaN and ±Inf (JSON has no such numbers):
// a gap, a statistic that one seed cannot give.
type Num float64

// MarshalJSON writes null for NaN and ±Inf.
func (n Num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Num(v)
	return nil
}

// Nums converts v.
func Nums(v []float64) []Num {
	out := make([]Num, len(v))
	for i, x := range v {
		out[i] = Num(x)
	}
	return out
}

// builder accumulates the page's data and HTML.
type builder struct {
	lines  []line
	charts int
	b      strings.Builder
}

func (pb *builder) addLine(name string, x, y []float64) int {
	pb.lines = append(pb.lines, line{Name: name, X: x, Y: y})
	return len(pb.lines) - 1
}

func (pb *builder) p(format string, a ...any) { fmt.Fprintf(&pb.b, format, a...) }

// chart writes c with its legend.
func (pb *builder) chart(c *chart) {
	pb.charts++
	c.ID = fmt.Sprintf("chart%d", pb.charts)
	pb.p(`<div class="chartbox">%s<ul class="legend">`, c.svg(pb.lines, 0))
	for _, l := range c.Lines {
		if !l.Legend {
			continue
		}
		dash := ""
		if l.Dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, l.Dash)
		}
		pb.p(`<li data-c="%s" data-l="%d"><svg width="26" height="10" aria-hidden="true"><line x1="1" y1="5" x2="25" y2="5" stroke="%s" stroke-width="2"%s/></svg> %s</li>`,
			c.ID, l.Line, l.Color, dash, esc(l.Name))
	}
	pb.p("</ul></div>\n")
}

// pageData is the JSON embedded in the page.
type pageData struct {
	Geom  map[string]int `json:"geom"`
	Lines []jsonLine     `json:"lines"`
}

type jsonLine struct {
	Name string `json:"name"`
	X    []Num  `json:"x"`
	Y    []Num  `json:"y"`
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// CSP is the page's Content-Security-Policy: nothing may load, and only the page's own
// style and script (by hash) apply.
func CSP() string {
	return "default-src 'none'; style-src " + hash(style) + "; script-src " + hash(script) +
		"; img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"
}

// Render writes the page to w.
func (rep *Report) Render(w io.Writer) error {
	pb := &builder{}
	title := rep.Title
	if title == "" {
		title = "temper report"
	}
	pb.p("<h1>%s</h1>\n", esc(title))
	pb.p(`<p id="errors" hidden></p><noscript><p class="note">JavaScript is off: the charts are static (no smoothing control, no legend toggles).</p></noscript>` + "\n")
	pb.p(`<p class="controls"><label>smoothing <input type="range" id="smooth" min="0" max="0.95" step="0.05" value="0" disabled> <span id="smooth-v">0</span></label> <span class="note">(exponential moving average; the raw series stays drawn, faint; click a legend entry to hide it)</span></p>` + "\n")
	for _, n := range rep.Notes {
		pb.p(`<p class="note">%s</p>`+"\n", esc(n))
	}
	for _, l := range rep.Labs {
		pb.lab(l)
	}
	if len(rep.Runs) > 0 {
		pb.p("<h2>Runs</h2>\n")
		pb.runs("", rep.Runs)
	}
	for _, e := range rep.Ensembles {
		pb.ensemble(e)
	}
	for _, rt := range rep.RangeTests {
		pb.rangeTest(rt)
	}
	d := pageData{Geom: map[string]int{"w": chartW, "h": chartH, "l": padL, "r": padR, "t": padT, "b": padB}}
	for _, l := range pb.lines {
		d.Lines = append(d.Lines, jsonLine{Name: l.Name, X: Nums(l.X), Y: Nums(l.Y)})
	}
	js, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%s">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>%s</style>
<script>%s</script>
</head><body>
%s<script type="application/json" id="temper-data">%s</script>
</body></html>
`, CSP(), esc(title), style, script, pb.b.String(), js)
	return err
}

// Write renders the page to path atomically.
func (rep *Report) Write(path string) error {
	return checkpoint.WriteFileAtomic(path, rep.Render)
}

// group is runs that differ only by seed.
type group struct {
	Name string
	Runs []*Run
}

func groupKey(r *Run) string {
	switch {
	case r.Group != "":
		return "g:" + r.Group
	case r.Recipe != nil:
		rc := *r.Recipe
		rc.Seed, rc.Threads = 0, 0
		return "r:" + string(rc.Marshal())
	}
	return "n:" + r.Name
}

func groupRuns(runs []*Run) []group {
	var gs []group
	idx := map[string]int{}
	for _, r := range runs {
		k := groupKey(r)
		i, ok := idx[k]
		if !ok {
			i = len(gs)
			idx[k] = i
			gs = append(gs, group{})
		}
		gs[i].Runs = append(gs[i].Runs, r)
	}
	for i := range gs {
		r := gs[i].Runs[0]
		switch {
		case r.Group != "":
			gs[i].Name = r.Group
		case len(gs[i].Runs) > 1:
			gs[i].Name = fmt.Sprintf("%s (+%d seeds)", r.Name, len(gs[i].Runs)-1)
			parent := func(n string) string { return filepath.Dir(filepath.FromSlash(n)) }
			same := parent(r.Name) != "."
			for _, o := range gs[i].Runs[1:] {
				same = same && parent(o.Name) == parent(r.Name)
			}
			if same { // a/seed-1, a/seed-2, ...: the folder names the group
				gs[i].Name = fmt.Sprintf("%s (%d seeds)", filepath.ToSlash(parent(r.Name)), len(gs[i].Runs))
			}
		default:
			gs[i].Name = r.Name
		}
		if n := len(gs[i].Runs); n > 1 && r.Group != "" {
			gs[i].Name += fmt.Sprintf(" (%d seeds)", n)
		}
	}
	return gs
}

// metric selects one per-epoch quantity.
type metric struct {
	name, dash string
	get        func(Epoch) float64
}

var lossMetrics = []metric{
	{"train", "", func(e Epoch) float64 { return e.TrainLoss }},
	{"train (eval)", "8,3,2,3", func(e Epoch) float64 { return e.TrainEvalLoss }},
	{"val", "6,3", func(e Epoch) float64 { return e.ValLoss }},
	{"test", "2,3", func(e Epoch) float64 { return e.TestLoss }},
}

var accMetrics = []metric{
	{"train", "", func(e Epoch) float64 { return e.TrainAccuracy }},
	{"train (eval)", "8,3,2,3", func(e Epoch) float64 { return e.TrainEvalAcc }},
	{"val", "6,3", func(e Epoch) float64 { return e.ValAccuracy }},
	{"test", "2,3", func(e Epoch) float64 { return e.TestAccuracy }},
}

var lrMetric = []metric{{"lr", "", func(e Epoch) float64 { return e.LR }}}

// column returns run r's values of m at epochs 1..n (NaN where absent).
func column(r *Run, m metric, n int) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = math.NaN()
	}
	for _, e := range r.Epochs {
		if e.Epoch >= 1 && e.Epoch <= n {
			v := m.get(e)
			if v < 0 { // a second-order run's train accuracy is -1: not measured
				v = math.NaN()
			}
			y[e.Epoch-1] = v
		}
	}
	return y
}

func finiteCount(y []float64) int {
	n := 0
	for _, v := range y {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			n++
		}
	}
	return n
}

// meanSD returns the mean and sample standard deviation of each column over the rows
// with a finite value there (NaN where none; sd NaN with fewer than two).
func meanSD(rows [][]float64, n int) (mean, sd []float64) {
	mean, sd = make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		var s, s2 float64
		k := 0
		for _, r := range rows {
			if v := r[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				s += v
				k++
			}
		}
		mean[i], sd[i] = math.NaN(), math.NaN()
		if k == 0 {
			continue
		}
		mean[i] = s / float64(k)
		for _, r := range rows {
			if v := r[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				s2 += (v - mean[i]) * (v - mean[i])
			}
		}
		if k > 1 {
			sd[i] = math.Sqrt(s2 / float64(k-1))
		}
	}
	return mean, sd
}

// curveChart draws metrics ms of every group on one chart over epochs 1..n.
func (pb *builder) curveChart(title, ylabel string, gs []group, ms []metric, n int, logY bool) *chart {
	c := &chart{Title: title, XLabel: "epoch", YLabel: ylabel, FixX: true, XMin: 1, XMax: float64(max(n, 1)), LogY: logY}
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i + 1)
	}
	for gi, gr := range gs {
		col := color(gi)
		for _, m := range ms {
			var rows [][]float64
			for _, r := range gr.Runs {
				if y := column(r, m, n); finiteCount(y) > 0 {
					rows = append(rows, y)
				}
			}
			if len(rows) == 0 {
				continue
			}
			name := gr.Name
			if len(ms) > 1 {
				name += " " + m.name
			}
			if len(gr.Runs) == 1 {
				c.Lines = append(c.Lines, cline{Line: pb.addLine(name, x, rows[0]), Name: name, Color: col, Dash: m.dash, Smooth: true, Legend: true})
				continue
			}
			for i, y := range rows {
				c.Lines = append(c.Lines, cline{Line: pb.addLine(fmt.Sprintf("%s seed %d", name, i), x, y), Color: col, Dash: m.dash, Faint: true})
			}
			mean, sd := meanSD(rows, n)
			lo, hi := make([]float64, n), make([]float64, n)
			for i := range mean {
				lo[i], hi[i] = mean[i]-sd[i], mean[i]+sd[i]
			}
			c.Bands = append(c.Bands, band{X: x, Lo: lo, Hi: hi, Color: col})
			c.Lines = append(c.Lines, cline{Line: pb.addLine(name+" mean", x, mean), Name: name + " (mean ± sd)", Color: col, Dash: m.dash, Smooth: true, Legend: true})
		}
	}
	return c
}

// runs writes the curves, the run table and the configuration diff of runs.
func (pb *builder) runs(prefix string, runs []*Run) {
	n := 0
	for _, r := range runs {
		for _, e := range r.Epochs {
			n = max(n, e.Epoch)
		}
	}
	gs := groupRuns(runs)
	if n > 0 {
		lrLo, lrHi, ok := math.Inf(1), 0.0, false
		for _, r := range runs {
			for _, e := range r.Epochs {
				if e.LR > 0 {
					lrLo, lrHi, ok = min(lrLo, e.LR), max(lrHi, e.LR), true
				}
			}
		}
		pb.p(`<div class="charts">`)
		pb.chart(pb.curveChart(prefix+"loss", "loss", gs, lossMetrics, n, false))
		pb.chart(pb.curveChart(prefix+"accuracy", "accuracy", gs, accMetrics, n, false))
		if ok {
			pb.chart(pb.curveChart(prefix+"learning rate (end of epoch)", "learning rate", gs, lrMetric, n, lrHi > 20*lrLo))
		}
		pb.p("</div>\n")
	}
	pb.runTable(runs)
	pb.configDiff(runs)
}

func cell(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

func lastFinite(r *Run, get func(Epoch) float64) float64 {
	for i := len(r.Epochs) - 1; i >= 0; i-- {
		if v := get(r.Epochs[i]); !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v
		}
	}
	return math.NaN()
}

func (pb *builder) runTable(runs []*Run) {
	pb.p(`<table class="runs"><tr><th class="l">run</th><th class="l">model</th><th class="l">data</th><th class="l">optimizer</th><th>lr</th><th class="l">schedule</th><th>epochs</th><th>batch</th><th>seed</th><th>best val loss (epoch)</th><th>last val acc</th><th>test acc</th><th>test loss</th><th>time (s)</th><th>samples/s</th></tr>` + "\n")
	for _, r := range runs {
		model, data, opt, sched, lr, batch, seed := "—", "—", "—", "—", "—", "—", "—"
		if rc := r.Recipe; rc != nil {
			model, data, opt, sched = rc.Model.Name, rc.Data.Source, rc.Optim.Name, rc.Schedule
			lr, batch, seed = fmt.Sprintf("%g", rc.Optim.LR), fmt.Sprint(rc.Batch), fmt.Sprint(rc.Seed)
			if rc.Data.TrainSize > 0 {
				data += fmt.Sprintf(" (%d)", rc.Data.TrainSize)
			}
		}
		best, bestEp := math.Inf(1), 0
		for _, e := range r.Epochs {
			if e.ValLoss < best {
				best, bestEp = e.ValLoss, e.Epoch
			}
		}
		bestS := "—"
		if bestEp > 0 {
			bestS = fmt.Sprintf("%.4f (%d)", best, bestEp)
		}
		valAcc := lastFinite(r, func(e Epoch) float64 { return e.ValAccuracy })
		testAcc, testLoss := lastFinite(r, func(e Epoch) float64 { return e.TestAccuracy }), lastFinite(r, func(e Epoch) float64 { return e.TestLoss })
		secs, sps := lastFinite(r, func(e Epoch) float64 { return e.TrainSeconds }), lastFinite(r, func(e Epoch) float64 { return e.SamplesPerSecond })
		epochs := len(r.Epochs)
		if res := r.Result; res != nil {
			epochs, secs, sps = res.Epochs, res.TrainSeconds, res.SamplesPerSecond
			if res.Val != nil {
				valAcc = res.Val.Accuracy
			}
			if res.Test != nil {
				testAcc, testLoss = res.Test.Accuracy, res.Test.Loss
			}
		}
		pb.p(`<tr><td class="l">%s</td><td class="l">%s</td><td class="l">%s</td><td class="l">%s</td><td>%s</td><td class="l"><code>%s</code></td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`+"\n",
			esc(r.Name), esc(model), esc(data), esc(opt), lr, esc(sched), epochs, batch, seed, bestS,
			cell(valAcc, "%.4f"), cell(testAcc, "%.4f"), cell(testLoss, "%.4f"), cell(secs, "%.1f"), cell(sps, "%.0f"))
	}
	pb.p("</table>\n")
}

// flatten maps a recipe's JSON form to path → value.
func flatten(r recipe.Recipe) map[string]string {
	var m map[string]any
	json.Unmarshal(r.Marshal(), &m)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if mm, ok := v.(map[string]any); ok {
			for k, x := range mm {
				walk(prefix+k+".", x)
			}
			return
		}
		b, _ := json.Marshal(v)
		out[strings.TrimSuffix(prefix, ".")] = string(b)
	}
	walk("", m)
	return out
}

// ConfigDiff returns the recipe fields (JSON paths, sorted) whose values are not the same
// in every recipe, with each recipe's value ("—" where a run has no recipe).
func ConfigDiff(recipes []*recipe.Recipe) (fields []string, values [][]string) {
	flat := make([]map[string]string, len(recipes))
	keys := map[string]bool{}
	for i, r := range recipes {
		if r != nil {
			flat[i] = flatten(*r)
			for k := range flat[i] {
				keys[k] = true
			}
		}
	}
	for k := range keys {
		var first string
		same := true
		for i, f := range flat {
			v, ok := f[k]
			if !ok {
				v = "—"
			}
			if i == 0 {
				first = v
			} else if v != first {
				same = false
			}
		}
		if !same {
			fields = append(fields, k)
		}
	}
	sort.Strings(fields)
	for _, k := range fields {
		row := make([]string, len(flat))
		for i, f := range flat {
			if v, ok := f[k]; ok {
				row[i] = v
			} else {
				row[i] = "—"
			}
		}
		values = append(values, row)
	}
	return fields, values
}

func (pb *builder) configDiff(runs []*Run) {
	if len(runs) < 2 {
		return
	}
	rs := make([]*recipe.Recipe, len(runs))
	for i, r := range runs {
		rs[i] = r.Recipe
	}
	fields, values := ConfigDiff(rs)
	pb.p("<h3>Configuration diff (only the fields that differ)</h3>\n")
	if len(fields) == 0 {
		pb.p(`<p class="note">The runs' recipes are identical.</p>` + "\n")
		return
	}
	pb.p(`<table class="diff"><tr><th class="l">field</th>`)
	for _, r := range runs {
		pb.p(`<th class="l">%s</th>`, esc(r.Name))
	}
	pb.p("</tr>\n")
	for i, f := range fields {
		pb.p(`<tr><td class="l"><code>%s</code></td>`, esc(f))
		for _, v := range values[i] {
			pb.p(`<td class="l"><code>%s</code></td>`, esc(v))
		}
		pb.p("</tr>\n")
	}
	pb.p("</table>\n")
}

func (pb *builder) ensemble(e *Ensemble) {
	m := e.Manifest
	pb.p("<h2>Ensemble %s</h2>\n<p>%s ensemble of %d members, combined by %s.", esc(e.Name), esc(m.Kind), len(m.Members), esc(m.Combine))
	if e.Note != "" {
		pb.p(` <span class="note">%s</span>`, esc(e.Note))
	}
	pb.p("</p>\n")
	pb.p(`<table class="ensemble"><tr><th class="l">member</th><th>seed</th><th>epoch</th><th>test accuracy</th><th>test NLL</th></tr>` + "\n")
	for i, mb := range m.Members {
		acc, nll := math.NaN(), math.NaN()
		if e.Eval != nil && i < len(e.Eval.Members) {
			acc, nll = e.Eval.Members[i].Accuracy, e.Eval.Members[i].NLL
		} else if mb.Metrics != nil {
			acc, nll = mb.Metrics.TestAccuracy, mb.Metrics.TestNLL
		}
		pb.p(`<tr><td class="l">%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td></tr>`+"\n", esc(mb.Name), mb.Seed, mb.Epoch, cell(acc, "%.4f"), cell(nll, "%.4f"))
	}
	if ev := e.Eval; ev != nil {
		pb.p(`<tr><th class="l">mean of members</th><td></td><td></td><td>%s</td><td>%s</td></tr>`+"\n", cell(ev.MemberMean.Accuracy, "%.4f"), cell(ev.MemberMean.NLL, "%.4f"))
		for rule := ensemble.Probabilities; rule <= ensemble.Vote; rule++ {
			mark := ""
			if rule == e.Combine {
				mark = " *"
			}
			mm := ev.ByCombine[rule]
			pb.p(`<tr><th class="l">ensemble (%s)%s</th><td></td><td></td><td>%s</td><td>%s</td></tr>`+"\n", rule, mark, cell(mm.Accuracy, "%.4f"), cell(mm.NLL, "%.4f"))
		}
	}
	pb.p("</table>\n")
	if len(e.Runs) > 0 {
		trimCommon(e.Runs)
		pb.runs("", e.Runs)
	}
}

func (pb *builder) rangeTest(rt *RangeTest) {
	pb.p("<h2>LR range test %s</h2>\n", esc(rt.Name))
	if rt.Note != "" {
		pb.p(`<p class="note">%s</p>`+"\n", esc(rt.Note))
	}
	c := &chart{Title: "loss against learning rate", XLabel: "learning rate", YLabel: "loss", LogX: true}
	// like fastai's plot, leave out the exploding tail: the points after the smoothed
	// loss first exceeds 4x its lowest value so far
	hi, best := len(rt.Smoothed), math.Inf(1)
	for i, v := range rt.Smoothed {
		best = min(best, v)
		if v > 4*best || i < len(rt.Losses) && rt.Losses[i] > 4*best {
			hi = i
			break
		}
	}
	hi = max(hi, min(2, len(rt.Smoothed)))
	c.Lines = append(c.Lines, cline{Line: pb.addLine("loss", rt.LRs[:hi], rt.Losses[:hi]), Name: "batch loss", Color: color(0), Faint: true, Legend: true})
	c.Lines = append(c.Lines, cline{Line: pb.addLine("smoothed", rt.LRs[:hi], rt.Smoothed[:hi]), Name: "smoothed loss", Color: color(0), Legend: true})
	for i, s := range rt.Suggestions {
		if s.LR > 0 {
			label := fmt.Sprintf("%s: %.3g", s.Method, s.LR)
			if s.Method == rt.Chosen {
				label += " (chosen)"
			}
			c.Markers = append(c.Markers, marker{X: s.LR, Label: label, Color: color(i + 1)})
		}
	}
	pb.p(`<div class="charts">`)
	pb.chart(c)
	pb.p("</div>\n")
	pb.p(`<table class="suggestions"><tr><th class="l">rule</th><th>suggested lr</th></tr>` + "\n")
	for _, s := range rt.Suggestions {
		v := fmt.Sprintf("%.3g", s.LR)
		if s.Err != "" {
			v = "none (" + esc(s.Err) + ")"
		}
		mark := ""
		if s.Method == rt.Chosen {
			mark = " (chosen)"
		}
		pb.p(`<tr><td class="l">%s%s</td><td>%s</td></tr>`+"\n", esc(s.Method), mark, v)
	}
	pb.p("</table>\n")
}

func (pb *builder) lab(l *Lab) {
	f := l.File
	pb.p("<h2>Lab %s</h2>\n", esc(l.Name))
	pb.p(`<p class="note">budget %s · %s · commit %s · %s<br><code>%s</code></p>`+"\n", esc(f.Budget), esc(f.Date), esc(f.Commit), esc(f.CPU), esc(f.Command))
	pb.p(`<table class="lab"><tr><th class="l">claim</th><th class="l">statement</th><th class="l">metric</th><th>A: mean ± sd</th><th>B: mean ± sd</th><th>B − A (paired) [95%% CI]</th><th>min effect</th><th>seeds</th><th class="l">verdict</th></tr>` + "\n")
	for _, c := range f.Claims {
		pb.p(`<tr><td class="l"><a href="#claim-%s">%s</a></td><td class="l">%s</td><td class="l">%s</td><td>%s<br><span class="note">%s</span></td><td>%s<br><span class="note">%s</span></td><td>%s [%s, %s]</td><td>%s</td><td>%d</td><td class="l v-%s"><b>%s</b></td></tr>`+"\n",
			esc(c.Name), esc(c.Name), esc(c.Statement), esc(c.Metric),
			pm(float64(c.MeanA), float64(c.SDA)), esc(c.ArmA), pm(float64(c.MeanB), float64(c.SDB)), esc(c.ArmB),
			cell(float64(c.Diff), "%+.4g"), cell(float64(c.Lo), "%.4g"), cell(float64(c.Hi), "%.4g"), esc(minEffect(c)), len(c.A), esc(c.Verdict), esc(c.Verdict))
	}
	pb.p("</table>\n")
	for _, c := range f.Claims {
		pb.p(`<h3 id="claim-%s">%s: %s</h3>`+"\n", esc(c.Name), esc(c.Name), esc(c.Verdict))
		pb.p("<p>%s <span class=\"note\">%s</span></p>\n", esc(c.Statement), esc(c.Reason))
		if c.Error != "" {
			pb.p(`<p class="claim-error">error: %s</p>`, esc(c.Error))
		}
		if c.Paper != "" {
			pb.p(`<p class="note">published: %s</p>`+"\n", esc(c.Paper))
		}
		pb.p(`<table class="seeds"><tr><th>seed</th><th>A: %s</th><th>B: %s</th><th>B − A</th></tr>`, esc(c.ArmA), esc(c.ArmB))
		for i := range c.A {
			seed := ""
			if i < len(c.Seeds) {
				seed = fmt.Sprint(c.Seeds[i])
			}
			a, b := float64(c.A[i]), math.NaN()
			if i < len(c.B) {
				b = float64(c.B[i])
			}
			pb.p(`<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`, seed, cell(a, "%.5g"), cell(b, "%.5g"), cell(b-a, "%+.4g"))
		}
		pb.p("</table>\n")
		if len(c.Details) > 0 {
			keys := make([]string, 0, len(c.Details))
			for k := range c.Details {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			pb.p(`<table class="details"><tr><th>seed</th>`)
			for _, k := range keys {
				pb.p(`<th>%s</th>`, esc(k))
			}
			pb.p("</tr>")
			for i, s := range c.Seeds {
				pb.p(`<tr><td>%d</td>`, s)
				for _, k := range keys {
					v := math.NaN()
					if i < len(c.Details[k]) {
						v = float64(c.Details[k][i])
					}
					pb.p(`<td>%s</td>`, cell(v, "%.5g"))
				}
				pb.p("</tr>")
			}
			pb.p("</table>\n")
		}
		if runs, rts := l.Runs[c.Name], l.RangeTests[c.Name]; len(runs) > 0 || len(rts) > 0 {
			pb.p("<details><summary>curves and runs of %s</summary>\n", esc(c.Name))
			if len(runs) > 0 {
				pb.runs(c.Name+": ", runs)
			}
			for _, rt := range rts {
				pb.rangeTest(rt)
			}
			pb.p("</details>\n")
		}
	}
}

func minEffect(c LabClaim) string {
	switch c.Kind {
	case "equivalence":
		return fmt.Sprintf("|B − A| < %.3g", c.MinEffect)
	case "non-inferiority":
		return fmt.Sprintf("margin %.3g", c.MinEffect)
	}
	return fmt.Sprintf("%.3g", c.MinEffect)
}

func pm(m, sd float64) string {
	return cell(m, "%.4g") + " ± " + cell(sd, "%.2g")
}
