package page

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Chart geometry (SVG user units).
const (
	chartW, chartH = 640, 300
	padL, padR     = 62, 14
	padT, padB     = 26, 42
)

// palette is colour-blind friendly (Okabe–Ito), as report's PNG plots.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#999933"}

func color(i int) string { return palette[i%len(palette)] }

// line is one series of the page's data: X and Y of equal length, NaN for a gap.
type line struct {
	Name string    `json:"name"`
	X    []float64 `json:"x"`
	Y    []float64 `json:"y"`
}

// cline is a line as one chart draws it.
type cline struct {
	Line   int // index into the page's lines
	Name   string
	Color  string
	Dash   string // SVG stroke-dasharray, "" for solid
	Faint  bool   // a seed of a group, drawn thin and light
	Smooth bool   // gets a smoothed path over its faint raw path (the smoothing control)
	Legend bool
}

// band is a shaded region between Lo and Hi (a seed group's mean ± sd).
type band struct {
	X, Lo, Hi []float64
	Color     string
}

type marker struct {
	X     float64
	Label string
	Color string
}

// chart is one SVG line chart.
type chart struct {
	ID                    string
	Title, XLabel, YLabel string
	LogX, LogY            bool
	// FixX fixes the x range to [XMin, XMax] (all runs on the same axes); otherwise it
	// comes from the data.
	FixX       bool
	XMin, XMax float64
	Lines      []cline
	Bands      []band
	Markers    []marker
}

type scale struct {
	x0, x1, y0, y1 float64 // domain (log10 of it on a log axis)
	logX, logY     bool
}

func (s scale) px(x float64) float64 {
	if s.logX {
		x = math.Log10(x)
	}
	return padL + (x-s.x0)/(s.x1-s.x0)*(chartW-padL-padR)
}

func (s scale) py(y float64) float64 {
	if s.logY {
		y = math.Log10(y)
	}
	return chartH - padB - (y-s.y0)/(s.y1-s.y0)*(chartH-padT-padB)
}

func drawable(v float64, log bool) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && !(log && v <= 0)
}

// bounds returns the finite range of vs (on a log axis, of the positive values), or
// false when there is none.
func bounds(log bool, vs ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		for _, x := range v {
			if drawable(x, log) {
				lo, hi, ok = min(lo, x), max(hi, x), true
			}
		}
	}
	return
}

func (c *chart) scale(lines []line) (scale, bool) {
	s := scale{logX: c.LogX, logY: c.LogY}
	var xs, ys [][]float64
	for _, l := range c.Lines {
		xs, ys = append(xs, lines[l.Line].X), append(ys, lines[l.Line].Y)
	}
	for _, b := range c.Bands {
		xs, ys = append(xs, b.X), append(ys, b.Lo, b.Hi)
	}
	xlo, xhi, okx := bounds(c.LogX, xs...)
	ylo, yhi, oky := bounds(c.LogY, ys...)
	if !okx || !oky {
		return s, false
	}
	if c.FixX && drawable(c.XMin, c.LogX) && drawable(c.XMax, c.LogX) && c.XMax >= c.XMin {
		xlo, xhi = c.XMin, c.XMax
	}
	for _, m := range c.Markers {
		if drawable(m.X, c.LogX) {
			xlo, xhi = min(xlo, m.X), max(xhi, m.X)
		}
	}
	tr := func(v float64, log bool) float64 {
		if log {
			return math.Log10(v)
		}
		return v
	}
	s.x0, s.x1 = tr(xlo, c.LogX), tr(xhi, c.LogX)
	s.y0, s.y1 = tr(ylo, c.LogY), tr(yhi, c.LogY)
	if s.x1 == s.x0 {
		s.x0, s.x1 = s.x0-0.5, s.x1+0.5
	}
	if s.y1 == s.y0 {
		d := math.Max(math.Abs(s.y0)*0.05, 0.5)
		s.y0, s.y1 = s.y0-d, s.y1+d
	} else {
		pad := (s.y1 - s.y0) * 0.04
		s.y0, s.y1 = s.y0-pad, s.y1+pad
	}
	return s, true
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// pathData is the SVG path of (x, y), a new subpath after every gap.
func pathData(s scale, x, y []float64) string {
	var b strings.Builder
	pen := false
	for i := range x {
		if !drawable(x[i], s.logX) || !drawable(y[i], s.logY) {
			pen = false
			continue
		}
		if pen {
			b.WriteByte('L')
		} else {
			b.WriteByte('M')
		}
		b.WriteString(f1(s.px(x[i])))
		b.WriteByte(',')
		b.WriteString(f1(s.py(y[i])))
		pen = true
	}
	return b.String()
}

// niceTicks returns about n round values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	span := hi - lo
	if !(span > 0) {
		return []float64{lo}
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// logTicks returns the powers of ten within [lo, hi] (log10 domain); with fewer than
// two, also 2× and 5× them.
func logTicks(lo, hi float64) []float64 {
	var out []float64
	for e := math.Ceil(lo - 1e-9); e <= hi+1e-9; e++ {
		out = append(out, e)
	}
	if len(out) >= 2 {
		return out
	}
	out = out[:0]
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := e + math.Log10(m); v >= lo-1e-9 && v <= hi+1e-9 {
				out = append(out, v)
			}
		}
	}
	return out
}

