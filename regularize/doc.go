// Package regularize holds temper's regularizers: weight penalties (L2, L1, elastic net),
// dropout in its classic and inverted forms (and channel-wise Dropout2D), DropConnect,
// stochastic depth and fractional max pooling.
//
// The common theme (and the lecture's): add randomness at training time and average it out
// at test time. Every stochastic module owns an explicit *rng.Stream (exposed through
// RandomStreams so checkpoints can save it), is deterministic given that stream, and
// switches between its training and evaluation behaviour with SetTraining (which
// nn.SetTraining calls recursively). New modules start in training mode, like PyTorch's.
//
// Each op is a fused autodiff op on the input's tape (see nn.LinearOp for the pattern):
// values and masks live in the tape arena, so a steady-state training step allocates
// nothing in proportion to the model.
package regularize
