package imageio

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestJPEGEXIF(t *testing.T) {
	fixture := readFixture(t)
	base := encodeJPEG(t, uprightImage())
	payload := []byte("MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00")
	exif := app1(append([]byte("Exif\x00\x00"), payload...))
	other := app1(append([]byte("Exif\x00\x00"), "II*\x00other"...))
	jfif := []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	xmp := app1([]byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	for _, tc := range []struct {
		name string
		data []byte
		want []byte
	}{
		{"exif", splice(base, exif), payload},
		{"jfif then exif", splice(base, jfif, exif), payload},
		{"xmp then exif", splice(base, xmp, exif), payload},
		{"fill bytes", splice(base, []byte{0xFF, 0xFF}, exif), payload},
		{"exif then exif", splice(base, exif, other), payload},
		{"empty payload", splice(base, app1([]byte("Exif\x00\x00"))), []byte{}},
		{"no exif", base, nil},
		{"xmp only", splice(base, xmp), nil},
		{"nil", nil, nil},
		{"png", pngHeader(10, 10), nil},
		{"garbage", []byte("not a jpeg, not anything"), nil},
		{"exif after sos", append([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0, 2}, exif...), nil},
		{"segment cut short", splice(base, exif)[:2+len(exif)-1], nil},
		{"segment length huge", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I'}, nil},
		{"segment length 1", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 1, 'E', 'x', 'i', 'f', 0, 0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := JPEGEXIF(tc.data)
			if !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("JPEGEXIF = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("fixture", func(t *testing.T) {
		got := JPEGEXIF(fixture)
		// The fixture's segment follows SOI: its payload is the segment less
		// its length field and "Exif\0\0".
		n := int(binary.BigEndian.Uint16(fixture[4:])) - 8
		if len(got) != n || !bytes.Equal(got, fixture[12:12+n]) || string(got[:4]) != "II*\x00" {
			t.Fatalf("JPEGEXIF returned %d bytes (% x...), want the %d of the segment", len(got), got[:min(8, len(got))], n)
		}
		// Appending to the result must not write into the JPEG.
		if cap(got) != len(got) {
			t.Fatalf("result has spare capacity %d over the segment", cap(got)-len(got))
		}
	})

	t.Run("truncated", func(t *testing.T) {
		whole := JPEGEXIF(fixture)
		end := 12 + len(whole)
		for n := 0; n <= len(fixture); n++ {
			got := JPEGEXIF(fixture[:n])
			if n >= end {
				if !bytes.Equal(got, whole) {
					t.Fatalf("prefix %d: payload differs", n)
				}
			} else if got != nil {
				t.Fatalf("prefix %d: %d bytes, want nil", n, len(got))
			}
		}
	})
}

// checkSanitized checks that out is a TIFF structure as SanitizeEXIF writes
// it, read back with the package's reader: IFD0 at 8, no next IFD, entries
// sorted by tag, values and IFDs on word boundaries and not overlapping, no
// pointer other than IFD0's Exif IFD pointer, Orientation (if any) 1, and no
// GPS tag anywhere. It returns IFD0 and the Exif IFD entries.
func checkSanitized(t testing.TB, out []byte) (td tiffData, ifd0, exif []ifdEntry) {
	t.Helper()
	td, off0, err := parseTIFF(out)
	if err != nil {
		t.Fatal(err)
	}
	if off0 != 8 {
		t.Fatalf("IFD0 at %d, want 8", off0)
	}
	type span struct{ start, end uint64 }
	spans := []span{{0, 8}}
	readIFD := func(name string, off uint32) []ifdEntry {
		entries, next, err := td.ifd(off)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if next != 0 {
			t.Fatalf("%s: next IFD at %d, want none", name, next)
		}
		if off%2 != 0 {
			t.Fatalf("%s at odd offset %d", name, off)
		}
		spans = append(spans, span{uint64(off), uint64(off) + 2 + 12*uint64(len(entries)) + 4})
		for i, e := range entries {
			if i > 0 && entries[i-1].tag >= e.tag {
				t.Fatalf("%s: tag %#04x after %#04x", name, e.tag, entries[i-1].tag)
			}
			if e.tag == tagGPSIFD || e.tag < minTag {
				t.Fatalf("%s: tag %#04x (GPS)", name, e.tag)
			}
			if e.tag == tagExifIFD && name == "IFD0" {
				if e.typ != tLong || e.count != 1 {
					t.Fatalf("Exif IFD pointer of type %d count %d", e.typ, e.count)
				}
				continue
			}
			if _, ok := droppedTags[e.tag]; ok {
				t.Fatalf("%s: tag %#04x (%s) kept", name, e.tag, droppedTags[e.tag])
			}
			if e.typ < tByte || e.typ > tDouble {
				t.Fatalf("%s: tag %#04x of type %d kept", name, e.tag, e.typ)
			}
			v, err := td.value(e)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(v) > 4 {
				off := uint64(td.bo.Uint32(e.field[:]))
				if off%2 != 0 {
					t.Fatalf("%s: tag %#04x value at odd offset %d", name, e.tag, off)
				}
				spans = append(spans, span{off, off + uint64(len(v))})
			}
			if e.tag == tagOrientation && name == "IFD0" && (e.typ != tShort || e.count != 1 || td.bo.Uint16(v) != 1) {
				t.Fatalf("Orientation type %d count %d value % x, want SHORT 1", e.typ, e.count, v)
			}
		}
		return entries
	}
	ifd0 = readIFD("IFD0", off0)
	if off := pointer(td, ifd0, tagExifIFD); off != 0 {
		exif = readIFD("Exif IFD", off)
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			t.Fatalf("overlapping parts %v and %v", spans[i-1], spans[i])
		}
	}
	if last := spans[len(spans)-1].end; last != uint64(len(out)) {
		t.Fatalf("%d bytes after the last part (ends at %d)", uint64(len(out))-last, last)
	}
	return td, ifd0, exif
}

func tags(entries []ifdEntry) []uint16 {
	var ts []uint16
	for _, e := range entries {
		ts = append(ts, e.tag)
	}
	return ts
}

func TestSanitizeEXIFFixture(t *testing.T) {
	in := JPEGEXIF(readFixture(t))
	orig := bytes.Clone(in)
	out, err := SanitizeEXIF(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in, orig) {
		t.Fatal("SanitizeEXIF modified its input")
	}
	td, ifd0, exif := checkSanitized(t, out)
	if string(out[:4]) != "II*\x00" {
		t.Fatalf("byte order changed: % x", out[:4])
	}
	if got, want := tags(ifd0), []uint16{0x010F, tagOrientation, tagExifIFD}; !slices.Equal(got, want) {
		t.Fatalf("IFD0 tags %#04x, want %#04x", got, want)
	}
	if got, want := tags(exif), []uint16{0x9003}; !slices.Equal(got, want) {
		t.Fatalf("Exif IFD tags %#04x, want %#04x", got, want)
	}
	if got := string(tagValue(t, td, ifd0, 0x010F)); got != fixtureMake+"\x00" {
		t.Errorf("Make %q", got)
	}
	if got := string(tagValue(t, td, exif, 0x9003)); got != fixtureDate+"\x00" {
		t.Errorf("DateTimeOriginal %q", got)
	}
	var lat []byte
	for _, v := range fixtureLatitude {
		lat = binary.LittleEndian.AppendUint32(lat, v)
	}
	for _, leak := range []struct {
		what string
		b    []byte
	}{
		{"embedded JPEG", []byte{0xFF, 0xD8, 0xFF}},
		{"MakerNote", fixtureMakerNote[:8]},
		{"GPSLatitude", lat},
		{"GPS tag", binary.LittleEndian.AppendUint16(nil, tagGPSIFD)},
	} {
		if bytes.Contains(out, leak.b) {
			t.Errorf("output contains the %s (% x)", leak.what, leak.b)
		}
	}
	if len(out) >= len(in)/2 {
		t.Errorf("output %d bytes of %d: the thumbnail cannot have gone", len(out), len(in))
	}
}

// TestSanitizeEXIFOrientation: whatever the orientation, the output says 1,
// in either byte order.
func TestSanitizeEXIFOrientation(t *testing.T) {
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, tc := range []struct {
			name string
			e    func(tb *tiffBuilder) tent
			want bool // an Orientation entry in the output
		}{
			{"short 6", func(tb *tiffBuilder) tent { return tb.short(tagOrientation, 6) }, true},
			{"short 8", func(tb *tiffBuilder) tent { return tb.short(tagOrientation, 8) }, true},
			{"long 3", func(tb *tiffBuilder) tent { return tb.long(tagOrientation, 3) }, true},
			{"short 1", func(tb *tiffBuilder) tent { return tb.short(tagOrientation, 1) }, true},
			{"none", func(tb *tiffBuilder) tent { return tb.short(0x0100, 640) }, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tb := newTIFF(bo)
				tb.ifd(tb.ascii(0x010F, "x"), tc.e(tb))
				out, err := SanitizeEXIF(tb.b)
				if err != nil {
					t.Fatal(err)
				}
				td, ifd0, _ := checkSanitized(t, out)
				if string(out[:4]) != string(tb.b[:4]) {
					t.Fatalf("byte order % x, want % x", out[:4], tb.b[:4])
				}
				v := tagValue(t, td, ifd0, tagOrientation)
				if (v != nil) != tc.want {
					t.Fatalf("Orientation entry %v, want %v", v != nil, tc.want)
				}
				if got := tiffOrientation(out); got != 1 {
					t.Fatalf("orientation %d, want 1", got)
				}
			})
		}
	}

	// Through a whole JPEG: orientation 6 in, 1 out.
	in := JPEGEXIF(orientedJPEG(t, binary.BigEndian, 6))
	if Orientation(tiffJPEG(in)) != 6 {
		t.Fatal("input orientation not 6")
	}
	out, err := SanitizeEXIF(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := Orientation(tiffJPEG(out)); got != 1 {
		t.Fatalf("sanitized orientation %d, want 1", got)
	}
}

// TestSanitizeEXIFKeep: which entries survive, with their values.
func TestSanitizeEXIFKeep(t *testing.T) {
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		tb := newTIFF(bo)
		xres := tb.rationals(0x011A, 72, 1)
		ifd0 := tb.ifd(
			tb.long(0x0111, 1234),         // StripOffsets
			tb.ascii(0x010F, "Maker"),     // Make, out of line
			tb.ascii(0x0110, "M1"),        // Model, inline
			xres,                          // XResolution
			tb.ascii(0x010E, "a picture"), // ImageDescription: odd length, yet the Exif IFD must be aligned
			tb.ascii(0x013B, "someone!"),  // Artist: names a person, dropped
			tb.long(0x014A, 8),            // SubIFDs
			tb.long(0x0201, 8),            // JPEGInterchangeFormat in IFD0
			tb.long(0x0202, 10),           // JPEGInterchangeFormatLength
			tb.undefined(0x02BC, []byte("<x:xmpmeta>GPS</x:xmpmeta>")),
			tb.undefined(0x83BB, []byte("IPTC-IPTC")),
			tb.undefined(0x8649, []byte("8BIM....")),
			tb.undefined(0x8773, []byte("ICC-profile")),
			tent{0x9999, 99, 1, []byte{1, 2, 3, 4}}, // unknown type
			tent{0xABCD, tIFD, 1, []byte{0, 0, 0, 8}},
			tb.long(tagExifIFD, 0),
			tb.long(tagGPSIFD, 8),
			tb.undefined(0xC634, []byte("DNG private")),
			tb.ascii(0x010F, "second Make"), // duplicate: the first wins
		)
		interop := tb.ifd(tb.ascii(0x0001, "R98"))
		exif := tb.ifd(
			tb.rationals(0x829A, 1, 250), // ExposureTime
			tb.ascii(0x9003, fixtureDate),
			tb.long(tagExifIFD, 8), // nested: dropped, not followed
			tb.long(tagGPSIFD, 8),  // hostile: dropped
			tb.undefined(tagMakerNote, fixtureMakerNote),
			tb.long(tagInterop, interop.off),
			tb.short(tagOrientation, 6), // only IFD0's is rewritten
		)
		tb.put32(ifd0.field[tagExifIFD], exif.off)
		out, err := SanitizeEXIF(tb.b)
		if err != nil {
			t.Fatal(err)
		}
		td, got0, gotExif := checkSanitized(t, out)
		if got, want := tags(got0), []uint16{0x010E, 0x010F, 0x0110, 0x011A, tagExifIFD}; !slices.Equal(got, want) {
			t.Fatalf("IFD0 tags %#04x, want %#04x", got, want)
		}
		if got, want := tags(gotExif), []uint16{tagOrientation, 0x829A, 0x9003}; !slices.Equal(got, want) {
			t.Fatalf("Exif IFD tags %#04x, want %#04x", got, want)
		}
		for _, c := range []struct {
			entries []ifdEntry
			tag     uint16
			want    []byte
		}{
			{got0, 0x010F, []byte("Maker\x00")},
			{got0, 0x0110, []byte("M1\x00")},
			{got0, 0x011A, xres.val},
			{got0, 0x010E, []byte("a picture\x00")},
			{gotExif, 0x829A, tb.rationals(0, 1, 250).val},
			{gotExif, 0x9003, []byte(fixtureDate + "\x00")},
			{gotExif, tagOrientation, bo.AppendUint16(nil, 6)},
		} {
			if v := tagValue(t, td, c.entries, c.tag); !bytes.Equal(v, c.want) {
				t.Errorf("tag %#04x = % x, want % x", c.tag, v, c.want)
			}
		}
		for _, leak := range []string{"GPS", "IPTC", "8BIM", "ICC", "DNG", "R98", "VEILNOTE", "second", "someone"} {
			if bytes.Contains(out, []byte(leak)) {
				t.Errorf("output contains %q", leak)
			}
		}
	}
}

