package veil_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/veilkit/veil"
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
	// veil: bad option: license-plate-threshold: want a number in (0, 1], got "1.5"
}
