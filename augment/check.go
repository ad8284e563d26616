package augment

import "fmt"

// CheckShape reports the first step of p whose pixel sizes cannot fit an example of
// shape (C, H, W): a crop padding of more than the image's side (the crop would show
// mostly padding), a cutout square larger than the image, a translation by more pixels
// than the image has. Parse cannot check them: it does not know the image size.
func (p *Pipeline) CheckShape(shape []int) error {
	if p == nil || len(shape) != 3 {
		return nil
	}
	side := min(shape[1], shape[2])
	for _, s := range p.Steps {
		switch t := s.(type) {
		case Crop:
			if t.Pad > side {
				return fmt.Errorf("augment: crop pad %d out of range [0, %d] for %dx%d images", t.Pad, side, shape[1], shape[2])
			}
		case Cutout:
			if t.Size > max(shape[1], shape[2]) {
				return fmt.Errorf("augment: cutout size %d out of range [1, %d] for %dx%d images", t.Size, max(shape[1], shape[2]), shape[1], shape[2])
			}
		case Affine:
			if t.Pixels > float64(side) {
				return fmt.Errorf("augment: translate px %v out of range [0, %d] for %dx%d images", t.Pixels, side, shape[1], shape[2])
			}
		}
	}
	return nil
}
