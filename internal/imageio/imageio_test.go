package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// The upright test picture: 3×2 blocks of 16 px (48×32), six distinct
// colours, so every one of the eight orientations looks different.
const blk = 16

var blockColors = [2][3]color.RGBA{
	{{230, 20, 20, 255}, {20, 200, 20, 255}, {20, 20, 230, 255}},
	{{240, 240, 240, 255}, {20, 20, 20, 255}, {230, 230, 20, 255}},
}

func uprightImage() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 3*blk, 2*blk))
	for y := 0; y < 2*blk; y++ {
		for x := 0; x < 3*blk; x++ {
			m.SetRGBA(x, y, blockColors[y/blk][x/blk])
		}
	}
	return m
}

// storedFromUpright returns the image a camera stores with EXIF orientation o
// for the upright picture u, written straight from the EXIF definitions of
// where the stored 0th row and 0th column lie in the visual picture
// (independent of the formulas Rotate uses).
func storedFromUpright(u image.Image, o int) *image.RGBA {
	W, H := u.Bounds().Dx(), u.Bounds().Dy()
	sw, sh := W, H
	if o >= 5 {
		sw, sh = H, W
	}
	s := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for j := 0; j < sh; j++ { // stored row
		for i := 0; i < sw; i++ { // stored column
			x, y := exifPos(i, j, W, H, o)
			s.Set(i, j, u.At(u.Bounds().Min.X+x, u.Bounds().Min.Y+y))
		}
	}
	return s
}

// exifSegment builds an APP1 segment (marker included) whose IFD0 holds an
// ImageWidth entry followed by the Orientation entry.
func exifSegment(order binary.AppendByteOrder, o int) []byte {
	var t bytes.Buffer
	if order == binary.LittleEndian {
		t.WriteString("II")
	} else {
		t.WriteString("MM")
	}
	put16 := func(v uint16) { t.Write(order.AppendUint16(nil, v)) }
	put32 := func(v uint32) { t.Write(order.AppendUint32(nil, v)) }
	put16(42)
	put32(8) // IFD0 offset
	put16(2) // entries
	put16(0x0100)
	put16(4) // LONG
	put32(1)
	put32(48)
	put16(0x0112)
	put16(3) // SHORT
	put32(1)
	put16(uint16(o))
	put16(0)
	put32(0) // no next IFD
	return app1(append([]byte("Exif\x00\x00"), t.Bytes()...))
}

