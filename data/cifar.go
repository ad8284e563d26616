package data

import (
	"errors"
	"os"
	"path/filepath"
)

// CIFAR-10 binary format constants: each record is one label byte followed by a 32x32
// colour image stored as 1024 red, 1024 green and 1024 blue bytes (row-major), that is
// channel-major (CHW) order.
const (
	CIFARClasses    = 10
	CIFARSide       = 32
	CIFARImageBytes = 3 * CIFARSide * CIFARSide
	CIFARRecord     = 1 + CIFARImageBytes // 3073 bytes
)

// CIFAR10TrainFiles and CIFAR10TestFile are the file names of the binary distribution
// (cifar-10-binary.tar.gz, which unpacks into cifar-10-batches-bin/).
var (
	CIFAR10TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	CIFAR10TestFile   = "test_batch.bin"
)

// CIFAR10ClassNames are the CIFAR-10 classes in label order.
var CIFAR10ClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// ParseCIFARRecords parses the bytes of a CIFAR-10 binary batch file (name is used in
// errors) into examples of shape [3, 32, 32] scaled by 1/255 and their labels. The length
// must be a positive multiple of 3073 and every label below 10.
func ParseCIFARRecords(name string, b []byte) (x []float32, y []int, err error) {
	if len(b) == 0 {
		return nil, nil, fileErr(name, ErrTruncated, "empty file, want records of %d bytes", CIFARRecord)
	}
	if len(b)%CIFARRecord != 0 {
		return nil, nil, fileErr(name, ErrTruncated, "length %d is not a multiple of the %d-byte record (%d whole records and %d bytes left)",
			len(b), CIFARRecord, len(b)/CIFARRecord, len(b)%CIFARRecord)
	}
	n := len(b) / CIFARRecord
	y = make([]int, n)
	for i := range n {
		l := int(b[i*CIFARRecord])
		if l >= CIFARClasses {
			return nil, nil, fileErr(name, ErrLabel, "label %d of record %d (byte offset %d), want [0, %d)", l, i, i*CIFARRecord, CIFARClasses)
		}
		y[i] = l
	}
	x = make([]float32, n*CIFARImageBytes)
	for i := range n {
		rec := b[i*CIFARRecord+1 : (i+1)*CIFARRecord]
		dst := x[i*CIFARImageBytes : (i+1)*CIFARImageBytes]
		for j, p := range rec {
			dst[j] = float32(p) / 255
		}
	}
	return x, y, nil
}

// LoadCIFAR10 reads the CIFAR-10 binary distribution from dir (the folder holding
// data_batch_1.bin ... data_batch_5.bin and test_batch.bin, or its parent holding
// cifar-10-batches-bin/). Examples are shaped [3, 32, 32] (CHW, RGB) with values x/255.
func LoadCIFAR10(dir string) (train, test *InMemory, err error) {
	if dir == "" {
		return nil, nil, &FileError{File: "(CIFAR-10 folder)", Err: ErrNotFound,
			Msg: "no folder given; download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and pass --data DIR"}
	}
	if _, err := os.Stat(filepath.Join(dir, CIFAR10TestFile)); errors.Is(err, os.ErrNotExist) {
		sub := filepath.Join(dir, "cifar-10-batches-bin")
		if _, err := os.Stat(filepath.Join(sub, CIFAR10TestFile)); err == nil {
			dir = sub
		}
	}
	train, err = loadCIFARFiles(dir, CIFAR10TrainFiles)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadCIFARFiles(dir, []string{CIFAR10TestFile})
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// MaxCIFARFileBytes bounds the size of one CIFAR batch file read (1 GiB; the standard
// batches hold 30,730,000 bytes).
const MaxCIFARFileBytes = 1 << 30

func loadCIFARFiles(dir string, names []string) (*InMemory, error) {
	var xparts [][]float32
	var ys []int
	for _, n := range names {
		p := filepath.Join(dir, n)
		b, err := readRegular(p, MaxCIFARFileBytes)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, fileErr(p, ErrNotFound, "no such file; the CIFAR-10 binary folder holds %v and %s", CIFAR10TrainFiles, CIFAR10TestFile)
			}
			return nil, err
		}
		x, y, err := ParseCIFARRecords(p, b)
		if err != nil {
			return nil, err
		}
		xparts = append(xparts, x)
		ys = append(ys, y...)
	}
	xs := xparts[0]
	if len(xparts) > 1 {
		xs = make([]float32, 0, len(ys)*CIFARImageBytes)
		for _, x := range xparts {
			xs = append(xs, x...)
		}
	}
	return &InMemory{X: xs, Y: ys, ExampleShape: []int{3, CIFARSide, CIFARSide}, NumClasses: CIFARClasses}, nil
}
