package mask_test

import (
	"fmt"
	"image"

	"github.com/veilkit/veil/mask"
)

// A 2×2 square at (1, 1) in a 4×3 image, in the two run-length forms of
// the metadata: row-major [start, length, …] runs and COCO RLE (column
// major, uncovered first).
func ExampleEncodeRuns() {
	m := mask.FromRect(image.Rect(1, 1, 3, 3))
	fmt.Println(mask.EncodeRuns(m, 4, 3))
	fmt.Println(mask.EncodeCOCO(m, 4, 3))
	fmt.Println(mask.EncodeCOCOString(m, 4, 3))
	back, err := mask.DecodeRuns(mask.EncodeRuns(m, 4, 3), 4, 3) // a mask over the whole image
	fmt.Println(back.Rect, err, back.Pix)
	// Output:
	// [5 2 9 2]
	// {[3 4] [4 2 1 2 3]}
	// {[3 4] 42102}
	// (0,0)-(4,3) <nil> [0 0 0 0 0 255 255 0 0 255 255 0]
}
