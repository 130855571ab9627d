package video

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
)

// noPTS marks a frame whose timestamp ffmpeg did not give.
const noPTS = math.MinInt64

// timeline holds the timestamps of the frames a Reader decoded, in the
// time base tb, as ffmpeg reports them in framecrc lines on a pipe of its
// own. The Writer created with the Reader's Info reads them, so that each
// frame keeps its time (variable frame rates included).
type timeline struct {
	mu   sync.Mutex
	cond *sync.Cond
	tb   [2]int64 // num, den; 0/0 until known
	pts  []int64
	dur  []int64 // the frames' durations, 0 when unknown
	done bool    // no more timestamps will come
}

// newTimeline returns a timeline whose time base is tb until ffmpeg says.
func newTimeline(tb [2]int64) *timeline {
	tl := &timeline{tb: tb}
	tl.cond = sync.NewCond(&tl.mu)
	return tl
}

// read parses ffmpeg's framecrc output from r until its end or an
// unexpected line, then marks tl done.
func (tl *timeline) read(r io.Reader) {
	defer func() {
		tl.mu.Lock()
		tl.done = true
		tl.mu.Unlock()
		tl.cond.Broadcast()
	}()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#tb 0: "); ok {
			num, den, _ := strings.Cut(strings.TrimSpace(rest), "/")
			n, err1 := strconv.ParseInt(num, 10, 64)
			d, err2 := strconv.ParseInt(den, 10, 64)
			if err1 == nil && err2 == nil && n > 0 && d > 0 {
				tl.mu.Lock()
				tl.tb = [2]int64{n, d}
				tl.mu.Unlock()
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		// stream, dts, pts, duration, size, hash
		// A line not understood still stands for a frame; reading goes on,
		// so that ffmpeg never blocks on this pipe.
		pts, dur := int64(noPTS), int64(0)
		if f := strings.Split(line, ","); len(f) >= 4 {
			if v, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64); err == nil {
				pts = v
			}
			if v, err := strconv.ParseInt(strings.TrimSpace(f[3]), 10, 64); err == nil && v > 0 {
				dur = v
			}
		}
		tl.mu.Lock()
		tl.pts = append(tl.pts, pts)
		tl.dur = append(tl.dur, dur)
		tl.mu.Unlock()
		tl.cond.Broadcast()
	}
}

// wait waits until the timestamp of frame i is known or none will come.
func (tl *timeline) wait(i int) {
	tl.mu.Lock()
	for len(tl.pts) <= i && !tl.done {
		tl.cond.Wait()
	}
	tl.mu.Unlock()
}

// finish marks tl done, so that no wait blocks.
func (tl *timeline) finish() {
	tl.mu.Lock()
	tl.done = true
	tl.mu.Unlock()
	tl.cond.Broadcast()
}

// nanos returns the time of frame i in nanoseconds, and whether it is
// known.
func (tl *timeline) nanos(i int) (int64, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if i >= len(tl.pts) || tl.pts[i] == noPTS {
		return 0, false
	}
	return tl.toNanos(tl.pts[i])
}

// duration returns the duration of frame i in nanoseconds, and whether it
// is known.
func (tl *timeline) duration(i int) (int64, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if i >= len(tl.dur) || tl.dur[i] == 0 {
		return 0, false
	}
	return tl.toNanos(tl.dur[i])
}

// toNanos returns v, in tl's time base, in nanoseconds.
func (tl *timeline) toNanos(v int64) (int64, bool) {
	if tl.tb[0] == 0 {
		return 0, false
	}
	// v × 1e9 × num / den, rounded, without overflow.
	x := new(big.Int).Mul(big.NewInt(v), big.NewInt(1e9*tl.tb[0]))
	den := big.NewInt(tl.tb[1])
	x.Add(x, new(big.Int).Quo(den, big.NewInt(2)))
	x.Div(x, den)
	if !x.IsInt64() {
		return 0, false
	}
	return x.Int64(), true
}

