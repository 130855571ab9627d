package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/metadata"
)

// result is what veil.anonymize resolves to.
type result struct {
	image         []byte // the anonymized image, encoded
	format        string // "jpeg" or "png"
	detections    string // the Celantur metadata JSON
	count         int    // the number of objects found
	width, height int
}

// The stages reported to onProgress.
const (
	stageDecoding  = "decoding"
	stageDetecting = "detecting"
	stageEncoding  = "encoding"
)

// anonymize decodes the JPEG or PNG file data, anonymizes it with e as o
// says and encodes the result (in the input's format unless o asks for
// another). progress, when not nil, is called at the start of each stage.
// Any error returns no image.
func anonymize(ctx context.Context, e *veil.Engine, data []byte, o *options, progress func(stage string)) (*result, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: no image data", veil.ErrImage)
	}
	progress(stageDecoding)
	src, err := veil.DecodeSource(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	progress(stageDetecting)
	t0 := time.Now()
	res, err := e.Anonymize(ctx, src.Image, o.params)
	if err != nil {
		return nil, err
	}
	took := time.Since(t0)
	progress(stageEncoding)
	eo := o.encode
	if eo.Format == "" {
		eo.Format = src.Format
	}
	var img bytes.Buffer
	if err := veil.Encode(&img, res.Image, eo); err != nil {
		return nil, err
	}
	m, err := veil.Metadata(o.filename, res, took, veil.MetadataOptions{Colors: o.params.Debug})
	if err != nil {
		return nil, err
	}
	var js bytes.Buffer
	if err := metadata.Encode(&js, m); err != nil {
		return nil, err
	}
	b := res.Image.Bounds()
	return &result{
		image:      img.Bytes(),
		format:     eo.Format,
		detections: js.String(),
		count:      len(res.Objects),
		width:      b.Dx(),
		height:     b.Dy(),
	}, nil
}
