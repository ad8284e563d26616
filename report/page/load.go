package page

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

// Report is everything one page shows. Build it with Load (from folders) or fill it in
// (the lab does); Write renders it.
type Report struct {
	Title string
	// Runs share the page's training-curve charts (same axes; runs that differ only by
	// seed drawn as one group: mean and band).
	Runs       []*Run
	Ensembles  []*Ensemble
	RangeTests []*RangeTest
	Labs       []*Lab
	// Notes are shown at the top (e.g. an ensemble that could not be evaluated).
	Notes []string
}

// Run is one training run: its per-epoch records and, when present, its summary.
type Run struct {
	Name   string
	Epochs []Epoch
	Result *recipe.Result // summary.json; nil if the run has none (still running)
	Recipe *recipe.Recipe // the summary's recipe, or the checkpoint's
	// Group, if set, names the seed group the run belongs to; otherwise runs whose
	// recipes differ only by seed (and thread count) are grouped automatically.
	Group string
}

// Ensemble is an ensemble folder: its manifest, its members' runs and, when it could be
// evaluated, the member/ensemble table.
type Ensemble struct {
	Name     string
	Manifest *ensemble.Manifest
	Eval     *ensemble.Report // nil when not evaluated (Note says why)
	Combine  ensemble.Combine
	Note     string
	Runs     []*Run
}

// Suggestion is one rule's learning rate read off a range test (0: none; Err says why).
type Suggestion struct {
	Method string  `json:"method"`
	LR     float64 `json:"lr"`
	Err    string  `json:"error,omitempty"`
}

// RangeTest is an LR range test's curve and its suggestions.
type RangeTest struct {
	Name                  string
	LRs, Losses, Smoothed []float64
	Suggestions           []Suggestion
	Chosen                string // the rule marked in the chart ("valley" by default)
	Note                  string
}

// RangeTestFile is the name of the range-test JSON the lab writes (RangeTestFrom).
const RangeTestFile = "lrfind.json"

// RangeTestFrom converts an lrfind result; chosen is the rule to mark.
func RangeTestFrom(name string, r *lrfind.Result, chosen lrfind.Method) *RangeTest {
	rt := &RangeTest{Name: name, LRs: r.LRs, Losses: r.Losses, Smoothed: r.Smoothed, Chosen: string(chosen)}
	for _, s := range r.Suggestions {
		sg := Suggestion{Method: string(s.Method), LR: s.LR}
		if s.Err != nil {
			sg.Err = s.Err.Error()
		}
		rt.Suggestions = append(rt.Suggestions, sg)
	}
	return rt
}

// rangeTestJSON is RangeTestFile's layout.
type rangeTestJSON struct {
	LRs         []float64    `json:"lrs"`
	Losses      []float64    `json:"losses"`
	Smoothed    []float64    `json:"smoothed"`
	Suggestions []Suggestion `json:"suggestions"`
	Chosen      string       `json:"chosen"`
}

// WriteRangeTest writes rt to dir/lrfind.json atomically (Load reads it back).
func WriteRangeTest(dir string, rt *RangeTest) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return recipe.WriteJSON(filepath.Join(dir, RangeTestFile),
		rangeTestJSON{LRs: rt.LRs, Losses: rt.Losses, Smoothed: rt.Smoothed, Suggestions: rt.Suggestions, Chosen: rt.Chosen})
}

// LoadOptions control Load.
type LoadOptions struct {
	// EvaluateEnsembles evaluates each ensemble folder on its members' test split (loads
	// the members and the data; recipe.EvaluateEnsemble) for the member/ensemble table.
	EvaluateEnsembles bool
}

// ErrNothing is returned for a folder holding nothing a report can show.
var ErrNothing = errors.New("nothing to report (want a run folder with metrics.jsonl or summary.json, an ensemble folder with ensemble.json, a range test with lrfind.csv or lrfind.json, or a lab folder with lab.json)")

// Load reads run, ensemble, range-test and lab folders (each detected by its files; a
// folder that is none of them is searched for such folders up to three levels down).
func Load(paths []string, opts LoadOptions) (*Report, error) {
	rep := &Report{Title: "temper report"}
	for _, p := range paths {
		n := len(rep.Runs) + len(rep.Ensembles) + len(rep.RangeTests) + len(rep.Labs)
		if err := rep.load(p, filepath.Clean(p), opts, 0); err != nil {
			return nil, err
		}
		if len(rep.Runs)+len(rep.Ensembles)+len(rep.RangeTests)+len(rep.Labs) == n {
			return nil, fmt.Errorf("report: %s: %w", p, ErrNothing)
		}
	}
	trimCommon(rep.Runs)
	return rep, nil
}

