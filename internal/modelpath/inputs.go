package modelpath

import "image"

// Input says how a model's input tensor is made from an image, as
// ../shared/models/MANIFEST.md gives it: channels in RGB order (BGR when
// BGR), value = (pixel - Mean[c]) / Std[c] with pixels in 0..255, laid out
// [1,3,H,W] ([1,H,W,3] when NHWC).
type Input struct {
	File       string // under the models folder, slash-separated
	Name       string // of the input tensor
	H, W       int    // 0 for a dynamic input, whose size the caller chooses
	BGR, NHWC  bool
	Mean, Std  [3]float32
	NotShipped string // why the model is not in models/; "" if it is
}

var (
	raw    = [3]float32{0, 0, 0}
	unit   = [3]float32{1, 1, 1}
	ultraM = [3]float32{127, 127, 127}
	ultraS = [3]float32{128, 128, 128}
)

// Inputs lists every model in models/ and the selfie segmenter, which is
// read from Shared.
var Inputs = []Input{
	{"face/yunet_n_dynamic.onnx", "input", 0, 0, true, false, raw, unit, ""},
	{"face/yunet_n_320_320.onnx", "input", 320, 320, true, false, raw, unit, ""},
	{"face/yunet_n_640_640.onnx", "input", 640, 640, true, false, raw, unit, ""},
	{"face/yunet_s_640_640.onnx", "input", 640, 640, true, false, raw, unit, ""},
	{"face/ultraface_rfb_320.onnx", "input", 240, 320, false, false, ultraM, ultraS, ""},
	{"face/ultraface_rfb_640.onnx", "input", 480, 640, false, false, ultraM, ultraS, ""},
	{"face/ultraface_slim_320.onnx", "input", 240, 320, false, false, ultraM, ultraS, ""},
	{"plate/lpd_yunet_2023mar.onnx", "input", 240, 320, true, false, raw, unit, ""},
	{"object/yolox_nano_dynamic.onnx", "images", 0, 0, true, false, raw, unit, ""},
	{"object/nanodet_m_416.onnx", "input.1", 416, 416, true, false, [3]float32{103.53, 116.28, 123.675}, [3]float32{57.375, 57.12, 58.395}, ""},
	{"object/fastestdet_352.onnx", "input.1", 352, 352, true, false, raw, [3]float32{255, 255, 255}, ""},
	{"seg/deeplabv3_mnv2_voc_257.onnx", "sub_7", 257, 257, false, true, [3]float32{127.5, 127.5, 127.5}, [3]float32{127.5, 127.5, 127.5}, ""},
	{"seg/mediapipe_selfie_seg_256.onnx", "input_1:0", 256, 256, false, true, raw, [3]float32{255, 255, 255}, "GPL-hosted copy"},
}

// Lookup returns the entry of Inputs for file.
func Lookup(file string) (Input, bool) {
	for _, in := range Inputs {
		if in.File == file {
			return in, true
		}
	}
	return Input{}, false
}

// Find returns the path of in's model in dir or, failing that, in
// Shared, or a note saying why it is in neither.
func (in Input) Find(dir string) (path, note string) {
	return Find(dir, in.File, in.NotShipped)
}

// Shape returns the input's shape for an h×w input ([1,3,h,w], or
// [1,h,w,3] when NHWC); h and w are the model's own unless it is dynamic.
func (in Input) Shape(h, w int) []int {
	if in.H != 0 {
		h, w = in.H, in.W
	}
	if in.NHWC {
		return []int{1, h, w, 3}
	}
	return []int{1, 3, h, w}
}

// Data turns img into the input's tensor data for shape ([1,3,H,W], or
// [1,H,W,3] when NHWC): stretched to H×W by nearest neighbour with
// integer math only (sx = x*Wimg/W, sy = y*Himg/H), then normalised.
// bench/cmd/goldenimg made onnx/testdata/golden_street.json with it.
func (in Input) Data(img image.Image, shape []int) []float32 {
	h, w := shape[2], shape[3]
	if in.NHWC {
		h, w = shape[1], shape[2]
	}
	b := img.Bounds()
	data := make([]float32, 3*h*w)
	for y := 0; y < h; y++ {
		sy := b.Min.Y + y*b.Dy()/h
		for x := 0; x < w; x++ {
			sx := b.Min.X + x*b.Dx()/w
			r, g, bl, _ := img.At(sx, sy).RGBA()
			px := [3]float32{float32(r >> 8), float32(g >> 8), float32(bl >> 8)}
			if in.BGR {
				px[0], px[2] = px[2], px[0]
			}
			for c := 0; c < 3; c++ {
				v := (px[c] - in.Mean[c]) / in.Std[c]
				if in.NHWC {
					data[(y*w+x)*3+c] = v
				} else {
					data[(c*h+y)*w+x] = v
				}
			}
		}
	}
	return data
}
