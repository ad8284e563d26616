// Command transfertable measures the lecture's transfer-learning table (docs/transfer.md):
// rows are a similar target (MNIST digits 5–9 from the zoo's digits-0–4 ResNet-20) and a
// different target (Fashion-MNIST from the zoo's MNIST ResNet-20), each with 10, 100 and
// 1,000 labelled training examples per class (recipe.LabelsPerClass: stratified, seeded);
// columns are training from scratch and the fine-tuning strategies probe, head, last:1,
// full and fastai. Every cell is run for several seeds (the subset, the new head's init
// and the data order change with it); each run appends one JSON line to -out, so an
// interrupted run keeps what it finished and a re-run skips the cells already there.
//
//	go run ./tools/transfertable -out docs/transfer_runs.jsonl          # measure
//	go run ./tools/transfertable -out docs/transfer_runs.jsonl -render  # the Markdown table
//	go run ./tools/transfertable -speedup                               # probe vs head time
//
// Budget (fixed, not tuned): epochs 10 / 4 / 1 and batch 32 / 64 / 128 for 10 / 100 /
// 1,000 labels per class; SGD with Nesterov momentum 0.9, weight decay 5e-4, one-cycle;
// peak learning rate 0.2 from scratch (temper's default), 0.1 for probe and head, 0.05
// for last:1, full (lr_slice [lr/10, lr]) and fastai (one head epoch at lr, then
// slice(lr/200, lr/2)); crops of 2 pixels except for probe (cached features). Test
// accuracy on the first -test examples of the target's test split. One thread per run.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/temperml/temper/recipe"
)

// Row is a source → target pair.
type Row struct {
	Name, From, Target string
	Classes            []int
}

var rows = []Row{
	{"similar (digits 5–9 from the digits-0–4 model)", "zoo:resnet20-mnist04", "mnist", []int{5, 6, 7, 8, 9}},
	{"different (Fashion-MNIST from the MNIST model)", "zoo:resnet20-mnist", "fashion-mnist", nil},
}

var columns = []string{"scratch", "probe", "head", "last:1", "full", "fastai"}

var budgets = []struct{ labels, epochs, batch int }{{10, 10, 32}, {100, 4, 64}, {1000, 1, 128}}

// Record is one run.
type Record struct {
	Row      string  `json:"row"`
	Labels   int     `json:"labels_per_class"`
	Column   string  `json:"column"`
	Seed     uint64  `json:"seed"`
	Accuracy float64 `json:"test_accuracy"`
	TestN    int     `json:"test_examples"`
	Seconds  float64 `json:"seconds"` // training (for probe: features + classifier)
	Feature  float64 `json:"feature_seconds,omitempty"`
	Epochs   int     `json:"epochs"`
	Train    int     `json:"train_examples"`
	Started  string  `json:"started"`
}

func main() {
	out := flag.String("out", "docs/transfer_runs.jsonl", "JSON-lines file of runs (appended)")
	seeds := flag.Int("seeds", 5, "seeds per cell (1..N)")
	testN := flag.Int("test", 1000, "test examples per run (the first of the target's test split)")
	render := flag.Bool("render", false, "print the Markdown table from -out and exit")
	only := flag.String("labels", "10,100,1000", "labels-per-class levels to run")
	rowFilter := flag.String("row", "", "run only the rows whose name contains this (e.g. similar, different); two processes may share -out, one row each")
	cache := flag.String("cache", "", "probe feature cache folder (default: the user cache)")
	speedup := flag.Bool("speedup", false, "measure probe (cold and warm feature cache) against head, running the body every epoch")
	flag.Parse()
	var err error
	if *speedup {
		err = measureSpeedup(*testN)
	} else if *render {
		err = renderTable(*out, os.Stdout, *seeds)
	} else {
		err = measure(*out, *seeds, *testN, *only, *cache, *rowFilter)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "transfertable:", err)
		os.Exit(1)
	}
}

func readRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

func key(row string, labels int, col string, seed uint64) string {
	return fmt.Sprintf("%s|%d|%s|%d", row, labels, col, seed)
}

func measure(out string, seeds, testN int, only, cache, rowFilter string) error {
	done := map[string]bool{}
	recs, err := readRecords(out)
	if err != nil {
		return err
	}
	for _, r := range recs {
		done[key(r.Row, r.Labels, r.Column, r.Seed)] = true
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// Appended one line per run (a line is one write): an interrupted run loses at most
	// the line being written, which readRecords then reports.
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, b := range budgets {
		if !strings.Contains(","+only+",", fmt.Sprintf(",%d,", b.labels)) {
			continue
		}
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			for _, row := range rows {
				if !strings.Contains(row.Name, rowFilter) {
					continue
				}
				for _, col := range columns {
					if done[key(row.Name, b.labels, col, seed)] {
						continue
					}
					rec, err := runCell(row, col, b.labels, b.epochs, b.batch, seed, testN, cache)
					if err != nil {
						return fmt.Errorf("%s, %d labels, %s, seed %d: %w", row.Name, b.labels, col, seed, err)
					}
					line, _ := json.Marshal(rec)
					if _, err := f.Write(append(line, '\n')); err != nil {
						return err
					}
					fmt.Printf("%-48s %4d/class %-7s seed %d: %.4f in %.1fs\n", row.Name, b.labels, col, seed, rec.Accuracy, rec.Seconds)
				}
			}
		}
	}
	return nil
}

