package testimg

import (
	"image"
	"image/draw"
	_ "image/jpeg" // the test photos
	_ "image/png"
	"os"
	"testing"
)

// LoadRGBA decodes the image file path as an *image.RGBA with the file's
// bounds, failing tb on any error.
func LoadRGBA(tb testing.TB, path string) *image.RGBA {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba
}
