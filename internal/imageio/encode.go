package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
)

// EncodeOptions say how Encode writes an image.
type EncodeOptions struct {
	Format        string // "jpeg" or "png"
	Quality       int    // JPEG quality 1..100
	CompressLevel int    // PNG compression level 0..9 (zlib-style), mapped to Go's levels: 0 NoCompression, 1-3 BestSpeed, 4-6 DefaultCompression, 7-9 BestCompression
	EXIF          []byte // TIFF payload to embed (already sanitized by the caller), nil for none
}

// ErrFormat is wrapped by Encode's error for an unknown format or an
// out-of-range quality or compression level.
var ErrFormat = errors.New("imageio: invalid encode options")

// maxJPEGEXIF is the largest EXIF payload an APP1 segment holds: 65535 less
// the 2 length bytes and the 6 bytes of "Exif\0\0".
const maxJPEGEXIF = 65535 - 2 - 6

// Encode writes img to w as a JPEG (o.Quality, CompressLevel ignored) or a
// PNG (o.CompressLevel, Quality ignored).
//
// Go's encoders write no metadata of their own, so the output carries
// nothing of the original file but its pixels and, when o.EXIF is not empty,
// that payload as given: in an APP1 "Exif\0\0" segment right after the JPEG's
// SOI marker (at most 65527 bytes), or in an eXIf chunk right after the PNG's
// IHDR chunk. The caller sanitizes it first (see SanitizeEXIF).
//
// The image is encoded in memory and written to w with a single Write, so an
// error — options wrapping ErrFormat, an EXIF payload too large, an image the
// encoder refuses — leaves w untouched.
func Encode(w io.Writer, img image.Image, o EncodeOptions) error {
	var (
		buf bytes.Buffer
		at  int    // where ins goes in the encoder's output
		ins []byte // the metadata segment or chunk to insert
		err error
	)
	switch o.Format {
	case "jpeg":
		if o.Quality < 1 || o.Quality > 100 {
			return fmt.Errorf("%w: JPEG quality %d outside 1..100", ErrFormat, o.Quality)
		}
		if len(o.EXIF) > 0 {
			if len(o.EXIF) > maxJPEGEXIF {
				return fmt.Errorf("imageio: EXIF payload of %d bytes exceeds the %d a JPEG APP1 segment holds",
					len(o.EXIF), maxJPEGEXIF)
			}
			ins = make([]byte, 0, 4+6+len(o.EXIF))
			ins = append(ins, 0xFF, 0xE1)
			ins = binary.BigEndian.AppendUint16(ins, uint16(2+6+len(o.EXIF)))
			ins = append(ins, "Exif\x00\x00"...)
			ins = append(ins, o.EXIF...)
			at = 2 // after SOI
		}
		reserve(&buf, len(ins))
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: o.Quality})
	case "png":
		var level png.CompressionLevel
		switch l := o.CompressLevel; {
		case l == 0:
			level = png.NoCompression
		case l >= 1 && l <= 3:
			level = png.BestSpeed
		case l >= 4 && l <= 6:
			level = png.DefaultCompression
		case l >= 7 && l <= 9:
			level = png.BestCompression
		default:
			return fmt.Errorf("%w: PNG compression level %d outside 0..9", ErrFormat, l)
		}
		if len(o.EXIF) > 0 {
			if len(o.EXIF) > math.MaxInt32 {
				return fmt.Errorf("imageio: EXIF payload of %d bytes too large for a PNG chunk", len(o.EXIF))
			}
			ins = make([]byte, 0, 12+len(o.EXIF))
			ins = binary.BigEndian.AppendUint32(ins, uint32(len(o.EXIF)))
			ins = append(ins, "eXIf"...)
			ins = append(ins, o.EXIF...)
			ins = binary.BigEndian.AppendUint32(ins, crc32.ChecksumIEEE(ins[4:]))
			at = 8 + 25 // after the signature and the IHDR chunk
		}
		reserve(&buf, len(ins))
		err = (&png.Encoder{CompressionLevel: level}).Encode(&buf, img)
	default:
		return fmt.Errorf("%w: unknown format %q (want \"jpeg\" or \"png\")", ErrFormat, o.Format)
	}
	if err != nil {
		return fmt.Errorf("imageio: %w", err)
	}
	b := buf.Bytes()
	if n := len(ins); n > 0 {
		// The encoder wrote after n reserved bytes: move its first at bytes to
		// the front and put ins in the gap.
		if len(b) < n+at {
			return fmt.Errorf("imageio: %s encoder wrote only %d bytes", o.Format, len(b)-n)
		}
		copy(b, b[n:n+at])
		copy(b[at:], ins)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("imageio: %w", err)
	}
	return nil
}

// reserve writes n zero bytes to buf, room for a segment inserted later.
func reserve(buf *bytes.Buffer, n int) {
	if n > 0 {
		buf.Write(make([]byte, n))
	}
}
