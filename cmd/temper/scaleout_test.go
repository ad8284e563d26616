package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/internal/tinydata"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/k8s"
	"github.com/temperml/temper/scaleout/katib"
	"github.com/temperml/temper/scaleout/store"
	"github.com/temperml/temper/scaleout/store/storetest"
)

// proc is a running temper process.
type proc struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
}

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(buildTemper(t), args...)} // crash_test.go builds it once
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wait returns the exit code.
func (p *proc) wait() int {
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// waitFor polls the store until key exists (p must not have exited).
func waitFor(t *testing.T, st *store.Store, key string, p *proc) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Millisecond) {
		if ok, _ := st.Exists(context.Background(), key); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after a minute: %s", key, p.errOut.String())
		}
	}
}

func mustRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	p := start(t, env, args...)
	if code := p.wait(); code != 0 {
		t.Fatalf("temper %s: exit %d\n%s%s", strings.Join(args, " "), code, p.out.String(), p.errOut.String())
	}
	return p.out.String() + p.errOut.String()
}

// TestScaleOutWithTheRealBinary is the cluster's work without a cluster: the built
// binary runs as the pods of an Indexed Job would (JOB_COMPLETION_INDEX=i) against a
// store — two workers at once on one index, one killed (SIGKILL) mid-run and started
// again — and collect's members must have the SHA-256 of `temper ensemble train`'s on
// one machine; a two-round search run the same way must rank as `temper search`.
func TestScaleOutWithTheRealBinary(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := tinydata.WriteMNIST(data, 1200, 300, 3); err != nil {
		t.Fatal(err)
	}
	run := []string{"--data", "mnist:" + data, "--model", "mlp", "--threads", "1"}
	t.Run("ensemble", func(t *testing.T) {
		s3 := storetest.FakeS3(t, "temper", "ens") // the children inherit its AWS_* variables
		args := append([]string{"--members", "2", "--epochs", "6"}, run...)
		local := filepath.Join(dir, "one-machine")
		mustRun(t, nil, append([]string{"ensemble", "train", "-q", "--out", local}, args...)...)
		plan := filepath.Join(dir, "plan.json")
		mustRun(t, nil, append([]string{"plan", "ensemble", "--out", plan, "--store", s3}, args...)...)

		// Two pods on index 0 at once.
		a := start(t, []string{"JOB_COMPLETION_INDEX=0"}, "worker", "--store", s3, "-q")
		b := start(t, []string{"JOB_COMPLETION_INDEX=0"}, "worker", "--store", s3, "-q")
		// Index 1, killed once its first checkpoint is in the store.
		st, err := store.Open(context.Background(), s3)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		k := start(t, []string{"JOB_COMPLETION_INDEX=1", "TEMPER_ATTEMPT=killed"}, "worker", "--store", s3, "-q")
		waitFor(t, st, "items/1/attempt-killed/progress.json", k)
		k.cmd.Process.Kill()
		if code := k.wait(); code != -1 {
			t.Logf("killed worker exit %d", code)
		}
		if ok, _ := st.Exists(context.Background(), "items/1/DONE.json"); ok {
			t.Fatal("item 1 finished before it was killed (the run is too short for this test)")
		}
		for _, p := range []*proc{a, b} {
			if code := p.wait(); code != 0 {
				t.Fatalf("worker of index 0: exit %d: %s", code, p.errOut.String())
			}
		}
		// Then a pod evicted (SIGTERM) after it uploaded a checkpoint of its own: exit 143.
		term := start(t, []string{"JOB_COMPLETION_INDEX=1", "TEMPER_ATTEMPT=termed"}, "worker", "--store", s3, "-q")
		waitFor(t, st, "items/1/attempt-termed/progress.json", term)
		term.cmd.Process.Signal(syscall.SIGTERM)
		if code := term.wait(); code != 143 || !strings.Contains(term.errOut.String(), "stopped by SIGTERM") {
			t.Fatalf("SIGTERM: exit %d, stderr %q; want 143", code, term.errOut.String())
		}
		restarted := mustRun(t, []string{"JOB_COMPLETION_INDEX=1"}, "worker", "--store", s3, "-q")
		if !regexp.MustCompile(`resumed from attempt-(killed|termed) after epoch [1-5]`).MatchString(restarted) {
			t.Fatalf("the restarted worker did not resume: %s", restarted)
		}
		again := mustRun(t, []string{"JOB_COMPLETION_INDEX=1"}, "worker", "--store", s3)
		if !strings.Contains(again, "already done") {
			t.Fatalf("a worker of a done item: %s", again)
		}
		out := filepath.Join(dir, "collected")
		mustRun(t, nil, "collect", "--plan", plan, "--store", s3, "--out", out)
		got, err := ensemble.ReadManifest(out)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ensemble.ReadManifest(local)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Members {
			if got.Members[i].SHA256 != want.Members[i].SHA256 {
				t.Errorf("member %d: collected sha256 %s, temper ensemble train's %s", i, got.Members[i].SHA256, want.Members[i].SHA256)
			}
		}
		if evalOut := mustRun(t, nil, "ensemble", "eval", out); !strings.Contains(evalOut, "ensemble (probabilities)") {
			t.Fatalf("ensemble eval: %s", evalOut)
		}
		if rep := mustRun(t, nil, "report", out, "--no-eval", "--out", filepath.Join(dir, "report.html")); !strings.Contains(rep, "1 ensembles") {
			t.Fatalf("temper report of the collected ensemble: %s", rep)
		}
		// The pods' peak memory against the Job's memory limit for the same plan.
		yml := mustRun(t, nil, "k8s", "job", "--plan", plan, "--image", "temper:test", "--store", s3, "--no-put-plan")
		job, err := k8s.DecodeJob([]byte(yml))
		if err != nil {
			t.Fatal(err)
		}
		limit := job.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().Value()
		// The worker's own peak (VmHWM, recorded in DONE.json): getrusage's maxrss of a
		// child counts the test process's pages it was forked from.
		raw, err := st.Get(context.Background(), "items/0/DONE.json")
		if err != nil {
			t.Fatal(err)
		}
		d, err := scaleout.ParseDone(raw)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("worker peak RSS %d MiB; Job memory request %s, limit %d MiB", d.PeakRSS>>20,
			job.Spec.Template.Spec.Containers[0].Resources.Requests.Memory(), limit>>20)
		if runtime.GOOS == "linux" && (d.PeakRSS == 0 || int64(d.PeakRSS) > limit) {
			t.Errorf("the worker peaked at %d bytes; the Job's memory limit is %d", d.PeakRSS, limit)
		}
	})
	t.Run("search", func(t *testing.T) {
		st := filepath.Join(dir, "search-store")
		args := append([]string{"--train-size", "0", "--val-fraction", "0.2", "--trials", "3", "--rounds", "2", "--top", "2",
			"--steps", "8", "--wd-range", "1e-5,1e-2"}, run...)
		want := filepath.Join(dir, "search-one-machine")
		searchOut := mustRun(t, nil, append([]string{"search", "-q", "--out", want}, args...)...)
		plan := filepath.Join(dir, "search-plan.json")
		mustRun(t, nil, append([]string{"plan", "search", "--out", plan}, args...)...)
		var out string
		for round := 1; round <= 2; round++ {
			for i := 2; i >= 0; i-- {
				mustRun(t, []string{"VC_TASK_INDEX=" + strconv.Itoa(i)}, "worker", "--plan", plan, "--store", st)
			}
			out = filepath.Join(dir, "search-round-"+strconv.Itoa(round))
			collectOut := mustRun(t, nil, "collect", "--plan", plan, "--store", st, "--out", out)
			plan = filepath.Join(out, "next-plan.json")
			if round == 2 {
				best := regexp.MustCompile(`best: .*`)
				if b := best.FindString(collectOut); b == "" || b != best.FindString(searchOut) {
					t.Errorf("collect says %q, temper search %q", b, best.FindString(searchOut))
				}
			}
		}
		got, _ := os.ReadFile(filepath.Join(out, "search.csv"))
		w, _ := os.ReadFile(filepath.Join(want, "search.csv"))
		if len(w) == 0 || !bytes.Equal(got, w) {
			t.Fatalf("collected search.csv\n%s\ntemper search's\n%s", got, w)
		}
		if _, err := os.Stat(plan); err == nil {
			t.Fatal("a next-plan.json after the last round")
		}
	})
}

