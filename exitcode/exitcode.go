// Package exitcode is the one list of temper's process exit codes. The CLI returns them,
// and the Kubernetes manifests of scaleout/k8s refer to them in their podFailurePolicy:
// an exit code a retry cannot change (bad usage, a diverged run) fails a Job's index at
// once instead of spending its retries.
//
//	0   OK           success (also: a worker whose item is already done)
//	1   Failure      a failure while running: missing data, I/O, a store that cannot be reached
//	2   Usage        bad usage: unknown flag, out-of-range value, a plan that does not parse
//	3   Diverged     training stopped on a non-finite loss (train.ErrNonFinite): the recipe,
//	                 not the machine, is at fault, so retrying the same recipe cannot help
//	130 Interrupted  stopped by SIGINT (128 + 2, the shell's convention)
//	143 Terminated   stopped by SIGTERM (128 + 15), e.g. a pod being evicted or deleted
//
// Usage, Interrupted and Terminated follow the shell's conventions; Diverged is temper's.
package exitcode

// The exit codes (see the package comment).
const (
	OK          = 0
	Failure     = 1
	Usage       = 2
	Diverged    = 3
	Interrupted = 130
	Terminated  = 143
)

// Coder is an error that carries its own exit code; the CLI returns Code() when a
// command fails with one.
type Coder interface {
	error
	ExitCode() int
}

// Error wraps Err with an exit code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns e.Code.
func (e *Error) ExitCode() int { return e.Code }

// With wraps err (nil stays nil) with an exit code.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}
