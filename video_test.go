package veil

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/veilkit/veil/video"
)

// Geometry of the test video: a 150×150 patch of the group photo (one
// face, enlarged 3×) moving right across a 640×360 grey frame, 8 px a
// frame, for 2 s at 25 fps, with a 440 Hz tone.
const (
	vidW, vidH   = 640, 360
	vidFrames    = 50
	patchX0      = 20
	patchY       = 100
	patchSpeed   = 8 // px a frame
	patchSide    = 150
	vidDuration  = "2"
	vidFrameRate = "25"
)

// faceIn returns the face's box in frame i: the patch's face (found at
// (16, 31)-(88, 123) inside the patch) moved with the patch.
func faceIn(i int) image.Rectangle {
	x := patchX0 + patchSpeed*i
	return image.Rect(x+16, patchY+31, x+88, patchY+123)
}

// makeVideo writes the test video with ffmpeg and returns its path.
func makeVideo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (apt-get install ffmpeg)")
	}
	dir := t.TempDir()
	src := decodeFile(t, "testdata/group.jpg")
	patch := image.NewRGBA(image.Rect(0, 0, patchSide, patchSide))
	draw.CatmullRom.Scale(patch, patch.Rect, src, image.Rect(440, 65, 490, 115), draw.Src, nil)
	face := filepath.Join(dir, "face.png")
	f, err := os.Create(face)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, patch); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "pan.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error",
		"-f", "lavfi", "-i", "color=c=gray:s=640x360:r="+vidFrameRate+":d="+vidDuration,
		"-loop", "1", "-framerate", vidFrameRate, "-i", face,
		"-f", "lavfi", "-i", "sine=frequency=440:duration="+vidDuration,
		"-filter_complex", "[0][1]overlay=x=20+8*n:y=100:shortest=1,format=yuv420p",
		"-c:v", "libx264", "-crf", "15", "-c:a", "aac", "-frames:v", "50", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the test video: %v\n%s", err, b)
	}
	return out
}

// readFrames decodes every frame of path.
func readFrames(t *testing.T, path string) []*image.RGBA {
	t.Helper()
	r, err := video.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var frames []*image.RGBA
	for {
		f, err := r.Next()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
}

// meanDiff returns the mean absolute difference of a and b over r.
func meanDiff(a, b *image.RGBA, r image.Rectangle) float64 {
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += float64(pixelDiff(a, b, x, y))
			n++
		}
	}
	return sum / n
}

