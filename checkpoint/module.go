package checkpoint

import (
	"github.com/temperml/temper/nn"
)

// StateDict returns m's parameters and buffers (nn.StateDict) as Named tensors, in
// PyTorch's state_dict order. The tensors are live, not copies.
func StateDict(m nn.Module) []Named {
	sd := nn.StateDict(m)
	out := make([]Named, len(sd))
	for i, t := range sd {
		out[i] = Named{Name: t.Name, T: t.T}
	}
	return out
}

// SaveModule saves m's state dict (parameters and buffers by their dotted PyTorch names)
// and meta to path atomically.
func SaveModule(path string, m nn.Module, meta map[string]string) error {
	return Save(path, StateDict(m), meta)
}

// LoadModule loads path into m's parameters and buffers by name and returns the file (for
// its metadata). Every entry of m must be in the file with the same shape; with strict,
// tensors the model lacks are an error too. On any error m is unchanged.
func LoadModule(path string, m nn.Module, strict bool) (*File, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	if err := nn.LoadStateDict(m, f.Tensors, strict); err != nil {
		return nil, &FileError{File: path, Err: ErrMissing, Msg: err.Error()}
	}
	return f, nil
}
