package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/imageio"
	"github.com/veilkit/veil/video"
)

const (
	groupJPG  = "../../testdata/group.jpg"
	plateJPG  = "../../testdata/plate.jpg"
	streetJPG = "../../testdata/street.jpg"
	gpsJPG    = "../../internal/imageio/testdata/gps_thumb.jpg"
)

// copyFile copies src to dst, creating dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, dst, b)
}

func writeTestFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// files returns the files under dir, relative to it, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func decodeFile(t *testing.T, name string) (image.Image, string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := veil.DecodeSource(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return src.Image, src.Format
}

type testMeta struct {
	ID         string `json:"id"`
	Filename   string `json:"filename"`
	Size       [2]int `json:"size"`
	Detections []struct {
		BBox         [4]int `json:"bbox"`
		TypeLabel    string `json:"type_label"`
		IsAnonymised bool   `json:"is_anonymised"`
		Mask         any    `json:"mask"`
	} `json:"detections"`
}

func readMeta(t *testing.T, name string) testMeta {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var m testMeta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// meanDiff returns the mean absolute difference of the RGB values of a
// and b over the pixels of r for which keep is true.
func meanDiff(a, b image.Image, r image.Rectangle, keep func(image.Point) bool) float64 {
	var sum float64
	n := 0
	r = r.Intersect(a.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !keep(image.Pt(x, y)) {
				continue
			}
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sum += (absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)) / 3 / 257
			n++
		}
	}
	return sum / float64(max(n, 1))
}

func absDiff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

// checkAnonymized checks that out is in's image with its metadata's
// anonymized objects changed: a lot more in the middle of their boxes
// than the re-encoding changes the image away from every object.
func checkAnonymized(t *testing.T, in, out string, m testMeta) {
	t.Helper()
	a, _ := decodeFile(t, in)
	b, _ := decodeFile(t, out)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("%s: bounds %v, input %v", out, b.Bounds(), a.Bounds())
	}
	// The boxes grown by their size on each side, past any soft edge.
	var near []image.Rectangle
	for _, d := range m.Detections {
		r := image.Rect(d.BBox[0], d.BBox[1], d.BBox[2], d.BBox[3])
		near = append(near, r.Inset(-max(r.Dx(), r.Dy())))
	}
	noise := meanDiff(a, b, a.Bounds(), func(p image.Point) bool {
		return !slices.ContainsFunc(near, p.In)
	})
	n := 0
	for _, d := range m.Detections {
		if !d.IsAnonymised {
			continue
		}
		n++
		r := image.Rect(d.BBox[0], d.BBox[1], d.BBox[2], d.BBox[3])
		// The middle of the box, which every shape covers.
		r = r.Inset(min(r.Dx(), r.Dy()) / 4)
		inside := meanDiff(a, b, r, func(image.Point) bool { return true })
		if inside < 3*noise || inside < 4 {
			t.Errorf("%s: %s at %v: mean change %.1f inside, %.1f away from the objects: not anonymized",
				out, d.TypeLabel, d.BBox, inside, noise)
		}
		if n == 5 { // enough, and keep the test fast
			break
		}
	}
	if n == 0 {
		t.Errorf("%s: no anonymized object in the metadata", out)
	}
}

// TestAnonymizeBinary builds veil and anonymizes a folder with a good
// image, a good image in a subfolder and a corrupt one.
func TestAnonymizeBinary(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "veil")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	goTool, err := exec.LookPath("go") // go test puts its own go first on PATH
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	in := filepath.Join(tmp, "in")
	copyFile(t, groupJPG, filepath.Join(in, "group.jpg"))
	copyFile(t, plateJPG, filepath.Join(in, "sub", "plate.jpg"))
	good, err := os.ReadFile(groupJPG)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(in, "bad.jpg"), good[:300]) // a truncated JPEG
	writeTestFile(t, filepath.Join(in, "notes.txt"), []byte("not an image"))
	out := filepath.Join(tmp, "out")
	// An output of an earlier run of the file that now fails goes.
	writeTestFile(t, filepath.Join(out, "bad.jpg"), good)

	cmd := exec.Command(bin, "anonymize", in, "-o", out, "--metadata")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
	if !strings.Contains(stderr.String(), "bad.jpg") {
		t.Errorf("stderr does not name bad.jpg:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "anonymized 2 of 3 files (1 failed)") {
		t.Errorf("stderr has no summary line:\n%s", stderr.String())
	}
	want := []string{"group.jpg", "group.json", "sub/plate.jpg", "sub/plate.json"}
	if got := files(t, out); !slices.Equal(got, want) {
		t.Fatalf("output files %q, want %q", got, want)
	}
	for _, name := range []string{"group", "sub/plate"} {
		m := readMeta(t, filepath.Join(out, name+".json"))
		if m.Filename != filepath.Base(name)+".jpg" {
			t.Errorf("%s.json: filename %q", name, m.Filename)
		}
		checkAnonymized(t, filepath.Join(in, name+".jpg"), filepath.Join(out, name+".jpg"), m)
	}
}

