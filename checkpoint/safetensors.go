// Package checkpoint reads and writes safetensors files
// (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON header
//
//	{"__metadata__": {"key": "value"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//
// padded with spaces to a multiple of 8 bytes, then the tensor bytes (little-endian,
// row-major), with offsets relative to the start of the buffer, contiguous and without
// holes.
//
// Save writes float32 (F32) tensors under the names given, which for a model are its
// PyTorch-style parameter names (layers.0.weight, ...). A file saved from a model is
// therefore loadable in Python by safetensors.torch.load_file and gives a dict with the
// same names and shapes as the equivalent PyTorch module's state_dict(), ready for
// load_state_dict. Conversely Load reads files written by safetensors (PyTorch state
// dicts): F32 as is, and F64, F16, BF16 and the integer and bool dtypes converted to
// float32 (integers beyond 2^24 lose precision; BatchNorm's num_batches_tracked is I64).
//
// Save is atomic: it writes a temporary file in the same folder, syncs it, renames it over
// the destination and syncs the folder, so a crash never leaves a partial file at the
// destination. Load validates everything (header length, JSON, dtypes, shapes against
// offsets, offsets in range, contiguous and non-overlapping, unique names) and reports a
// *FileError naming the file, wrapping one of the sentinel errors.
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/temperml/temper/internal/fsafe"
	"github.com/temperml/temper/tensor"
)

// Sentinel errors wrapped by *FileError.
var (
	// ErrTruncated: the file ends before its header or its tensor data.
	ErrTruncated = errors.New("truncated")
	// ErrHeader: the JSON header is malformed or has a field of the wrong type.
	ErrHeader = errors.New("bad header")
	// ErrDType: a tensor has an unknown or unsupported dtype.
	ErrDType = errors.New("unsupported dtype")
	// ErrShape: a tensor's shape does not match its byte range.
	ErrShape = errors.New("shape mismatch")
	// ErrOffsets: byte ranges are out of range, overlap, leave holes or leave bytes unused.
	ErrOffsets = errors.New("bad data offsets")
	// ErrName: a tensor name is empty, reserved or duplicated.
	ErrName = errors.New("bad tensor name")
	// ErrMissing: a tensor expected by the caller is absent (or has another shape).
	ErrMissing = errors.New("missing tensor")
)

// FileError reports a problem with one safetensors file.
type FileError struct {
	File string // path, or "(reader)" / "(bytes)"
	Err  error  // one of the sentinel errors, or the underlying I/O error
	Msg  string // what was wrong and what was expected
}

func (e *FileError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("checkpoint: %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("checkpoint: %s: %v: %s", e.File, e.Err, e.Msg)
}

// Unwrap returns the sentinel (or I/O) error.
func (e *FileError) Unwrap() error { return e.Err }

func fileErr(file string, err error, format string, args ...any) error {
	return &FileError{File: file, Err: err, Msg: fmt.Sprintf(format, args...)}
}

// MaxHeaderSize bounds the JSON header (the same limit as the safetensors library).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key of the string-to-string metadata.
const metadataKey = "__metadata__"

// Named is a tensor with its name.
type Named struct {
	Name string
	T    *tensor.Tensor
}

// File is the content of a safetensors file.
type File struct {
	Names   []string                  // tensor names in file (data offset) order
	Tensors map[string]*tensor.Tensor // tensors converted to float32
	DTypes  map[string]string         // dtype of each tensor in the file ("F32", "I64", ...)
	Meta    map[string]string         // the __metadata__ map; empty if absent
}

// Named returns the tensors in file order.
func (f *File) Named() []Named {
	out := make([]Named, len(f.Names))
	for i, n := range f.Names {
		out[i] = Named{n, f.Tensors[n]}
	}
	return out
}

// dtype sizes in bytes.
var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
	"U16": 2, "U32": 4, "U64": 8,
}

