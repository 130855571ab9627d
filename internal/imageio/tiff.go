package imageio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// TIFF field types (TIFF 6.0 section 2; IFD from TIFF Technical Note 1).
const (
	tByte      = 1
	tASCII     = 2
	tShort     = 3
	tLong      = 4
	tRational  = 5
	tSByte     = 6
	tUndefined = 7
	tSShort    = 8
	tSLong     = 9
	tSRational = 10
	tFloat     = 11
	tDouble    = 12
	tIFD       = 13
)

// typeSize is the size in bytes of one value of TIFF field type typ, or 0
// for an unknown type.
func typeSize(typ uint16) uint64 {
	switch typ {
	case tByte, tASCII, tSByte, tUndefined:
		return 1
	case tShort, tSShort:
		return 2
	case tLong, tSLong, tFloat, tIFD:
		return 4
	case tRational, tSRational, tDouble:
		return 8
	}
	return 0
}

// byteOrder is implemented by binary.LittleEndian and binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// errEXIF is wrapped by every error about a malformed TIFF structure.
var errEXIF = errors.New("imageio: malformed EXIF")

// tiffData is a read-only view of a TIFF structure, such as the payload of a
// JPEG's EXIF segment. Its methods check every offset and count against the
// data: they return errors, never panic, on hostile input.
type tiffData struct {
	b  []byte
	bo byteOrder
}

// ifdEntry is one 12-byte IFD entry as stored.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	field    [4]byte // the value if it fits in 4 bytes, else its offset
}

// parseTIFF reads the 8-byte TIFF header ("II*\0" or "MM\0*" and the offset
// of IFD0).
func parseTIFF(b []byte) (t tiffData, ifd0 uint32, err error) {
	if len(b) < 8 {
		return t, 0, fmt.Errorf("%w: %d bytes, too short for a TIFF header", errEXIF, len(b))
	}
	switch string(b[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return t, 0, fmt.Errorf("%w: no TIFF header (% x)", errEXIF, b[:4])
	}
	t.b = b
	return t, t.bo.Uint32(b[4:8]), nil
}

// ifd reads the IFD at offset off: its entries and the offset of the next
// IFD (0 for none). When the IFD runs past the end of the data it returns the
// entries that are whole together with an error, so that a reader of a
// truncated structure can use what is there.
func (t tiffData) ifd(off uint32) (entries []ifdEntry, next uint32, err error) {
	if uint64(off)+2 > uint64(len(t.b)) {
		return nil, 0, fmt.Errorf("%w: IFD offset %d past the end (%d bytes)", errEXIF, off, len(t.b))
	}
	n := int(t.bo.Uint16(t.b[off:]))
	p := int(off) + 2
	entries = make([]ifdEntry, 0, min(n, (len(t.b)-p)/12))
	for k := 0; k < n; k++ {
		e := p + 12*k
		if e+12 > len(t.b) {
			return entries, 0, fmt.Errorf("%w: IFD at %d: %d entries run past the end (%d bytes)", errEXIF, off, n, len(t.b))
		}
		var x ifdEntry
		x.tag = t.bo.Uint16(t.b[e:])
		x.typ = t.bo.Uint16(t.b[e+2:])
		x.count = t.bo.Uint32(t.b[e+4:])
		copy(x.field[:], t.b[e+8:e+12])
		entries = append(entries, x)
	}
	e := p + 12*n
	if e+4 > len(t.b) {
		return entries, 0, fmt.Errorf("%w: IFD at %d: next-IFD offset past the end (%d bytes)", errEXIF, off, len(t.b))
	}
	return entries, t.bo.Uint32(t.b[e:]), nil
}

// value returns the bytes of e's value: count×size bytes, held in the entry
// itself when they fit in 4, else at the offset it gives. The result aliases
// the data (or a copy of the entry's field).
func (t tiffData) value(e ifdEntry) ([]byte, error) {
	size := typeSize(e.typ)
	if size == 0 {
		return nil, fmt.Errorf("%w: tag %#04x: unknown type %d", errEXIF, e.tag, e.typ)
	}
	n := size * uint64(e.count)
	if n <= 4 {
		return e.field[:n:n], nil
	}
	off := uint64(t.bo.Uint32(e.field[:]))
	if off+n > uint64(len(t.b)) {
		return nil, fmt.Errorf("%w: tag %#04x: %d bytes at offset %d run past the end (%d bytes)",
			errEXIF, e.tag, n, off, len(t.b))
	}
	return t.b[off : off+n : off+n], nil
}

// orientation returns the EXIF orientation held by the first 0x0112 entry of
// entries (IFD0), or 1 when there is none or it is invalid.
func (t tiffData) orientation(entries []ifdEntry) int {
	for _, e := range entries {
		if e.tag != tagOrientation {
			continue
		}
		if e.count < 1 {
			return 1
		}
		var v uint32
		switch e.typ {
		case tShort:
			v = uint32(t.bo.Uint16(e.field[:]))
		case tLong:
			v = t.bo.Uint32(e.field[:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
