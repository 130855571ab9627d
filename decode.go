package veil

import (
	"fmt"
	"image"
	"io"
	"path/filepath"
	"time"

	"github.com/veilkit/veil/internal/imageio"
	"github.com/veilkit/veil/metadata"
)

// Decode reads a JPEG or PNG image and returns it upright: a JPEG's EXIF
// orientation (phone photos) is applied, so detection boxes land on the
// pixels a viewer sees. Images over MaxPixels are refused before their
// pixels are decoded.
func Decode(r io.Reader) (image.Image, error) {
	img, _, _, err := imageio.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImage, err)
	}
	return img, nil
}

// Metadata describes the detections of one image in the Celantur metadata
// schema. name is the image's file name; anonymised says whether the
// detections were anonymized.
func Metadata(name string, bounds image.Rectangle, dets []Detection, anonymised bool, took time.Duration) metadata.Image {
	base := filepath.Base(name)
	m := metadata.Image{ID: base, Filename: base, Size: [2]int{bounds.Dy(), bounds.Dx()},
		Duration: took.Seconds(), Detections: make([]metadata.Detection, len(dets))}
	if dir := filepath.Dir(name); dir != "." {
		m.Folder = dir
	}
	for k, d := range dets {
		r := d.Box.Rect()
		m.Detections[k] = metadata.Detection{ID: k, ParentImage: base, BBox: [4]int{r.Min.X, r.Min.Y, r.Max.X, r.Max.Y},
			Type: metadata.TypeCode(d.Class.String()), Score: metadata.Round6(d.Score), IsAnonymised: anonymised,
			TypeLabel: d.Class.String()}
	}
	return m
}
