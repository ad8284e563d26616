package page

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/temperml/temper/recipe"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func epochs(n int, f func(i int) Epoch) []Epoch {
	var out []Epoch
	for i := 1; i <= n; i++ {
		out = append(out, f(i))
	}
	return out
}

// fixture is a fixed report: two runs differing only by seed, one with another lr and a
// gap in its validation loss, a range test and a lab.
func fixture() *Report {
	r1 := recipe.Default()
	r1.Epochs = 6
	r2 := r1
	r2.Seed = 2
	r3 := r1
	r3.Optim.LR = 0.05
	mk := func(name string, rc recipe.Recipe, off float64) *Run {
		rc2 := rc
		return &Run{Name: name, Recipe: &rc2, Epochs: epochs(6, func(i int) Epoch {
			x := float64(i)
			e := Epoch{Epoch: i, LR: 0.2 / x, TrainLoss: 1/x + off, TrainAccuracy: 1 - 0.5/x, ValLoss: 1.1/x + off + 0.05,
				ValAccuracy: 1 - 0.6/x, TestLoss: math.NaN(), TestAccuracy: math.NaN(), TrainEvalLoss: math.NaN(), TrainEvalAcc: math.NaN(),
				TrainSeconds: 1, SamplesPerSecond: 1000}
			if name == "lr-0.05" && i == 3 {
				e.ValLoss, e.ValAccuracy = math.NaN(), math.NaN()
			}
			return e
		})}
	}
	rep := &Report{Title: "fixture", Runs: []*Run{mk("seed-1", r1, 0), mk("seed-2", r2, 0.02), mk("lr-0.05", r3, 0.1)}}
	var lrs, losses []float64
	for i := 0; i < 60; i++ {
		lr := 1e-5 * math.Pow(10, float64(i)/10)
		lrs, losses = append(lrs, lr), append(losses, 2.3-0.8*math.Tanh(float64(i-25)/8)+math.Max(0, float64(i-50))*0.5)
	}
	rep.RangeTests = []*RangeTest{{Name: "lrfind", LRs: lrs, Losses: losses, Smoothed: Smooth(losses, 0.5), Chosen: "valley",
		Suggestions: []Suggestion{{Method: "valley", LR: 1e-3}, {Method: "steep", LR: 3e-3}, {Method: "slide", Err: "curve too short"}}}}
	rep.Labs = []*Lab{{Name: "lab", File: LabFile{Budget: "quick", Claims: []LabClaim{{Name: "reg-l2", Statement: "L2 shrinks the gap.",
		Metric: "gap", Kind: "superiority", MinEffect: 0.02, ArmA: "none", ArmB: "l2", Seeds: []uint64{1, 2, 3, 4},
		A: Nums([]float64{0.3, 0.31, 0.29, 0.3}), B: Nums([]float64{0.1, 0.12, 0.11, 0.1}), MeanA: 0.3, SDA: 0.008, MeanB: 0.1075,
		SDB: 0.0096, Diff: -0.1925, Lo: Num(math.NaN()), Hi: -0.18, Verdict: "SUPPORTED", Reason: "because"}}}}}
	return rep
}

