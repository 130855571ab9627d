package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peopleMP4 is a sample video of the shared data (1 s, 8 frames,
// 1920×1080 MPEG-4 Part 2), used when present.
const peopleMP4 = "../../shared/data/samples/People.mp4"

// needFFmpeg skips the test when ffmpeg or ffprobe is not installed.
func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s is not installed (apt-get install ffmpeg): %v", name, err)
		}
	}
}

// runFFmpeg runs ffmpeg with args and returns its standard output.
func runFFmpeg(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// ffprobeJSON returns ffprobe's JSON for the entries of path.
func ffprobeJSON(t *testing.T, path string, args ...string) map[string]any {
	t.Helper()
	args = append([]string{"-v", "error", "-of", "json"}, append(args, path)...)
	out, err := exec.Command("ffprobe", args...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", strings.Join(args, " "), err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// scroll is the filter of the test clips: a 640×360 window of street.jpg
// moving down 60 px/s.
const scroll = "crop=640:360:0:t*60,format=yuv420p"

// fixtures are the test videos, made on first use into fixtureDir by
// ffmpeg, from their recipe.
var (
	fixtureDir string
	fixtureMu  sync.Mutex
	fixtures   = map[string]string{}
)

// recipes make the fixtures (set by init: they use fixture).
var recipes map[string]func(t *testing.T, out string)

func init() {
	recipes = map[string]func(t *testing.T, out string){
		// 2 s at 25 fps, 640×360 H.264 with AAC audio, and location and
		// title metadata.
		"clip.mp4": func(t *testing.T, out string) {
			runFFmpeg(t, "-loop", "1", "-framerate", "25", "-i", "../testdata/street.jpg",
				"-f", "lavfi", "-i", "sine=frequency=440:duration=2",
				"-vf", scroll, "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-c:a", "aac",
				"-metadata", "location=+48.8584+002.2945/", "-metadata", "title=secret", out)
		},
		// The same video at 2 Mbit/s, no audio.
		"2mbit.mp4": func(t *testing.T, out string) {
			runFFmpeg(t, "-loop", "1", "-framerate", "25", "-i", "../testdata/street.jpg",
				"-vf", scroll, "-t", "2", "-c:v", "libx264", "-preset", "veryfast",
				"-b:v", "2M", "-maxrate", "2M", "-bufsize", "4M", out)
		},
		// The same video in BT.709, tagged so.
		"bt709.mp4": func(t *testing.T, out string) {
			runFFmpeg(t, "-loop", "1", "-framerate", "25", "-i", "../testdata/street.jpg",
				"-vf", "crop=640:360:0:t*60,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
				"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
				"-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv", out)
		},
		// MPEG-4 Part 2 in Matroska, which has no frame count.
		"mpeg4.mkv": func(t *testing.T, out string) {
			runFFmpeg(t, "-loop", "1", "-framerate", "25", "-i", "../testdata/street.jpg",
				"-vf", scroll, "-t", "2", "-c:v", "mpeg4", "-q:v", "3", out)
		},
		// 1 s at 25 fps, 320×180, for the rotations.
		"small.mp4": func(t *testing.T, out string) {
			runFFmpeg(t, "-loop", "1", "-framerate", "25", "-i", "../testdata/group.jpg",
				"-vf", "crop=320:180:200:t*60,format=yuv420p", "-t", "1",
				"-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", out)
		},
		// small.mp4 with a display rotation: ffmpeg 5.1's rotate=R tag on a
		// stream copy records a counterclockwise rotation by R, -90 for ffprobe
		// with R 270: 90° clockwise, as a phone's portrait video.
		"rot90.mp4":  rotated(270),
		"rot180.mp4": rotated(180),
		"rot270.mp4": rotated(90),
		// Audio only.
		"tone.m4a": func(t *testing.T, out string) {
			runFFmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", out)
		},
	}
}

func rotated(tag int) func(t *testing.T, out string) {
	return func(t *testing.T, out string) {
		runFFmpeg(t, "-i", fixture(t, "small.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate="+strconv.Itoa(tag), out)
	}
}

// fixture returns the path of the test video name, making it if needed.
func fixture(t *testing.T, name string) string {
	t.Helper()
	needFFmpeg(t)
	if name == "People.mp4" {
		if _, err := os.Stat(peopleMP4); err != nil {
			t.Skipf("no %s: %v", peopleMP4, err)
		}
		return peopleMP4
	}
	fixtureMu.Lock()
	path, ok := fixtures[name]
	fixtureMu.Unlock()
	if ok {
		return path
	}
	path = filepath.Join(fixtureDir, name)
	recipes[name](t, path)
	fixtureMu.Lock()
	fixtures[name] = path
	fixtureMu.Unlock()
	return path
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "veil-video-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name     string
		want     Info // all but Duration and BitRate are compared
		duration float64
	}{
		{"clip.mp4", Info{Width: 640, Height: 360, FrameRate: [2]int{25, 1}, Frames: 50, Codec: "h264", AudioStreams: 1, PixFmt: "yuv420p"}, 2},
		{"mpeg4.mkv", Info{Width: 640, Height: 360, FrameRate: [2]int{25, 1}, Frames: 50, Codec: "mpeg4", PixFmt: "yuv420p"}, 2},
		{"rot90.mp4", Info{Width: 180, Height: 320, Rotation: 90, FrameRate: [2]int{25, 1}, Frames: 25, Codec: "h264", PixFmt: "yuv420p"}, 1},
		{"rot180.mp4", Info{Width: 320, Height: 180, Rotation: 180, FrameRate: [2]int{25, 1}, Frames: 25, Codec: "h264", PixFmt: "yuv420p"}, 1},
		{"rot270.mp4", Info{Width: 180, Height: 320, Rotation: 270, FrameRate: [2]int{25, 1}, Frames: 25, Codec: "h264", PixFmt: "yuv420p"}, 1},
		{"People.mp4", Info{Width: 1920, Height: 1080, FrameRate: [2]int{8, 1}, Frames: 8, Codec: "mpeg4", PixFmt: "yuv420p"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Probe(context.Background(), fixture(t, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Duration-tt.duration) > 0.05 {
				t.Errorf("Duration = %g, want %g", got.Duration, tt.duration)
			}
			if got.BitRate <= 0 {
				t.Errorf("BitRate = %d, want > 0", got.BitRate)
			}
			g := *got
			g.Duration, g.BitRate, g.index, g.color, g.timeBase = 0, 0, 0, colorTags{}, [2]int64{}
			if g != tt.want {
				t.Errorf("Probe = %+v\nwant    %+v", g, tt.want)
			}
		})
	}
}

// TestProbeRotationConvention checks the sign of ffprobe's rotation: a
// video shown turned 90° clockwise has -90.
func TestProbeRotationConvention(t *testing.T) {
	m := ffprobeJSON(t, fixture(t, "rot90.mp4"), "-select_streams", "v:0", "-show_entries", "stream_side_data=rotation")
	got := fmt.Sprint(m["streams"].([]any)[0].(map[string]any)["side_data_list"].([]any)[0].(map[string]any)["rotation"])
	if got != "-90" {
		t.Errorf("ffprobe rotation of rot90.mp4 = %s, want -90", got)
	}
	tests := []struct {
		sd   string // the side data's rotation
		tag  string // the rotate tag
		want int
	}{
		{"", "", 0},
		{"-90", "", 90},
		{"90", "", 270},
		{"180", "", 180},
		{"-180", "", 180},
		{"-90.4", "", 90},
		{"0", "90", 0}, // the display matrix wins
		{"", "90", 90},
		{"", "270", 270},
		{"", "-90", 270},
	}
	for _, tt := range tests {
		var s probeStream
		if tt.sd != "" {
			s.SideData = append(s.SideData, struct {
				Type     string          `json:"side_data_type"`
				Rotation json.RawMessage `json:"rotation"`
			}{"Display Matrix", json.RawMessage(tt.sd)})
		}
		if tt.tag != "" {
			s.Tags = map[string]string{"rotate": tt.tag}
		}
		if got, err := s.rotation(); err != nil || got != tt.want {
			t.Errorf("rotation(side data %q, tag %q) = %d, %v; want %d", tt.sd, tt.tag, got, err, tt.want)
		}
	}
	for _, bad := range []string{"45", "1e400", `"x"`} {
		var s probeStream
		s.SideData = append(s.SideData, struct {
			Type     string          `json:"side_data_type"`
			Rotation json.RawMessage `json:"rotation"`
		}{"Display Matrix", json.RawMessage(bad)})
		if got, err := s.rotation(); err == nil {
			t.Errorf("rotation(side data %s) = %d, want an error", bad, got)
		}
	}
}

// readAll decodes every frame of path with a Reader.
func readAll(t *testing.T, path string) (*Info, []*image.RGBA) {
	t.Helper()
	r, err := OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var frames []*image.RGBA
	for {
		img, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(frames), err)
		}
		frames = append(frames, img)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after io.EOF = %v, want io.EOF", err)
	}
	return r.Info(), frames
}

// ffmpegFrame returns frame 0 of path as decoded by ffmpeg alone, through
// a PNG, turned upright by ffmpeg's autorotation.
func ffmpegFrame(t *testing.T, path string) *image.RGBA {
	t.Helper()
	out := runFFmpeg(t, "-i", path, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-")
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba
}

// meanDiff returns the mean absolute difference of the red, green and blue
// channels of a and b, which must have the same size, over the rectangle r
// of a's bounds (b's bounds are moved to a's).
func meanDiff(t *testing.T, a, b *image.RGBA, r image.Rectangle) float64 {
	t.Helper()
	if a.Rect.Size() != b.Rect.Size() {
		t.Fatalf("comparing a %v image to a %v one", a.Rect.Size(), b.Rect.Size())
	}
	d := b.Rect.Min.Sub(a.Rect.Min)
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i, j := a.PixOffset(x, y), b.PixOffset(x+d.X, y+d.Y)
			for c := range 3 {
				sum += math.Abs(float64(a.Pix[i+c]) - float64(b.Pix[j+c]))
				n++
			}
		}
	}
	return sum / n
}

func TestReader(t *testing.T) {
	tests := []struct {
		name   string
		frames int
		w, h   int
	}{
		{"clip.mp4", 50, 640, 360},
		{"mpeg4.mkv", 50, 640, 360},
		{"rot90.mp4", 25, 180, 320},
		{"People.mp4", 8, 1920, 1080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixture(t, tt.name)
			_, frames := readAll(t, path)
			if len(frames) != tt.frames {
				t.Fatalf("read %d frames, want %d", len(frames), tt.frames)
			}
			for i, f := range frames {
				if f.Rect != image.Rect(0, 0, tt.w, tt.h) {
					t.Fatalf("frame %d has bounds %v, want %dx%d at (0, 0)", i, f.Rect, tt.w, tt.h)
				}
			}
			if tt.name != "People.mp4" {
				for i := 1; i < len(frames); i++ {
					if bytes.Equal(frames[i-1].Pix, frames[i].Pix) {
						t.Errorf("frames %d and %d are the same; the clip scrolls", i-1, i)
					}
				}
			}
			if d := meanDiff(t, frames[0], ffmpegFrame(t, path), frames[0].Rect); d > 2 {
				t.Errorf("frame 0 differs from ffmpeg's by %.2f on average", d)
			}
		})
	}
}

