package kernel

import (
	"testing"
	"unsafe"
)

// TestUpdateCoefLayout pins the field offsets optimupdate_amd64.s reads: field i of
// AdamCoef and RMSCoef at byte 4·i.
func TestUpdateCoefLayout(t *testing.T) {
	var a AdamCoef
	var r RMSCoef
	for name, offs := range map[string][]uintptr{
		"AdamCoef": {unsafe.Offsetof(a.B1), unsafe.Offsetof(a.OmB1), unsafe.Offsetof(a.B2), unsafe.Offsetof(a.OmB2),
			unsafe.Offsetof(a.Eps), unsafe.Offsetof(a.BC2S), unsafe.Offsetof(a.Step), unsafe.Offsetof(a.WD), unsafe.Offsetof(a.Decay)},
		"RMSCoef": {unsafe.Offsetof(r.Alpha), unsafe.Offsetof(r.OmA), unsafe.Offsetof(r.Eps), unsafe.Offsetof(r.Mom),
			unsafe.Offsetof(r.LR), unsafe.Offsetof(r.WD)},
	} {
		for i, off := range offs {
			if off != uintptr(4*i) {
				t.Errorf("%s field %d at offset %d, want %d", name, i, off, 4*i)
			}
		}
	}
}

// TestUpdatePrefixGeneric: the generic path has no vector update loops, so every Prefix
// function reports 0 and touches nothing.
func TestUpdatePrefixGeneric(t *testing.T) {
	defer func(im *implementation) { impl = im }(impl)
	impl = generic
	p := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	g := make([]float32, len(p))
	if n := SGDPlainPrefix(p, g, -0.1, 0); n != 0 {
		t.Fatalf("generic SGDPlainPrefix handled %d values, want 0", n)
	}
	if n := AdamPrefix(p, g, g, g, &AdamCoef{}); n != 0 {
		t.Fatalf("generic AdamPrefix handled %d values, want 0", n)
	}
}