func app1(payload []byte) []byte {
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// splice inserts segments right after the SOI marker of a JPEG.
func splice(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// orientedJPEG is the upright picture stored with orientation o and tagged.
func orientedJPEG(t testing.TB, order binary.AppendByteOrder, o int) []byte {
	return splice(encodeJPEG(t, storedFromUpright(uprightImage(), o)), exifSegment(order, o))
}

// checkBlocks compares the centre of every block with the upright colours.
func checkBlocks(t *testing.T, m image.Image) {
	t.Helper()
	if got := m.Bounds(); got != image.Rect(0, 0, 3*blk, 2*blk) {
		t.Fatalf("bounds %v, want (0,0)-(48,32)", got)
	}
	for by := 0; by < 2; by++ {
		for bx := 0; bx < 3; bx++ {
			want := blockColors[by][bx]
			r, g, b, _ := m.At(bx*blk+blk/2, by*blk+blk/2).RGBA()
			if d := max(absDiff(r>>8, want.R), absDiff(g>>8, want.G), absDiff(b>>8, want.B)); d > 40 {
				t.Errorf("block (%d,%d): got %d,%d,%d want %v", bx, by, r>>8, g>>8, b>>8, want)
			}
		}
	}
}

func absDiff(a uint32, b uint8) uint32 {
	if a > uint32(b) {
		return a - uint32(b)
	}
	return uint32(b) - a
}

var orders = []struct {
	name  string
	order binary.AppendByteOrder
}{{"II", binary.LittleEndian}, {"MM", binary.BigEndian}}

func TestDecodeOrientations(t *testing.T) {
	for _, bo := range orders {
		for o := 1; o <= 8; o++ {
			t.Run(bo.name+"/"+string(rune('0'+o)), func(t *testing.T) {
				data := orientedJPEG(t, bo.order, o)
				if got := Orientation(data); got != o {
					t.Fatalf("Orientation = %d, want %d", got, o)
				}
				// A one-byte-at-a-time reader: no Seek, no Peek, short reads.
				m, format, got, err := Decode(iotest.OneByteReader(bytes.NewReader(data)))
				if err != nil {
					t.Fatal(err)
				}
				if format != "jpeg" || got != o {
					t.Fatalf("format %q orientation %d, want jpeg %d", format, got, o)
				}
				checkBlocks(t, m)

				cfg, format, err := DecodeConfig(iotest.HalfReader(bytes.NewReader(data)))
				if err != nil {
					t.Fatal(err)
				}
				if format != "jpeg" || cfg.Width != 3*blk || cfg.Height != 2*blk {
					t.Fatalf("DecodeConfig = %q %dx%d, want jpeg 48x32", format, cfg.Width, cfg.Height)
				}
				// The stored size is swapped for 5–8.
				raw, err := jpeg.DecodeConfig(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if swapped := raw.Width != cfg.Width; swapped != (o >= 5) {
					t.Fatalf("stored %dx%d, upright %dx%d", raw.Width, raw.Height, cfg.Width, cfg.Height)
				}
			})
		}
	}
}

func TestDecodeOtherSegments(t *testing.T) {
	jfif := []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	xmp := app1([]byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	base := encodeJPEG(t, storedFromUpright(uprightImage(), 6))
	for _, tc := range []struct {
		name string
		segs [][]byte
		want int
	}{
		{"jfif then exif", [][]byte{jfif, exifSegment(binary.BigEndian, 6)}, 6},
		{"xmp then exif", [][]byte{xmp, exifSegment(binary.LittleEndian, 6)}, 6},
		{"fill bytes", [][]byte{{0xFF, 0xFF}, exifSegment(binary.LittleEndian, 6)}, 6},
		{"exif then exif", [][]byte{exifSegment(binary.LittleEndian, 6), exifSegment(binary.LittleEndian, 3)}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := splice(base, tc.segs...)
			if got := Orientation(data); got != tc.want {
				t.Fatalf("Orientation = %d, want %d", got, tc.want)
			}
			m, _, o, err := Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if o != tc.want {
				t.Fatalf("orientation %d, want %d", o, tc.want)
			}
			checkBlocks(t, m)
		})
	}
}

func TestDecodePNG(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, uprightImage()); err != nil {
		t.Fatal(err)
	}
	m, format, o, err := Decode(iotest.OneByteReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if format != "png" || o != 1 {
		t.Fatalf("format %q orientation %d", format, o)
	}
	checkBlocks(t, m)
}

func TestDecodeStreet(t *testing.T) {
	data, err := os.ReadFile("../../testdata/street.jpg")
	if err != nil {
		t.Skip("testdata/street.jpg:", err)
	}
	if got := Orientation(data); got != 1 {
		t.Fatalf("Orientation = %d, want 1", got)
	}
	m, format, o, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if format != "jpeg" || o != 1 || m.Bounds() != want.Bounds() {
		t.Fatalf("got %q o=%d %v, want jpeg 1 %v", format, o, m.Bounds(), want.Bounds())
	}
	a, b := m.(*image.YCbCr), want.(*image.YCbCr)
	if !bytes.Equal(a.Y, b.Y) || !bytes.Equal(a.Cb, b.Cb) || !bytes.Equal(a.Cr, b.Cr) {
		t.Fatal("pixels differ from image/jpeg's")
	}
	cfg, _, err := DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("DecodeConfig = %dx%d, %v", cfg.Width, cfg.Height, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := orientedJPEG(t, binary.LittleEndian, 6)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not an image at all")},
		{"truncated jpeg", good[:len(good)/2]},
		{"jpeg header only", good[:300]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, _, err := Decode(bytes.NewReader(tc.data))
			if err == nil || m != nil {
				t.Fatalf("Decode = %v, %v; want error", m, err)
			}
			if !strings.HasPrefix(err.Error(), "imageio: ") {
				t.Fatalf("error %q lacks the imageio: prefix", err)
			}
			if errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %q should not be ErrTooLarge", err)
			}
		})
	}
}

// pngHeader is a PNG signature plus an IHDR chunk claiming w×h RGBA pixels
// (and a little IDAT garbage), with correct CRCs.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(b, typ...)
		b = append(b, data...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x01, 0x02, 0x03})
	return b
}

