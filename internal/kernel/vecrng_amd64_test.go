package kernel

import (
	"testing"
	"unsafe"
)

// TestPCGLanesLayout pins the offsets vecrng_amd64.s reads the argument block at.
func TestPCGLanesLayout(t *testing.T) {
	var st pcgLanes
	got := []uintptr{unsafe.Offsetof(st.lo), unsafe.Offsetof(st.hi), unsafe.Offsetof(st.mulLo),
		unsafe.Offsetof(st.mulLo32), unsafe.Offsetof(st.mulHi), unsafe.Offsetof(st.incLo),
		unsafe.Offsetof(st.incHi), unsafe.Offsetof(st.dxsm), unsafe.Offsetof(st.one64), unsafe.Offsetof(st.low32)}
	want := []uintptr{0, 128, 256, 264, 272, 280, 288, 296, 304, 312}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pcgLanes field %d at offset %d, the assembly reads %d", i, got[i], want[i])
		}
	}
}
