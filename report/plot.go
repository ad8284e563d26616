// Package report draws temper's plots (PNG, SVG, PDF) with gonum.org/v1/plot: a generic
// LinePlot and Grid, and the plots the CLI and lab use — loss against learning rate from
// an LR range test with the suggestion marked (LRFindPlot), a schedule's learning rate
// over steps (SchedulePlot) and training curves per epoch (TrainingCurves).
//
// Plots skip points that cannot be drawn instead of failing: non-finite values always,
// and values <= 0 on a logarithmic axis.
package report

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/temperml/temper/internal/fsafe"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ErrFormat is returned for an output format other than png, svg or pdf.
var ErrFormat = errors.New("report: unsupported image format (want .png, .svg or .pdf)")

// ErrNoData is returned when a plot has no drawable point.
var ErrNoData = errors.New("report: nothing to plot (no finite points; on a log axis, no positive ones)")

// Series is one named line. X and Y have equal lengths.
type Series struct {
	Name string
	X, Y []float64
	// Dashed draws the line dashed (e.g. validation next to a solid training curve).
	Dashed bool
}

// Marker is a labelled vertical line at X (e.g. the suggested learning rate).
type Marker struct {
	X     float64
	Label string
}

// LinePlot is a line chart of several named series. Zero values: no title or labels,
// linear axes, 6x4 inches; PNGs are rendered at 150 dpi.
type LinePlot struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	Markers               []Marker
	// Width and Height in inches; 0 means 6 and 4.
	Width, Height float64
}

// palette is colour-blind friendly (Okabe–Ito).
var palette = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {240, 228, 66, 255},
}

func (lp *LinePlot) drawable(x, y float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
		return false
	}
	return !(lp.LogX && x <= 0) && !(lp.LogY && y <= 0)
}

// Plot builds the gonum plot, for callers that want to adjust it further.
func (lp *LinePlot) Plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = lp.Title
	p.X.Label.Text = lp.XLabel
	p.Y.Label.Text = lp.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	if lp.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if lp.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	p.Add(plotter.NewGrid())

	ymin, ymax := math.Inf(1), math.Inf(-1)
	xmin, xmax := math.Inf(1), math.Inf(-1)
	n := 0
	for i, s := range lp.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("report: series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
		}
		var xys plotter.XYs
		for j := range s.X {
			if lp.drawable(s.X[j], s.Y[j]) {
				xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j]})
				ymin, ymax = math.Min(ymin, s.Y[j]), math.Max(ymax, s.Y[j])
				xmin, xmax = math.Min(xmin, s.X[j]), math.Max(xmax, s.X[j])
			}
		}
		if len(xys) == 0 {
			continue
		}
		n += len(xys)
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	if n == 0 {
		return nil, ErrNoData
	}
	lp.placeLegend(p, xmin, xmax, ymin, ymax)
	if ymin == ymax { // a flat line: give the axis some height
		pad := math.Abs(ymin) * 0.1
		if pad == 0 {
			pad = 1
		}
		if lp.LogY {
			p.Y.Min, p.Y.Max = ymin/2, ymax*2
		} else {
			p.Y.Min, p.Y.Max = ymin-pad, ymax+pad
		}
		ymin, ymax = p.Y.Min, p.Y.Max
	}
	if xmin == xmax {
		if lp.LogX {
			p.X.Min, p.X.Max = xmin/2, xmax*2
		} else {
			p.X.Min, p.X.Max = xmin-1, xmax+1
		}
	}
	for _, m := range lp.Markers {
		if !lp.drawable(m.X, ymin) {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: ymin}, {X: m.X, Y: ymax}})
		if err != nil {
			return nil, err
		}
		l.Color = color.RGBA{200, 0, 0, 255}
		l.Width = vg.Points(1)
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(l)
		if m.Label != "" {
			lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.X, Y: ymax}}, Labels: []string{m.Label}})
			if err != nil {
				return nil, err
			}
			lab.Offset = vg.Point{X: vg.Points(3), Y: vg.Points(-12)}
			for i := range lab.TextStyle {
				lab.TextStyle[i].Color = l.Color
			}
			p.Add(lab)
		}
	}
	return p, nil
}

