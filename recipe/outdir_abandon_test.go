package recipe_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/temperml/temper/recipe"
)

// TestFailedBuildLeavesNoFolder: a run that cannot start (its data folder is empty) leaves
// no trace of the output folder it was to claim — neither the folder nor its parents
// that the claim created, nor a lock file — while a folder that existed before stays.
func TestFailedBuildLeavesNoFolder(t *testing.T) {
	root := t.TempDir()
	empty := t.TempDir()
	r := recipe.Default()
	r.Data.Source = "mnist:" + empty
	out := filepath.Join(root, "runs", "mlp")
	if _, err := r.Build(recipe.Options{OutDir: out}); err == nil {
		t.Fatal("Build with no data succeeded")
	}
	if _, err := os.Stat(filepath.Join(root, "runs")); !os.IsNotExist(err) {
		t.Fatalf("the failed start left %s behind (stat: %v)", filepath.Join(root, "runs"), err)
	}
	// A run that builds but stops before writing anything (Newton's N×N matrices over the
	// memory budget are found when it starts) leaves nothing either.
	n := recipe.Default()
	n.Optim.Name, n.Data.TrainSize = "newton", 10
	if run, err := n.Build(recipe.Options{OutDir: out}); err == nil {
		if _, err := run.Fit(context.Background()); err == nil {
			t.Fatal("Newton on the MLP started")
		}
		run.Close()
	}
	if _, err := os.Stat(filepath.Join(root, "runs")); !os.IsNotExist(err) {
		t.Fatalf("the failed run left %s behind (stat: %v)", filepath.Join(root, "runs"), err)
	}
	keep := filepath.Join(root, "keep")
	if err := os.Mkdir(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Build(recipe.Options{OutDir: keep}); err == nil {
		t.Fatal("Build with no data succeeded")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("an existing folder was removed: %v", err)
	}
}
