package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// gradient returns a w×h colour image with R = 7x, G = 11y, B = 255 − 5(x+y) (mod 256).
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(7 * x), uint8(11 * y), uint8(255 - 5*(x+y)), 255})
		}
	}
	return img
}

func grayImage(w, h int, v func(x, y int) uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{v(x, y)})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTree writes n images per class into root/CLASS/, alternating PNG and JPEG, of odd
// sizes; gray selects gray images.
func writeTree(t testing.TB, root string, classes []string, n int, gray bool) {
	t.Helper()
	for ci, c := range classes {
		for i := range n {
			w, h := 37+i, 23+2*ci
			var img image.Image = gradient(w, h)
			if gray {
				img = grayImage(w, h, func(x, y int) uint8 { return uint8(x*y + ci*40) })
			}
			name := filepath.Join(root, c, "img"+string(rune('a'+i)))
			if i%2 == 0 {
				writeFile(t, name+".png", encodePNG(t, img))
			} else {
				writeFile(t, name+".JPG", encodeJPEG(t, img))
			}
		}
	}
}

func near(a, b, tol float32) bool { return math.Abs(float64(a-b)) <= float64(tol) }

func TestResizeCrop(t *testing.T) {
	// A constant image stays constant whatever the scale (the weights sum to one).
	for _, sz := range [][2]int{{37, 23}, {23, 37}, {3, 2}, {1, 1}, {200, 9}} {
		img := solid(sz[0], sz[1], color.NRGBA{R: 200, G: 100, B: 50, A: 255})
		x := make([]float32, 3*16*16)
		resizeCropCHW(img, x, 3, 16)
		for i, v := range x {
			want := []float32{200, 100, 50}[i/256] / 255
			if !near(v, want, 1e-5) {
				t.Fatalf("%v: x[%d] = %v, want %v", sz, i, v, want)
			}
		}
	}
	// Scale 1 on the shorter side: the crop is an exact window, offset round-half-even((n-s)/2).
	g := gradient(20, 10) // resized 20x10, crop left = 5
	x := make([]float32, 3*10*10)
	resizeCropCHW(g, x, 3, 10)
	for y := range 10 {
		for xx := range 10 {
			c := g.NRGBAAt(xx+5, y)
			if x[y*10+xx] != float32(c.R)/255 || x[100+y*10+xx] != float32(c.G)/255 || x[200+y*10+xx] != float32(c.B)/255 {
				t.Fatalf("crop pixel (%d,%d) wrong", xx, y)
			}
		}
	}
	g = gradient(10, 21) // crop top = round-half-even(5.5) = 6
	resizeCropCHW(g, x, 3, 10)
	if x[100] != float32(g.NRGBAAt(0, 6).G)/255 {
		t.Errorf("vertical crop offset: got G %v, want row 6's %v", x[100]*255, g.NRGBAAt(0, 6).G)
	}
	// Halving alternating 0/255 columns with the antialiased tent filter (taps 1/8, 3/8,
	// 3/8, 1/8) gives 1/2 away from the border.
	stripes := grayImage(32, 32, func(x, y int) uint8 { return uint8(255 * (x % 2)) })
	x = make([]float32, 16*16)
	resizeCropCHW(stripes, x, 1, 16)
	for j := 1; j < 15; j++ {
		if !near(x[5*16+j], 0.5, 1e-6) {
			t.Errorf("stripes column %d = %v, want 0.5", j, x[5*16+j])
		}
	}
	// Upsampling (2x2 -> 4x4) interpolates between the pixel values.
	small := grayImage(2, 2, func(x, y int) uint8 { return uint8(200 * x) })
	x = make([]float32, 16)
	resizeCropCHW(small, x, 1, 4)
	for y := range 4 {
		row := x[y*4 : y*4+4]
		if row[0] != 0 || !near(row[3], 200.0/255, 1e-6) || !(row[1] > 0 && row[1] < row[2] && row[2] < row[3]) {
			t.Errorf("upsampled row %v", row)
		}
	}
}

