// Package imageio decodes images the way a viewer shows them — a JPEG carrying
// an EXIF Orientation tag is turned upright — and refuses images whose
// declared size is too large before any pixel memory is allocated.
//
// JPEG and PNG decoders are registered by this package; any other format
// registered with image.RegisterFormat is decoded too (orientation 1).
package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // register "jpeg"
	_ "image/png"  // register "png"
	"io"
)

// ErrTooLarge is wrapped by the error Decode returns for an image whose
// declared width×height exceeds MaxPixels.
var ErrTooLarge = errors.New("imageio: image too large")

// MaxPixels is the largest width×height Decode accepts. The check is made on
// the size declared in the header, before any pixels are decoded.
var MaxPixels = 1 << 28

// Decode reads a JPEG or PNG (or any format registered with
// image.RegisterFormat) and returns it upright: for a JPEG with an EXIF
// Orientation tag 2–8 the pixels are flipped/rotated accordingly (6 = rotate
// 90° clockwise, 8 = 90° counter-clockwise, 3 = 180°, 2/4 mirrors, 5/7
// transpose/transverse). It also returns the format name and the orientation
// found (1 if none).
//
// The stream is read once (r need not be seekable). An image declaring more
// than MaxPixels pixels is refused with an error wrapping ErrTooLarge; a
// corrupt image gives the decoder's error wrapped with "imageio: ".
func Decode(r io.Reader) (img image.Image, format string, orientation int, err error) {
	cfg, format, orientation, rest, err := header(r)
	if err != nil {
		return nil, format, 1, err
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(MaxPixels) {
		return nil, format, orientation, fmt.Errorf("%w: %s %dx%d exceeds %d pixels",
			ErrTooLarge, format, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err = image.Decode(rest)
	if err != nil {
		return nil, format, orientation, fmt.Errorf("imageio: %w", err)
	}
	return Rotate(img, orientation), format, orientation, nil
}

// DecodeConfig returns the colour model and the upright size of the image
// without decoding its pixels: width and height are swapped for a JPEG whose
// EXIF orientation is 5–8.
func DecodeConfig(r io.Reader) (image.Config, string, error) {
	cfg, format, o, _, err := header(r)
	if err != nil {
		return cfg, format, err
	}
	if o >= 5 {
		cfg.Width, cfg.Height = cfg.Height, cfg.Width
	}
	return cfg, format, nil
}

// header decodes the image config (as stored, not swapped), records every
// byte it consumed, and returns a reader yielding the whole stream again.
func header(r io.Reader) (cfg image.Config, format string, orientation int, rest io.Reader, err error) {
	var head bytes.Buffer
	cfg, format, err = image.DecodeConfig(io.TeeReader(r, &head))
	if err != nil {
		return cfg, format, 1, nil, fmt.Errorf("imageio: %w", err)
	}
	orientation = 1
	if format == "jpeg" {
		// The JPEG config decoder reads every segment up to the frame header,
		// so the APP1 EXIF segment (which precedes it) is in head.
		orientation = Orientation(head.Bytes())
	}
	return cfg, format, orientation, io.MultiReader(&head, r), nil
}

// Orientation parses the EXIF orientation from the first bytes of a JPEG
// (APP1 "Exif\0\0" segment, TIFF header II/MM, IFD0 tag 0x0112). It returns 1
// when the tag is absent, out of range or unreadable, and never panics on
// hostile input. b may be a truncated prefix of the file.
func Orientation(b []byte) int {
	tiff, _ := exifPayload(b)
	return tiffOrientation(tiff)
}

// JPEGEXIF returns the TIFF payload (the bytes after "Exif\0\0") of the first
// APP1 EXIF segment of the JPEG b, or nil when b is not a JPEG, has no EXIF
// segment before its image data, or ends inside that segment. The result
// aliases b. It never panics on truncated or hostile input.
func JPEGEXIF(b []byte) []byte {
	tiff, whole := exifPayload(b)
	if !whole {
		return nil
	}
	return tiff
}

// exifPayload walks the JPEG segments of b up to the first APP1 EXIF segment
// and returns its TIFF payload, cut short when b ends inside the segment
// (whole is then false). It returns nil when there is no such segment before
// SOS or EOI.
func exifPayload(b []byte) (tiff []byte, whole bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, false
	}
	i := 2
	for {
		if i >= len(b) || b[i] != 0xFF {
			return nil, false
		}
		for i < len(b) && b[i] == 0xFF { // marker plus optional fill bytes
			i++
		}
		if i >= len(b) {
			return nil, false
		}
		m := b[i]
		i++
		switch {
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7): // standalone markers
			continue
		case m == 0xD9 || m == 0xDA || m == 0x00: // EOI, SOS (no EXIF past it), invalid
			return nil, false
		}
		if i+2 > len(b) {
			return nil, false
		}
		end := i + (int(b[i])<<8 | int(b[i+1]))
		if end < i+2 {
			return nil, false
		}
		if m == 0xE1 {
			e := min(end, len(b))
			seg := b[i+2 : e : e]
			if len(seg) >= 6 && string(seg[:5]) == "Exif\x00" {
				// The first EXIF segment is authoritative.
				return seg[6:], end <= len(b)
			}
		}
		i = end
	}
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure, which may
// be cut short: the entries before the cut are used.
func tiffOrientation(b []byte) int {
	t, off, err := parseTIFF(b)
	if err != nil {
		return 1
	}
	entries, _, _ := t.ifd(off)
	return t.orientation(entries)
}

// Rotate applies an EXIF orientation to img and returns a new image whose
// bounds start at (0,0); for orientation 1 (or any value outside 2–8) it
// returns img itself. *image.RGBA, *image.NRGBA, *image.RGBA64,
// *image.NRGBA64, *image.Gray, *image.Gray16, *image.Alpha, *image.Alpha16,
// *image.CMYK and *image.Paletted keep their type; *image.YCbCr and every
// other type become *image.RGBA.
func Rotate(img image.Image, orientation int) image.Image {
	o := orientation
	if o < 2 || o > 8 {
		return img
	}
	switch m := img.(type) {
	case *image.RGBA:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 4, o)
		return &image.RGBA{Pix: pix, Stride: stride, Rect: r}
	case *image.NRGBA:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 4, o)
		return &image.NRGBA{Pix: pix, Stride: stride, Rect: r}
	case *image.RGBA64:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 8, o)
		return &image.RGBA64{Pix: pix, Stride: stride, Rect: r}
	case *image.NRGBA64:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 8, o)
		return &image.NRGBA64{Pix: pix, Stride: stride, Rect: r}
	case *image.Gray:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 1, o)
		return &image.Gray{Pix: pix, Stride: stride, Rect: r}
	case *image.Gray16:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 2, o)
		return &image.Gray16{Pix: pix, Stride: stride, Rect: r}
	case *image.Alpha:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 1, o)
		return &image.Alpha{Pix: pix, Stride: stride, Rect: r}
	case *image.Alpha16:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 2, o)
		return &image.Alpha16{Pix: pix, Stride: stride, Rect: r}
	case *image.CMYK:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 4, o)
		return &image.CMYK{Pix: pix, Stride: stride, Rect: r}
	case *image.Paletted:
		pix, stride, r := rotatePix(m.Pix, m.Stride, m.Rect, m.PixOffset, 1, o)
		return &image.Paletted{Pix: pix, Stride: stride, Rect: r, Palette: append(color.Palette(nil), m.Palette...)}
	case *image.YCbCr:
		if dst := rotateYCbCr(m, o); dst != nil {
			return dst
		}
	}
	// Anything else: convert to RGBA (image/draw has fast paths for the
	// common types), then rotate that.
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	return Rotate(rgba, o)
}

