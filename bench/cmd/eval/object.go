package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/onnx"
)

// The flags that replace the person and vehicle detector.
var (
	objectModel = flag.String("object-model", "", "ONNX file for persons and vehicles: a NanoDet or a YOLOX model, told apart by its outputs (default: the engine's embedded model)")
	objectLong  = flag.Int("object-longside", 0, "LongSide of a dynamic YOLOX -object-model (0: the detector's default)")
	objectTiles = flag.Int("object-tiles", -1, "tile grid of the -object-model's second pass (-1: the detector's default; 0: none)")
	objectAbove = flag.Int("object-tile-above", 0, "TileAbove of a YOLOX -object-model (0: the detector's default)")
	objectOdds  = flag.Float64("object-person-odds", 0, "PersonOdds of the -object-model (0: the detector's default)")
	objectVOdds = flag.Float64("object-vehicle-odds", 0, "VehicleOdds of the -object-model (0: the detector's default)")
)

// objectOptions returns the engine options for the -object-* flags and a
// description of the person and vehicle detector they choose.
func objectOptions(threads int) ([]veil.Option, string, error) {
	if *objectModel == "" {
		return nil, "embedded", nil
	}
	b, err := os.ReadFile(*objectModel)
	if err != nil {
		return nil, "", err
	}
	o := onnx.Options{Threads: threads}
	var d detect.Detector
	desc := *objectModel
	if y, err := detect.NewYOLOX(b, o); err == nil {
		if *objectLong > 0 {
			y.LongSide = *objectLong
		}
		if *objectTiles >= 0 {
			y.Tiles = *objectTiles
		}
		if *objectAbove > 0 {
			y.TileAbove = *objectAbove
		}
		if *objectOdds > 0 {
			y.PersonOdds = float32(*objectOdds)
		}
		if *objectVOdds > 0 {
			y.VehicleOdds = float32(*objectVOdds)
		}
		desc += fmt.Sprintf(" (YOLOX, long side %d, tiles %d above %d, person odds %g, vehicle odds %g)", y.LongSide, y.Tiles, y.TileAbove, y.PersonOdds, y.VehicleOdds)
		d = y
	} else if nd, err2 := detect.NewNanoDet(b, o); err2 == nil {
		if *objectTiles >= 0 {
			nd.Tiles = *objectTiles
		}
		if *objectOdds > 0 {
			nd.PersonOdds = float32(*objectOdds)
		}
		desc += fmt.Sprintf(" (NanoDet, tiles %d, person odds %g)", nd.Tiles, nd.PersonOdds)
		d = nd
	} else {
		return nil, "", fmt.Errorf("-object-model: %s", strings.Join([]string{err.Error(), err2.Error()}, "; "))
	}
	return []veil.Option{veil.WithDetector(veil.Person, d), veil.WithDetector(veil.Vehicle, d)}, desc, nil
}
