// Command models is the one driver of temper's speed comparison against PyTorch: every
// built-in model, training steps and inference, in interleaved rounds, in one run. It
// prints every round and a ratio table.
//
//	go run ./bench/models -rounds 3 -threads 2
//
// Each workload runs, once per round and in turn, on three sides: temper (in this
// process: nn.Build, train.Trainer.Step for training; evaluation mode with a no-grad tape
// for inference), PyTorch as installed (bench/models/torch_models.py, the same networks)
// and PyTorch with OPENBLAS_CORETYPE=SkylakeX (Debian's OpenBLAS may not pick its AVX-512
// kernels on its own). Inputs are fixed random tensors with labels i mod 10, so no data
// loading is timed; a training step is forward, loss, backward and an SGD Nesterov update
// (lr 0.05, momentum 0.9, weight decay 5e-4). The time per step is the best of the timed
// steps of a run, the table keeps each side's best round and prints every round. Ratios
// are temper's time over the other side's: below 1 temper is faster.
//
// The mean training loss over the timed steps is printed for both frameworks: the models
// start from different random weights, so only the scale is comparable.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

type workload struct {
	model string
	shape []int
	mode  string // "train" or "infer"
	batch int
	steps int
}

func (w workload) name() string {
	return fmt.Sprintf("%s %s %dx%dx%d batch %d", w.model, w.mode, w.shape[0], w.shape[1], w.shape[2], w.batch)
}

var workloads = []workload{
	{"mlp", []int{1, 28, 28}, "train", 128, 30},
	{"cnn", []int{1, 28, 28}, "train", 128, 15},
	{"lenet5", []int{1, 28, 28}, "train", 128, 30},
	{"resnet20", []int{1, 28, 28}, "train", 128, 8},
	{"resnet20", []int{3, 32, 32}, "train", 128, 8},
	{"mlp", []int{1, 28, 28}, "infer", 1, 200},
	{"mlp", []int{1, 28, 28}, "infer", 256, 50},
	{"cnn", []int{1, 28, 28}, "infer", 1, 100},
	{"cnn", []int{1, 28, 28}, "infer", 256, 15},
	{"lenet5", []int{1, 28, 28}, "infer", 1, 100},
	{"lenet5", []int{1, 28, 28}, "infer", 256, 30},
	{"resnet20", []int{1, 28, 28}, "infer", 1, 50},
	{"resnet20", []int{1, 28, 28}, "infer", 256, 8},
	{"resnet20", []int{3, 32, 32}, "infer", 1, 50},
	{"resnet20", []int{3, 32, 32}, "infer", 256, 8},
}

type sample struct {
	best, meanLoss float64
	flops          float64 // direct-convolution FLOPs of one step (temper's count)
}

// stepFLOPs counts the forward FLOPs of m on x (ag.Tape.FLOPs: direct convolution and
// linear multiply-adds); a training step counts 3× that (forward, and the backward's two
// products per layer, the usual convention).
func stepFLOPs(m nn.Module, x *tensor.Tensor, mode string) float64 {
	tp := ag.NewTape()
	tp.SetNoGrad(true)
	m.Forward(tp.Const(x))
	f := float64(tp.FLOPs())
	if mode == "train" {
		f *= 3
	}
	return f
}

const warmup = 3

// runTemper times w in this process.
func runTemper(w workload, threads int) (sample, error) {
	root := rng.New(1)
	m, err := nn.Build(w.model, nn.ModelConfig{InShape: w.shape}, root.Split())
	if err != nil {
		return sample{}, err
	}
	x := tensor.Rand(rng.New(2), 0, 1, append([]int{w.batch}, w.shape...)...)
	y := make([]int, w.batch)
	for i := range y {
		y[i] = i % 10
	}
	flops := stepFLOPs(m, x, w.mode)
	best := 0.0
	timeIt := func(i int, f func() error) error {
		t := time.Now()
		if err := f(); err != nil {
			return err
		}
		if d := time.Since(t).Seconds(); i >= warmup && (best == 0 || d < best) {
			best = d
		}
		return nil
	}
	if w.mode == "infer" {
		nn.SetTraining(m, false)
		tp := ag.NewTape()
		tp.SetNoGrad(true)
		tp.SetThreads(threads)
		for i := 0; i < warmup+w.steps; i++ {
			if err := timeIt(i, func() error {
				tp.Reset()
				m.Forward(tp.Const(x))
				return nil
			}); err != nil {
				return sample{}, err
			}
		}
		return sample{best: best, flops: flops}, nil
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	if err != nil {
		return sample{}, err
	}
	ds, err := data.NewInMemory(x.Data(), y, w.shape, 10)
	if err != nil {
		return sample{}, err
	}
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{BatchSize: w.batch, Threads: threads}, root.Split())
	if err != nil {
		return sample{}, err
	}
	defer tr.Close()
	var sum float64
	for i := 0; i < warmup+w.steps; i++ {
		var loss float64
		if err := timeIt(i, func() error {
			var err error
			loss, _, err = tr.Step(x, y)
			return err
		}); err != nil {
			return sample{}, err
		}
		if i >= warmup {
			sum += loss
		}
	}
	return sample{best: best, meanLoss: sum / float64(w.steps), flops: flops}, nil
}

