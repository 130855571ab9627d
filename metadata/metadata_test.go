package metadata

import (
	"bytes"
	"encoding/json"
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
	for label, want := range map[string]int{"face": 103, "license-plate": 104, "person": 101, "vehicle": 102, "dog": 0} {
		if got := TypeCode(label); got != want {
			t.Errorf("TypeCode(%q) = %d, want %d", label, got, want)
		}
	}
}
