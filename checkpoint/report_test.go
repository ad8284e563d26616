package checkpoint_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
)

// small is the model of testdata/torch_small.safetensors: Linear(3,4), BatchNorm1d(4),
// ReLU, Linear(4,2) with PyTorch's indices.
func small(t *testing.T, out int) nn.Module {
	t.Helper()
	r := rng.New(3)
	bn, err := nn.NewBatchNorm1D(4, nn.BatchNormConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return nn.NewSequential(nn.NewLinear(3, 4, r, nn.LinearConfig{}), bn, nn.ReLU{}, nn.NewLinear(4, out, r, nn.LinearConfig{}))
}

type rawTensor struct {
	name, dtype string
	shape       []int
	vals        []float64
}

// encodeRaw writes a safetensors file with tensors in the given dtypes.
func encodeRaw(t *testing.T, ts []rawTensor) *checkpoint.File {
	t.Helper()
	header := map[string]any{}
	var data []byte
	le := binary.LittleEndian
	for _, x := range ts {
		begin := len(data)
		for _, v := range x.vals {
			switch x.dtype {
			case "F32":
				data = le.AppendUint32(data, math.Float32bits(float32(v)))
			case "F64":
				data = le.AppendUint64(data, math.Float64bits(v))
			case "BF16":
				data = le.AppendUint16(data, uint16(math.Float32bits(float32(v))>>16))
			case "F16": // exact for the small dyadic values used here
				data = le.AppendUint16(data, f16(float32(v)))
			case "I64":
				data = le.AppendUint64(data, uint64(int64(v)))
			}
		}
		header[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int{begin, len(data)}}
	}
	h, _ := json.Marshal(header)
	var b bytes.Buffer
	binary.Write(&b, le, uint64(len(h)))
	b.Write(h)
	b.Write(data)
	f, err := checkpoint.Parse("raw", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// f16 converts a normal float32 with a short mantissa to binary16.
func f16(v float32) uint16 {
	b := math.Float32bits(v)
	if v == 0 {
		return uint16(b >> 16 & 0x8000)
	}
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(b>>13&0x3ff)
}

func vals(n int, start float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = start + 0.25*float64(i)
	}
	return v
}

func TestLoadReportCategories(t *testing.T) {
	m := small(t, 3) // a 3-class head: the file's 2-class head mismatches
	f := encodeRaw(t, []rawTensor{
		{"module.0.weight", "F64", []int{4, 3}, vals(12, -1)},
		{"module.0.bias", "F16", []int{4}, vals(4, 0.5)},
		{"module._orig_mod.1.weight", "BF16", []int{4}, vals(4, 1)},
		{"module.1.bias", "F32", []int{4}, vals(4, 0)},
		{"module.1.running_mean", "F32", []int{4}, vals(4, 0)},
		{"module.1.running_var", "F32", []int{4}, vals(4, 1)},
		{"module.3.weight", "F32", []int{2, 4}, vals(8, 0)},
		{"module.3.bias", "F32", []int{2}, vals(2, 0)},
		{"module.extra", "F32", []int{1}, vals(1, 0)},
	})
	before := slices.Clone(nn.Params(m)[4].Value.Data()) // 3.weight
	// Strict by default: the head mismatch fails and nothing changes.
	if _, err := checkpoint.LoadInto(m, f, checkpoint.LoadOptions{}); !errors.Is(err, checkpoint.ErrLoad) || !strings.Contains(err.Error(), "new head") {
		t.Fatalf("strict load with a mismatched head: %v, want ErrLoad asking for a new head", err)
	}
	w := nn.Params(m)[0].Value.Data()
	if w[0] == -1 {
		t.Fatal("a failed load changed the model")
	}
	rep, err := checkpoint.LoadInto(m, f, checkpoint.LoadOptions{NonStrict: true, ReinitMismatched: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stripped != 9 {
		t.Errorf("stripped %d names, want 9", rep.Stripped)
	}
	if want := []string{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"}; !slices.Equal(rep.Loaded, want) {
		t.Errorf("loaded %v, want %v", rep.Loaded, want)
	}
	if !slices.Equal(rep.Absent, []string{"1.num_batches_tracked"}) || len(rep.Missing) != 0 {
		t.Errorf("absent %v missing %v, want num_batches_tracked absent and nothing missing", rep.Absent, rep.Missing)
	}
	if !slices.Equal(rep.Unexpected, []string{"module.extra"}) {
		t.Errorf("unexpected %v", rep.Unexpected)
	}
	if len(rep.Mismatched) != 2 || !rep.Mismatched[0].Reinit || rep.Mismatched[0].Name != "3.weight" {
		t.Errorf("mismatched %+v, want 3.weight and 3.bias re-initialized", rep.Mismatched)
	}
	conv := map[string]string{}
	for _, c := range rep.Converted {
		conv[c.Name] = c.DType
	}
	if conv["0.weight"] != "F64" || conv["0.bias"] != "F16" || conv["1.weight"] != "BF16" || len(conv) != 3 {
		t.Errorf("conversions %v", conv)
	}
	if w[0] != -1 || w[11] != 1.75 || nn.Params(m)[1].Value.Data()[3] != 1.25 || nn.Params(m)[2].Value.Data()[0] != 1 {
		t.Errorf("values not loaded: 0.weight %v", w)
	}
	if got := nn.Params(m)[4].Value.Data(); !slices.Equal(got, before) {
		t.Errorf("re-initialized head changed: %v, want %v", got, before)
	}
	if c := rep.Coverage(); !(c > 0.5 && c < 1) {
		t.Errorf("coverage %v", c)
	}
	var out bytes.Buffer
	rep.Write(&out)
	for _, want := range []string{"6 tensors loaded", "1 unexpected", "2 shape-mismatched", "1 from BF16", "num_batches_tracked absent", "prefix (stripped)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoadReportTorchSmall(t *testing.T) {
	f, err := checkpoint.Load(filepath.Join("testdata", "torch_small.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	m := small(t, 2)
	if _, err := checkpoint.LoadInto(m, f, checkpoint.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Fatalf("strict load of a file with extra tensors: %v", err)
	}
	rep, err := checkpoint.LoadInto(m, f, checkpoint.LoadOptions{NonStrict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Loaded) != 9 || len(rep.Unexpected) != 5 || rep.Coverage() != 1 {
		t.Errorf("loaded %v unexpected %v coverage %v", rep.Loaded, rep.Unexpected, rep.Coverage())
	}
	if !slices.Contains(rep.Converted, checkpoint.Conversion{Name: "1.num_batches_tracked", DType: "I64"}) {
		t.Errorf("conversions %v, want num_batches_tracked from I64", rep.Converted)
	}
}

func TestLoadAnotherArchitecture(t *testing.T) {
	f, err := checkpoint.Load(filepath.Join("testdata", "tv_resnet18.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = checkpoint.LoadInto(small(t, 2), f, checkpoint.LoadOptions{NonStrict: true})
	if !errors.Is(err, checkpoint.ErrLoad) || !strings.Contains(err.Error(), "another architecture") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("resnet18 weights into an MLP: %v, want a one-line 'another architecture' error", err)
	}
}
