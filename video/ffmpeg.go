package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoFFmpeg is returned, wrapped, by [Probe], [OpenReader] and
// [CreateWriter] when the ffmpeg or ffprobe executable cannot be found.
var ErrNoFFmpeg = errors.New("video: ffmpeg or ffprobe not found (install the ffmpeg package)")

// ErrVideo is returned, wrapped, when ffmpeg or ffprobe fails or finds no
// video it can handle in a file. The message ends with the last lines ffmpeg
// wrote to its standard error.
var ErrVideo = errors.New("video: ffmpeg error")

// ErrTooLarge is returned, wrapped, by [OpenReader] and [Info.CheckPixels]
// for frames of more pixels than a limit, before any frame is decoded.
var ErrTooLarge = errors.New("video: frames too large")

// MaxPixels is the largest frame, in pixels (width × height), that
// [OpenReader] decodes: that of the images the engine accepts. A frame of
// MaxPixels takes 1 GiB as RGBA, and a few frames are held at once.
const MaxPixels = 1 << 28

// readerMaxPixels is the limit of OpenReader, MaxPixels but in tests.
var readerMaxPixels = MaxPixels

// FFmpeg and FFprobe are the executables run: names looked up in the
// directories of PATH, or paths. Set them before any other call of this
// package.
var FFmpeg, FFprobe = "ffmpeg", "ffprobe"

// Info describes a video file's first video stream and its audio.
type Info struct {
	// Width and Height are the upright (display) size of the frames: the
	// stored size swapped when Rotation is 90 or 270.
	Width, Height int
	// Rotation is the display rotation in degrees clockwise: 0, 90, 180 or
	// 270. A player turns the stored frames by Rotation to show them.
	Rotation int
	// FrameRate is the exact frame rate FrameRate[0]/FrameRate[1] (the
	// stream's average frame rate, else its base rate).
	FrameRate [2]int
	// Frames is the number of frames: the count in the container's index,
	// else the number of packets of the stream (counted with ffprobe).
	Frames int
	// Duration is in seconds.
	Duration float64
	// BitRate is the video stream's bit rate in bit/s: the stream's own,
	// else the file's less its audio streams', else 0 (unknown).
	BitRate int64
	// Codec is the video codec's ffmpeg name, such as "h264" or "mpeg4".
	Codec string
	// AudioStreams is the number of audio streams of the file.
	AudioStreams int
	// PixFmt is ffmpeg's name of the stored pixel format, such as "yuv420p".
	PixFmt string

	index    int       // ffmpeg's index of the video stream in the file
	color    colorTags // colour properties of the video stream
	timeBase [2]int64  // of the video stream; 0/0 when unknown
	// times are the timestamps of the frames decoded by the Reader of
	// this Info; nil for an Info of Probe.
	times *timeline
}

// colorTags are the colour properties of a stream, in ffmpeg's names; ""
// when unknown.
type colorTags struct {
	space, primaries, transfer string
}

// CheckPixels returns an error wrapping [ErrTooLarge] when the frames of in
// have more than limit pixels (width × height), else nil.
func (in *Info) CheckPixels(limit int) error {
	if int64(in.Width)*int64(in.Height) > int64(limit) {
		return fmt.Errorf("%w: %d×%d pixels, the limit is %d", ErrTooLarge, in.Width, in.Height, limit)
	}
	return nil
}

// stored returns the size of the frames as stored, before rotation.
func (in *Info) stored() (w, h int) {
	if in.Rotation == 90 || in.Rotation == 270 {
		return in.Height, in.Width
	}
	return in.Width, in.Height
}

// ffprobe's JSON output (-show_streams -show_format -of json).
type probeOutput struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		Duration string `json:"duration"`
		BitRate  string `json:"bit_rate"`
	} `json:"format"`
}

type probeStream struct {
	Index          int               `json:"index"`
	CodecName      string            `json:"codec_name"`
	CodecType      string            `json:"codec_type"`
	Width          int               `json:"width"`
	Height         int               `json:"height"`
	PixFmt         string            `json:"pix_fmt"`
	ColorSpace     string            `json:"color_space"`
	ColorPrimaries string            `json:"color_primaries"`
	ColorTransfer  string            `json:"color_transfer"`
	AvgFrameRate   string            `json:"avg_frame_rate"`
	TimeBase       string            `json:"time_base"`
	RFrameRate     string            `json:"r_frame_rate"`
	Duration       string            `json:"duration"`
	BitRate        string            `json:"bit_rate"`
	NbFrames       string            `json:"nb_frames"`
	Disposition    map[string]int    `json:"disposition"`
	Tags           map[string]string `json:"tags"`
	SideData       []struct {
		Type     string          `json:"side_data_type"`
		Rotation json.RawMessage `json:"rotation"`
	} `json:"side_data_list"`
}