// cellRecipe is the recipe of one cell.
func cellRecipe(row Row, col string, labels, epochs, batch int, seed uint64) (recipe.Recipe, error) {
	var r recipe.Recipe
	var err error
	if col == "scratch" {
		if r, err = recipe.Defaults("resnet20", "sgd", row.Target); err != nil {
			return r, err
		}
		r.Data.Normalize = "per-channel"
	} else {
		if r, err = recipe.FinetuneDefaults(row.From, row.Target, col); err != nil {
			return r, err
		}
		switch col {
		case "probe", "head":
			r.Optim.LR = 0.1
		default:
			r.Optim.LR = 0.05
		}
		if col == "probe" {
			r.Augment = "none"
		}
	}
	r.Data.Classes = row.Classes
	r.Data.LabelsPerClass = labels
	r.Epochs, r.Batch, r.Seed, r.Threads = epochs, batch, seed, 1
	return r, r.Validate()
}

func runCell(row Row, col string, labels, epochs, batch int, seed uint64, testN int, cache string) (*Record, error) {
	r, err := cellRecipe(row, col, labels, epochs, batch, seed)
	if err != nil {
		return nil, err
	}
	s, err := r.LoadData()
	if err != nil {
		return nil, err
	}
	if s.Test, err = s.Test.Head(testN); err != nil {
		return nil, err
	}
	rec := &Record{Row: row.Name, Labels: labels, Column: col, Seed: seed, Epochs: epochs, Train: s.Train.Len(),
		Started: time.Now().UTC().Format(time.RFC3339)}
	var res *recipe.FinetuneResult
	if col == "scratch" {
		run, err := r.Build(recipe.Options{Splits: s})
		if err != nil {
			return nil, err
		}
		defer run.Close()
		rr, err := run.Fit(context.Background())
		if err != nil {
			return nil, err
		}
		res = &recipe.FinetuneResult{Result: rr}
	} else if res, err = recipe.Finetune(context.Background(), r, recipe.Options{Splits: s}, cache); err != nil {
		return nil, err
	}
	rec.Accuracy, rec.TestN = res.Test.Accuracy, res.Test.Examples
	rec.Seconds, rec.Feature = res.TrainSeconds, res.FeatureSeconds
	return rec, nil
}

func renderTable(path string, w io.Writer, seeds int) error {
	recs, err := readRecords(path)
	if err != nil {
		return err
	}
	type cell struct{ acc, secs []float64 }
	cells := map[string]*cell{}
	for _, r := range recs {
		k := fmt.Sprintf("%s|%d|%s", r.Row, r.Labels, r.Column)
		if cells[k] == nil {
			cells[k] = &cell{}
		}
		cells[k].acc = append(cells[k].acc, 100*r.Accuracy)
		cells[k].secs = append(cells[k].secs, r.Seconds)
	}
	fmt.Fprintf(w, "| target | labels/class |")
	for _, c := range columns {
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(columns)))
	for _, row := range rows {
		for _, b := range budgets {
			fmt.Fprintf(w, "| %s | %d |", row.Name, b.labels)
			for _, c := range columns {
				ce := cells[fmt.Sprintf("%s|%d|%s", row.Name, b.labels, c)]
				if ce == nil {
					fmt.Fprint(w, " not run |")
					continue
				}
				m, sd := meanSD(ce.acc)
				ms, _ := meanSD(ce.secs)
				note := ""
				if len(ce.acc) < seeds {
					note = fmt.Sprintf(" (%d of %d seeds)", len(ce.acc), seeds)
				}
				fmt.Fprintf(w, " %.2f ± %.2f, %.1fs%s |", m, sd, ms, note)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// meanSD returns the mean and the sample standard deviation (n−1).
func meanSD(v []float64) (float64, float64) {
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	if len(v) < 2 {
		return m, 0
	}
	var q float64
	for _, x := range v {
		q += (x - m) * (x - m)
	}
	return m, math.Sqrt(q / float64(len(v)-1))
}

// measureSpeedup times, on the similar row with 1,000 labels per class and 4 epochs, the
// head strategy (the frozen body runs forward every epoch) against the probe (the body
// runs once; its features are cached), first with an empty cache, then with the cache
// filled. Wall-clock time of the whole call, test evaluation included.
func measureSpeedup(testN int) error {
	dir, err := os.MkdirTemp("", "transfertable-cache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	row := rows[0]
	for _, c := range []struct{ col, what string }{{"head", "head (body every epoch)"}, {"probe", "probe, empty cache"}, {"probe", "probe, cache filled"}} {
		r, err := cellRecipe(row, c.col, 1000, 4, 128, 1)
		if err != nil {
			return err
		}
		s, err := r.LoadData()
		if err != nil {
			return err
		}
		if s.Test, err = s.Test.Head(testN); err != nil {
			return err
		}
		start := time.Now()
		res, err := recipe.Finetune(context.Background(), r, recipe.Options{Splits: s}, dir)
		if err != nil {
			return err
		}
		fmt.Printf("%-26s %d train + %d test examples, 4 epochs: %.2fs wall (features %.2fs, classifier %.2fs), test accuracy %.4f\n",
			c.what, s.Train.Len(), s.Test.Len(), time.Since(start).Seconds(), res.FeatureSeconds, res.HeadSeconds, res.Test.Accuracy)
	}
	return nil
}