func size(w, h float64) (vg.Length, vg.Length) {
	if w <= 0 {
		w = 6
	}
	if h <= 0 {
		h = 4
	}
	return vg.Length(w) * vg.Inch, vg.Length(h) * vg.Inch
}

// Encode writes the plot to w in format "png", "svg" or "pdf".
func (lp *LinePlot) Encode(w io.Writer, format string) error {
	p, err := lp.Plot()
	if err != nil {
		return err
	}
	wd, ht := size(lp.Width, lp.Height)
	return encode(w, format, wd, ht, func(c draw.Canvas) { p.Draw(c) })
}

// Save writes the plot to path in the format its extension names (.png, .svg, .pdf).
// The file is written only when rendering succeeded.
func (lp *LinePlot) Save(path string) error { return save(path, lp.Encode) }

// Grid lays out several line plots in one image, Cols per row (0 means all in one row),
// with aligned axes. Width and Height are the whole image's, in inches; 0 means 6 per
// column and 4 per row.
type Grid struct {
	Plots         []*LinePlot
	Cols          int
	Width, Height float64
}

// Encode writes the grid to w in format "png", "svg" or "pdf".
func (g *Grid) Encode(w io.Writer, format string) error {
	if len(g.Plots) == 0 {
		return ErrNoData
	}
	cols := g.Cols
	if cols <= 0 || cols > len(g.Plots) {
		cols = len(g.Plots)
	}
	rows := (len(g.Plots) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	for i, lp := range g.Plots {
		if lp == nil {
			return fmt.Errorf("report: grid plot %d is nil", i)
		}
		p, err := lp.Plot()
		if err != nil {
			return fmt.Errorf("report: grid plot %d (%q): %w", i, lp.Title, err)
		}
		plots[i/cols][i%cols] = p
	}
	wi, hi := g.Width, g.Height
	if wi <= 0 {
		wi = 6 * float64(cols)
	}
	if hi <= 0 {
		hi = 4 * float64(rows)
	}
	wd, ht := size(wi, hi)
	return encode(w, format, wd, ht, func(dc draw.Canvas) {
		pad := vg.Points(10)
		t := draw.Tiles{Rows: rows, Cols: cols, PadX: pad, PadY: pad, PadTop: pad / 2, PadBottom: pad / 2, PadLeft: pad / 2, PadRight: pad / 2}
		canvases := plot.Align(plots, t, dc)
		for r := range plots {
			for c, p := range plots[r] {
				if p != nil {
					p.Draw(canvases[r][c])
				}
			}
		}
	})
}

// Save writes the grid to path in the format its extension names (.png, .svg, .pdf).
func (g *Grid) Save(path string) error { return save(path, g.Encode) }

const pngDPI = 150

func encode(w io.Writer, format string, wd, ht vg.Length, drawFn func(draw.Canvas)) error {
	var c vg.CanvasWriterTo
	switch strings.ToLower(strings.TrimPrefix(format, ".")) {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(wd, ht), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))}
	case "svg":
		c = vgsvg.New(wd, ht)
	case "pdf":
		c = vgpdf.New(wd, ht)
	default:
		return fmt.Errorf("%w: %q", ErrFormat, format)
	}
	drawFn(draw.New(c))
	_, err := c.WriteTo(w)
	return err
}

