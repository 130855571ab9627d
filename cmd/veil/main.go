// Command veil anonymizes images with the veil engine.
//
// Usage:
//
//	veil detect [flags] IMAGE...
//	veil models [-image FILE] [-threads N] [-dir models]
//
// detect prints the detections of each image as JSON in the Celantur
// metadata schema (an array when there are several images). Its flags
// carry the Celantur parameter names: -face, -license-plate, -person,
// -vehicle choose the classes (default: face and license-plate), and
// -face-threshold, -license-plate-threshold, -person-threshold,
// -vehicle-threshold, -format set the detection.
//
// models runs every shipped ONNX model in veil's pure-Go runtime on an
// image and prints what each returns and how long it took.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/veilkit/veil/onnx"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "veil:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: veil detect [flags] IMAGE... | veil models [-image FILE] [-threads N] [-dir DIR]")
	}
	switch args[0] {
	case "detect":
		return runDetect(args[1:], stdout)
	case "models":
		return runModels(args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q (have: detect, models)", args[0])
}

// modelInput says how a model wants its input tensor.
type modelInput struct {
	file      string
	name      string
	h, w      int
	bgr, nhwc bool
	mean, std [3]float32
}

var shipped = []modelInput{
	{"face/yunet_n_640_640.onnx", "input", 640, 640, true, false, [3]float32{}, [3]float32{1, 1, 1}},
	{"face/yunet_s_640_640.onnx", "input", 640, 640, true, false, [3]float32{}, [3]float32{1, 1, 1}},
	{"face/ultraface_rfb_320.onnx", "input", 240, 320, false, false, [3]float32{127, 127, 127}, [3]float32{128, 128, 128}},
	{"plate/lpd_yunet_2023mar.onnx", "input", 240, 320, true, false, [3]float32{}, [3]float32{1, 1, 1}},
	{"object/nanodet_m_416.onnx", "input.1", 416, 416, true, false, [3]float32{103.53, 116.28, 123.675}, [3]float32{57.375, 57.12, 58.395}},
	{"object/fastestdet_352.onnx", "input.1", 352, 352, true, false, [3]float32{}, [3]float32{255, 255, 255}},
	{"seg/deeplabv3_mnv2_voc_257.onnx", "sub_7", 257, 257, false, true, [3]float32{127.5, 127.5, 127.5}, [3]float32{127.5, 127.5, 127.5}},
	{"seg/mediapipe_selfie_seg_256.onnx", "input_1:0", 256, 256, false, true, [3]float32{}, [3]float32{255, 255, 255}},
}

func runModels(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	imagePath := fs.String("image", "testdata/street.jpg", "image to run the models on")
	threads := fs.Int("threads", 0, "goroutines per model run (0: GOMAXPROCS)")
	dir := fs.String("dir", "models", "folder of the shipped models")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*imagePath)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *imagePath, err)
	}
	fmt.Fprintf(stdout, "%s: %dx%d\n", *imagePath, img.Bounds().Dx(), img.Bounds().Dy())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tload ms\trun ms\toutputs")
	ctx := context.Background()
	for _, mi := range shipped {
		data, err := os.ReadFile(filepath.Join(*dir, mi.file))
		if err != nil {
			return err
		}
		t0 := time.Now()
		m, err := onnx.Load(data, onnx.Options{Threads: *threads})
		if err != nil {
			return fmt.Errorf("%s: %w", mi.file, err)
		}
		in := tensorFromImage(img, mi)
		if _, err := m.Run(ctx, map[string]*onnx.Tensor{mi.name: in}); err != nil { // plan + warm-up
			return fmt.Errorf("%s: %w", mi.file, err)
		}
		load := time.Since(t0)
		t1 := time.Now()
		out, err := m.Run(ctx, map[string]*onnx.Tensor{mi.name: in})
		if err != nil {
			return fmt.Errorf("%s: %w", mi.file, err)
		}
		runTime := time.Since(t1)
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t", mi.file, ms(load), ms(runTime))
		for k, name := range m.OutputNames() {
			if k > 0 {
				fmt.Fprint(tw, " ")
			}
			fmt.Fprintf(tw, "%s%v", name, out[name].Shape())
			if k == 2 && len(m.OutputNames()) > 3 {
				fmt.Fprintf(tw, " …(%d)", len(m.OutputNames()))
				break
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// tensorFromImage stretches img to the model's input size (nearest
// neighbour) and normalises it: value = (raw - mean[c]) / std[c].
func tensorFromImage(img image.Image, mi modelInput) *onnx.Tensor {
	b := img.Bounds()
	data := make([]float32, 3*mi.h*mi.w)
	for y := 0; y < mi.h; y++ {
		sy := b.Min.Y + y*b.Dy()/mi.h
		for x := 0; x < mi.w; x++ {
			sx := b.Min.X + x*b.Dx()/mi.w
			r, g, bl, _ := img.At(sx, sy).RGBA()
			px := [3]float32{float32(r >> 8), float32(g >> 8), float32(bl >> 8)}
			if mi.bgr {
				px[0], px[2] = px[2], px[0]
			}
			for c := 0; c < 3; c++ {
				v := (px[c] - mi.mean[c]) / mi.std[c]
				if mi.nhwc {
					data[(y*mi.w+x)*3+c] = v
				} else {
					data[(c*mi.h+y)*mi.w+x] = v
				}
			}
		}
	}
	shape := []int{1, 3, mi.h, mi.w}
	if mi.nhwc {
		shape = []int{1, mi.h, mi.w, 3}
	}
	return onnx.NewTensor(shape, data)
}
