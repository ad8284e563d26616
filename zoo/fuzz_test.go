package zoo_test

import (
	"testing"

	"github.com/temperml/temper/zoo"
)

// FuzzParseRegistry: any bytes give a registry or an error, never a panic, and a parsed
// registry survives Marshal and ParseRegistry again.
func FuzzParseRegistry(f *testing.F) {
	f.Add([]byte(`{"version": 1, "entries": []}`))
	f.Add([]byte(`{"version": 1, "entries": [{"name": "a"}, {"name": "a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := zoo.ParseRegistry(b)
		if err != nil {
			return
		}
		if _, err := zoo.ParseRegistry(r.Marshal()); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
