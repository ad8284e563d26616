package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Source
		err  string // substring of the error; "" for success
	}{
		{"mnist", Source{Kind: "mnist"}, ""},
		{"mnist:/data/mnist", Source{Kind: "mnist", Dir: "/data/mnist"}, ""},
		{"fashion-mnist", Source{Kind: "fashion-mnist"}, ""},
		{"fashion-mnist:fm", Source{Kind: "fashion-mnist", Dir: "fm"}, ""},
		{"cifar10:c10", Source{Kind: "cifar10", Dir: "c10"}, ""},
		{"idx:some/dir", Source{Kind: "idx", Dir: "some/dir"}, ""},
		{"images:pics", Source{Kind: "images", Dir: "pics"}, ""},
		{"images:a:b", Source{Kind: "images", Dir: "a:b"}, ""},
		{"./pics", Source{Kind: "images", Dir: "./pics"}, ""},
		{"/abs/pics", Source{Kind: "images", Dir: "/abs/pics"}, ""},
		{"rel/pics", Source{Kind: "images", Dir: "rel/pics"}, ""},
		{".hidden", Source{Kind: "images", Dir: ".hidden"}, ""},
		{"./odd:name", Source{Kind: "images", Dir: "./odd:name"}, ""},
		{"", Source{}, "empty data source"},
		{"cifar10", Source{}, "needs a folder: cifar10:DIR"},
		{"cifar10:", Source{}, "needs a folder"},
		{"idx", Source{}, "needs a folder: idx:DIR"},
		{"images", Source{}, "needs a folder: images:DIR"},
		{"mnist:", Source{}, "empty folder"},
		{"MNIST", Source{}, `unknown data source "MNIST"`},
		{"pics", Source{}, `unknown data source "pics"`},
		{"cifar100:x", Source{}, "unknown data source"},
	} {
		got, err := ParseSource(tc.in)
		if tc.err != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "fashion-mnist:DIR") {
				t.Errorf("ParseSource(%q) error %v, want ErrInvalid with %q and the accepted forms", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		back, err := ParseSource(got.String())
		if err != nil || back != got {
			t.Errorf("round trip of %q: String %q parses to %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

func TestLoadConfigValidate(t *testing.T) {
	img := Source{Kind: SourceImages, Dir: "x"}
	mn := Source{Kind: SourceMNIST}
	for _, tc := range []struct {
		src Source
		cfg LoadConfig
		err string
	}{
		{img, LoadConfig{ImageSize: 32}, ""},
		{img, LoadConfig{ImageSize: 32, Channels: 3, TestFraction: 0.5}, ""},
		{mn, LoadConfig{}, ""},
		{mn, LoadConfig{Channels: 3}, ""},
		{img, LoadConfig{}, "image size 0 out of range [1, 16384]"},
		{mn, LoadConfig{ImageSize: 28}, "image size 28 given for mnist"},
		{mn, LoadConfig{Channels: 2}, "channels 2"},
		{img, LoadConfig{ImageSize: 8, TestFraction: 1}, "test fraction 1 out of range [0, 1)"},
		{img, LoadConfig{ImageSize: 8, TestFraction: -0.1}, "test fraction -0.1"},
		{Source{Kind: "tiff"}, LoadConfig{}, `unknown source kind "tiff"`},
	} {
		err := tc.cfg.Validate(tc.src)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%v %+v: %v", tc.src, tc.cfg, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v %+v: error %v, want %q", tc.src, tc.cfg, err, tc.err)
		}
		if _, lerr := Load(tc.src, tc.cfg); lerr == nil || lerr.Error() != err.Error() {
			t.Errorf("Load did not validate: %v", lerr)
		}
	}
}

func TestLoadIDXAndMNISTFolder(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, true, 30, 20)
	for _, kind := range []string{SourceIDX, SourceMNIST} {
		sets, err := Load(Source{Kind: kind, Dir: dir}, LoadConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if sets.Train.Len() != 30 || sets.Test.Len() != 20 || sets.Val != nil || sets.Train.Classes() != 10 ||
			!slices.Equal(sets.ClassNames, MNISTClassNames()) || !equalInts(sets.Train.Shape(), []int{1, 28, 28}) {
			t.Errorf("%s: train %d test %d classes %v shape %v", kind, sets.Train.Len(), sets.Test.Len(), sets.ClassNames, sets.Train.Shape())
		}
		if !strings.Contains(sets.Name, dir) {
			t.Errorf("%s: name %q does not name the folder", kind, sets.Name)
		}
	}
	// Channels 3 replicates the gray plane.
	sets, err := Load(Source{Kind: SourceIDX, Dir: dir}, LoadConfig{Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := sets.Train.Example(1)
	if !equalInts(sets.Train.Shape(), []int{3, 28, 28}) || x[5] != x[784+5] || x[5] != x[2*784+5] || x[5] != float32((784+5)%256)/255 {
		t.Errorf("replicated shape %v values %v %v %v", sets.Train.Shape(), x[5], x[784+5], x[2*784+5])
	}
	// An IDX folder with 3 classes gets 3 class names.
	d3 := t.TempDir()
	writeMNIST(t, d3, false, 3, 3)
	os.WriteFile(filepath.Join(d3, MNISTTrainLabels), idxBytes([]int{3}, []byte{0, 1, 2}), 0o644)
	os.WriteFile(filepath.Join(d3, MNISTTestLabels), idxBytes([]int{3}, []byte{2, 1, 0}), 0o644)
	sets, err = Load(Source{Kind: SourceIDX, Dir: d3}, LoadConfig{})
	if err != nil || sets.Train.Classes() != 3 || strings.Join(sets.ClassNames, ",") != "0,1,2" {
		t.Errorf("3-class idx: %v %+v", err, sets)
	}
	// One class only.
	os.WriteFile(filepath.Join(d3, MNISTTrainLabels), idxBytes([]int{3}, []byte{0, 0, 0}), 0o644)
	os.WriteFile(filepath.Join(d3, MNISTTestLabels), idxBytes([]int{3}, []byte{0, 0, 0}), 0o644)
	if _, err := Load(Source{Kind: SourceIDX, Dir: d3}, LoadConfig{}); err == nil || !strings.Contains(err.Error(), "need at least 2 classes") {
		t.Errorf("single-class idx: %v", err)
	}
	if _, err := Load(Source{Kind: SourceIDX, Dir: t.TempDir()}, LoadConfig{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty idx folder: %v", err)
	}
}

func TestLoadCIFARSource(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR(t, dir, 3)
	sets, err := Load(Source{Kind: SourceCIFAR10, Dir: dir}, LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if sets.Train.Len() != 15 || sets.Test.Len() != 3 || sets.ClassNames[0] != "airplane" || sets.ClassNames[9] != "truck" || sets.Name != "CIFAR-10 ("+dir+")" {
		t.Errorf("got %d/%d %v %q", sets.Train.Len(), sets.Test.Len(), sets.ClassNames, sets.Name)
	}
	gray, err := Load(Source{Kind: SourceCIFAR10, Dir: dir}, LoadConfig{Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Record 0 pixel j is j%256 in every plane position j: R = j, G = (j+1024)%256 = j, B = j.
	x, _ := gray.Train.Example(0)
	if !equalInts(gray.Train.Shape(), []int{1, 32, 32}) || x[7] != 7.0/255 {
		t.Errorf("gray shape %v x[7] %v", gray.Train.Shape(), x[7])
	}
	// A batch whose length is not a multiple of the record is a one-line error.
	os.WriteFile(filepath.Join(dir, CIFAR10TestFile), make([]byte, CIFARRecord+5), 0o644)
	_, err = Load(Source{Kind: SourceCIFAR10, Dir: dir}, LoadConfig{})
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "not a multiple of the 3073-byte record") || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad CIFAR size: %v", err)
	}
}

func TestFashionMNISTDir(t *testing.T) {
	_, err := FashionMNISTDir(t.TempDir())
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist or give fashion-mnist:DIR") {
		t.Errorf("empty folder: %v", err)
	}
	dir := t.TempDir()
	writeMNIST(t, dir, true, 2, 2)
	if got, err := FashionMNISTDir(dir); err != nil || got != dir {
		t.Errorf("FashionMNISTDir(%q) = %q, %v", dir, got, err)
	}
	if n := FashionMNISTClassNames(); len(n) != 10 || n[0] != "T-shirt/top" || n[9] != "Ankle boot" {
		t.Errorf("class names %v", n)
	}
}

func TestLoadFashionMNISTReal(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 30 MB")
	}
	if _, err := FashionMNISTDir(""); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	src, err := ParseSource("fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	sets, err := Load(src, LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if sets.Train.Len() != 60000 || sets.Test.Len() != 10000 || sets.Train.Classes() != 10 || !equalInts(sets.Train.Shape(), []int{1, 28, 28}) {
		t.Errorf("got %d/%d examples, %d classes, shape %v", sets.Train.Len(), sets.Test.Len(), sets.Train.Classes(), sets.Train.Shape())
	}
	if !slices.Equal(sets.ClassNames, FashionMNISTClassNames()) || sets.Name != "Fashion-MNIST ("+FashionMNISTDefaultDir+")" {
		t.Errorf("names %v, %q", sets.ClassNames, sets.Name)
	}
	// Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
	counts := make([]int, 10)
	for _, l := range sets.Train.Y {
		counts[l]++
	}
	for c, n := range counts {
		if n != 6000 {
			t.Errorf("class %d has %d training images, want 6000", c, n)
		}
	}
}
