package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

// noisyImage is w×h random opaque pixels: it compresses badly, and a JPEG
// of it grows with the quality.
func noisyImage(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(11, 12))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			m.Pix[i] = 0xFF
		}
	}
	return m
}

// flatImage is w×h smooth gradient pixels: it compresses well.
func flatImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 100, 255})
		}
	}
	return m
}

func mustEncode(t *testing.T, img image.Image, o EncodeOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, img, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodeJPEGQuality(t *testing.T) {
	img := noisyImage(64, 64)
	size := map[int]int{}
	for _, q := range []int{1, 30, 95, 100} {
		out := mustEncode(t, img, EncodeOptions{Format: "jpeg", Quality: q})
		m, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("quality %d: %v", q, err)
		}
		if m.Bounds() != img.Bounds() {
			t.Fatalf("quality %d: bounds %v", q, m.Bounds())
		}
		if JPEGEXIF(out) != nil {
			t.Fatalf("quality %d: EXIF without asking", q)
		}
		// Byte for byte what image/jpeg writes: nothing added.
		var want bytes.Buffer
		jpeg.Encode(&want, img, &jpeg.Options{Quality: q})
		if !bytes.Equal(out, want.Bytes()) {
			t.Fatalf("quality %d: output differs from image/jpeg's", q)
		}
		size[q] = len(out)
	}
	if size[95] <= size[30] || size[30] <= size[1] {
		t.Fatalf("sizes by quality %v: not growing", size)
	}
}

func TestEncodePNGLevel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		img    image.Image
		strict bool // level 9 strictly smaller than level 0
	}{
		{"flat", flatImage(200, 150), true},
		{"noisy", noisyImage(64, 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := make([]int, 10)
			for l := 0; l <= 9; l++ {
				out := mustEncode(t, tc.img, EncodeOptions{Format: "png", CompressLevel: l})
				m, err := png.Decode(bytes.NewReader(out))
				if err != nil {
					t.Fatalf("level %d: %v", l, err)
				}
				sameColors(t, m, tc.img)
				if n := pngChunks(t, out); n["eXIf"] != nil {
					t.Fatalf("level %d: eXIf without asking", l)
				}
				size[l] = len(out)
			}
			if size[9] > size[0] || (tc.strict && size[9] >= size[0]) {
				t.Fatalf("level 9: %d bytes, level 0: %d", size[9], size[0])
			}
			// The zlib-style levels map onto Go's four: equal within a group.
			for _, g := range [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}} {
				for _, l := range g[1:] {
					if size[l] != size[g[0]] {
						t.Fatalf("level %d: %d bytes, level %d: %d; want the same Go level", l, size[l], g[0], size[g[0]])
					}
				}
			}
			if tc.strict && !(size[0] > size[1] && size[1] > size[4] && size[4] >= size[7]) {
				t.Fatalf("sizes by level %v: 0 > 1 > 4 >= 7 expected", size)
			}
		})
	}
}

// pngChunks splits a PNG into its chunks, checking every CRC and that IHDR
// comes first, and returns each chunk type's data (the last of a type) and
// the order of the types under the key "".
func pngChunks(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("no PNG signature")
	}
	chunks := map[string][]byte{}
	var order []byte
	for p := 8; p < len(b); {
		if p+12 > len(b) {
			t.Fatalf("chunk at %d cut short", p)
		}
		n := int(binary.BigEndian.Uint32(b[p:]))
		if p+12+n > len(b) {
			t.Fatalf("chunk at %d: %d bytes past the end", p, n)
		}
		typ := string(b[p+4 : p+8])
		data := b[p+8 : p+8+n]
		if got, want := binary.BigEndian.Uint32(b[p+8+n:]), crc32.ChecksumIEEE(b[p+4:p+8+n]); got != want {
			t.Fatalf("%s chunk: CRC %08x, want %08x", typ, got, want)
		}
		if p == 8 && typ != "IHDR" {
			t.Fatalf("first chunk %s", typ)
		}
		chunks[typ] = data
		order = append(order, typ...)
		p += 12 + n
	}
	chunks[""] = order
	return chunks
}

