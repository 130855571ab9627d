package server

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestVideoPixelLimit uploads a video whose frames are over MaxPixels: it
// is refused, as an image of that size is.
func TestVideoPixelLimit(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (apt-get install ffmpeg)")
	}
	src := filepath.Join(t.TempDir(), "clip.mkv")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=160x120:d=0.2:r=10", "-c:v", "mjpeg", src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make a test video: %v %s", err, out)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, func(c *Config) { c.MaxPixels = 160*120 - 1 }, nil)
	resp := s.upload(t, "?face=True", "clip.mkv", "video/x-matroska", data, nil)
	b, _ := io.ReadAll(resp.Body)
	wantDetail(t, "video pixel limit", resp.StatusCode, b, 422, "160×120 pixels, the limit is 19199")
}
