package ensemble

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/schedule"
	"github.com/temperml/temper/train"
)

// SnapshotSchedule returns the learning-rate schedule of a snapshot ensemble (Huang et
// al. 2017, eq. 2), stepped per batch:
//
//	α(t) = α0/2 · (cos(π · mod(t, ⌈T/M⌉) / ⌈T/M⌉) + 1)
//
// for T total steps and M cycles: cosine annealing from the base rate α0 to 0 with a
// warm restart every ⌈T/M⌉ steps, i.e. SGDR (Loshchilov & Hutter 2017) with T_mult = 1
// and eta_min = 0 (schedule.CosineWarmRestarts). With T = epochs·stepsPerEpoch and epochs
// a multiple of M, every cycle ends at an epoch end, where Snapshots saves the model.
func SnapshotSchedule(totalSteps, cycles int) (*schedule.CosineWarmRestarts, error) {
	switch {
	case cycles < 1:
		return nil, fmt.Errorf("ensemble: snapshot cycles %d out of range [1, ∞)", cycles)
	case totalSteps < cycles:
		return nil, fmt.Errorf("ensemble: snapshot total steps %d out of range [cycles=%d, ∞)", totalSteps, cycles)
	}
	return schedule.NewCosineWarmRestarts(schedule.CosineWarmRestartsConfig{T0: (totalSteps + cycles - 1) / cycles})
}

// SnapshotConfig configures NewSnapshots. Dir, CycleEpochs and Model are required.
type SnapshotConfig struct {
	// Dir receives the snapshot files and (Manifest.Write) ensemble.json.
	Dir string
	// CycleEpochs is the length of a learning-rate cycle in epochs; a snapshot is taken at
	// the end of epochs CycleEpochs, 2·CycleEpochs, ...; range [1, ∞).
	CycleEpochs int
	// Keep is how many of the last snapshots the ensemble uses (Huang et al.'s M); 0
	// means all. Older snapshot files stay on disk but are not listed.
	Keep int
	// Model, InShape, Classes describe the architecture (nn.Build) for the manifest.
	Model   string
	InShape []int
	Classes int
	// Seed and Config of the run, recorded with every member.
	Seed   uint64
	Config json.RawMessage
	// Meta is stored in every snapshot file's safetensors metadata.
	Meta map[string]string
	// Prefix of the file names (Prefix-01.safetensors, ...); default "snapshot".
	Prefix string
}

// Snapshots saves the model at the end of every learning-rate cycle (a train.Callback) and
// builds the snapshot ensemble's manifest. The files hold the live weights and buffers
// (the batch-norm running statistics at the end of a cycle, when the learning rate is near
// zero, describe the snapshot's weights well; no refresh is needed).
type Snapshots struct {
	cfg     SnapshotConfig
	model   nn.Module
	members []Member
}

// NewSnapshots validates cfg and returns the snapshotter of m.
func NewSnapshots(m nn.Module, cfg SnapshotConfig) (*Snapshots, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "snapshot"
	}
	switch {
	case m == nil:
		return nil, fmt.Errorf("ensemble: snapshots: nil model")
	case cfg.Dir == "":
		return nil, fmt.Errorf("ensemble: snapshots: no output folder")
	case cfg.CycleEpochs < 1:
		return nil, fmt.Errorf("ensemble: snapshot cycle epochs %d out of range [1, ∞)", cfg.CycleEpochs)
	case cfg.Keep < 0:
		return nil, fmt.Errorf("ensemble: snapshot keep %d out of range [0, ∞)", cfg.Keep)
	case cfg.Model == "":
		return nil, fmt.Errorf("ensemble: snapshots: no model name")
	}
	if err := checkRel(cfg.Prefix + "-01.safetensors"); err != nil {
		return nil, fmt.Errorf("ensemble: snapshot prefix: %v", err)
	}
	return &Snapshots{cfg: cfg, model: m}, nil
}

// Take saves the model now as the next snapshot, with the epoch and metrics of rec.
func (s *Snapshots) Take(rec *train.EpochRecord) error {
	k := len(s.members) + 1
	mb := Member{
		Name:    fmt.Sprintf("%s-%02d", s.cfg.Prefix, k),
		Path:    fmt.Sprintf("%s-%02d.safetensors", s.cfg.Prefix, k),
		Model:   s.cfg.Model,
		InShape: append([]int(nil), s.cfg.InShape...),
		Classes: s.cfg.Classes,
		Seed:    s.cfg.Seed,
		Epoch:   rec.Epoch,
		Config:  s.cfg.Config,
	}
	if !math.IsNaN(rec.TestAccuracy) {
		mb.Metrics = &MemberMetrics{TestAccuracy: rec.TestAccuracy, TestNLL: rec.TestLoss}
	}
	if err := SaveMember(s.cfg.Dir, &mb, s.model, s.cfg.Meta); err != nil {
		return err
	}
	s.members = append(s.members, mb)
	return nil
}

// Hook returns a train.Callback taking a snapshot at the end of every cycle.
func (s *Snapshots) Hook() train.Callback {
	return train.CallbackFuncs{OnAfterEpoch: func(_ *train.Trainer, rec *train.EpochRecord) error {
		if rec.Epoch%s.cfg.CycleEpochs != 0 {
			return nil
		}
		return s.Take(rec)
	}}
}

// Taken returns all snapshots taken so far.
func (s *Snapshots) Taken() []Member { return s.members }

// Manifest returns the manifest of the snapshot ensemble: the last Keep snapshots.
func (s *Snapshots) Manifest() *Manifest {
	ms := s.members
	if s.cfg.Keep > 0 && len(ms) > s.cfg.Keep {
		ms = ms[len(ms)-s.cfg.Keep:]
	}
	return &Manifest{Format: ManifestFormat, Kind: KindSnapshot, Combine: Probabilities.String(),
		Members: append([]Member(nil), ms...), Config: s.cfg.Config}
}
