package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"github.com/temperml/temper/internal/fsafe"
	"io"
	"math"
	"os"
)

// IDX is the content of an IDX file (LeCun's format of the MNIST files): the dimensions
// and the unsigned-byte payload in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

// idxUByte is the IDX type code of unsigned bytes, the only one MNIST uses.
const idxUByte = 0x08

// maxDeflateRatio bounds how much a deflate stream can expand (about 1032:1); a gzipped
// file whose header declares more payload than its compressed size could hold is rejected
// before anything is allocated.
const maxDeflateRatio = 1100

// ReadIDXFile reads an IDX file, raw or gzipped (detected by the gzip magic bytes, not by
// the file name).
func ReadIDXFile(path string) (*IDX, error) {
	b, err := readRegular(path, MaxIDXFileBytes)
	if err != nil {
		return nil, err
	}
	return ParseIDX(path, b)
}

// MaxIDXFileBytes bounds the size of an IDX file read (8 GiB).
const MaxIDXFileBytes = 8 << 30

// readRegular reads path, a regular file of at most max bytes: a device, pipe, folder or
// larger file is refused (ErrNotRegular), so nothing is read without bound.
func readRegular(path string, max int64) ([]byte, error) {
	b, err := fsafe.ReadFile(path, max)
	if err != nil {
		return nil, readErr(path, err)
	}
	return b, nil
}

// readErr is the *FileError of a failed fsafe read.
func readErr(path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fileErr(path, ErrNotFound, "no such file")
	case errors.Is(err, fsafe.ErrNotRegular), errors.Is(err, fsafe.ErrTooLarge):
		var fe *fsafe.Error
		if errors.As(err, &fe) {
			err = fe.Err
		}
		return fileErr(path, ErrNotRegular, "%v", err)
	}
	return fileErr(path, ErrNotFound, "%v", err)
}

// ParseIDX parses the bytes of an IDX file, raw or gzipped; name is used in errors. The
// header is: two zero bytes, the type code (0x08, unsigned byte), the rank r, then r
// big-endian uint32 dimensions; the payload must hold exactly the product of the
// dimensions in bytes. Sizes are checked against the data actually present before any
// allocation, so a hostile header cannot cause a huge allocation.
func ParseIDX(name string, b []byte) (*IDX, error) {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return parseGzipIDX(name, b)
	}
	dims, n, err := parseIDXHeader(name, b)
	if err != nil {
		return nil, err
	}
	payload := b[n:]
	want, err := idxPayloadSize(name, dims)
	if err != nil {
		return nil, err
	}
	if int64(len(payload)) < want {
		return nil, fileErr(name, ErrTruncated, "payload has %d bytes, dimensions %v need %d", len(payload), dims, want)
	}
	if int64(len(payload)) > want {
		return nil, fileErr(name, ErrBadDims, "payload has %d bytes, more than the %d that dimensions %v declare", len(payload), want, dims)
	}
	return &IDX{Dims: dims, Data: payload}, nil
}

// parseIDXHeader parses the header at the start of b and returns the dimensions and the
// header length.
func parseIDXHeader(name string, b []byte) ([]int, int, error) {
	if len(b) < 4 {
		return nil, 0, fileErr(name, ErrTruncated, "file has %d bytes, shorter than the 4-byte IDX magic", len(b))
	}
	if b[0] != 0 || b[1] != 0 {
		return nil, 0, fileErr(name, ErrBadMagic, "magic starts with %#02x %#02x, want 0x00 0x00 (IDX) or 0x1f 0x8b (gzip)", b[0], b[1])
	}
	if b[2] != idxUByte {
		return nil, 0, fileErr(name, ErrBadMagic, "IDX data type %#02x, want 0x08 (unsigned byte)", b[2])
	}
	rank := int(b[3])
	if rank == 0 {
		return nil, 0, fileErr(name, ErrBadDims, "IDX rank 0, want at least 1")
	}
	n := 4 + 4*rank
	if len(b) < n {
		return nil, 0, fileErr(name, ErrTruncated, "header of rank %d needs %d bytes, file has %d", rank, n, len(b))
	}
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
	}
	return dims, n, nil
}

// idxPayloadSize returns the product of dims, or an error if it overflows.
func idxPayloadSize(name string, dims []int) (int64, error) {
	p := int64(1)
	for _, d := range dims {
		if d != 0 && p > math.MaxInt32*int64(64)/int64(d) {
			return 0, fileErr(name, ErrBadDims, "dimensions %v declare an impossibly large payload", dims)
		}
		p *= int64(d)
	}
	return p, nil
}

func parseGzipIDX(name string, b []byte) (*IDX, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, gzipErr(name, err)
	}
	// Header: magic then the dimensions.
	var head [4 + 4*255]byte
	if _, err := io.ReadFull(zr, head[:4]); err != nil {
		if isEOF(err) {
			return nil, fileErr(name, ErrTruncated, "gzip stream ends before the 4-byte IDX magic")
		}
		return nil, gzipErr(name, err)
	}
	if _, _, err := parseIDXHeader(name, head[:4]); err != nil {
		var fe *FileError
		if !errors.As(err, &fe) || fe.Err != ErrTruncated {
			return nil, err
		}
	}
	rank := int(head[3])
	if _, err := io.ReadFull(zr, head[4:4+4*rank]); err != nil {
		if isEOF(err) {
			return nil, fileErr(name, ErrTruncated, "gzip stream ends inside the header of rank %d", rank)
		}
		return nil, gzipErr(name, err)
	}
	dims, _, err := parseIDXHeader(name, head[:4+4*rank])
	if err != nil {
		return nil, err
	}
	want, err := idxPayloadSize(name, dims)
	if err != nil {
		return nil, err
	}
	if want > int64(len(b))*maxDeflateRatio {
		return nil, fileErr(name, ErrTruncated, "dimensions %v declare %d bytes, more than a %d-byte gzip file can hold", dims, want, len(b))
	}
	// Read at most want+1 bytes into a buffer that grows with the data actually there, so
	// a header over-declaring the payload costs only what the stream holds.
	payload, err := io.ReadAll(io.LimitReader(zr, want+1))
	if err != nil {
		return nil, gzipErr(name, err)
	}
	if int64(len(payload)) < want {
		return nil, fileErr(name, ErrTruncated, "payload has %d bytes, dimensions %v need %d", len(payload), dims, want)
	}
	if int64(len(payload)) > want {
		return nil, fileErr(name, ErrBadDims, "payload is longer than the %d bytes that dimensions %v declare", want, dims)
	}
	// Read to the end: this checks the CRC.
	var one [1]byte
	if _, err := io.ReadFull(zr, one[:]); err != nil && err != io.EOF {
		return nil, gzipErr(name, err)
	}
	return &IDX{Dims: dims, Data: payload}, nil
}

func isEOF(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

func gzipErr(name string, err error) error {
	switch {
	case isEOF(err):
		return fileErr(name, ErrTruncated, "gzip stream is cut short (%v)", err)
	case errors.Is(err, gzip.ErrChecksum):
		return fileErr(name, ErrChecksum, "gzip CRC-32 or length check failed: the compressed data is corrupt")
	case errors.Is(err, gzip.ErrHeader):
		return fileErr(name, ErrBadMagic, "invalid gzip header")
	}
	return fileErr(name, ErrChecksum, "corrupt gzip stream: %v", err)
}