// dstSize is the size of the upright image for a stored w×h image.
func dstSize(w, h, o int) (int, int) {
	if o >= 5 {
		return h, w
	}
	return w, h
}

// layout returns, for a destination of stride ds (bytes) and pixel size bpp,
// the byte offset in the destination of source pixel (0,0), and how that
// offset changes per source column and per source row.
func layout(w, h, ds, bpp, o int) (start, colStep, rowStep int) {
	switch o {
	case 2: // dx = w-1-sx, dy = sy
		return (w - 1) * bpp, -bpp, ds
	case 3: // dx = w-1-sx, dy = h-1-sy
		return (h-1)*ds + (w-1)*bpp, -bpp, -ds
	case 4: // dx = sx, dy = h-1-sy
		return (h - 1) * ds, bpp, -ds
	case 5: // dx = sy, dy = sx
		return 0, ds, bpp
	case 6: // dx = h-1-sy, dy = sx
		return (h - 1) * bpp, ds, -bpp
	case 7: // dx = h-1-sy, dy = w-1-sx
		return (w-1)*ds + (h-1)*bpp, -ds, -bpp
	default: // 8: dx = sy, dy = w-1-sx
		return (w - 1) * ds, -ds, bpp
	}
}

// tile is the side, in pixels, of the square blocks the copy loops walk, so
// that the column-wise writes of a 90° rotation stay in cache.
const tile = 64

