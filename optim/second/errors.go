package second

import (
	"errors"
	"fmt"
)

// Sentinel errors; the typed errors below wrap them (use errors.Is / errors.As).
var (
	// ErrConfig: a config field is out of range (see ConfigError).
	ErrConfig = errors.New("second: invalid config")
	// ErrTooLarge: the dense matrices of Newton or BFGS would exceed the memory budget.
	ErrTooLarge = errors.New("second: problem too large for the memory budget")
	// ErrNonFinite: the objective returned a NaN or infinite loss or gradient entry.
	ErrNonFinite = errors.New("second: non-finite value")
	// ErrLineSearch: the line search found no point with a lower loss.
	ErrLineSearch = errors.New("second: line search failed")
	// ErrNotDescent: the search direction d has g·d > 0.
	ErrNotDescent = errors.New("second: not a descent direction")
	// ErrNotPositiveDefinite: Levenberg–Marquardt damping could not make the Hessian
	// positive definite (numerically) within the allowed number of increases.
	ErrNotPositiveDefinite = errors.New("second: damped Hessian not positive definite")
	// ErrDimension: a vector has the wrong length (x0 empty, or a length mismatch).
	ErrDimension = errors.New("second: dimension mismatch")
)

// ConfigError reports a config field outside its allowed range.
type ConfigError struct {
	Field string // e.g. "LBFGSConfig.History"
	Value any
	Range string // e.g. "[1, inf)"
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("second: %s %v out of range %s", e.Field, e.Value, e.Range)
}

func (e *ConfigError) Unwrap() error { return ErrConfig }

// TooLargeError reports that a method's dense matrices need more memory than allowed.
type TooLargeError struct {
	Method string // "newton" or "bfgs"
	N      int    // number of parameters
	Need   int64  // bytes the method's matrices would need
	Budget int64  // the configured MemoryBudget in bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("second: %s with N=%d parameters needs %d bytes (%s) for its dense N×N matrices, "+
		"over the memory budget of %d bytes (%s); use L-BFGS or raise MemoryBudget",
		e.Method, e.N, e.Need, humanBytes(e.Need), e.Budget, humanBytes(e.Budget))
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// NonFiniteError reports a NaN or infinite value returned by the objective, or a
// non-finite directional derivative.
type NonFiniteError struct {
	Method string
	Iter   int    // the iteration in progress (1-based; the evaluation at the start of a Step counts toward the next iteration)
	What   string // "loss", "gradient" or "direction"
	Index  int    // the gradient entry for What == "gradient", else -1
	Value  float64
}

func (e *NonFiniteError) Error() string {
	if e.What == "gradient" {
		return fmt.Sprintf("second: %s iteration %d: non-finite gradient[%d] = %v", e.Method, e.Iter, e.Index, e.Value)
	}
	return fmt.Sprintf("second: %s iteration %d: non-finite %s = %v", e.Method, e.Iter, e.What, e.Value)
}

func (e *NonFiniteError) Unwrap() error { return ErrNonFinite }

// LineSearchError reports a strong-Wolfe line search that found no point with a lower
// loss (it used all its evaluations, or shrank its bracket below TolChange). X is left
// at the last iterate.
type LineSearchError struct {
	Method string
	Iter   int
	Evals  int     // evaluations the line search used
	Loss   float64 // loss at the start of the line search
	Slope  float64 // directional derivative g·d at the start
}

func (e *LineSearchError) Error() string {
	return fmt.Sprintf("second: %s iteration %d: line search failed: no decrease from loss %g (slope %g) in %d evaluations",
		e.Method, e.Iter, e.Loss, e.Slope, e.Evals)
}

func (e *LineSearchError) Unwrap() error { return ErrLineSearch }

// DescentError reports a search direction that is not a descent direction (g·d > 0).
type DescentError struct {
	Method string
	Iter   int
	Slope  float64 // g·d
}

func (e *DescentError) Error() string {
	return fmt.Sprintf("second: %s iteration %d: not a descent direction (g·d = %g > 0)", e.Method, e.Iter, e.Slope)
}

func (e *DescentError) Unwrap() error { return ErrNotDescent }

func humanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
