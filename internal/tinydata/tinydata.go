// Package tinydata writes a small, learnable dataset in MNIST's IDX format for tests of
// whole runs (data source "mnist:DIR"): 28×28 gray images of 10 classes, class c a bright
// 6×6 patch at a position of its own over uniform noise. It loads in milliseconds, where
// the real MNIST takes a good fraction of a second per process.
package tinydata

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/rng"
)

// WriteMNIST writes train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte to dir (created), with nTrain and
// nTest examples drawn from seed; labels cycle through the classes.
func WriteMNIST(dir string, nTrain, nTest int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rng.New(seed)
	for _, part := range []struct {
		images, labels string
		n              int
	}{{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", nTrain}, {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", nTest}} {
		img := binary.BigEndian.AppendUint32(nil, 0x00000803)
		for _, d := range []int{part.n, 28, 28} {
			img = binary.BigEndian.AppendUint32(img, uint32(d))
		}
		lab := binary.BigEndian.AppendUint32(nil, 0x00000801)
		lab = binary.BigEndian.AppendUint32(lab, uint32(part.n))
		for i := range part.n {
			c := (i*7 + i/10) % 10
			px := make([]byte, 28*28)
			for j := range px {
				px[j] = byte(r.IntN(80))
			}
			y0, x0 := 4+12*(c/5), 1+5*(c%5)
			for y := y0; y < y0+6; y++ {
				for x := x0; x < x0+6 && x < 28; x++ {
					px[y*28+x] = byte(170 + r.IntN(86))
				}
			}
			img = append(img, px...)
			lab = append(lab, byte(c))
		}
		for name, b := range map[string][]byte{part.images: img, part.labels: lab} {
			err := checkpoint.WriteFileAtomic(filepath.Join(dir, name), func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			})
			if err != nil {
				return fmt.Errorf("tinydata: %w", err)
			}
		}
	}
	return nil
}
