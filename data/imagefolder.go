package data

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/temperml/temper/internal/fsafe"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Limits on one image file, checked before it is decoded (the header is read first with
// image.DecodeConfig), so a hostile or broken file cannot make the loader allocate gigabytes.
const (
	// MaxImageFileBytes is the largest image file read (64 MiB).
	MaxImageFileBytes = 64 << 20
	// MaxImageSide is the largest width or height accepted.
	MaxImageSide = 16384
	// MaxImagePixels is the largest width×height accepted (2^26, about 67 megapixels,
	// e.g. 8192×8192); a decoded RGBA image of that size takes 256 MiB.
	MaxImagePixels = 1 << 26
)

// ImageFolderConfig configures LoadImageFolder and the image-folder path of Load.
// The zero value keeps the images' own size (all must share it) and their stored channels.
type ImageFolderConfig struct {
	// Size > 0 resizes every image so that its shorter side is Size (bilinear, antialiased
	// when shrinking; smaller images are upsampled, as torchvision's Resize does) and then
	// crops the central Size×Size square (torchvision's CenterCrop). Size 0 keeps the
	// images as they are: all must then share one size.
	Size int
	// Channels is 1 (gray: ITU-R 601 luma, as PIL's convert("L")), 3 (RGB; gray images
	// are replicated into the three channels) or 0 (as stored: 1 if every image is
	// gray, 3 if every image is colour; a folder that mixes both is an error that names
	// one file of each kind, because silently choosing would hide a data problem).
	Channels int
}

// Validate checks the ranges of the fields.
func (c ImageFolderConfig) Validate() error {
	if c.Size < 0 || c.Size > MaxImageSide {
		return invalid("ImageFolderConfig", "size %d out of range [0, %d]", c.Size, MaxImageSide)
	}
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return invalid("ImageFolderConfig", "channels %d, want 0 (as stored), 1 (gray) or 3 (RGB)", c.Channels)
	}
	return nil
}

// ImageFolder is a dataset read from a folder with one subfolder per class, like
// torchvision's ImageFolder: classes are the subfolder names in sorted order, labels their
// positions.
type ImageFolder struct {
	*InMemory
	ClassNames []string // class names in label order
	Files      []string // path of each example, in dataset order
}

// imageExts are the file extensions read (case-insensitive); other files are ignored.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// LoadImageFolder reads one tree dir/CLASS/**/*.{png,jpg,jpeg} into memory (see
// ImageFolderConfig for resizing and channels). Examples are shaped [C, H, W] with values
// x/255 (alpha is dropped: the stored colour is kept as if the image were opaque). Class
// folders are searched recursively in lexical order; hidden entries (names starting with
// "."), files directly in dir and files with other extensions are ignored. Fewer than two
// class folders, or a class folder without images, is an error naming the folder; a file
// that cannot be decoded is an error naming the file. Files are decoded in parallel
// (GOMAXPROCS workers); the result does not depend on the number of workers.
func LoadImageFolder(dir string, cfg ImageFolderConfig) (*ImageFolder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := scanTree(dir)
	if err != nil {
		return nil, err
	}
	sets, err := decodeTrees([]*imageTree{t}, dir, cfg)
	if err != nil {
		return nil, err
	}
	return &ImageFolder{InMemory: sets[0], ClassNames: t.classes, Files: t.files}, nil
}

// imageTree is the file list of one DIR/CLASS/* tree.
type imageTree struct {
	dir     string
	classes []string
	files   []string
	labels  []int
}

func visible(name string) bool { return !strings.HasPrefix(name, ".") }

// subdirs returns the sorted names of the visible subfolders of dir (symbolic links to
// folders included) and whether dir holds image files directly.
func subdirs(dir string) (names []string, hasImages bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, fileErr(dir, ErrNotFound, "no such folder")
		}
		return nil, false, fileErr(dir, ErrNotFound, "%v", err)
	}
	for _, e := range entries {
		if !visible(e.Name()) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
				isDir = fi.IsDir()
			}
		}
		if isDir {
			names = append(names, e.Name())
		} else if imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			hasImages = true
		}
	}
	sort.Strings(names)
	return names, hasImages, nil
}

