// Command rss trains a recipe for many epochs and prints, after every epoch, the
// process's resident set (VmRSS), the Go heap in use and the bytes allocated during the
// epoch, to show whether memory stays flat across epochs (issue #18).
//
//	nice -n 10 go run ./bench/rss -epochs 30 -train-size 10000 -threads 2
//	nice -n 10 go run ./bench/rss -epochs 3 -profile /tmp/rssprof   # heap profiles per epoch
//
// With -profile DIR it writes DIR/heap-EPOCH.pprof after every epoch (after a forced GC,
// so the RSS column is then not the undisturbed one); the garbage of
// epoch E is `go tool pprof -sample_index=alloc_space -base DIR/heap-(E-1).pprof DIR/heap-E.pprof`.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

func vmRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb int
			fmt.Sscan(v, &kb)
			return fmt.Sprintf("%.1f", float64(kb)/1024)
		}
	}
	return "?"
}

type meter struct {
	train.BaseCallback
	prof    string
	last    runtime.MemStats
	started bool
}

func (m *meter) AfterEpoch(t *train.Trainer, rec *train.EpochRecord) error {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	if !m.started {
		fmt.Println("| epoch | RSS MiB | heap in use MiB | allocated in epoch MiB | GCs in epoch |")
		fmt.Println("|---:|---:|---:|---:|---:|")
		m.started = true
	}
	fmt.Printf("| %d | %s | %.1f | %.1f | %d |\n", rec.Epoch, vmRSS(), float64(s.HeapInuse)/(1<<20),
		float64(s.TotalAlloc-m.last.TotalAlloc)/(1<<20), s.NumGC-m.last.NumGC)
	m.last = s
	if m.prof != "" {
		runtime.GC() // the profile reports allocations as of the last GC
		f, err := os.Create(filepath.Join(m.prof, fmt.Sprintf("heap-%d.pprof", rec.Epoch)))
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

func main() {
	epochs := flag.Int("epochs", 30, "epochs")
	size := flag.Int("train-size", 0, "training examples (0: all 60000)")
	threads := flag.Int("threads", 1, "threads")
	model := flag.String("model", "mlp", "model")
	val := flag.Float64("val-fraction", 0, "validation split (evaluated every epoch)")
	prof := flag.String("profile", "", "write a heap profile per epoch into this folder")
	flag.Parse()
	r, err := recipe.Defaults(*model, "sgd", "mnist")
	if err != nil {
		log.Fatal(err)
	}
	r.Epochs, r.Threads, r.Data.TrainSize, r.Data.ValFraction = *epochs, *threads, *size, *val
	out, err := os.MkdirTemp("", "temper-rss")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)
	if *prof != "" {
		os.MkdirAll(*prof, 0o755)
	}
	m := &meter{prof: *prof}
	runtime.ReadMemStats(&m.last)
	run, err := r.Build(recipe.Options{OutDir: out, Callbacks: []train.Callback{m}})
	if err != nil {
		log.Fatal(err)
	}
	defer run.Close()
	fmt.Printf("%s, %d examples of %s, %d epochs, %d threads, GOGC=%s, GOMEMLIMIT=%s\n", r.Model.Name, run.Data.Train.Len(),
		run.Data.Name, r.Epochs, r.Threads, os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT"))
	if _, err := run.Fit(context.Background()); err != nil {
		log.Fatal(err)
	}
}
