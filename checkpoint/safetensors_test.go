package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/tensor"
)

var update = flag.Bool("update", false, "rewrite testdata/go_small.safetensors")

func arange(n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)*scale - 1
	}
	return x
}

// smallModel returns tensors named like a PyTorch state_dict, including a non-contiguous
// view, a 0-d tensor and an empty one.
func smallModel() []Named {
	w := tensor.FromSlice(arange(12, 0.25), 3, 4)
	return []Named{
		{"layers.0.weight", tensor.FromSlice(arange(6, 0.5), 2, 3)},
		{"layers.0.bias", tensor.FromSlice([]float32{0.5, -0.125}, 2)},
		{"layers.2.weight", w.T()}, // non-contiguous view, shape [4, 3]
		{"layers.2.bias", tensor.FromSlice([]float32{float32(math.Inf(1)), float32(math.NaN()), -0.0, math.SmallestNonzeroFloat32}, 4)},
		{"scalar", tensor.Scalar(3.5)},
		{"empty", tensor.New(0, 5)},
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	in := smallModel()
	meta := map[string]string{"epoch": "3", "format": "pt", "quote\"key": "ü\n"}
	if err := Save(path, in, meta); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, nt := range in {
		names = append(names, nt.Name)
	}
	if !slices.Equal(f.Names, names) {
		t.Errorf("names %v, want %v", f.Names, names)
	}
	for _, nt := range in {
		got := f.Tensors[nt.Name]
		if !slices.Equal(got.Shape(), nt.T.Shape()) || !sameBits(got.Data(), nt.T.Contiguous().Data()) {
			t.Errorf("%s: got %v %v, want %v %v", nt.Name, got.Shape(), got.Data(), nt.T.Shape(), nt.T.Contiguous().Data())
		}
		if f.DTypes[nt.Name] != "F32" {
			t.Errorf("%s: dtype %s, want F32", nt.Name, f.DTypes[nt.Name])
		}
	}
	if len(f.Meta) != len(meta) {
		t.Errorf("meta %v, want %v", f.Meta, meta)
	}
	for k, v := range meta {
		if f.Meta[k] != v {
			t.Errorf("meta[%q] = %q, want %q", k, f.Meta[k], v)
		}
	}
	b, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(b); (8+n)%8 != 0 {
		t.Errorf("header length %d not padded to 8-byte alignment", n)
	}
	if f2, err := Read(bytes.NewReader(b)); err != nil || !slices.Equal(f2.Names, names) {
		t.Errorf("Read: %v", err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
}

func TestSaveWithoutMeta(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, []Named{{"w", tensor.FromSlice([]float32{1, 2}, 2)}}, nil); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	header := strings.TrimRight(string(buf.Bytes()[8:8+n]), " ")
	if want := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`; header != want {
		t.Errorf("header %s, want %s", header, want)
	}
	f, err := Parse("x", buf.Bytes())
	if err != nil || len(f.Meta) != 0 {
		t.Errorf("got %v, meta %v", err, f.Meta)
	}
}

// TestGoldenGoWriter pins the bytes Save writes; tools/golden/safetensors_check.py read
// checks that PyTorch reads this file (run it after -update).
func TestGoldenGoWriter(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, smallModel(), map[string]string{"format": "pt", "producer": "temper"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "go_small.safetensors")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Encode output differs from %s (run go test -update after checking it with the Python script)", path)
	}
}

// TestTorchFixture reads a file written by tools/golden/safetensors_check.py from a
// PyTorch state_dict (with I64, F64, F16 and BF16 tensors).
func TestTorchFixture(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "torch_small.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "torch_small.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Names   []string
		Meta    map[string]string
		Tensors map[string]struct {
			DType  string
			Shape  []int
			Values []float64
		}
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Names, want.Names) {
		t.Errorf("names %v, want %v", f.Names, want.Names)
	}
	if f.Meta["format"] != "pt" {
		t.Errorf("meta %v, want format=pt", f.Meta)
	}
	for name, w := range want.Tensors {
		got, ok := f.Tensors[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if f.DTypes[name] != w.DType || !slices.Equal(got.Shape(), w.Shape) {
			t.Errorf("%s: %s %v, want %s %v", name, f.DTypes[name], got.Shape(), w.DType, w.Shape)
			continue
		}
		for i, v := range got.Data() {
			if v != float32(w.Values[i]) {
				t.Errorf("%s[%d] = %v, want %v", name, i, v, float32(w.Values[i]))
			}
		}
	}
}

func TestHalfToFloat32(t *testing.T) {
	for h := range 1 << 16 {
		s, e, m := h>>15, (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case e == 0x1f && m == 0:
			want = math.Inf(1)
		case e == 0x1f:
			want = math.NaN()
		case e == 0:
			want = math.Ldexp(float64(m), -24)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := halfToFloat32(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("%#04x: got %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (s == 1) {
			t.Fatalf("%#04x: got %v, want %v", h, got, want)
		}
	}
}

// rawFile builds a safetensors file from a header string and a data buffer.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestParseErrors(t *testing.T) {
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "shorter than the 8-byte"},
		{"short", []byte{1, 0, 0}, ErrTruncated, "shorter than the 8-byte"},
		{"header beyond file", rawFile(`{}`, nil)[:9], ErrTruncated, "header length 2 is larger than the 1 bytes"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<62), ErrHeader, "exceeds the limit"},
		{"not an object", rawFile(`[1]`, nil), ErrHeader, "does not start with '{'"},
		{"bad JSON", rawFile(`{"a":{"dtype":"F32",}`, nil), ErrHeader, "tensor \"a\""},
		{"cut JSON", rawFile(`{"a":`, nil), ErrHeader, ""},
		{"trailing garbage", rawFile(`{} x`, nil), ErrHeader, "after the JSON object"},
		{"missing field", rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, f32(1)), ErrHeader, "needs dtype, shape and data_offsets"},
		{"wrong field type", rawFile(`{"a":{"dtype":3,"shape":[1],"data_offsets":[0,4]}}`, f32(1)), ErrHeader, "tensor \"a\""},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), ErrDType, `dtype "F8"`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32(1)), ErrShape, "non-negative integers"},
		{"fractional dim", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, f32(1)), ErrShape, "non-negative integers"},
		{"huge shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, f32(1)), ErrShape, "impossibly large"},
		{"shape vs offsets", rawFile(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}`, f32(3)), ErrShape, "needs 16 bytes"},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32(2)), ErrOffsets, "begin <= end"},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32(2)), ErrHeader, "want [begin, end]"},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1)), ErrTruncated, "beyond the 4 bytes"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32(3)), ErrOffsets, "overlap"},
		{"hole", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32(3)), ErrOffsets, "leaving a hole"},
		{"unused bytes", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(2)), ErrOffsets, "use 4 bytes of data but the file holds 8"},
		{"duplicate", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(2)), ErrName, `"a" appears twice`},
		{"empty name", rawFile(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1)), ErrName, "empty name"},
		{"meta not strings", rawFile(`{"__metadata__":{"a":1}}`, nil), ErrHeader, "want a string"},
		{"meta not object", rawFile(`{"__metadata__":[]}`, nil), ErrHeader, "not a JSON object"},
		{"meta twice", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrName, "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("dir/m.safetensors", tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "dir/m.safetensors") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name the file and %q", err, tc.msg)
			}
		})
	}
}

