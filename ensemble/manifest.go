package ensemble

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/temperml/temper/internal/fsafe"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// ManifestFile is the name of an ensemble's manifest inside its folder.
const ManifestFile = "ensemble.json"

// ManifestFormat identifies the manifest's layout (the "format" field).
const ManifestFormat = "temper-ensemble/1"

// Kinds of ensembles recorded in Manifest.Kind.
const (
	KindIndependent = "independent"
	KindSnapshot    = "snapshot"
)

var (
	// ErrMissingMember is wrapped by the error for a member file that does not exist.
	ErrMissingMember = errors.New("member file missing")
	// ErrChecksum is wrapped by the error for a member file whose SHA-256 differs from the
	// manifest's (the file was altered or replaced).
	ErrChecksum = errors.New("member file checksum mismatch")
)

// Manifest describes an ensemble folder: its members' files (paths relative to the
// folder, so the folder can be moved) with their checksums, architectures and metrics.
type Manifest struct {
	Format string `json:"format"`
	// Kind is "independent" or "snapshot".
	Kind string `json:"kind"`
	// Combine is the rule of combination (Combine.String()).
	Combine string `json:"combine"`
	// Members in order.
	Members []Member `json:"members"`
	// TrainSeconds is the wall time of the whole training (all members).
	TrainSeconds float64 `json:"train_seconds,omitempty"`
	// Config is the run's configuration as the trainer recorded it (opaque here).
	Config json.RawMessage `json:"config,omitempty"`
}

// Member is one model of an ensemble.
type Member struct {
	Name string `json:"name"`
	// Path of the safetensors file relative to the manifest's folder, slash-separated.
	Path string `json:"path"`
	// SHA256 of the file, lower-case hex.
	SHA256 string `json:"sha256"`
	// Model is the nn.Build name of the architecture, InShape and Classes its config.
	Model   string `json:"model"`
	InShape []int  `json:"in_shape"`
	Classes int    `json:"classes"`
	// Seed of the member's training run.
	Seed uint64 `json:"seed"`
	// Epoch at which the weights were taken (snapshots) or the epochs trained.
	Epoch int `json:"epoch,omitempty"`
	// Config is the member's training configuration (opaque here).
	Config json.RawMessage `json:"config,omitempty"`
	// Metrics measured at the end of its training.
	Metrics *MemberMetrics `json:"metrics,omitempty"`
}

// MemberMetrics are a member's test metrics and training time.
type MemberMetrics struct {
	TestAccuracy float64 `json:"test_accuracy"`
	TestNLL      float64 `json:"test_nll"`
	TrainSeconds float64 `json:"train_seconds,omitempty"`
}

// MemberError names the member and file that failed verification or loading.
type MemberError struct {
	Manifest string // manifest path
	Index    int
	Path     string // the member file as the manifest names it
	Err      error
}

func (e *MemberError) Error() string {
	return fmt.Sprintf("ensemble: %s: member %d (%s): %v", e.Manifest, e.Index, e.Path, e.Err)
}

func (e *MemberError) Unwrap() error { return e.Err }

// MaxManifestBytes bounds the size of an ensemble.json read (16 MiB), MaxMemberBytes
// that of a member model file (64 GiB, checkpoint.MaxFileSize). Devices, pipes and other
// non-regular files are refused.
const (
	MaxManifestBytes = 16 << 20
	MaxMemberBytes   = 64 << 30
)

