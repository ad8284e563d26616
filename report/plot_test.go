package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPNG decodes path and reports its size and the fraction of non-white pixels.
func checkPNG(t *testing.T, path string) (w, h int, ink float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", path, err)
	}
	b := img.Bounds()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bb < 0xf000 {
				n++
			}
		}
	}
	return b.Dx(), b.Dy(), float64(n) / float64(b.Dx()*b.Dy())
}

// checkSVG parses path as XML and returns its text and the number of drawn paths.
func checkSVG(t *testing.T, path string) (text string, paths int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	var sb strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Local
			}
			if v.Name.Local == "path" {
				paths++
			}
		case xml.CharData:
			sb.Write(v)
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", path, root)
	}
	return sb.String(), paths
}

func lrfindData() (lrs, losses []float64) {
	for i := 0; i < 100; i++ {
		lr := 1e-7 * math.Pow(1e8, float64(i)/99)
		lrs = append(lrs, lr)
		x := math.Log10(lr) + 2.5 // minimum near 3e-3
		losses = append(losses, 2.3-1.5/(1+math.Exp(-2*(math.Log10(lr)+4)))+0.05*x*x*step(x))
	}
	return
}

func step(x float64) float64 {
	if x > 0 {
		return 4
	}
	return 0
}

func TestSaveFormats(t *testing.T) {
	dir := t.TempDir()
	lrs, losses := lrfindData()
	lp := LRFindPlot(lrs, losses, nil, 3e-3, "valley")
	tests := []struct {
		file string
		ok   bool
	}{
		{"lrfind.png", true}, {"lrfind.svg", true}, {"lrfind.PNG", true}, {"lrfind.pdf", true},
		{"lrfind.gif", false}, {"lrfind", false},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, tc.file)
		err := lp.Save(path)
		if tc.ok != (err == nil) {
			t.Errorf("Save(%s): error %v, want ok=%v", tc.file, err, tc.ok)
			continue
		}
		if !tc.ok {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("Save(%s): error %v, want ErrFormat", tc.file, err)
			}
			if _, serr := os.Stat(path); serr == nil {
				t.Errorf("Save(%s) failed but left a file", tc.file)
			}
		}
	}
	w, h, ink := checkPNG(t, filepath.Join(dir, "lrfind.png"))
	if w != 900 || h != 600 {
		t.Errorf("png size %dx%d, want 900x600 (6x4 in at 150 dpi)", w, h)
	}
	if ink < 0.01 || ink > 0.5 {
		t.Errorf("png ink fraction %.3f, want a drawn but mostly white plot", ink)
	}
	text, paths := checkSVG(t, filepath.Join(dir, "lrfind.svg"))
	for _, want := range []string{"LR range test", "learning rate", "valley: 0.003"} {
		if !strings.Contains(text, want) {
			t.Errorf("svg lacks text %q", want)
		}
	}
	if paths < 10 {
		t.Errorf("svg has %d paths, want a drawn plot", paths)
	}
	if os.Getenv("TEMPER_KEEP_PLOTS") != "" { // for looking at the output by eye
		lp.Save(filepath.Join(os.Getenv("TEMPER_KEEP_PLOTS"), "lrfind.png"))
	}
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		lp   *LinePlot
		want error
	}{
		{"empty", &LinePlot{}, ErrNoData},
		{"all nan", &LinePlot{Series: []Series{{X: []float64{1, 2}, Y: []float64{math.NaN(), math.Inf(1)}}}}, ErrNoData},
		{"log of non-positive", &LinePlot{LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{0, -1}}}}, ErrNoData},
	}
	for _, tc := range tests {
		if err := tc.lp.Save(filepath.Join(dir, "x.png")); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	bad := &LinePlot{Series: []Series{{Name: "s", X: []float64{1}, Y: []float64{1, 2}}}}
	if err := bad.Save(filepath.Join(dir, "x.png")); err == nil || !strings.Contains(err.Error(), `"s" has 1 x values and 2 y values`) {
		t.Errorf("mismatched series: error %v", err)
	}
}