// rotateCW returns img turned 90° clockwise deg/90 times, by definition:
// the top-left pixel goes to the top right.
func rotateCW(img *image.RGBA, deg int) *image.RGBA {
	for ; deg > 0; deg -= 90 {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		out := image.NewRGBA(image.Rect(0, 0, h, w))
		for y := range w {
			for x := range h {
				i, j := out.PixOffset(x, y), img.PixOffset(y, h-1-x)
				copy(out.Pix[i:i+4], img.Pix[j:j+4])
			}
		}
		img = out
	}
	return img
}

func TestRotateToStored(t *testing.T) {
	for _, size := range []image.Point{{1, 1}, {3, 2}, {65, 130}, {200, 7}} {
		up := image.NewRGBA(image.Rect(-2, 3, size.X+3, size.Y+5)) // padded, with an offset
		for i := range up.Pix {
			up.Pix[i] = byte(i*7 + i/251)
		}
		r := image.Rect(0, 3, size.X, size.Y+3)
		sub := up.SubImage(r).(*image.RGBA)
		for _, rot := range []int{90, 180, 270} {
			sw, sh := size.Y, size.X
			if rot == 180 {
				sw, sh = size.X, size.Y
			}
			stored := image.NewRGBA(image.Rect(0, 0, sw, sh))
			rotateToStored(stored.Pix, sub.Pix[sub.PixOffset(r.Min.X, r.Min.Y):], sub.Stride, size.X, size.Y, rot)
			shown := rotateCW(stored, rot)
			if meanDiff(t, shown, sub, shown.Rect) != 0 {
				t.Errorf("%v turned %d° counterclockwise and back is not the same", size, rot)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	_, small := readAll(t, fixture(t, "small.mp4"))
	for _, tt := range []struct {
		name string
		rot  int
	}{{"rot90.mp4", 90}, {"rot180.mp4", 180}, {"rot270.mp4", 270}} {
		t.Run(tt.name, func(t *testing.T) {
			src := fixture(t, tt.name)
			info, frames := readAll(t, src)
			if info.Rotation != tt.rot {
				t.Fatalf("Rotation = %d, want %d", info.Rotation, tt.rot)
			}
			if len(frames) != len(small) {
				t.Fatalf("read %d frames, want %d", len(frames), len(small))
			}
			// The frames are the stored ones turned as a player turns them.
			for _, i := range []int{0, len(frames) - 1} {
				if d := meanDiff(t, frames[i], rotateCW(small[i], tt.rot), frames[i].Rect); d > 1 {
					t.Errorf("frame %d differs from the stored frame turned %d° clockwise by %.2f", i, tt.rot, d)
				}
			}

			for _, ext := range []string{".mp4", ".mkv"} {
				out := filepath.Join(t.TempDir(), "out"+ext)
				writeAll(t, out, info, WriterOptions{Preset: "ultrafast"}, frames)
				got, err := Probe(context.Background(), out)
				if err != nil {
					t.Fatal(err)
				}
				want := *info
				if ext == ".mkv" { // no rotation recorded: upright frames
					want.Rotation = 0
				}
				if got.Rotation != want.Rotation || got.Width != want.Width || got.Height != want.Height || got.Frames != want.Frames {
					t.Errorf("%s: output is %dx%d turned %d°, %d frames; want %dx%d turned %d°, %d frames", ext,
						got.Width, got.Height, got.Rotation, got.Frames, want.Width, want.Height, want.Rotation, want.Frames)
				}
				if ext == ".mp4" {
					// The same stored size, and the same picture for
					// ffmpeg's own autorotation.
					s := ffprobeJSON(t, out, "-select_streams", "v:0", "-show_entries", "stream=width,height")
					st := s["streams"].([]any)[0].(map[string]any)
					if st["width"] != float64(small[0].Rect.Dx()) || st["height"] != float64(small[0].Rect.Dy()) {
						t.Errorf("stored size %vx%v, want %v", st["width"], st["height"], small[0].Rect.Size())
					}
					if d := meanDiff(t, ffmpegFrame(t, out), frames[0], frames[0].Rect); d > 6 {
						t.Errorf("ffmpeg shows output frame 0 differing from the source's by %.2f", d)
					}
				}
				_, back := readAll(t, out)
				for _, i := range []int{0, len(frames) - 1} {
					if d := meanDiff(t, back[i], frames[i], frames[i].Rect); d > 6 {
						t.Errorf("%s: output frame %d differs from the source's by %.2f", ext, i, d)
					}
				}
			}
		})
	}
}

// writeAll writes frames into path with a Writer.
func writeAll(t *testing.T, path string, info *Info, o WriterOptions, frames []*image.RGBA) {
	t.Helper()
	w, err := CreateWriter(context.Background(), path, info, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i, f := range frames {
		if err := w.Write(f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// streamDuration returns the duration of path's stream spec, by ffprobe.
func streamDuration(t *testing.T, path, spec string) float64 {
	t.Helper()
	m := ffprobeJSON(t, path, "-select_streams", spec, "-show_entries", "stream=duration")
	streams := m["streams"].([]any)
	if len(streams) == 0 {
		t.Fatalf("%s has no stream %s", path, spec)
	}
	d, err := strconv.ParseFloat(streams[0].(map[string]any)["duration"].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRoundTrip reads each frame of a video and writes it into a new one,
// streaming, in constant memory.
func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		src   string
		audio bool
		space string // the colour space of the output, the source's
	}{
		{"clip.mp4", true, "bt470bg"}, // from the JPEG
		{"bt709.mp4", false, "bt709"},
	} {
		t.Run(tt.src, func(t *testing.T) {
			src := fixture(t, tt.src)
			out := filepath.Join(t.TempDir(), "out.mp4")
			ctx := context.Background()
			r, err := OpenReader(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			o := WriterOptions{}
			if tt.audio {
				o.AudioFrom = src
			}
			w, err := CreateWriter(ctx, out, r.Info(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			for {
				img, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := w.Write(img); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			in := r.Info()
			got, err := Probe(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			if got.Frames != in.Frames || got.FrameRate != in.FrameRate || got.Width != in.Width || got.Height != in.Height ||
				got.Codec != "h264" || got.PixFmt != "yuv420p" {
				t.Errorf("output %+v\nsource %+v", *got, *in)
			}
			if got.color.space != tt.space || in.color.space != tt.space {
				t.Errorf("output colour space %q, source's %q, want %q", got.color.space, in.color.space, tt.space)
			}
			if tt.audio {
				if got.AudioStreams != 1 {
					t.Errorf("output has %d audio streams, want 1", got.AudioStreams)
				} else if a, b := streamDuration(t, out, "a:0"), streamDuration(t, src, "a:0"); math.Abs(a-b) > 0.1 {
					t.Errorf("output audio lasts %gs, source's %gs", a, b)
				}
				// The source's location and title are not copied.
				tags := fmt.Sprint(ffprobeJSON(t, src, "-show_entries", "format_tags"))
				if !strings.Contains(tags, "48.8584") || !strings.Contains(tags, "secret") {
					t.Fatalf("the source's tags %s lack its location and title", tags)
				}
				tags = fmt.Sprint(ffprobeJSON(t, out, "-show_entries", "format_tags:stream_tags"))
				if strings.Contains(tags, "48.8584") || strings.Contains(tags, "secret") {
					t.Errorf("the output's tags %s have the source's location or title", tags)
				}
			}

			_, a := readAll(t, src)
			_, b := readAll(t, out)
			if len(a) != len(b) {
				t.Fatalf("read %d frames of the output, %d of the source", len(b), len(a))
			}
			for i := range a {
				if d := meanDiff(t, b[i], a[i], a[i].Rect); d > 6 {
					t.Errorf("frame %d differs from the source's by %.2f", i, d)
				}
			}
		})
	}
}

func TestKeepBitRate(t *testing.T) {
	src := fixture(t, "2mbit.mp4")
	info, frames := readAll(t, src)
	if info.BitRate < 1_000_000 {
		t.Fatalf("source bit rate %d, want about 2 Mbit/s", info.BitRate)
	}
	out := filepath.Join(t.TempDir(), "out.mp4")
	writeAll(t, out, info, WriterOptions{KeepBitRate: true}, frames)
	got, err := Probe(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(got.BitRate) / float64(info.BitRate); r < 0.65 || r > 1.35 {
		t.Errorf("output bit rate %d, source's %d: ratio %.2f", got.BitRate, info.BitRate, r)
	}
	t.Logf("source %d bit/s, output %d bit/s", info.BitRate, got.BitRate)
}

func TestWriterArgs(t *testing.T) {
	info := &Info{Width: 640, Height: 360, FrameRate: [2]int{30000, 1001}, BitRate: 1_500_000}
	odd := &Info{Width: 63, Height: 35, FrameRate: [2]int{25, 1}}
	rot := &Info{Width: 360, Height: 640, Rotation: 90, FrameRate: [2]int{25, 1}}
	hd := &Info{Width: 1920, Height: 1080, FrameRate: [2]int{25, 1}, color: colorTags{"bt709", "bt709", "bt709"}}
	tests := []struct {
		name     string
		path     string
		info     *Info
		o        WriterOptions
		enc, mux string // substrings of the joined arguments; mux "-" for none
		notEnc   []string
	}{
		{"default", "o.mp4", info, WriterOptions{},
			"-f rawvideo -pix_fmt rgba -s 640x360 -framerate 30000/1001 -i - -map 0:v:0 -fps_mode passthrough -c:v libx264 -crf 18 -preset veryfast -pix_fmt yuv420p -movflags +faststart -y file:o.mp4", "-",
			[]string{"-b:v", "-vf", "-threads", "-map 1:a?", "-colorspace"}},
		{"options", "o.mkv", info, WriterOptions{Codec: "libx265", CRF: 23, Preset: "slow", Threads: 2, AudioFrom: "a:b.mp4"},
			"-i - -i file:a:b.mp4 -map 0:v:0 -fps_mode passthrough -c:v libx265 -crf 23 -preset slow -threads 2 -pix_fmt yuv420p -map 1:a? -c:a copy -y file:o.mkv", "-",
			[]string{"-movflags", "-b:v"}},
		{"keep bit rate", "o.mp4", info, WriterOptions{KeepBitRate: true},
			"-b:v 1500000 -maxrate 1500000 -bufsize 3000000 -preset", "-", []string{"-crf"}},
		{"keep unknown bit rate", "o.mp4", odd, WriterOptions{KeepBitRate: true},
			"-crf 18", "-", []string{"-b:v"}},
		{"odd size", "o.mp4", odd, WriterOptions{},
			"-s 63x35 -framerate 25/1 -i - -map 0:v:0 -vf pad=ceil(iw/2)*2:ceil(ih/2)*2 -fps_mode", "-", nil},
		{"rotation", "o.mov", rot, WriterOptions{AudioFrom: "src.mov"},
			"-s 640x360 -framerate 25/1 -i - -map 0:v:0 -fps_mode passthrough -c:v libx264 -crf 18 -preset veryfast -pix_fmt yuv420p -f nut -",
			"-f nut -i - -i file:src.mov -map 0:v:0 -c:v copy -metadata:s:v:0 rotate=270 -map 1:a? -c:a copy -movflags +faststart -y file:o.mov",
			[]string{"file:src.mov", "-y"}},
		{"colour", "o.mp4", hd, WriterOptions{},
			"-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p -fps_mode passthrough -c:v libx264 -crf 18 -preset veryfast -pix_fmt yuv420p -colorspace bt709 -color_range tv -color_primaries bt709 -color_trc bt709", "-", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, mux := writerArgs(tt.path, tt.info, tt.o)
			e, m := strings.Join(enc, " "), strings.Join(mux, " ")
			if !strings.Contains(e, tt.enc) {
				t.Errorf("encoder arguments\n%s\nlack\n%s", e, tt.enc)
			}
			for _, s := range tt.notEnc {
				if strings.Contains(e, s) {
					t.Errorf("encoder arguments\n%s\nhave %s", e, s)
				}
			}
			if tt.mux == "-" && mux != nil {
				t.Errorf("muxer arguments %s, want none", m)
			} else if tt.mux != "-" && !strings.Contains(m, tt.mux) {
				t.Errorf("muxer arguments\n%s\nlack\n%s", m, tt.mux)
			}
		})
	}
}

// TestWriterOddSize writes frames of odd size from sub-images: the output
// is padded to even.
func TestWriterOddSize(t *testing.T) {
	needFFmpeg(t)
	src := image.NewRGBA(image.Rect(0, 0, 80, 50))
	for y := range 50 {
		for x := range 80 {
			i := src.PixOffset(x, y)
			copy(src.Pix[i:i+4], []byte{byte(3 * x), byte(5 * y), 128, 255})
		}
	}
	r := image.Rect(5, 7, 68, 42) // 63×35
	sub := src.SubImage(r).(*image.RGBA)
	info := &Info{Width: 63, Height: 35, FrameRate: [2]int{10, 1}}
	out := filepath.Join(t.TempDir(), "odd.mp4")
	writeAll(t, out, info, WriterOptions{}, []*image.RGBA{sub, sub, sub})
	got, frames := readAll(t, out)
	if got.Width != 64 || got.Height != 36 || len(frames) != 3 {
		t.Fatalf("output %dx%d, %d frames; want 64x36, 3", got.Width, got.Height, len(frames))
	}
	inner := frames[0].SubImage(image.Rect(0, 0, 63, 35)).(*image.RGBA)
	if d := meanDiff(t, inner, sub, image.Rect(0, 0, 63, 35)); d > 6 {
		t.Errorf("output differs from the frame written by %.2f", d)
	}
}

func TestNoFFmpeg(t *testing.T) {
	defer func(f, p string) { FFmpeg, FFprobe = f, p }(FFmpeg, FFprobe)
	ctx := context.Background()
	path := "../testdata/street.jpg" // any existing file
	info := &Info{Width: 64, Height: 64, FrameRate: [2]int{25, 1}}
	for _, tt := range []struct{ ffmpeg, ffprobe string }{
		{"veil-no-such-ffmpeg", "veil-no-such-ffprobe"},
		{"veil-no-such-ffmpeg", "ffprobe"},
		{"ffmpeg", "veil-no-such-ffprobe"},
		{"./veil/no/such/ffmpeg", "./veil/no/such/ffprobe"},
	} {
		FFmpeg, FFprobe = tt.ffmpeg, tt.ffprobe
		_, probeErr := Probe(ctx, path)
		_, readErr := OpenReader(ctx, path)
		_, writeErr := CreateWriter(ctx, filepath.Join(t.TempDir(), "o.mp4"), info, WriterOptions{})
		for _, c := range []struct {
			name    string
			err     error
			missing bool
		}{
			{"Probe", probeErr, strings.HasPrefix(tt.ffprobe, "veil") || strings.HasPrefix(tt.ffprobe, "./")},
			{"OpenReader", readErr, true},
			{"CreateWriter", writeErr, strings.HasPrefix(tt.ffmpeg, "veil") || strings.HasPrefix(tt.ffmpeg, "./")},
		} {
			if c.missing && !errors.Is(c.err, ErrNoFFmpeg) {
				t.Errorf("%s with %s and %s: %v, want ErrNoFFmpeg", c.name, tt.ffmpeg, tt.ffprobe, c.err)
			}
			if c.missing && !strings.Contains(fmt.Sprint(c.err), "install the ffmpeg package") {
				t.Errorf("%s: %v does not say to install ffmpeg", c.name, c.err)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mp4")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a video "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first half of an MP4 whose index is at the end.
	whole, err := os.ReadFile(fixture(t, "clip.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mp4")
	if err := os.WriteFile(truncated, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		path string
		want error
	}{
		{"junk", junk, ErrVideo},
		{"truncated", truncated, ErrVideo},
		{"audio only", fixture(t, "tone.m4a"), ErrVideo},
		{"missing", filepath.Join(dir, "missing.mp4"), fs.ErrNotExist},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Probe(context.Background(), tt.path)
			if !errors.Is(err, tt.want) {
				t.Errorf("Probe: %v, want %v", err, tt.want)
			}
			r, err := OpenReader(context.Background(), tt.path)
			if !errors.Is(err, tt.want) {
				t.Errorf("OpenReader: %v, want %v", err, tt.want)
			}
			if err == nil {
				r.Close()
			}
			t.Log(err)
		})
	}
	ctx := context.Background()
	for _, info := range []*Info{nil, {Width: 0, Height: 10, FrameRate: [2]int{1, 1}}, {Width: 10, Height: 10},
		{Width: 10, Height: 10, FrameRate: [2]int{1, 1}, Rotation: 45}, {Width: math.MaxInt, Height: 2, FrameRate: [2]int{1, 1}}} {
		if _, err := CreateWriter(ctx, filepath.Join(dir, "o.mp4"), info, WriterOptions{}); err == nil {
			t.Errorf("CreateWriter with %+v succeeded", info)
		}
	}
	if _, err := CreateWriter(ctx, filepath.Join(dir, "o.mp4"), &Info{Width: 10, Height: 10, FrameRate: [2]int{1, 1}},
		WriterOptions{AudioFrom: filepath.Join(dir, "missing.mp4")}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CreateWriter with a missing AudioFrom: %v, want fs.ErrNotExist", err)
	}
}

// TestWriterFailure checks that an ffmpeg failure is reported with
// ErrVideo and ffmpeg's message, and leaves no output.
func TestWriterFailure(t *testing.T) {
	needFFmpeg(t)
	info := &Info{Width: 64, Height: 48, FrameRate: [2]int{25, 1}}
	for _, tt := range []struct {
		name string
		o    WriterOptions
		info *Info
	}{
		{"bad codec", WriterOptions{Codec: "veil-no-such-codec"}, info},
		{"bad codec rotated", WriterOptions{Codec: "veil-no-such-codec"}, &Info{Width: 48, Height: 64, Rotation: 90, FrameRate: [2]int{25, 1}}},
		{"audio from a text file", WriterOptions{AudioFrom: "ffmpeg_test.go"}, info},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "o.mp4")
			w, err := CreateWriter(context.Background(), out, tt.info, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			up := image.NewRGBA(image.Rect(0, 0, tt.info.Width, tt.info.Height))
			for range 200 {
				if werr = w.Write(up); werr != nil {
					break
				}
			}
			cerr := w.Close()
			if !errors.Is(cerr, ErrVideo) {
				t.Errorf("Close: %v, want ErrVideo", cerr)
			}
			if werr != nil && werr != cerr {
				t.Errorf("Write: %v, then Close: %v; want the same error", werr, cerr)
			}
			if !strings.Contains(cerr.Error(), "exit status") {
				t.Errorf("Close: %v lacks ffmpeg's exit status", cerr)
			}
			t.Log(cerr)
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("output left after the failure: %v", err)
			}
			w.Abort()
		})
	}
}

func TestWriterBadFrames(t *testing.T) {
	needFFmpeg(t)
	info := &Info{Width: 64, Height: 48, FrameRate: [2]int{25, 1}}
	out := filepath.Join(t.TempDir(), "o.mp4")
	w, err := CreateWriter(context.Background(), out, info, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	short := image.NewRGBA(image.Rect(0, 0, 64, 48))
	short.Pix = short.Pix[:100]
	for _, img := range []*image.RGBA{nil, image.NewRGBA(image.Rect(0, 0, 48, 64)), short, {Rect: image.Rect(0, 0, 64, 48), Stride: 4}} {
		if err := w.Write(img); err == nil {
			t.Errorf("Write of a bad frame %v succeeded", img)
		}
	}
	if err := w.Write(image.NewRGBA(image.Rect(10, 10, 74, 58))); err != nil {
		t.Fatalf("Write of a good frame after bad ones: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(image.NewRGBA(image.Rect(0, 0, 64, 48))); err == nil {
		t.Error("Write after Close succeeded")
	}
	w.Abort() // keeps the closed video
	if got, err := Probe(context.Background(), out); err != nil || got.Frames != 1 {
		t.Errorf("after Abort of a closed Writer: %+v, %v; want its video of 1 frame", got, err)
	}
}

func TestWriterNoFrames(t *testing.T) {
	needFFmpeg(t)
	for _, rot := range []int{0, 90} {
		out := filepath.Join(t.TempDir(), "o.mp4")
		w, err := CreateWriter(context.Background(), out, &Info{Width: 64, Height: 48, Rotation: rot, FrameRate: [2]int{25, 1}}, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); !errors.Is(err, ErrVideo) {
			t.Errorf("rotation %d: Close with no frame: %v, want ErrVideo", rot, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("rotation %d: output left: %v", rot, err)
		}
	}
}

func TestAbort(t *testing.T) {
	needFFmpeg(t)
	for _, info := range []*Info{
		{Width: 64, Height: 48, FrameRate: [2]int{25, 1}},
		{Width: 48, Height: 64, Rotation: 270, FrameRate: [2]int{25, 1}},
	} {
		out := filepath.Join(t.TempDir(), "o.mp4")
		w, err := CreateWriter(context.Background(), out, info, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if err := w.Write(image.NewRGBA(image.Rect(0, 0, info.Width, info.Height))); err != nil {
				t.Fatal(err)
			}
		}
		w.Abort()
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("rotation %d: output left after Abort: %v", info.Rotation, err)
		}
		if err := w.Close(); err == nil {
			t.Error("Close after Abort succeeded")
		}
		w.Abort()
	}
}

// waitGoroutines waits for the number of goroutines to fall to n, failing
// after a second.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCancel(t *testing.T) {
	src := fixture(t, "clip.mp4")
	t.Run("Reader", func(t *testing.T) {
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r, err := OpenReader(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := r.Next(); !errors.Is(err, context.Canceled) {
			t.Errorf("Next after cancel: %v, want context.Canceled", err)
		}
		start := time.Now()
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Close took %v", d)
		}
		if r.p.cmd.ProcessState == nil {
			t.Error("ffmpeg not waited for")
		}
		waitGoroutines(t, before)
	})
	t.Run("Reader closed early", func(t *testing.T) {
		before := runtime.NumGoroutine()
		r, err := OpenReader(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := r.Next(); err == nil {
			t.Error("Next after Close succeeded")
		}
		waitGoroutines(t, before)
	})
	for _, rot := range []int{0, 90} {
		t.Run(fmt.Sprintf("Writer rotation %d", rot), func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			info := &Info{Width: 640, Height: 360, Rotation: rot, FrameRate: [2]int{25, 1}}
			out := filepath.Join(t.TempDir(), "o.mp4")
			w, err := CreateWriter(ctx, out, info, WriterOptions{AudioFrom: src})
			if err != nil {
				t.Fatal(err)
			}
			frame := image.NewRGBA(image.Rect(0, 0, 640, 360))
			if err := w.Write(frame); err != nil {
				t.Fatal(err)
			}
			cancel()
			err = w.Write(frame)
			for i := 0; err == nil && i < 100; i++ {
				err = w.Write(frame)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Write after cancel: %v, want context.Canceled", err)
			}
			if err := w.Close(); !errors.Is(err, context.Canceled) {
				t.Errorf("Close after cancel: %v, want context.Canceled", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("output left after cancel: %v", err)
			}
			waitGoroutines(t, before)
		})
	}
}

// TestReaderFrameCount checks that no frame is duplicated or dropped with
// variable timestamps: frames 0..9 at 10 fps then 10..19 with gaps.
func TestReaderFrameCount(t *testing.T) {
	needFFmpeg(t)
	out := filepath.Join(t.TempDir(), "vfr.mkv")
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=2",
		"-vf", "setpts='if(lt(N,10),N,N*3)/10/TB'", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", out)
	info, frames := readAll(t, out)
	if len(frames) != 20 || info.Frames != 20 {
		t.Errorf("read %d frames, Info.Frames %d; want 20", len(frames), info.Frames)
	}
	for i := 1; i < len(frames); i++ {
		if bytes.Equal(frames[i-1].Pix, frames[i].Pix) {
			t.Errorf("frames %d and %d are the same: a frame was duplicated", i-1, i)
		}
	}
}
