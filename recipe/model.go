package recipe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/tensor"
	"github.com/temperml/temper/train"
)

// ModelFile is the name of a run's final weights inside its output folder.
const ModelFile = "model.safetensors"

// BestFile holds the weights of the epoch with the lowest validation loss.
const BestFile = "model_best.safetensors"

// SummaryFile is the run's summary (Result as JSON).
const SummaryFile = "summary.json"

// Metadata keys of a model file (a safetensors state dict with PyTorch's names).
const (
	metaRecipe  = "temper.recipe"
	metaModel   = "temper.model"
	metaClasses = "temper.classes"
	metaInput   = "temper.input"
	metaNorm    = "temper.normalization"
)

// ErrNotModel is wrapped by LoadModel's error for a file that is not a temper model.
var ErrNotModel = errors.New("not a temper model file")

// Trained is a trained network with what it needs to be used: the recipe that trained
// it, its class names, input shape and input normalization. LoadModel returns one.
type Trained struct {
	Net        nn.Module
	Recipe     Recipe
	ClassNames []string
	InShape    []int
	Norm       data.Normalization
	// Path is the file it was loaded from ("" if not loaded).
	Path string
	// Threads is the number of threads its evaluation and prediction use (0: the process
	// default, GOMAXPROCS).
	Threads int
}

// tape returns an evaluation tape with the model's thread count.
func (m *Trained) tape() *ag.Tape {
	tp := ag.NewTape()
	tp.SetThreads(m.Threads)
	tp.SetNoGrad(true)
	return tp
}

// SaveModel writes net's state dict (PyTorch names) to path atomically, with the recipe,
// the class names, the input shape and the normalization as metadata.
func SaveModel(path string, net nn.Module, r Recipe, s *Splits) error {
	return checkpoint.Save(path, checkpoint.StateDict(net), modelMeta(r, s))
}

// modelMeta is the metadata of a model file trained by r on s.
func modelMeta(r Recipe, s *Splits) map[string]string {
	classes, _ := json.Marshal(s.ClassNames)
	in, _ := json.Marshal(s.Train.Shape())
	norm, _ := json.Marshal(s.Norm)
	return map[string]string{"format": "pt", metaModel: r.Model.Name, metaRecipe: string(r.Marshal()),
		metaClasses: string(classes), metaInput: string(in), metaNorm: string(norm)}
}

// LoadModel reads a model file written by a run (or a run's output folder, whose
// model.safetensors is used, or a zoo entry "zoo:NAME"), rebuilds the architecture from its recipe and loads the
// weights strictly: a missing, unexpected or mis-shaped tensor is an error.
func LoadModel(path string) (*Trained, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ModelFile)
	}
	f, _, err := openWeights(path) // a file, or a zoo entry (checksum checked)
	if err != nil {
		return nil, err
	}
	raw, ok := f.Meta[metaRecipe]
	var m *Trained
	switch {
	case ok:
		r, err := Parse([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m = &Trained{Recipe: r}
		for key, dst := range map[string]any{metaClasses: &m.ClassNames, metaInput: &m.InShape, metaNorm: &m.Norm} {
			if err := json.Unmarshal([]byte(f.Meta[key]), dst); err != nil {
				return nil, fmt.Errorf("%s: metadata %s: %v: %w", path, key, err, ErrNotModel)
			}
		}
	case f.Meta["temper.config"] != "":
		// A model file of an older temper (an MNIST run): rebuild its architecture.
		if m, err = fromLegacy(f.Meta["temper.config"]); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, err, ErrNotModel)
		}
	case f.Meta["format"] == "temper-train-state/1":
		return nil, fmt.Errorf("%s is a training checkpoint (the state to --resume from), not a model: use the run's %s or its folder: %w", path, ModelFile, ErrNotModel)
	default:
		return nil, fmt.Errorf("%s has no %s metadata: %w", path, metaRecipe, ErrNotModel)
	}
	m.Path = path
	r := m.Recipe
	if len(m.InShape) != 3 || slices.ContainsFunc(m.InShape, func(d int) bool { return d < 1 || d > 1<<14 }) {
		return nil, fmt.Errorf("%s: metadata %s %v: want [C, H, W]: %w", path, metaInput, m.InShape, ErrNotModel)
	}
	if len(m.ClassNames) < 2 {
		return nil, fmt.Errorf("%s: metadata %s: %d classes, want at least 2: %w", path, metaClasses, len(m.ClassNames), ErrNotModel)
	}
	if err := m.Norm.Validate(m.InShape[0]); err != nil {
		return nil, fmt.Errorf("%s: metadata %s: %w", path, metaNorm, err)
	}
	if m.Net, err = r.NewModel(m.InShape, len(m.ClassNames)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sd := map[string]*tensor.Tensor{}
	for k, v := range f.Tensors {
		sd[k] = v
	}
	if err := nn.LoadStateDict(m.Net, sd, true); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.CheckFinite(path); err != nil {
		return nil, err
	}
	nn.SetTraining(m.Net, false)
	return m, nil
}