// SHA256File returns the lower-case hex SHA-256 of a file.
func SHA256File(p string) (string, error) {
	b, err := fsafe.ReadFile(p, MaxMemberBytes)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// checkRel validates a member path: relative, slash-separated, inside the folder.
func checkRel(p string) error {
	if p == "" || !filepath.IsLocal(filepath.FromSlash(p)) || path.Clean(p) != p {
		return fmt.Errorf("path %q must be a clean relative path inside the ensemble folder", p)
	}
	return nil
}

// SaveMember writes m's state dict (parameters and buffers under their PyTorch names) to
// dir/mb.Path as safetensors (atomically, with meta as metadata) and sets mb.SHA256.
func SaveMember(dir string, mb *Member, m nn.Module, meta map[string]string) error {
	if err := checkRel(mb.Path); err != nil {
		return fmt.Errorf("ensemble: member %s: %v", mb.Name, err)
	}
	return saveTensors(dir, mb, nn.StateDict(m), meta)
}

func saveTensors(dir string, mb *Member, sd []nn.NamedTensor, meta map[string]string) error {
	var named []checkpoint.Named
	for _, e := range sd {
		named = append(named, checkpoint.Named{Name: e.Name, T: e.T})
	}
	full := filepath.Join(dir, filepath.FromSlash(mb.Path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("ensemble: member %s: %w", mb.Name, err)
	}
	if err := checkpoint.Save(full, named, meta); err != nil {
		return err
	}
	sum, err := SHA256File(full)
	if err != nil {
		return fmt.Errorf("ensemble: member %s: %w", mb.Name, err)
	}
	mb.SHA256 = sum
	return nil
}

// Validate checks the manifest's own consistency (not the files).
func (man *Manifest) Validate() error {
	if man.Format != ManifestFormat {
		return fmt.Errorf("format %q, want %q", man.Format, ManifestFormat)
	}
	if _, err := ParseCombine(man.Combine); err != nil {
		return err
	}
	if len(man.Members) == 0 {
		return errors.New("no members")
	}
	for i, mb := range man.Members {
		if err := checkRel(mb.Path); err != nil {
			return fmt.Errorf("member %d: %v", i, err)
		}
		if len(mb.SHA256) != 64 {
			return fmt.Errorf("member %d (%s): sha256 %q is not 64 hex digits", i, mb.Path, mb.SHA256)
		}
		if mb.Model == "" {
			return fmt.Errorf("member %d (%s): no model name", i, mb.Path)
		}
	}
	return nil
}

// Write validates the manifest and writes it to dir/ensemble.json atomically.
func (man *Manifest) Write(dir string) error {
	if man.Format == "" {
		man.Format = ManifestFormat
	}
	if man.Combine == "" {
		man.Combine = Probabilities.String()
	}
	if err := man.Validate(); err != nil {
		return fmt.Errorf("ensemble: manifest for %s: %v", dir, err)
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fmt.Errorf("ensemble: manifest for %s: %v", dir, err)
	}
	p := filepath.Join(dir, ManifestFile)
	if err := fsafe.WriteBytes(p, append(b, '\n')); err != nil {
		return fmt.Errorf("ensemble: %w", err)
	}
	return nil
}

// ManifestPath resolves a folder to its ensemble.json; a file path is returned as is.
func ManifestPath(p string) string {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return filepath.Join(p, ManifestFile)
	}
	return p
}

// ReadManifest reads and validates the manifest at p (ensemble.json or its folder). It
// does not touch the member files (see Verify).
func ReadManifest(p string) (*Manifest, error) {
	p = ManifestPath(p)
	b, err := fsafe.ReadFile(p, MaxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("ensemble: %w", err)
	}
	man := new(Manifest)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(man); err != nil {
		return nil, fmt.Errorf("ensemble: %s: not a valid manifest: %v", p, err)
	}
	if err := man.Validate(); err != nil {
		return nil, fmt.Errorf("ensemble: %s: %v", p, err)
	}
	return man, nil
}

// readMember reads member i's file and checks its checksum; dir is the manifest's
// folder and mp the manifest path (for messages).
func (man *Manifest) readMember(dir, mp string, i int) ([]byte, error) {
	mb := man.Members[i]
	full := filepath.Join(dir, filepath.FromSlash(mb.Path))
	b, err := fsafe.ReadFile(full, MaxMemberBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %s does not exist", ErrMissingMember, full)
		}
		return nil, &MemberError{Manifest: mp, Index: i, Path: mb.Path, Err: err}
	}
	s := sha256.Sum256(b)
	if got := hex.EncodeToString(s[:]); got != mb.SHA256 {
		return nil, &MemberError{Manifest: mp, Index: i, Path: mb.Path,
			Err: fmt.Errorf("%w: sha256 %s, manifest says %s (the file was altered or replaced)", ErrChecksum, got, mb.SHA256)}
	}
	return b, nil
}