// scanTree lists dir/CLASS/**/*.{png,jpg,jpeg}.
func scanTree(dir string) (*imageTree, error) {
	classes, loose, err := subdirs(dir)
	if err != nil {
		return nil, err
	}
	switch {
	case len(classes) == 0 && loose:
		return nil, fileErr(dir, ErrNotFound, "images lie directly in the folder; put them in one subfolder per class (DIR/CLASS/IMAGE.png)")
	case len(classes) == 0:
		return nil, fileErr(dir, ErrNotFound, "no class subfolders and no images; want DIR/CLASS/IMAGE.png")
	case len(classes) == 1:
		return nil, fileErr(dir, ErrNotFound, "one class folder (%s); need at least 2 classes", classes[0])
	}
	t := &imageTree{dir: dir, classes: classes}
	for label, c := range classes {
		sub := filepath.Join(dir, c)
		n := 0
		err := filepath.WalkDir(sub, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return fileErr(p, ErrNotFound, "%v", err)
			}
			if p != sub && !visible(e.Name()) {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if e.IsDir() || !imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				return nil
			}
			if !e.Type().IsRegular() {
				fi, err := os.Stat(p) // a symbolic link: keep it if it points to a file
				if err != nil {
					return nil // dangling
				}
				if !fi.Mode().IsRegular() {
					_, _, err := fsafe.Open(p, MaxImageFileBytes)
					return readErr(p, err)
				}
			}
			t.files = append(t.files, p)
			t.labels = append(t.labels, label)
			n++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fileErr(sub, ErrNotFound, "class folder %q has no .png, .jpg or .jpeg files", c)
		}
	}
	return t, nil
}

// imageHeader is what image.DecodeConfig tells about one file.
type imageHeader struct {
	w, h int
	gray bool
}

// isGrayModel reports whether a decoder's colour model stores gray pixels only.
func isGrayModel(m color.Model) bool {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	if p, ok := m.(color.Palette); ok {
		for _, c := range p {
			r, g, b, _ := c.RGBA()
			if r != g || g != b {
				return false
			}
		}
		return len(p) > 0
	}
	return false
}

// openImage opens path and checks its size.
func openImage(path string) (*os.File, int64, error) {
	f, size, err := fsafe.Open(path, MaxImageFileBytes)
	if err != nil {
		if errors.Is(err, fsafe.ErrTooLarge) {
			return nil, 0, fileErr(path, ErrBadImage, "file is more than the %d MiB limit for one image", MaxImageFileBytes>>20)
		}
		return nil, 0, readErr(path, err)
	}
	if size == 0 {
		f.Close()
		return nil, 0, fileErr(path, ErrBadImage, "empty file")
	}
	return f, size, nil
}

// checkHeader validates a decoded header.
func checkHeader(path string, cfg image.Config) (imageHeader, error) {
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return imageHeader{}, fileErr(path, ErrBadImage, "image is %dx%d, has no pixels", w, h)
	}
	if w > MaxImageSide || h > MaxImageSide || int64(w)*int64(h) > MaxImagePixels {
		return imageHeader{}, fileErr(path, ErrBadImage, "image is %dx%d, larger than the limit (side <= %d, width*height <= %d)",
			w, h, MaxImageSide, MaxImagePixels)
	}
	return imageHeader{w: w, h: h, gray: isGrayModel(cfg.ColorModel)}, nil
}

// readHeader reads the header of one image file.
func readHeader(path string) (imageHeader, error) {
	f, _, err := openImage(path)
	if err != nil {
		return imageHeader{}, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return imageHeader{}, fileErr(path, ErrBadImage, "cannot decode as PNG or JPEG: %v", err)
	}
	return checkHeader(path, cfg)
}

// decodeFile reads and decodes one image file, checking its header first.
func decodeFile(path string) (img image.Image, err error) {
	f, size, err := openImage(path)
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	_, err = io.ReadFull(f, b)
	f.Close()
	if err != nil {
		return nil, fileErr(path, ErrNotFound, "read: %v", err)
	}
	return decodeBytes(path, b)
}