// TestSet loads the test split of a data source (the model's own when source is "") with
// the model's preprocessing: the image size and channels it was trained with and its
// stored normalization. The set must have the model's input shape and classes.
func (m *Trained) TestSet(source string) (*data.InMemory, string, error) {
	d := m.Recipe.Data
	if source != "" {
		d.Source = source
	}
	src, err := data.ParseSource(d.Source)
	if err != nil {
		return nil, "", err
	}
	sets, err := loadSets(src, d.loadConfig(m.Recipe.Seed))
	if err != nil {
		return nil, "", err
	}
	if sets, err = d.applyClasses(sets); err != nil {
		return nil, "", err
	}
	if sets.Test == nil {
		return nil, "", fmt.Errorf("recipe: %s has no test split", sets.Name)
	}
	if !slices.Equal(sets.Test.Shape(), m.InShape) || sets.Test.Classes() != len(m.ClassNames) {
		return nil, "", fmt.Errorf("recipe: %s has examples %v in %d classes; the model takes %v in %d classes",
			sets.Name, sets.Test.Shape(), sets.Test.Classes(), m.InShape, len(m.ClassNames))
	}
	ts, err := m.Norm.Apply(sets.Test)
	if err != nil {
		return nil, "", err
	}
	return ts, sets.Name, nil
}

// Evaluate returns the mean cross-entropy and the accuracy of the model on ds, whose
// examples must already be preprocessed (TestSet, LoadData).
func (m *Trained) Evaluate(ds data.Dataset, batch int) (loss, acc float64, err error) {
	return train.Evaluate(m.Net, ds, batch, nil, m.tape())
}

// Prediction is one class of a top-k answer.
type Prediction struct {
	Class int     `json:"class"`
	Name  string  `json:"name"`
	Prob  float64 `json:"probability"`
}

// Probabilities returns the softmax of the model's logits for n raw examples x (n ×
// InShape values, pixel values in [0, 1] as data.LoadImage returns them); the model's
// normalization is applied to a copy.
func (m *Trained) Probabilities(x []float32, n int) ([][]float64, error) {
	size := m.InShape[0] * m.InShape[1] * m.InShape[2]
	if n < 1 || len(x) != n*size {
		return nil, fmt.Errorf("recipe: %d values for %d examples of shape %v, want %d", len(x), n, m.InShape, n*size)
	}
	xs := slices.Clone(x)
	shape := append([]int{n}, m.InShape...)
	m.Norm.ApplyTo(xs, shape)
	t := tensor.FromSlice(xs, shape...)
	tp := m.tape()
	nn.SetTraining(m.Net, false)
	z := m.Net.Forward(tp.Const(t)).Value.Data()
	c := len(m.ClassNames)
	out := make([][]float64, n)
	for i := range out {
		row := z[i*c : (i+1)*c]
		p := make([]float64, c)
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		for j, v := range row {
			p[j] = math.Exp(float64(v) - mx)
			sum += p[j]
		}
		for j := range p {
			p[j] /= sum
		}
		out[i] = p
	}
	return out, nil
}

// TopK returns the k most probable classes of p, most probable first.
func (m *Trained) TopK(p []float64, k int) []Prediction {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	k = min(max(k, 1), len(p))
	out := make([]Prediction, k)
	for i := range out {
		c := idx[i]
		out[i] = Prediction{Class: c, Name: m.ClassNames[c], Prob: p[c]}
	}
	return out
}

// PredictFile decodes an image file with the model's preprocessing (data.LoadImage: its
// channels, resize and center crop to its input size, then its normalization) and
// returns the k most probable classes.
func (m *Trained) PredictFile(path string, k int) ([]Prediction, error) {
	if m.InShape[1] != m.InShape[2] {
		return nil, fmt.Errorf("recipe: the model takes %v inputs; predict reads square images only", m.InShape)
	}
	out, err := m.PredictFiles([]string{path}, k)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// predictBatch is how many images PredictFiles decodes and runs at once.
const predictBatch = 64

// PredictFiles is PredictFile for many files, decoded and run in batches; the first
// file that cannot be read is an error naming it.
func (m *Trained) PredictFiles(paths []string, k int) ([][]Prediction, error) {
	if m.InShape[1] != m.InShape[2] {
		return nil, fmt.Errorf("recipe: the model takes %v inputs; predict reads square images only", m.InShape)
	}
	size := m.InShape[0] * m.InShape[1] * m.InShape[2]
	out := make([][]Prediction, 0, len(paths))
	x := make([]float32, 0, predictBatch*size)
	for lo := 0; lo < len(paths); lo += predictBatch {
		batch := paths[lo:min(lo+predictBatch, len(paths))]
		x = x[:0]
		for _, p := range batch {
			img, err := data.LoadImage(p, m.InShape[0], m.InShape[1])
			if err != nil {
				return nil, err
			}
			x = append(x, img...)
		}
		probs, err := m.Probabilities(x, len(batch))
		if err != nil {
			return nil, err
		}
		for _, p := range probs {
			out = append(out, m.TopK(p, k))
		}
	}
	return out, nil
}
