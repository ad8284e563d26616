// Command temper trains neural networks on the CPU, in pure Go.
//
//	temper train [flags]      train a model (default: the MLP on MNIST)
//	temper eval DIR           evaluate a trained model on the test set
//	temper lrfind, search     LR range test; coarse-to-fine search of lr (and weight decay)
//	temper schedule show|plot a learning-rate schedule SPEC as CSV or a plot
//	temper augment preview    a grid of augmented samples
//	temper ensemble ...       independent and snapshot ensembles, and their evaluation
//	temper plan, worker, collect, k8s   the same work as Kubernetes Indexed Jobs (docs/scale-out.md)
//
// Run `temper help` or `temper CMD --help` for the flags. Exit codes (package exitcode):
// 0 success, 1 a failure while running (missing data, I/O), 2 bad usage (unknown flag,
// out-of-range value), 3 a diverged run (non-finite loss), 130 and 143 a run stopped by
// SIGINT and SIGTERM.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/exitcode"
	"github.com/temperml/temper/train"
)

// usageError marks errors caused by the command line (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// commands holds constructors of further subcommands; each lives in its own file and
// registers itself from an init func, so adding a command touches no other file.
var commands []func() *cobra.Command

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "temper",
		Short:         "temper trains neural networks well, in pure Go",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newTrainCmd(), newEvalCmd())
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the exit code; panics become errors, never traces.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "temper: internal error: %v\n", r)
			code = 1
		}
	}()
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "temper: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	var xe exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	if code, ok := exitCode(err); ok {
		return code
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// exitCode returns the code of an error that carries one (exitcode.Coder) and
// exitcode.Diverged for a non-finite loss.
func exitCode(err error) (int, bool) {
	var c exitcode.Coder
	if errors.As(err, &c) {
		return c.ExitCode(), true
	}
	if errors.Is(err, train.ErrNonFinite) {
		return exitcode.Diverged, true
	}
	return 0, false
}

// isCobraUsage recognizes cobra's own argument errors (unknown command, wrong arg count).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
