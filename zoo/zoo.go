// Package zoo is temper's registry of pretrained models: each entry names its
// architecture, the dataset and split it was trained on, its class names, input shape and
// normalization, the full recipe that trained it, its measured test accuracy, parameter
// count, license and the SHA-256 of its weights. The weights are safetensors model files
// (recipe.SaveModel's format) shipped inside the package (go:embed), so nothing is
// downloaded at run time; every read checks the checksum.
//
// The entries are rebuilt from their recipes (zoo/recipes/NAME.json) by
//
//	go run ./tools/zoo rebuild
//
// which trains each one, measures it and rewrites zoo/registry.json and zoo/weights/.
// Each entry also records a Fingerprint: the SHA-256 of the weights after a short run of
// its recipe (the first TrainSize training examples, one epoch) at the recorded thread
// count, so that a test can check the recipe still rebuilds the entry bit for bit without
// the full training.
//
// recipe.LoadModel("zoo:NAME") loads an entry as a usable model; recipe's transfer
// options fine-tune one.
package zoo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
)

//go:embed registry.json recipes/*.json weights/*
var files embed.FS

// RegistryFile, RecipesDir and WeightsDir are the package's files, relative to its folder.
const (
	RegistryFile = "registry.json"
	RecipesDir   = "recipes"
	WeightsDir   = "weights"
)

// Version is the registry format version.
const Version = 1

// Prefix marks a zoo entry where a model file is expected ("zoo:resnet20-mnist").
const Prefix = "zoo:"

// Spec is what a committed recipe file (recipes/NAME.json) says about an entry before it
// is trained: its name, architecture, description, license and recipe.
type Spec struct {
	Name         string          `json:"name"`
	Architecture string          `json:"architecture"`
	Description  string          `json:"description"`
	License      string          `json:"license"`
	Recipe       json.RawMessage `json:"recipe"`
}