func TestLoadImageChannels(t *testing.T) {
	dir := t.TempDir()
	rgb := filepath.Join(dir, "rgb.png")
	col := color.NRGBA{R: 255, G: 51, B: 0, A: 255}
	writeFile(t, rgb, encodePNG(t, solid(5, 7, col)))
	x, err := LoadImage(rgb, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	// ITU-R 601 luma: 0.299*255 + 0.587*51 + 0.114*0 = 106.2 -> 106.
	if len(x) != 16 || !near(x[0], 106.0/255, 1e-6) {
		t.Errorf("luma %v, want 106/255", x[0]*255)
	}
	// Transparent pixels keep their colour (alpha dropped), palette images are read.
	alpha := filepath.Join(dir, "alpha.png")
	writeFile(t, alpha, encodePNG(t, solid(4, 4, color.NRGBA{R: 10, G: 20, B: 30, A: 0})))
	if x, err := LoadImage(alpha, 3, 4); err != nil || !near(x[0], 10.0/255, 1e-6) || !near(x[16], 20.0/255, 1e-6) || !near(x[32], 30.0/255, 1e-6) {
		t.Errorf("alpha: %v %v", err, x)
	}
	half := filepath.Join(dir, "half.png")
	writeFile(t, half, encodePNG(t, solid(4, 4, color.NRGBA{R: 100, G: 50, B: 200, A: 128})))
	if x, err := LoadImage(half, 3, 4); err != nil || !near(x[0], 100.0/255, 1.5/255) || !near(x[32], 200.0/255, 1.5/255) {
		t.Errorf("half alpha: %v %v", err, x[:1])
	}
	pal := image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Gray{0}, color.Gray{90}})
	pal.SetColorIndex(1, 1, 1)
	palPath := filepath.Join(dir, "pal.png")
	writeFile(t, palPath, encodePNG(t, pal))
	if x, err := LoadImage(palPath, 3, 3); err != nil || x[4] != 90.0/255 || x[9+4] != 90.0/255 || x[0] != 0 {
		t.Errorf("palette: %v %v", err, x)
	}
	if _, err := LoadImage(rgb, 2, 4); !errors.Is(err, ErrInvalid) {
		t.Errorf("channels 2: %v", err)
	}
	if _, err := LoadImage(rgb, 3, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("size 0: %v", err)
	}
	if _, err := LoadImage(filepath.Join(dir, "none.png"), 3, 4); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "none.png") {
		t.Errorf("missing: %v", err)
	}
}

