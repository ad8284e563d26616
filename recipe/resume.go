package recipe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/temperml/temper/train"
)

// What may change when a run is resumed (ResumeRecipe, Run.Resume). Anything else —
// data, model, optimizer and its hyperparameters, batch, schedule, regularizers,
// augmentation, averaging, seed — would make the resumed run a different run from the
// one its checkpoint belongs to, so it is refused:
//
//   - epochs: more than the checkpoint has completed (fewer is refused: those epochs are
//     trained already). A schedule that depends on the total (onecycle, cosine, ...)
//     is recomputed for the new total, so its learning rate jumps at the resume.
//   - threads: results stay correct; they are bit-identical to an uninterrupted run
//     only with the same thread count.
//   - optim.lr: lower only, and only when the run stopped on a non-finite loss or
//     weights after its checkpoint (train.StateInfo.NonFinite): the way out that the
//     NaN error suggests.
//
// The changes applied are recorded in the first metrics record after the resume
// (train.EpochRecord.ResumeChanges).
var resumable = []string{"epochs", "threads", "optim.lr"}

// ErrResumeChange is wrapped by the error of a resume whose recipe changes the run.
var ErrResumeChange = errors.New("the run was saved with other settings")

// ResumeError lists every difference between the checkpoint's recipe and the requested
// one that a resume may not make, each as "path: saved → given (why)".
type ResumeError struct {
	Dir     string
	Differs []Change
}

// Change is one recipe field that differs on resume.
type Change struct {
	Path         string // JSON path, e.g. "optim.lr"
	Saved, Given string // JSON values
	Why          string // why it may not change; empty for an allowed change
}

func (c Change) String() string { return fmt.Sprintf("%s: %s → %s", c.Path, c.Saved, c.Given) }

func (e *ResumeError) Error() string {
	var parts []string
	for _, c := range e.Differs {
		parts = append(parts, c.String()+" ("+c.Why+")")
	}
	return fmt.Sprintf("recipe: resume %s: %v: %s; only more epochs, threads, and a lower lr after a non-finite stop may change",
		e.Dir, ErrResumeChange, strings.Join(parts, "; "))
}

// Unwrap makes a ResumeError an ErrInvalid and an ErrResumeChange.
func (e *ResumeError) Unwrap() []error { return []error{ErrResumeChange, ErrInvalid} }

// ResumeRecipe returns the recipe to continue the run saved in dir: the checkpoint's
// recipe with the fields of given named in set (JSON paths of the fields a caller gave,
// as for WithDefaults) applied where a resume may change them. Fields in set that
// differ from the checkpoint in a way a resume may not (see resumable) are all listed
// in a *ResumeError. Fields not in set keep the checkpoint's values.
func ResumeRecipe(dir string, given Recipe, set map[string]bool) (Recipe, error) {
	saved, info, err := readSaved(dir)
	if err != nil {
		return saved, err
	}
	r := saved
	for _, p := range resumable {
		if set[p] {
			switch p {
			case "epochs":
				r.Epochs = given.Epochs
			case "threads":
				r.Threads = given.Threads
			case "optim.lr":
				r.Optim.LR = given.Optim.LR
			}
		}
	}
	var bad []Change
	for _, c := range changes(saved, given) {
		if !set[c.Path] {
			continue
		}
		if c.Why = whyNot(c.Path, saved, given, info); c.Why != "" {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		return saved, &ResumeError{Dir: dir, Differs: bad}
	}
	if err := r.Validate(); err != nil {
		return saved, err
	}
	if info.Epoch >= r.Epochs || info.Stopped {
		if _, err := os.Stat(filepath.Join(dir, SummaryFile)); err == nil {
			return saved, invalidf("recipe: resume %s: the run is complete (%d of %d epochs); give more epochs to train on", dir, info.Epoch, r.Epochs)
		}
	}
	return r, nil
}

// whyNot says why path may not change from saved to given on resume ("" if it may).
func whyNot(path string, saved, given Recipe, info *train.StateInfo) string {
	switch path {
	case "threads":
		return ""
	case "epochs":
		if given.Epochs <= info.Epoch {
			return fmt.Sprintf("the checkpoint has completed %d epochs; give more", info.Epoch)
		}
		return ""
	case "optim.lr":
		switch {
		case info.NonFinite == "":
			return "the learning rate may only be lowered after a non-finite loss"
		case !(given.Optim.LR < saved.Optim.LR):
			return "after a non-finite loss the learning rate may only be lowered"
		}
		return ""
	}
	return "it would make another run"
}

// changes lists the fields whose values differ between saved and given.
func changes(saved, given Recipe) []Change {
	var out []Change
	for _, d := range Diff(saved, given) {
		path, rest, _ := strings.Cut(d, ": ")
		a, b, _ := strings.Cut(rest, " → ")
		out = append(out, Change{Path: path, Saved: a, Given: b})
	}
	return out
}

// checkResume returns the allowed changes from the checkpoint's recipe to run's (as
// "path: saved → given"), or a *ResumeError listing the disallowed ones.
func (run *Run) checkResume(dir string) ([]string, error) {
	saved, info, err := readSaved(dir)
	if err != nil {
		return nil, err
	}
	var ok []string
	var bad []Change
	for _, c := range changes(saved, run.Recipe) {
		if c.Why = whyNot(c.Path, saved, run.Recipe, info); c.Why != "" {
			bad = append(bad, c)
		} else {
			ok = append(ok, c.String())
		}
	}
	if len(bad) > 0 {
		return nil, &ResumeError{Dir: dir, Differs: bad}
	}
	return ok, nil
}
