package data

import (
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"testing"
)

// FuzzImageFolder writes the fuzz bytes as one image of a two-class tree and loads it
// (walk, header check, decode, channel decision, resize and crop): any input must give
// either an error wrapping a sentinel or a well-formed dataset with values in [0, 1].
func FuzzImageFolder(f *testing.F) {
	pal := image.NewPaletted(image.Rect(0, 0, 5, 3), color.Palette{color.Gray{0}, color.RGBA{200, 10, 10, 255}})
	pal.SetColorIndex(2, 1, 1)
	png1 := encodePNG(f, gradient(37, 23))
	f.Add(png1, false, uint8(0), uint8(16))
	f.Add(encodePNG(f, grayImage(23, 37, func(x, y int) uint8 { return uint8(x + y) })), false, uint8(1), uint8(8))
	f.Add(encodeJPEG(f, gradient(9, 40)), true, uint8(2), uint8(5))
	f.Add(encodeJPEG(f, grayImage(16, 16, func(x, y int) uint8 { return uint8(x * y) })), true, uint8(0), uint8(16))
	f.Add(encodePNG(f, pal), false, uint8(0), uint8(3))
	f.Add(encodePNG(f, solid(1, 300, color.NRGBA{1, 2, 3, 4})), false, uint8(2), uint8(33))
	f.Add(png1[:len(png1)/2], false, uint8(0), uint8(8))
	f.Add(pngWithSize(f, 60000, 2), false, uint8(0), uint8(8))
	f.Add([]byte("\xff\xd8\xff\xe0garbage"), true, uint8(0), uint8(8))
	f.Add([]byte{}, false, uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, jpg bool, chSel, sizeSel uint8) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a", "ok.png"), encodePNG(t, gradient(6, 4)))
		name := "fuzz.png"
		if jpg {
			name = "fuzz.jpg"
		}
		writeFile(t, filepath.Join(dir, "b", name), data)
		ch := []int{0, 1, 3}[int(chSel)%3]
		size := 1 + int(sizeSel)%40
		sets, err := Load(Source{Kind: SourceImages, Dir: dir}, LoadConfig{ImageSize: size, Channels: ch})
		if err != nil {
			if !errors.Is(err, ErrBadImage) && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		d := sets.Train
		wantC := ch
		if ch == 0 {
			wantC = 3 // ok.png is colour, so a loaded fuzz image was colour too
		}
		if d.Len() != 2 || !equalInts(d.Shape(), []int{wantC, size, size}) || len(d.X) != 2*wantC*size*size {
			t.Fatalf("got %d examples of %v", d.Len(), d.Shape())
		}
		for i, v := range d.X {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %d = %v outside [0, 1]", i, v)
			}
		}
	})
}
