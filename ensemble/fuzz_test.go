package ensemble_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/temperml/temper/ensemble"
)

// FuzzReadManifest: any bytes as ensemble.json give a manifest or an error, never a
// panic, and an accepted manifest's member paths stay inside its folder.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"format":"temper-ensemble/1","kind":"independent","combine":"probabilities","members":[{"name":"m0","path":"member-0/model.safetensors","sha256":"` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `","model":"mlp","in_shape":[1,28,28],"classes":10,"seed":1}]}`))
	f.Add([]byte(`{"members":[{"path":"../../etc/passwd"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ensemble.ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		man, err := ensemble.ReadManifest(dir)
		if err != nil {
			return
		}
		for _, m := range man.Members {
			if !filepath.IsLocal(filepath.FromSlash(m.Path)) {
				t.Fatalf("accepted member path %q outside the folder", m.Path)
			}
		}
		ensemble.Verify(dir) // members missing: an error, not a panic
	})
}
