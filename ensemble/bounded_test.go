package ensemble_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/temperml/temper/ensemble"
)

// A manifest or a member that is a link to a device (/dev/zero) is refused by name,
// never read without end.
func TestManifestDevice(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/zero")
	}
	dir := t.TempDir()
	writeEnsemble(t, dir, 1, 2)
	m1 := filepath.Join(dir, "members", "m1.safetensors")
	os.Remove(m1)
	os.Symlink("/dev/zero", m1)
	for _, f := range []func() error{
		func() error { return ensemble.Verify(dir) },
		func() error { _, _, err := ensemble.Load(dir, nil, ensemble.Config{}); return err },
	} {
		err := f()
		var me *ensemble.MemberError
		if !errors.As(err, &me) || me.Index != 1 || !strings.Contains(err.Error(), "a device") {
			t.Fatalf("member linked to /dev/zero: err = %v, want a MemberError for member 1 naming a device", err)
		}
	}
	man := filepath.Join(dir, ensemble.ManifestFile)
	os.Remove(man)
	os.Symlink("/dev/zero", man)
	if _, err := ensemble.ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("manifest linked to /dev/zero: err = %v, want one naming a device", err)
	}
}

// A manifest over its size limit is refused before it is read.
func TestManifestTooLarge(t *testing.T) {
	dir := t.TempDir()
	f, _ := os.Create(filepath.Join(dir, ensemble.ManifestFile))
	f.Truncate(ensemble.MaxManifestBytes + 1) // sparse: no disk used
	f.Close()
	if _, err := ensemble.ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Fatalf("err = %v, want the size limit named", err)
	}
}
