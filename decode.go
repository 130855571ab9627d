package veil

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/veilkit/veil/internal/debugdraw"
	"github.com/veilkit/veil/internal/imageio"
	"github.com/veilkit/veil/mask"
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

// MetadataOptions say what Metadata adds to Celantur's schema.
type MetadataOptions struct {
	// Colors sets each detection's "color" to the colour of its debug
	// box (otherwise null): use it when the image has the debug drawing.
	Colors bool
	// RLE adds each object's mask as "mask": "coco" a COCO RLE
	// ({"size": [h, w], "counts": "…"}, the compressed string form
	// pycocotools writes), "runs" the labelling-platform form
	// [start, length, …] of row-major pixel indices; "" none (default).
	RLE string
}

// DecodeSourceFile is DecodeSource of the file name.
func DecodeSourceFile(name string) (*Source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeSource(f)
}

// Metadata describes the objects of r in the Celantur metadata schema.
// name is the image's file name (its folder goes to "folder"), took the
// processing time. "size" is [height, width], as Celantur writes it.
func Metadata(name string, r *Result, took time.Duration, o MetadataOptions) (metadata.Image, error) {
	base := filepath.Base(name)
	dets, err := detectionsMetadata(base, r, o)
	if err != nil {
		return metadata.Image{}, err
	}
	m := metadata.Image{ID: base, Filename: base, Size: [2]int{r.Bounds.Dy(), r.Bounds.Dx()},
		Duration: took.Seconds(), Detections: dets}
	if dir := filepath.Dir(name); dir != "." {
		m.Folder = &dir
	}
	return m, nil
}

// detectionsMetadata describes r's objects as detections of the image or
// frame parent.
func detectionsMetadata(parent any, r *Result, o MetadataOptions) ([]metadata.Detection, error) {
	switch o.RLE {
	case "", "coco", "runs":
	default:
		return nil, fmt.Errorf("%w: RLE format %q (want coco or runs)", ErrOption, o.RLE)
	}
	bounds := r.Bounds
	w, h := bounds.Dx(), bounds.Dy()
	dets := make([]metadata.Detection, len(r.Objects))
	for k, obj := range r.Objects {
		box := obj.Box.Rect().Sub(bounds.Min)
		label := obj.Class.String()
		d := metadata.Detection{ID: k, ParentImage: parent, Offset: [2]int{obj.Offset.X - bounds.Min.X, obj.Offset.Y - bounds.Min.Y},
			BBox: [4]int{box.Min.X, box.Min.Y, box.Max.X, box.Max.Y}, Type: metadata.TypeCode(label),
			Score: metadata.Round6(obj.Score), IsAnonymised: obj.Anonymized, TypeLabel: label, TrackID: obj.TrackID}
		if o.Colors {
			c := debugdraw.ClassColor(label)
			d.Color = &[3]int{int(c.R), int(c.G), int(c.B)}
		}
		if o.RLE != "" && obj.Mask != nil {
			mm := *obj.Mask
			mm.Rect = mm.Rect.Sub(bounds.Min)
			if o.RLE == "coco" {
				d.Mask = mask.EncodeCOCOString(&mm, w, h)
			} else {
				d.Mask = mask.EncodeRuns(&mm, w, h)
			}
		}
		dets[k] = d
	}
	return dets, nil
}