func save(path string, enc func(io.Writer, string) error) error {
	var buf bytes.Buffer
	if err := enc(&buf, filepath.Ext(path)); err != nil {
		return err
	}
	if err := fsafe.WriteBytes(path, buf.Bytes()); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// logTicks marks powers of ten (labelled, every k-th decade when there are many) and the
// 2..9 multiples between them (unlabelled); plot.LogTicks prints 1e-06 as 9.99...e-07.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	a, b := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	every := 1 + (b-a)/10
	var ticks []plot.Tick
	for e := a; e <= b; e++ {
		v, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64)
		if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			label := ""
			if (e-a)%every == 0 {
				label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
		if b-a > 20 {
			continue
		}
		for m := 2; m <= 9; m++ {
			if w := float64(m) * v; w >= lo && w <= hi {
				ticks = append(ticks, plot.Tick{Value: w})
			}
		}
	}
	labelled := 0
	for _, tk := range ticks {
		if tk.Label != "" {
			labelled++
		}
	}
	// a short range: label the 2 and 5 multiples too, then every tick, then the ends.
	for pass := 0; labelled < 3 && pass < 2; pass++ {
		for i, tk := range ticks {
			if tk.Label != "" {
				continue
			}
			m := tk.Value / math.Pow(10, math.Floor(math.Log10(tk.Value)+1e-9))
			if pass == 1 || math.Abs(m-2) < 1e-6 || math.Abs(m-5) < 1e-6 {
				ticks[i].Label = strconv.FormatFloat(tk.Value, 'g', 3, 64)
				labelled++
			}
		}
	}
	if labelled < 2 {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 3, 64)}, {Value: hi, Label: strconv.FormatFloat(hi, 'g', 3, 64)}}
	}
	return ticks
}

// placeLegend puts the legend in the corner of the data area that the lines cross least.
func (lp *LinePlot) placeLegend(p *plot.Plot, xmin, xmax, ymin, ymax float64) {
	norm := func(v, lo, hi float64, log bool) float64 {
		if log {
			v, lo, hi = math.Log(v), math.Log(lo), math.Log(hi)
		}
		if hi == lo {
			return 0.5
		}
		return (v - lo) / (hi - lo)
	}
	named := 0
	for _, s := range lp.Series {
		if s.Name != "" {
			named++
		}
	}
	h := math.Min(0.5, 0.08*float64(named)+0.04)
	type corner struct {
		top, left bool
		hits      int
	}
	corners := []corner{{top: true}, {top: true, left: true}, {}, {left: true}}
	for _, s := range lp.Series {
		for j := range s.X {
			if !lp.drawable(s.X[j], s.Y[j]) {
				continue
			}
			x, y := norm(s.X[j], xmin, xmax, lp.LogX), norm(s.Y[j], ymin, ymax, lp.LogY)
			for k := range corners {
				c := &corners[k]
				inX := (c.left && x < 0.35) || (!c.left && x > 0.65)
				inY := (c.top && y > 1-h) || (!c.top && y < h)
				if inX && inY {
					c.hits++
				}
			}
		}
	}
	best := corners[0]
	for _, c := range corners[1:] {
		if c.hits < best.hits {
			best = c
		}
	}
	p.Legend.Top, p.Legend.Left = best.top, best.left
	p.Legend.XOffs = vg.Points(-6)
	if best.left {
		p.Legend.XOffs = vg.Points(6)
	}
}

// niceTicks labels about five round values (1, 2 or 5 times a power of ten) with minor
// ticks between them; gonum's default can label only the ends ("0.00", "250.00").
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 5, 10} {
		if raw/mag > m*0.75 {
			step = m * mag
		}
	}
	minor := step / 5
	if step/mag == 2 {
		minor = step / 4
	}
	var ticks []plot.Tick
	first := math.Ceil(lo/minor-1e-9) * minor
	for i := 0; i < 200; i++ {
		v := first + float64(i)*minor
		if v > hi+minor*1e-9 {
			break
		}
		k := v / step
		if math.Abs(k-math.Round(k)) < 1e-6 {
			v = math.Round(k) * step
			if math.Abs(v) < step*1e-9 {
				v = 0
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 6, 64)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}