func TestMaxPixels(t *testing.T) {
	defer func(old int) { MaxPixels = old }(MaxPixels)
	// 2·10⁸ pixels, over a limit of 2²⁶: image/png itself refuses 2²⁸ and
	// more on a 32-bit platform, so the default limit is not used here.
	MaxPixels = 1 << 26
	data := pngHeader(20000, 10000)
	cfg, _, err := DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 20000 || cfg.Height != 10000 {
		t.Fatalf("DecodeConfig = %+v, %v", cfg, err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, format, _, err := Decode(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || m != nil || format != "png" {
		t.Fatalf("Decode = %v, %q, %v; want ErrTooLarge", m, format, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing allocated %d bytes", n)
	}

	// A small image over a lowered limit is refused, one at the limit is
	// accepted.
	small := orientedJPEG(t, binary.BigEndian, 8)
	MaxPixels = 48*32 - 1
	if _, _, _, err := Decode(bytes.NewReader(small)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	MaxPixels = 48 * 32
	if _, _, _, err := Decode(bytes.NewReader(small)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

// tiffJPEG wraps a raw TIFF structure into an EXIF APP1 segment of a JPEG
// prefix (only the header bytes Orientation looks at).
func tiffJPEG(tiff []byte) []byte {
	return append([]byte{0xFF, 0xD8}, app1(append([]byte("Exif\x00\x00"), tiff...))...)
}

func TestOrientationHostile(t *testing.T) {
	le := binary.LittleEndian
	entry := func(tag, typ uint16, count, value uint32) []byte {
		e := le.AppendUint16(nil, tag)
		e = le.AppendUint16(e, typ)
		e = le.AppendUint32(e, count)
		if typ == 3 {
			e = le.AppendUint16(e, uint16(value))
			return append(e, 0, 0)
		}
		return le.AppendUint32(e, value)
	}
	tiff := func(off uint32, n uint16, entries ...[]byte) []byte {
		b := append([]byte("II*\x00"), le.AppendUint32(nil, off)...)
		b = le.AppendUint16(b, n)
		for _, e := range entries {
			b = append(b, e...)
		}
		return b
	}
	valid := tiffJPEG(tiff(8, 1, entry(0x0112, 3, 1, 6)))
	for _, tc := range []struct {
		name string
		data []byte
		want int
	}{
		{"valid", valid, 6},
		{"long type", tiffJPEG(tiff(8, 1, entry(0x0112, 4, 1, 8))), 8},
		{"nil", nil, 1},
		{"soi only", []byte{0xFF, 0xD8}, 1},
		{"not jpeg", []byte("GIF89a........................"), 1},
		{"png", pngHeader(10, 10), 1},
		{"garbage after soi", append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0x12, 0x34}, 50)...), 1},
		{"all 0xFF", bytes.Repeat([]byte{0xFF}, 1000), 1},
		{"segment length 0", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0}, 1},
		{"segment length 1", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 1, 'E', 'x', 'i', 'f', 0, 0}, 1},
		{"segment length huge", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I'}, 1},
		{"exif no tiff", tiffJPEG(nil), 1},
		{"bad byte order", tiffJPEG([]byte("IM*\x00\x08\x00\x00\x00\x00\x00")), 1},
		{"huge ifd offset", tiffJPEG(tiff(0xFFFFFFFF, 1, entry(0x0112, 3, 1, 6))), 1},
		{"ifd offset past end", tiffJPEG(tiff(0xFFFFFFF0, 1, entry(0x0112, 3, 1, 6))), 1},
		{"offset to last byte", tiffJPEG(tiff(21, 1, entry(0x0112, 3, 1, 6))), 1},
		{"huge entry count", tiffJPEG(tiff(8, 0xFFFF, entry(0x0100, 3, 1, 6))), 1},
		{"count zero", tiffJPEG(tiff(8, 1, entry(0x0112, 3, 0, 6))), 1},
		{"value 0", tiffJPEG(tiff(8, 1, entry(0x0112, 3, 1, 0))), 1},
		{"value 9", tiffJPEG(tiff(8, 1, entry(0x0112, 3, 1, 9))), 1},
		{"value 0xFFFF", tiffJPEG(tiff(8, 1, entry(0x0112, 3, 1, 0xFFFF))), 1},
		{"long value huge", tiffJPEG(tiff(8, 1, entry(0x0112, 4, 1, 0x00010006))), 1},
		{"ascii type", tiffJPEG(tiff(8, 1, entry(0x0112, 2, 1, 6))), 1},
		{"no orientation tag", tiffJPEG(tiff(8, 1, entry(0x0100, 3, 1, 6))), 1},
		{"exif after sos", append([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0, 2}, valid[2:]...), 1},
		{"exif after eoi", append([]byte{0xFF, 0xD8, 0xFF, 0xD9}, valid[2:]...), 1},
		{"stuffed zero marker", append([]byte{0xFF, 0xD8, 0xFF, 0x00}, valid[2:]...), 1},
		{"rst marker before exif", append([]byte{0xFF, 0xD8, 0xFF, 0xD3}, valid[2:]...), 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Orientation(tc.data); got != tc.want {
				t.Fatalf("Orientation = %d, want %d", got, tc.want)
			}
		})
	}

	// Every truncation of a real tagged JPEG: no panic, and the tag is found
	// exactly when the whole IFD entry is present.
	for _, bo := range orders {
		data := orientedJPEG(t, bo.order, 7)
		seg := exifSegment(bo.order, 7)
		need := 2 + len(seg) - 4 // the orientation entry ends 4 bytes (next-IFD offset) before the segment's end
		for n := 0; n <= len(data); n++ {
			got := Orientation(data[:n])
			if want := map[bool]int{true: 7, false: 1}[n >= need]; got != want {
				t.Fatalf("%s prefix %d: Orientation = %d, want %d", bo.name, n, got, want)
			}
		}
	}

	// Random corruption of a tagged header.
	rng := rand.New(rand.NewPCG(1, 2))
	base := orientedJPEG(t, binary.BigEndian, 5)[:200]
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), base...)
		for k := rng.IntN(6); k >= 0; k-- {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		if o := Orientation(b[:rng.IntN(len(b)+1)]); o < 1 || o > 8 {
			t.Fatalf("Orientation = %d", o)
		}
	}
}