func tickLabel(v float64, log bool) string {
	if log {
		v = math.Pow(10, v)
	}
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func esc(s string) string { return html.EscapeString(s) }

// svg renders the chart as static SVG (what the page shows without JavaScript). The
// data-* attributes carry the scale for the script's smoothing.
func (c *chart) svg(lines []line, smoothing float64) string {
	var b strings.Builder
	s, ok := c.scale(lines)
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-label="%s"`,
		esc(c.ID), chartW, chartH, esc(c.Title))
	if !ok {
		fmt.Fprintf(&b, `><text x="%d" y="%d" class="title">%s</text><text x="%d" y="%d" class="empty">no data to draw</text></svg>`,
			padL, 16, esc(c.Title), chartW/2, chartH/2)
		return b.String()
	}
	fmt.Fprintf(&b, ` data-x0="%s" data-x1="%s" data-y0="%s" data-y1="%s" data-logx="%t" data-logy="%t">`,
		g(s.x0), g(s.x1), g(s.y0), g(s.y1), c.LogX, c.LogY)
	fmt.Fprintf(&b, `<text x="%d" y="16" class="title">%s</text>`, padL, esc(c.Title))
	l, r, t, bt := float64(padL), float64(chartW-padR), float64(padT), float64(chartH-padB)
	fmt.Fprintf(&b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s"/>`, f1(l), f1(t), f1(r-l), f1(bt-t))
	// grid and ticks
	xt := niceTicks(s.x0, s.x1, 6)
	if s.logX {
		xt = logTicks(s.x0, s.x1)
	}
	for _, v := range xt {
		x := l + (v-s.x0)/(s.x1-s.x0)*(r-l)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`,
			f1(x), f1(t), f1(x), f1(bt), f1(x), f1(bt+14), esc(tickLabel(v, s.logX)))
	}
	yt := niceTicks(s.y0, s.y1, 5)
	if s.logY {
		yt = logTicks(s.y0, s.y1)
	}
	for _, v := range yt {
		y := bt - (v-s.y0)/(s.y1-s.y0)*(bt-t)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`,
			f1(l), f1(y), f1(r), f1(y), f1(l-5), f1(y+4), esc(tickLabel(v, s.logY)))
	}
	fmt.Fprintf(&b, `<text class="label" x="%s" y="%d" text-anchor="middle">%s</text>`, f1((l+r)/2), chartH-6, esc(c.XLabel))
	fmt.Fprintf(&b, `<text class="label" x="14" y="%s" text-anchor="middle" transform="rotate(-90 14 %s)">%s</text>`,
		f1((t+bt)/2), f1((t+bt)/2), esc(c.YLabel))
	for _, bd := range c.Bands {
		fmt.Fprintf(&b, `<path class="band" fill="%s" d="%s"/>`, bd.Color, bandPath(s, bd))
	}
	for _, cl := range c.Lines {
		ln := lines[cl.Line]
		dash := ""
		if cl.Dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, cl.Dash)
		}
		cls := "line"
		if cl.Faint {
			cls = "seed"
		}
		if cl.Smooth {
			fmt.Fprintf(&b, `<path class="raw" data-l="%d" stroke="%s"%s d="%s"/>`, cl.Line, cl.Color, dash, pathData(s, ln.X, ln.Y))
			fmt.Fprintf(&b, `<path class="%s sm" data-l="%d" stroke="%s"%s d="%s"/>`, cls, cl.Line, cl.Color, dash, pathData(s, ln.X, Smooth(ln.Y, smoothing)))
		} else {
			fmt.Fprintf(&b, `<path class="%s" data-l="%d" stroke="%s"%s d="%s"/>`, cls, cl.Line, cl.Color, dash, pathData(s, ln.X, ln.Y))
		}
	}
	for i, m := range c.Markers {
		if !drawable(m.X, s.logX) {
			continue
		}
		x := s.px(m.X)
		anchor, dx := "start", 3.0
		if x > (l+r)/2 {
			anchor, dx = "end", -3
		}
		fmt.Fprintf(&b, `<line class="marker" stroke="%s" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="mlabel" fill="%s" x="%s" y="%s" text-anchor="%s">%s</text>`,
			m.Color, f1(x), f1(t), f1(x), f1(bt), m.Color, f1(x+dx), f1(t+12+13*float64(i)), anchor, esc(m.Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// bandPath is the closed outline of a band: Lo left to right, Hi right to left, one
// polygon per stretch without gaps.
func bandPath(s scale, bd band) string {
	var b strings.Builder
	i := 0
	for i < len(bd.X) {
		for i < len(bd.X) && !(drawable(bd.X[i], s.logX) && drawable(bd.Lo[i], s.logY) && drawable(bd.Hi[i], s.logY)) {
			i++
		}
		j := i
		for j < len(bd.X) && drawable(bd.X[j], s.logX) && drawable(bd.Lo[j], s.logY) && drawable(bd.Hi[j], s.logY) {
			j++
		}
		if j > i {
			for k := i; k < j; k++ {
				if k == i {
					b.WriteByte('M')
				} else {
					b.WriteByte('L')
				}
				b.WriteString(f1(s.px(bd.X[k])) + "," + f1(s.py(bd.Lo[k])))
			}
			for k := j - 1; k >= i; k-- {
				b.WriteString("L" + f1(s.px(bd.X[k])) + "," + f1(s.py(bd.Hi[k])))
			}
			b.WriteByte('Z')
		}
		i = j
	}
	return b.String()
}

// Smooth is TensorBoard's debiased exponential moving average with weight w in [0, 1):
// m_i = w·m_{i-1} + (1−w)·y_i over the finite values, reported as m_i / (1 − w^k) after
// k finite values; a gap (NaN) stays a gap and does not reset the average. w = 0
// returns y unchanged. The page's script computes the same.
func Smooth(y []float64, w float64) []float64 {
	out := make([]float64, len(y))
	if w <= 0 {
		copy(out, y)
		return out
	}
	var m float64
	k := 0
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out[i] = math.NaN()
			continue
		}
		k++
		m = w*m + (1-w)*v
		out[i] = m / (1 - math.Pow(w, float64(k)))
	}
	return out
}