// runTorch times w with the PyTorch script; env is added to the environment.
func runTorch(python, script string, env []string, w workload, threads int) (sample, map[string]any, error) {
	shape := fmt.Sprintf("%d,%d,%d", w.shape[0], w.shape[1], w.shape[2])
	cmd := exec.Command(python, script, w.model, "--mode", w.mode, "--shape", shape, "--batch", fmt.Sprint(w.batch),
		"--steps", fmt.Sprint(w.steps), "--warmup", fmt.Sprint(warmup), "--threads", fmt.Sprint(threads))
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return sample{}, nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, e.String())
	}
	lines := strings.Split(strings.TrimSpace(o.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		return sample{}, nil, fmt.Errorf("torch_models.py: last line is not JSON: %q", lines[len(lines)-1])
	}
	s := sample{best: m["best_s"].(float64)}
	if ls, ok := m["losses"].([]any); ok && len(ls) > 0 {
		for _, l := range ls {
			s.meanLoss += l.(float64)
		}
		s.meanLoss /= float64(len(ls))
	}
	return s, m, nil
}

func main() {
	rounds := flag.Int("rounds", 3, "rounds: each workload runs once per round on every side, in turn")
	threads := flag.Int("threads", 2, "threads for both frameworks")
	only := flag.String("only", "", "regular expression: run only the workloads whose name matches")
	script := flag.String("torch", "bench/models/torch_models.py", "path of torch_models.py")
	python := flag.String("python", "/usr/bin/python3", "python with Debian's torch")
	noTorch := flag.Bool("no-torch", false, "time temper only")
	flag.Parse()
	if *rounds < 1 || *threads < 1 {
		check(fmt.Errorf("-rounds %d, -threads %d: each must be at least 1", *rounds, *threads))
	}
	re, err := regexp.Compile(*only)
	check(err)
	kernel.SetThreads(*threads)
	// The yardstick: the FMA peak of the active path on -threads threads, best of 5.
	peak := 0.0
	iters := kernel.CalibrateFMAPeak(200 * time.Millisecond)
	for r := 0; r < 5; r++ {
		peak = max(peak, kernel.MeasureFMAPeak(*threads, iters))
	}
	fmt.Printf("FMA peak (%s, %d threads): %.1f GFLOP/s\n", kernel.Name(), *threads, peak/1e9)
	sides := []struct {
		name string
		env  []string
	}{{"temper", nil}}
	if !*noTorch {
		sides = append(sides, struct {
			name string
			env  []string
		}{"PyTorch", nil}, struct {
			name string
			env  []string
		}{"PyTorch SkylakeX", []string{"OPENBLAS_CORETYPE=SkylakeX"}})
	}
	var ws []workload
	for _, w := range workloads {
		if re.MatchString(w.name()) {
			ws = append(ws, w)
		}
	}
	best := make([][]sample, len(ws))
	all := make([][][]string, len(ws))
	var torchInfo map[string]any
	for i := range ws {
		best[i] = make([]sample, len(sides))
		all[i] = make([][]string, len(sides))
	}
	for round := 0; round < *rounds; round++ {
		for i, w := range ws {
			for j, sd := range sides {
				var s sample
				var err error
				if j == 0 {
					s, err = runTemper(w, *threads)
				} else {
					s, torchInfo, err = runTorch(*python, *script, sd.env, w, *threads)
				}
				check(err)
				fmt.Printf("round %d | %-36s | %-16s | %.3f ms/step | mean loss %.4f\n", round+1, w.name(), sd.name, 1e3*s.best, s.meanLoss)
				all[i][j] = append(all[i][j], fmt.Sprintf("%.3f", 1e3*s.best))
				if round == 0 || s.best < best[i][j].best {
					best[i][j] = s
				}
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
	fmt.Printf("\n%s, %d cores visible, %d threads, kernel %s, %s, %s\n", cpu, runtime.NumCPU(), *threads, kernel.Name(), runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if torchInfo != nil {
		fmt.Printf("PyTorch: %v, BLAS %v\n", torchInfo["framework"], torchInfo["blas"])
	}
	fmt.Printf("FMA peak (%s, %d threads, bench/peak's loop): %.1f GFLOP/s\n", kernel.Name(), *threads, peak/1e9)
	fmt.Printf("Best of %d round(s), ms per step (every round in the last columns); ratio = temper / other;\n", *rounds)
	fmt.Println("GFLOP/s = direct-convolution FLOPs per step (training: 3× forward) / time; % peak of temper's rate.")
	fmt.Println()
	hdr := "| workload | GFLOP per step | temper ms | temper GFLOP/s | % peak |"
	sep := "|---|---|---|---|---|"
	for _, sd := range sides[1:] {
		hdr += fmt.Sprintf(" %s ms | temper / %s |", sd.name, sd.name)
		sep += "---|---|"
	}
	hdr += " mean loss temper / torch | rounds temper |"
	sep += "---|---|"
	for _, sd := range sides[1:] {
		hdr += " rounds " + sd.name + " |"
		sep += "---|"
	}
	fmt.Println(hdr)
	fmt.Println(sep)
	for i, w := range ws {
		b := best[i][0]
		rate := b.flops / b.best
		row := fmt.Sprintf("| %s | %.3f | %.3f | %.1f | %.1f%% |", w.name(), b.flops/1e9, 1e3*b.best, rate/1e9, 100*rate/peak)
		for j := 1; j < len(sides); j++ {
			row += fmt.Sprintf(" %.3f | %.2fx |", 1e3*best[i][j].best, best[i][0].best/best[i][j].best)
		}
		loss := "—"
		if w.mode == "train" && len(sides) > 1 {
			loss = fmt.Sprintf("%.3f / %.3f", best[i][0].meanLoss, best[i][1].meanLoss)
		}
		row += fmt.Sprintf(" %s | %s |", loss, strings.Join(all[i][0], ", "))
		for j := 1; j < len(sides); j++ {
			row += " " + strings.Join(all[i][j], ", ") + " |"
		}
		fmt.Println(row)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/models:", err)
		os.Exit(1)
	}
}