// TestSanitizeEXIFEmptyExif: an Exif IFD left empty is not written, nor its
// pointer; an IFD0 left empty is still a valid structure.
func TestSanitizeEXIFEmptyExif(t *testing.T) {
	tb := newTIFF(binary.BigEndian)
	ifd0 := tb.ifd(tb.long(tagExifIFD, 0), tb.long(tagGPSIFD, 8))
	exif := tb.ifd(tb.undefined(tagMakerNote, fixtureMakerNote))
	tb.put32(ifd0.field[tagExifIFD], exif.off)
	out, err := SanitizeEXIF(tb.b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ifd0, exif := checkSanitized(t, out); len(ifd0) != 0 || len(exif) != 0 {
		t.Fatalf("IFD0 %#04x, Exif %#04x, want both empty", tags(ifd0), tags(exif))
	}
	if want := []byte("MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"); !bytes.Equal(out, want) {
		t.Fatalf("output % x, want % x", out, want)
	}
}

func TestSanitizeEXIFMalformed(t *testing.T) {
	le := binary.LittleEndian
	build := func(f func(tb *tiffBuilder)) []byte {
		tb := newTIFF(le)
		f(tb)
		return tb.b
	}
	withExif := func(exifOff uint32) []byte {
		return build(func(tb *tiffBuilder) { tb.ifd(tb.ascii(0x010F, "x"), tb.long(tagExifIFD, exifOff)) })
	}
	// An IFD0 of 100 entries whose 200-byte values all lie at the same place.
	overlapping := build(func(tb *tiffBuilder) {
		var es []tent
		for i := range 100 {
			es = append(es, tent{uint16(0x1000 + i), tUndefined, 200, bytes.Repeat([]byte{'x'}, 200)})
		}
		r := tb.ifd(es...)
		values := r.next + 4 // where the first value went
		for i := range 100 {
			tb.put32(r.field[uint16(0x1000+i)], uint32(values))
		}
		tb.b = tb.b[:values+200]
	})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"short header", []byte("II*\x00\x08\x00\x00")},
		{"bad magic", []byte("II+\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"jpeg", encodeJPEG(t, uprightImage())},
		{"ifd0 past end", []byte("II*\x00\xFF\xFF\xFF\xFF\x00\x00\x00\x00\x00\x00")},
		{"ifd0 at last byte", []byte("II*\x00\x08\x00\x00\x00\x00")},
		{"entries past end", []byte("II*\x00\x08\x00\x00\x00\xFF\xFF\x00\x00\x00\x00\x00\x00")},
		{"no next-IFD field", build(func(tb *tiffBuilder) { tb.ifd(tb.short(0x0100, 1)); tb.b = tb.b[:len(tb.b)-4] })},
		{"value past end", build(func(tb *tiffBuilder) {
			r := tb.ifd(tb.ascii(0x010F, "a long make name"))
			tb.put32(r.field[0x010F], 0xFFFFFFF0)
		})},
		{"value cut short", build(func(tb *tiffBuilder) {
			tb.ifd(tb.ascii(0x010F, "a long make name"))
			tb.b = tb.b[:len(tb.b)-1]
		})},
		{"huge count", build(func(tb *tiffBuilder) { tb.ifd(tent{0x011A, tRational, 0xFFFFFFFF, []byte{0, 0, 0, 8}}) })},
		{"exif ifd past end", withExif(0xFFFFFF00)},
		{"exif ifd loops to ifd0", withExif(8)},
		{"exif pointer short", build(func(tb *tiffBuilder) { tb.ifd(tb.short(tagExifIFD, 8)) })},
		{"exif pointer count 2", build(func(tb *tiffBuilder) { tb.ifd(tent{tagExifIFD, tLong, 2, make([]byte, 8)}) })},
		{"exif value past end", build(func(tb *tiffBuilder) {
			r := tb.ifd(tb.long(tagExifIFD, 0))
			e := tb.ifd(tb.ascii(0x9003, fixtureDate))
			tb.put32(r.field[tagExifIFD], e.off)
			tb.put32(e.field[0x9003], 0x7FFFFFFF)
		})},
		{"overlapping values", overlapping},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := SanitizeEXIF(tc.data)
			if err == nil || out != nil {
				t.Fatalf("SanitizeEXIF = %d bytes, %v; want an error", len(out), err)
			}
			if !errors.Is(err, errEXIF) {
				t.Fatalf("error %q does not wrap errEXIF", err)
			}
			t.Log(err)
		})
	}
}

