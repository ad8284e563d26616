package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
)

// LoadOptions configure LoadInto. The zero value is strict: every tensor of the model
// must be in the file with its shape, and the file may hold nothing else.
type LoadOptions struct {
	// NonStrict loads what matches and reports the rest (PyTorch's strict=False) instead
	// of failing on missing or unexpected tensors.
	NonStrict bool
	// ReinitMismatched keeps the model's own (freshly initialized) values for tensors
	// whose shape differs from the file's and reports them; without it a shape mismatch
	// is an error even when NonStrict (as in PyTorch).
	ReinitMismatched bool
	// Skip lists name prefixes of the model that are not loaded and keep their values
	// (e.g. "fc." for a new classifier head); the file's tensors under them are reported
	// as skipped, not unexpected.
	Skip []string
	// Adapt may replace a file tensor whose shape differs from the model's by one of the
	// model's shape (stem adaptation); it returns the new tensor and a note for the
	// report, or nil to leave the mismatch as it is.
	Adapt func(name string, file *tensor.Tensor, model []int) (*tensor.Tensor, string)
}

// StrippedPrefixes are the key prefixes LoadInto removes from a file's names: PyTorch's
// DataParallel/DistributedDataParallel wrapper ("module.") and torch.compile's
// ("_orig_mod."), in any order and repetition.
var StrippedPrefixes = []string{"module.", "_orig_mod."}

// LoadReport says what LoadInto did with each tensor.
type LoadReport struct {
	// Loaded are the model's tensors copied from the file.
	Loaded []string
	// Missing are model tensors the file lacks (they keep the model's values).
	Missing []string
	// Unexpected are file tensors the model has no place for.
	Unexpected []string
	// Mismatched are tensors present in both with different shapes.
	Mismatched []Mismatch
	// Converted are loaded tensors stored in another dtype (F16, BF16, F64, I64 …),
	// converted to float32.
	Converted []Conversion
	// Absent are BatchNorm num_batches_tracked counters the file lacks (older PyTorch
	// files): not needed for inference or fine-tuning, they keep the model's values.
	Absent []string
	// Skipped are model tensors under LoadOptions.Skip (they keep the model's values).
	Skipped []string
	// Adapted are tensors changed by LoadOptions.Adapt, with its note.
	Adapted []string
	// Stripped counts file names that lost a StrippedPrefixes prefix.
	Stripped int
	// LoadedValues and ModelValues count scalars: loaded, and in the model outside Skip.
	LoadedValues, ModelValues int
}

// Mismatch is a tensor whose shape differs between the file and the model.
type Mismatch struct {
	Name        string
	File, Model []int
	Reinit      bool // kept the model's initialization (LoadOptions.ReinitMismatched)
}

// Conversion is a tensor converted from its stored dtype to float32.
type Conversion struct {
	Name, DType string
}

// Coverage is the fraction of the model's values (outside Skip) loaded from the file.
func (r *LoadReport) Coverage() float64 {
	if r.ModelValues == 0 {
		return 1
	}
	return float64(r.LoadedValues) / float64(r.ModelValues)
}

// Write prints the report, one line per category that is not empty.
func (r *LoadReport) Write(w io.Writer) {
	fmt.Fprintf(w, "load: %d tensors loaded (%.1f%% of the model's values", len(r.Loaded), 100*r.Coverage())
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, " outside %d skipped", len(r.Skipped))
	}
	fmt.Fprintln(w, ")")
	line := func(what string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(w, "load: %d %s: %s\n", len(names), what, abbrev(names, 8))
		}
	}
	line("missing (kept as initialized)", r.Missing)
	line("unexpected (ignored)", r.Unexpected)
	var mm []string
	for _, m := range r.Mismatched {
		s := fmt.Sprintf("%s file %v model %v", m.Name, m.File, m.Model)
		if m.Reinit {
			s += " (re-initialized)"
		}
		mm = append(mm, s)
	}
	line("shape-mismatched", mm)
	byType := map[string]int{}
	for _, c := range r.Converted {
		byType[c.DType]++
	}
	var conv []string
	for dt, n := range byType {
		conv = append(conv, fmt.Sprintf("%d from %s", n, dt))
	}
	sort.Strings(conv)
	line("dtype conversions to F32", conv)
	line("num_batches_tracked absent (kept)", r.Absent)
	line("skipped (new, freshly initialized)", r.Skipped)
	line("adapted", r.Adapted)
	if r.Stripped > 0 {
		fmt.Fprintf(w, "load: %d names had a %s prefix (stripped)\n", r.Stripped, strings.Join(StrippedPrefixes, " or "))
	}
}

func abbrev(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", … (%d more)", len(names)-n)
}

// ErrLoad is wrapped by LoadInto's errors.
var ErrLoad = errors.New("state dict does not fit the model")

// LoadError is a load that failed; Report says what was found.
type LoadError struct {
	Report *LoadReport
	Msg    string
}

func (e *LoadError) Error() string { return "checkpoint: " + e.Msg }

// Unwrap makes a LoadError an ErrLoad.
func (e *LoadError) Unwrap() error { return ErrLoad }