func TestDegenerateDataStillDraws(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		lp   *LinePlot
	}{
		{"flat", &LinePlot{Series: []Series{{X: []float64{0, 1, 2}, Y: []float64{0.1, 0.1, 0.1}}}}},
		{"flat log", &LinePlot{LogY: true, Series: []Series{{X: []float64{0, 1}, Y: []float64{0.1, 0.1}}}}},
		{"one point", &LinePlot{Series: []Series{{X: []float64{3}, Y: []float64{2}}}}},
		{"zero flat", &LinePlot{Series: []Series{{X: []float64{0, 1}, Y: []float64{0, 0}}}}},
		{"some skipped", &LinePlot{LogX: true, Series: []Series{{X: []float64{-1, 0, 1, 10}, Y: []float64{1, 2, 3, math.NaN()}}}}},
		{"marker off log axis", &LinePlot{LogX: true, Markers: []Marker{{X: -1, Label: "x"}}, Series: []Series{{X: []float64{1, 10}, Y: []float64{1, 2}}}}},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".png")
		if err := tc.lp.Save(path); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if _, _, ink := checkPNG(t, path); ink < 0.005 {
			t.Errorf("%s: ink %.4f, want something drawn", tc.name, ink)
		}
	}
}

func TestSchedulePlotAndTrainingCurves(t *testing.T) {
	dir := t.TempDir()
	var cos, step []float64
	for i := 0; i <= 300; i++ {
		cos = append(cos, 0.05*(1+math.Cos(math.Pi*float64(i)/300)))
		step = append(step, 0.1*math.Pow(0.1, float64(i/100)))
	}
	sp := SchedulePlot("schedules", true, Series{Name: "cosine", Y: cos}, Series{Name: "step", Y: step})
	if got := sp.Series[0].X[300]; got != 300 {
		t.Errorf("default x at 300 = %v", got)
	}
	var recs []EpochRecord
	for e := 1; e <= 20; e++ {
		f := float64(e)
		recs = append(recs, EpochRecord{Epoch: e, TrainLoss: 1 / f, ValLoss: 1/f + 0.01*f, TrainAcc: 1 - 0.5/f, ValAcc: 0.95 - 0.5/f})
	}
	tc, err := TrainingCurves("mlp", recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Plots) != 2 {
		t.Fatalf("%d panels, want loss and accuracy", len(tc.Plots))
	}
	for _, ext := range []string{".png", ".svg"} {
		if err := sp.Save(filepath.Join(dir, "schedule"+ext)); err != nil {
			t.Fatal(err)
		}
		if err := tc.Save(filepath.Join(dir, "curves"+ext)); err != nil {
			t.Fatal(err)
		}
	}
	if w, h, _ := checkPNG(t, filepath.Join(dir, "curves.png")); w != 1800 || h != 600 {
		t.Errorf("curves png %dx%d, want 1800x600", w, h)
	}
	text, _ := checkSVG(t, filepath.Join(dir, "curves.svg"))
	for _, want := range []string{"mlp: loss", "mlp: accuracy", "validation", "epoch"} {
		if !strings.Contains(text, want) {
			t.Errorf("curves svg lacks %q", want)
		}
	}
	if keep := os.Getenv("TEMPER_KEEP_PLOTS"); keep != "" {
		sp.Save(filepath.Join(keep, "schedule.png"))
		tc.Save(filepath.Join(keep, "curves.png"))
	}
	// loss only: one panel.
	for i := range recs {
		recs[i].TrainAcc, recs[i].ValAcc = 0, math.NaN()
	}
	if tc, err := TrainingCurves("", recs); err != nil || len(tc.Plots) != 1 {
		t.Errorf("loss-only curves: %v panels, err %v", tc, err)
	}
	if _, err := TrainingCurves("", nil); !errors.Is(err, ErrNoData) {
		t.Errorf("no records: %v, want ErrNoData", err)
	}
}
