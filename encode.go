package veil

import (
	"fmt"
	"image"
	"io"

	"github.com/veilkit/veil/internal/imageio"
)

// Default encoding parameters (Celantur's).
const (
	DefaultQuality       = 90
	DefaultCompressLevel = 5
)

// NoCompression is the CompressLevel of an uncompressed PNG (the
// Celantur API's compress-level 0): the zero CompressLevel means the
// default, as in image/png.
const NoCompression = -1

// EncodeOptions say how Encode writes an image. The zero value writes the
// defaults.
type EncodeOptions struct {
	// Format is "jpeg" or "png"; "" means "jpeg".
	Format string
	// Quality is the JPEG quality, 1..100; 0 means DefaultQuality (90).
	Quality int
	// CompressLevel is the PNG compression level, 1..9 (zlib's scale,
	// mapped to Go's four levels: 1–3 best speed, 4–6 default, 7–9 best
	// compression) or NoCompression; 0 means DefaultCompressLevel (5).
	CompressLevel int
	// EXIF, when not nil, is the original's EXIF block to keep
	// (Source.EXIF). Encode writes it without the GPS data, the thumbnail
	// (which shows the picture before anonymization), the maker note and
	// other vendor blocks, and with orientation 1 (the pixels are
	// upright). Without it nothing of the original's metadata is written.
	EXIF []byte
}

// Encode writes img to w. The image is encoded in memory first: on error
// nothing is written.
func Encode(w io.Writer, img image.Image, o EncodeOptions) error {
	eo := imageio.EncodeOptions{Format: o.Format, Quality: o.Quality, CompressLevel: o.CompressLevel}
	if eo.Format == "" {
		eo.Format = "jpeg"
	}
	if eo.Quality == 0 {
		eo.Quality = DefaultQuality
	}
	switch eo.CompressLevel {
	case 0:
		eo.CompressLevel = DefaultCompressLevel
	case NoCompression:
		eo.CompressLevel = 0
	}
	if eo.Format != "jpeg" && eo.Format != "png" || eo.Quality < 1 || eo.Quality > 100 || eo.CompressLevel < 0 || eo.CompressLevel > 9 {
		return fmt.Errorf("%w: format %q, quality %d, compress level %d", ErrOption, o.Format, o.Quality, o.CompressLevel)
	}
	if o.EXIF != nil {
		exif, err := imageio.SanitizeEXIF(o.EXIF)
		if err != nil {
			return fmt.Errorf("%w: keeping EXIF: %w", ErrImage, err)
		}
		eo.EXIF = exif
	}
	return imageio.Encode(w, img, eo)
}