// Probe describes the video file path with ffprobe.
//
// The video stream described, and decoded by [Reader], is the file's first
// video stream that is not an attached picture (cover art). An error wraps
// [ErrNoFFmpeg] when ffprobe is missing, and [ErrVideo] when ffprobe fails,
// or the file has no video stream or one with a rotation other than a
// multiple of 90°; a missing file gives the error of [os.Stat].
func Probe(ctx context.Context, path string) (*Info, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	bin, err := lookPath(FFprobe)
	if err != nil {
		return nil, err
	}
	out, err := runOutput(ctx, bin, "ffprobe "+path,
		"-v", "error", "-show_streams", "-show_format", "-of", "json", ffPath(path))
	if err != nil {
		return nil, err
	}
	var p probeOutput
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("%w: ffprobe %s: reading its output: %v", ErrVideo, path, err)
	}
	in, err := p.info(path)
	if err != nil {
		return nil, err
	}
	if in.Frames <= 0 {
		// No frame count in the container (Matroska, WebM, MPEG-TS...):
		// count the stream's packets, which reads the file but decodes
		// nothing.
		out, err := runOutput(ctx, bin, "ffprobe "+path,
			"-v", "error", "-select_streams", strconv.Itoa(in.index), "-count_packets",
			"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", ffPath(path))
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: ffprobe %s: bad packet count %q", ErrVideo, path, bytes.TrimSpace(out))
		}
		in.Frames = n
	}
	return in, nil
}

// info turns ffprobe's description of the file path into an Info, leaving
// Frames 0 when the container does not say.
func (p *probeOutput) info(path string) (*Info, error) {
	var v *probeStream
	in := &Info{}
	var audioRate int64
	for i := range p.Streams {
		s := &p.Streams[i]
		switch s.CodecType {
		case "video":
			if v == nil && s.Disposition["attached_pic"] == 0 {
				v = s
			}
		case "audio":
			in.AudioStreams++
			audioRate += parseInt(s.BitRate)
		}
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %s has no video stream", ErrVideo, path)
	}
	if !sizeOK(v.Width, v.Height) {
		return nil, fmt.Errorf("%w: %s: video stream of unsupported size %dx%d", ErrVideo, path, v.Width, v.Height)
	}
	rot, err := v.rotation()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrVideo, path, err)
	}
	in.index = v.Index
	if tb := parseRate(v.TimeBase); tb[0] > 0 {
		in.timeBase = [2]int64{int64(tb[0]), int64(tb[1])}
	}
	in.Rotation = rot
	in.Width, in.Height = v.Width, v.Height
	if rot == 90 || rot == 270 {
		in.Width, in.Height = v.Height, v.Width
	}
	in.FrameRate = parseRate(v.AvgFrameRate)
	if in.FrameRate[0] == 0 {
		in.FrameRate = parseRate(v.RFrameRate)
	}
	in.Frames = int(parseInt(v.NbFrames))
	in.Duration = parseFloat(v.Duration)
	if in.Duration <= 0 {
		in.Duration = parseFloat(p.Format.Duration)
	}
	in.BitRate = parseInt(v.BitRate)
	if in.BitRate <= 0 {
		in.BitRate = max(parseInt(p.Format.BitRate)-audioRate, 0)
	}
	in.Codec = v.CodecName
	in.PixFmt = v.PixFmt
	in.color = colorTags{known(v.ColorSpace), known(v.ColorPrimaries), known(v.ColorTransfer)}
	return in, nil
}

// rotation returns the stream's display rotation, degrees clockwise. It
// reads the display matrix, whose rotation ffprobe reports
// counterclockwise (a phone's portrait video has -90), else the legacy
// "rotate" tag, which is clockwise.
func (s *probeStream) rotation() (int, error) {
	for _, sd := range s.SideData {
		if sd.Type == "Display Matrix" && len(sd.Rotation) > 0 {
			deg, err := strconv.ParseFloat(strings.Trim(string(sd.Rotation), `"`), 64)
			if err != nil {
				return 0, fmt.Errorf("bad display matrix rotation %s", sd.Rotation)
			}
			return quarterTurns(-deg)
		}
	}
	if tag, ok := s.Tags["rotate"]; ok {
		deg, err := strconv.ParseFloat(tag, 64)
		if err != nil {
			return 0, fmt.Errorf("bad rotate tag %q", tag)
		}
		return quarterTurns(deg)
	}
	return 0, nil
}