func TestLoadImagesOneTree(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, []string{"zebra", "apple", "mango"}, 4, false)
	writeFile(t, filepath.Join(dir, "apple", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, "apple", ".hidden.png"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, "mango", "deeper", "extra.png"), encodePNG(t, gradient(16, 16)))
	src, err := ParseSource("images:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	sets, err := Load(src, LoadConfig{ImageSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sets.ClassNames, ",") != "apple,mango,zebra" || sets.Name != "image folder "+dir {
		t.Errorf("classes %v name %q", sets.ClassNames, sets.Name)
	}
	if sets.Train.Len() != 13 || sets.Val != nil || sets.Test != nil || !equalInts(sets.Train.Shape(), []int{3, 16, 16}) || sets.Train.Classes() != 3 {
		t.Fatalf("train %d shape %v val %v test %v", sets.Train.Len(), sets.Train.Shape(), sets.Val, sets.Test)
	}
	if !equalInts(sets.Train.Y, []int{0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2}) {
		t.Errorf("labels %v", sets.Train.Y)
	}
	// mango/deeper/extra.png (16x16, walked before mango/img*) is loaded unchanged.
	x, _ := sets.Train.Example(4)
	if want := float32(7*3) / 255; x[3] != want {
		t.Errorf("16x16 image resized to 16: R(3,0) = %v, want %v", x[3], want)
	}
	// Every example matches LoadImage of its file.
	f, err := LoadImageFolder(dir, ImageFolderConfig{Size: 16, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range f.Files {
		want, err := LoadImage(p, 3, 16)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := sets.Train.Example(i)
		if !equalFloats(got, want) {
			t.Fatalf("example %d (%s) differs from LoadImage", i, p)
		}
	}

	// Stratified test fraction: 0.25 of 13 -> 3, one per class.
	sets, err = Load(src, LoadConfig{ImageSize: 8, Channels: 1, TestFraction: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sets.Train.Len() != 10 || sets.Test.Len() != 3 || !equalInts(sets.Test.Y, []int{0, 1, 2}) || !equalInts(sets.Test.Shape(), []int{1, 8, 8}) {
		t.Errorf("split train %d test %d labels %v shape %v", sets.Train.Len(), sets.Test.Len(), sets.Test.Y, sets.Test.Shape())
	}
	again, _ := Load(src, LoadConfig{ImageSize: 8, Channels: 1, TestFraction: 0.25, Seed: 3})
	if !equalFloats(again.Test.X, sets.Test.X) {
		t.Error("same seed, different test split")
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoadImagesSplitLayout(t *testing.T) {
	dir := t.TempDir()
	classes := []string{"cat", "dog"}
	writeTree(t, filepath.Join(dir, "train"), classes, 3, true)
	writeTree(t, filepath.Join(dir, "val"), classes, 2, true)
	writeTree(t, filepath.Join(dir, "test"), classes, 1, true)
	for _, ch := range []int{0, 1, 3} {
		sets, err := Load(Source{Kind: SourceImages, Dir: dir}, LoadConfig{ImageSize: 12, Channels: ch, TestFraction: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		wantC := max(ch, 1)
		if sets.Train.Len() != 6 || sets.Val.Len() != 4 || sets.Test.Len() != 2 || !equalInts(sets.Val.Shape(), []int{wantC, 12, 12}) {
			t.Fatalf("channels %d: %d/%d/%d shape %v", ch, sets.Train.Len(), sets.Val.Len(), sets.Test.Len(), sets.Val.Shape())
		}
		if ch == 3 {
			x, _ := sets.Val.Example(3)
			if x[20] != x[144+20] || x[20] != x[288+20] {
				t.Errorf("gray replicated: %v %v %v", x[20], x[144+20], x[288+20])
			}
		}
	}
	// Without test/, the test fraction splits train/.
	os.RemoveAll(filepath.Join(dir, "test"))
	sets, err := Load(Source{Kind: SourceImages, Dir: dir}, LoadConfig{ImageSize: 12, TestFraction: 0.34})
	if err != nil {
		t.Fatal(err)
	}
	if sets.Train.Len() != 4 || sets.Test.Len() != 2 || sets.Val.Len() != 4 {
		t.Errorf("fraction split %d/%d/%d", sets.Train.Len(), sets.Val.Len(), sets.Test.Len())
	}
}

// pngWithSize returns a 1x1 PNG whose header claims w x h (CRC fixed up).
func pngWithSize(t testing.TB, w, h uint32) []byte {
	b := encodePNG(t, solid(1, 1, color.NRGBA{A: 255}))
	// signature (8) | length (4) | "IHDR" | width | height | ... | crc
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestLoadImagesErrors(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T, dir string)
		cfg   LoadConfig
		want  error
		msg   []string // substrings of the error
	}
	twoClasses := func(t *testing.T, dir string) { writeTree(t, dir, []string{"a", "b"}, 2, false) }
	cfg := LoadConfig{ImageSize: 8}
	for _, c := range []tc{
		{"missing folder", func(t *testing.T, dir string) { os.RemoveAll(dir) }, cfg, ErrNotFound, []string{"no such folder"}},
		{"no images at all", func(t *testing.T, dir string) {}, cfg, ErrNotFound, []string{"no class subfolders and no images"}},
		{"loose images", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "x.png"), encodePNG(t, gradient(3, 3)))
		},
			cfg, ErrNotFound, []string{"one subfolder per class"}},
		{"single class", func(t *testing.T, dir string) { writeTree(t, dir, []string{"only"}, 2, false) }, cfg, ErrNotFound, []string{"need at least 2 classes", "only"}},
		{"empty class", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			os.Mkdir(filepath.Join(dir, "c"), 0o755)
			writeFile(t, filepath.Join(dir, "c", "readme.txt"), []byte("x"))
		}, cfg, ErrNotFound, []string{`class folder "c" has no .png`, filepath.Join("root", "c") + ":"}},
		{"corrupt", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			writeFile(t, filepath.Join(dir, "b", "bad.png"), []byte("not a png"))
		},
			cfg, ErrBadImage, []string{"bad.png", "cannot decode"}},
		{"truncated", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			b := encodePNG(t, gradient(30, 30))
			writeFile(t, filepath.Join(dir, "a", "cut.png"), b[:len(b)/2])
		}, cfg, ErrBadImage, []string{"cut.png"}},
		{"truncated jpeg", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			b := encodeJPEG(t, gradient(30, 30))
			writeFile(t, filepath.Join(dir, "a", "cut.jpg"), b[:len(b)/2])
		}, cfg, ErrBadImage, []string{"cut.jpg"}},
		{"empty file", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			writeFile(t, filepath.Join(dir, "a", "zero.png"), nil)
		},
			cfg, ErrBadImage, []string{"zero.png", "empty file"}},
		{"huge dimensions", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			writeFile(t, filepath.Join(dir, "a", "bomb.png"), pngWithSize(t, 60000, 60000))
		},
			cfg, ErrBadImage, []string{"bomb.png", "60000x60000", "larger than the limit"}},
		{"too many pixels", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			writeFile(t, filepath.Join(dir, "a", "wide.png"), pngWithSize(t, 16000, 16000))
		},
			cfg, ErrBadImage, []string{"wide.png", "larger than the limit"}},
		{"huge file", func(t *testing.T, dir string) {
			twoClasses(t, dir)
			p := filepath.Join(dir, "a", "big.png")
			writeFile(t, p, encodePNG(t, gradient(2, 2)))
			os.Truncate(p, MaxImageFileBytes+1) // sparse
		}, cfg, ErrBadImage, []string{"big.png", "64 MiB"}},
		{"mixed channels", func(t *testing.T, dir string) {
			writeTree(t, dir, []string{"a"}, 1, true)
			writeTree(t, dir, []string{"b"}, 1, false)
		}, cfg, ErrMismatch, []string{"mixed channels", filepath.Join("a", "imga.png") + " is gray", filepath.Join("b", "imga.png") + " is colour", "set channels"}},
		{"split: classes differ", func(t *testing.T, dir string) {
			writeTree(t, filepath.Join(dir, "train"), []string{"a", "b"}, 1, false)
			writeTree(t, filepath.Join(dir, "val"), []string{"a", "c"}, 1, false)
		}, cfg, ErrMismatch, []string{"val", "classes a,c differ from train/'s a,b"}},
		{"split: no train", func(t *testing.T, dir string) { writeTree(t, filepath.Join(dir, "test"), []string{"a", "b"}, 1, false) },
			cfg, ErrNotFound, []string{"no train/ subfolder"}},
		{"split: stray folder", func(t *testing.T, dir string) {
			writeTree(t, filepath.Join(dir, "train"), []string{"a", "b"}, 1, false)
			writeTree(t, filepath.Join(dir, "extra"), []string{"a", "b"}, 1, false)
		}, cfg, ErrMismatch, []string{"extra", "unexpected folder next to train/"}},
		{"split: mixed channels across splits", func(t *testing.T, dir string) {
			writeTree(t, filepath.Join(dir, "train"), []string{"a", "b"}, 1, false)
			writeTree(t, filepath.Join(dir, "val"), []string{"a", "b"}, 1, true)
		}, cfg, ErrMismatch, []string{"mixed channels"}},
		{"fraction too large", twoClasses, LoadConfig{ImageSize: 8, TestFraction: 0.9}, ErrInvalid, []string{"leaving none to train on"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "root")
			os.Mkdir(dir, 0o755)
			c.setup(t, dir)
			sets, err := Load(Source{Kind: SourceImages, Dir: dir}, c.cfg)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v (sets %v), want %v", err, sets, c.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("multi-line error %q", msg)
			}
			for _, m := range c.msg {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not contain %q", msg, m)
				}
			}
		})
	}
}

