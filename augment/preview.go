package augment

import (
	"image"
	"image/color"

	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// Preview draws what p does to n examples orig (n × shape values, shape [C, H, W] with C
// 1 or 3, pixel values in [0, 1]): one row per example, the original in the first
// column (set off by a wider gap) and copies augmented versions beside it, each example
// of a column with its own stream split from r; a batch-level op (mixup, cutmix) mixes
// each column's examples among themselves, as training would. Each pixel is drawn as
// scale×scale.
func Preview(p *Pipeline, orig []float32, shape []int, copies, scale int, r *rng.Stream) *image.RGBA {
	size := tensor.NumElements(shape)
	n := len(orig) / size
	cols := make([][]float32, 1, copies+1)
	cols[0] = orig
	augRand := r.Split()
	var mix *Mixing
	if p.Batch != nil {
		mix = NewMixing(p.Batch, r.Split())
	}
	for c := 0; c < copies; c++ {
		col := append([]float32(nil), orig...)
		for i := 0; i < n; i++ {
			p.Transform(col[i*size:(i+1)*size], shape, augRand.Split())
		}
		if mix != nil {
			mix.Apply(tensor.FromSlice(col, append([]int{n}, shape...)...), make([]int, n))
		}
		cols = append(cols, col)
	}
	return previewGrid(cols, n, shape, scale)
}

// previewGrid lays out cols[c][i] (example i of column c) as a grid: rows are examples,
// column 0 the originals followed by a wider gap.
func previewGrid(cols [][]float32, n int, shape []int, scale int) *image.RGBA {
	ch, h, w := shape[0], shape[1], shape[2]
	const gap, bigGap = 2, 8
	cw, rh := w*scale, h*scale
	width := len(cols)*cw + (len(cols)-1)*gap + (bigGap - gap) + 2*gap
	height := n*rh + (n+1)*gap
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	bg := color.RGBA{40, 60, 110, 255}
	for i := range img.Pix {
		img.Pix[i] = []uint8{bg.R, bg.G, bg.B, bg.A}[i%4]
	}
	byte8 := func(v float32) uint8 { return uint8(min(max(v, 0), 1)*255 + 0.5) }
	for c, col := range cols {
		x0 := gap + c*(cw+gap)
		if c > 0 {
			x0 += bigGap - gap
		}
		for i := 0; i < n; i++ {
			y0 := gap + i*(rh+gap)
			ex := col[i*ch*h*w : (i+1)*ch*h*w]
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					var px color.RGBA
					if ch == 1 {
						g := byte8(ex[y*w+x])
						px = color.RGBA{g, g, g, 255}
					} else {
						px = color.RGBA{byte8(ex[y*w+x]), byte8(ex[h*w+y*w+x]), byte8(ex[2*h*w+y*w+x]), 255}
					}
					for dy := 0; dy < scale; dy++ {
						for dx := 0; dx < scale; dx++ {
							img.SetRGBA(x0+x*scale+dx, y0+y*scale+dy, px)
						}
					}
				}
			}
		}
	}
	return img
}
