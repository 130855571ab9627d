package imageio

import (
	"bytes"
	"encoding/binary"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/gps_thumb.jpg")

const fixturePath = "testdata/gps_thumb.jpg"

// tiffBuilder assembles TIFF structures for the tests, independently of the
// writer SanitizeEXIF uses.
type tiffBuilder struct {
	bo byteOrder
	b  []byte
}

// tent is an IFD entry to build; val holds count values of type typ in the
// builder's byte order.
type tent struct {
	tag, typ uint16
	count    uint32
	val      []byte
}

// builtIFD says where an IFD went: its offset, the position of each tag's
// 4-byte value field (the first entry's, for a repeated tag) and of its
// next-IFD field, for patching.
type builtIFD struct {
	off   uint32
	field map[uint16]int
	next  int
}

// newTIFF starts a TIFF structure whose IFD0 is the first IFD appended.
func newTIFF(bo byteOrder) *tiffBuilder {
	tb := &tiffBuilder{bo: bo}
	if bo == binary.LittleEndian {
		tb.b = append(tb.b, "II*\x00"...)
	} else {
		tb.b = append(tb.b, "MM\x00*"...)
	}
	tb.b = bo.AppendUint32(tb.b, 8)
	return tb
}

func (tb *tiffBuilder) align() {
	if len(tb.b)%2 != 0 {
		tb.b = append(tb.b, 0)
	}
}

// ifd appends an IFD holding entries, in the order given, with next-IFD
// offset 0, followed by the values that do not fit in an entry.
func (tb *tiffBuilder) ifd(entries ...tent) builtIFD {
	tb.align()
	r := builtIFD{off: uint32(len(tb.b)), field: map[uint16]int{}}
	fields := make([]int, len(entries))
	tb.b = tb.bo.AppendUint16(tb.b, uint16(len(entries)))
	for i, e := range entries {
		tb.b = tb.bo.AppendUint16(tb.b, e.tag)
		tb.b = tb.bo.AppendUint16(tb.b, e.typ)
		tb.b = tb.bo.AppendUint32(tb.b, e.count)
		fields[i] = len(tb.b)
		if _, ok := r.field[e.tag]; !ok {
			r.field[e.tag] = len(tb.b)
		}
		var f [4]byte
		if len(e.val) <= 4 {
			copy(f[:], e.val)
		}
		tb.b = append(tb.b, f[:]...)
	}
	r.next = len(tb.b)
	tb.b = tb.bo.AppendUint32(tb.b, 0)
	for i, e := range entries {
		if len(e.val) > 4 {
			tb.align()
			tb.put32(fields[i], uint32(len(tb.b)))
			tb.b = append(tb.b, e.val...)
		}
	}
	return r
}

// blob appends raw bytes and returns their offset.
func (tb *tiffBuilder) blob(b []byte) uint32 {
	tb.align()
	off := uint32(len(tb.b))
	tb.b = append(tb.b, b...)
	return off
}

func (tb *tiffBuilder) put32(pos int, v uint32) { tb.bo.PutUint32(tb.b[pos:], v) }

func (tb *tiffBuilder) ascii(tag uint16, s string) tent {
	return tent{tag, tASCII, uint32(len(s) + 1), append([]byte(s), 0)}
}

func (tb *tiffBuilder) short(tag uint16, v uint16) tent {
	return tent{tag, tShort, 1, tb.bo.AppendUint16(nil, v)}
}

func (tb *tiffBuilder) long(tag uint16, v uint32) tent {
	return tent{tag, tLong, 1, tb.bo.AppendUint32(nil, v)}
}

func (tb *tiffBuilder) undefined(tag uint16, b []byte) tent {
	return tent{tag, tUndefined, uint32(len(b)), b}
}

// rationals takes numerator, denominator pairs.
func (tb *tiffBuilder) rationals(tag uint16, v ...uint32) tent {
	var b []byte
	for _, x := range v {
		b = tb.bo.AppendUint32(b, x)
	}
	return tent{tag, tRational, uint32(len(v) / 2), b}
}

// What the fixture carries, and the tests look for.
const (
	fixtureMake = "veil-test"
	fixtureDate = "2024:05:17 10:42:00"
)

var (
	fixtureMakerNote = []byte("VEILNOTE\x00owner=alice serial=4242 lat=48.8584")
	// GPSLatitude 48° 51' 30.24"; its bytes must not survive sanitizing.
	fixtureLatitude = []uint32{48, 1, 51, 1, 3024, 100}
)

// fixtureEXIF builds the fixture's TIFF payload: IFD0 (Make, Orientation 1,
// Exif and GPS pointers), the Exif IFD (DateTimeOriginal, MakerNote), the
// GPS IFD and IFD1 with a JPEG thumbnail.
func fixtureEXIF(t testing.TB) []byte {
	tb := newTIFF(binary.LittleEndian)
	ifd0 := tb.ifd(
		tb.ascii(0x010F, fixtureMake),
		tb.short(tagOrientation, 1),
		tb.long(tagExifIFD, 0),
		tb.long(tagGPSIFD, 0),
	)
	exif := tb.ifd(
		tb.ascii(0x9003, fixtureDate),
		tb.undefined(tagMakerNote, fixtureMakerNote),
	)
	gps := tb.ifd(
		tent{0x0000, tByte, 4, []byte{2, 3, 0, 0}}, // GPSVersionID
		tb.ascii(0x0001, "N"),
		tb.rationals(0x0002, fixtureLatitude...),
		tb.ascii(0x0003, "E"),
		tb.rationals(0x0004, 2, 1, 17, 1, 4022, 100),
	)
	thumb := thumbnailJPEG(t)
	ifd1 := tb.ifd(
		tb.short(0x0103, 6), // Compression: JPEG
		tb.long(0x0201, 0),
		tb.long(0x0202, uint32(len(thumb))),
	)
	tb.put32(ifd1.field[0x0201], tb.blob(thumb))
	tb.put32(ifd0.field[tagExifIFD], exif.off)
	tb.put32(ifd0.field[tagGPSIFD], gps.off)
	tb.put32(ifd0.next, ifd1.off)
	return tb.b
}

// thumbnailJPEG is a 16×12 red and blue checkerboard: not the main picture.
func thumbnailJPEG(t testing.TB) []byte {
	m := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 16; x++ {
			c := color.RGBA{220, 30, 30, 255}
			if (x/4+y/4)%2 == 1 {
				c = color.RGBA{30, 30, 220, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixtureJPEG is a 64×48 gradient with the fixture's EXIF segment.
func fixtureJPEG(t testing.TB) []byte {
	m := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 128, 255})
		}
	}
	return splice(encodeJPEG(t, m), app1(append([]byte("Exif\x00\x00"), fixtureEXIF(t)...)))
}

// readFixture returns the committed fixture.
func readFixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatalf("%v (go test -run TestFixture -update makes it)", err)
	}
	return data
}

