package nn

import (
	"testing"

	"github.com/temperml/temper/internal/kernel"
)

func BenchmarkWinoTransforms(b *testing.B) {
	g := kernel.ConvGeom{C: 32, H: 14, W: 14, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, DH: 1, DW: 1}
	g.Init()
	n, O := 8, 64
	j := newWinoJob(nil, &g, n, O) // nil tape: the process default thread count
	j.x = make([]float32, n*g.C*g.H*g.W)
	j.y = make([]float32, n*O*g.OH*g.OW)
	j.gy = j.y
	j.dx = make([]float32, len(j.x))
	cnt := winoBlock
	v := make([]float32, j.vLen(cnt))
	m := make([]float32, j.mLen(cnt))
	b.Run("input", func(b *testing.B) {
		for b.Loop() {
			j.inputTiles(0, 0, 0, cnt, v)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cnt*g.C), "ns/tile")
	})
	b.Run("output", func(b *testing.B) {
		for b.Loop() {
			j.outputTiles(0, 0, 0, cnt, m, nil, nil)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cnt*O), "ns/tile")
	})
	b.Run("grad", func(b *testing.B) {
		for b.Loop() {
			j.gradTiles(0, 0, 0, cnt, m, nil, nil)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cnt*O), "ns/tile")
	})
	b.Run("inputgrad", func(b *testing.B) {
		for b.Loop() {
			j.inputGradTiles(0, 0, 0, cnt, v)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*cnt*g.C), "ns/tile")
	})
}