// Entry is one pretrained model of the registry.
type Entry struct {
	Name         string `json:"name"`
	Architecture string `json:"architecture"`
	Description  string `json:"description"`
	// Dataset is the recipe's data source ("mnist", "fashion-mnist"); Split says which
	// examples trained and tested it.
	Dataset string `json:"dataset"`
	Split   string `json:"split"`
	// SourceClasses are the source's labels the entry was trained on (nil: all), in the
	// order of ClassNames.
	SourceClasses []int    `json:"source_classes,omitempty"`
	ClassNames    []string `json:"class_names"`
	InputShape    []int    `json:"input_shape"`
	// Normalization is the per-channel mean and std applied to inputs in [0, 1].
	Normalization Normalization `json:"normalization"`
	// Recipe is the full recipe JSON that trained the entry.
	Recipe       json.RawMessage `json:"recipe"`
	TestAccuracy float64         `json:"test_accuracy"`
	TestLoss     float64         `json:"test_loss"`
	TestExamples int             `json:"test_examples"`
	Params       int             `json:"params"`
	// Weights is the file name under weights/, Bytes its size and SHA256 its checksum.
	Weights string `json:"weights"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
	License string `json:"license"`
	// Threads is the thread count the entry was trained with (results are bit-identical
	// for a given seed and thread count).
	Threads      int         `json:"threads"`
	TrainSeconds float64     `json:"train_seconds"`
	Fingerprint  Fingerprint `json:"fingerprint"`
	// Built is the date, machine and command of the build.
	Built string `json:"built"`

	fsys fs.FS // where Weights is read from (set by Open and OpenDir)
}

// Normalization is an entry's input normalization: (x − Mean[c]) / Std[c].
type Normalization struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// Fingerprint is the SHA-256 of the state dict (StateHash) after the entry's recipe is
// run on its first TrainSize training examples for one epoch at Threads threads.
type Fingerprint struct {
	TrainSize int    `json:"train_size"`
	Steps     int    `json:"steps"`
	SHA256    string `json:"sha256"`
}

// Registry is the list of entries.
type Registry struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// ErrUnknown is wrapped by Get's error for a name that is not in the registry.
var ErrUnknown = errors.New("unknown zoo entry")

// ErrChecksum is wrapped by the error for weights whose SHA-256 is not the registry's.
var ErrChecksum = errors.New("zoo weights checksum mismatch")

// EnvDir names an environment variable: when set, Open reads the registry and weights
// from that folder (laid out as this package's: registry.json, weights/) instead of the
// ones built into the binary — a zoo of your own, or a rebuilt one before it is embedded.
const EnvDir = "TEMPER_ZOO"

// Open returns the registry shipped with the package (or the one in $TEMPER_ZOO).
func Open() (*Registry, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return OpenDir(d)
	}
	return openFS(files, "the built-in zoo")
}

// OpenDir returns the registry of a zoo folder (registry.json and weights/).
func OpenDir(dir string) (*Registry, error) { return openFS(os.DirFS(dir), dir) }

func openFS(fsys fs.FS, where string) (*Registry, error) {
	b, err := fs.ReadFile(fsys, RegistryFile)
	if err != nil {
		return nil, fmt.Errorf("zoo: %s: %w", where, err)
	}
	r, err := ParseRegistry(b)
	if err != nil {
		return nil, err
	}
	for i := range r.Entries {
		r.Entries[i].fsys = fsys
	}
	return r, nil
}

// ParseRegistry reads a registry's JSON form (unknown fields and other versions are
// errors).
func ParseRegistry(b []byte) (*Registry, error) {
	var r Registry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("zoo: registry: %w", err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("zoo: registry version %d, this temper reads version %d", r.Version, Version)
	}
	seen := map[string]bool{}
	for _, e := range r.Entries {
		if e.Name == "" || seen[e.Name] {
			return nil, fmt.Errorf("zoo: registry: entry name %q empty or repeated", e.Name)
		}
		seen[e.Name] = true
	}
	return &r, nil
}

// Marshal returns the registry's JSON form, entries sorted by name.
func (r *Registry) Marshal() []byte {
	c := *r
	c.Entries = slices.Clone(r.Entries)
	sort.Slice(c.Entries, func(i, j int) bool { return c.Entries[i].Name < c.Entries[j].Name })
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err) // plain values
	}
	return append(b, '\n')
}

// Names lists the entries' names, sorted.
func (r *Registry) Names() []string {
	var n []string
	for _, e := range r.Entries {
		n = append(n, e.Name)
	}
	sort.Strings(n)
	return n
}

// Get returns the named entry ("zoo:" prefix allowed); an unknown name is an error
// listing the names there are.
func (r *Registry) Get(name string) (*Entry, error) {
	name = strings.TrimPrefix(name, Prefix)
	for i := range r.Entries {
		if r.Entries[i].Name == name {
			return &r.Entries[i], nil
		}
	}
	return nil, fmt.Errorf("zoo: no entry %q (the zoo has: %s): %w", name, strings.Join(r.Names(), ", "), ErrUnknown)
}

// WeightsFile returns the entry's weights (a safetensors model file) after checking
// their SHA-256 against the registry's.
func (e *Entry) WeightsFile() ([]byte, error) {
	fsys := e.fsys
	if fsys == nil {
		fsys = files
	}
	b, err := fs.ReadFile(fsys, WeightsDir+"/"+e.Weights)
	if err != nil {
		return nil, fmt.Errorf("zoo: entry %s: %w", e.Name, err)
	}
	return b, e.Verify(b)
}

// Verify checks that b is the entry's weights file (size and SHA-256).
func (e *Entry) Verify(b []byte) error {
	if got := SHA256(b); got != e.SHA256 {
		return fmt.Errorf("zoo: entry %s: weights %s have SHA-256 %s (%d bytes), the registry says %s (%d bytes): the file is corrupt or was replaced; rebuild it with go run ./tools/zoo rebuild: %w",
			e.Name, e.Weights, got, len(b), e.SHA256, e.Bytes, ErrChecksum)
	}
	return nil
}

// SHA256 returns the hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Specs returns the committed recipe files, sorted by name.
func Specs() ([]Spec, error) {
	ents, err := fs.ReadDir(files, RecipesDir)
	if err != nil {
		return nil, fmt.Errorf("zoo: %w", err)
	}
	var out []Spec
	for _, d := range ents {
		b, err := fs.ReadFile(files, RecipesDir+"/"+d.Name())
		if err != nil {
			return nil, fmt.Errorf("zoo: %w", err)
		}
		var s Spec
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("zoo: %s/%s: %w", RecipesDir, d.Name(), err)
		}
		if s.Name+".json" != d.Name() {
			return nil, fmt.Errorf("zoo: %s/%s names entry %q (want the file name)", RecipesDir, d.Name(), s.Name)
		}
		out = append(out, s)
	}
	return out, nil
}