func TestParseAnonymize(t *testing.T) {
	parse := func(args ...string) *anonymizeConfig {
		t.Helper()
		cfg, err := parseAnonymize(args, new(bytes.Buffer))
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return cfg
	}

	cfg := parse("a.jpg", "-o", "out", "--method", "pixelate", "dir2", "-q", "--", "-x.jpg")
	if !slices.Equal(cfg.inputs, []string{"a.jpg", "dir2", "-x.jpg"}) || cfg.out != "out" ||
		cfg.params.Method != veil.Pixelate || !cfg.quiet {
		t.Errorf("interspersed: inputs %q, out %q, method %v, quiet %v", cfg.inputs, cfg.out, cfg.params.Method, cfg.quiet)
	}

	// Defaults: thresholds and kernel sizes 0, which veil.Params reads as
	// Celantur's defaults.
	cfg = parse("a.jpg", "-o", "out")
	p := cfg.params
	if !slices.Equal(p.Classes, []veil.Class{veil.Face, veil.LicensePlate}) || p.Method != veil.Blur ||
		p.FaceThreshold != 0 || p.LicensePlateThreshold != 0 || p.PersonThreshold != 0 || p.VehicleThreshold != 0 ||
		p.KernelSizeFace != 0 || p.KernelSizePerson != 0 ||
		p.FaceGradient != nil || p.LicensePlateGradient != nil || p.Format != "whole" ||
		cfg.quality != 90 || cfg.compress != 5 || cfg.metadata || cfg.keepEXIF || cfg.outFormat != "" {
		t.Errorf("defaults: %+v", cfg)
	}

	cfg = parse("-a", "face,person", "x.jpg", "-a", "vehicle", "-o", "o", "-a", "face")
	if want := []veil.Class{veil.Face, veil.Person, veil.Vehicle}; !slices.Equal(cfg.params.Classes, want) {
		t.Errorf("classes %v, want %v", cfg.params.Classes, want)
	}

	cfg = parse("x.jpg", "-o", "o", "--face-anonymization-gradient-stop", "0.1",
		"--license-plate-anonymization-gradient-start", "0.5")
	if g := cfg.params.FaceGradient; g == nil || *g != (veil.Gradient{Start: 0.3, Stop: 0.1}) {
		t.Errorf("face gradient %v, want {0.3 0.1}", g)
	}
	if g := cfg.params.LicensePlateGradient; g == nil || *g != (veil.Gradient{Start: 0.5, Stop: 0}) {
		t.Errorf("licence plate gradient %v, want {0.5 0}", g)
	}

	cfg = parse("x.jpg", "-o", "o", "--compress-level", "0", "--quality", "75", "--face-threshold", "0.7",
		"--kernel-size-person", "31", "--ignores", `[{"topLeftX":1,"topLeftY":2,"width":3,"height":4}]`,
		"--method", "detect", "--output-format", "PNG", "-j", "3", "--threads", "2", "--format", "pano:4096")
	p = cfg.params
	if cfg.compress != veil.NoCompression || cfg.quality != 75 || p.FaceThreshold != 0.7 || p.KernelSizePerson != 31 ||
		!slices.Equal(p.Ignores, []image.Rectangle{image.Rect(1, 2, 4, 6)}) || p.Method != veil.DetectOnly ||
		!cfg.metadata || cfg.outFormat != "png" || cfg.jobs != 3 || cfg.threads != 2 || p.Format != "pano:4096" {
		t.Errorf("values: %+v", cfg)
	}

	ignores := filepath.Join(t.TempDir(), "ignores.json")
	writeTestFile(t, ignores, []byte(`[{"topLeftX": 10, "topLeftY": 20, "width": 30, "height": 40}]`))
	cfg = parse("x.jpg", "-o", "o", "--ignores", "@"+ignores)
	if !slices.Equal(cfg.params.Ignores, []image.Rectangle{image.Rect(10, 20, 40, 60)}) {
		t.Errorf("ignores from a file: %v", cfg.params.Ignores)
	}
}

func TestAnonymizeBadFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		args []string
		flag string // named in the message
	}{
		{[]string{"--quality", "0"}, "-quality"},
		{[]string{"--quality", "x"}, "-quality"},
		{[]string{"--compress-level", "10"}, "-compress-level"},
		{[]string{"--method", "smear"}, "-method"},
		{[]string{"--save-mask", "some"}, "-save-mask"},
		{[]string{"--mask-scale", "0"}, "-mask-scale"},
		{[]string{"--metadata-rle", "png"}, "-metadata-rle"},
		{[]string{"--ignores", "not json"}, "-ignores"},
		{[]string{"--ignores", "@no-such-file.json"}, "-ignores"},
		{[]string{"-a", "dog"}, "-a"},
		{[]string{"-a", "face,dog"}, "-a"},
		{[]string{"--face-threshold", "1.5"}, "-face-threshold"},
		{[]string{"--vehicle-threshold", "NaN"}, "-vehicle-threshold"},
		{[]string{"--kernel-size-face", "-1"}, "-kernel-size-face"},
		{[]string{"--face-anonymization-gradient-stop", "0.9"}, "-face-anonymization-gradient-stop"},
		{[]string{"--format", "pano:12"}, "-format"},
		{[]string{"--output-format", "gif"}, "-output-format"},
		{[]string{"-j", "0"}, "-j"},
		{[]string{"--no-such-flag"}, "-no-such-flag"},
		{[]string{"-o"}, "-o"},
		{[]string{"--detect-every", "0"}, "-detect-every"},
		{[]string{"--detect-every", "2", "--no-object-tracking"}, "-detect-every"},
	} {
		args := append([]string{"anonymize", groupJPG, "-o", out}, tc.args...)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr.String(), tc.flag) {
			t.Errorf("%q: message does not name %s: %q", tc.args, tc.flag, stderr.String())
		}
	}
	// Copies, so that a broken check cannot overwrite testdata.
	dirs := t.TempDir()
	a, b := filepath.Join(dirs, "a"), filepath.Join(dirs, "b")
	copyFile(t, plateJPG, filepath.Join(a, "x.jpg"))
	copyFile(t, plateJPG, filepath.Join(b, "x.jpg"))
	clips, clips2 := filepath.Join(dirs, "clips"), filepath.Join(dirs, "clips2")
	writeTestFile(t, filepath.Join(clips, "clip.avi"), []byte("video"))
	writeTestFile(t, filepath.Join(clips, "clip.mp4"), []byte("video"))
	writeTestFile(t, filepath.Join(clips2, "clip.MOV"), []byte("video"))
	writeTestFile(t, filepath.Join(clips2, "clip.mp4"), []byte("video"))
	link := filepath.Join(dirs, "link")
	if err := os.Symlink(a, link); err != nil {
		link = a
	}
	for _, args := range [][]string{
		{"anonymize", groupJPG},                             // no -o
		{"anonymize", "-o", out},                            // no input
		{"anonymize", a, "-o", a},                           // OUT is the input folder
		{"anonymize", a, "-o", a, "--output-format", "png"}, // even when no name is shared
		{"anonymize", a, "-o", link},                        // the same, through a symbolic link
		{"anonymize", link, "-o", a},                        // the same, the other way
		{"anonymize", filepath.Join(a, "x.jpg"), "-o", a},   // would overwrite the input
		{"anonymize", a, b, "-o", out},                      // both to OUT/x.jpg
		{"anonymize", clips, "-o", out},                     // clip.avi and clip.mp4 both to OUT/clip.mp4
		{"anonymize", clips2, "-o", out, "--metadata"},      // clip.mov and clip.mp4 both to OUT/clip-START-END.json
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2; stderr %q", args, code, stderr.String())
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a bad command line created the output folder (%v)", err)
	}
	orig, err := os.ReadFile(plateJPG)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, a); !slices.Equal(got, []string{"x.jpg"}) {
		t.Errorf("the input folder holds %q", got)
	}
	if got, err := os.ReadFile(filepath.Join(a, "x.jpg")); err != nil || !bytes.Equal(got, orig) {
		t.Errorf("the input was changed (%v)", err)
	}
}

// anonymizeInProcess runs veil anonymize with args and returns the exit
// status and stderr.
func anonymizeInProcess(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"anonymize"}, args...), &stdout, &stderr)
	return code, stderr.String()
}

func TestAnonymizeDetectOnly(t *testing.T) {
	out := t.TempDir()
	code, stderr := anonymizeInProcess(t, "--method", "detect", plateJPG, "-o", out)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if got := files(t, out); !slices.Equal(got, []string{"plate.json"}) {
		t.Fatalf("output files %q, want only plate.json", got)
	}
	m := readMeta(t, filepath.Join(out, "plate.json"))
	if len(m.Detections) == 0 || m.Detections[0].TypeLabel != "license-plate" || m.Detections[0].IsAnonymised {
		t.Errorf("metadata %+v", m)
	}
	if m.Size != [2]int{1160, 720} {
		t.Errorf("size %v, want [1160 720]", m.Size)
	}
	if !strings.Contains(stderr, "ok "+plateJPG+" (1 object") || !strings.Contains(stderr, "1 of 1 files") {
		t.Errorf("stderr %q", stderr)
	}
}