// Encode writes tensors (as F32, in the order given) and meta in safetensors format to w.
// Names must be non-empty, unique and not "__metadata__"; tensors must be non-nil.
func Encode(w io.Writer, tensors []Named, meta map[string]string) error {
	header, err := encodeHeader(tensors, meta)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	// Convert in chunks through one scratch buffer.
	const chunk = 1 << 14
	buf := make([]byte, 4*chunk)
	for _, nt := range tensors {
		data := nt.T.Contiguous().Data()
		for len(data) > 0 {
			m := min(len(data), chunk)
			for i, v := range data[:m] {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if _, err := w.Write(buf[:4*m]); err != nil {
				return err
			}
			data = data[m:]
		}
	}
	return nil
}

func encodeHeader(tensors []Named, meta map[string]string) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	comma := func() {
		if !first {
			h.WriteByte(',')
		}
		first = false
	}
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		comma()
		h.WriteString(`"` + metadataKey + `":{`)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, meta[k])
		}
		h.WriteByte('}')
	}
	seen := make(map[string]bool, len(tensors))
	off := int64(0)
	for i, nt := range tensors {
		switch {
		case nt.Name == "":
			return nil, fmt.Errorf("checkpoint: %w: tensor %d has an empty name", ErrName, i)
		case nt.Name == metadataKey:
			return nil, fmt.Errorf("checkpoint: %w: tensor %d is named %q, which is reserved", ErrName, i, metadataKey)
		case seen[nt.Name]:
			return nil, fmt.Errorf("checkpoint: %w: name %q is used by more than one tensor", ErrName, nt.Name)
		case nt.T == nil:
			return nil, fmt.Errorf("checkpoint: tensor %q is nil", nt.Name)
		}
		seen[nt.Name] = true
		end := off + 4*int64(nt.T.Len())
		comma()
		writeJSONString(&h, nt.Name)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range nt.T.Shape() {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		h.WriteString(`],"data_offsets":[` + strconv.FormatInt(off, 10) + "," + strconv.FormatInt(end, 10) + "]}")
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// Save writes tensors and meta to path atomically (see the package doc). On error the
// previous content of path, if any, is unchanged and no temporary file is left behind.
func Save(path string, tensors []Named, meta map[string]string) error {
	if _, err := encodeHeader(tensors, meta); err != nil {
		return &FileError{File: path, Err: errors.Unwrap(err), Msg: err.Error()}
	}
	return writeAtomic(path, func(w io.Writer) error { return Encode(w, tensors, meta) })
}

// WriteFileAtomic writes a file of any kind the way Save writes checkpoints: into a
// temporary file next to path, synced, then renamed over path, so that a crash or a full
// disk leaves either the old file or the new one, never a part (internal/fsafe.WriteFile).
func WriteFileAtomic(path string, write func(io.Writer) error) error { return writeAtomic(path, write) }

// writeAtomic is fsafe.WriteFile with its errors as *FileError.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := fsafe.WriteFile(path, write); err != nil {
		var fe *fsafe.Error
		if errors.As(err, &fe) {
			return &FileError{File: path, Err: fe.Err, Msg: fe.Op + " " + fe.Path}
		}
		return &FileError{File: path, Err: err}
	}
	return nil
}

// MaxFileSize bounds the size of a safetensors file Load reads (64 GiB).
const MaxFileSize = 64 << 30

// Load reads and validates the safetensors file at path.
func Load(path string) (*File, error) {
	b, err := fsafe.ReadFile(path, MaxFileSize)
	if err != nil {
		var fe *fsafe.Error
		if errors.As(err, &fe) {
			err = fe.Err // the FileError names the file already
		}
		return nil, &FileError{File: path, Err: err}
	}
	return Parse(path, b)
}

// Read reads a whole safetensors stream from r (at most MaxFileSize bytes) and parses it.
func Read(r io.Reader) (*File, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &FileError{File: "(reader)", Err: err}
	}
	if int64(len(b)) > MaxFileSize {
		return nil, fileErr("(reader)", ErrHeader, "stream is longer than the %d-byte limit", int64(MaxFileSize))
	}
	return Parse("(reader)", b)
}