// TestSanitizeEXIFTolerant: what is dropped is not read, so its faults do not
// matter; a pointer from the Exif IFD to itself is not followed.
func TestSanitizeEXIFTolerant(t *testing.T) {
	tb := newTIFF(binary.LittleEndian)
	ifd0 := tb.ifd(tb.ascii(0x010F, fixtureMake), tb.long(tagExifIFD, 0), tb.long(tagGPSIFD, 0xFFFFFFFF))
	exif := tb.ifd(tb.ascii(0x9003, fixtureDate), tb.long(tagExifIFD, 0), tb.undefined(tagMakerNote, fixtureMakerNote))
	tb.put32(ifd0.field[tagExifIFD], exif.off)
	tb.put32(exif.field[tagExifIFD], exif.off)
	tb.put32(exif.field[tagMakerNote], 0xFFFFFFF0)
	tb.put32(ifd0.next, 0xFFFFFFFF) // IFD1 nowhere
	out, err := SanitizeEXIF(tb.b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ifd0, exif := checkSanitized(t, out); len(ifd0) != 2 || len(exif) != 1 {
		t.Fatalf("IFD0 %#04x, Exif %#04x", tags(ifd0), tags(exif))
	}
}

// TestSanitizeEXIFPointerToGPS: an Exif IFD pointer aimed at the GPS IFD
// brings none of its entries along.
func TestSanitizeEXIFPointerToGPS(t *testing.T) {
	tb := newTIFF(binary.BigEndian)
	ifd0 := tb.ifd(tb.ascii(0x010F, fixtureMake), tb.long(tagExifIFD, 0), tb.long(tagGPSIFD, 0))
	gps := tb.ifd(
		tb.ascii(0x0001, "N"),
		tb.rationals(0x0002, fixtureLatitude...),
		tb.ascii(0x0003, "E"),
		tb.rationals(0x0004, 2, 1, 17, 1, 4022, 100),
		tb.ascii(0x001D, "2024:05:17"), // GPSDateStamp
	)
	tb.put32(ifd0.field[tagExifIFD], gps.off)
	tb.put32(ifd0.field[tagGPSIFD], gps.off)
	out, err := SanitizeEXIF(tb.b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ifd0, exif := checkSanitized(t, out); !slices.Equal(tags(ifd0), []uint16{0x010F}) || len(exif) != 0 {
		t.Fatalf("IFD0 %#04x, Exif %#04x; want Make only", tags(ifd0), tags(exif))
	}
	if bytes.Contains(out, []byte("2024")) {
		t.Fatal("GPS data in the output")
	}
}

// Every prefix and random corruptions of the fixture's payload: an error or
// a valid structure, never a panic; and sanitizing is idempotent.
func TestSanitizeEXIFHostile(t *testing.T) {
	in := JPEGEXIF(readFixture(t))
	for n := 0; n <= len(in); n++ {
		if out, err := SanitizeEXIF(in[:n]); err == nil {
			checkSanitized(t, out)
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	ok := 0
	for i := 0; i < 20000; i++ {
		b := bytes.Clone(in[:min(len(in), 400)])
		for k := rng.IntN(4); k >= 0; k-- {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		out, err := SanitizeEXIF(b)
		if err != nil {
			continue
		}
		ok++
		checkSanitized(t, out)
		again, err := SanitizeEXIF(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("sanitizing the output again: %v, changed %v", err, !bytes.Equal(again, out))
		}
	}
	if ok == 0 {
		t.Fatal("no corrupted input sanitized: the test checks nothing")
	}
}

func FuzzSanitizeEXIF(f *testing.F) {
	f.Add(JPEGEXIF(readFixture(f)))
	for _, bo := range orders {
		f.Add(JPEGEXIF(orientedJPEG(f, bo.order, 6)))
	}
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := SanitizeEXIF(b)
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		checkSanitized(t, out)
		again, err := SanitizeEXIF(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("sanitizing the output again: %v, changed %v", err, !bytes.Equal(again, out))
		}
	})
}
