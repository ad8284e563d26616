package page

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// Epoch is one epoch of a run as the report draws it. A metric the run did not record
// is NaN (a gap in the curve, never a zero).
type Epoch struct {
	Epoch            int
	LR               float64
	TrainLoss        float64 // the running training loss (a second-order run's objective)
	TrainAccuracy    float64
	TrainEvalLoss    float64 // the whole training set in evaluation mode (eval_train)
	TrainEvalAcc     float64
	ValLoss          float64
	ValAccuracy      float64
	TestLoss         float64
	TestAccuracy     float64
	TrainSeconds     float64
	SamplesPerSecond float64
}

// record is one metrics.jsonl line: train.EpochRecord's fields and a second-order run's
// (recipe.SecondOrderRecord), each a pointer so that a missing key reads as absent.
type record struct {
	Epoch            *int     `json:"epoch"`
	LR               *float64 `json:"lr"`
	TrainLoss        *float64 `json:"train_loss"`
	TrainAccuracy    *float64 `json:"train_accuracy"`
	TrainEvalLoss    *float64 `json:"train_eval_loss"`
	TrainEvalAcc     *float64 `json:"train_eval_accuracy"`
	ValLoss          *float64 `json:"val_loss"`
	ValAccuracy      *float64 `json:"val_accuracy"`
	TestLoss         *float64 `json:"test_loss"`
	TestAccuracy     *float64 `json:"test_accuracy"`
	Objective        *float64 `json:"objective"`
	TrainSeconds     *float64 `json:"train_seconds"`
	SamplesPerSecond *float64 `json:"samples_per_second"`
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// maxLine bounds one metrics.jsonl line (a record is a few hundred bytes).
const maxLine = 1 << 20

// ReadMetrics reads a metrics.jsonl stream (one JSON object per line, as train and
// recipe write it) robustly:
//   - a missing key or a null value is NaN (a gap), never zero;
//   - an epoch recorded more than once (a run resumed from an earlier checkpoint
//     re-trains the epochs after it) keeps its last record;
//   - blank lines are skipped, and so is a last line cut off without its newline (a
//     write interrupted by a crash);
//   - the result is sorted by epoch.
//
// Any other line that is not a JSON object with a positive integer "epoch" is an error
// naming the line.
func ReadMetrics(r io.Reader) ([]Epoch, error) {
	br := bufio.NewReader(r)
	byEpoch := map[int]Epoch{}
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("metrics.jsonl line %d: %w", n, err)
		}
		cut := err == io.EOF && len(line) > 0 // the last line has no newline
		if t := bytes.TrimSpace(line); len(t) > 0 {
			e, perr := parseRecord(t)
			switch {
			case perr != nil && cut:
				// a torn final write: ignore it
			case perr != nil:
				return nil, fmt.Errorf("metrics.jsonl line %d: %v", n, perr)
			default:
				byEpoch[e.Epoch] = e
			}
		}
		if err == io.EOF {
			break
		}
	}
	out := make([]Epoch, 0, len(byEpoch))
	for _, e := range byEpoch {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Epoch < out[j].Epoch })
	return out, nil
}

// readLine returns the next line without its newline; io.EOF with the last one.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("longer than %d bytes (not a metrics.jsonl record)", maxLine)
		}
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		default:
			return line, err
		}
	}
}

func parseRecord(b []byte) (Epoch, error) {
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Epoch{}, fmt.Errorf("not a JSON object with numeric fields (%v)", err)
	}
	if rec.Epoch == nil || *rec.Epoch < 1 {
		return Epoch{}, fmt.Errorf("no positive integer \"epoch\" field (want a record as temper train writes it)")
	}
	e := Epoch{Epoch: *rec.Epoch, LR: val(rec.LR), TrainLoss: val(rec.TrainLoss), TrainAccuracy: val(rec.TrainAccuracy),
		TrainEvalLoss: val(rec.TrainEvalLoss), TrainEvalAcc: val(rec.TrainEvalAcc), ValLoss: val(rec.ValLoss),
		ValAccuracy: val(rec.ValAccuracy), TestLoss: val(rec.TestLoss), TestAccuracy: val(rec.TestAccuracy),
		TrainSeconds: val(rec.TrainSeconds), SamplesPerSecond: val(rec.SamplesPerSecond)}
	if rec.TrainLoss == nil && rec.Objective != nil {
		e.TrainLoss = *rec.Objective
	}
	return e, nil
}

// ReadMetricsFile reads a metrics.jsonl file (ReadMetrics).
func ReadMetricsFile(path string) ([]Epoch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	e, err := ReadMetrics(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}