// TestAnonymizeSaveMask checks --save-mask and --mask-scale: the masks
// are written beside the image at the scaled size, white (binary) and
// flagged (instance) at the plate, and --method detect writes masks
// without an image.
func TestAnonymizeSaveMask(t *testing.T) {
	for _, method := range []string{"blur", "detect"} {
		out := t.TempDir()
		code, stderr := anonymizeInProcess(t, "--method", method, "--save-mask", "all", "--mask-scale", "50",
			"--metadata-rle", "coco", plateJPG, "-o", out)
		if code != 0 {
			t.Fatalf("%s: exit status %d: %s", method, code, stderr)
		}
		want := []string{"plate.jpg", "plate.json", "plate_bin_mask.png", "plate_ins_mask.png"}
		if method == "detect" {
			want = want[1:]
		}
		if got := files(t, out); !slices.Equal(got, want) {
			t.Fatalf("%s: output files %q, want %q", method, got, want)
		}
		m := readMeta(t, filepath.Join(out, "plate.json"))
		if len(m.Detections) != 1 || m.Detections[0].Mask == nil {
			t.Fatalf("%s: metadata %+v, want one plate with a mask", method, m)
		}
		b := m.Detections[0].BBox
		cx, cy := (b[0]+b[2])/4, (b[1]+b[3])/4 // the plate's centre at 50%
		bin, _ := decodeFile(t, filepath.Join(out, "plate_bin_mask.png"))
		ins, _ := decodeFile(t, filepath.Join(out, "plate_ins_mask.png"))
		if bin.Bounds() != image.Rect(0, 0, 360, 580) || ins.Bounds() != bin.Bounds() {
			t.Fatalf("%s: mask sizes %v %v, want 360x580", method, bin.Bounds(), ins.Bounds())
		}
		if y, _, _, _ := bin.At(cx, cy).RGBA(); y != 0xffff {
			t.Errorf("%s: binary mask at the plate = %d", method, y>>8)
		}
		if y, _, _, _ := bin.At(5, 5).RGBA(); y != 0 {
			t.Errorf("%s: binary mask in the corner = %d", method, y>>8)
		}
		if r, g, bl, _ := ins.At(cx, cy).RGBA(); r != 0 || g>>8 != 1 || bl>>8 != 64 {
			t.Errorf("%s: instance mask at the plate = %d %d %d, want 0 1 64", method, r>>8, g>>8, bl>>8)
		}
	}
}

func TestAnonymizeOutputFormat(t *testing.T) {
	out := t.TempDir()
	code, stderr := anonymizeInProcess(t, plateJPG, "-q", "--output-format", "png", "-o", out, "--metadata", "--compress-level", "1")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "ok ") {
		t.Errorf("-q printed a line per file: %q", stderr)
	}
	if got := files(t, out); !slices.Equal(got, []string{"plate.json", "plate.png"}) {
		t.Fatalf("output files %q, want plate.json plate.png", got)
	}
	if _, format := decodeFile(t, filepath.Join(out, "plate.png")); format != "png" {
		t.Errorf("plate.png is a %s", format)
	}
	checkAnonymized(t, plateJPG, filepath.Join(out, "plate.png"), readMeta(t, filepath.Join(out, "plate.json")))
}

// tiffTags returns the tags of IFD0 of a TIFF structure and whether it
// links to an IFD1 (a thumbnail).
func tiffTags(t *testing.T, b []byte) (tags []uint16, ifd1 bool) {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("TIFF of %d bytes", len(b))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if string(b[:2]) == "MM" {
		bo = binary.BigEndian
	}
	off := int(bo.Uint32(b[4:]))
	if off+2 > len(b) {
		t.Fatalf("IFD0 at %d past the end (%d)", off, len(b))
	}
	n := int(bo.Uint16(b[off:]))
	if off+2+12*n+4 > len(b) {
		t.Fatalf("IFD0 of %d entries past the end", n)
	}
	for k := range n {
		tags = append(tags, bo.Uint16(b[off+2+12*k:]))
	}
	return tags, bo.Uint32(b[off+2+12*n:]) != 0
}

