package tiling_test

import (
	"fmt"
	"image"
	"log"

	"github.com/veilkit/veil/tiling"
)

// A custom format: 2×2 tiles that share 10% of a tile's width and height
// with their neighbours (a 1000×500 tile in a 1900×950 image).
func ExampleParse() {
	f, err := tiling.Parse(`{"number":[2,2],"overlap":[0.1,0.1]}`)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range f.Tiles(image.Rect(0, 0, 1900, 950)) {
		fmt.Println(t.Rect)
	}
	_, err = tiling.Parse(`{"number":[2,0]}`)
	fmt.Println(err)
	// Output:
	// (0,0)-(1000,500)
	// (900,0)-(1900,500)
	// (0,450)-(1000,950)
	// (900,450)-(1900,950)
	// tiling: bad format: "number" must be two positive integers, got [2,0]
}

// A panorama preset: each row also gets a tile across the seam where the
// right edge meets the left one.
func ExamplePano() {
	f, ok := tiling.Pano(4096)
	if !ok {
		log.Fatal("no preset")
	}
	var wraps int
	tiles := f.Tiles(image.Rect(0, 0, 4096, 2048))
	for _, t := range tiles {
		if t.Wraps() {
			wraps++
		}
	}
	fmt.Println(f, len(tiles), "tiles,", wraps, "across the seam")
	// Output: pano:4096 10 tiles, 2 across the seam
}
