package zoo

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/temperml/temper/nn"
)

// StateHash is the hex SHA-256 of m's state dict in order: for every tensor its name, a
// zero byte, its shape as little-endian uint64s and its float32 values' bits. Two models
// hash alike exactly when their state dicts are bit-identical.
func StateHash(m nn.Module) string {
	h := sha256.New()
	var b [8]byte
	for _, t := range nn.StateDict(m) {
		h.Write([]byte(t.Name))
		h.Write([]byte{0})
		for _, d := range t.T.Shape() {
			binary.LittleEndian.PutUint64(b[:], uint64(d))
			h.Write(b[:])
		}
		for _, v := range t.T.Contiguous().Data() {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
