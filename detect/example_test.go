package detect_test

import (
	"fmt"

	"github.com/veilkit/veil/detect"
)

// NMS keeps the stronger of two faces that overlap by more than the IoU
// given, and faces of another class whatever their overlap.
func ExampleNMS() {
	dets := []detect.Detection{
		{Class: detect.Face, Score: 0.7, Box: detect.Box{X1: 12, Y1: 10, X2: 52, Y2: 60}},
		{Class: detect.Face, Score: 0.9, Box: detect.Box{X1: 10, Y1: 10, X2: 50, Y2: 60}},
		{Class: detect.LicensePlate, Score: 0.6, Box: detect.Box{X1: 10, Y1: 10, X2: 50, Y2: 30}},
		{Class: detect.Face, Score: 0.8, Box: detect.Box{X1: 100, Y1: 10, X2: 140, Y2: 60}},
	}
	for _, d := range detect.NMS(dets, 0.3) {
		fmt.Println(d.Class, d.Score, d.Box)
	}
	// Output:
	// face 0.9 {10 10 50 60}
	// face 0.8 {100 10 140 60}
	// license-plate 0.6 {10 10 50 30}
}