// mustIFD reads the IFD at off with the package's reader.
func mustIFD(t testing.TB, td tiffData, off uint32) (entries []ifdEntry, next uint32) {
	t.Helper()
	entries, next, err := td.ifd(off)
	if err != nil {
		t.Fatal(err)
	}
	return entries, next
}

// tagValue returns the value of tag in entries, or nil if absent.
func tagValue(t testing.TB, td tiffData, entries []ifdEntry, tag uint16) []byte {
	t.Helper()
	for _, e := range entries {
		if e.tag == tag {
			v, err := td.value(e)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return nil
}

// pointer returns the offset an IFD pointer tag holds, or 0 if absent.
func pointer(td tiffData, entries []ifdEntry, tag uint16) uint32 {
	for _, e := range entries {
		if e.tag == tag {
			return td.bo.Uint32(e.field[:])
		}
	}
	return 0
}

// TestFixture rewrites testdata/gps_thumb.jpg with -update; without, it
// checks that the committed file still carries what SanitizeEXIF must strip:
// a GPS IFD, a MakerNote and a thumbnail in IFD1.
func TestFixture(t *testing.T) {
	if *update {
		if err := os.WriteFile(fixturePath, fixtureJPEG(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := readFixture(t)
	m, format, o, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if format != "jpeg" || o != 1 || m.Bounds() != image.Rect(0, 0, 64, 48) {
		t.Fatalf("fixture decodes as %s %v orientation %d, want jpeg 64x48 1", format, m.Bounds(), o)
	}
	payload := JPEGEXIF(data)
	td, off0, err := parseTIFF(payload)
	if err != nil {
		t.Fatal(err)
	}
	ifd0, next := mustIFD(t, td, off0)
	if got := string(tagValue(t, td, ifd0, 0x010F)); got != fixtureMake+"\x00" {
		t.Errorf("Make %q, want %q", got, fixtureMake)
	}

	exif, _ := mustIFD(t, td, pointer(td, ifd0, tagExifIFD))
	if got := string(tagValue(t, td, exif, 0x9003)); got != fixtureDate+"\x00" {
		t.Errorf("DateTimeOriginal %q, want %q", got, fixtureDate)
	}
	if got := tagValue(t, td, exif, tagMakerNote); !bytes.Equal(got, fixtureMakerNote) {
		t.Errorf("MakerNote %q, want %q", got, fixtureMakerNote)
	}

	gpsOff := pointer(td, ifd0, tagGPSIFD)
	if gpsOff == 0 {
		t.Fatal("no GPS IFD pointer")
	}
	gps, _ := mustIFD(t, td, gpsOff)
	if got := string(tagValue(t, td, gps, 0x0001)); got != "N\x00" {
		t.Errorf("GPSLatitudeRef %q", got)
	}
	if lat := tagValue(t, td, gps, 0x0002); len(lat) != 24 || td.bo.Uint32(lat) != 48 {
		t.Errorf("GPSLatitude % x, want 3 rationals from 48/1", lat)
	}
	if got := string(tagValue(t, td, gps, 0x0003)); got != "E\x00" {
		t.Errorf("GPSLongitudeRef %q", got)
	}
	if lon := tagValue(t, td, gps, 0x0004); len(lon) != 24 {
		t.Errorf("GPSLongitude % x, want 3 rationals", lon)
	}

	if next == 0 {
		t.Fatal("no IFD1")
	}
	ifd1, _ := mustIFD(t, td, next)
	toff, tlen := pointer(td, ifd1, 0x0201), pointer(td, ifd1, 0x0202)
	if uint64(toff)+uint64(tlen) > uint64(len(payload)) || tlen == 0 {
		t.Fatalf("thumbnail at %d, %d bytes, payload %d bytes", toff, tlen, len(payload))
	}
	thumb, err := jpeg.Decode(bytes.NewReader(payload[toff : toff+tlen]))
	if err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	if thumb.Bounds() != image.Rect(0, 0, 16, 12) {
		t.Fatalf("thumbnail %v, want 16x12", thumb.Bounds())
	}
}