// Verify checks that every member file listed by the manifest at p exists and has the
// recorded SHA-256. The error is a *MemberError wrapping ErrMissingMember or ErrChecksum.
func Verify(p string) error {
	man, err := ReadManifest(p)
	if err != nil {
		return err
	}
	mp := ManifestPath(p)
	for i := range man.Members {
		if _, err := man.readMember(filepath.Dir(mp), mp, i); err != nil {
			return err
		}
	}
	return nil
}

// BuildFunc builds an untrained member of the architecture a Member names.
type BuildFunc func(mb Member) (nn.Module, error)

// BuildMember is the default BuildFunc: nn.Build(mb.Model, {InShape, Classes}).
func BuildMember(mb Member) (nn.Module, error) {
	return nn.Build(mb.Model, nn.ModelConfig{InShape: mb.InShape, Classes: mb.Classes}, rng.New(0))
}

// Load reads the manifest at p (ensemble.json or its folder), verifies every member's
// checksum, rebuilds the members with build (nil: BuildMember) and loads their weights
// (strictly: every parameter and buffer, nothing else). The ensemble combines by the
// manifest's rule.
func Load(p string, build BuildFunc, cfg Config) (*Ensemble, *Manifest, error) {
	if build == nil {
		build = BuildMember
	}
	man, err := ReadManifest(p)
	if err != nil {
		return nil, nil, err
	}
	mp := ManifestPath(p)
	dir := filepath.Dir(mp)
	cfg.Combine, _ = ParseCombine(man.Combine)
	var members []nn.Module
	var names []string
	for i, mb := range man.Members {
		b, err := man.readMember(dir, mp, i)
		if err != nil {
			return nil, nil, err
		}
		fp := filepath.Join(dir, filepath.FromSlash(mb.Path))
		f, err := checkpoint.Parse(fp, b)
		if err == nil {
			err = f.CheckFinite(fp)
		}
		if err != nil {
			return nil, nil, &MemberError{Manifest: mp, Index: i, Path: mb.Path, Err: err}
		}
		m, err := build(mb)
		if err != nil {
			return nil, nil, &MemberError{Manifest: mp, Index: i, Path: mb.Path, Err: err}
		}
		sd := make(map[string]*tensor.Tensor, len(f.Tensors))
		for k, v := range f.Tensors {
			sd[k] = v
		}
		if err := nn.LoadStateDict(m, sd, true); err != nil {
			return nil, nil, &MemberError{Manifest: mp, Index: i, Path: mb.Path, Err: err}
		}
		members = append(members, m)
		name := mb.Name
		if name == "" {
			name = fmt.Sprint(i)
		}
		names = append(names, name)
	}
	e, err := New(members, names, cfg)
	if err != nil {
		return nil, nil, err
	}
	return e, man, nil
}

// SaveAveraged writes a state dict (an averaged model's, such as average.EMA.StateDict or
// average.SWA.StateDict) to dir/mb.Path like SaveMember and sets mb.SHA256. A non-finite
// value is an error.
func SaveAveraged(dir string, mb *Member, sd []nn.NamedTensor, meta map[string]string) error {
	if err := checkRel(mb.Path); err != nil {
		return fmt.Errorf("ensemble: member %s: %v", mb.Name, err)
	}
	for _, e := range sd {
		for _, v := range e.T.Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("ensemble: member %s: %s holds a non-finite value", mb.Name, e.Name)
			}
		}
	}
	return saveTensors(dir, mb, sd, meta)
}
