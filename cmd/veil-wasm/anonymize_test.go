package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/veilkit/veil"
)

var (
	testEngineOnce sync.Once
	testEngine     *veil.Engine
	testEngineErr  error
)

func newTestEngine(t *testing.T) *veil.Engine {
	t.Helper()
	testEngineOnce.Do(func() { testEngine, testEngineErr = veil.New() })
	if testEngineErr != nil {
		t.Fatal(testEngineErr)
	}
	return testEngine
}

func TestAnonymize(t *testing.T) {
	data, err := os.ReadFile("../../testdata/group.jpg")
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t)
	o, err := parseOptions([]byte(`{"filename": "group.jpg"}`))
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	r, err := anonymize(context.Background(), e, data, o, func(s string) { stages = append(stages, s) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{stageDecoding, stageDetecting, stageEncoding}; !reflect.DeepEqual(stages, want) {
		t.Errorf("stages %v, want %v", stages, want)
	}
	if r.format != "jpeg" || r.width != 720 || r.height != 478 {
		t.Errorf("format %q size %dx%d, want jpeg 720x478", r.format, r.width, r.height)
	}
	src, err := veil.DecodeSource(bytes.NewReader(r.image))
	if err != nil || src.Format != "jpeg" || src.Image.Bounds().Dx() != 720 {
		t.Fatalf("result image: %v", err)
	}
	var m struct {
		ID         string `json:"id"`
		Detections []struct {
			TypeLabel    string `json:"type_label"`
			IsAnonymised bool   `json:"is_anonymised"`
		} `json:"detections"`
	}
	if err := json.Unmarshal([]byte(r.detections), &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != "group.jpg" || len(m.Detections) != r.count || r.count < 40 {
		t.Errorf("metadata id %q with %d detections, count %d (want group.jpg, equal, ≥ 40)", m.ID, len(m.Detections), r.count)
	}
	for _, d := range m.Detections {
		if !d.IsAnonymised {
			t.Errorf("a %s is not anonymised", d.TypeLabel)
		}
	}

	// The engine's own result is the same.
	img, err := veil.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Anonymize(context.Background(), img, veil.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != r.count {
		t.Errorf("count %d, engine %d", r.count, len(res.Objects))
	}

	// PNG out, detect only.
	o, _ = parseOptions([]byte(`{"method": "detect", "output-format": "png", "classes": ["face"]}`))
	r, err = anonymize(context.Background(), e, data, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.format != "png" || !bytes.HasPrefix(r.image, []byte("\x89PNG")) {
		t.Errorf("format %q, image starts %q", r.format, r.image[:8])
	}
}

func TestAnonymizeBadImage(t *testing.T) {
	e := newTestEngine(t)
	o, _ := parseOptions(nil)
	for _, data := range [][]byte{nil, []byte("GIF89a not an image")} {
		r, err := anonymize(context.Background(), e, data, o, nil)
		if err == nil || r != nil {
			t.Errorf("%q: result %v, error %v; want an error and no result", data, r, err)
		} else if !errors.Is(err, veil.ErrImage) {
			t.Errorf("%q: %v does not wrap veil.ErrImage", data, err)
		}
	}
}
