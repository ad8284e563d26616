package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/internal/fsafe"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// buildTemper builds the real binary into a temporary folder, once per test run.
func buildTemper(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "temper-bin"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "temper")
		cmd := exec.Command(goBin, "build", "-o", builtBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// waitFile polls until path exists.
func waitFile(t *testing.T, path string, limit time.Duration) {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear within %v", path, limit)
}

// TestSignalsKeepCheckpoint: SIGTERM and SIGINT stop a run of the real binary at the
// next step with exit 143 and 130, print one line naming the checkpoint kept and the
// exact command to resume, and that command finishes the run.
func TestSignalsKeepCheckpoint(t *testing.T) {
	bin := buildTemper(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGTERM, 143, "SIGTERM"}, {syscall.SIGINT, 130, "SIGINT"}} {
		dir := filepath.Join(t.TempDir(), "run dir") // a space: the command must quote it
		cmd := exec.Command(bin, "train", "-q", "--train-size", "1000", "--batch", "10", "--epochs", "3", "--threads", "1", "--out", dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFile(t, filepath.Join(dir, train.StateFile), time.Minute)
		cmd.Process.Signal(tc.sig)
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		line := strings.TrimSpace(stderr.String())
		if code != tc.code || strings.Contains(line, "\n") {
			t.Fatalf("%s: exit %d (%v), stderr %q; want %d and one line", tc.name, code, err, line, tc.code)
		}
		want := fmt.Sprintf("resume with: temper train --resume '%s'", dir)
		if !strings.Contains(line, "stopped by "+tc.name) || !strings.Contains(line, "kept "+filepath.Join(dir, train.StateFile)+" of epoch ") || !strings.HasSuffix(line, want) {
			t.Fatalf("%s: stderr %q; want what was kept and %q", tc.name, line, want)
		}
		info, err := train.ReadStateInfo(dir)
		if err != nil || info.Epoch < 1 {
			t.Fatalf("%s: kept checkpoint: %v", tc.name, err)
		}
		// The printed command, run by a shell, finishes the run.
		resume := strings.TrimPrefix(line[strings.Index(line, "resume with: "):], "resume with: ")
		sh := exec.Command("/bin/sh", "-c", strings.Replace(resume, "temper", "\"$TEMPER\"", 1)+" -q")
		sh.Env = append(os.Environ(), "TEMPER="+bin)
		if out, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(out), "after 3 epochs") {
			t.Fatalf("%s: %s: %v\n%s", tc.name, resume, err, out)
		}
	}
}

// checkWhole fails if any file of a run folder is half-written: every safetensors file
// loads, summary.json parses, metrics.jsonl holds only whole JSON lines. It returns the
// names of stale temporary files (which the next run removes).
func checkWhole(t *testing.T, dir string) (stale []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case fsafe.IsTemp(e.Name()):
			stale = append(stale, e.Name())
		case e.Name() == fsafe.LockFile:
		case strings.HasSuffix(e.Name(), ".safetensors"):
			if _, err := checkpoint.Load(p); err != nil {
				t.Fatalf("half-written %s: %v", e.Name(), err)
			}
		case e.Name() == recipe.SummaryFile:
			b, _ := os.ReadFile(p)
			var res recipe.Result
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatalf("half-written summary.json (%d bytes): %v", len(b), err)
			}
		case e.Name() == train.MetricsFile:
			b, _ := os.ReadFile(p)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				t.Fatalf("metrics.jsonl ends inside a line: %q", b[max(0, len(b)-40):])
			}
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				var rec train.EpochRecord
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("metrics.jsonl line %q: %v", sc.Text(), err)
				}
			}
		default:
			t.Fatalf("unexpected file %s in the run folder", e.Name())
		}
	}
	return stale
}

func weightsOf(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for n, x := range f.Tensors {
		out[n] = x.Data()
	}
	return out
}

// TestKill9NeverHalfWritten kills the real binary with SIGKILL at random moments of a
// small run (seeded; including mid-checkpoint and mid-summary when the moment falls
// there): no file is ever half-written, and continuing — resume from the checkpoint, or
// a fresh start when none was kept — ends with the weights of an uninterrupted run, bit
// for bit, and no stale temporary file.
func TestKill9NeverHalfWritten(t *testing.T) {
	bin := buildTemper(t)
	args := []string{"train", "-q", "--train-size", "600", "--batch", "20", "--epochs", "3", "--threads", "1", "--val-fraction", "0.1"}
	ref := filepath.Join(t.TempDir(), "ref")
	start := time.Now()
	if out, err := exec.Command(bin, append(args, "--out", ref)...).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	full := time.Since(start)
	want := weightsOf(t, filepath.Join(ref, recipe.ModelFile))
	r := rand.New(rand.NewPCG(18, 9))
	trials := 4 // TEMPER_KILL9_TRIALS=N for a longer campaign
	if n, err := strconv.Atoi(os.Getenv("TEMPER_KILL9_TRIALS")); err == nil && n > 0 {
		trials = n
	}
	for trial := 0; trial < trials; trial++ {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bin, append(args, "--out", dir)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		at := time.Duration(r.Float64() * 1.05 * float64(full))
		time.Sleep(at)
		cmd.Process.Kill()
		cmd.Wait()
		stale := checkWhole(t, dir)
		// Continue until the run is complete (the continuing runs are not killed).
		for i := 0; ; i++ {
			if i == 3 {
				t.Fatalf("trial %d: the run did not complete", trial)
			}
			if _, err := os.Stat(filepath.Join(dir, recipe.SummaryFile)); err == nil {
				break
			}
			var c *exec.Cmd
			if _, err := os.Stat(filepath.Join(dir, train.StateFile)); err == nil {
				c = exec.Command(bin, "train", "-q", "--resume", dir)
			} else {
				c = exec.Command(bin, append(args, "--out", dir, "--overwrite")...)
			}
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("trial %d (killed at %v): %v: %v\n%s", trial, at, c.Args, err, out)
			}
		}
		if left := checkWhole(t, dir); len(left) > 0 {
			t.Fatalf("trial %d: stale temporary files %v left after the next run (had %v)", trial, left, stale)
		}
		got := weightsOf(t, filepath.Join(dir, recipe.ModelFile))
		for n, w := range want {
			g := got[n]
			if len(g) != len(w) {
				t.Fatalf("trial %d: tensor %s has %d values, want %d", trial, n, len(g), len(w))
			}
			for i := range w {
				if g[i] != w[i] {
					t.Fatalf("trial %d (killed at %v): %s[%d] = %v after the resume, %v uninterrupted", trial, at, n, i, g[i], w[i])
				}
			}
		}
		t.Logf("trial %d: killed at %v of %v; stale temporary files then: %v", trial, at.Round(time.Millisecond), full.Round(time.Millisecond), stale)
	}
}