// TestKatibMetricsFromTrain: temper train --metrics-format katib prints one line per
// epoch that Katib's default filter reads as the epoch's validation metrics.
func TestKatibMetricsFromTrain(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := tinydata.WriteMNIST(data, 600, 100, 4); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	code, stdout, stderr := runCLI("train", "--data", "mnist:"+data, "--model", "mlp-small", "--epochs", "3", "--val-fraction", "0.2",
		"--threads", "1", "--metrics-format", "katib", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "epoch 1/3") {
		t.Fatalf("text epoch lines with --metrics-format katib: %q", stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	var recs []map[string]float64
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]float64
		json.Unmarshal([]byte(l), &m)
		recs = append(recs, m)
	}
	re := regexp.MustCompile(katib.DefaultFilter)
	n := 0
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.Contains(line, katib.ValAccuracy) {
			continue
		}
		ts, _, _ := strings.Cut(line, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Fatalf("line %q: no RFC 3339 timestamp first", line)
		}
		got := map[string]float64{}
		for _, m := range re.FindAllStringSubmatch(line, -1) {
			v, _ := strconv.ParseFloat(m[2], 64)
			got[m[1]] = v
		}
		rec := recs[n]
		if got["epoch"] != rec["epoch"] || got["val_accuracy"] != rec["val_accuracy"] || got["val_loss"] != rec["val_loss"] || math.IsNaN(got["val_loss"]) {
			t.Fatalf("Katib reads %v from %q; metrics.jsonl says %v", got, line, rec)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d Katib metric lines, want 3:\n%s", n, stdout)
	}
	if code, _, _ := runCLI("train", "--metrics-format", "json"); code != 2 {
		t.Fatalf("--metrics-format json: exit %d, want 2", code)
	}
}

