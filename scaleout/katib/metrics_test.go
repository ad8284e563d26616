package katib_test

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/temperml/temper/scaleout/katib"
	"github.com/temperml/temper/train"
)

// parse reads a line as Katib's StdOut collector does (parseLogsInTextFormat with the
// default filter): the timestamp is the first field if it parses as RFC 3339, and the
// name=value pairs are the filter's matches.
func parse(t *testing.T, line string, metrics []string) (string, map[string]string) {
	t.Helper()
	keep := false
	for _, m := range metrics {
		keep = keep || strings.Contains(line, m)
	}
	if !keep {
		return "", nil
	}
	ts := ""
	if f, _, ok := strings.Cut(line, " "); ok {
		if _, err := time.Parse(time.RFC3339Nano, f); err == nil {
			ts = f
		}
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(katib.DefaultFilter).FindAllStringSubmatch(line, -1) {
		got[strings.TrimSpace(m[1])] = strings.TrimSpace(m[2])
	}
	return ts, got
}

func TestLineParsesWithKatibDefaultFilter(t *testing.T) {
	at := time.Date(2026, 12, 6, 21, 40, 0, 0, time.UTC)
	rec := &train.EpochRecord{Epoch: 3, ValAccuracy: 0.8123, ValLoss: 0.4567, TrainLoss: 1.25e-7, TrainAccuracy: 0.99,
		TestAccuracy: math.NaN(), TestLoss: math.NaN(), LR: 3e-05}
	line := katib.Line(at, rec)
	if want := "2026-12-06T21:40:00Z epoch=3 val_accuracy=0.8123 val_loss=0.4567 train_loss=0.000000125 train_accuracy=0.99 lr=0.00003"; line != want {
		t.Fatalf("line\n%q\nwant\n%q", line, want)
	}
	ts, got := parse(t, line, []string{katib.ValAccuracy, katib.ValLoss})
	if ts != "2026-12-06T21:40:00Z" {
		t.Fatalf("timestamp %q", ts)
	}
	for name, v := range map[string]float64{"epoch": 3, "val_accuracy": 0.8123, "val_loss": 0.4567, "train_loss": 1.25e-7, "train_accuracy": 0.99, "lr": 3e-5} {
		f, err := strconv.ParseFloat(got[name], 64)
		if err != nil || f != v {
			t.Errorf("Katib reads %s=%q, want %v", name, got[name], v)
		}
	}
	if _, ok := got["test_accuracy"]; ok {
		t.Error("test metrics printed though not evaluated")
	}
}

// A non-finite metric is never printed as a value: Katib's filter reads nothing for it.
func TestNonFiniteIsNotAValue(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		rec := &train.EpochRecord{Epoch: 1, ValAccuracy: 0.5, ValLoss: v, TrainLoss: v, TestAccuracy: math.NaN(), TestLoss: math.NaN(), LR: 0.1}
		line := katib.Line(time.Unix(0, 0), rec)
		if strings.Contains(strings.ToLower(line), "nan") || strings.Contains(strings.ToLower(line), "inf") {
			t.Fatalf("line %q spells a non-finite value", line)
		}
		_, got := parse(t, line, []string{katib.ValAccuracy, katib.ValLoss})
		if _, ok := got["val_loss"]; ok {
			t.Fatalf("Katib reads val_loss=%q from %q", got["val_loss"], line)
		}
		if got["val_accuracy"] != "0.5" || !strings.Contains(line, "nonfinite=val_loss,train_loss") {
			t.Fatalf("line %q", line)
		}
	}
}

// Values the filter cannot read (an exponent) never appear: every finite float64
// prints in plain decimals and reads back exactly.
func FuzzLineValues(f *testing.F) {
	for _, v := range []float64{0, 1e-300, 1.5e300, -2.5, 0.1, 123456789.125} {
		f.Add(v)
	}
	re := regexp.MustCompile(katib.DefaultFilter)
	f.Fuzz(func(t *testing.T, v float64) {
		rec := &train.EpochRecord{Epoch: 1, ValAccuracy: v, ValLoss: 1, TestAccuracy: math.NaN(), TestLoss: math.NaN()}
		line := katib.Line(time.Unix(0, 0), rec)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		for _, m := range re.FindAllStringSubmatch(line, -1) {
			if m[1] == "val_accuracy" {
				got, err := strconv.ParseFloat(m[2], 64)
				if err != nil || got != v {
					t.Fatalf("Katib reads %q for %v", m[2], v)
				}
				return
			}
		}
		t.Fatalf("no val_accuracy in %q", line)
	})
}
