package video

import (
	"context"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// frameTimes returns the presentation times, in seconds, of the video
// frames of path, in order, and the stream's time base in seconds.
func frameTimes(t *testing.T, path string) ([]float64, float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=best_effort_timestamp_time:stream=time_base", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var times []float64
	tick := 0.0
	for _, line := range strings.Fields(string(out)) {
		line = strings.Trim(line, ",")
		if num, den, ok := strings.Cut(line, "/"); ok {
			n, _ := strconv.ParseFloat(num, 64)
			d, _ := strconv.ParseFloat(den, 64)
			tick = n / d
			continue
		}
		v, err := strconv.ParseFloat(line, 64)
		if err != nil {
			t.Fatalf("ffprobe %s: %q", path, line)
		}
		times = append(times, v)
	}
	return times, tick
}

// TestVariableFrameRate copies a video of irregular timestamps through a
// Reader and a Writer: each frame keeps its time.
func TestVariableFrameRate(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "vfr.mkv")
	// Frames 0..9 at 10 fps, then 10..19 three times as far apart, then
	// irregular gaps.
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=3",
		"-vf", "settb=1/1000,setpts='if(lt(N,10),N,if(lt(N,20),N*3,N*3+mod(N*7,5)/10))/10/TB'", "-fps_mode", "passthrough",
		"-enc_time_base", "1/1000", "-c:v", "libx264", "-preset", "ultrafast", src)
	want, _ := frameTimes(t, src)
	if len(want) != 30 {
		t.Fatalf("source has %d frames, want 30", len(want))
	}
	for i := 1; i < len(want); i++ {
		if want[i] <= want[i-1] {
			t.Fatalf("source frames %d and %d at %g and %g s", i-1, i, want[i-1], want[i])
		}
	}
	if math.Abs(want[29]-(87+3/10.)/10) > 1e-9 {
		t.Fatalf("source frame 29 at %g s, want 8.73 s", want[29])
	}
	for _, ext := range []string{".mp4", ".mkv", ".mov"} {
		t.Run(ext, func(t *testing.T) {
			r, err := OpenReader(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			dst := filepath.Join(dir, "out"+ext)
			w, err := CreateWriter(context.Background(), dst, r.Info(), WriterOptions{Preset: "ultrafast"})
			if err != nil {
				t.Fatal(err)
			}
			for {
				img, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					w.Abort()
					t.Fatal(err)
				}
				if err := w.Write(img); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, tick := frameTimes(t, dst)
			if len(got) != len(want) {
				t.Fatalf("%d frames written, want %d", len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i]-got[0]-(want[i]-want[0])) > tick+1e-9 {
					t.Errorf("frame %d at %.4f s, want %.4f s (time base %g s)", i, got[i]-got[0], want[i]-want[0], tick)
				}
			}
		})
	}
}
