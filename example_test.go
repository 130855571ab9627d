package veil_test

import (
	"context"
	"fmt"
	"image"
	"io"
	"log"
	"os"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/detect"
	"github.com/veilkit/veil/onnx"
)

// Anonymize a photo with Celantur's defaults (blur faces and licence
// plates) and write it as JPEG with its metadata.
func ExampleEngine_Anonymize() {
	e, err := veil.New() // the default models are embedded
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("testdata/group.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	src, err := veil.DecodeSource(f) // EXIF orientation applied
	if err != nil {
		log.Fatal(err)
	}
	res, err := e.Anonymize(context.Background(), src.Image, veil.Params{
		Classes: []veil.Class{veil.Face, veil.LicensePlate},
		Method:  veil.Blur,
	})
	if err != nil {
		log.Fatal(err) // privacy fails closed: no image on error
	}
	out, err := os.CreateTemp("", "veil-*.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(out.Name())
	if err := veil.Encode(out, res.Image, veil.EncodeOptions{Format: src.Format, Quality: 90}); err != nil {
		log.Fatal(err)
	}
	out.Close()
	faces := 0
	for _, o := range res.Objects {
		if o.Class == veil.Face && o.Anonymized {
			faces++
		}
	}
	fmt.Println("over 40 faces blurred:", faces > 40)
	// Output: over 40 faces blurred: true
}

// Parse Celantur's ignores option: nothing is anonymized inside these
// regions.
func ExampleParseIgnores() {
	rs, err := veil.ParseIgnores(`[{"topLeftX": 182, "topLeftY": 154, "width": 2000, "height": 2000}]`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rs)
	// Output: [(182,154)-(2182,2154)]
}

// Set parameters by their Celantur names, as a form or a query string
// gives them; a bad value names what the parameter takes.
func ExampleParams_Set() {
	var p veil.Params
	for _, kv := range [][2]string{
		{"method", "pixelate"},
		{"face-threshold", "0.6"},
		{"kernel-size-person", "120"},
		{"face-anonymization-gradient-stop", "0.1"},
	} {
		if err := p.Set(kv[0], kv[1]); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(p.Method, p.FaceThreshold, p.KernelSizePerson, *p.FaceGradient)
	fmt.Println(p.Set("license-plate-threshold", "1.5"))
	// Output:
	// pixelate 0.6 120 {0.3 0.1}
	// veil: bad option: license-plate-threshold: want a number in [0, 1], got "1.5"
}

// Detect faces without changing the image: each detection has its box in
// the image's pixels, a score and, for a face, five landmarks.
func ExampleEngine_Detect() {
	e, err := veil.New()
	if err != nil {
		log.Fatal(err)
	}
	src, err := veil.DecodeSourceFile("testdata/group.jpg")
	if err != nil {
		log.Fatal(err)
	}
	dets, err := e.Detect(context.Background(), src.Image, veil.Params{
		Classes:       []veil.Class{veil.Face},
		FaceThreshold: 0.6,
	})
	if err != nil {
		log.Fatal(err)
	}
	inside, landmarks := true, true
	for _, d := range dets {
		inside = inside && d.Box.Rect().In(src.Image.Bounds())
		// A head region (a person's head where no face was found, see
		// Params.NoHeads) has no landmarks.
		landmarks = landmarks && (len(d.Points) == 5 || d.Label == veil.HeadLabel)
	}
	fmt.Println("over 40 faces:", len(dets) > 40)
	fmt.Println("boxes inside the image:", inside)
	fmt.Println("five landmarks each:", landmarks)
	// Output:
	// over 40 faces: true
	// boxes inside the image: true
	// five landmarks each: true
}

// Compute the masks of the persons and vehicles of a street photo and
// render them as one binary mask, as Celantur's mask endpoints do, and in
// the metadata as COCO RLE.
func ExampleEngine_Masks() {
	e, err := veil.New()
	if err != nil {
		log.Fatal(err)
	}
	src, err := veil.DecodeSourceFile("testdata/street.jpg")
	if err != nil {
		log.Fatal(err)
	}
	res, err := e.Masks(context.Background(), src.Image, veil.Params{Classes: []veil.Class{veil.Person, veil.Vehicle}})
	if err != nil {
		log.Fatal(err)
	}
	m, err := res.BinaryMask(50) // mask-scale 50: half the width and height
	if err != nil {
		log.Fatal(err)
	}
	b := src.Image.Bounds()
	fmt.Println("half size:", m.Bounds().Dx() == (b.Dx()+1)/2 && m.Bounds().Dy() == (b.Dy()+1)/2)
	md, err := veil.Metadata("street.jpg", res, 0, veil.MetadataOptions{RLE: "coco"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("one entry per object:", len(md.Detections) == len(res.Objects) && len(res.Objects) > 0)
	// Output:
	// half size: true
	// one entry per object: true
}

// Frames from any source (here the same photo three times) are
// anonymized with tracking; AnonymizeVideo does the same for a video file
// through ffmpeg.
func ExampleEngine_AnonymizeFrames() {
	e, err := veil.New()
	if err != nil {
		log.Fatal(err)
	}
	src, err := veil.DecodeSourceFile("testdata/group.jpg")
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	next := func() (image.Image, error) {
		if n == 3 {
			return nil, io.EOF
		}
		n++
		return src.Image, nil
	}
	err = e.AnonymizeFrames(context.Background(), next, func(f veil.VideoFrame) error {
		fmt.Printf("frame %d: over 40 objects: %t\n", f.Index, len(f.Objects) > 40)
		return nil
	}, veil.Params{}, veil.VideoOptions{})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// frame 0: over 40 objects: true
	// frame 1: over 40 objects: true
	// frame 2: over 40 objects: true
}

// Plug another face model: here YuNet and UltraFace (both shipped in
// models/face) merged by detect.Union.
func ExampleWithDetector() {
	load := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		return b
	}
	yunet, err := detect.NewYuNet(load("models/face/yunet_n_dynamic.onnx"), onnx.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ultra, err := detect.NewUltraFace(load("models/face/ultraface_rfb_640.onnx"), onnx.Options{})
	if err != nil {
		log.Fatal(err)
	}
	faces := &detect.Union{Detectors: []detect.Detector{yunet, ultra}, IoU: 0.3, Inside: 0.6}
	e, err := veil.New(veil.WithDetector(veil.Face, faces))
	if err != nil {
		log.Fatal(err)
	}
	src, err := veil.DecodeSourceFile("testdata/group.jpg")
	if err != nil {
		log.Fatal(err)
	}
	dets, err := e.Detect(context.Background(), src.Image, veil.Params{Classes: []veil.Class{veil.Face}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("over 40 faces:", len(dets) > 40)
	// Output: over 40 faces: true
}
