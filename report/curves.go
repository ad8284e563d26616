package report

import (
	"fmt"
	"math"
	"strconv"
)

// LRFindPlot is the LR range test's picture: loss against learning rate on a log x axis,
// with the suggested learning rate marked by a labelled vertical line ("valley: 3.2e-03").
// smoothed may be nil; when given (same length as lrs) it is drawn over the raw losses.
// method names the suggestion rule; suggested <= 0 draws no marker.
func LRFindPlot(lrs, losses, smoothed []float64, suggested float64, method string) *LinePlot {
	lp := &LinePlot{
		Title:  "LR range test",
		XLabel: "learning rate",
		YLabel: "loss",
		LogX:   true,
		Series: []Series{{X: lrs, Y: losses}},
	}
	if smoothed != nil {
		lp.Series[0].Name = "loss (raw)"
		lp.Series = append(lp.Series, Series{Name: "loss (smoothed)", X: lrs, Y: smoothed})
	}
	if suggested > 0 {
		label := "suggested lr: " + fmtLR(suggested)
		if method != "" {
			label = method + ": " + fmtLR(suggested)
		}
		lp.Markers = []Marker{{X: suggested, Label: label}}
	}
	return lp
}

func fmtLR(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }

// SchedulePlot draws learning rate against step for one or more schedules; lrs[i] is the
// lr at step i. Several curves are passed as named series with Series.X nil, meaning the
// step index. logY puts the lr on a log axis (useful for step and exponential decay).
func SchedulePlot(title string, logY bool, curves ...Series) *LinePlot {
	lp := &LinePlot{Title: title, XLabel: "step", YLabel: "learning rate", LogY: logY}
	for _, c := range curves {
		if c.X == nil {
			c.X = make([]float64, len(c.Y))
			for i := range c.X {
				c.X[i] = float64(i)
			}
		}
		lp.Series = append(lp.Series, c)
	}
	return lp
}

// EpochRecord is one epoch's summary for TrainingCurves. A missing value is NaN; a
// quantity that is 0 or NaN in every record is left out (so records decoded from JSON
// without that field need no special care).
type EpochRecord struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValAcc    float64 `json:"val_acc"`
}

// TrainingCurves is two panels side by side: train/validation loss and train/validation
// accuracy against epoch (one panel when there is no accuracy). Training is drawn solid,
// validation dashed.
func TrainingCurves(title string, recs []EpochRecord) (*Grid, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("report: training curves: %w", ErrNoData)
	}
	ep := make([]float64, len(recs))
	col := func(f func(EpochRecord) float64) ([]float64, bool) {
		v := make([]float64, len(recs))
		has := false
		for i, r := range recs {
			v[i] = f(r)
			if v[i] != 0 && !math.IsNaN(v[i]) {
				has = true
			}
		}
		return v, has
	}
	for i, r := range recs {
		ep[i] = float64(r.Epoch)
	}
	panel := func(name, ylabel string, tr, va func(EpochRecord) float64) *LinePlot {
		lp := &LinePlot{Title: name, XLabel: "epoch", YLabel: ylabel}
		if y, ok := col(tr); ok {
			lp.Series = append(lp.Series, Series{Name: "train", X: ep, Y: y})
		}
		if y, ok := col(va); ok {
			lp.Series = append(lp.Series, Series{Name: "validation", X: ep, Y: y, Dashed: true})
		}
		if len(lp.Series) == 0 {
			return nil
		}
		return lp
	}
	g := &Grid{}
	if title != "" {
		title += ": "
	}
	if lp := panel(title+"loss", "loss", func(r EpochRecord) float64 { return r.TrainLoss }, func(r EpochRecord) float64 { return r.ValLoss }); lp != nil {
		g.Plots = append(g.Plots, lp)
	}
	if lp := panel(title+"accuracy", "accuracy", func(r EpochRecord) float64 { return r.TrainAcc }, func(r EpochRecord) float64 { return r.ValAcc }); lp != nil {
		g.Plots = append(g.Plots, lp)
	}
	if len(g.Plots) == 0 {
		return nil, fmt.Errorf("report: training curves: %w", ErrNoData)
	}
	return g, nil
}
