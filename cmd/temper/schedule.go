package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/report"
	"github.com/temperml/temper/schedule"
)

func init() { commands = append(commands, newScheduleCmd) }

// scheduleFlags are the flags `schedule plot` and `schedule show` share.
type scheduleFlags struct {
	steps, perEpoch int
	lr              float64
	momentum        bool
}

func (f *scheduleFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.steps, "steps", 100, "number of steps (batches) to evaluate; also the run length for cosine/poly/onecycle")
	fl.Float64Var(&f.lr, "lr", 0.1, "base learning rate LR0 of the parameter group")
	fl.IntVar(&f.perEpoch, "steps-per-epoch", 0, "batches per epoch, for every=epoch stages (0: a step is an epoch)")
	fl.BoolVar(&f.momentum, "momentum", false, "also give the momentum of schedules that cycle it (onecycle, cyclic)")
}

func (f *scheduleFlags) validate() error {
	switch {
	case f.steps < 1:
		return usagef("--steps %d out of range [1, ∞)", f.steps)
	case f.perEpoch < 0:
		return usagef("--steps-per-epoch %d out of range [0, ∞)", f.perEpoch)
	case !(f.lr > 0) || math.IsInf(f.lr, 0):
		return usagef("--lr %v out of range (0, ∞)", f.lr)
	}
	return nil
}

// parse parses spec for a run of f.steps steps; a malformed spec is a usage error whose
// message (a *schedule.SpecError) quotes the offending fragment and its column.
func (f *scheduleFlags) parse(spec string) (schedule.Schedule, error) {
	s, err := schedule.ParseWith(spec, schedule.Context{TotalSteps: f.steps, StepsPerEpoch: f.perEpoch})
	if err != nil {
		return nil, usageError{err}
	}
	return s, nil
}

func newScheduleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Print or plot a learning-rate schedule SPEC",
		Long: `Evaluate a learning-rate schedule given in the SPEC grammar of 'temper train --schedule'
(see schedule.ParseWith): 'show' prints step,lr as CSV, 'plot' draws a PNG (or SVG/PDF).

SPEC examples: step:size=5,gamma=0.1   multistep:milestones=30/60   exp:gamma=0.95
invtime:k=0.1   cosine   cosine-restarts:t0=10,tmult=2   cyclic:max=0.1,up=20
onecycle:max=0.1   warmup:steps=10+cosine   cosine:tmax=90*plateau:patience=2,factor=0.5

Steps are batches; stages stepped per epoch (step, multistep, exp, invtime,
cosine-restarts by default) count one epoch per step unless --steps-per-epoch is given.
A plateau stage only changes on observed losses, so it is shown constant here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("schedule: give a subcommand: show or plot")
		},
	}
	cmd.AddCommand(newScheduleShowCmd(), newSchedulePlotCmd())
	return cmd
}

func newScheduleShowCmd() *cobra.Command {
	var f scheduleFlags
	cmd := &cobra.Command{
		Use:   "show SPEC",
		Short: "Print a schedule's learning rate per step as CSV (step,lr)",
		Long: `Print the learning rate of SPEC at steps 0..N-1 with base learning rate LR0 as CSV
with the header step,lr (and a momentum column with --momentum), one row per step, values
in full precision.`,
		Example: `  temper schedule show step:size=30,gamma=0.1 --steps 100 --lr 0.1
  temper schedule show warmup:steps=5+cosine --steps 50 --lr 0.4`,
		Args: exactArgs(1, "SPEC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			s, err := f.parse(args[0])
			if err != nil {
				return err
			}
			return writeScheduleCSV(cmd.OutOrStdout(), s, f)
		},
	}
	f.register(cmd)
	return cmd
}

func writeScheduleCSV(out io.Writer, s schedule.Schedule, f scheduleFlags) error {
	w := bufio.NewWriter(out)
	if f.momentum {
		fmt.Fprintln(w, "step,lr,momentum")
	} else {
		fmt.Fprintln(w, "step,lr")
	}
	for i, lr := range schedule.Sample(s, f.steps, f.lr) {
		fmt.Fprintf(w, "%d,%s", i, fmtFloat(lr))
		if f.momentum {
			m, ok := schedule.MomentumAt(s, i)
			if ok {
				fmt.Fprintf(w, ",%s", fmtFloat(m))
			} else {
				fmt.Fprint(w, ",")
			}
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

func newSchedulePlotCmd() *cobra.Command {
	var f scheduleFlags
	var out, title string
	var logY bool
	cmd := &cobra.Command{
		Use:   "plot SPEC [SPEC...]",
		Short: "Plot the learning rate of one or more schedules against the step",
		Long: `Draw the learning rate of each SPEC at steps 0..N-1 with base learning rate LR0, one
line per SPEC, into --out (PNG, or SVG/PDF by the extension).`,
		Example: `  temper schedule plot cosine-restarts:t0=10,tmult=2 --steps 150 --lr 0.1 --out sgdr.png
  temper schedule plot step:size=30 exp:gamma=0.97 --steps 100 --log --out decay.png`,
		Args: minArgs(1, "SPEC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			switch ext := filepath.Ext(out); ext {
			case ".png", ".svg", ".pdf":
			default:
				return usagef("--out %q: want a .png, .svg or .pdf file", out)
			}
			var series []report.Series
			for _, spec := range args {
				s, err := f.parse(spec)
				if err != nil {
					return err
				}
				series = append(series, report.Series{Name: spec, Y: schedule.Sample(s, f.steps, f.lr)})
			}
			if title == "" {
				title = fmt.Sprintf("learning rate (lr0 = %g, %d steps)", f.lr, f.steps)
			}
			if err := report.SchedulePlot(title, logY, series...).Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "schedule.png", "output image (.png, .svg or .pdf)")
	cmd.Flags().StringVar(&title, "title", "", "plot title (default: the base lr and step count)")
	cmd.Flags().BoolVar(&logY, "log", false, "logarithmic lr axis (for step and exponential decay)")
	return cmd
}

// exactArgs and minArgs are cobra's argument checks with messages that name the
// argument; they are usage errors (exit 2).
func exactArgs(n int, name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: want %d %s argument(s), got %d", cmd.CommandPath(), n, name, len(args))
		}
		return nil
	}
}

func minArgs(n int, name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s: want at least %d %s argument(s), got %d", cmd.CommandPath(), n, name, len(args))
		}
		return nil
	}
}
