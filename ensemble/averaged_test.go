package ensemble_test

import (
	"math"
	"testing"

	"github.com/temperml/temper/average"
	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/train"
)

// An averaged model saved with SaveAveraged reloads as a member holding the averaged
// weights; a path outside the folder and a non-finite weight are refused.
func TestSaveAveragedMember(t *testing.T) {
	m := buildModel(t, 1)
	swa, err := average.NewSWA(m, average.SWAConfig{Start: 1, Every: 1})
	if err != nil {
		t.Fatal(err)
	}
	for epoch := 1; epoch <= 2; epoch++ {
		for _, p := range nn.Params(m) {
			p.Value.Fill(float32(epoch))
		}
		if err := swa.AfterEpoch(nil, &train.EpochRecord{Epoch: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	mb := ensemble.Member{Name: "swa", Path: "swa.safetensors", Model: "ensemble-test-bn", InShape: []int{8}, Classes: 3}
	if err := ensemble.SaveAveraged(dir, &mb, swa.StateDict(), nil); err != nil || len(mb.SHA256) != 64 {
		t.Fatalf("SaveAveraged: %v, sha %q", err, mb.SHA256)
	}
	man := &ensemble.Manifest{Kind: ensemble.KindIndependent, Members: []ensemble.Member{mb}}
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	e, _, err := ensemble.Load(dir, nil, ensemble.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.Params(e.Members[0]) {
		if got := p.Value.Data()[0]; got != 1.5 {
			t.Fatalf("reloaded %s = %v, want the average 1.5", p.Name, got)
		}
	}
	if err := ensemble.SaveAveraged(dir, &ensemble.Member{Path: "../x"}, swa.StateDict(), nil); err == nil {
		t.Error("SaveAveraged outside the folder: no error")
	}
	sd := swa.StateDict()
	sd[0].T.Data()[0] = float32(math.NaN())
	if err := ensemble.SaveAveraged(dir, &ensemble.Member{Name: "bad", Path: "bad.safetensors"}, sd, nil); err == nil {
		t.Error("non-finite weight: no error")
	}
}