func TestAnonymizeKeepEXIF(t *testing.T) {
	orig, err := os.ReadFile(gpsJPG)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip(gpsJPG, "is missing")
	}
	if err != nil {
		t.Fatal(err)
	}
	const gpsIFD = 0x8825
	exif := imageio.JPEGEXIF(orig)
	if exif == nil {
		t.Fatal("the fixture has no EXIF")
	}
	if tags, thumb := tiffTags(t, exif); !slices.Contains(tags, gpsIFD) || !thumb {
		t.Fatalf("the fixture has no GPS data or thumbnail: tags %x, IFD1 %v", tags, thumb)
	}
	for _, keep := range []bool{false, true} {
		out := t.TempDir()
		args := []string{gpsJPG, "-o", out}
		if keep {
			args = append(args, "--keep-exif")
		}
		if code, stderr := anonymizeInProcess(t, args...); code != 0 {
			t.Fatalf("keep %v: exit status %d: %s", keep, code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "gps_thumb.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		got := imageio.JPEGEXIF(b)
		if !keep {
			if got != nil {
				t.Errorf("without --keep-exif the output has EXIF (%d bytes)", len(got))
			}
			continue
		}
		if got == nil {
			t.Fatal("with --keep-exif the output has no EXIF")
		}
		tags, thumb := tiffTags(t, got)
		if slices.Contains(tags, gpsIFD) || thumb {
			t.Errorf("with --keep-exif the output keeps the GPS data or the thumbnail: tags %x, IFD1 %v", tags, thumb)
		}
		if !bytes.Contains(got, []byte("veil-test")) {
			t.Errorf("with --keep-exif the output lost the camera make: %q", got)
		}
	}
}

func TestAnonymizeOverwriteNothing(t *testing.T) {
	// An output folder inside the input folder is not searched: a second
	// run does not anonymize the first run's outputs.
	in := t.TempDir()
	copyFile(t, plateJPG, filepath.Join(in, "plate.jpg"))
	out := filepath.Join(in, "anon")
	for range 2 {
		if code, stderr := anonymizeInProcess(t, in, "-o", out); code != 0 {
			t.Fatalf("exit status %d: %s", code, stderr)
		}
	}
	if got := files(t, in); !slices.Equal(got, []string{"anon/plate.jpg", "plate.jpg"}) {
		t.Errorf("files %q", got)
	}
	// A folder named through a symbolic link is searched.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(in, link); err == nil {
		out3 := t.TempDir()
		if code, stderr := anonymizeInProcess(t, link, "-o", out3); code != 0 || !strings.Contains(stderr, "2 of 2 files") {
			t.Errorf("through a link: exit status %d: %s", code, stderr)
		}
		if got := files(t, out3); !slices.Equal(got, []string{"anon/plate.jpg", "plate.jpg"}) {
			t.Errorf("through a link: files %q", got)
		}
	}
	// Naming the same file twice does it once.
	out2 := t.TempDir()
	code, stderr := anonymizeInProcess(t, in+"/plate.jpg", filepath.Join(in, "plate.jpg"), "-o", out2)
	if code != 0 || !strings.Contains(stderr, "1 of 1 files") {
		t.Errorf("exit status %d: %s", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Errorf("%q: exit status %d", args, code)
		}
		for _, s := range []string{"Usage: veil <command>", "anonymize", "detect", "models", "veil <command> -h"} {
			if !strings.Contains(stdout.String(), s) {
				t.Errorf("%q: the help lacks %q:\n%s", args, s, stdout.String())
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "anonymize") {
		t.Errorf("no arguments: exit status %d, stderr %q", code, stderr.String())
	}

	// anonymize -h lists every flag once, in a group.
	for _, args := range [][]string{{"anonymize", "-h"}, {"help", "anonymize"}, {"anonymize", "x.jpg", "--help"}} {
		stdout.Reset()
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Errorf("%q: exit status %d", args, code)
		}
		help := stdout.String()
		if !strings.HasPrefix(help, "Usage: "+anonymizeUsageLine) || !strings.Contains(help, "(default 90)") {
			t.Errorf("%q: help:\n%s", args, help)
		}
	}
	fs, _ := newAnonymizeFlags(new(anonymizeConfig))
	grouped := make(map[string]int)
	for _, g := range anonymizeGroups {
		for _, name := range g.flags {
			grouped[name]++
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if grouped[f.Name] != 1 {
			t.Errorf("flag %s is in %d groups of the help", f.Name, grouped[f.Name])
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		if !strings.Contains(stdout.String(), "\n  "+dash+f.Name) {
			t.Errorf("the help lacks %s%s", dash, f.Name)
		}
		delete(grouped, f.Name)
	})
	for name := range grouped {
		t.Errorf("the help lists %s, which is no flag", name)
	}
}

func TestAnonymizeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := runContext(ctx, []string{"anonymize", groupJPG, plateJPG, "-o", out, "--metadata"}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if got := files(t, out); len(got) != 0 {
		t.Errorf("a cancelled run wrote %q", got)
	}
	if !strings.Contains(stderr.String(), "anonymized 0 of 2 files") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, 4, new(anonymizeConfig))
	r.tty, r.width = true, 200
	r.start = r.start.Add(-2 * time.Second)
	r.report(result{t: &task{src: "a.jpg"}, objects: 3})
	r.report(result{t: &task{src: "b.jpg"}, err: errors.New("veil: bad image: broken")})
	r.report(result{t: &task{src: "c.jpg"}, objects: 1})
	if code := r.finish(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	got := buf.String()
	for _, want := range []string{
		"\r[=======>                      ] 1/4 files  0.5 files/s  ETA 6s",
		"\r\x1b[Kveil: b.jpg: bad image: broken\n",
		"] 3/4 files  1.5 files/s  ETA 1s  1 failed",
		"\r\x1b[Kanonymized 2 of 4 files (1 failed, 1 not started), 4 objects, in 2.0s\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q:\n%q", want, got)
		}
	}
	if strings.Contains(got, "ok ") {
		t.Errorf("a line per file beside the bar: %q", got)
	}
}

// makeClip writes a 1 s, 25 fps, 320x240 video of street.jpg with a
// sine tone to name, encoded with the ffmpeg arguments codec. It skips
// the test when ffmpeg is missing.
func makeClip(t *testing.T, name string, codec ...string) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed (apt-get install ffmpeg)")
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i", streetJPG,
		"-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-vf", "scale=320:240,format=yuv420p", "-t", "1"}
	args = append(append(args, codec...), name)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

