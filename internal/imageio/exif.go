package imageio

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// TIFF/EXIF tags SanitizeEXIF treats specially.
const (
	tagOrientation = 0x0112
	tagExifIFD     = 0x8769
	tagGPSIFD      = 0x8825
	tagMakerNote   = 0x927C
	tagInterop     = 0xA005

	// minTag is the lowest tag SanitizeEXIF keeps (NewSubfileType): lower
	// numbers are GPS and Interoperability tags.
	minTag = 0x00FE
)

// droppedTags are the tags SanitizeEXIF never copies: pointers to other
// structures (whose offsets it does not rewrite, and which hold locations,
// thumbnails or vendor data), embedded metadata blocks, and the tags that
// name a person or identify one camera (an anonymized picture should not
// lead back to its photographer or device).
var droppedTags = map[uint16]string{
	0x0111:       "StripOffsets",
	0x0117:       "StripByteCounts",
	0x0144:       "TileOffsets",
	0x0145:       "TileByteCounts",
	0x014A:       "SubIFDs",
	0x0201:       "JPEGInterchangeFormat",
	0x0202:       "JPEGInterchangeFormatLength",
	0x02BC:       "XMP",
	0x83BB:       "IPTC",
	0x8649:       "Photoshop image resources",
	0x8773:       "ICC profile",
	tagExifIFD:   "Exif IFD (rebuilt, IFD0 only)",
	tagGPSIFD:    "GPS IFD",
	tagMakerNote: "MakerNote",
	tagInterop:   "Interoperability IFD",
	0xC634:       "DNGPrivateData",
	0x013B:       "Artist",
	0x013C:       "HostComputer",
	0x9286:       "UserComment",
	0x9C9B:       "XPTitle",
	0x9C9C:       "XPComment",
	0x9C9D:       "XPAuthor",
	0x9C9E:       "XPKeywords",
	0x9C9F:       "XPSubject",
	0xA420:       "ImageUniqueID",
	0xA430:       "CameraOwnerName",
	0xA431:       "BodySerialNumber",
	0xA435:       "LensSerialNumber",
}

// outEntry is an IFD entry to be written: its value bytes are already in the
// output's byte order (they are copied, never re-encoded).
type outEntry struct {
	tag, typ uint16
	count    uint32
	val      []byte
}

// SanitizeEXIF rebuilds the TIFF structure of an EXIF payload (as returned
// by JPEGEXIF), in the same byte order, keeping the descriptive entries and
// dropping whatever locates the picture or carries other data:
//
//   - it keeps the entries of IFD0 and of the Exif sub-IFD (tag 0x8769) whose
//     values are self-contained (types BYTE through DOUBLE), values copied as
//     they are;
//   - it drops the GPS IFD (pointer 0x8825) and anything in it, IFD1 and its
//     thumbnail (IFD0's next-IFD offset is 0 in the output), the MakerNote
//     (0x927C), the Interoperability IFD (0xA005), SubIFDs, strip, tile and
//     JPEG-thumbnail offsets, embedded XMP, IPTC, Photoshop and ICC blocks,
//     and tags below 0x00FE (GPS and Interoperability tag numbers, which have
//     no meaning in IFD0 or the Exif IFD), and the tags that name a person
//     or one device: Artist, HostComputer, UserComment, the Windows XP*
//     tags, ImageUniqueID, CameraOwnerName and the body and lens serial
//     numbers;
//   - it sets Orientation (0x0112) in IFD0, when present, to 1, since the
//     pixels written with it are upright.
//
// Other self-contained entries are kept, among them Make, Model, DateTime*,
// the exposure settings and Copyright.
//
// The output has one IFD0, sorted by tag without duplicates (the first of a
// repeated tag is kept), its values on word boundaries, then the Exif IFD
// when it keeps any entry. Entries of unknown type are dropped. A malformed
// structure — a bad header, an IFD, a kept value or the Exif IFD lying past
// the end, an Exif IFD pointer that loops back, values adding up to more than
// the data — gives an error; SanitizeEXIF never panics and reads at most two
// IFDs.
func SanitizeEXIF(tiff []byte) ([]byte, error) {
	t, off0, err := parseTIFF(tiff)
	if err != nil {
		return nil, err
	}
	ifd0, _, err := t.ifd(off0)
	if err != nil {
		return nil, err
	}
	var ifd0Out, exifOut []outEntry
	budget := uint64(len(tiff)) // out-of-line value bytes left to copy
	exifSeen := false
	for _, e := range ifd0 {
		switch e.tag {
		case tagOrientation:
			ifd0Out = append(ifd0Out, outEntry{tagOrientation, tShort, 1, t.bo.AppendUint16(nil, 1)})
		case tagExifIFD:
			if exifSeen {
				continue
			}
			exifSeen = true
			if (e.typ != tLong && e.typ != tIFD) || e.count != 1 {
				return nil, fmt.Errorf("%w: Exif IFD pointer of type %d, count %d", errEXIF, e.typ, e.count)
			}
			off := t.bo.Uint32(e.field[:])
			if off == off0 {
				return nil, fmt.Errorf("%w: Exif IFD pointer loops back to IFD0", errEXIF)
			}
			sub, _, err := t.ifd(off)
			if err != nil {
				return nil, fmt.Errorf("%w, in the Exif IFD", err)
			}
			if exifOut, err = t.keep(exifOut, sub, &budget); err != nil {
				return nil, fmt.Errorf("%w, in the Exif IFD", err)
			}
		default:
			if ifd0Out, err = t.keep(ifd0Out, []ifdEntry{e}, &budget); err != nil {
				return nil, fmt.Errorf("%w, in IFD0", err)
			}
		}
	}
	exifOut = sortEntries(exifOut)
	if len(exifOut) > 0 {
		// The value is patched once the Exif IFD's offset is known.
		ifd0Out = append(ifd0Out, outEntry{tagExifIFD, tLong, 1, make([]byte, 4)})
	}
	ifd0Out = sortEntries(ifd0Out)

	out := make([]byte, 0, 8+ifdSize(ifd0Out)+ifdSize(exifOut))
	out = append(out, tiff[:4]...) // byte order and 42, as checked by parseTIFF
	out = t.bo.AppendUint32(out, 8)
	out, _, fields := appendIFD(out, t.bo, ifd0Out)
	if len(exifOut) > 0 {
		i, _ := slices.BinarySearchFunc(ifd0Out, uint16(tagExifIFD), func(e outEntry, tag uint16) int {
			return cmp.Compare(e.tag, tag)
		})
		var off int
		out, off, _ = appendIFD(out, t.bo, exifOut)
		t.bo.PutUint32(out[fields[i]:], uint32(off))
	}
	if uint64(len(out)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: output of %d bytes too large for TIFF offsets", errEXIF, len(out))
	}
	return out, nil
}

