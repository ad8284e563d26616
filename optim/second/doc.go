// Package second implements second-order and quasi-Newton optimizers — Newton's method,
// BFGS and L-BFGS — over a flat float64 parameter vector.
//
// The package is independent of the autodiff: an optimizer sees only an Objective that
// fills a gradient and returns a loss at a point x. A caller (the train loop) flattens a
// model's parameters into x, and its Objective copies x back into the model, runs the
// forward and backward passes, and gathers the gradient. All state is float64.
//
// # Methods and costs (N parameters, m history pairs)
//
//   - Newton: the exact Hessian from 2N gradient evaluations (central differences of the
//     gradient), Cholesky with Levenberg–Marquardt damping. Memory 16·N² bytes
//     (Hessian and its factor), time O(N³) for the factorization plus 2N gradients.
//   - BFGS: a dense inverse-Hessian approximation (Nocedal & Wright 6.17, initial
//     scaling 6.20). Memory 8·N² bytes, time O(N²) per iteration plus gradients.
//   - LBFGS: the two-loop recursion over the last m pairs (Nocedal & Wright Algorithm
//     7.4, p.178), matching torch.optim.LBFGS iterate for iterate. Memory 16·m·N bytes,
//     time O(m·N) per iteration plus gradients.
//
// Newton and BFGS refuse up front (TooLargeError wrapping ErrTooLarge) when their dense
// matrices would exceed a memory budget (default 2 GiB), stating the bytes needed.
//
// # Steps, iterations and modes
//
// Each optimizer has PyTorch's step(closure) shape: Step(obj) runs up to MaxIter
// iterations on obj from the current X and keeps its curvature state for the next call.
// Full-batch mode (the default, Minimize) passes the same full-data objective to every
// Step and stops on convergence. Minibatch mode (MinimizeBatches, or calling Step with a
// different minibatch objective each time) reuses curvature pairs across batches. It
// behaves poorly: a pair (s, y) built from gradients of different minibatches (or one
// minibatch's curvature applied to the next) is not a secant pair of any single
// function, so the quasi-Newton model is inconsistent and noisy, y·s can be small or
// negative (pairs get skipped), and the line search chases one batch's noise. Full-batch
// deterministic objectives are what these methods are for.
//
// # Line search
//
// All three use the same strong-Wolfe line search, a port of PyTorch's _strong_wolfe
// (itself from torch7's lswolfe.lua): bracketing with cubic extrapolation, then zoom with
// cubic interpolation (_cubic_interpolate) and the "0.1 of the bracket" safeguard;
// c1 = 1e-4, c2 = 0.9, at most 25 evaluations. Nocedal & Wright ch. 3 (Algorithms 3.5,
// 3.6; interpolation 3.59).
//
// # Failures
//
// Failures are errors, never hangs or NaNs: NonFiniteError (ErrNonFinite) names the
// iteration and whether the loss or which gradient entry was NaN/Inf; LineSearchError
// (ErrLineSearch) when the line search found no point with a lower loss; DescentError (ErrNotDescent) when a direction has g·d > 0; ErrNotPositiveDefinite
// when damping cannot make the Hessian positive definite; TooLargeError (ErrTooLarge);
// ConfigError (ErrConfig) for out-of-range settings; errors from the Objective are
// returned wrapped with the iteration.
package second