// quarterTurns returns deg, a clockwise angle within 1° of a multiple of
// 90°, as 0, 90, 180 or 270.
func quarterTurns(deg float64) (int, error) {
	r := math.Round(deg/90) * 90
	if math.IsNaN(deg) || math.IsInf(deg, 0) || math.Abs(deg-r) > 1 {
		return 0, fmt.Errorf("unsupported rotation %g°", deg)
	}
	n := int(math.Mod(r, 360))
	if n < 0 {
		n += 360
	}
	return n, nil
}

// sizeOK reports whether frames of w×h pixels, padded to even, fit in
// RGBA images whose length is an int on every platform.
func sizeOK(w, h int) bool {
	return w > 0 && h > 0 && w <= 1<<16 && h <= 1<<16 && int64(w+1)*int64(h+1)*4 <= math.MaxInt32
}

// known returns ffprobe's name v, or "" for unknown values.
func known(v string) string {
	if v == "unknown" || v == "N/A" {
		return ""
	}
	return v
}

// parseRate parses ffprobe's "num/den", returning 0/0 when not both are
// positive.
func parseRate(s string) [2]int {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		b = "1"
	}
	num, err1 := strconv.Atoi(a)
	den, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || num <= 0 || den <= 0 {
		return [2]int{}
	}
	return [2]int{num, den}
}

// parseInt parses an integer of ffprobe's output, returning 0 for "N/A"
// and the like.
func parseInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseFloat parses a number of ffprobe's output, returning 0 for "N/A"
// and the like.
func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// Reader decodes the frames of a video file, in order, as upright RGBA
// images, through an ffmpeg subprocess that sends raw frames over a pipe:
// its memory use does not grow with the video's length.
//
// A Reader must be closed. It is not safe for concurrent use.
type Reader struct {
	ctx    context.Context
	info   *Info
	path   string
	p      *proc
	out    io.ReadCloser // ffmpeg's standard output
	size   int           // bytes of a frame
	frames int           // frames returned
	err    error         // sticky error of Next
	waited bool          // p was waited for
}

// errReaderClosed is returned by Next after Close.
var errReaderClosed = errors.New("video: Next on a closed Reader")

// OpenReader probes the video file path (see [Probe]) and starts decoding
// its frames.
//
// The decoding stops, and the ffmpeg subprocess is killed, when ctx is done;
// Next then returns ctx's error. An error wraps [ErrNoFFmpeg] when ffmpeg or
// ffprobe is missing, [ErrVideo] when they fail, and [ErrTooLarge] when the
// frames have more than [MaxPixels] pixels: no frame is decoded then.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	info, err := Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := info.CheckPixels(readerMaxPixels); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	bin, err := lookPath(FFmpeg)
	if err != nil {
		return nil, err
	}
	p := newProc(ctx, "ffmpeg decoding "+path, bin, readerArgs(path, info)...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// ffmpeg reports each frame's timestamp on its descriptor 3.
	tr, tw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.cmd.ExtraFiles = []*os.File{tw}
	err = p.start()
	tw.Close()
	if err != nil {
		tr.Close()
		return nil, err
	}
	info.times = newTimeline(info.timeBase)
	go func() {
		info.times.read(tr)
		tr.Close()
	}()
	return &Reader{ctx: ctx, info: info, path: path, p: p, out: out, size: info.Width * info.Height * 4}, nil
}

// readerArgs returns ffmpeg's arguments decoding the stream of info from
// path to raw upright RGBA frames on its standard output. The rotation is
// undone by explicit filters following info.Rotation, not by ffmpeg's
// autorotation, so that the frames have the size of info whatever
// ffmpeg's version.
func readerArgs(path string, info *Info) []string {
	args := []string{"-nostdin", "-v", "error", "-noautorotate", "-i", ffPath(path),
		"-map", "0:" + strconv.Itoa(info.index)}
	switch info.Rotation {
	case 90:
		args = append(args, "-vf", "transpose=clock")
	case 180:
		args = append(args, "-vf", "hflip,vflip")
	case 270:
		args = append(args, "-vf", "transpose=cclock")
	}
	// The frames keep the stream's time base (-enc_time_base -1), and their
	// timestamps go to descriptor 3 as framecrc lines, a line a frame,
	// flushed as they are written.
	return append(args, "-f", "rawvideo", "-pix_fmt", "rgba", "-fps_mode", "passthrough", "-enc_time_base", "-1", "-",
		"-map", "0:"+strconv.Itoa(info.index), "-c:v", "wrapped_avframe", "-fps_mode", "passthrough", "-enc_time_base", "-1",
		"-flush_packets", "1", "-f", "framecrc", "pipe:3")
}

// Info describes the video read.
func (r *Reader) Info() *Info { return r.info }

