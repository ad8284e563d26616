package recipe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/internal/fsafe"
	"github.com/temperml/temper/train"
)

// OutMode says what Build does with an output folder that already holds a run's files.
type OutMode int

const (
	// OutNew refuses a folder holding another run's results (ErrOutInUse).
	OutNew OutMode = iota
	// OutOverwrite removes the earlier run's files (RunFiles) before training, so nothing
	// of it is left beside the new run's files, even if the new run is killed.
	OutOverwrite
	// OutResume keeps them: Run.Resume continues that run in the same folder.
	OutResume
)

// RunFiles are the files (glob patterns) a run writes into its output folder besides
// the lock file: an earlier run's are what OutNew refuses and OutOverwrite removes. An
// ensemble's member folders (member-*) are removed whole by OutOverwrite.
var RunFiles = []string{ModelFile, BestFile, "model_ema.safetensors", "model_swa.safetensors",
	train.StateFile, train.MetricsFile, SummaryFile, ensemble.ManifestFile, "snapshot-*.safetensors", "member-*"}

// ErrOutInUse is wrapped by the error of Build on an output folder that holds another
// run's results in OutNew mode.
var ErrOutInUse = errors.New("holds the results of another run")

// OutDirError names the folder and the earlier run's files found in it.
type OutDirError struct {
	Dir   string
	Files []string
}

func (e *OutDirError) Error() string {
	return fmt.Sprintf("recipe: output folder %s %v (%s); overwrite them (OutOverwrite) or resume that run (OutResume)",
		e.Dir, ErrOutInUse, strings.Join(e.Files, ", "))
}

// Unwrap returns ErrOutInUse.
func (e *OutDirError) Unwrap() error { return ErrOutInUse }

// OutDir is an output folder claimed for one run: locked exclusively until Release (the
// lock dies with the process, so a crash never leaves it held), with the temporary files
// of earlier crashed writes removed.
type OutDir struct {
	Dir string
	// Stale are the temporary files of an earlier killed run that were removed.
	Stale []string
	// Removed are the earlier run's files that OutOverwrite removed.
	Removed []string
	lock    *fsafe.Lock
	created []string // the folders ClaimOutDir created, Dir first
}

// ClaimOutDir creates dir if needed, locks it for this process (a *fsafe.LockedError,
// wrapping fsafe.ErrLocked, names the holder if another process has it), removes stale
// temporary files, and applies mode to an earlier run's files. holder describes this
// run in the lock file (e.g. its command line); empty: the process's arguments.
func ClaimOutDir(dir string, mode OutMode, holder string) (*OutDir, error) {
	if holder == "" {
		holder = strings.Join(os.Args, " ")
	}
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			break
		}
		created = append(created, d)
	}
	l, err := fsafe.LockDir(dir, holder)
	if err != nil {
		return nil, fmt.Errorf("recipe: output folder: %w", err)
	}
	o := &OutDir{Dir: dir, lock: l, created: created}
	fail := func(err error) (*OutDir, error) {
		l.Unlock()
		return nil, err
	}
	if o.Stale, err = fsafe.RemoveStale(dir); err != nil {
		return fail(fmt.Errorf("recipe: output folder: %w", err))
	}
	var found []string
	for _, pat := range RunFiles {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, p := range m {
			found = append(found, filepath.Base(p))
		}
	}
	switch mode {
	case OutNew:
		if len(found) > 0 {
			return fail(&OutDirError{Dir: dir, Files: found})
		}
	case OutOverwrite:
		// The checkpoint goes first: a kill part-way leaves no resumable state of the
		// old run beside a new one's.
		for _, n := range append([]string{train.StateFile}, found...) {
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fail(fmt.Errorf("recipe: output folder: %w", err))
			}
		}
		o.Removed = found
	}
	return o, nil
}

// abandon releases a claim and, when the run left nothing in the folder (Build failed,
// or Fit stopped before writing a file), removes the folders the claim created (each
// only if empty), so a failed start leaves nothing behind. The lock file goes first, while
// the lock is held — a process that opened it before sees it locked and stops; one that
// comes later creates a new one, and the folder is then not empty and stays.
func (o *OutDir) abandon() error {
	if o == nil {
		return nil
	}
	if len(o.created) == 0 {
		return o.Release()
	}
	if ents, err := os.ReadDir(o.Dir); err != nil || len(ents) != 1 || ents[0].Name() != fsafe.LockFile {
		return o.Release()
	}
	os.Remove(filepath.Join(o.Dir, fsafe.LockFile))
	err := o.Release()
	for _, d := range o.created {
		os.Remove(d) // only if empty
	}
	return err
}

// Release unlocks the folder; a nil OutDir is a no-op.
func (o *OutDir) Release() error {
	if o == nil {
		return nil
	}
	return o.lock.Unlock()
}