// trimCommon removes the folders all run names start with (keeping at least the last
// element of each), so the tables and legends say "a/seed-1", not "/tmp/x/runs/a/seed-1".
func trimCommon(runs []*Run) {
	if len(runs) == 0 {
		return
	}
	split := func(s string) []string { return strings.Split(filepath.ToSlash(s), "/") }
	common := split(runs[0].Name)
	for _, r := range runs[1:] {
		p := split(r.Name)
		k := 0
		for k < len(common) && k < len(p) && common[k] == p[k] {
			k++
		}
		common = common[:k]
	}
	k := len(common)
	for _, r := range runs {
		k = min(k, len(split(r.Name))-1)
	}
	if k <= 0 {
		return
	}
	for _, r := range runs {
		r.Name = strings.Join(split(r.Name)[k:], "/")
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func (rep *Report) load(dir, name string, opts LoadOptions, depth int) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("report: %s is a file; give the folder that holds it", dir)
	}
	switch {
	case exists(filepath.Join(dir, LabFileName)):
		l, err := LoadLab(dir)
		if err != nil {
			return err
		}
		l.Name = name
		rep.Labs = append(rep.Labs, l)
		return nil
	case exists(filepath.Join(dir, ensemble.ManifestFile)):
		e, err := loadEnsemble(dir, name, opts)
		if err != nil {
			return err
		}
		rep.Ensembles = append(rep.Ensembles, e)
		return nil
	case exists(filepath.Join(dir, RangeTestFile)) || exists(filepath.Join(dir, "lrfind.csv")):
		rt, err := LoadRangeTest(dir)
		if err != nil {
			return err
		}
		rt.Name = name
		rep.RangeTests = append(rep.RangeTests, rt)
		return nil
	case exists(filepath.Join(dir, train.MetricsFile)) || exists(filepath.Join(dir, recipe.SummaryFile)):
		r, err := LoadRun(dir)
		if err != nil {
			return err
		}
		r.Name = name
		rep.Runs = append(rep.Runs, r)
		return nil
	}
	if depth >= 3 {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			if err := rep.load(filepath.Join(dir, e.Name()), filepath.Join(name, e.Name()), opts, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadRun reads a run folder: metrics.jsonl (ReadMetrics) and summary.json, either of
// which may be missing (a run still training has no summary yet).
func LoadRun(dir string) (*Run, error) {
	r := &Run{Name: dir}
	mp := filepath.Join(dir, train.MetricsFile)
	if exists(mp) {
		var err error
		if r.Epochs, err = ReadMetricsFile(mp); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	sp := filepath.Join(dir, recipe.SummaryFile)
	if exists(sp) {
		b, err := os.ReadFile(sp)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		var res recipe.Result
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("report: %s: not a temper summary (%v)", sp, err)
		}
		r.Result = &res
		if res.Recipe.Version != 0 {
			rc := res.Recipe
			r.Recipe = &rc
		}
	}
	if r.Recipe == nil {
		if rc, err := recipe.ReadCheckpointRecipe(dir); err == nil {
			r.Recipe = &rc
		}
	}
	return r, nil
}

func loadEnsemble(dir, name string, opts LoadOptions) (*Ensemble, error) {
	man, err := ensemble.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	e := &Ensemble{Name: name, Manifest: man}
	seen := map[string]bool{}
	for _, mb := range man.Members {
		md := filepath.Dir(filepath.Join(dir, filepath.FromSlash(mb.Path)))
		if seen[md] || md == filepath.Clean(dir) {
			continue
		}
		seen[md] = true
		if exists(filepath.Join(md, train.MetricsFile)) || exists(filepath.Join(md, recipe.SummaryFile)) {
			r, err := LoadRun(md)
			if err != nil {
				return nil, err
			}
			r.Name = filepath.Join(name, filepath.Base(md))
			e.Runs = append(e.Runs, r)
		}
	}
	if man.Kind == ensemble.KindSnapshot && exists(filepath.Join(dir, train.MetricsFile)) {
		r, err := LoadRun(dir)
		if err != nil {
			return nil, err
		}
		r.Name = name
		e.Runs = append(e.Runs, r)
	}
	if !opts.EvaluateEnsembles {
		e.Note = "not evaluated (members' metrics from the manifest)"
		return e, nil
	}
	rep, _, comb, err := recipe.EvaluateEnsemble(dir, "", 1000, 0)
	if err != nil {
		e.Note = "not evaluated: " + err.Error()
		return e, nil
	}
	e.Eval, e.Combine = rep, comb
	return e, nil
}

// LoadRangeTest reads a range test: lrfind.json (the lab's, with its suggestions) or the
// lrfind.csv that `temper lrfind` writes (step,lr,loss,smoothed), whose suggestions are
// recomputed with lrfind's rules and default settings (SkipStart = points/10, SkipEnd 5,
// valley tolerance 3 noise deviations of the first points).
func LoadRangeTest(dir string) (*RangeTest, error) {
	jp := filepath.Join(dir, RangeTestFile)
	if exists(jp) {
		b, err := os.ReadFile(jp)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		var j rangeTestJSON
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, fmt.Errorf("report: %s: not a range test (%v)", jp, err)
		}
		if len(j.LRs) != len(j.Losses) || len(j.LRs) != len(j.Smoothed) {
			return nil, fmt.Errorf("report: %s: lrs, losses and smoothed have %d, %d and %d points (want equal)", jp, len(j.LRs), len(j.Losses), len(j.Smoothed))
		}
		return &RangeTest{Name: dir, LRs: j.LRs, Losses: j.Losses, Smoothed: j.Smoothed, Suggestions: j.Suggestions, Chosen: j.Chosen}, nil
	}
	cp := filepath.Join(dir, "lrfind.csv")
	f, err := os.Open(cp)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	rt, err := ReadRangeTestCSV(f)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", cp, err)
	}
	rt.Name = dir
	return rt, nil
}

// ReadRangeTestCSV reads lrfind.csv (header step,lr,loss,smoothed) and recomputes the
// suggestions (see LoadRangeTest).
func ReadRangeTestCSV(r io.Reader) (*RangeTest, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not an lrfind.csv (%v)", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "step,lr,loss,smoothed" {
		return nil, errors.New("no header step,lr,loss,smoothed (not an lrfind.csv)")
	}
	rt := &RangeTest{Chosen: string(lrfind.Valley), Note: "suggestions recomputed from lrfind.csv with the default rules"}
	for i, row := range rows[1:] {
		var v [3]float64
		for k := range v {
			if v[k], err = strconv.ParseFloat(row[k+1], 64); err != nil {
				return nil, fmt.Errorf("line %d: %q is not a number", i+2, row[k+1])
			}
		}
		if !(v[0] > 0) {
			return nil, fmt.Errorf("line %d: learning rate %v out of range (0, ∞)", i+2, v[0])
		}
		rt.LRs, rt.Losses, rt.Smoothed = append(rt.LRs, v[0]), append(rt.Losses, v[1]), append(rt.Smoothed, v[2])
	}
	n := len(rt.LRs)
	lo, hi := n/10, n-5
	if hi < lo {
		hi = lo
	}
	lrs, sm := rt.LRs[lo:hi], rt.Smoothed[lo:hi]
	noise := lrfind.NoiseLevel(rt.Losses[:min(n, max(lo, 5))], 0.98)
	for _, m := range lrfind.Methods {
		var lr float64
		var err error
		switch m {
		case lrfind.Valley:
			lr, err = lrfind.SuggestValleyTol(lrs, sm, 3*noise)
		case lrfind.Slide:
			lr, err = lrfind.SuggestSlide(lrs, sm, lrfind.SlideConfig{})
		default:
			lr, err = lrfind.Suggest(m, lrs, sm)
		}
		s := Suggestion{Method: string(m), LR: lr}
		if err != nil {
			s.Err = err.Error()
		}
		rt.Suggestions = append(rt.Suggestions, s)
	}
	return rt, nil
}

