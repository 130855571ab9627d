package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/metadata"
)

func runDetect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	face := fs.Bool("face", false, "detect faces")
	plate := fs.Bool("license-plate", false, "detect licence plates")
	person := fs.Bool("person", false, "detect persons")
	vehicle := fs.Bool("vehicle", false, "detect vehicles (car, bus, truck, motorcycle, bicycle)")
	var p veil.Params
	fs.Var(&classesValue{list: &p.Classes}, "a",
		"detect objects of `class` face, license-plate, person or vehicle, as anonymize\n"+
			"takes them; repeat the flag or separate classes with commas (with -face,\n"+
			"-license-plate, -person and -vehicle: all of those named)")
	for _, t := range []struct{ name, what, def string }{
		{"face-threshold", "face", fmt.Sprint(veil.DefaultFaceThreshold)},
		{"license-plate-threshold", "licence plate", fmt.Sprint(veil.DefaultLicensePlateThreshold)},
		{"person-threshold", "person", fmt.Sprint(veil.DefaultPersonThreshold)},
		{"vehicle-threshold", "vehicle", fmt.Sprint(veil.DefaultVehicleThreshold)},
	} {
		fs.Var(paramValue{&p, t.name, t.def}, t.name, t.what+" score threshold, 0 ≤ score ≤ 1 (0: every candidate, down to veil.MinThreshold)")
	}
	p.Format = "whole"
	fs.BoolVar(&p.NoHeads, "no-heads", false, "turn off the head backstop (a found person's head region without a found face reported as a face, label \"head\")")
	fs.Var(paramValue{&p, "format", "whole"}, "format", `tiling: whole, pano:N or {"number":[nx,ny],"overlap":[ox,oy]}`)
	threads := fs.Int("threads", 0, "goroutines per model run (0: GOMAXPROCS)")
	var bf backendFlags
	bf.register(fs)
	fs.Usage = commandUsage(fs, "veil detect [flags] IMAGE...",
		"Detect prints the objects found in each image as JSON in the Celantur metadata\nschema (an array when there are several images). The classes default to face\nand license-plate.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"detect", errors.New("no images given")}
	}
	if err := bf.check(); err != nil {
		return &usageError{"detect", err}
	}
	for c, on := range map[veil.Class]bool{veil.Face: *face, veil.LicensePlate: *plate, veil.Person: *person, veil.Vehicle: *vehicle} {
		if on && !slices.Contains(p.Classes, c) {
			p.Classes = append(p.Classes, c)
		}
	}
	backend, err := bf.option(stderr)
	if err != nil {
		return err
	}
	e, err := veil.New(veil.WithThreads(*threads), backend)
	if err != nil {
		return err
	}
	var out []metadata.Image
	for _, name := range fs.Args() {
		m, err := detectFile(e, name, p)
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	if len(out) == 1 {
		return metadata.Encode(stdout, out[0])
	}
	return metadata.Encode(stdout, out)
}

func detectFile(e *veil.Engine, name string, p veil.Params) (metadata.Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return metadata.Image{}, err
	}
	defer f.Close()
	img, err := veil.Decode(f)
	if err != nil {
		return metadata.Image{}, fmt.Errorf("%s: %w", name, err)
	}
	t0 := time.Now()
	p.Method = veil.DetectOnly
	res, err := e.Anonymize(context.Background(), img, p)
	if err != nil {
		return metadata.Image{}, fmt.Errorf("%s: %w", name, err)
	}
	return veil.Metadata(name, res, time.Since(t0), veil.MetadataOptions{})
}