// tensorInfo is one header entry.
type tensorInfo struct {
	name  string
	dtype string
	shape []int
	begin int64
	end   int64
	order int // position in the header
}

// Parse parses the bytes of a safetensors file; name is used in errors.
func Parse(name string, b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fileErr(name, ErrTruncated, "file has %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fileErr(name, ErrHeader, "header length %d exceeds the limit of %d", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, fileErr(name, ErrTruncated, "header length %d is larger than the %d bytes after it", n, len(b)-8)
	}
	header := b[8 : 8+n]
	buf := b[8+n:]
	infos, meta, err := parseHeader(name, header)
	if err != nil {
		return nil, err
	}
	// Validate offsets: sorted by begin they must tile [0, len(buf)) exactly.
	sorted := slices.Clone(infos)
	slices.SortStableFunc(sorted, func(a, b tensorInfo) int {
		if a.begin != b.begin {
			return cmpInt64(a.begin, b.begin)
		}
		return cmpInt64(a.end, b.end)
	})
	pos := int64(0)
	for _, ti := range sorted {
		if ti.begin != pos {
			if ti.begin < pos {
				return nil, fileErr(name, ErrOffsets, "tensor %q data_offsets [%d, %d] overlap the previous tensor, which ends at %d", ti.name, ti.begin, ti.end, pos)
			}
			return nil, fileErr(name, ErrOffsets, "tensor %q begins at %d, leaving a hole after %d", ti.name, ti.begin, pos)
		}
		if ti.end > int64(len(buf)) {
			return nil, fileErr(name, ErrTruncated, "tensor %q data_offsets [%d, %d] beyond the %d bytes of data", ti.name, ti.begin, ti.end, len(buf))
		}
		pos = ti.end
	}
	if pos != int64(len(buf)) {
		return nil, fileErr(name, ErrOffsets, "tensors use %d bytes of data but the file holds %d", pos, len(buf))
	}
	f := &File{
		Names:   make([]string, len(sorted)),
		Tensors: make(map[string]*tensor.Tensor, len(sorted)),
		DTypes:  make(map[string]string, len(sorted)),
		Meta:    meta,
	}
	for i, ti := range sorted {
		f.Names[i] = ti.name
		f.DTypes[ti.name] = ti.dtype
		f.Tensors[ti.name] = tensor.FromSlice(convert(ti.dtype, buf[ti.begin:ti.end]), ti.shape...)
	}
	return f, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseHeader decodes the JSON header keeping the key order and rejecting duplicates.
func parseHeader(name string, header []byte) ([]tensorInfo, map[string]string, error) {
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fileErr(name, ErrHeader, "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	bad := func(format string, args ...any) error {
		return fileErr(name, ErrHeader, format, args...)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, bad("invalid JSON: %v", err)
	}
	meta := map[string]string{}
	var infos []tensorInfo
	seen := map[string]bool{}
	sawMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad("invalid JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, bad("invalid JSON key %v", tok)
		}
		if key == metadataKey {
			if sawMeta {
				return nil, nil, fileErr(name, ErrName, "%q appears twice", metadataKey)
			}
			sawMeta = true
			var raw map[string]any
			if err := dec.Decode(&raw); err != nil {
				return nil, nil, bad("%s is not a JSON object: %v", metadataKey, err)
			}
			for k, v := range raw {
				s, ok := v.(string)
				if !ok {
					return nil, nil, bad("%s[%q] is %v, want a string", metadataKey, k, v)
				}
				meta[k] = s
			}
			continue
		}
		if seen[key] {
			return nil, nil, fileErr(name, ErrName, "tensor %q appears twice in the header", key)
		}
		seen[key] = true
		var e struct {
			DType       *string `json:"dtype"`
			Shape       []any   `json:"shape"`
			DataOffsets []any   `json:"data_offsets"`
		}
		if err := dec.Decode(&e); err != nil {
			return nil, nil, bad("tensor %q: %v", key, err)
		}
		if key == "" {
			return nil, nil, fileErr(name, ErrName, "a tensor has an empty name")
		}
		if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, nil, bad("tensor %q needs dtype, shape and data_offsets", key)
		}
		size, ok := dtypeSize[*e.DType]
		if !ok {
			return nil, nil, fileErr(name, ErrDType, "tensor %q has dtype %q, want one of F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL", key, *e.DType)
		}
		ti := tensorInfo{name: key, dtype: *e.DType, order: len(infos)}
		elems := int64(1)
		for _, d := range e.Shape {
			v, ok := jsonUint(d)
			if !ok {
				return nil, nil, fileErr(name, ErrShape, "tensor %q shape %v: dimensions must be non-negative integers", key, e.Shape)
			}
			if v != 0 && elems > math.MaxInt32*int64(64)/v {
				return nil, nil, fileErr(name, ErrShape, "tensor %q shape %v is impossibly large", key, e.Shape)
			}
			elems *= v
			ti.shape = append(ti.shape, int(v))
		}
		if len(e.DataOffsets) != 2 {
			return nil, nil, bad("tensor %q data_offsets %v, want [begin, end]", key, e.DataOffsets)
		}
		begin, ok1 := jsonUint(e.DataOffsets[0])
		end, ok2 := jsonUint(e.DataOffsets[1])
		if !ok1 || !ok2 || end < begin {
			return nil, nil, fileErr(name, ErrOffsets, "tensor %q data_offsets %v, want non-negative integers with begin <= end", key, e.DataOffsets)
		}
		ti.begin, ti.end = begin, end
		if end-begin != elems*int64(size) {
			return nil, nil, fileErr(name, ErrShape, "tensor %q of dtype %s and shape %v needs %d bytes, data_offsets [%d, %d] hold %d",
				key, ti.dtype, ti.shape, elems*int64(size), begin, end, end-begin)
		}
		infos = append(infos, ti)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, bad("invalid JSON: %v", err)
	}
	// Only padding may follow the object.
	for _, c := range header[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, nil, bad("unexpected bytes after the JSON object")
		}
	}
	return infos, meta, nil
}