func render(t *testing.T, rep *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := rep.Render(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPageHasNoExternalReference(t *testing.T) {
	h := render(t, fixture())
	for _, bad := range []string{"http:", "https:", "//cdn", "src=", "<link", "url(", "@import", "<iframe", "<img"} {
		if strings.Contains(h, bad) {
			i := strings.Index(h, bad)
			t.Errorf("page contains %q: ...%s...", bad, h[max(0, i-60):min(len(h), i+60)])
		}
	}
	// exactly one inline script and one style, whose hashes the CSP names
	if n := strings.Count(h, "<script>"); n != 1 {
		t.Errorf("%d executable inline scripts, want 1", n)
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(h)
	if csp == nil {
		t.Fatal("no Content-Security-Policy meta tag")
	}
	for _, want := range []string{"default-src 'none'", "script-src " + hash(script), "style-src " + hash(style)} {
		if !strings.Contains(csp[1], want) {
			t.Errorf("CSP %q lacks %q", csp[1], want)
		}
	}
	if strings.Contains(csp[1], "unsafe-inline") || strings.Contains(csp[1], "unsafe-eval") {
		t.Errorf("CSP allows unsafe sources: %q", csp[1])
	}
	if !strings.Contains(h, "<script>"+script+"</script>") || !strings.Contains(h, "<style>"+style+"</style>") {
		t.Error("the inline script or style differs from the hashed text")
	}
	if strings.Contains(h, ` style="`) {
		t.Error("an inline style attribute (blocked by the CSP)")
	}
}

func TestPageDataIsJSON(t *testing.T) {
	h := render(t, fixture())
	m := regexp.MustCompile(`(?s)<script type="application/json" id="temper-data">(.*?)</script>`).FindAllStringSubmatch(h, -1)
	if len(m) != 1 {
		t.Fatalf("%d data blocks, want 1 (data embedded once)", len(m))
	}
	var d struct {
		Geom  map[string]int `json:"geom"`
		Lines []struct {
			Name string     `json:"name"`
			X    []*float64 `json:"x"`
			Y    []*float64 `json:"y"`
		} `json:"lines"`
	}
	if err := json.Unmarshal([]byte(m[0][1]), &d); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	if len(d.Lines) == 0 || d.Geom["w"] != chartW {
		t.Fatalf("data has %d lines, geom %v", len(d.Lines), d.Geom)
	}
	if !strings.Contains(m[0][1], "null") {
		t.Error("the gap (NaN) is not written as null")
	}
	// every smoothable path refers to a line of the data
	for _, ref := range regexp.MustCompile(`data-l="(\d+)"`).FindAllStringSubmatch(h, -1) {
		var i int
		json.Unmarshal([]byte(ref[1]), &i)
		if i >= len(d.Lines) {
			t.Fatalf("path refers to line %d of %d", i, len(d.Lines))
		}
	}
}

func TestPageShowsEverything(t *testing.T) {
	h := render(t, fixture())
	for _, want := range []string{
		`class="band"`,                      // the seed group's mean ± sd
		`seed-1 (+1 seeds) val (mean ± sd)`, // grouped by recipe minus seed
		`<code>optim.lr</code>`,             // the diff shows what differs
		`<code>seed</code>`,
		`valley: 0.001`, // range-test marker
		`v-SUPPORTED`,   // verdict table
		`id="smooth"`,   // smoothing control
		`class="raw"`,   // raw series kept
		`learning rate (end of epoch)`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(h, `<code>model.name</code>`) {
		t.Error("the configuration diff shows a field that does not differ")
	}
}

func TestConfigDiffOnlyDiffers(t *testing.T) {
	a, b := recipe.Default(), recipe.Default()
	b.Optim.LR, b.Model.Dropout = 0.1, 0
	f, v := ConfigDiff([]*recipe.Recipe{&a, &b, nil})
	got := strings.Join(f, ",")
	if !strings.Contains(got, "optim.lr") || !strings.Contains(got, "model.dropout") {
		t.Fatalf("diff %v lacks optim.lr or model.dropout", f)
	}
	// every field differs because the third run has no recipe
	if len(v) != len(f) || v[0][2] != "—" {
		t.Fatalf("values %v", v)
	}
	f2, _ := ConfigDiff([]*recipe.Recipe{&a, &b})
	if len(f2) != 2 {
		t.Fatalf("diff of two recipes = %v, want optim.lr and model.dropout only", f2)
	}
}

// TestChartGolden compares the loss chart of the fixture with testdata/loss.svg
// (go test -run ChartGolden -update rewrites it).
func TestChartGolden(t *testing.T) {
	pb := &builder{}
	c := pb.curveChart("loss", "loss", groupRuns(fixture().Runs), lossMetrics, 6, false)
	got := c.svg(pb.lines, 0)
	path := filepath.Join("testdata", "loss.svg")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got+"\n" != string(want) {
		t.Errorf("loss chart differs from %s (run with -update after checking the change)", path)
	}
}

func TestSmooth(t *testing.T) {
	y := []float64{1, math.NaN(), 3, 5}
	s := Smooth(y, 0.5)
	// m1 = 0.5 -> 1; gap; m2 = 0.25+1.5 = 1.75 -> 1.75/0.75; m3 = 0.875+2.5 = 3.375 -> /0.875
	want := []float64{1, math.NaN(), 1.75 / 0.75, 3.375 / 0.875}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(s[i]) || !math.IsNaN(want[i]) && math.Abs(s[i]-want[i]) > 1e-12 {
			t.Fatalf("Smooth = %v, want %v", s, want)
		}
	}
	if got := Smooth(y, 0); got[2] != 3 {
		t.Fatalf("Smooth(w=0) changed the values: %v", got)
	}
}

func TestNiceTicks(t *testing.T) {
	got := niceTicks(0.13, 0.97, 5)
	if len(got) < 3 || got[0] < 0.13 || got[len(got)-1] > 0.97 {
		t.Fatalf("ticks %v", got)
	}
	if lt := logTicks(-5, -1); len(lt) != 5 || lt[0] != -5 {
		t.Fatalf("log ticks %v", lt)
	}
}