// timeBase returns the time base of tl's timestamps, 0/0 when unknown or
// tl is nil.
func (tl *timeline) timeBase() [2]int64 {
	if tl == nil {
		return [2]int64{}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.tb
}

// Matroska, as written to the encoder: one raw RGBA video track, one frame
// per cluster, times in nanoseconds (a timestamp scale of 1).
const (
	mkvEBML          = 0x1A45DFA3
	mkvSegment       = 0x18538067
	mkvInfo          = 0x1549A966
	mkvTimeScale     = 0x2AD7B1
	mkvTracks        = 0x1654AE6B
	mkvTrackEntry    = 0xAE
	mkvTrackNumber   = 0xD7
	mkvTrackUID      = 0x73C5
	mkvTrackType     = 0x83
	mkvCodecID       = 0x86
	mkvVideo         = 0xE0
	mkvPixelWidth    = 0xB0
	mkvPixelHeight   = 0xBA
	mkvColourSpace   = 0x2EB524
	mkvCluster       = 0x1F43B675
	mkvTimestamp     = 0xE7
	mkvBlockGroup    = 0xA0
	mkvBlock         = 0xA1
	mkvBlockDuration = 0x9B
)

// ebml appends the element id with the data body.
func ebml(b []byte, id uint32, body []byte) []byte {
	b = ebmlID(b, id)
	b = ebmlSize(b, uint64(len(body)))
	return append(b, body...)
}

func ebmlID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// ebmlSize appends n as an 8-byte EBML variable-size integer.
func ebmlSize(b []byte, n uint64) []byte {
	return binary.BigEndian.AppendUint64(b, n|1<<56)
}

// ebmlUint appends the element id with the unsigned integer v.
func ebmlUint(b []byte, id uint32, v uint64) []byte {
	return ebml(b, id, binary.BigEndian.AppendUint64(nil, v))
}

// mkvHeader returns the start of a Matroska stream of w×h RGBA frames: the
// EBML header, a segment of unknown size, its info and its track, whose
// default frame duration, frameDur nanoseconds, gives ffmpeg the frame rate.
func mkvHeader(w, h int, frameDur int64) []byte {
	var head []byte
	head = ebmlUint(head, 0x4286, 1) // EBMLVersion
	head = ebmlUint(head, 0x42F7, 1) // EBMLReadVersion
	head = ebmlUint(head, 0x42F2, 4) // EBMLMaxIDLength
	head = ebmlUint(head, 0x42F3, 8) // EBMLMaxSizeLength
	head = ebml(head, 0x4282, []byte("matroska"))
	head = ebmlUint(head, 0x4287, 4) // DocTypeVersion
	head = ebmlUint(head, 0x4285, 2) // DocTypeReadVersion
	b := ebml(nil, mkvEBML, head)
	b = ebmlID(b, mkvSegment)
	b = append(b, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF) // unknown size
	b = ebml(b, mkvInfo, ebmlUint(nil, mkvTimeScale, 1))
	var video []byte
	video = ebmlUint(video, mkvPixelWidth, uint64(w))
	video = ebmlUint(video, mkvPixelHeight, uint64(h))
	video = ebml(video, mkvColourSpace, []byte("RGBA"))
	var track []byte
	track = ebmlUint(track, mkvTrackNumber, 1)
	track = ebmlUint(track, mkvTrackUID, 1)
	track = ebmlUint(track, mkvTrackType, 1) // video
	track = ebml(track, mkvCodecID, []byte("V_UNCOMPRESSED"))
	track = ebmlUint(track, 0x23E383, uint64(frameDur)) // DefaultDuration: the frame rate
	track = ebml(track, mkvVideo, video)
	return ebml(b, mkvTracks, ebml(nil, mkvTrackEntry, track))
}

// mkvFrameHeader returns the bytes of a cluster at time ns lasting dur
// (nanoseconds) holding one frame of n bytes, up to the frame's data,
// which follows: a block group whose duration precedes its block.
func mkvFrameHeader(ns, dur int64, n int) []byte {
	ts := ebmlUint(nil, mkvTimestamp, uint64(ns))
	d := ebmlUint(nil, mkvBlockDuration, uint64(dur))
	block := []byte{0x81, 0, 0, 0} // track 1, relative time 0
	b := ebmlID(nil, mkvCluster)
	b = ebmlSize(b, uint64(len(ts)+1+8+len(d)+1+8+len(block)+n))
	b = append(b, ts...)
	b = ebmlID(b, mkvBlockGroup)
	b = ebmlSize(b, uint64(len(d)+1+8+len(block)+n))
	b = append(b, d...)
	b = ebmlID(b, mkvBlock)
	b = ebmlSize(b, uint64(len(block)+n))
	return append(b, block...)
}

// frameTime returns the time, in nanoseconds from the first frame (from the
// source's start with sourceTimes), at which the Writer w writes its next
// frame: the Reader's timestamp of the frame
// of that index, else (unknown, or not after the frame before) the time of
// the frame before plus a frame at the frame rate.
func (w *Writer) frameTime() int64 {
	i := w.frames
	ns, ok := w.times.nanos(i)
	if i == 0 {
		if !w.sourceTimes {
			w.base = ns // 0 when unknown
		}
		return ns - w.base
	}
	t := ns - w.base
	if !ok || t <= w.last {
		t = w.last + w.frameDur
	}
	return t
}
