package page

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/temperml/temper/recipe"
)

func TestReadMetricsGapsAndResume(t *testing.T) {
	in := `{"epoch":1,"lr":0.1,"train_loss":1.5,"train_accuracy":0.5,"val_loss":1.4,"val_accuracy":0.55}
{"epoch":2,"lr":0.1,"train_loss":1.0,"train_accuracy":0.7}

{"epoch":3,"lr":0.1,"train_loss":0.9,"train_accuracy":0.72,"val_loss":null}
{"epoch":2,"lr":0.1,"train_loss":0.95,"train_accuracy":0.71,"val_loss":0.99}
{"epoch":3,"lr":0.01,"train_loss":0.8,"train_accuracy":0.75,"val_loss":0.9}
{"epoch":4,"lr":0.01,"train_lo`
	got, err := ReadMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d epochs, want 3 (the torn last line skipped): %+v", len(got), got)
	}
	if got[1].TrainLoss != 0.95 || got[1].ValLoss != 0.99 || got[2].LR != 0.01 {
		t.Errorf("a resumed epoch did not keep its last record: %+v", got)
	}
	if !math.IsNaN(got[0].TestLoss) || !math.IsNaN(got[0].TrainEvalLoss) {
		t.Errorf("a missing key is %v, want NaN (a gap)", got[0].TestLoss)
	}
	if got[0].ValLoss != 1.4 {
		t.Errorf("val loss %v", got[0].ValLoss)
	}
	// a second-order run's objective is its training loss
	so, err := ReadMetrics(strings.NewReader(`{"epoch":1,"objective":0.3,"iterations":20,"passes":23.5,"train_seconds":2}` + "\n"))
	if err != nil || so[0].TrainLoss != 0.3 || !math.IsNaN(so[0].TrainAccuracy) {
		t.Errorf("second-order record: %+v, %v", so, err)
	}
}

func TestReadMetricsErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{\"epoch\":1}\nnot json\n{\"epoch\":2}\n", "line 2"},
		{"{\"train_loss\":1}\n", "line 1: no positive integer \"epoch\""},
		{"{\"epoch\":0}\n", "line 1"},
		{"{\"epoch\":1,\"val_loss\":\"x\"}\n", "line 1: not a JSON object"},
		{strings.Repeat("x", maxLine+10) + "\n", "longer than"},
	} {
		_, err := ReadMetrics(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ReadMetrics(%.30q) error %v, want one line containing %q", c.in, err, c.want)
		}
	}
}

func TestReadRangeTestCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("step,lr,loss,smoothed\n")
	for i := 0; i < 100; i++ {
		lr := 1e-7 * math.Pow(1e8, float64(i)/100)
		l := 2.3 - 2*math.Exp(-math.Pow(math.Log10(lr)+1.5, 2)/1.5)
		if i > 90 {
			l += float64(i-90) * 2
		}
		b.WriteString(strings.Join([]string{itoa(i), ftoa(lr), ftoa(l), ftoa(l)}, ",") + "\n")
	}
	rt, err := ReadRangeTestCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rt.LRs) != 100 || len(rt.Suggestions) != 4 || rt.Suggestions[0].Method != "valley" || !(rt.Suggestions[0].LR > 0) {
		t.Fatalf("range test %d points, suggestions %+v", len(rt.LRs), rt.Suggestions)
	}
	for _, bad := range []string{"", "a,b\n", "step,lr,loss,smoothed\n0,x,1,1\n", "step,lr,loss,smoothed\n0,-1,1,1\n"} {
		if _, err := ReadRangeTestCSV(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadRangeTestCSV(%q) accepted", bad)
		}
	}
}

func TestLoadFolders(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "runs", "a")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "metrics.jsonl"), []byte(`{"epoch":1,"lr":0.1,"train_loss":1,"train_accuracy":0.5}`+"\n"), 0o644)
	res := recipe.Result{Model: "mlp", Epochs: 1, Recipe: recipe.Default()}
	if err := recipe.WriteJSON(filepath.Join(run, recipe.SummaryFile), res); err != nil {
		t.Fatal(err)
	}
	lf := filepath.Join(dir, "lr")
	os.MkdirAll(lf, 0o755)
	if err := WriteRangeTest(lf, fixture().RangeTests[0]); err != nil {
		t.Fatal(err)
	}
	labDir := filepath.Join(dir, "lab")
	os.MkdirAll(filepath.Join(labDir, "runs", "reg-l2", "none", "seed-1"), 0o755)
	os.WriteFile(filepath.Join(labDir, "runs", "reg-l2", "none", "seed-1", "metrics.jsonl"), []byte(`{"epoch":1,"train_loss":1}`+"\n"), 0o644)
	if err := recipe.WriteJSON(filepath.Join(labDir, LabFileName), fixture().Labs[0].File); err != nil {
		t.Fatal(err)
	}
	rep, err := Load([]string{filepath.Join(dir, "runs"), lf, labDir}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Recipe == nil || len(rep.RangeTests) != 1 || len(rep.Labs) != 1 {
		t.Fatalf("loaded %d runs, %d range tests, %d labs", len(rep.Runs), len(rep.RangeTests), len(rep.Labs))
	}
	if l := rep.Labs[0]; len(l.Runs["reg-l2"]) != 1 || l.Runs["reg-l2"][0].Group != "none" || !math.IsNaN(float64(l.File.Claims[0].Lo)) {
		t.Fatalf("lab runs %v, claim %+v", l.Runs, l.File.Claims[0])
	}
	if err := rep.Write(filepath.Join(dir, "r.html")); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if _, err := Load([]string{empty}, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "nothing to report") {
		t.Fatalf("empty folder: %v", err)
	}
	if _, err := Load([]string{filepath.Join(dir, "missing")}, LoadOptions{}); err == nil {
		t.Fatal("a missing folder was accepted")
	}
}

func FuzzReadMetrics(f *testing.F) {
	f.Add([]byte(`{"epoch":1,"lr":0.1,"train_loss":1.5}` + "\n" + `{"epoch":1,"val_loss":null}`))
	f.Add([]byte("\n\n{\"epoch\":3}\n{\"ep"))
	f.Fuzz(func(t *testing.T, b []byte) {
		eps, err := ReadMetrics(strings.NewReader(string(b)))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for i := 1; i < len(eps); i++ {
			if eps[i].Epoch <= eps[i-1].Epoch {
				t.Fatalf("epochs not strictly increasing: %v", eps)
			}
		}
	})
}

func FuzzReadRangeTestCSV(f *testing.F) {
	f.Add([]byte("step,lr,loss,smoothed\n0,1e-7,2.3,2.3\n1,2e-7,2.2,2.25\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rt, err := ReadRangeTestCSV(strings.NewReader(string(b)))
		if err == nil && (len(rt.LRs) != len(rt.Losses) || len(rt.Suggestions) != 4) {
			t.Fatalf("inconsistent range test %+v", rt)
		}
	})
}

func itoa(i int) string     { return strconv.Itoa(i) }
func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func FuzzLoadLab(f *testing.F) {
	f.Add([]byte(`{"budget":"quick","claims":[{"name":"reg-l2","a":[0.3,null],"b":[0.1,0.2],"ci_lo":null}]}`))
	f.Add([]byte(`{"claims":[{"name":"../x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, LabFileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := LoadLab(dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		var sb strings.Builder
		if err := (&Report{Labs: []*Lab{l}}).Render(&sb); err != nil {
			t.Fatal(err)
		}
	})
}
