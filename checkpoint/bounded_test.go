package checkpoint

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/temperml/temper/tensor"
)

func TestLoadDevice(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/zero")
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("Load(/dev/zero) err = %v, want one naming a device", err)
	}
	p := filepath.Join(t.TempDir(), "model.safetensors")
	os.Symlink("/dev/zero", p)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("Load(link to /dev/zero) err = %v, want one naming a device", err)
	}
}

// A header declaring more bytes than the file holds is refused before it is read, and
// tensors declaring more data than the file has are refused before conversion.
func TestLoadOverDeclared(t *testing.T) {
	dir := t.TempDir()
	b := make([]byte, 8, 64)
	binary.LittleEndian.PutUint64(b, 1<<26)
	b = append(b, []byte("{}      ")...)
	p := filepath.Join(dir, "a.safetensors")
	os.WriteFile(p, b, 0o644)
	if _, err := Load(p); !errors.Is(err, ErrTruncated) {
		t.Fatalf("header length 2^26 in a 16-byte file: err = %v, want ErrTruncated", err)
	}
	h := []byte(`{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	b = binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(append(b, h...), make([]byte, 16)...)
	os.WriteFile(p, b, 0o644)
	if _, err := Load(p); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "beyond the 16 bytes") {
		t.Fatalf("tensor of 4e9 bytes in a file of 16: err = %v, want ErrTruncated", err)
	}
}

func TestCheckFinite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	w := tensor.FromSlice([]float32{1, 2, float32(math.NaN())}, 3)
	if err := Save(p, []Named{{Name: "0.weight", T: tensor.FromSlice([]float32{1}, 1)}, {Name: "1.weight", T: w}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckFinite(p); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `"1.weight"`) || !strings.Contains(err.Error(), "index 2") {
		t.Fatalf("CheckFinite = %v, want ErrNonFinite naming 1.weight index 2", err)
	}
}
