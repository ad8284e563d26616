package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifarRecords builds n records; record i has label (i+off)%10 and pixel j = (i+j)%256.
func cifarRecords(n, off int) []byte {
	b := make([]byte, 0, n*CIFARRecord)
	for i := range n {
		b = append(b, byte((i+off)%10))
		for j := range CIFARImageBytes {
			b = append(b, byte((i+j)%256))
		}
	}
	return b
}

func writeCIFAR(t *testing.T, dir string, perFile int) {
	t.Helper()
	for k, name := range append(append([]string(nil), CIFAR10TrainFiles...), CIFAR10TestFile) {
		if err := os.WriteFile(filepath.Join(dir, name), cifarRecords(perFile, k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadCIFAR10(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	os.Mkdir(dir, 0o755)
	writeCIFAR(t, dir, 3)
	for _, d := range []string{dir, root} { // the folder itself or its parent
		train, test, err := LoadCIFAR10(d)
		if err != nil {
			t.Fatal(err)
		}
		if train.Len() != 15 || test.Len() != 3 || !equalInts(train.Shape(), []int{3, 32, 32}) {
			t.Fatalf("got %d/%d examples of %v, want 15/3 of [3 32 32]", train.Len(), test.Len(), train.Shape())
		}
		// Training example 4 is record 1 of data_batch_2 (off 1): label 2, pixels (1+j)%256.
		x := make([]float32, CIFARImageBytes)
		if got := train.Get(4, x); got != 2 {
			t.Errorf("label %d, want 2", got)
		}
		// Channel 1 (green), row 0, col 0 is byte 1024 of the image.
		if got, want := x[1024], float32((1+1024)%256)/255; got != want {
			t.Errorf("green pixel %v, want %v", got, want)
		}
		if got := test.Get(2, x); got != 7 || x[0] != float32(2)/255 {
			t.Errorf("test example 2: label %d pixel %v", got, x[0])
		}
	}
}

func TestCIFARErrors(t *testing.T) {
	good := cifarRecords(2, 0)
	badLabel := cifarRecords(2, 0)
	badLabel[CIFARRecord] = 10
	for _, tc := range []struct {
		name string
		file string
		b    []byte // nil removes the file
		want error
		msg  string
	}{
		{"missing", "data_batch_3.bin", nil, ErrNotFound, "no such file"},
		{"empty", CIFAR10TestFile, []byte{}, ErrTruncated, "empty file"},
		{"cut", "data_batch_1.bin", good[:len(good)-1], ErrTruncated, "1 whole records and 3072 bytes left"},
		{"label", "data_batch_5.bin", badLabel, ErrLabel, "label 10 of record 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR(t, dir, 2)
			p := filepath.Join(dir, tc.file)
			if tc.b == nil {
				os.Remove(p)
			} else {
				os.WriteFile(p, tc.b, 0o644)
			}
			_, _, err := LoadCIFAR10(dir)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want %v naming %s and %q", err, tc.want, tc.file, tc.msg)
			}
		})
	}
	if _, _, err := LoadCIFAR10(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty dir: got %v", err)
	}
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarRecords(1, 0))
	f.Add(cifarRecords(2, 9))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, y, err := ParseCIFARRecords("fuzz", b)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			return
		}
		if len(y)*CIFARRecord != len(b) || len(x) != len(y)*CIFARImageBytes {
			t.Fatalf("%d labels, %d values from %d bytes", len(y), len(x), len(b))
		}
		for _, l := range y {
			if l < 0 || l >= CIFARClasses {
				t.Fatalf("label %d", l)
			}
		}
		for _, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("value %v outside [0, 1]", v)
			}
		}
	})
}
