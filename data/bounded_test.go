package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Every reader refuses a device (a link to /dev/zero, which would otherwise be read
// without end) with ErrNotRegular, and checks a header's declared sizes against what the
// file holds before allocating for them.

func devZeroLink(t *testing.T, path string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/zero")
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.Symlink("/dev/zero", path); err != nil {
		t.Fatal(err)
	}
}

func wantNotRegular(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "device") {
		t.Fatalf("%s on a link to /dev/zero: err = %v, want ErrNotRegular naming a device", what, err)
	}
}

func TestIDXDevice(t *testing.T) {
	p := filepath.Join(t.TempDir(), "train-labels-idx1-ubyte")
	devZeroLink(t, p)
	_, err := ReadIDXFile(p)
	wantNotRegular(t, "ReadIDXFile", err)
	// Through the MNIST folder loader too.
	dir := filepath.Dir(p)
	for _, n := range []string{"train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		devZeroLink(t, filepath.Join(dir, n))
	}
	_, _, err = LoadMNIST(dir)
	wantNotRegular(t, "LoadMNIST", err)
}

// TestIDXGzipOverDeclared: a gzipped labels file whose header declares far more labels
// than it holds (but not more than its compressed size could expand to) is reported as
// truncated after allocating about what the stream holds, not what it declares.
func TestIDXGzipOverDeclared(t *testing.T) {
	const declared = 200 << 20 // 200 MB
	payload := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(r.IntN(10)) // poorly compressible: the file is large enough to pass the ratio bound
	}
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	w.Write(idxBytes([]int{declared}, payload))
	w.Close()
	if int64(buf.Len())*maxDeflateRatio < declared {
		t.Fatalf("test file too small (%d bytes) to pass the ratio check", buf.Len())
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ParseIDX("labels.gz", buf.Bytes())
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "need 209715200") {
		t.Fatalf("err = %v, want ErrTruncated naming the declared size", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
		t.Fatalf("parsing allocated %d MB for a header declaring %d MB and a 1 MB payload; want it bounded by the payload", got>>20, declared>>20)
	}
}

func TestIDXRawOverDeclared(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, idxBytes([]int{2_000_000_000}, make([]byte, 100)), 0o644)
	if _, err := ReadIDXFile(p); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "payload has 100 bytes") {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
}

func TestCIFARDevice(t *testing.T) {
	dir := t.TempDir()
	for _, n := range append([]string{CIFAR10TestFile}, CIFAR10TrainFiles...) {
		devZeroLink(t, filepath.Join(dir, n))
	}
	_, _, err := LoadCIFAR10(dir)
	wantNotRegular(t, "LoadCIFAR10", err)
}

// CIFAR batches have no header: the record count is the file size / 3073, so a file
// that is not a whole number of records is refused before anything is converted.
func TestCIFARNotWholeRecords(t *testing.T) {
	if _, _, err := ParseCIFARRecords("b", make([]byte, CIFARImageBytes+1+5)); err == nil {
		t.Fatal("a batch of 1 record and 5 bytes was accepted")
	}
}

func TestImageDevice(t *testing.T) {
	p := filepath.Join(t.TempDir(), "digit.png")
	devZeroLink(t, p)
	_, err := LoadImage(p, 1, 8)
	wantNotRegular(t, "LoadImage", err)
	dir := t.TempDir()
	writeTree(t, dir, []string{"a", "b"}, 2, false)
	devZeroLink(t, filepath.Join(dir, "a", "zero.png"))
	_, err = Load(Source{Kind: SourceImages, Dir: dir}, LoadConfig{ImageSize: 8})
	wantNotRegular(t, "Load(images)", err)
}

// TestImageOverDeclared: a 1x1 PNG whose header claims 100000x100000 pixels is refused
// from its header, before the decoder allocates the pixels.
func TestImageOverDeclared(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.png")
	os.WriteFile(p, pngWithSize(t, 100000, 100000), 0o644)
	if _, err := LoadImage(p, 1, 8); !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("err = %v, want ErrBadImage naming the limit", err)
	}
}
