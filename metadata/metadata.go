// Package metadata writes detections as JSON in the Celantur metadata
// schema, for images and (frame by frame) videos.
package metadata

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
)

// Type codes of the classes. Celantur documents 102 for persons and 103
// for faces; it does not document licence plates and vehicles, and veil
// numbers them after faces: 104 licence plate, 105 vehicle.
const (
	TypePerson       = 102
	TypeFace         = 103
	TypeLicensePlate = 104
	TypeVehicle      = 105
)

// TypeCode returns the type code of a class label ("face",
// "license-plate", "person", "vehicle"), or 0.
func TypeCode(label string) int {
	switch label {
	case "person":
		return TypePerson
	case "vehicle":
		return TypeVehicle
	case "face":
		return TypeFace
	case "license-plate":
		return TypeLicensePlate
	}
	return 0
}

// Detection is one object in the Celantur schema.
type Detection struct {
	ID           int     `json:"id"`
	ParentImage  any     `json:"parent_image"` // the image's name, or a video frame's id
	Offset       [2]int  `json:"offset"`       // x, y of the tile the object was found in
	BBox         [4]int  `json:"bbox"`         // x1, y1, x2, y2 in image pixels
	Type         int     `json:"type"`
	Score        float64 `json:"score"`
	IsAnonymised bool    `json:"is_anonymised"`
	TypeLabel    string  `json:"type_label"`
	Color        *[3]int `json:"color"` // null unless a colour was assigned
	// TrackID is the object's track in a video (veil's addition, absent
	// for images and with tracking off).
	TrackID int `json:"track_id,omitempty"`
	// Mask is the object's mask as a run-length encoding (veil's
	// addition, present only when asked for): a COCO RLE object or the
	// labelling-platform list [start, length, …].
	Mask any `json:"mask,omitempty"`
}

// Image is the metadata of one image.
type Image struct {
	ID         string      `json:"id"`
	Detections []Detection `json:"detections"`
	Size       [2]int      `json:"size"`     // height, width (as Celantur: numpy order)
	Duration   float64     `json:"duration"` // seconds of processing
	Filename   string      `json:"filename"`
	Folder     *string     `json:"folder"` // null when unknown
}

// Frame is the metadata of one video frame (Celantur's video metadata):
// its detections' parent_image is the frame id.
type Frame struct {
	ID         int         `json:"id"`
	Detections []Detection `json:"detections"`
	Size       [2]int      `json:"size"`     // height, width
	Duration   float64     `json:"duration"` // seconds of processing
}

// FramesPerFile is the most frames WriteFrames puts in one file.
const FramesPerFile = 500

// FramesFileName returns the name of the file of frames start..end
// (inclusive) of the video named name: NAME-START-END.json, NAME without
// its extension.
func FramesFileName(name string, start, end int) string {
	return fmt.Sprintf("%s-%d-%d.json", strings.TrimSuffix(name, filepath.Ext(name)), start, end)
}

// Round6 rounds a score to 6 decimals, enough for a float32 score and
// stable in JSON.
func Round6(v float32) float64 { return math.Round(float64(v)*1e6) / 1e6 }

// Encode writes v as indented JSON followed by a newline.
func Encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
