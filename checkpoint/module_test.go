package checkpoint

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
)

func TestSaveLoadModule(t *testing.T) {
	cfg := nn.ModelConfig{InShape: []int{1, 4, 4}, Classes: 3}
	a, err := nn.Build("mlp", cfg, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := nn.Build("mlp", cfg, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := SaveModule(path, a, map[string]string{"model": "mlp"}); err != nil {
		t.Fatal(err)
	}
	f, err := LoadModule(path, b, true)
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta["model"] != "mlp" {
		t.Errorf("meta %v", f.Meta)
	}
	sa, sb := nn.StateDict(a), nn.StateDict(b)
	for i := range sa {
		if sa[i].Name != sb[i].Name || f.Names[i] != sa[i].Name || !slices.Equal(sa[i].T.Data(), sb[i].T.Data()) {
			t.Errorf("%s differs after loading", sa[i].Name)
		}
	}
	// A model of another shape is rejected and left unchanged.
	c, err := nn.Build("mlp", nn.ModelConfig{InShape: []int{1, 5, 5}, Classes: 3}, rng.New(3))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(nn.StateDict(c)[0].T.Data())
	if _, err := LoadModule(path, c, true); !errors.Is(err, ErrMissing) {
		t.Errorf("got %v, want ErrMissing", err)
	}
	if !slices.Equal(before, nn.StateDict(c)[0].T.Data()) {
		t.Error("a failed load changed the model")
	}
}