// decodeBytes decodes one PNG or JPEG held in b; a decoder panic becomes an error.
func decodeBytes(path string, b []byte) (img image.Image, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fileErr(path, ErrBadImage, "cannot decode as PNG or JPEG: %v", err)
	}
	hd, err := checkHeader(path, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fileErr(path, ErrBadImage, "decoder failed: %v", r)
		}
	}()
	img, _, err = image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fileErr(path, ErrBadImage, "cannot decode as PNG or JPEG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != hd.w || r.Dy() != hd.h {
		return nil, fileErr(path, ErrBadImage, "decoded image is %dx%d, header says %dx%d", r.Dx(), r.Dy(), hd.w, hd.h)
	}
	return img, nil
}

// parallel calls fn(i) for i in [0, n) on GOMAXPROCS goroutines and returns the error of
// the lowest failing index (indices below it are all run, indices above it may be
// skipped), so the error does not depend on scheduling. A panic in fn becomes an error.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, n)
	var next atomic.Int64
	var firstFail atomic.Int64
	firstFail.Store(int64(n))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || int64(i) > firstFail.Load() {
					return
				}
				err := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("data: example %d: internal error: %v", i, r)
						}
					}()
					return fn(i)
				}()
				if err != nil {
					errs[i] = err
					for {
						f := firstFail.Load()
						if int64(i) >= f || firstFail.CompareAndSwap(f, int64(i)) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if f := int(firstFail.Load()); f < n {
		return errs[f]
	}
	return nil
}

// decodeTrees decodes the files of several trees (the splits of one folder) with one
// channel decision for all; root names the folder in errors.
func decodeTrees(trees []*imageTree, root string, cfg ImageFolderConfig) ([]*InMemory, error) {
	var files []string
	for _, t := range trees {
		files = append(files, t.files...)
	}
	heads := make([]imageHeader, len(files))
	if err := parallel(len(files), func(i int) (err error) {
		heads[i], err = readHeader(files[i])
		return err
	}); err != nil {
		return nil, err
	}
	ch := cfg.Channels
	if ch == 0 {
		gi := slices.IndexFunc(heads, func(h imageHeader) bool { return h.gray })
		ci := slices.IndexFunc(heads, func(h imageHeader) bool { return !h.gray })
		switch {
		case gi >= 0 && ci >= 0:
			return nil, fileErr(root, ErrMismatch, "mixed channels: %s is gray, %s is colour; set channels to 1 (gray) or 3 (RGB)", files[gi], files[ci])
		case gi >= 0:
			ch = 1
		default:
			ch = 3
		}
	}
	w, h := cfg.Size, cfg.Size
	if cfg.Size == 0 {
		w, h = heads[0].w, heads[0].h
		for i, hd := range heads {
			if hd.w != w || hd.h != h {
				return nil, fileErr(files[i], ErrBadImage, "image is %dx%d, but %s is %dx%d; all images must share one size (set an image size to resize them)",
					hd.w, hd.h, files[0], w, h)
			}
		}
	}
	size := ch * h * w
	sets := make([]*InMemory, len(trees))
	dst := make([][]float32, len(files))
	k := 0
	for s, t := range trees {
		x := make([]float32, len(t.files)*size)
		for i := range t.files {
			dst[k] = x[i*size : (i+1)*size]
			k++
		}
		sets[s] = &InMemory{X: x, Y: slices.Clone(t.labels), ExampleShape: []int{ch, h, w}, NumClasses: len(t.classes)}
	}
	if err := parallel(len(files), func(i int) error {
		img, err := decodeFile(files[i])
		if err != nil {
			return err
		}
		if cfg.Size == 0 {
			imageToCHW(img, dst[i], ch)
		} else {
			resizeCropCHW(img, dst[i], ch, cfg.Size)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return sets, nil
}

// LoadImage decodes one PNG or JPEG file with the preprocessing of an image folder loaded
// with ImageFolderConfig{Size: size, Channels: channels}: shorter side resized to size,
// central size×size crop, channels 1 (luma) or 3 (RGB), values x/255, shaped
// [channels, size, size]. Errors name the file.
func LoadImage(path string, channels, size int) ([]float32, error) {
	if channels != 1 && channels != 3 {
		return nil, invalid("LoadImage", "channels %d, want 1 or 3", channels)
	}
	if size < 1 || size > MaxImageSide {
		return nil, invalid("LoadImage", "size %d out of range [1, %d]", size, MaxImageSide)
	}
	img, err := decodeFile(path)
	if err != nil {
		return nil, err
	}
	x := make([]float32, channels*size*size)
	resizeCropCHW(img, x, channels, size)
	return x, nil
}

// luma is the ITU-R 601 luma of an 8-bit RGB colour with the 16-bit fixed-point weights
// 0.299, 0.587, 0.114 (19595, 38470, 7471; they sum to 65536, so gray stays gray) and
// rounding, as PIL's convert("L") and Go's color.GrayModel for opaque colours.
func luma(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}

// rowReader returns a function that writes row y of img (relative to its bounds) into
// out[c][0:w] for each of ch output channels: R, G, B (alpha dropped: straight,
// non-premultiplied colour), or the luma for ch == 1. Common decoder outputs (Gray, RGBA,
// NRGBA, YCbCr, Paletted) are read directly; others through At.
func rowReader(img image.Image, ch int) func(y int, out [][]uint8) {
	b := img.Bounds()
	w := b.Dx()
	put := func(out [][]uint8, x int, r, g, bl uint8) {
		if ch == 1 {
			out[0][x] = luma(r, g, bl)
			return
		}
		out[0][x], out[1][x], out[2][x] = r, g, bl
	}
	switch m := img.(type) {
	case *image.Gray:
		return func(y int, out [][]uint8) {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for c := range ch {
				copy(out[c][:w], row)
			}
		}
	case *image.NRGBA:
		return func(y int, out [][]uint8) {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				put(out, x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA:
		return func(y int, out [][]uint8) {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				r, g, bl, a := row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]
				if a != 255 && a != 0 { // un-premultiply
					r = uint8((uint32(r)*255 + uint32(a)/2) / uint32(a))
					g = uint8((uint32(g)*255 + uint32(a)/2) / uint32(a))
					bl = uint8((uint32(bl)*255 + uint32(a)/2) / uint32(a))
				}
				put(out, x, r, g, bl)
			}
		}
	case *image.YCbCr:
		return func(y int, out [][]uint8) {
			for x := range w {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(out, x, r, g, bl)
			}
		}
	case *image.Paletted:
		pal := make([]color.NRGBA, 256)
		for i, c := range m.Palette {
			pal[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
		return func(y int, out [][]uint8) {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, p := range row {
				c := pal[p]
				put(out, x, c.R, c.G, c.B)
			}
		}
	}
	return func(y int, out [][]uint8) {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			put(out, x, c.R, c.G, c.B)
		}
	}
}

func rowBuffers(ch, w int) [][]uint8 {
	out := make([][]uint8, ch)
	for c := range out {
		out[c] = make([]uint8, w)
	}
	return out
}

// imageToCHW writes img unresized into dst as CHW float32 values x/255.
func imageToCHW(img image.Image, dst []float32, ch int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	read := rowReader(img, ch)
	row := rowBuffers(ch, w)
	for y := range h {
		read(y, row)
		for c := range ch {
			d := dst[c*w*h+y*w : c*w*h+(y+1)*w]
			for x, v := range row[c] {
				d[x] = float32(v) / 255
			}
		}
	}
}

// resizedSize returns the size of a w×h image whose shorter side is resized to s, the
// longer side scaled by the same factor and truncated (torchvision's Resize(int)).
func resizedSize(w, h, s int) (rw, rh int) {
	if w <= h {
		return s, max(s, s*h/w)
	}
	return max(s, s*w/h), s
}

// cropOffset is torchvision's CenterCrop offset: round((n - s) / 2) with Python's
// round-half-to-even.
func cropOffset(n, s int) int { return int(math.RoundToEven(float64(n-s) / 2)) }

// resampleTaps holds the bilinear weights of out consecutive output positions: output j
// is sum over k < n[j] of w[j*ksize+k] * in[start[j]+k].
type resampleTaps struct {
	start, n []int
	w        []float32
	ksize    int
}

// bilinearTaps computes the weights for output positions lo..lo+count-1 of an inSize ->
// outSize resampling with the triangle (bilinear) filter, stretched by the scale when
// shrinking so that every input pixel contributes (antialiasing). This is PIL's
// precompute_coeffs in Resample.c: center = (j + 0.5)·scale, support = max(scale, 1),
// weight(x) = tri((x − center + 0.5)/max(scale, 1)), normalized to sum 1.
func bilinearTaps(inSize, outSize, lo, count int) resampleTaps {
	scale := float64(inSize) / float64(outSize)
	fs := max(scale, 1)
	support := fs
	ksize := int(math.Ceil(support))*2 + 1
	t := resampleTaps{start: make([]int, count), n: make([]int, count), w: make([]float32, count*ksize), ksize: ksize}
	for j := range count {
		center := (float64(lo+j) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize)
		n := min(xmax-xmin, ksize)
		ws := make([]float64, n)
		sum := 0.0
		for k := range n {
			v := 1 - math.Abs((float64(xmin+k)-center+0.5)/fs)
			v = max(v, 0)
			ws[k] = v
			sum += v
		}
		for k := range n {
			if sum != 0 {
				ws[k] /= sum
			}
			t.w[j*ksize+k] = float32(ws[k])
		}
		t.start[j], t.n[j] = xmin, n
	}
	return t
}

// resizeCropCHW resizes img so its shorter side is s (bilinear, PIL-style antialiasing when
// shrinking, upsampling when the image is smaller) and writes the central s×s crop into
// dst as CHW float32 values in [0, 1] (the resampled 8-bit values divided by 255, not
// rounded back to 8 bits). Only the crop is computed: the horizontal pass runs over the
// source rows the crop needs and produces only the crop's columns.
func resizeCropCHW(img image.Image, dst []float32, ch, s int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rw, rh := resizedSize(w, h, s)
	if rw == w && rh == h && w == s && h == s {
		imageToCHW(img, dst, ch)
		return
	}
	cols := bilinearTaps(w, rw, cropOffset(rw, s), s)
	rows := bilinearTaps(h, rh, cropOffset(rh, s), s)
	y0 := rows.start[0]
	y1 := rows.start[s-1] + rows.n[s-1]
	for j := range s {
		y0 = min(y0, rows.start[j])
		y1 = max(y1, rows.start[j]+rows.n[j])
	}
	nr := y1 - y0
	tmp := make([]float32, ch*nr*s) // [c][row - y0][col]
	read := rowReader(img, ch)
	row := rowBuffers(ch, w)
	for y := y0; y < y1; y++ {
		read(y, row)
		for c := range ch {
			in := row[c]
			out := tmp[(c*nr+y-y0)*s : (c*nr+y-y0+1)*s]
			for j := range s {
				ws := cols.w[j*cols.ksize : j*cols.ksize+cols.n[j]]
				px := in[cols.start[j]:]
				var acc float32
				for k, wk := range ws {
					acc += wk * float32(px[k])
				}
				out[j] = acc
			}
		}
	}
	for c := range ch {
		plane := tmp[c*nr*s : (c+1)*nr*s]
		for i := range s {
			ws := rows.w[i*rows.ksize : i*rows.ksize+rows.n[i]]
			d := dst[c*s*s+i*s : c*s*s+(i+1)*s]
			for j := range s {
				d[j] = 0
			}
			for k, wk := range ws {
				src := plane[(rows.start[i]+k-y0)*s : (rows.start[i]+k-y0+1)*s]
				for j, v := range src {
					d[j] += wk * v
				}
			}
			for j := range s {
				d[j] = min(max(d[j]/255, 0), 1)
			}
		}
	}
}