func TestLoadTruncatedFile(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, smallModel(), nil); err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	dir := t.TempDir()
	for _, cut := range []int{0, 4, 8, 20, len(full) / 2, len(full) - 1} {
		p := filepath.Join(dir, "cut.safetensors")
		os.WriteFile(p, full[:cut], 0o644)
		if _, err := Load(p); !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrOffsets) {
			t.Errorf("cut at %d of %d: got %v, want a truncation error", cut, len(full), err)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %s", err, p)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func TestSaveRejectsBadNames(t *testing.T) {
	x := tensor.FromSlice([]float32{1}, 1)
	for _, tc := range []struct {
		name    string
		tensors []Named
	}{
		{"duplicate", []Named{{"a", x}, {"b", x}, {"a", x}}},
		{"empty", []Named{{"", x}}},
		{"reserved", []Named{{"__metadata__", x}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.safetensors")
			os.WriteFile(path, []byte("old"), 0o644)
			err := Save(path, tc.tensors, nil)
			if !errors.Is(err, ErrName) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want ErrName naming the file", err)
			}
			if b, _ := os.ReadFile(path); string(b) != "old" {
				t.Errorf("old file changed to %q", b)
			}
		})
	}
	if err := Save(filepath.Join(t.TempDir(), "m"), []Named{{"a", nil}}, nil); err == nil {
		t.Error("nil tensor accepted")
	}
}

// failingWriter writes some bytes and then fails, like a full disk or a crash mid-write.
func TestSaveAtomicOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := Save(path, smallModel(), nil); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	boom := errors.New("disk full")
	err := writeAtomic(path, func(w io.Writer) error {
		w.Write([]byte("partial garbage"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want the write error naming the file", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Fatal("the previous file was changed by a failed save")
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("previous file no longer loads: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only model.safetensors (temporary file left behind)", names)
	}
	// A save into a missing folder fails cleanly.
	if err := Save(filepath.Join(dir, "no", "m"), smallModel(), nil); err == nil {
		t.Error("save into a missing folder succeeded")
	}
}

func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, smallModel(), map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	if b, err := os.ReadFile(filepath.Join("testdata", "torch_small.safetensors")); err == nil {
		f.Add(b)
	}
	f.Add(rawFile(`{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, []byte{1, 2, 3, 4}))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse("fuzz", b)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			return
		}
		if len(file.Names) != len(file.Tensors) {
			t.Fatalf("%d names, %d tensors", len(file.Names), len(file.Tensors))
		}
		total := 0
		for _, n := range file.Names {
			total += file.Tensors[n].Len()
		}
		if total > len(b) {
			t.Fatalf("%d values from %d bytes", total, len(b))
		}
		// What loads must survive a round trip through the writer.
		var out bytes.Buffer
		if err := Encode(&out, file.Named(), file.Meta); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again", out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again.Names, file.Names) {
			t.Fatalf("names %v after a round trip, want %v", again.Names, file.Names)
		}
	})
}

// BenchmarkSaveLoadMLP saves and loads the 669,706 parameters of the reference MLP.
func BenchmarkSaveLoadMLP(b *testing.B) {
	tensors := []Named{
		{"1.weight", tensor.New(512, 784)}, {"1.bias", tensor.New(512)},
		{"4.weight", tensor.New(512, 512)}, {"4.bias", tensor.New(512)},
		{"7.weight", tensor.New(10, 512)}, {"7.bias", tensor.New(10)},
	}
	path := filepath.Join(b.TempDir(), "mlp.safetensors")
	b.SetBytes(4 * 669706)
	for b.Loop() {
		if err := Save(path, tensors, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
