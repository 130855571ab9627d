package main

import (
	"image"
	"strings"
	"testing"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
)

func box(x1, y1, x2, y2 float32) detect.Box { return detect.Box{X1: x1, Y1: y1, X2: x2, Y2: y2} }

func TestMatch(t *testing.T) {
	g := gtBox{box: box(0, 0, 10, 10)}
	// box(0, 0, 10, 10) against box(0, 0, 10, x2): IoU = x2/10 for x2 <= 10.
	tests := []struct {
		name string
		dets []detBox
		gts  []gtBox
		want counts
	}{
		{"perfect", []detBox{{box: box(0, 0, 10, 10), score: 0.9}}, []gtBox{g}, counts{tp: 1, ngt: 1}},
		{"no detections", nil, []gtBox{g, g}, counts{ngt: 2}},
		{"no truth", []detBox{{box: box(0, 0, 10, 10), score: 0.9}}, nil, counts{fp: 1}},
		{"duplicate is a false positive", []detBox{
			{box: box(0, 0, 10, 10), score: 0.8}, {box: box(0, 0, 10, 9), score: 0.9}},
			[]gtBox{g}, counts{tp: 1, fp: 1, ngt: 1}},
		{"IoU exactly 0.5 matches", []detBox{{box: box(0, 0, 10, 5), score: 0.9}}, []gtBox{g}, counts{tp: 1, ngt: 1}},
		{"IoU just below 0.5", []detBox{{box: box(0, 0, 10, 4.99), score: 0.9}}, []gtBox{g}, counts{fp: 1, ngt: 1}},
		{"each truth once, best IoU first", []detBox{
			{box: box(0, 0, 10, 10), score: 0.9}, {box: box(10, 0, 20, 10), score: 0.8}},
			[]gtBox{{box: box(10, 0, 20, 10)}, g}, counts{tp: 2, ngt: 2}},
		{"higher score takes the truth", []detBox{
			{box: box(0, 0, 10, 6), score: 0.5}, {box: box(0, 0, 10, 9), score: 0.7}},
			[]gtBox{g}, counts{tp: 1, fp: 1, ngt: 1}},
		// The >=16px rule: small truth is ignored, and so is a small
		// detection that matches no counted truth.
		{">=16px: match on small truth is neither", []detBox{{box: box(0, 0, 10, 10), score: 0.9, ignore: true}},
			[]gtBox{{box: box(0, 0, 10, 10), ignore: true}}, counts{}},
		{">=16px: big detection on small truth is neither", []detBox{{box: box(0, 0, 18, 18), score: 0.9}},
			[]gtBox{{box: box(0, 0, 14, 14), ignore: true}}, counts{}},
		{">=16px: unmatched small detection is neither", []detBox{{box: box(50, 50, 60, 60), score: 0.9, ignore: true}},
			[]gtBox{{box: box(0, 0, 20, 20)}}, counts{ngt: 1}},
		{">=16px: small detection on a counted face is a hit", []detBox{{box: box(0, 0, 15, 15), score: 0.9, ignore: true}},
			[]gtBox{{box: box(0, 0, 16, 16)}}, counts{tp: 1, ngt: 1}},
		{">=16px: unmatched big detection is a false positive", []detBox{{box: box(50, 50, 70, 70), score: 0.9}},
			[]gtBox{{box: box(0, 0, 10, 10), ignore: true}}, counts{fp: 1}},
		{">=16px: counted truth preferred over ignored", []detBox{{box: box(0, 0, 20, 20), score: 0.9}},
			[]gtBox{{box: box(0, 0, 20, 19), ignore: true}, {box: box(0, 0, 20, 15)}}, counts{tp: 1, ngt: 1}},
		{"ignored truth matched once", []detBox{
			{box: box(0, 0, 10, 10), score: 0.9}, {box: box(0, 0, 10, 10), score: 0.8}},
			[]gtBox{{box: box(0, 0, 10, 10), ignore: true}}, counts{fp: 1}},
		{"crowd absorbs detections inside it", []detBox{
			{box: box(0, 0, 10, 10), score: 0.9}, {box: box(20, 0, 30, 10), score: 0.8}, {box: box(95, 0, 105, 10), score: 0.7}},
			[]gtBox{{box: box(0, 0, 100, 100), crowd: true}}, counts{}},
		{"crowd: mostly outside is a false positive", []detBox{{box: box(96, 0, 106, 10), score: 0.9}},
			[]gtBox{{box: box(0, 0, 100, 100), crowd: true}}, counts{fp: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := match(tt.dets, tt.gts); got != tt.want {
				t.Errorf("match = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSubset(t *testing.T) {
	objs := []object{
		{class: veil.Face, label: "face", box: box(0, 0, 20, 15)},
		{class: veil.Face, label: "face", box: box(0, 0, 16, 30)},
		{class: veil.Vehicle, label: "truck", box: box(0, 0, 50, 50)},
		{class: veil.Vehicle, label: "car", box: box(0, 0, 50, 50), crowd: true},
	}
	faces := subset{class: veil.Face, name: ">=16px", minSide: 16}.truth(objs)
	if len(faces) != 2 || !faces[0].ignore || faces[1].ignore {
		t.Errorf(">=16px truth = %+v, want the first face ignored", faces)
	}
	cars := subset{class: veil.Vehicle, name: "car", label: "car"}.truth(objs)
	if len(cars) != 1 || !cars[0].crowd {
		t.Errorf("car truth = %+v, want the crowd car", cars)
	}
	dets := subset{class: veil.Vehicle, name: "car", label: "car"}.dets([]veil.Detection{
		{Class: veil.Vehicle, Label: "car", Score: 0.5}, {Class: veil.Vehicle, Label: "bus"}, {Class: veil.Person, Label: "car"}})
	if len(dets) != 1 || dets[0].score != 0.5 {
		t.Errorf("car detections = %+v, want one", dets)
	}
}

func TestParseWider(t *testing.T) {
	in := "# 0--Parade/a.jpg 416 416 orig 1024 819\n1 2 11 22\n3.5 4 13.5 24\n\n# 1--Handshaking/b.jpg\n# c.jpg 100 50\n0 0 5 5 extra fields\n"
	got, err := parseWider(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3: %+v", len(got), got)
	}
	a, b, c := got[0], got[1], got[2]
	if a.path != "0--Parade/a.jpg" || a.w != 416 || a.h != 416 || len(a.objects) != 2 ||
		a.objects[1].box != box(3.5, 4, 13.5, 24) || a.objects[0].class != veil.Face {
		t.Errorf("first sample %+v", a)
	}
	if b.path != "1--Handshaking/b.jpg" || b.w != 0 || len(b.objects) != 0 {
		t.Errorf("second sample %+v", b)
	}
	if c.w != 100 || c.h != 50 || len(c.objects) != 1 {
		t.Errorf("third sample %+v", c)
	}
	// Boxes in a 100×50 frame, image 200×200.
	if o := c.scaled(image.Rect(0, 0, 200, 200)); o[0].box != box(0, 0, 10, 20) {
		t.Errorf("scaled %v, want [0 0 10 20]", o[0].box)
	}
	for _, bad := range []string{"1 2 3 4\n", "# a.jpg\n1 2 3\n", "# a.jpg x 416\n", "# a.jpg\n1 2 3 z\n", "#\n"} {
		if _, err := parseWider(strings.NewReader(bad)); err == nil {
			t.Errorf("parseWider(%q) succeeded", bad)
		}
	}
}

func TestParsePlates(t *testing.T) {
	got, err := parsePlates("eu1.jpg\t396\t340\t203\t46\tM5XSXX\r\nus2.jpg\t1\t2\t3\t4\tAB 123\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].box != box(396, 340, 599, 386) || got[1].box != box(1, 2, 4, 6) || got[0].class != veil.LicensePlate {
		t.Errorf("parsePlates = %+v", got)
	}
	for _, bad := range []string{"a.jpg 1 2 3 4 X\n", "a.jpg\t1\t2\tw\t4\tX\n"} {
		if _, err := parsePlates(bad); err == nil {
			t.Errorf("parsePlates(%q) succeeded", bad)
		}
	}
}

func TestParseCOCO(t *testing.T) {
	in := `{"images": [{"id": 7, "file_name": "b.jpg"}, {"id": 3, "file_name": "a.jpg"}],
	"annotations": [
		{"image_id": 7, "category_id": 1, "bbox": [1, 2, 10, 20], "iscrowd": 0},
		{"image_id": 7, "category_id": 1, "bbox": [0, 0, 50, 50], "iscrowd": 1},
		{"image_id": 7, "category_id": 3, "bbox": [5, 5, 5, 5], "iscrowd": 0},
		{"image_id": 7, "category_id": 18, "bbox": [5, 5, 5, 5], "iscrowd": 0},
		{"image_id": 99, "category_id": 1, "bbox": [5, 5, 5, 5], "iscrowd": 0}],
	"categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}]}`
	got, err := parseCOCO(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].path != "a.jpg" || len(got[0].objects) != 0 || got[1].path != "b.jpg" {
		t.Fatalf("parseCOCO = %+v", got)
	}
	o := got[1].objects
	if len(o) != 3 || o[0].class != veil.Person || o[0].box != box(1, 2, 11, 22) || o[0].crowd ||
		!o[1].crowd || o[2].class != veil.Vehicle || o[2].label != "car" {
		t.Errorf("objects = %+v", o)
	}
	if _, err := parseCOCO(strings.NewReader(`{"images": [{"id": 1}], "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1]}]}`)); err == nil {
		t.Error("short bbox accepted")
	}
}
