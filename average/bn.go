package average

import (
	"errors"
	"fmt"
	"strings"

	"github.com/temperml/temper/ag"
	"github.com/temperml/temper/data"
	"github.com/temperml/temper/nn"
	"github.com/temperml/temper/rng"
)

// Names of the buffers RefreshBatchNorm resets (PyTorch's BatchNorm state-dict names).
const (
	bufMean    = "running_mean"
	bufVar     = "running_var"
	bufTracked = "num_batches_tracked"
)

// RefreshBatchNorm recomputes the batch-norm running statistics of m for its current
// weights with one pass over ds in batches of batch (range [1, ∞)), with the semantics of
// torch.optim.swa_utils.update_bn, used after SWA (Izmailov et al. 2018, §3.2): the
// weights of an average are not those the running statistics were collected with.
//
// Every buffer of m named running_mean is set to 0, running_var to 1 and
// num_batches_tracked to 0; every *nn.BatchNorm is switched to a cumulative average
// (PyTorch's momentum=None: after batch k, running = mean of the k batch statistics, each
// batch weighted equally); the model runs forward in training mode on ds in dataset order
// without gradients. The unbiased batch variance is averaged, as PyTorch does.
// Afterwards the BatchNorm momentum settings, the training/evaluation mode and the
// model's random streams are restored (dropout draws masks during the pass, as in
// update_bn, but the streams are put back so the pass has no other side effect).
// num_batches_tracked ends as the number of batches of the pass.
//
// Where it differs from update_bn: a last batch smaller than batch is skipped when the
// pass has at least one full batch — with equal weights per batch it would count as much
// as a full one (PyTorch keeps it). A module owning a running_mean buffer that is not an
// *nn.BatchNorm is an error (its momentum cannot be switched to a cumulative average). A
// model without batch norm is left untouched (0 batches, nil error; ds may then be nil).
// A panic inside the forward pass is returned as an error naming the batch.
func RefreshBatchNorm(m nn.Module, ds data.Dataset, batch int) (batches int, err error) {
	if m == nil {
		return 0, errors.New("average: bn refresh: nil model")
	}
	if batch < 1 {
		return 0, fmt.Errorf("average: bn refresh batch size %d out of range [1, ∞)", batch)
	}
	var bns []*nn.BatchNorm
	var bad []string
	walkModules(m, "", func(prefix string, mod nn.Module) {
		if bn, ok := mod.(*nn.BatchNorm); ok {
			bns = append(bns, bn)
			return
		}
		if b, ok := mod.(nn.Buffered); ok {
			for _, buf := range b.OwnBuffers() {
				if buf.Name == bufMean {
					bad = append(bad, prefix)
				}
			}
		}
	})
	if len(bad) > 0 {
		return 0, fmt.Errorf("average: bn refresh: modules %v own running statistics but are not *nn.BatchNorm", bad)
	}
	if len(bns) == 0 {
		return 0, nil
	}
	if ds == nil || ds.Len() == 0 {
		return 0, errors.New("average: bn refresh: empty dataset")
	}
	streams := nn.RandomStreams(m)
	saved := make([][]byte, len(streams))
	for i, s := range streams {
		if saved[i], err = s.MarshalBinary(); err != nil {
			return 0, fmt.Errorf("average: bn refresh: %w", err)
		}
	}
	for _, b := range nn.Buffers(m) {
		switch {
		case strings.HasSuffix(b.Name, bufMean), strings.HasSuffix(b.Name, bufTracked):
			clear(b.T.Data())
		case strings.HasSuffix(b.Name, bufVar):
			d := b.T.Data()
			for i := range d {
				d[i] = 1
			}
		}
	}
	wasTraining := bns[0].Training()
	cum := make([]bool, len(bns))
	for i, bn := range bns {
		cum[i] = bn.CumulativeAverage
		bn.CumulativeAverage = true
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("average: bn refresh: batch %d: %v", batches+1, r)
		}
		for i, bn := range bns {
			bn.CumulativeAverage = cum[i]
		}
		for i, s := range streams {
			if e := s.UnmarshalBinary(saved[i]); e != nil && err == nil {
				err = fmt.Errorf("average: bn refresh: %w", e)
			}
		}
		nn.SetTraining(m, wasTraining)
	}()
	nn.SetTraining(m, true)
	l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batch, DropLast: ds.Len() >= batch}, rng.New(0))
	if err != nil {
		return 0, fmt.Errorf("average: bn refresh: %w", err)
	}
	defer l.Close()
	tp := ag.NewTape()
	tp.SetNoGrad(true)
	for b := range l.Batches() {
		tp.Reset()
		m.Forward(tp.Const(b.X))
		batches++
	}
	tp.Reset()
	return batches, nil
}

// walkModules visits m and its descendants depth-first with their dotted names, as nn's
// walkers name them.
func walkModules(m nn.Module, prefix string, f func(prefix string, m nn.Module)) {
	f(prefix, m)
	if p, ok := m.(nn.Parent); ok {
		for _, c := range p.Children() {
			name := c.Name
			if prefix != "" {
				name = prefix + "." + c.Name
			}
			walkModules(c.M, name, f)
		}
	}
}
