package ensemble

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/tensor"
)

const stateFormat = "temper-average-state/1"

// The float64 running averages are stored exactly in safetensors (whose writer here is
// float32-only) as two float32 tensors holding the high and low 32 bits of each value
// ("avg.hi.NAME", "avg.lo.NAME": bit patterns, not numbers); buffers as "buffer.NAME".

func (a *averaged) save(path string, meta map[string]string) error {
	if a.swapped {
		return fmt.Errorf("ensemble: %s: save state while the averaged weights are applied", a.what)
	}
	var named []checkpoint.Named
	for i, p := range a.params {
		hi, lo := tensor.New(len(a.avg[i])), tensor.New(len(a.avg[i]))
		hd, ld := hi.Data(), lo.Data()
		for j, v := range a.avg[i] {
			b := math.Float64bits(v)
			hd[j], ld[j] = math.Float32frombits(uint32(b>>32)), math.Float32frombits(uint32(b))
		}
		named = append(named, checkpoint.Named{Name: "avg.hi." + p.Name, T: hi}, checkpoint.Named{Name: "avg.lo." + p.Name, T: lo})
	}
	for i, b := range a.buffers {
		named = append(named, checkpoint.Named{Name: "buffer." + b.Name, T: a.bufAvg[i]})
	}
	meta["format"] = stateFormat
	meta["kind"] = a.what
	return checkpoint.Save(path, named, meta)
}

func (a *averaged) load(path string) (map[string]string, error) {
	if a.swapped {
		return nil, fmt.Errorf("ensemble: %s: load state while the averaged weights are applied", a.what)
	}
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("ensemble: %s state %s: %s", a.what, path, fmt.Sprintf(format, args...))
	}
	if f.Meta["format"] != stateFormat || f.Meta["kind"] != a.what {
		return nil, bad("format %q kind %q, want %q kind %q", f.Meta["format"], f.Meta["kind"], stateFormat, a.what)
	}
	want := 2*len(a.params) + len(a.buffers)
	if len(f.Tensors) != want {
		return nil, bad("%d tensors, the model needs %d", len(f.Tensors), want)
	}
	for i, p := range a.params {
		hi, lo := f.Tensors["avg.hi."+p.Name], f.Tensors["avg.lo."+p.Name]
		if hi == nil || lo == nil || hi.Len() != len(a.avg[i]) || lo.Len() != len(a.avg[i]) {
			return nil, bad("no average of %s with %d values", p.Name, len(a.avg[i]))
		}
	}
	for i, b := range a.buffers {
		t := f.Tensors["buffer."+b.Name]
		if t == nil || t.Len() != a.bufAvg[i].Len() {
			return nil, bad("no buffer %s with %d values", b.Name, a.bufAvg[i].Len())
		}
	}
	for i, p := range a.params {
		hd, ld := f.Tensors["avg.hi."+p.Name].Data(), f.Tensors["avg.lo."+p.Name].Data()
		for j := range a.avg[i] {
			a.avg[i][j] = math.Float64frombits(uint64(math.Float32bits(hd[j]))<<32 | uint64(math.Float32bits(ld[j])))
		}
	}
	for i, b := range a.buffers {
		copy(a.bufAvg[i].Data(), f.Tensors["buffer."+b.Name].Data())
	}
	return f.Meta, nil
}

func metaInt(meta map[string]string, key, path string) (int, error) {
	v, err := strconv.Atoi(meta[key])
	if err != nil || v < 0 {
		return 0, fmt.Errorf("ensemble: state %s: %s %q is not a count", path, key, meta[key])
	}
	return v, nil
}

// SaveState writes the EMA (the float64 averages exactly, buffers, update count) to path
// atomically, e.g. next to a training checkpoint, so a resumed run continues the same
// average. The decay settings are stored for checking, not restored.
func (e *EMA) SaveState(path string) error {
	return e.a.save(path, map[string]string{"updates": strconv.Itoa(e.updates), "calls": strconv.Itoa(e.calls),
		"decay": strconv.FormatFloat(e.cfg.Decay, 'g', -1, 64)})
}

// LoadState restores a state written by SaveState for the same model.
func (e *EMA) LoadState(path string) error {
	meta, err := e.a.load(path)
	if err != nil {
		return err
	}
	if d := strconv.FormatFloat(e.cfg.Decay, 'g', -1, 64); meta["decay"] != d {
		return fmt.Errorf("ensemble: ema state %s: decay %s, this EMA has %s", path, meta["decay"], d)
	}
	if e.updates, err = metaInt(meta, "updates", path); err != nil {
		return err
	}
	e.calls, err = metaInt(meta, "calls", path)
	return err
}

// SaveState writes the SWA (the float64 average exactly, buffers, count) to path.
func (s *SWA) SaveState(path string) error {
	return s.a.save(path, map[string]string{"count": strconv.Itoa(s.n)})
}

// LoadState restores a state written by SaveState for the same model.
func (s *SWA) LoadState(path string) error {
	meta, err := s.a.load(path)
	if err != nil {
		return err
	}
	s.n, err = metaInt(meta, "count", path)
	return err
}

// StateFileName returns the conventional file name of an average's state in a run
// folder: "ema_state.safetensors" or "swa_state.safetensors".
func StateFileName(kind string) string { return strings.ToLower(kind) + "_state.safetensors" }
