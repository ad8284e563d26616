// Package rng provides seedable, splittable, serializable random streams.
//
// temper has no global random state: every stochastic operation (initialization,
// shuffling, dropout masks, augmentation) takes an explicit *Stream. A Stream is a
// PCG generator (math/rand/v2.PCG, 128-bit state, O'Neill 2014) whose whole state can be
// saved with MarshalBinary and restored with UnmarshalBinary, which is what makes a
// resumed training run bit-identical to an uninterrupted one.
//
// Split derives an independent child stream deterministically from the parent's next
// outputs, so a program can hand one stream to each worker or layer and stay
// reproducible for a fixed seed.
package rng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/temperml/temper/internal/kernel"
)

// Stream is one random stream. The zero value is not usable; create one with New or Split.
// A Stream is not safe for concurrent use; give each goroutine its own (see Split).
type Stream struct {
	src *pcg
	r   *rand.Rand
	job *bernoulliJob // reused by parallel Bernoulli calls
}

// New returns a stream seeded from seed.
func New(seed uint64) *Stream {
	src := &pcg{seed, seed ^ 0x9e3779b97f4a7c15}
	return &Stream{src: src, r: rand.New(src)}
}

// Split returns a new stream seeded from two outputs of s. It advances s.
func (s *Stream) Split() *Stream {
	a, b := s.src.Uint64(), s.src.Uint64()
	src := &pcg{a, b}
	return &Stream{src: src, r: rand.New(src)}
}

// Uint64 returns a uniformly distributed 64-bit value.
func (s *Stream) Uint64() uint64 { return s.src.Uint64() }

// Float64 returns a uniform value in [0, 1).
func (s *Stream) Float64() float64 { return s.r.Float64() }

// Float32 returns a uniform value in [0, 1).
func (s *Stream) Float32() float32 { return s.r.Float32() }

// NormFloat64 returns a standard normal value.
func (s *Stream) NormFloat64() float64 { return s.r.NormFloat64() }

// IntN returns a uniform integer in [0, n). It panics if n <= 0.
func (s *Stream) IntN(n int) int { return s.r.IntN(n) }

// Perm returns a random permutation of [0, n).
func (s *Stream) Perm(n int) []int { return s.r.Perm(n) }

// Shuffle permutes idx in place (Fisher–Yates).
func (s *Stream) Shuffle(idx []int) {
	s.r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
}

// Uniform fills dst with values uniform in [lo, hi).
func (s *Stream) Uniform(dst []float32, lo, hi float64) {
	for i := range dst {
		dst[i] = float32(lo + (hi-lo)*s.r.Float64())
	}
}

// Normal fills dst with values from N(mean, std²).
func (s *Stream) Normal(dst []float32, mean, std float64) {
	for i := range dst {
		dst[i] = float32(mean + std*s.r.NormFloat64())
	}
}

// MarshalBinary returns the stream's full state.
func (s *Stream) MarshalBinary() ([]byte, error) { return s.src.MarshalBinary() }

// UnmarshalBinary restores a state produced by MarshalBinary.
func (s *Stream) UnmarshalBinary(b []byte) error {
	if s.src == nil {
		s.src = &pcg{}
		s.r = rand.New(s.src)
	}
	if err := s.src.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("rng: restore stream state: %w", err)
	}
	return nil
}

// pcg is the 128-bit PCG generator with the DXSM output function, bit for bit the
// generator of math/rand/v2.PCG (same multiplier, increment, output and binary encoding,
// checked by TestPCGMatchesStdlib). Its step is internal/kernel.PCGStep, which the mask
// kernels share, so hot loops keep the state in registers.
type pcg struct{ hi, lo uint64 }

func (p *pcg) Uint64() uint64 {
	var x uint64
	p.hi, p.lo, x = kernel.PCGStep(p.hi, p.lo)
	return x
}

func (p *pcg) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 20)
	b = append(b, "pcg:"...)
	b = binary.BigEndian.AppendUint64(b, p.hi)
	return binary.BigEndian.AppendUint64(b, p.lo), nil
}

func (p *pcg) UnmarshalBinary(b []byte) error {
	if len(b) != 20 || string(b[:4]) != "pcg:" {
		return errors.New("invalid PCG encoding")
	}
	p.hi = binary.BigEndian.Uint64(b[4:])
	p.lo = binary.BigEndian.Uint64(b[12:])
	return nil
}