// jsonUint returns v as a non-negative integer below 2^53.
func jsonUint(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i < 0 || i > 1<<53 {
		return 0, false
	}
	return i, true
}

// convert decodes little-endian values of dtype into float32.
func convert(dtype string, b []byte) []float32 {
	le := binary.LittleEndian
	out := make([]float32, len(b)/dtypeSize[dtype])
	switch dtype {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case "F64":
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case "F16":
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(b[2*i:]))
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	case "I64":
		for i := range out {
			out[i] = float32(int64(le.Uint64(b[8*i:])))
		}
	case "I32":
		for i := range out {
			out[i] = float32(int32(le.Uint32(b[4*i:])))
		}
	case "I16":
		for i := range out {
			out[i] = float32(int16(le.Uint16(b[2*i:])))
		}
	case "I8":
		for i := range out {
			out[i] = float32(int8(b[i]))
		}
	case "U8":
		for i := range out {
			out[i] = float32(b[i])
		}
	case "BOOL":
		for i := range out {
			if b[i] != 0 {
				out[i] = 1
			}
		}
	case "U16":
		for i := range out {
			out[i] = float32(le.Uint16(b[2*i:]))
		}
	case "U32":
		for i := range out {
			out[i] = float32(le.Uint32(b[4*i:]))
		}
	case "U64":
		for i := range out {
			out[i] = float32(le.Uint64(b[8*i:]))
		}
	}
	return out
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // zero
		return math.Float32frombits(sign)
	}
	// Subnormal: value = mant * 2^-24.
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}