func TestEncodeEXIF(t *testing.T) {
	exif, err := SanitizeEXIF(JPEGEXIF(readFixture(t)))
	if err != nil {
		t.Fatal(err)
	}
	img := flatImage(40, 30)

	t.Run("jpeg", func(t *testing.T) {
		out := mustEncode(t, img, EncodeOptions{Format: "jpeg", Quality: 90, EXIF: exif})
		if !bytes.Equal(JPEGEXIF(out), exif) {
			t.Fatalf("JPEGEXIF(output) = % x, want % x", JPEGEXIF(out), exif)
		}
		// The segment follows SOI directly, as EXIF requires.
		if out[2] != 0xFF || out[3] != 0xE1 || string(out[6:12]) != "Exif\x00\x00" {
			t.Fatalf("output starts % x, want SOI then APP1 Exif", out[:12])
		}
		m, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if m.Bounds() != img.Bounds() {
			t.Fatalf("bounds %v", m.Bounds())
		}
		// The rest is what image/jpeg writes.
		plain := mustEncode(t, img, EncodeOptions{Format: "jpeg", Quality: 90})
		if !bytes.Equal(out[:2], plain[:2]) || !bytes.Equal(out[2+4+6+len(exif):], plain[2:]) {
			t.Fatal("image data differs from the encoding without EXIF")
		}
		if _, _, o, err := Decode(bytes.NewReader(out)); err != nil || o != 1 {
			t.Fatalf("Decode: orientation %d, %v", o, err)
		}
	})

	t.Run("png", func(t *testing.T) {
		out := mustEncode(t, img, EncodeOptions{Format: "png", CompressLevel: 6, EXIF: exif})
		m, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		sameColors(t, m, img)
		chunks := pngChunks(t, out)
		if !bytes.Equal(chunks["eXIf"], exif) {
			t.Fatalf("eXIf chunk % x, want % x", chunks["eXIf"], exif)
		}
		if order := string(chunks[""]); order[:8] != "IHDReXIf" {
			t.Fatalf("chunk order %q, want eXIf right after IHDR", order)
		}
		plain := mustEncode(t, img, EncodeOptions{Format: "png", CompressLevel: 6})
		if !bytes.Equal(out[:33], plain[:33]) || !bytes.Equal(out[33+12+len(exif):], plain[33:]) {
			t.Fatal("image data differs from the encoding without EXIF")
		}
	})

	t.Run("empty", func(t *testing.T) {
		for _, f := range []string{"jpeg", "png"} {
			plain := mustEncode(t, img, EncodeOptions{Format: f, Quality: 80, CompressLevel: 1})
			got := mustEncode(t, img, EncodeOptions{Format: f, Quality: 80, CompressLevel: 1, EXIF: []byte{}})
			if !bytes.Equal(got, plain) {
				t.Fatalf("%s: an empty EXIF payload changed the output", f)
			}
		}
	})

	t.Run("largest", func(t *testing.T) {
		big := make([]byte, 65527)
		out := mustEncode(t, img, EncodeOptions{Format: "jpeg", Quality: 50, EXIF: big})
		if got := JPEGEXIF(out); !bytes.Equal(got, big) {
			t.Fatalf("JPEGEXIF returned %d bytes, want %d", len(got), len(big))
		}
	})
}

// failWriter counts its calls and fails them all.
type failWriter struct{ calls int }

var errWriter = errors.New("write refused")

func (w *failWriter) Write(p []byte) (int, error) { w.calls++; return 0, errWriter }

func TestEncodeErrors(t *testing.T) {
	img := flatImage(8, 8)
	for _, tc := range []struct {
		name      string
		img       image.Image
		o         EncodeOptions
		errFormat bool
	}{
		{"unknown format", img, EncodeOptions{Format: "gif", Quality: 90}, true},
		{"empty format", img, EncodeOptions{Quality: 90}, true},
		{"upper-case format", img, EncodeOptions{Format: "JPEG", Quality: 90}, true},
		{"jpg", img, EncodeOptions{Format: "jpg", Quality: 90}, true},
		{"quality 0", img, EncodeOptions{Format: "jpeg"}, true},
		{"quality 101", img, EncodeOptions{Format: "jpeg", Quality: 101}, true},
		{"quality -1", img, EncodeOptions{Format: "jpeg", Quality: -1}, true},
		{"level 10", img, EncodeOptions{Format: "png", CompressLevel: 10}, true},
		{"level -1", img, EncodeOptions{Format: "png", CompressLevel: -1}, true},
		{"exif too large", img, EncodeOptions{Format: "jpeg", Quality: 90, EXIF: make([]byte, 65528)}, false},
		{"jpeg too wide", image.NewGray(image.Rect(0, 0, 1<<16, 1)), EncodeOptions{Format: "jpeg", Quality: 90, EXIF: []byte("MM\x00*")}, false},
		{"png empty", image.NewRGBA(image.Rect(0, 0, 0, 0)), EncodeOptions{Format: "png", EXIF: []byte("MM\x00*")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tc.img, tc.o)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrFormat) != tc.errFormat {
				t.Fatalf("error %q: errors.Is(err, ErrFormat) = %v, want %v", err, !tc.errFormat, tc.errFormat)
			}
			if buf.Len() != 0 {
				t.Fatalf("%d bytes written despite the error", buf.Len())
			}
		})
	}

	// A failing writer: its error comes back, after a single Write.
	w := &failWriter{}
	if err := Encode(w, img, EncodeOptions{Format: "png", CompressLevel: 9}); !errors.Is(err, errWriter) || w.calls != 1 {
		t.Fatalf("Encode = %v after %d writes, want the writer's error after 1", err, w.calls)
	}
}