// LabFileName is the lab's result file in its output folder.
const LabFileName = "lab.json"

// LabFile is lab.json, the lab's result (package lab writes it; its types are aliases of
// these, so the file has one schema).
type LabFile struct {
	Budget  string     `json:"budget"`
	Command string     `json:"command"`
	Date    string     `json:"date"`
	Commit  string     `json:"commit"`
	CPU     string     `json:"cpu"`
	Seconds Num        `json:"seconds"`
	Claims  []LabClaim `json:"claims"`
	Pending []string   `json:"pending,omitempty"`
}

// LabClaim is one claim's result: what was declared before running (statement,
// metric, kind, direction, minimum effect, arms), every seed's values, the paired
// statistics and the verdict.
type LabClaim struct {
	Name      string          `json:"name"`
	Area      string          `json:"area"`
	Statement string          `json:"statement"`
	Metric    string          `json:"metric"`
	Kind      string          `json:"kind"` // superiority, non-inferiority or equivalence
	Direction string          `json:"direction"`
	MinEffect float64         `json:"min_effect"`
	ArmA      string          `json:"arm_a"`
	ArmB      string          `json:"arm_b"`
	NoteA     string          `json:"note_a,omitempty"`
	NoteB     string          `json:"note_b,omitempty"`
	RecipeA   json.RawMessage `json:"recipe_a,omitempty"`
	RecipeB   json.RawMessage `json:"recipe_b,omitempty"`
	Seeds     []uint64        `json:"seeds"`
	A         []Num           `json:"a"`
	B         []Num           `json:"b"`
	MeanA     Num             `json:"mean_a"`
	SDA       Num             `json:"sd_a"`
	MeanB     Num             `json:"mean_b"`
	SDB       Num             `json:"sd_b"`
	Diff      Num             `json:"diff"` // mean of B − A
	SDDiff    Num             `json:"sd_diff"`
	Lo        Num             `json:"ci_lo"` // 95% interval of the mean of B − A
	Hi        Num             `json:"ci_hi"`
	Verdict   string          `json:"verdict"`
	Reason    string          `json:"reason"`
	Paper     string          `json:"paper,omitempty"`
	// Details holds further per-seed numbers (e.g. the passes of an L-BFGS run).
	Details map[string][]Num `json:"details,omitempty"`
	Error   string           `json:"error,omitempty"`
	Seconds Num              `json:"seconds"`
}

