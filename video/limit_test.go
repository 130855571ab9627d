package video

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestCheckPixels(t *testing.T) {
	tests := []struct {
		w, h, limit int
		ok          bool
	}{
		{160, 120, 160 * 120, true},
		{160, 120, 160*120 - 1, false},
		{12000, 12000, 100_000_000, false},
		{1 << 16, 1 << 16, MaxPixels, false}, // no overflow
		{1 << 14, 1 << 14, MaxPixels, true},
	}
	for _, tt := range tests {
		err := (&Info{Width: tt.w, Height: tt.h}).CheckPixels(tt.limit)
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%dx%d, limit %d: %v", tt.w, tt.h, tt.limit, err)
		}
	}
}

// TestOpenReaderTooLarge opens a video of frames over the limit (lowered:
// ffmpeg itself refuses frames of MaxPixels): OpenReader refuses it before
// decoding.
func TestOpenReaderTooLarge(t *testing.T) {
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "gray.mkv")
	runFFmpeg(t, "-f", "lavfi", "-i", "color=c=gray:s=160x120:d=0.2:r=10", "-c:v", "mjpeg", path)
	defer func(n int) { readerMaxPixels = n }(readerMaxPixels)
	readerMaxPixels = 160*120 - 1
	r, err := OpenReader(context.Background(), path)
	if err == nil {
		r.Close()
		t.Fatal("OpenReader accepted 160×120 frames over a limit of 19199 pixels")
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("OpenReader: %v, want ErrTooLarge", err)
	}
	readerMaxPixels = 160 * 120
	r, err = OpenReader(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenReader at the limit: %v", err)
	}
	r.Close()
}
