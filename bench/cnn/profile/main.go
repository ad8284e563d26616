// Command profile times training steps of a registered model on random MNIST-shaped data
// and optionally writes a CPU profile of them.
//
//	go run ./bench/cnn/profile -model cnn -steps 50 -cpuprofile /tmp/cnn.prof
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/temperml/temper/data"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/optim"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

func main() {
	model := flag.String("model", "cnn", "registered model name")
	steps := flag.Int("steps", 50, "timed steps (after 5 warm-up steps)")
	batch := flag.Int("batch", 128, "batch size")
	threads := flag.Int("threads", 2, "kernel threads")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	kernel.SetThreads(*threads)
	root := rng.New(1)
	cfg, err := nn.DefaultModelConfig(*model)
	if err != nil {
		log.Fatal(err)
	}
	m, err := nn.Build(*model, cfg, root.Split())
	if err != nil {
		log.Fatal(err)
	}
	var ps []optim.Param
	for _, p := range nn.Params(m) {
		ps = append(ps, optim.Param{Name: p.Name, Value: p.Value, Grad: p.Grad})
	}
	o, err := optim.NewSGD([]*optim.Group{{Params: ps, LR: 0.05, WeightDecay: 5e-4}}, optim.SGDConfig{Momentum: 0.9, Nesterov: true})
	if err != nil {
		log.Fatal(err)
	}
	x := tensor.Rand(rng.New(2), 0, 1, *batch, 1, 28, 28)
	y := make([]int, *batch)
	for i := range y {
		y[i] = i % 10
	}
	ds, _ := data.NewInMemory(x.Data(), y, []int{1, 28, 28}, 10)
	tr, err := train.New(m, o, train.Sets{Train: ds}, train.Config{BatchSize: *batch}, root.Split())
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	for i := 0; i < 5; i++ {
		if _, _, err := tr.Step(x, y); err != nil {
			log.Fatal(err)
		}
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < *steps; i++ {
		if _, _, err := tr.Step(x, y); err != nil {
			log.Fatal(err)
		}
	}
	d := time.Since(start)
	cpu := cpuTime() - cpu0
	perStep := d.Seconds() / float64(*steps)
	fmt.Printf("%s batch %d threads %d: %.2f ms/step, CPU %.2f ms/step, %.0f samples/s, epoch of 60000 ≈ %.1f s\n",
		*model, *batch, *threads, 1e3*perStep, 1e3*cpu/float64(*steps), float64(*batch)/perStep, perStep*60000/float64(*batch))
}

// cpuTime returns the process's user+system CPU seconds (0 where getrusage is missing).
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