// TestAnonymizeVideo anonymizes the panning-face video and checks that
// the frame count, frame rate, size and audio are kept, that the face
// region of every frame changed and that the face detector finds the
// face in no output frame, with tracking on and off.
func TestAnonymizeVideo(t *testing.T) {
	src := makeVideo(t)
	info, err := video.Probe(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames != vidFrames || info.AudioStreams != 1 {
		t.Fatalf("test video: %+v", info)
	}
	in := readFrames(t, src)
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	visible := map[string]int{}
	for _, tc := range []struct {
		name string
		o    VideoOptions
	}{{"tracking", VideoOptions{}}, {"no tracking", VideoOptions{NoObjectTracking: true}}, {"detect every 2", VideoOptions{DetectEvery: 2}}} {
		o, tracking := tc.o, tc.name
		dst := filepath.Join(t.TempDir(), "out.mp4")
		done := 0
		o.Progress = func(n, total int) { done = n }
		res, err := e.AnonymizeVideo(ctx, src, dst, Params{Classes: []Class{Face}}, o)
		if err != nil {
			t.Fatal(err)
		}
		if done != vidFrames || len(res.Frames) != vidFrames {
			t.Errorf("progress %d, %d frames of metadata, want %d", done, len(res.Frames), vidFrames)
		}
		got, err := video.Probe(ctx, dst)
		if err != nil {
			t.Fatal(err)
		}
		if got.Frames != info.Frames || got.FrameRate != info.FrameRate || got.Width != info.Width || got.Height != info.Height ||
			got.Codec != "h264" || got.AudioStreams != 1 || got.Duration < info.Duration-0.1 || got.Duration > info.Duration+0.1 {
			t.Errorf("%s: output %+v, source %+v", tracking, got, info)
		}
		out := readFrames(t, dst)
		if len(out) != len(in) {
			t.Fatalf("%d frames out, %d in", len(out), len(in))
		}
		for i := range out {
			face := faceIn(i)
			core := face.Inset(face.Dx() / 4)
			if d := meanDiff(in[i], out[i], core); d < 12 {
				t.Errorf("%s: frame %d: face region changed by %.1f on average", tracking, i, d)
			}
			if d := meanDiff(in[i], out[i], image.Rect(0, 0, vidW, 60)); d > 3 {
				t.Errorf("%s: frame %d: the top of the frame changed by %.1f", tracking, i, d)
			}
			// The face model alone: the head backstop's person is still
			// there, its head anonymized already.
			again, err := e.Detect(ctx, out[i], Params{Classes: []Class{Face}, NoHeads: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range again {
				if d.Box.IoU(boxOf(face)) > 0.3 {
					visible[tracking]++
					t.Errorf("%s: frame %d: face found again (score %.2f)", tracking, i, d.Score)
				}
			}
		}
	}
	if on, off := visible["tracking"], visible["no tracking"]; on > off {
		t.Errorf("frames with a visible face: %d with tracking, %d without", on, off)
	}
}

func boxOf(r image.Rectangle) Box {
	return Box{X1: float32(r.Min.X), Y1: float32(r.Min.Y), X2: float32(r.Max.X), Y2: float32(r.Max.Y)}
}

// TestAnonymizeVideoFailsClosed checks that a failing detector leaves no
// output file, and a missing input is a clear error.
func TestAnonymizeVideoFailsClosed(t *testing.T) {
	src := makeVideo(t)
	boom := errors.New("model exploded")
	e, err := New(WithThreads(1), WithDetector(Face, fixedDetector{err: boom}))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.mp4")
	if _, err := e.AnonymizeVideo(context.Background(), src, dst, Params{Classes: []Class{Face}}, VideoOptions{}); !errors.Is(err, boom) {
		t.Errorf("failing detector: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left after a failure: %v", left)
	}
	if _, err := e.AnonymizeVideo(context.Background(), filepath.Join(dir, "missing.mp4"), dst, Params{}, VideoOptions{}); !errors.Is(err, ErrVideo) {
		t.Errorf("missing input: %v", err)
	}
}

// TestAnonymizeFrames runs the frame-stream API without ffmpeg: frames
// come out in order, anonymized, with their metadata.
func TestAnonymizeFrames(t *testing.T) {
	face := Detection{Class: Face, Score: 0.9, Box: Box{X1: 100, Y1: 80, X2: 200, Y2: 200}}
	e := fixedEngine(t, face)
	n := 0
	var got []VideoFrame
	err := e.AnonymizeFrames(context.Background(), func() (image.Image, error) {
		if n == 12 {
			return nil, io.EOF
		}
		n++
		return noise(320, 240), nil
	}, func(f VideoFrame) error {
		got = append(got, f)
		return nil
	}, Params{Method: Blacken}, VideoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("%d frames out, want 12", len(got))
	}
	for i, f := range got {
		if f.Index != i || f.Metadata.ID != i || len(f.Objects) != 1 || f.Objects[0].TrackID != 1 {
			t.Fatalf("frame %d: index %d, metadata id %d, objects %+v", i, f.Index, f.Metadata.ID, f.Objects)
		}
		if c := f.Image.RGBAAt(150, 140); c.R != 0 || c.G != 0 || c.B != 0 {
			t.Errorf("frame %d: face not blackened: %v", i, c)
		}
		if d := f.Metadata.Detections; len(d) != 1 || d[0].TrackID != 1 || d[0].ParentImage != i || f.Metadata.Size != [2]int{240, 320} {
			t.Errorf("frame %d metadata %+v", i, f.Metadata)
		}
	}
	// An error from emit stops the stream and is returned.
	stop := errors.New("disk full")
	n = 0
	err = e.AnonymizeFrames(context.Background(), func() (image.Image, error) { n++; return noise(64, 64), nil },
		func(f VideoFrame) error { return stop }, Params{}, VideoOptions{})
	if !errors.Is(err, stop) {
		t.Errorf("emit error: %v", err)
	}
}

// TestSampleVideo anonymizes the shared sample video (MPEG-4 Part 2, 8
// frames of 1080p) when ../shared/data is present.
func TestSampleVideo(t *testing.T) {
	src := "../shared/data/samples/People.mp4"
	if _, err := os.Stat(src); err != nil {
		t.Skip("../shared/data/samples/People.mp4 is absent (the shared evaluation data)")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (apt-get install ffmpeg)")
	}
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "People.mp4")
	res, err := e.AnonymizeVideo(context.Background(), src, dst, Params{Classes: []Class{Face, Person}}, VideoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := video.Probe(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Frames != res.Info.Frames || got.FrameRate != res.Info.FrameRate || got.Width != res.Info.Width || len(res.Frames) != got.Frames {
		t.Errorf("output %+v, source %+v, %d frames of metadata", got, res.Info, len(res.Frames))
	}
	files, err := res.WriteFrameMetadata(dir, "People.mp4")
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != fmt.Sprintf("People-0-%d.json", got.Frames-1) {
		t.Errorf("metadata files %v, %v", files, err)
	}
	persons := 0
	for _, f := range res.Frames {
		for _, d := range f.Detections {
			if d.TypeLabel == "person" && d.IsAnonymised {
				persons++
			}
		}
	}
	t.Logf("%d frames, %d anonymized persons in all", len(res.Frames), persons)
	if persons == 0 {
		t.Errorf("no person anonymized in the people video")
	}
}

// TestVideoStartsAfterAudio checks that a video whose picture starts
// after its sound keeps that offset: the frames keep their timestamps
// beside the copied audio, so sound and picture stay in sync.
func TestVideoStartsAfterAudio(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe is not installed (apt-get install ffmpeg)")
	}
	src := makeVideo(t)
	dir := t.TempDir()
	late := filepath.Join(dir, "late.mp4")
	// The same file twice: its picture 0.5 s later, its sound as it is.
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-itsoffset", "0.5", "-i", src, "-i", src,
		"-map", "0:v", "-map", "1:a", "-c", "copy", late)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the late video: %v\n%s", err, b)
	}
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.mp4")
	if _, err := e.AnonymizeVideo(context.Background(), late, dst, Params{Classes: []Class{Face}}, VideoOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{late, dst} {
		starts := streamStarts(t, name)
		if d := starts["video"] - starts["audio"]; math.Abs(d-0.5) > 0.05 {
			t.Errorf("%s: the picture starts %.3f s after the sound, want 0.5 s (%v)", filepath.Base(name), d, starts)
		}
	}
}

// streamStarts returns the start time of each kind of stream of path
// (video, audio), as ffprobe gives it.
func streamStarts(t *testing.T, path string) map[string]float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	starts := make(map[string]float64)
	for _, line := range strings.Fields(string(out)) {
		kind, v, _ := strings.Cut(line, ",")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("ffprobe %s: %q", path, line)
		}
		starts[kind] = f
	}
	return starts
}
