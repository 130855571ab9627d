package modelpath

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
)

// TestInputsCoverModels checks that Inputs lists every model in models/,
// so that the tools that run them all (veil models, goldenimg, the
// benchmarks) miss none.
func TestInputsCoverModels(t *testing.T) {
	files, err := filepath.Glob("../../models/*/*.onnx")
	if err != nil || len(files) == 0 {
		t.Fatalf("no models in ../../models: %v", err)
	}
	for _, f := range files {
		rel := path.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f))
		if _, ok := Lookup(rel); !ok {
			t.Errorf("%s is not in Inputs", rel)
		}
	}
	for _, in := range Inputs {
		_, err := os.Stat(filepath.Join("../../models", filepath.FromSlash(in.File)))
		if shipped := err == nil; shipped != (in.NotShipped == "") {
			t.Errorf("%s: in models/ %v, NotShipped %q", in.File, shipped, in.NotShipped)
		}
	}
}

func TestShape(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []int
	}{
		{"face/yunet_n_dynamic.onnx", []int{1, 3, 480, 640}},
		{"face/yunet_n_320_320.onnx", []int{1, 3, 320, 320}},
		{"seg/deeplabv3_mnv2_voc_257.onnx", []int{1, 257, 257, 3}},
	} {
		in, _ := Lookup(tt.file)
		if got := in.Shape(480, 640); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Shape = %v, want %v", tt.file, got, tt.want)
		}
	}
}