// randomImages returns one image of every type Rotate handles, filled with
// random pixels, on a rectangle not starting at the origin.
func randomImages(rng *rand.Rand) map[string]image.Image {
	r := image.Rect(3, 5, 3+37, 5+23) // odd sizes, not tile-aligned
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	out := map[string]image.Image{}
	add := func(name string, m image.Image, pix []byte) {
		fill(pix)
		out[name] = m
	}
	rgba := image.NewRGBA(r)
	add("RGBA", rgba, rgba.Pix)
	nrgba := image.NewNRGBA(r)
	add("NRGBA", nrgba, nrgba.Pix)
	rgba64 := image.NewRGBA64(r)
	add("RGBA64", rgba64, rgba64.Pix)
	nrgba64 := image.NewNRGBA64(r)
	add("NRGBA64", nrgba64, nrgba64.Pix)
	gray := image.NewGray(r)
	add("Gray", gray, gray.Pix)
	gray16 := image.NewGray16(r)
	add("Gray16", gray16, gray16.Pix)
	alpha := image.NewAlpha(r)
	add("Alpha", alpha, alpha.Pix)
	alpha16 := image.NewAlpha16(r)
	add("Alpha16", alpha16, alpha16.Pix)
	cmyk := image.NewCMYK(r)
	add("CMYK", cmyk, cmyk.Pix)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}})
	add("Paletted", pal, pal.Pix)
	for i := range pal.Pix {
		pal.Pix[i] %= 4
	}
	// A sub-image: the parent's stride is larger than the row.
	parent := image.NewNRGBA(image.Rect(0, 0, 100, 80))
	add("NRGBA sub-image", parent.SubImage(image.Rect(11, 7, 11+70, 7+65)).(*image.NRGBA), parent.Pix)
	// A large one, to cross tile boundaries.
	big := image.NewRGBA(image.Rect(0, 0, 150, 131))
	add("RGBA large", big, big.Pix)
	return out
}