// Next returns the next frame, or io.EOF after the last.
//
// Each frame is a new *image.RGBA of Info().Width × Info().Height with
// bounds at (0, 0): the Reader keeps no reference to it, and the caller may
// change or keep it. The frames are those of the stream, without
// duplicates or drops, whatever its timestamps.
//
// An error other than io.EOF wraps [ErrVideo] when ffmpeg fails, or is
// ctx's error when the context of OpenReader is done. After an error Next
// returns the same error.
func (r *Reader) Next() (*image.RGBA, error) {
	if r.err != nil {
		return nil, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, r.info.Width, r.info.Height))
	_, err := io.ReadFull(r.out, img.Pix)
	if err == nil {
		// ffmpeg writes the frame's timestamp after the frame.
		r.info.times.wait(r.frames)
		r.frames++
		return img, nil
	}
	if cerr := r.ctx.Err(); cerr != nil {
		r.err = cerr
		return nil, cerr
	}
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		r.waited = true
		if werr := r.p.cmd.Wait(); werr != nil {
			if cerr := r.ctx.Err(); cerr != nil {
				r.err = cerr
			} else {
				r.err = r.p.failure(werr)
			}
		} else if err == io.EOF {
			r.err = io.EOF
		} else {
			r.err = fmt.Errorf("%w: ffmpeg decoding %s: output ends within frame %d", ErrVideo, r.path, r.frames)
		}
	default:
		r.err = fmt.Errorf("%w: ffmpeg decoding %s: %v", ErrVideo, r.path, err)
	}
	return nil, r.err
}

// Close stops the decoding: it kills ffmpeg if it is still running and waits
// for it to exit. It returns nil (errors are Next's); Next returns an error
// after it.
func (r *Reader) Close() error {
	if !r.waited {
		r.waited = true
		r.p.kill()
		r.p.cmd.Wait()
	}
	r.info.times.finish()
	if r.err == nil || r.err == io.EOF {
		r.err = errReaderClosed
	}
	return nil
}

// WriterOptions say how a [Writer] encodes. The zero value encodes H.264 at
// CRF 18 with the veryfast preset.
type WriterOptions struct {
	// Codec is ffmpeg's name of the video encoder (default "libx264").
	Codec string
	// CRF is the constant rate factor, the quality (default 18, visually
	// almost lossless with H.264). It is ignored with KeepBitRate.
	CRF int
	// Preset is the encoder's speed preset (default "veryfast").
	Preset string
	// KeepBitRate targets the source's video bit rate, Info.BitRate
	// (Celantur's keep-bit-rate), instead of a quality: -b:v and -maxrate
	// at that rate, -bufsize twice it. When the rate is unknown (0) CRF is
	// used.
	KeepBitRate bool
	// AudioFrom is a file whose audio streams are copied, unchanged, into
	// the output; "" for no audio.
	AudioFrom string
	// Threads is the number of encoder threads; 0 leaves ffmpeg's default.
	Threads int
}

// Writer encodes upright RGBA frames into a video file through ffmpeg, with
// the frame rate, size and rotation of the [Info] it was created with. It
// writes the frames it is given, each once: the output has as many frames
// as were written.
//
// A rotated video (Rotation 90, 180 or 270) is written as its source was
// stored: the frames are turned back to the stored orientation and the
// rotation is recorded in the output's display matrix, so that players show
// the same picture as the source's. Only the MP4 and QuickTime family of
// formats (.mp4, .m4v, .mov, .3gp, .3g2) records a rotation; other formats
// get the upright frames and no rotation. The format is chosen by ffmpeg
// from the path's extension, so a temporary file must keep the extension.
//
// The pixels are encoded as yuv420p with the colour matrix and colour tags
// of the source when Probe found them, so that the colours look the same,
// otherwise with ffmpeg's defaults (BT.601), as they were decoded. A frame
// size with an odd width or height (as stored) is padded by one black
// column or row to even, which yuv420p needs. The audio streams of
// WriterOptions.AudioFrom are copied unchanged; no other metadata of the
// source is copied (no location, dates or chapters).
//
// A Writer must be closed or aborted. It is not safe for concurrent use.
type Writer struct {
	ctx    context.Context
	path   string
	w, h   int // upright frame size
	rot    int // rotation applied (0 when the format records none)
	enc    *proc
	mux    *proc          // stream-copies enc's output into path, to record rot; nil when rot is 0
	stdin  io.WriteCloser // enc's standard input
	buf    []byte         // a frame as sent to ffmpeg, when not img.Pix itself
	state  int
	err    error // the error of a failed Writer
	frames int
	// With times (an Info of a Reader), the frames go to ffmpeg in
	// Matroska, each with its timestamp.
	times *timeline
	base  int64 // the time of the first frame, ns; 0 with sourceTimes
	// sourceTimes keeps the source's timestamps, not moved to start at
	// 0, beside its audio (ffmpeg -copyts): a video that starts after its
	// audio stays after it.
	sourceTimes bool
	last        int64 // the time of the frame before from the first, ns
	frameDur    int64 // a frame at the frame rate, ns
}

