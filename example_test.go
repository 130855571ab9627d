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
