package report

import (
	"reflect"
	"testing"
)

func TestTickLabels(t *testing.T) {
	tests := []struct {
		name   string
		log    bool
		lo, hi float64
		want   []string
	}{
		{"steps", false, 0, 299, []string{"0", "50", "100", "150", "200", "250"}},
		{"unit", false, 0, 1, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}},
		{"negative", false, -1, 1, []string{"-1", "-0.5", "0", "0.5", "1"}},
		{"lr sweep", true, 1e-7, 10, []string{"1e-07", "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10"}},
		{"within a decade", true, 0.02, 0.05, []string{"0.02", "0.03", "0.04", "0.05"}},
		{"2 and 5", true, 0.5, 30, []string{"0.5", "1", "2", "5", "10", "20"}},
		{"all", true, 0.03, 0.045, []string{"0.03", "0.04"}},
		{"ends", true, 0.031, 0.039, []string{"0.031", "0.039"}},
		{"many decades", true, 1e-20, 1, []string{"1e-20", "1e-17", "1e-14", "1e-11", "1e-08", "1e-05", "0.01"}},
	}
	for _, tc := range tests {
		var got []string
		var ticks []struct {
			v float64
			l string
		}
		if tc.log {
			for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
				ticks = append(ticks, struct {
					v float64
					l string
				}{tk.Value, tk.Label})
			}
		} else {
			for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
				ticks = append(ticks, struct {
					v float64
					l string
				}{tk.Value, tk.Label})
			}
		}
		for _, tk := range ticks {
			if tk.l != "" {
				got = append(got, tk.l)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s [%v, %v]: labels %q, want %q", tc.name, tc.lo, tc.hi, got, tc.want)
		}
	}
}