// rotatePix remaps a packed pixel buffer of bpp bytes per pixel.
func rotatePix(pix []byte, stride int, r image.Rectangle, pixOffset func(x, y int) int, bpp, o int) ([]byte, int, image.Rectangle) {
	w, h := r.Dx(), r.Dy()
	dw, dh := dstSize(w, h, o)
	ds := dw * bpp
	dst := make([]byte, ds*dh)
	rect := image.Rect(0, 0, dw, dh)
	if w <= 0 || h <= 0 {
		return dst, ds, rect
	}
	src := pix[pixOffset(r.Min.X, r.Min.Y):]
	start, colStep, rowStep := layout(w, h, ds, bpp, o)
	for ty := 0; ty < h; ty += tile {
		ey := min(ty+tile, h)
		for tx := 0; tx < w; tx += tile {
			ex := min(tx+tile, w)
			for sy := ty; sy < ey; sy++ {
				s := src[sy*stride+tx*bpp : sy*stride+ex*bpp]
				d := start + sy*rowStep + tx*colStep
				switch bpp {
				case 1:
					for _, v := range s {
						dst[d] = v
						d += colStep
					}
				case 4:
					for i := 0; i+4 <= len(s); i += 4 {
						binary.LittleEndian.PutUint32(dst[d:], binary.LittleEndian.Uint32(s[i:]))
						d += colStep
					}
				default:
					for i := 0; i+bpp <= len(s); i += bpp {
						copy(dst[d:d+bpp], s[i:i+bpp])
						d += colStep
					}
				}
			}
		}
	}
	return dst, ds, rect
}

// rotateYCbCr converts to RGBA and rotates in one pass; nil for an unknown
// subsample ratio.
func rotateYCbCr(m *image.YCbCr, o int) *image.RGBA {
	var hs, vs uint // chroma subsampling shifts, horizontal and vertical
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	default:
		return nil
	}
	r := m.Rect
	if r.Min.X < 0 || r.Min.Y < 0 {
		// Chroma offsets use truncating division (see YCbCr.COffset), which
		// the shifts below only match for non-negative coordinates.
		return nil
	}
	w, h := r.Dx(), r.Dy()
	dw, dh := dstSize(w, h, o)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	if w <= 0 || h <= 0 {
		return dst
	}
	start, colStep, rowStep := layout(w, h, dst.Stride, 4, o)
	x0, y0 := r.Min.X, r.Min.Y
	out := dst.Pix
	for ty := 0; ty < h; ty += tile {
		ey := min(ty+tile, h)
		for tx := 0; tx < w; tx += tile {
			ex := min(tx+tile, w)
			for sy := ty; sy < ey; sy++ {
				yi := sy*m.YStride + tx
				cRow := ((y0+sy)>>vs - y0>>vs) * m.CStride
				d := start + sy*rowStep + tx*colStep
				for x := x0 + tx; x < x0+ex; x++ {
					ci := cRow + x>>hs - x0>>hs
					R, G, B := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
					q := out[d : d+4 : d+4]
					q[0], q[1], q[2], q[3] = R, G, B, 0xFF
					yi++
					d += colStep
				}
			}
		}
	}
	return dst
}