func TestLoadImagesWorkersDeterministic(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, []string{"a", "b", "c"}, 5, false)
	writeFile(t, filepath.Join(dir, "b", "imgz.png"), []byte("bad 1"))
	writeFile(t, filepath.Join(dir, "c", "imgz.png"), []byte("bad 2"))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first *InMemory
	for _, procs := range []int{1, 3, 8} {
		runtime.GOMAXPROCS(procs)
		// The error is the first bad file in dataset order, whatever the scheduling.
		_, err := Load(Source{Kind: SourceImages, Dir: dir}, LoadConfig{ImageSize: 10})
		if err == nil || !strings.Contains(err.Error(), filepath.Join("b", "imgz.png")) {
			t.Errorf("GOMAXPROCS %d: error %v, want b/imgz.png", procs, err)
		}
	}
	os.Remove(filepath.Join(dir, "b", "imgz.png"))
	os.Remove(filepath.Join(dir, "c", "imgz.png"))
	for _, procs := range []int{1, 3, 8} {
		runtime.GOMAXPROCS(procs)
		sets, err := Load(Source{Kind: SourceImages, Dir: dir}, LoadConfig{ImageSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = sets.Train
		} else if !equalFloats(first.X, sets.Train.X) || !equalInts(first.Y, sets.Train.Y) {
			t.Errorf("GOMAXPROCS %d: different result", procs)
		}
	}
}
