package data

import (
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func TestLoadImageFolder(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"dog", "cat"} {
		os.Mkdir(filepath.Join(dir, c), 0o755)
	}
	img := solid(3, 2, color.NRGBA{R: 255, G: 51, B: 0, A: 255})
	img.SetNRGBA(2, 1, color.NRGBA{R: 10, G: 20, B: 30, A: 255})
	writePNG(t, filepath.Join(dir, "cat", "a.png"), img)
	writePNG(t, filepath.Join(dir, "cat", "b.PNG"), solid(3, 2, color.NRGBA{A: 255}))
	writePNG(t, filepath.Join(dir, "dog", "c.png"), solid(3, 2, color.NRGBA{R: 255, G: 255, B: 255, A: 255}))
	f, _ := os.Create(filepath.Join(dir, "dog", "d.jpg"))
	jpeg.Encode(f, solid(3, 2, color.NRGBA{R: 128, G: 128, B: 128, A: 255}), &jpeg.Options{Quality: 100})
	f.Close()
	os.WriteFile(filepath.Join(dir, "dog", "notes.txt"), []byte("ignored"), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("ignored"), 0o644)

	ds, err := LoadImageFolder(dir, ImageFolderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 4 || !equalInts(ds.Shape(), []int{3, 2, 3}) || ds.Classes() != 2 || strings.Join(ds.ClassNames, ",") != "cat,dog" {
		t.Fatalf("got %d examples of %v, classes %v", ds.Len(), ds.Shape(), ds.ClassNames)
	}
	if !equalInts(ds.Y, []int{0, 0, 1, 1}) {
		t.Errorf("labels %v, want [0 0 1 1]", ds.Y)
	}
	x, _ := ds.Example(0)
	// CHW: R plane, then G, then B; pixel (x=2, y=1) is index 5 of each plane.
	for _, c := range []struct {
		i    int
		want float32
	}{{0, 1}, {6, 0.2}, {12, 0}, {5, 10.0 / 255}, {11, 20.0 / 255}, {17, 30.0 / 255}} {
		if x[c.i] != c.want {
			t.Errorf("x[%d] = %v, want %v", c.i, x[c.i], c.want)
		}
	}
	if x, _ := ds.Example(3); x[0] < 0.49 || x[0] > 0.52 {
		t.Errorf("JPEG gray pixel %v, want about 0.5", x[0])
	}
	gray, err := LoadImageFolder(dir, ImageFolderConfig{Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := gray.Example(2); !equalInts(gray.Shape(), []int{1, 2, 3}) || g[0] != 1 {
		t.Errorf("gray: shape %v first %v", gray.Shape(), g[0])
	}
}

func TestImageFolderErrors(t *testing.T) {
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for _, c := range []string{"a", "z"} {
			os.Mkdir(filepath.Join(dir, c), 0o755)
			writePNG(t, filepath.Join(dir, c, "1.png"), solid(4, 4, color.NRGBA{A: 255}))
		}
		return dir
	}
	for _, tc := range []struct {
		name  string
		apply func(dir string)
		want  error
		msg   string
	}{
		{"missing dir", func(dir string) { os.RemoveAll(dir) }, ErrNotFound, ""},
		{"no classes", func(dir string) { os.RemoveAll(filepath.Join(dir, "a")); os.RemoveAll(filepath.Join(dir, "z")) }, ErrNotFound, "no class subfolders"},
		{"one class", func(dir string) { os.RemoveAll(filepath.Join(dir, "z")) }, ErrNotFound, "need at least 2 classes"},
		{"empty class", func(dir string) { os.Mkdir(filepath.Join(dir, "b"), 0o755) }, ErrNotFound, `class folder "b" has no`},
		{"size", func(dir string) { writePNG(t, filepath.Join(dir, "a", "2.png"), solid(4, 5, color.NRGBA{})) }, ErrBadImage, "is 4x5, but"},
		{"corrupt", func(dir string) { os.WriteFile(filepath.Join(dir, "a", "0.png"), []byte("nope"), 0o644) }, ErrBadImage, "0.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t)
			tc.apply(dir)
			_, err := LoadImageFolder(dir, ImageFolderConfig{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want %v with %q", err, tc.want, tc.msg)
			}
		})
	}
}