// sameColors reports whether a and b (of possibly different types) have the
// same bounds and colours.
func sameColors(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := got.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got.At(x, y), want.At(x, y))
			}
		}
	}
}

func TestRotateTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, src := range randomImages(rng) {
		for o := 1; o <= 8; o++ {
			t.Run(name+"/"+string(rune('0'+o)), func(t *testing.T) {
				// The picture src shows when stored with orientation o is the
				// upright picture: build it back from the EXIF definitions.
				stored := storedFromUprightTyped(src, o)
				got := Rotate(stored, o)
				if o == 1 {
					if got != stored {
						t.Fatal("orientation 1 did not return the image itself")
					}
					return
				}
				if gotT, wantT := typeName(got), typeName(stored); gotT != wantT {
					t.Fatalf("type %s, want %s", gotT, wantT)
				}
				sameColors(t, got, translate(src))
			})
		}
	}
}

// storedFromUprightTyped is storedFromUpright keeping the pixel type (it
// works through draw.Image.Set).
func storedFromUprightTyped(u image.Image, o int) image.Image {
	W, H := u.Bounds().Dx(), u.Bounds().Dy()
	sw, sh := W, H
	if o >= 5 {
		sw, sh = H, W
	}
	var dst draw.Image
	r := image.Rect(0, 0, sw, sh)
	switch u := u.(type) {
	case *image.RGBA:
		dst = image.NewRGBA(r)
	case *image.NRGBA:
		dst = image.NewNRGBA(r)
	case *image.RGBA64:
		dst = image.NewRGBA64(r)
	case *image.NRGBA64:
		dst = image.NewNRGBA64(r)
	case *image.Gray:
		dst = image.NewGray(r)
	case *image.Gray16:
		dst = image.NewGray16(r)
	case *image.Alpha:
		dst = image.NewAlpha(r)
	case *image.Alpha16:
		dst = image.NewAlpha16(r)
	case *image.CMYK:
		dst = image.NewCMYK(r)
	case *image.Paletted:
		dst = image.NewPaletted(r, u.Palette)
	}
	// Set with a colour of the image's own model stores it exactly.
	for j := 0; j < sh; j++ {
		for i := 0; i < sw; i++ {
			x, y := exifPos(i, j, W, H, o)
			dst.Set(i, j, u.At(u.Bounds().Min.X+x, u.Bounds().Min.Y+y))
		}
	}
	return dst
}