// Writer states.
const (
	writing = iota
	failed  // ffmpeg failed or ctx was done: output removed, err set
	closed  // closed successfully
	aborted // aborted: output removed
)

var (
	errWriterClosed  = errors.New("video: Write after Close")
	errWriterAborted = errors.New("video: Writer aborted")
)

// CreateWriter starts encoding a video into the file path, replacing any
// file there, with the frame rate, upright size and rotation of info (an
// Info from [Probe] or [Reader.Info], or one filled in).
//
// The encoding stops and the output is removed when ctx is done; Write and
// Close then return ctx's error. An error wraps [ErrNoFFmpeg] when ffmpeg is
// missing; an ffmpeg failure is reported by Write or Close, wrapping
// [ErrVideo].
func CreateWriter(ctx context.Context, path string, info *Info, o WriterOptions) (*Writer, error) {
	switch {
	case info == nil:
		return nil, errors.New("video: CreateWriter with no Info")
	case !sizeOK(info.Width, info.Height):
		return nil, fmt.Errorf("video: CreateWriter: bad frame size %dx%d", info.Width, info.Height)
	case info.FrameRate[0] <= 0 || info.FrameRate[1] <= 0:
		return nil, fmt.Errorf("video: CreateWriter: bad frame rate %d/%d", info.FrameRate[0], info.FrameRate[1])
	case info.Rotation != 0 && info.Rotation != 90 && info.Rotation != 180 && info.Rotation != 270:
		return nil, fmt.Errorf("video: CreateWriter: bad rotation %d (want 0, 90, 180 or 270)", info.Rotation)
	case o.CRF < 0 || o.Threads < 0:
		return nil, fmt.Errorf("video: CreateWriter: negative CRF or Threads")
	}
	if o.AudioFrom != "" {
		if _, err := os.Stat(o.AudioFrom); err != nil {
			return nil, err
		}
	}
	bin, err := lookPath(FFmpeg)
	if err != nil {
		return nil, err
	}
	in := *info
	if !recordsRotation(path) {
		in.Rotation = 0
	}
	encArgs, muxArgs := writerArgs(path, &in, o)
	w := &Writer{ctx: ctx, path: path, w: in.Width, h: in.Height, rot: in.Rotation, times: in.times,
		sourceTimes: keepsSourceTimes(&in, o),
		frameDur:    max(int64(1e9*float64(in.FrameRate[1])/float64(in.FrameRate[0])), 1)}
	w.enc = newProc(ctx, "ffmpeg encoding "+path, bin, encArgs...)
	if w.stdin, err = w.enc.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if muxArgs == nil {
		if err := w.enc.start(); err != nil {
			w.stdin.Close()
			return nil, err
		}
		return w, nil
	}
	// Two processes: enc encodes to NUT on a pipe, mux copies the stream
	// into path recording the rotation.
	w.mux = newProc(ctx, "ffmpeg writing "+path, bin, muxArgs...)
	pr, pw, err := os.Pipe()
	if err != nil {
		w.stdin.Close()
		return nil, err
	}
	w.enc.cmd.Stdout = pw
	w.mux.cmd.Stdin = pr
	err = w.mux.start()
	if err == nil {
		if err = w.enc.start(); err != nil {
			w.mux.kill()
			w.mux.cmd.Wait()
		}
	}
	pr.Close()
	pw.Close()
	if err != nil {
		w.stdin.Close()
		return nil, err
	}
	return w, nil
}

// recordsRotation reports whether ffmpeg's muxer for path's extension
// records a display rotation.
func recordsRotation(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".mp4", ".m4v", ".mov", ".3gp", ".3g2":
		return true
	}
	return false
}

// keepsSourceTimes reports whether a Writer of info's frames with o keeps
// the source's timestamps (ffmpeg -copyts) rather than starting at 0: when
// it copies the source's audio, which keeps its own, so that a video that
// starts after its audio does not play early. It needs the frames'
// timestamps (an Info of a Reader).
func keepsSourceTimes(info *Info, o WriterOptions) bool {
	return info.times != nil && o.AudioFrom != ""
}

