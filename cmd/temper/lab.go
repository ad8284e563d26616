package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/internal/kernel"
	"github.com/temperml/temper/lab"
)

func init() { commands = append(commands, newLabCmd) }

func newLabCmd() *cobra.Command {
	var seeds, threads int
	var budget, out string
	cmd := &cobra.Command{
		Use:   "lab [CLAIM...]",
		Short: "Run the lecture's claims as paired, seeded experiments with verdicts",
		Long: `Run the claims of CS231n lecture 7 as experiments (temper lab list shows them): each claim
declares its statement, metric, two arms (A: baseline, B: the technique), direction and
minimum effect in code before anything runs. Both arms run on seeds 1..--seeds; the lab
prints each arm's mean ± sd, the paired difference B − A with its 95% Student-t interval
and a verdict: SUPPORTED, CONTRADICTED, INCONCLUSIVE or UNDERPOWERED (fewer than 4 seeds
never get a firm verdict).

CLAIM is a claim's name, an area ("regularization") or a prefix with * ("reg-*"); none:
all. --budget quick runs the whole lab in about 15 minutes on 2 cores; full is what
docs/lab.md reports. OUT receives lab.json (every number), lab.html (the report) and
runs/CLAIM/ARM/seed-N (per-epoch records). Progress goes to stderr: a bar on a terminal,
one line per claim and seed otherwise. NO_COLOR turns the verdict colours off.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && args[0] == "list" {
				b, err := lab.ParseBudget(budget)
				if err != nil {
					return usageError{err}
				}
				return lab.WriteList(cmd.OutOrStdout(), b)
			}
			b, err := lab.ParseBudget(budget)
			if err != nil {
				return usageError{err}
			}
			if seeds < 0 || seeds > 1000 {
				return usagef("--seeds %d out of range [1, 1000] (0 = the budget's, %d)", seeds, b.Seeds)
			}
			if threads < 1 || threads > 1024 {
				return usagef("--threads %d out of range [1, 1024]", threads)
			}
			if _, err := lab.Select(args); err != nil {
				return usageError{err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			kernel.SetThreads(threads) // main owns the process default thread count
			res, err := lab.Run(ctx, lab.Config{Claims: args, Budget: b, Seeds: seeds, OutDir: out, Threads: threads,
				Progress: cmd.ErrOrStderr(), Command: "temper " + strings.Join(os.Args[1:], " "), Commit: commit(), CPU: cpuModel()})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if err := lab.WriteTable(w, res, lab.UseColor(w)); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(w, "wrote %s and %s\n", filepath.Join(out, "lab.json"), filepath.Join(out, "lab.html"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&seeds, "seeds", 0, "seeds 1..N for both arms (0: the budget's, 4 quick / 6 full)")
	f.StringVar(&budget, "budget", "quick", "quick (about 15 minutes on 2 cores) or full")
	f.StringVar(&out, "out", "lab", "folder for lab.json, lab.html and the runs")
	f.IntVar(&threads, "threads", runtime.GOMAXPROCS(0), "kernel threads of every run (results are bit-identical for a seed and thread count)")
	return cmd
}

// commit is the VCS revision the binary was built from ("unknown" for go run).
func commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+modified"
				}
			}
		}
		if rev != "" {
			return rev[:min(12, len(rev))] + dirty
		}
	}
	return "unknown"
}

// cpuModel is the first "model name" line of /proc/cpuinfo and the core count.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return fmt.Sprintf("%s, %d CPUs", strings.TrimSpace(v), runtime.NumCPU())
		}
	}
	return fmt.Sprintf("%d CPUs", runtime.NumCPU())
}