// checkVideo checks that name is an H.264 video of 320x240 with frames
// frames, all of which decode.
func checkVideo(t *testing.T, name string, frames int) {
	t.Helper()
	ctx := context.Background()
	info, err := video.Probe(ctx, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if info.Frames != frames || info.Width != 320 || info.Height != 240 || info.Codec != "h264" || info.AudioStreams != 1 {
		t.Errorf("%s: %+v, want %d frames of 320x240 H.264 and one audio stream", name, info, frames)
	}
	r, err := video.OpenReader(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: frame %d: %v", name, n, err)
		}
		n++
	}
	if n != frames {
		t.Errorf("%s: decoded %d frames, want %d", name, n, frames)
	}
}

// checkFrameMetadata checks that name holds the metadata of frames
// 0..frames-1, in order, and returns the number of detections.
func checkFrameMetadata(t *testing.T, name string, frames int) int {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var fs []struct {
		ID         int `json:"id"`
		Detections []struct {
			ParentImage int `json:"parent_image"`
		} `json:"detections"`
		Size [2]int `json:"size"`
	}
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(fs) != frames {
		t.Fatalf("%s: %d frames, want %d", name, len(fs), frames)
	}
	n := 0
	for k, f := range fs {
		if f.ID != k || f.Size != [2]int{240, 320} {
			t.Errorf("%s: frame %d: id %d, size %v", name, k, f.ID, f.Size)
		}
		for _, d := range f.Detections {
			if d.ParentImage != k {
				t.Errorf("%s: frame %d: a detection of parent_image %d", name, k, d.ParentImage)
			}
		}
		n += len(f.Detections)
	}
	return n
}

func TestAnonymizeVideo(t *testing.T) {
	in := t.TempDir()
	makeClip(t, filepath.Join(in, "clip.mp4"), "-c:v", "libx264", "-c:a", "aac")
	out := filepath.Join(t.TempDir(), "out")
	code, stderr := anonymizeInProcess(t, in, "-o", out, "--metadata", "-a", "face", "-a", "license-plate", "-a", "person", "-a", "vehicle")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if got, want := files(t, out), []string{"clip-0-24.json", "clip.mp4"}; !slices.Equal(got, want) {
		t.Fatalf("output files %q, want %q", got, want)
	}
	checkVideo(t, filepath.Join(out, "clip.mp4"), 25)
	if n := checkFrameMetadata(t, filepath.Join(out, "clip-0-24.json"), 25); n == 0 {
		t.Errorf("no object found in the street")
	}
	if !strings.Contains(stderr, "ok "+filepath.Join(in, "clip.mp4")+" (25 frames, ") || !strings.Contains(stderr, "anonymized 1 of 1 files") {
		t.Errorf("stderr %q", stderr)
	}

	// --method detect writes the metadata only; --save-mask is ignored.
	out2 := t.TempDir()
	code, stderr = anonymizeInProcess(t, "--method", "detect", "--save-mask", "all", filepath.Join(in, "clip.mp4"), "-o", out2, "-a", "person,vehicle")
	if code != 0 {
		t.Fatalf("detect: exit status %d: %s", code, stderr)
	}
	if got, want := files(t, out2), []string{"clip-0-24.json"}; !slices.Equal(got, want) {
		t.Fatalf("detect: output files %q, want %q", got, want)
	}
	checkFrameMetadata(t, filepath.Join(out2, "clip-0-24.json"), 25)
}

// TestAnonymizeVideoAVI checks that an .avi video becomes an .mp4 one,
// with the options of the Video group.
func TestAnonymizeVideoAVI(t *testing.T) {
	in := t.TempDir()
	makeClip(t, filepath.Join(in, "clip.AVI"), "-c:v", "mpeg4", "-c:a", "mp3")
	out := t.TempDir()
	code, stderr := anonymizeInProcess(t, filepath.Join(in, "clip.AVI"), "-o", out, "-q", "--keep-bit-rate", "--detect-every", "3")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if got, want := files(t, out), []string{"clip.mp4"}; !slices.Equal(got, want) {
		t.Fatalf("output files %q, want %q", got, want)
	}
	checkVideo(t, filepath.Join(out, "clip.mp4"), 25)
	if strings.Contains(stderr, "ok ") {
		t.Errorf("-q printed a line per file: %q", stderr)
	}
}

