package recipe_test

import (
	"testing"

	"github.com/temperml/temper/recipe"
)

// FuzzParse: any bytes give a valid recipe or an error, never a panic; an accepted
// recipe validates and survives a Marshal/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	f.Add(recipe.Default().Marshal())
	r := recipe.Default()
	r.Model.Name, r.Averaging.EMA, r.Data.ValFraction = "cnn", 0.999, 0.1
	f.Add(r.Marshal())
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"epochs":9223372036854775807}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := recipe.Parse(b)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid recipe: %v", err)
		}
		r2, err := recipe.Parse(r.Marshal())
		if err != nil || len(recipe.Diff(r, r2)) != 0 {
			t.Fatalf("round trip: %v %v", err, recipe.Diff(r, r2))
		}
	})
}
