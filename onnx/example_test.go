package onnx_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/veilkit/veil/onnx"
)

// Load a model and run it: YuNet-n 320×320 on a grey image.
func ExampleLoad() {
	data, err := os.ReadFile("../models/face/yunet_n_320_320.onnx")
	if err != nil {
		log.Fatal(err)
	}
	m, err := onnx.Load(data, onnx.Options{Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	shape, _ := m.InputShape("input")
	fmt.Println(m.InputNames(), shape)
	in := make([]float32, 3*320*320)
	for i := range in {
		in[i] = 128
	}
	out, err := m.Run(context.Background(), map[string]*onnx.Tensor{"input": onnx.NewTensor(shape, in)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out["cls_8"].Shape(), out["bbox_32"].Shape())
	// A face's score is sqrt(cls·obj) (see detect.YuNet).
	cls, obj := out["cls_8"].Float32s(), out["obj_8"].Float32s()
	var best float32
	for k := range cls {
		best = max(best, cls[k]*obj[k])
	}
	fmt.Println("a face on grey:", best > 0.5*0.5)
	// Output:
	// [input] [1 3 320 320]
	// [1 1600 1] [1 100 4]
	// a face on grey: false
}