// writerArgs returns the arguments of the ffmpeg encoding info's frames,
// read as raw RGBA in the stored orientation from its standard input, into
// path. When info.Rotation is not 0 the encoder writes NUT to its standard
// output and mux are the arguments of a second ffmpeg stream-copying that
// into path with the rotation: ffmpeg 5.1 records a rotation given as
// -metadata:s:v:0 rotate=… for stream copies only.
func writerArgs(path string, info *Info, o WriterOptions) (enc, mux []string) {
	sw, sh := info.stored()
	if o.Codec == "" {
		o.Codec = "libx264"
	}
	if o.CRF == 0 {
		o.CRF = 18
	}
	if o.Preset == "" {
		o.Preset = "veryfast"
	}
	if info.times != nil {
		// Each frame with its timestamp, in Matroska (see Writer.Write).
		enc = []string{"-nostdin", "-v", "error"}
		if keepsSourceTimes(info, o) {
			enc = append(enc, "-copyts")
		}
		enc = append(enc, "-f", "matroska", "-i", "-")
	} else {
		enc = []string{"-nostdin", "-v", "error",
			"-f", "rawvideo", "-pix_fmt", "rgba", "-s", fmt.Sprintf("%dx%d", sw, sh),
			"-framerate", fmt.Sprintf("%d/%d", info.FrameRate[0], info.FrameRate[1]), "-i", "-"}
	}
	var out []string // the arguments of the final output, for enc or mux
	if o.AudioFrom != "" {
		out = append(out, "-map", "1:a?", "-c:a", "copy")
	}
	if recordsRotation(path) {
		out = append(out, "-movflags", "+faststart")
	}
	out = append(out, "-y", ffPath(path))

	if info.Rotation != 0 {
		mux = []string{"-nostdin", "-v", "error"}
		if keepsSourceTimes(info, o) {
			mux = append(mux, "-copyts")
		}
		mux = append(mux, "-f", "nut", "-i", "-")
		if o.AudioFrom != "" {
			mux = append(mux, "-i", ffPath(o.AudioFrom))
		}
		// ffmpeg 5.1 sets the display matrix to a counterclockwise
		// rotation by the tag's value.
		mux = append(mux, "-map", "0:v:0", "-c:v", "copy",
			"-metadata:s:v:0", "rotate="+strconv.Itoa((360-info.Rotation)%360))
		mux = append(mux, out...)
	} else if o.AudioFrom != "" {
		enc = append(enc, "-i", ffPath(o.AudioFrom))
	}
	enc = append(enc, "-map", "0:v:0")
	var filters []string
	if sw%2 != 0 || sh%2 != 0 {
		filters = append(filters, "pad=ceil(iw/2)*2:ceil(ih/2)*2")
	}
	matrix := swsMatrix(info.color.space)
	if matrix != "" {
		filters = append(filters, "scale=out_color_matrix="+matrix+":out_range=tv", "format=yuv420p")
	}
	if filters != nil {
		enc = append(enc, "-vf", strings.Join(filters, ","))
	}
	enc = append(enc, "-fps_mode", "passthrough")
	if tb := info.times.timeBase(); info.times != nil && tb[0] > 0 {
		enc = append(enc, "-enc_time_base", fmt.Sprintf("%d/%d", tb[0], tb[1]))
	}
	enc = append(enc, "-c:v", o.Codec)
	if o.KeepBitRate && info.BitRate > 0 {
		b := strconv.FormatInt(info.BitRate, 10)
		enc = append(enc, "-b:v", b, "-maxrate", b, "-bufsize", strconv.FormatInt(2*info.BitRate, 10))
	} else {
		enc = append(enc, "-crf", strconv.Itoa(o.CRF))
	}
	enc = append(enc, "-preset", o.Preset)
	if o.Threads > 0 {
		enc = append(enc, "-threads", strconv.Itoa(o.Threads))
	}
	enc = append(enc, "-pix_fmt", "yuv420p")
	if matrix != "" {
		enc = append(enc, "-colorspace", info.color.space, "-color_range", "tv")
		if info.color.primaries != "" {
			enc = append(enc, "-color_primaries", info.color.primaries)
		}
		if info.color.transfer != "" {
			enc = append(enc, "-color_trc", info.color.transfer)
		}
	}
	if mux != nil {
		return append(enc, "-f", "nut", "-"), mux
	}
	return append(enc, out...), nil
}

// swsMatrix returns the name of the colour matrix of the scale filter for
// ffmpeg's colour space name, or "" when it has none.
func swsMatrix(space string) string {
	switch space {
	case "bt709", "fcc", "smpte170m", "smpte240m":
		return space
	case "bt470bg":
		return "bt470"
	case "bt2020nc", "bt2020c":
		return "bt2020"
	}
	return ""
}