// Lab is a lab folder: its results and the runs of its arms (DIR/runs/CLAIM/ARM/seed-N).
type Lab struct {
	Name string
	File LabFile
	// Runs by claim name; each run's Group is its arm.
	Runs map[string][]*Run
	// RangeTests by claim name (an arm's lrfind.json).
	RangeTests map[string][]*RangeTest
}

// LoadLab reads DIR/lab.json and the runs under DIR/runs.
func LoadLab(dir string) (*Lab, error) {
	p := filepath.Join(dir, LabFileName)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	l := &Lab{Name: dir, Runs: map[string][]*Run{}, RangeTests: map[string][]*RangeTest{}}
	if err := json.Unmarshal(b, &l.File); err != nil {
		return nil, fmt.Errorf("report: %s: not a lab result (%v)", p, err)
	}
	for _, c := range l.File.Claims {
		if !filepath.IsLocal(c.Name) {
			continue // not a name the lab writes: never read outside the folder
		}
		cd := filepath.Join(dir, "runs", c.Name)
		arms, err := os.ReadDir(cd)
		if err != nil {
			continue // a claim without per-epoch runs (range tests, timings)
		}
		for _, arm := range arms {
			seeds, _ := os.ReadDir(filepath.Join(cd, arm.Name()))
			sort.Slice(seeds, func(i, j int) bool { return seedNum(seeds[i].Name()) < seedNum(seeds[j].Name()) })
			for _, s := range seeds {
				rd := filepath.Join(cd, arm.Name(), s.Name())
				if exists(filepath.Join(rd, RangeTestFile)) {
					rt, err := LoadRangeTest(rd)
					if err != nil {
						return nil, err
					}
					rt.Name = c.Name + ": " + arm.Name() + "/" + s.Name()
					l.RangeTests[c.Name] = append(l.RangeTests[c.Name], rt)
				}
				if !exists(filepath.Join(rd, train.MetricsFile)) {
					continue
				}
				r, err := LoadRun(rd)
				if err != nil {
					return nil, err
				}
				r.Name, r.Group = arm.Name()+"/"+s.Name(), arm.Name()
				l.Runs[c.Name] = append(l.Runs[c.Name], r)
			}
		}
	}
	return l, nil
}

func seedNum(s string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "seed-"))
	if err != nil {
		return math.MaxInt
	}
	return n
}
