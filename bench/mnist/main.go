// Command mnist runs one whole-training benchmark side by side: temper's CLI and the
// reference PyTorch script (shared/bench/torch_mnist.py) on the same model, in one run, and
// prints a markdown table with times, ratios and peak memory (max RSS).
//
//	go run ./bench/mnist -model mlp -epochs 1 -threads 2 -rounds 3
//
// PyTorch runs twice: as installed, and with OPENBLAS_CORETYPE=SkylakeX (Debian's OpenBLAS
// misdetects this CPU; the override gives its real speed). The temper binary is built
// first so compilation is not timed. temper runs the reference recipe exactly (--lr 0.05
// --schedule const --augment none), not its default recipe, so both sides do the same
// work; -default-recipe adds a row for the default recipe (what `temper train` runs).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type result struct {
	name        string
	trainSecs   float64
	samplesPerS float64
	accuracy    float64
	maxRSSMiB   float64
	wall        float64
}

func runCmd(env []string, name string, args ...string) (stdout string, rssMiB, wall float64, err error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start).Seconds()
	if err != nil {
		return "", 0, wall, fmt.Errorf("%s %v: %v\n%s", name, args, err, e.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rssMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return o.String(), rssMiB, wall, nil
}

func lastJSON(out string) (map[string]any, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		return nil, fmt.Errorf("last line is not JSON: %q", lines[len(lines)-1])
	}
	return m, nil
}

func num(m map[string]any, k string) float64 {
	v, _ := m[k].(float64)
	return v
}

func main() {
	model := flag.String("model", "mlp", "model: mlp or cnn")
	epochs := flag.Int("epochs", 1, "epochs")
	threads := flag.Int("threads", 2, "threads for both frameworks")
	torchScript := flag.String("torch", "../shared/bench/torch_mnist.py", "path of torch_mnist.py")
	python := flag.String("python", "/usr/bin/python3", "python with Debian's torch")
	rounds := flag.Int("rounds", 1, "rounds: every row runs once per round, in turn; the table keeps each row's best")
	defaultRecipe := flag.Bool("default-recipe", false, "also time temper's default recipe (one-cycle; 2-pixel crops for the conv models)")
	flag.Parse()
	if *rounds < 1 || *epochs < 1 || *threads < 1 {
		check(fmt.Errorf("-rounds %d, -epochs %d, -threads %d: each must be at least 1", *rounds, *epochs, *threads))
	}

	tmp, err := os.MkdirTemp("", "temper-bench")
	check(err)
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "temper")
	build := exec.Command("go", "build", "-o", bin, "./cmd/temper")
	build.Stderr = os.Stderr
	check(build.Run())

	// Each round runs every row once, in turn, so all rows see the same machine load;
	// the table keeps each row's fastest round.
	type runner struct {
		name string
		run  func(round int) result
	}
	var runners []runner
	addTemper := func(name string, recipe ...string) {
		runners = append(runners, runner{name, func(round int) result {
			dir := filepath.Join(tmp, fmt.Sprintf("run%d-%d", len(runners), round))
			args := append([]string{"train", "--model", *model}, recipe...)
			args = append(args, "--epochs", fmt.Sprint(*epochs), "--threads", fmt.Sprint(*threads), "--out", dir, "-q")
			_, rss, wall, err := runCmd(nil, bin, args...)
			check(err)
			var s map[string]any
			raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			check(err)
			check(json.Unmarshal(raw, &s))
			test, _ := s["test"].(map[string]any) // recipe.Result: {"test": {"accuracy": ...}}
			return result{fmt.Sprintf("temper (%v)%s", s["kernel"], name), num(s, "train_seconds"), num(s, "samples_per_second"), num(test, "accuracy"), rss, wall}
		}})
	}
	addTemper("", "--lr", "0.05", "--schedule", "const", "--augment", "none")
	if *defaultRecipe {
		addTemper(", default recipe")
	}
	for _, env := range [][]string{nil, {"OPENBLAS_CORETYPE=SkylakeX"}} {
		runners = append(runners, runner{"", func(int) result {
			out, rss, wall, err := runCmd(env, *python, *torchScript, *model, "--threads", fmt.Sprint(*threads), "--epochs", fmt.Sprint(*epochs))
			check(err)
			m, err := lastJSON(out)
			check(err)
			name := "PyTorch " + fmt.Sprint(m["framework"])
			if len(env) > 0 {
				name += " " + env[0]
			}
			return result{name, num(m, "train_seconds"), num(m, "samples_per_second"), num(m, "test_accuracy"), rss, wall}
		}})
	}
	rows := make([]result, len(runners))
	all := make([][]string, len(runners))
	for round := 0; round < *rounds; round++ {
		for i, r := range runners {
			res := r.run(round)
			all[i] = append(all[i], fmt.Sprintf("%.2f", res.trainSecs))
			if round == 0 || res.trainSecs < rows[i].trainSecs {
				rows[i] = res
			}
		}
	}
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	fmt.Printf("%s, %d epoch(s), %d threads — %s, %d cores visible, %s\n\n", *model, *epochs, *threads, cpu, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Printf("Best of %d round(s) per row (every round's train s in the last column).\n\n", *rounds)
	fmt.Println("| run | train s | samples/s | test acc | max RSS MiB | temper time / this | all rounds |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for i, r := range rows {
		fmt.Printf("| %s | %.2f | %.0f | %.4f | %.0f | %.2fx | %s |\n", r.name, r.trainSecs, r.samplesPerS, r.accuracy, r.maxRSSMiB, rows[0].trainSecs/r.trainSecs, strings.Join(all[i], ", "))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
