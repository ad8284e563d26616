package recipe

import (
	"encoding/json"
	"fmt"

	"github.com/temperml/temper/data"
)

// legacyConfig is the run configuration that model files written before recipe version 1
// (temper sessions 1–3, metadata "temper.config") carry: MNIST runs of `temper train`.
type legacyConfig struct {
	Model           string  `json:"model"`
	Data            string  `json:"data"`
	Optim           string  `json:"optim"`
	Seed            uint64  `json:"seed"`
	Dropout         float64 `json:"dropout"` // < 0: the model's default
	DropoutMode     string  `json:"dropout_mode"`
	DropConnect     float64 `json:"dropconnect"`
	StochasticDepth float64 `json:"stochastic_depth"`
	Pool            string  `json:"pool"`
	NoBatchNorm     bool    `json:"no_batchnorm"`
}

// fromLegacy converts an old model file's temper.config into the recipe that rebuilds its
// architecture, with MNIST's preprocessing (28×28 gray, x/255, classes "0".."9"): enough
// to evaluate and predict with it. Training fields not stored there keep their defaults.
func fromLegacy(raw string) (*Trained, error) {
	var c legacyConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, fmt.Errorf("temper.config metadata: %v", err)
	}
	source := "mnist"
	if c.Data != "" {
		source = "mnist:" + c.Data
	}
	optim := c.Optim
	if optim == "momentum" || optim == "nesterov" || optim == "" {
		optim = "sgd"
	}
	r, err := Defaults(c.Model, optim, source)
	if err != nil {
		return nil, err
	}
	r.Seed = c.Seed
	if c.Dropout >= 0 {
		r.Model.Dropout = c.Dropout
	}
	if c.DropoutMode != "" {
		r.Model.DropoutMode = c.DropoutMode
	}
	if c.Pool != "" {
		r.Model.Pool = c.Pool
	}
	r.Model.DropConnect, r.Model.StochasticDepth, r.Model.BatchNorm = c.DropConnect, c.StochasticDepth, !c.NoBatchNorm
	if err := r.Model.validate(); err != nil {
		return nil, err
	}
	return &Trained{Recipe: r, ClassNames: data.MNISTClassNames(), InShape: []int{1, 28, 28}, Norm: identityNorm(1)}, nil
}
