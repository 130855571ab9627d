package metadata

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestImageJSON(t *testing.T) {
	img := Image{ID: "a.jpg", Filename: "a.jpg", Size: [2]int{480, 640}, Duration: 0.25,
		Detections: []Detection{{ID: 0, ParentImage: "a.jpg", BBox: [4]int{1, 2, 30, 40}, Type: TypeCode("face"),
			Score: Round6(0.98765432), IsAnonymised: true, TypeLabel: "face"}}}
	var b bytes.Buffer
	if err := Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	d := back["detections"].([]any)[0].(map[string]any)
	for _, key := range []string{"id", "parent_image", "offset", "bbox", "type", "score", "is_anonymised", "type_label", "color"} {
		if _, ok := d[key]; !ok {
			t.Errorf("detection lacks %q", key)
		}
	}
	if d["type"].(float64) != 103 || d["color"] != nil || d["score"].(float64) != 0.987654 {
		t.Errorf("detection = %v", d)
	}
	for _, key := range []string{"id", "detections", "size", "duration", "filename"} {
		if _, ok := back[key]; !ok {
			t.Errorf("image lacks %q", key)
		}
	}
}

func TestTypeCode(t *testing.T) {
	for label, want := range map[string]int{"face": 103, "license-plate": 104, "person": 102, "vehicle": 105, "dog": 0} {
		if got := TypeCode(label); got != want {
			t.Errorf("TypeCode(%q) = %d, want %d", label, got, want)
		}
	}
}

// TestSpecExamples decodes the image metadata examples of the Celantur
// Container REST API document into Image and encodes them again: every
// key and value must survive.
func TestSpecExamples(t *testing.T) {
	files, err := filepath.Glob("testdata/spec_image_*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no spec examples: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var img Image
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b bytes.Buffer
		if err := Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		var want, got any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip\n got %v\nwant %v", name, got, want)
		}
	}
}