// exifPos maps stored (column i, row j) to the upright (x, y) for a W×H
// upright picture, from the EXIF definitions.
func exifPos(i, j, W, H, o int) (x, y int) {
	switch o {
	case 2: // 0th row top, 0th column right
		return W - 1 - i, j
	case 3: // 0th row bottom, 0th column right
		return W - 1 - i, H - 1 - j
	case 4: // 0th row bottom, 0th column left
		return i, H - 1 - j
	case 5: // 0th row left, 0th column top
		return j, i
	case 6: // 0th row right, 0th column top
		return W - 1 - j, i
	case 7: // 0th row right, 0th column bottom
		return W - 1 - j, H - 1 - i
	case 8: // 0th row left, 0th column bottom
		return j, H - 1 - i
	}
	return i, j // 1: 0th row top, 0th column left
}

// translate returns m moved to the origin, same type semantics via At.
func translate(m image.Image) image.Image {
	b := m.Bounds()
	return offsetImage{m, b.Min}
}

type offsetImage struct {
	image.Image
	off image.Point
}

func (o offsetImage) Bounds() image.Rectangle {
	return o.Image.Bounds().Sub(o.off)
}
func (o offsetImage) At(x, y int) color.Color { return o.Image.At(x+o.off.X, y+o.off.Y) }

func typeName(m image.Image) string {
	switch m.(type) {
	case *image.RGBA:
		return "RGBA"
	case *image.NRGBA:
		return "NRGBA"
	case *image.RGBA64:
		return "RGBA64"
	case *image.NRGBA64:
		return "NRGBA64"
	case *image.Gray:
		return "Gray"
	case *image.Gray16:
		return "Gray16"
	case *image.Alpha:
		return "Alpha"
	case *image.Alpha16:
		return "Alpha16"
	case *image.CMYK:
		return "CMYK"
	case *image.Paletted:
		return "Paletted"
	case *image.YCbCr:
		return "YCbCr"
	}
	return "other"
}

// The YCbCr path converts and rotates in one pass; it must match converting
// with At and rotating the RGBA result.
func TestRotateYCbCr(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	rects := []image.Rectangle{
		image.Rect(0, 0, 37, 23),
		image.Rect(3, 5, 3+70, 5+67), // odd origin, crosses a tile boundary
		image.Rect(-3, -5, 20, 10),   // negative origin: generic path
	}
	for _, ratio := range ratios {
		for _, r := range rects {
			m := image.NewYCbCr(r, ratio)
			for _, p := range [][]byte{m.Y, m.Cb, m.Cr} {
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
			}
			// Also a sub-image, whose chroma planes start mid-way.
			sub := m.SubImage(image.Rect(r.Min.X+1, r.Min.Y+1, r.Max.X-2, r.Max.Y-1)).(*image.YCbCr)
			for _, src := range []*image.YCbCr{m, sub} {
				ref := image.NewRGBA(image.Rect(0, 0, src.Rect.Dx(), src.Rect.Dy()))
				for y := 0; y < ref.Rect.Dy(); y++ {
					for x := 0; x < ref.Rect.Dx(); x++ {
						ref.Set(x, y, src.At(src.Rect.Min.X+x, src.Rect.Min.Y+y))
					}
				}
				for o := 2; o <= 8; o++ {
					got, ok := Rotate(src, o).(*image.RGBA)
					if !ok {
						t.Fatalf("%v %v o=%d: not *image.RGBA", ratio, src.Rect, o)
					}
					want := Rotate(ref, o).(*image.RGBA)
					if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
						t.Fatalf("%v %v o=%d: pixels differ", ratio, src.Rect, o)
					}
				}
			}
		}
	}
}

