package veil

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"time"

	"github.com/veilkit/veil/internal/debugdraw"
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

// Source is a decoded image file.
type Source struct {
	Image  image.Image // upright (EXIF orientation applied)
	Format string      // "jpeg" or "png"
	// EXIF is a JPEG's EXIF block (the TIFF structure), nil if none. It is
	// written out only when EncodeOptions.EXIF asks for it, and then
	// without its GPS data and thumbnail.
	EXIF []byte
}

// DecodeSource reads a whole image file as Decode does and keeps its
// format and EXIF block for Encode.
func DecodeSource(r io.Reader) (*Source, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	img, format, _, err := imageio.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImage, err)
	}
	s := &Source{Image: img, Format: format}
	if format == "jpeg" {
		s.EXIF = imageio.JPEGEXIF(data)
	}
	return s, nil
}

// Metadata describes the objects of one image in the Celantur metadata
// schema. name is the image's file name (its folder goes to "folder"),
// bounds the image's bounds ("size" is [height, width], as Celantur
// writes it) and took the processing time. With debug drawing, each
// detection's "color" is the colour of its box; otherwise null.
func Metadata(name string, bounds image.Rectangle, objs []Object, debug bool, took time.Duration) metadata.Image {
	base := filepath.Base(name)
	m := metadata.Image{ID: base, Filename: base, Size: [2]int{bounds.Dy(), bounds.Dx()},
		Duration: took.Seconds(), Detections: make([]metadata.Detection, len(objs))}
	if dir := filepath.Dir(name); dir != "." {
		m.Folder = &dir
	}
	for k, o := range objs {
		r := o.Box.Rect().Sub(bounds.Min)
		label := o.Class.String()
		d := metadata.Detection{ID: k, ParentImage: base, Offset: [2]int{o.Offset.X - bounds.Min.X, o.Offset.Y - bounds.Min.Y},
			BBox: [4]int{r.Min.X, r.Min.Y, r.Max.X, r.Max.Y}, Type: metadata.TypeCode(label),
			Score: metadata.Round6(o.Score), IsAnonymised: o.Anonymized, TypeLabel: label}
		if debug {
			c := debugdraw.ClassColor(label)
			d.Color = &[3]int{int(c.R), int(c.G), int(c.B)}
		}
		m.Detections[k] = d
	}
	return m
}