// Write encodes img, which must be of the Writer's upright size (its
// bounds may start anywhere). Write keeps no reference to img.
//
// An error wraps [ErrVideo] when ffmpeg failed, or is ctx's error when
// ctx is done; the output is then removed and the Writer is done: Write and
// Close return the same error.
func (w *Writer) Write(img *image.RGBA) error {
	switch w.state {
	case failed:
		return w.err
	case closed:
		return errWriterClosed
	case aborted:
		return errWriterAborted
	}
	if err := w.ctx.Err(); err != nil {
		return w.fail(err)
	}
	if img == nil {
		return errors.New("video: Write of a nil image")
	}
	b := img.Rect
	if b.Dx() != w.w || b.Dy() != w.h {
		return fmt.Errorf("video: Write of a %dx%d frame, want %dx%d", b.Dx(), b.Dy(), w.w, w.h)
	}
	off := img.PixOffset(b.Min.X, b.Min.Y)
	if img.Stride < 4*w.w || off < 0 || len(img.Pix)-off < (w.h-1)*img.Stride+4*w.w {
		return errors.New("video: Write of a malformed image.RGBA")
	}
	src := img.Pix[off:]
	var frame []byte
	switch {
	case w.rot == 0 && img.Stride == 4*w.w:
		frame = src[:4*w.w*w.h]
	default:
		if w.buf == nil {
			w.buf = make([]byte, 4*w.w*w.h)
		}
		frame = w.buf
		if w.rot == 0 {
			for y := range w.h {
				copy(frame[y*4*w.w:(y+1)*4*w.w], src[y*img.Stride:])
			}
		} else {
			rotateToStored(frame, src, img.Stride, w.w, w.h, w.rot)
		}
	}
	if w.times != nil {
		var head []byte
		if w.frames == 0 {
			sw, sh := w.w, w.h
			if w.rot == 90 || w.rot == 270 {
				sw, sh = sh, sw
			}
			head = mkvHeader(sw, sh, w.frameDur)
		}
		t := w.frameTime()
		dur, ok := w.times.duration(w.frames)
		if !ok {
			dur = w.frameDur
		}
		if _, err := w.stdin.Write(append(head, mkvFrameHeader(t, dur, len(frame))...)); err != nil {
			return w.fail(err)
		}
		w.last = t
	}
	if _, err := w.stdin.Write(frame); err != nil {
		return w.fail(err)
	}
	w.frames++
	return nil
}

// fail ends a Writer whose writing failed with err: it lets ffmpeg exit,
// removes the output and records the error, ffmpeg's when it failed.
func (w *Writer) fail(err error) error {
	if ferr := w.finish(); ferr != nil {
		err = ferr
	} else if w.ctx.Err() == nil {
		err = fmt.Errorf("%w: writing to ffmpeg: %v", ErrVideo, err)
	}
	os.Remove(w.path)
	w.state, w.err = failed, err
	return err
}

// finish closes ffmpeg's input and waits for the processes, returning ctx's
// error when it is done, else the first failure of ffmpeg.
func (w *Writer) finish() error {
	w.stdin.Close()
	encErr := w.enc.cmd.Wait()
	var muxErr error
	if w.mux != nil {
		muxErr = w.mux.cmd.Wait()
	}
	switch {
	case w.ctx.Err() != nil:
		return w.ctx.Err()
	case encErr != nil && (muxErr == nil || w.enc.stderr.Len() > 0 || w.mux.stderr.Len() == 0):
		return w.enc.failure(encErr)
	case muxErr != nil:
		return w.mux.failure(muxErr)
	}
	return nil
}

// Close finishes the encoding: it closes ffmpeg's input, waits for it to
// write the file and, for a rotated video, checks the rotation recorded. On
// error the output is removed; the error is ctx's when ctx is done, else it
// wraps [ErrVideo]: ffmpeg failed, or no frame was written. Close after
// Close returns the same result.
func (w *Writer) Close() error {
	switch w.state {
	case failed:
		return w.err
	case closed:
		return nil
	case aborted:
		return errWriterAborted
	}
	err := w.finish()
	if w.frames == 0 && w.ctx.Err() == nil {
		err = fmt.Errorf("%w: %s: no frame written", ErrVideo, w.path)
	} else if err == nil && w.rot != 0 {
		err = w.checkRotation()
	}
	if err != nil {
		os.Remove(w.path)
		w.state, w.err = failed, err
		return err
	}
	w.state = closed
	return nil
}

// checkRotation probes the output for the rotation intended.
func (w *Writer) checkRotation() error {
	out, err := Probe(w.ctx, w.path)
	if err != nil {
		return err
	}
	if out.Rotation != w.rot {
		return fmt.Errorf("%w: %s was written with rotation %d°, want %d° (this ffmpeg does not honour -metadata:s:v:0 rotate)",
			ErrVideo, w.path, out.Rotation, w.rot)
	}
	return nil
}