// keep appends to out the entries of in that SanitizeEXIF copies, charging
// their out-of-line values to *budget.
func (t tiffData) keep(out []outEntry, in []ifdEntry, budget *uint64) ([]outEntry, error) {
	for _, e := range in {
		if _, drop := droppedTags[e.tag]; drop || e.tag < minTag || e.typ < tByte || e.typ > tDouble {
			continue
		}
		v, err := t.value(e)
		if err != nil {
			return out, err
		}
		if n := uint64(len(v)); n > 4 {
			if n > *budget {
				return out, fmt.Errorf("%w: tag %#04x: values add up to more than the %d bytes of data", errEXIF, e.tag, len(t.b))
			}
			*budget -= n
		}
		out = append(out, outEntry{e.tag, e.typ, e.count, v})
	}
	return out, nil
}

// sortEntries sorts entries by tag, keeping the first of each tag.
func sortEntries(entries []outEntry) []outEntry {
	slices.SortStableFunc(entries, func(a, b outEntry) int { return cmp.Compare(a.tag, b.tag) })
	return slices.CompactFunc(entries, func(a, b outEntry) bool { return a.tag == b.tag })
}

// ifdSize is the number of bytes appendIFD writes for entries, at most.
func ifdSize(entries []outEntry) int {
	n := 2 + 12*len(entries) + 4 + 1 // +1: alignment before the IFD
	for _, e := range entries {
		if len(e.val) > 4 {
			n += len(e.val) + 1
		}
	}
	return n
}

// appendIFD appends, at the next word boundary, an IFD holding entries (next
// IFD offset 0) followed by their out-of-line values, each on a word boundary.
// It returns the IFD's offset and the position of every entry's 4-byte value
// field.
func appendIFD(out []byte, bo byteOrder, entries []outEntry) (_ []byte, off int, fields []int) {
	if len(out)%2 != 0 {
		out = append(out, 0)
	}
	off = len(out)
	fields = make([]int, len(entries))
	out = bo.AppendUint16(out, uint16(len(entries)))
	for i, e := range entries {
		out = bo.AppendUint16(out, e.tag)
		out = bo.AppendUint16(out, e.typ)
		out = bo.AppendUint32(out, e.count)
		fields[i] = len(out)
		var f [4]byte
		if len(e.val) <= 4 {
			copy(f[:], e.val)
		}
		out = append(out, f[:]...)
	}
	out = bo.AppendUint32(out, 0) // no next IFD
	for i, e := range entries {
		if len(e.val) <= 4 {
			continue
		}
		if len(out)%2 != 0 {
			out = append(out, 0)
		}
		bo.PutUint32(out[fields[i]:], uint32(len(out)))
		out = append(out, e.val...)
	}
	return out, off, fields
}
