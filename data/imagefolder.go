package data

import (
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ImageFolderConfig configures LoadImageFolder. The zero value reads colour (RGB) images.
type ImageFolderConfig struct {
	// Gray converts every image to one luma channel (ITU-R 601 weights, as PIL's
	// convert("L")) instead of three RGB channels.
	Gray bool
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

// LoadImageFolder reads dir/CLASS/*.{png,jpg,jpeg} into memory. Images are not resized:
// all must share one size, and the first image that differs is an error naming the file
// and both sizes. Examples are shaped [C, H, W] (C = 3, or 1 with Gray) with values x/255
// (alpha is dropped). Files directly in dir and files with other extensions are ignored;
// a class folder without images is an error.
func LoadImageFolder(dir string, cfg ImageFolderConfig) (*ImageFolder, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileErr(dir, ErrNotFound, "%v", err)
	}
	var classes []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, fileErr(dir, ErrNotFound, "no class subfolders; want DIR/CLASS/IMAGE.png")
	}
	var files []string
	var labels []int
	for label, c := range classes {
		sub := filepath.Join(dir, c)
		es, err := os.ReadDir(sub)
		if err != nil {
			return nil, fileErr(sub, ErrNotFound, "%v", err)
		}
		n := 0
		for _, e := range es {
			if e.Type().IsRegular() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				files = append(files, filepath.Join(sub, e.Name()))
				labels = append(labels, label)
				n++
			}
		}
		if n == 0 {
			return nil, fileErr(sub, ErrNotFound, "class folder %q has no .png, .jpg or .jpeg files", c)
		}
	}
	ch := 3
	if cfg.Gray {
		ch = 1
	}
	var x []float32
	var w, h int
	for i, p := range files {
		img, err := decodeImage(p)
		if err != nil {
			return nil, err
		}
		b := img.Bounds()
		if i == 0 {
			w, h = b.Dx(), b.Dy()
			x = make([]float32, len(files)*ch*w*h)
		} else if b.Dx() != w || b.Dy() != h {
			return nil, fileErr(p, ErrBadImage, "image is %dx%d, but %s is %dx%d; all images must share one size (resize them first)",
				b.Dx(), b.Dy(), files[0], w, h)
		}
		imageToCHW(img, x[i*ch*w*h:(i+1)*ch*w*h], cfg.Gray)
	}
	ds := &InMemory{X: x, Y: labels, ExampleShape: []int{ch, h, w}, NumClasses: len(classes)}
	return &ImageFolder{InMemory: ds, ClassNames: classes, Files: files}, nil
}

func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(path, ErrNotFound, "%v", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fileErr(path, ErrBadImage, "cannot decode as PNG or JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fileErr(path, ErrBadImage, "image has no pixels")
	}
	return img, nil
}

// imageToCHW writes img into dst as CHW float32 values x/255.
func imageToCHW(img image.Image, dst []float32, gray bool) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	for yy := range h {
		for xx := range w {
			c := img.At(b.Min.X+xx, b.Min.Y+yy)
			k := yy*w + xx
			if gray {
				g := color.GrayModel.Convert(c).(color.Gray)
				dst[k] = float32(g.Y) / 255
				continue
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			dst[k] = float32(n.R) / 255
			dst[plane+k] = float32(n.G) / 255
			dst[2*plane+k] = float32(n.B) / 255
		}
	}
}