// StripName removes StrippedPrefixes from the front of a state-dict name.
func StripName(name string) (string, bool) {
	stripped := false
	for again := true; again; {
		again = false
		for _, p := range StrippedPrefixes {
			if strings.HasPrefix(name, p) {
				name, again, stripped = name[len(p):], true, true
			}
		}
	}
	return name, stripped
}

// LoadInto copies f's tensors into m's parameters and buffers by name and reports what
// it did (see LoadReport). Names lose StrippedPrefixes first. It fails, leaving m
// unchanged, on a shape mismatch (unless ReinitMismatched), and when strict (the
// default) on a missing or unexpected tensor; num_batches_tracked may always be absent.
// Nothing loads if the file has none of the model's tensors (weights for another
// architecture).
func LoadInto(m nn.Module, f *File, opt LoadOptions) (*LoadReport, error) {
	rep := &LoadReport{}
	src := make(map[string]string, len(f.Names)) // stripped name -> file name
	for _, n := range f.Names {
		s, ok := StripName(n)
		if ok {
			rep.Stripped++
		}
		if prev, dup := src[s]; dup {
			return rep, &LoadError{rep, fmt.Sprintf("the file has both %q and %q, the same tensor once prefixes are stripped", prev, n)}
		}
		src[s] = n
	}
	skipped := func(name string) bool {
		return slices.ContainsFunc(opt.Skip, func(p string) bool { return strings.HasPrefix(name, p) || name == strings.TrimSuffix(p, ".") })
	}
	type copyOp struct {
		dst, src *tensor.Tensor
	}
	var ops []copyOp
	used := map[string]bool{}
	for _, w := range nn.StateDict(m) {
		if skipped(w.Name) {
			rep.Skipped = append(rep.Skipped, w.Name)
			if fn, ok := src[w.Name]; ok {
				used[fn] = true
			}
			continue
		}
		rep.ModelValues += w.T.Len()
		fn, ok := src[w.Name]
		if !ok {
			if strings.HasSuffix(w.Name, "num_batches_tracked") {
				rep.Absent = append(rep.Absent, w.Name)
				rep.ModelValues -= w.T.Len()
			} else {
				rep.Missing = append(rep.Missing, w.Name)
			}
			continue
		}
		used[fn] = true
		t := f.Tensors[fn]
		if !tensor.SameShape(t.Shape(), w.T.Shape()) && opt.Adapt != nil {
			if a, note := opt.Adapt(w.Name, t, w.T.Shape()); a != nil {
				t = a
				rep.Adapted = append(rep.Adapted, w.Name+": "+note)
			}
		}
		if !tensor.SameShape(t.Shape(), w.T.Shape()) {
			rep.Mismatched = append(rep.Mismatched, Mismatch{Name: w.Name, File: t.Shape(), Model: w.T.Shape(), Reinit: opt.ReinitMismatched})
			continue
		}
		if dt := f.DTypes[fn]; dt != "" && dt != "F32" {
			rep.Converted = append(rep.Converted, Conversion{w.Name, dt})
		}
		rep.Loaded = append(rep.Loaded, w.Name)
		rep.LoadedValues += w.T.Len()
		ops = append(ops, copyOp{w.T, t})
	}
	for _, n := range f.Names {
		if !used[n] {
			rep.Unexpected = append(rep.Unexpected, n)
		}
	}
	if len(rep.Loaded) == 0 && rep.ModelValues > 0 {
		return rep, &LoadError{rep, fmt.Sprintf("none of the model's %d tensors is in the file (it has %s): weights for another architecture?",
			len(rep.Missing)+len(rep.Mismatched), abbrev(f.Names, 3))}
	}
	if len(rep.Mismatched) > 0 && !opt.ReinitMismatched {
		mm := rep.Mismatched[0]
		msg := fmt.Sprintf("%d tensors have another shape than the model's, first %s: file %v, model %v", len(rep.Mismatched), mm.Name, mm.File, mm.Model)
		if head := HeadPrefix(m); head != "" && strings.HasPrefix(mm.Name, head) {
			msg += " (a classifier for another number of classes: ask for a new head)"
		} else {
			msg += " (weights for another architecture or width?)"
		}
		return rep, &LoadError{rep, msg}
	}
	if !opt.NonStrict && (len(rep.Missing) > 0 || len(rep.Unexpected) > 0) {
		return rep, &LoadError{rep, fmt.Sprintf("strict load: %d tensors missing (%s), %d unexpected (%s)",
			len(rep.Missing), abbrev(rep.Missing, 3), len(rep.Unexpected), abbrev(rep.Unexpected, 3))}
	}
	for _, op := range ops {
		op.dst.CopyFrom(op.src)
	}
	return rep, nil
}

// HeadPrefix is the name prefix of m's last parameterized module (its classifier in the
// models temper builds), e.g. "fc." or "12.".
func HeadPrefix(m nn.Module) string {
	ps := nn.Params(m)
	if len(ps) == 0 {
		return ""
	}
	n := ps[len(ps)-1].Name
	i := strings.LastIndexByte(n, '.')
	if i < 0 {
		return ""
	}
	return n[:i+1]
}