// TestAnonymizeVideoCorrupt checks that a corrupt video fails alone and
// leaves no output, not even one of an earlier run.
func TestAnonymizeVideoCorrupt(t *testing.T) {
	in := t.TempDir()
	makeClip(t, filepath.Join(in, "good.mp4"), "-c:v", "libx264", "-c:a", "aac")
	good, err := os.ReadFile(filepath.Join(in, "good.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(in, "bad.mp4"), good[:len(good)/2]) // truncated
	if err := os.Remove(filepath.Join(in, "good.mp4")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, plateJPG, filepath.Join(in, "plate.jpg"))
	out := t.TempDir()
	writeTestFile(t, filepath.Join(out, "bad.mp4"), good)
	writeTestFile(t, filepath.Join(out, "bad-0-24.json"), []byte("[]"))
	writeTestFile(t, filepath.Join(out, "bad-x-y.json"), []byte("not frame metadata"))
	code, stderr := anonymizeInProcess(t, in, "-o", out, "--metadata")
	if code != 1 {
		t.Fatalf("exit status %d, want 1: %s", code, stderr)
	}
	if got, want := files(t, out), []string{"bad-x-y.json", "plate.jpg", "plate.json"}; !slices.Equal(got, want) {
		t.Errorf("output files %q, want %q", got, want)
	}
	if !strings.Contains(stderr, "FAIL "+filepath.Join(in, "bad.mp4")+": ") || !strings.Contains(stderr, "anonymized 1 of 2 files (1 failed)") {
		t.Errorf("stderr %q", stderr)
	}
}

// TestAnonymizeVideoNoFFmpeg checks that a missing ffmpeg fails the
// videos with a clear message and still does the images.
func TestAnonymizeVideoNoFFmpeg(t *testing.T) {
	in := t.TempDir()
	writeTestFile(t, filepath.Join(in, "clip.mp4"), []byte("not looked at"))
	copyFile(t, plateJPG, filepath.Join(in, "plate.jpg"))
	out := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	code, stderr := anonymizeInProcess(t, in, "-o", out, "--metadata", "-q")
	if code != 1 {
		t.Fatalf("exit status %d, want 1: %s", code, stderr)
	}
	want := "veil: " + filepath.Join(in, "clip.mp4") + ": ffmpeg or ffprobe not found (install the ffmpeg package)\n"
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "anonymized 1 of 2 files (1 failed)") {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if got, want := files(t, out), []string{"plate.jpg", "plate.json"}; !slices.Equal(got, want) {
		t.Errorf("output files %q, want %q", got, want)
	}
}

// TestAnonymizeVideoCancelled checks that a video stopped half-way
// leaves no output.
func TestAnonymizeVideoCancelled(t *testing.T) {
	in := t.TempDir()
	makeClip(t, filepath.Join(in, "clip.mp4"), "-c:v", "libx264", "-c:a", "aac")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	cfg, err := parseAnonymize([]string{in, "-o", out, "--metadata"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := plan(cfg)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("plan: %v, %d tasks", err, len(tasks))
	}
	e, err := veil.New()
	if err != nil {
		t.Fatal(err)
	}
	a := &anonymizer{cfg: cfg, engine: e}
	_, _, err = a.doVideo(ctx, tasks[0], func(done, total int) {
		if done == 10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if got := files(t, out); len(got) != 0 {
		t.Errorf("a cancelled video left %q", got)
	}
}

func TestVideoProgress(t *testing.T) {
	var buf bytes.Buffer
	r := newReporter(&buf, 1, new(anonymizeConfig))
	r.tty, r.width = true, 200
	p := r.videoProgress("video.mp4")
	p(300, 300)
	if want := "\rvideo.mp4 [==============================] 300/300 frames  "; !strings.Contains(buf.String(), want) {
		t.Errorf("the output lacks %q:\n%q", want, buf.String())
	}
	r.quiet = true
	if r.videoProgress("video.mp4") != nil {
		t.Error("-q draws a video's progress")
	}
}

// TestIgnoresFileLimit checks that --ignores @FILE reads at most 1 MiB
// (issue 18: @/dev/zero grew to 24 GB).
func TestIgnoresFileLimit(t *testing.T) {
	dir := t.TempDir()
	regions := `[{"topLeftX": 10, "topLeftY": 20, "width": 30, "height": 40}]`
	pad := func(n int) []byte { return []byte(regions + strings.Repeat(" ", n-len(regions))) }
	full, over := filepath.Join(dir, "full.json"), filepath.Join(dir, "over.json")
	writeTestFile(t, full, pad(maxIgnoresFile))
	writeTestFile(t, over, pad(maxIgnoresFile+1))
	cfg, err := parseAnonymize([]string{"x.jpg", "-o", "o", "--ignores", "@" + full}, new(bytes.Buffer))
	if err != nil || !slices.Equal(cfg.params.Ignores, []image.Rectangle{image.Rect(10, 20, 40, 60)}) {
		t.Fatalf("a file of 1 MiB: %v", err)
	}
	names := []string{over}
	if _, err := os.Stat("/dev/zero"); err == nil {
		names = append(names, "/dev/zero")
	}
	for _, name := range names {
		var stderr bytes.Buffer
		if code := run([]string{"anonymize", groupJPG, "-o", filepath.Join(dir, "out"), "--ignores", "@" + name}, new(bytes.Buffer), &stderr); code != 2 {
			t.Errorf("--ignores @%s: exit status %d, want 2", name, code)
		}
		if msg := stderr.String(); !strings.Contains(msg, "-ignores") || !strings.Contains(msg, "is over 1048576 bytes") {
			t.Errorf("--ignores @%s: message %q", name, msg)
		}
	}
}

// TestFlagMessages checks what the CLI says of bad values: the reason,
// once ("want …, got …, got …" before), and one mask-scale rule (the
// server's: veil.ParseMaskScale).
func TestFlagMessages(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", `{"number":[0,1]}`}, `-format: "number" must be two positive integers, got [0,1]` + "\n"},
		{[]string{"--ignores", `[{"topLeftX":1,"topLeftY":1,"width":0,"height":1}]`}, "-ignores: region 1: width and height must be positive, got 0x1\n"},
		{[]string{"--method", "smear"}, "-method: want blur, pixelate, blacken or detect\n"},
		{[]string{"--mask-scale", "0"}, "-mask-scale: want an integer percent in 1..100\n"},
		{[]string{"--mask-scale", "101"}, "-mask-scale: want an integer percent in 1..100\n"},
	} {
		var stderr bytes.Buffer
		args := append([]string{"anonymize", groupJPG, "-o", filepath.Join(t.TempDir(), "out")}, tc.args...)
		if code := run(args, new(bytes.Buffer), &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tc.args, code)
		}
		if msg := stderr.String(); !strings.Contains(msg, tc.want) || strings.Count(msg, "got") > 1 {
			t.Errorf("%q: message %q, want one saying %q", tc.args, msg, tc.want)
		}
	}
	cfg, err := parseAnonymize([]string{"x.jpg", "-o", "o", "--mask-scale", " 25 "}, new(bytes.Buffer))
	if err != nil || cfg.maskScale != 25 {
		t.Errorf("--mask-scale 25: %v", err)
	}
}

// TestRemoveLeftovers checks that the temporary files of an interrupted
// run are removed from the output folders: this run's outputs' always,
// the others' when they are old; and nothing else.
func TestRemoveLeftovers(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	tasks := []*task{
		{img: filepath.Join(dir, "group.jpg"), meta: filepath.Join(dir, "group.json")},
		{img: filepath.Join(sub, "clip.mp4"), video: true},
		{src: "missing.jpg", err: os.ErrNotExist},
	}
	now := time.Now()
	old := now.Add(-time.Hour)
	for _, f := range []struct {
		name string
		old  bool
	}{
		{".group.jpg.tmp123", false}, {".group.json.tmp9", false}, {"sub/.clip.mp4.tmp55.mp4", false},
		{".old.jpg.tmp1", true}, {"sub/.clip-0-499.json.tmp77", true},
		{".recent.jpg.tmp2", false}, {".group.jpg.tmp", true}, {"group.jpg.tmp3", true},
		{".group.jpg.tmp4x", true}, {".notes", true}, {"sub/.clip.mp4.tmp5.mkv", true}, {"group.jpg", false},
	} {
		name := filepath.Join(dir, filepath.FromSlash(f.name))
		writeTestFile(t, name, []byte("half-written"))
		if f.old {
			if err := os.Chtimes(name, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".old2.jpg.tmp8"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, ".old2.jpg.tmp8"), old, old)
	var log bytes.Buffer
	removeLeftovers(tasks, now, &log)
	want := []string{".group.jpg.tmp", ".group.jpg.tmp4x", ".notes", ".recent.jpg.tmp2", "group.jpg", "group.jpg.tmp3", "sub/.clip.mp4.tmp5.mkv"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".old2.jpg.tmp8")); err != nil {
		t.Errorf("a folder was removed: %v", err)
	}
	for _, f := range []string{".group.jpg.tmp123", ".group.json.tmp9", "sub/.clip.mp4.tmp55.mp4", ".old.jpg.tmp1", "sub/.clip-0-499.json.tmp77"} {
		if line := "veil: removed " + filepath.Join(dir, filepath.FromSlash(f)) + ", a temporary file left by an interrupted run\n"; !strings.Contains(log.String(), line) {
			t.Errorf("log %q does not say %q", log.String(), line)
		}
	}
	if n := strings.Count(log.String(), "\n"); n != 5 {
		t.Errorf("log of %d lines, want 5: %q", n, log.String())
	}
}

// TestAnonymizeRemovesLeftovers checks that a run removes the temporary
// file a veil killed while writing its output left (issue 18).
func TestAnonymizeRemovesLeftovers(t *testing.T) {
	out := t.TempDir()
	leftover := filepath.Join(out, ".plate.json.tmp4242")
	writeTestFile(t, leftover, []byte("half-written"))
	code, stderr := anonymizeInProcess(t, "--method", "detect", plateJPG, "-o", out)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if got := files(t, out); !slices.Equal(got, []string{"plate.json"}) {
		t.Errorf("output files %q, want plate.json alone", got)
	}
	if !strings.Contains(stderr, "removed "+leftover) {
		t.Errorf("stderr %q does not say the leftover was removed", stderr)
	}
}