// TestScaleOutUsageErrors: bad plans, stores and indexes are one-line usage errors.
func TestScaleOutUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"format":"temper-plan/1"}`), 0o644)
	cases := [][]string{
		{"plan", "kfold", "--folds", "1"},
		{"plan", "kfold", "--val-fraction", "0.1"},
		{"plan", "search", "--lr", "0.1"},
		{"plan", "ensemble", "--members", "0"},
		{"worker", "--plan", bad, "--store", dir, "--index", "0"},
		{"worker", "--store", dir},
		{"worker", "--plan", bad},
		{"worker", "--store", "gs://x", "--index", "0"},
		{"collect", "--store", dir},
		{"k8s", "job", "--plan", bad, "--image", "i", "--store", "s3://b"},
		{"k8s", "katib", "--image", "i"},
		{"k8s", "katib", "--image", "i", "--val-fraction", "0.1", "--lr", "0.1"},
		{"k8s", "katib", "--val-fraction", "0.1"},
	}
	for _, args := range cases {
		code, _, stderr := runCLI(args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "temper: ") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
	// A plan edited after it was made is refused by the worker.
	data := filepath.Join(dir, "data")
	tinydata.WriteMNIST(data, 100, 20, 1)
	plan := filepath.Join(dir, "plan.json")
	if code, _, stderr := runCLI("plan", "ensemble", "--data", "mnist:"+data, "--members", "2", "--threads", "1", "--out", plan); code != 0 {
		t.Fatal(stderr)
	}
	b, _ := os.ReadFile(plan)
	os.WriteFile(plan, bytes.Replace(b, []byte(`"seed": 2`), []byte(`"seed": 7`), 1), 0o644)
	if code, _, stderr := runCLI("worker", "--plan", plan, "--store", filepath.Join(dir, "st"), "--index", "1"); code != 2 || !strings.Contains(stderr, "invalid plan") {
		t.Errorf("edited plan: exit %d, %q", code, stderr)
	}
	if _, err := scaleout.ReadPlan(plan); err == nil {
		t.Error("ReadPlan accepted the edited plan")
	}
}