// Any other image type goes through RGBA.
func TestRotateGeneric(t *testing.T) {
	src := image.NewNYCbCrA(image.Rect(1, 2, 30, 20), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range [][]byte{src.Y, src.Cb, src.Cr, src.A} {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
	}
	ref := image.NewRGBA(image.Rect(0, 0, 29, 18))
	draw.Draw(ref, ref.Rect, src, src.Rect.Min, draw.Src)
	for o := 2; o <= 8; o++ {
		got, ok := Rotate(src, o).(*image.RGBA)
		if !ok {
			t.Fatalf("o=%d: not *image.RGBA", o)
		}
		sameColors(t, got, Rotate(ref, o))
	}
	// And the RGBA rotation itself, against the EXIF table directly.
	for o := 2; o <= 8; o++ {
		got := Rotate(ref, o)
		W, H := got.Bounds().Dx(), got.Bounds().Dy()
		// got is upright for a picture stored as ref with orientation o:
		// stored (i,j) shows at upright exifPos(i,j).
		for j := 0; j < ref.Rect.Dy(); j++ {
			for i := 0; i < ref.Rect.Dx(); i++ {
				x, y := exifPos(i, j, W, H, o)
				if got.At(x, y) != ref.At(i, j) {
					t.Fatalf("o=%d: upright (%d,%d) = %v, want stored (%d,%d) = %v", o, x, y, got.At(x, y), i, j, ref.At(i, j))
				}
			}
		}
	}
}

func TestRotateEmpty(t *testing.T) {
	for _, m := range []image.Image{
		image.NewRGBA(image.Rect(0, 0, 0, 5)),
		image.NewGray(image.Rect(2, 2, 9, 2)),
		image.NewYCbCr(image.Rect(0, 0, 0, 0), image.YCbCrSubsampleRatio420),
	} {
		for o := 2; o <= 8; o++ {
			got := Rotate(m, o)
			w, h := m.Bounds().Dx(), m.Bounds().Dy()
			if o >= 5 {
				w, h = h, w
			}
			if got.Bounds() != image.Rect(0, 0, w, h) {
				t.Fatalf("o=%d: bounds %v", o, got.Bounds())
			}
		}
	}
}

func seeds(f *testing.F) {
	for _, bo := range orders {
		for o := 1; o <= 8; o++ {
			data := orientedJPEG(f, bo.order, o)
			f.Add(data)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, uprightImage())
	f.Add(buf.Bytes())
	f.Add(pngHeader(100000, 100000))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, '*', 0xFF, 0xFF, 0xFF, 0xFF})
}

func FuzzOrientation(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		o := Orientation(b)
		if o < 1 || o > 8 {
			t.Fatalf("Orientation = %d", o)
		}
		if p := JPEGEXIF(b); p != nil && tiffOrientation(p) != o {
			t.Fatalf("Orientation = %d, but %d from JPEGEXIF's payload", o, tiffOrientation(p))
		}
	})
}

func FuzzDecode(f *testing.F) {
	seeds(f)
	// Keep the fuzzer's memory small: headers may claim any size.
	old := MaxPixels
	MaxPixels = 1 << 20
	f.Cleanup(func() { MaxPixels = old })
	f.Fuzz(func(t *testing.T, b []byte) {
		m, format, o, err := Decode(bytes.NewReader(b))
		if err != nil {
			if m != nil {
				t.Fatal("image with error")
			}
			return
		}
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		cfg, format2, err := DecodeConfig(bytes.NewReader(b))
		if err != nil || format2 != format {
			t.Fatalf("DecodeConfig after a good Decode: %q %v", format2, err)
		}
		if got := m.Bounds(); got.Dx() != cfg.Width || got.Dy() != cfg.Height {
			t.Fatalf("decoded %v, DecodeConfig %dx%d (orientation %d)", got, cfg.Width, cfg.Height, o)
		}
	})
}

func BenchmarkRotate(b *testing.B) {
	rgba := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	ycc := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for _, bc := range []struct {
		name string
		m    image.Image
	}{{"RGBA", rgba}, {"YCbCr420", ycc}} {
		for _, o := range []int{3, 6} {
			b.Run(bc.name+"/"+string(rune('0'+o)), func(b *testing.B) {
				b.SetBytes(4 * 4000 * 3000)
				for b.Loop() {
					Rotate(bc.m, o)
				}
			})
		}
	}
}
