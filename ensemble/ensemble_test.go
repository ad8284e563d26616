package ensemble_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/train"
)

func logs(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(math.Log(v))
	}
	return out
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestScoreCombineRules(t *testing.T) {
	sqrt3 := math.Sqrt(3)
	tests := []struct {
		name    string
		members [][]float32
		labels  []int
		classes int
		member  []ensemble.Metrics
		by      [3]ensemble.Metrics
	}{
		{
			name:    "two members two classes",
			members: [][]float32{{0, 0}, logs(0.75, 0.25)},
			labels:  []int{0},
			classes: 2,
			member:  []ensemble.Metrics{{Accuracy: 1, NLL: math.Ln2}, {Accuracy: 1, NLL: -math.Log(0.75)}},
			by: [3]ensemble.Metrics{
				{Accuracy: 1, NLL: -math.Log(0.625)},
				{Accuracy: 1, NLL: -math.Log(sqrt3 / (sqrt3 + 1))},
				{Accuracy: 1, NLL: math.NaN()},
			},
		},
		{
			// Two members vote 1 weakly, one votes 2 strongly: the vote says 1, the mean
			// probability says 2 (the label).
			name:    "vote disagrees with the mean",
			members: [][]float32{logs(0.05, 0.5, 0.45), logs(0.05, 0.5, 0.45), logs(0.005, 0.005, 0.99)},
			labels:  []int{2},
			classes: 3,
			member: []ensemble.Metrics{{Accuracy: 0, NLL: -math.Log(0.45)}, {Accuracy: 0, NLL: -math.Log(0.45)},
				{Accuracy: 1, NLL: -math.Log(0.99)}},
			by: [3]ensemble.Metrics{
				{Accuracy: 1, NLL: -math.Log((0.45 + 0.45 + 0.99) / 3)},
				{Accuracy: 1, NLL: math.NaN()}, // checked for accuracy only
				{Accuracy: 0, NLL: math.NaN()},
			},
		},
		{
			// A tie of votes (1 vs 2) goes to the larger mean probability (class 2).
			name:    "vote tie broken by mean probability",
			members: [][]float32{logs(0.1, 0.6, 0.3), logs(0.1, 0.2, 0.7)},
			labels:  []int{2},
			classes: 3,
			member:  []ensemble.Metrics{{Accuracy: 0, NLL: -math.Log(0.3)}, {Accuracy: 1, NLL: -math.Log(0.7)}},
			by: [3]ensemble.Metrics{
				{Accuracy: 1, NLL: -math.Log(0.5)},
				{Accuracy: 1, NLL: math.NaN()},
				{Accuracy: 1, NLL: math.NaN()},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ensemble.Score(tc.members, tc.labels, tc.classes, nil, ensemble.Probabilities)
			for k, want := range tc.member {
				got := r.Members[k]
				if got.Accuracy != want.Accuracy || !near(got.NLL, want.NLL, 1e-6) {
					t.Errorf("member %d: got %+v, want %+v", k, got, want)
				}
			}
			for rule, want := range tc.by {
				got := r.ByCombine[rule]
				if got.Accuracy != want.Accuracy {
					t.Errorf("%v: accuracy %v, want %v", ensemble.Combine(rule), got.Accuracy, want.Accuracy)
				}
				if !math.IsNaN(want.NLL) && !near(got.NLL, want.NLL, 1e-6) {
					t.Errorf("%v: NLL %v, want %v", ensemble.Combine(rule), got.NLL, want.NLL)
				}
			}
			if !math.IsNaN(r.ByCombine[ensemble.Vote].NLL) {
				t.Errorf("vote NLL = %v, want NaN", r.ByCombine[ensemble.Vote].NLL)
			}
			if r.Ensemble != r.ByCombine[ensemble.Probabilities] {
				t.Errorf("Ensemble %+v is not the probability average %+v", r.Ensemble, r.ByCombine[0])
			}
		})
	}
}

func TestParseCombine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ensemble.Combine
		ok   bool
	}{{"probabilities", ensemble.Probabilities, true}, {"", ensemble.Probabilities, true}, {"logits", ensemble.Logits, true},
		{"vote", ensemble.Vote, true}, {"median", 0, false}} {
		got, err := ensemble.ParseCombine(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseCombine(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != tc.in && tc.in != "" {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestNewErrors(t *testing.T) {
	m := buildModel(t, 1)
	for _, tc := range []struct {
		name    string
		members []nn.Module
		names   []string
		cfg     ensemble.Config
	}{
		{"no members", nil, nil, ensemble.Config{}},
		{"bad combine", []nn.Module{m}, nil, ensemble.Config{Combine: 7}},
		{"bad batch", []nn.Module{m}, nil, ensemble.Config{BatchSize: -1}},
		{"names mismatch", []nn.Module{m}, []string{"a", "b"}, ensemble.Config{}},
		{"nil member", []nn.Module{nil}, nil, ensemble.Config{}},
	} {
		if _, err := ensemble.New(tc.members, tc.names, tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// A one-member ensemble's metrics are train.Evaluate's, and an ensemble of trained
// members is at least as good in NLL as their mean (Jensen: −log of a mean probability
// ≤ mean of −log).
func TestEvaluateAgainstTrainEvaluate(t *testing.T) {
	trainSet, testSet := blobs(256, 1), blobs(200, 2)
	var members []nn.Module
	for seed := uint64(1); seed <= 3; seed++ {
		tr, m := trainer(t, seed, trainSet, nil, train.Config{Epochs: 3})
		fit(t, tr)
		members = append(members, m)
	}
	for k, m := range members {
		wantLoss, wantAcc, err := train.Evaluate(m, testSet, 64, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := ensemble.New([]nn.Module{m}, nil, ensemble.Config{BatchSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Evaluate(testSet)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Members[0]; got.Accuracy != wantAcc || !near(got.NLL, wantLoss, 1e-5) {
			t.Errorf("member %d: %+v, train.Evaluate: acc %v loss %v", k, got, wantAcc, wantLoss)
		}
		if r.Ensemble.Accuracy != wantAcc || !near(r.Ensemble.NLL, wantLoss, 1e-5) {
			t.Errorf("one-member ensemble %d: %+v, want acc %v NLL %v", k, r.Ensemble, wantAcc, wantLoss)
		}
	}
	e, err := ensemble.New(members, []string{"a", "b", "c"}, ensemble.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Evaluate(testSet)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 200 || len(r.Members) != 3 {
		t.Fatalf("report N=%d members=%d", r.N, len(r.Members))
	}
	if r.ByCombine[ensemble.Probabilities].NLL > r.MemberMean.NLL+1e-12 {
		t.Errorf("ensemble NLL %v > mean member NLL %v", r.ByCombine[0].NLL, r.MemberMean.NLL)
	}
	// Predict agrees with the report on the first batch.
	x, y := testSet.Tensor(0, 10)
	p, err := e.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Shape(); s[0] != 10 || s[1] != 3 {
		t.Fatalf("Predict shape %v", s)
	}
	for i := range y {
		var sum float64
		for _, v := range p.Data()[i*3 : i*3+3] {
			sum += float64(v)
		}
		if !near(sum, 1, 1e-5) {
			t.Errorf("row %d sums to %v", i, sum)
		}
	}
	// A dataset with the wrong number of classes is an error, not a panic.
	bad := blobs(10, 3)
	bad.NumClasses = 5
	if _, err := e.Evaluate(bad); err == nil {
		t.Error("wrong class count: no error")
	}
}