// Abort stops the encoding: it kills ffmpeg, waits for it and removes the
// output, so that nothing is left of a video that could not be finished.
// Abort after Close, or after an error of Write or Close, does nothing: a
// closed video is kept.
func (w *Writer) Abort() {
	if w.state != writing {
		return
	}
	w.enc.kill()
	if w.mux != nil {
		w.mux.kill()
	}
	w.finish()
	os.Remove(w.path)
	w.state, w.err = aborted, errWriterAborted
}

// rotateToStored writes to dst, a w'×h' RGBA frame without padding (h×w for
// rot 90 and 270), the frame src of w×h pixels (rows stride bytes apart)
// turned rot degrees counterclockwise: the stored frame that a player
// turning it rot degrees clockwise shows as src.
func rotateToStored(dst, src []byte, stride, w, h, rot int) {
	// A stored pixel (sx, sy) shows at the upright (x, y):
	//   rot  90: x = w-1-sy, y = sx   (stored is h×w)
	//   rot 180: x = w-1-sx, y = h-1-sy
	//   rot 270: x = sy,     y = h-1-sx (stored is h×w)
	sw, sh := w, h
	if rot != 180 {
		sw, sh = h, w
	}
	const tile = 64 // walk in tiles, so that the columns read stay in cache
	for ty := 0; ty < sh; ty += tile {
		for tx := 0; tx < sw; tx += tile {
			for sy := ty; sy < min(ty+tile, sh); sy++ {
				d := (sy*sw + tx) * 4
				for sx := tx; sx < min(tx+tile, sw); sx++ {
					var x, y int
					switch rot {
					case 90:
						x, y = w-1-sy, sx
					case 180:
						x, y = w-1-sx, h-1-sy
					default:
						x, y = sy, h-1-sx
					}
					s := y*stride + 4*x
					*(*[4]byte)(dst[d : d+4]) = *(*[4]byte)(src[s : s+4])
					d += 4
				}
			}
		}
	}
}

// proc is an ffmpeg or ffprobe subprocess.
type proc struct {
	name   string // what it does, for errors
	cmd    *exec.Cmd
	stderr *tailBuffer
}

func newProc(ctx context.Context, name, bin string, args ...string) *proc {
	p := &proc{name: name, cmd: exec.CommandContext(ctx, bin, args...), stderr: &tailBuffer{}}
	p.cmd.Stderr = p.stderr
	return p
}

// start starts p, reporting a missing executable with ErrNoFFmpeg.
func (p *proc) start() error {
	if err := p.cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %v", ErrNoFFmpeg, err)
		}
		return fmt.Errorf("%w: %s: %v", ErrVideo, p.name, err)
	}
	return nil
}

// kill kills p if it was started.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
}

// failure returns the error of p having exited with err, after Wait.
func (p *proc) failure(err error) error {
	if msg := p.stderr.String(); msg != "" {
		return fmt.Errorf("%w: %s: %v: %s", ErrVideo, p.name, err, msg)
	}
	return fmt.Errorf("%w: %s: %v", ErrVideo, p.name, err)
}

// runOutput runs bin and returns its standard output.
func runOutput(ctx context.Context, bin, name string, args ...string) ([]byte, error) {
	p := newProc(ctx, name, bin, args...)
	var out bytes.Buffer
	p.cmd.Stdout = &out
	if err := p.start(); err != nil {
		return nil, err
	}
	if err := p.cmd.Wait(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, p.failure(err)
	}
	return out.Bytes(), nil
}

// lookPath finds the executable name, reporting its absence with
// ErrNoFFmpeg.
func lookPath(name string) (string, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoFFmpeg, err)
	}
	return bin, nil
}

// ffPath returns path as an ffmpeg URL of the file protocol, so that no
// part of it is taken for another protocol ("a:b.mp4") or an option
// ("-x.mp4").
func ffPath(path string) string {
	return "file:" + path
}

// tailBuffer keeps the end of what is written to it: the last lines of
// ffmpeg's standard error.
type tailBuffer struct {
	b []byte
}

const tailMax = 1024

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4*tailMax {
		t.b = append(t.b[:0], t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

// Len returns the number of bytes kept.
func (t *tailBuffer) Len() int { return len(t.b) }

// String returns the last tailMax bytes kept, from a line start when
// possible, with the lines joined by "; ".
func (t *tailBuffer) String() string {
	b := t.b
	if len(b) > tailMax {
		b = b[len(b)-tailMax:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
