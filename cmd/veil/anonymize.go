package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/atomicfile"
	"github.com/veilkit/veil/metadata"
	"github.com/veilkit/veil/video"
)

const anonymizeUsageLine = "veil anonymize [flags] INPUT... -o OUT"

const anonymizeDescription = `
Anonymize finds faces and licence plates (or persons and vehicles: see -a) in
JPEG and PNG images and in videos and blurs, pixelates or blackens them.

INPUTs are image and video files and folders; folders are searched recursively
for .jpg, .jpeg and .png images and .mp4, .m4v, .mov, .mkv, .avi and .webm
videos. The anonymized files go to the folder OUT under their input names, the
files of a folder keeping their paths relative to it; the originals are never
changed. An OUT inside an input folder is not searched. Flags may come before,
between and after the INPUTs.

Videos need ffmpeg and ffprobe (the ffmpeg package). They are written as H.264
with their audio unchanged: .avi and .webm videos become .mp4 files, the others
keep their container. Videos are done one at a time, after the images.

A file that fails for any reason gets no output file (an output left by an
earlier run is removed) and the other files are still done. The exit status
is 0 when every file was done, 1 when any failed and 2 for a bad command line.

Examples:
  veil anonymize photos -o anonymized
  veil anonymize -a face,person --method pixelate a.jpg b.png -o out
  veil anonymize --method detect photos -o detections   (metadata JSON only)
  veil anonymize --metadata --detect-every 2 clip.mp4 -o out
`

// anonymizeGroups lists the flags of anonymize by topic, for the help.
var anonymizeGroups = []struct {
	title string
	flags []string
}{
	{"What to anonymize", []string{"a", "face-threshold", "license-plate-threshold",
		"person-threshold", "vehicle-threshold", "no-heads", "format", "ignores"}},
	{"How to anonymize", []string{"method", "bbox", "kernel-size-face", "kernel-size-license-plate",
		"kernel-size-person", "kernel-size-vehicle",
		"face-anonymization-gradient-start", "face-anonymization-gradient-stop",
		"license-plate-anonymization-gradient-start", "license-plate-anonymization-gradient-stop",
		"debug", "score"}},
	{"Output", []string{"o", "output-format", "quality", "compress-level", "metadata", "metadata-rle", "save-mask", "mask-scale", "keep-exif"}},
	{"Video", []string{"no-object-tracking", "keep-bit-rate", "detect-every"}},
	{"Running", []string{"j", "threads", "backend", "device", "q"}},
}

// anonymizeConfig is the parsed command line of anonymize.
type anonymizeConfig struct {
	params    veil.Params
	inputs    []string
	out       string
	outFormat string // "" (the input's format), "jpeg" or "png"
	quality   int
	compress  int // EncodeOptions.CompressLevel: 1..9 or veil.NoCompression
	metadata  bool
	rle       string // veil.MetadataOptions.RLE
	saveMask  string // "", "all", "binary" or "instance"
	maskScale int
	keepEXIF  bool
	video     veil.VideoOptions // NoObjectTracking, KeepBitRate, DetectEvery
	jobs      int               // 0: the number of CPUs
	threads   int               // 0: NumCPU / jobs
	backend   backendFlags
	quiet     bool
}

// newAnonymizeFlags returns the flag set of anonymize, writing into cfg,
// and a function to call after parsing that completes cfg from the flags
// that were set.
func newAnonymizeFlags(cfg *anonymizeConfig) (*flag.FlagSet, func(*flag.FlagSet)) {
	fs := flag.NewFlagSet("anonymize", flag.ContinueOnError)
	p := &cfg.params

	p.Classes = []veil.Class{veil.Face, veil.LicensePlate}
	fs.Var(&classesValue{list: &p.Classes}, "a",
		"anonymize objects of `class` face, license-plate, person or vehicle;\n"+
			"repeat the flag or separate classes with commas")
	for _, t := range []struct{ name, what, def string }{
		{"face-threshold", "faces", fmt.Sprint(veil.DefaultFaceThreshold)},
		{"license-plate-threshold", "licence plates", fmt.Sprint(veil.DefaultLicensePlateThreshold)},
		{"person-threshold", "persons", fmt.Sprint(veil.DefaultPersonThreshold)},
		{"vehicle-threshold", "vehicles", fmt.Sprint(veil.DefaultVehicleThreshold)},
	} {
		fs.Var(paramValue{p, t.name, t.def}, t.name, "lowest detection `score` (0 ≤ score ≤ 1; 0: every candidate, down to veil.MinThreshold) of "+t.what)
	}
	p.Format = "whole"
	fs.Var(paramValue{p, "format", "whole"}, "format",
		"`tiling` of the images: whole; pano:N for equirectangular panoramas N pixels\n"+
			`wide; or {"number":[nx,ny],"overlap":[ox,oy]}: nx×ny tiles, neighbours sharing`+"\n"+
			"the fractions ox, oy of a tile")
	fs.Var(&ignoresValue{p: p}, "ignores",
		"`regions` where nothing is anonymized, in image pixels: a JSON array such as\n"+
			`[{"topLeftX":182,"topLeftY":154,"width":2000,"height":2000}], or @FILE to`+"\n"+
			"read it from FILE (the objects in them are still reported in the metadata)")

	fs.Var(paramValue{p, "method", "blur"}, "method",
		"how to hide the objects (`method`): blur, pixelate or blacken; or detect,\n"+
			"which writes only the metadata JSON (as --metadata) and no image or video")
	fs.BoolVar(&p.BBox, "bbox", false, "anonymize the bounding boxes instead of the objects' shapes")
	fs.BoolVar(&p.NoHeads, "no-heads", false, "turn off the head backstop: without it, a person found whose head holds no\nface found gets its head region anonymized as a face (label \"head\")")
	for _, k := range []struct{ name, def, usage string }{
		{"kernel-size-face", fmt.Sprint(veil.DefaultKernelSizeFace),
			"blur kernel `size` of faces, relative to the face's larger side"},
		{"kernel-size-license-plate", fmt.Sprint(veil.DefaultKernelSizeLicensePlate),
			"blur kernel `size` of licence plates, relative to the plate's larger side"},
		{"kernel-size-person", fmt.Sprint(veil.DefaultKernelSizePerson),
			"blur kernel `size` of persons, in pixels"},
		{"kernel-size-vehicle", fmt.Sprint(veil.DefaultKernelSizeVehicle),
			"blur kernel `size` of vehicles, in pixels"},
	} {
		fs.Var(paramValue{p, k.name, k.def}, k.name, k.usage)
	}
	for _, g := range []struct{ class, what string }{{"face", "faces"}, {"license-plate", "licence plates"}} {
		fs.Var(paramValue{p, g.class + "-anonymization-gradient-start", fmt.Sprint(veil.DefaultGradient.Start)},
			g.class+"-anonymization-gradient-start",
			"soft edge of "+g.what+": anonymization fades out to the object grown by\n`fraction` × its size on each side (0 to 2)")
		fs.Var(paramValue{p, g.class + "-anonymization-gradient-stop", fmt.Sprint(veil.DefaultGradient.Stop)},
			g.class+"-anonymization-gradient-stop",
			"soft edge of "+g.what+": full anonymization inside the object shrunk by\n`fraction` × its size on each side (0 to 0.5)")
	}
	fs.BoolVar(&p.Debug, "debug", false, "draw the boxes (and plate corners, face landmarks) on the output")
	fs.BoolVar(&p.Score, "score", false, "with --debug, write each object's class and score beside its box")

	fs.StringVar(&cfg.out, "o", "", "write the outputs to the folder `OUT` (created if needed; required)")
	fs.Var(outFormatValue{&cfg.outFormat}, "output-format",
		"write the images as `format` jpeg or png, changing their extensions\n(default: each input's format)")
	cfg.quality = veil.DefaultQuality
	fs.Var(&intValue{v: &cfg.quality, lo: 1, hi: 100}, "quality", "JPEG `quality`, 1..100")
	compress := veil.DefaultCompressLevel
	fs.Var(&intValue{v: &compress, lo: 0, hi: 9}, "compress-level", "PNG compression `level`, 0 (none) .. 9 (smallest)")
	fs.BoolVar(&cfg.metadata, "metadata", false, "write the objects found in NAME.jpg to NAME.json beside it, as Celantur\n"+
		"metadata JSON; for a video NAME.mp4, the frames' objects to NAME-0-499.json,\n"+
		"NAME-500-999.json, … (at most 500 frames a file)")
	fs.Var(choiceValue{&cfg.rle, []string{"coco", "runs"}}, "metadata-rle",
		"add each object's mask to the metadata JSON (implies --metadata) as run-length\n`form` coco (COCO RLE, compressed string) or runs ([start, length, …] of\nrow-major pixel indices)")
	fs.Var(choiceValue{&cfg.saveMask, []string{"all", "binary", "instance"}}, "save-mask",
		"also write the `masks` all, binary or instance beside each output image:\nNAME_bin_mask.png (white = anonymized) and NAME_ins_mask.png (G = instance id,\nB = type flags: person 128, license-plate 64, face 32, vehicle 16);\nimages only: videos get no masks")
	cfg.maskScale = veil.DefaultMaskScale
	fs.Var(maskScaleValue{&cfg.maskScale}, "mask-scale", "write the masks at `percent` of the image's size, 1..100")
	fs.BoolVar(&cfg.keepEXIF, "keep-exif", false,
		"keep the JPEG's EXIF metadata without its GPS data and thumbnail\n(default: write no metadata of the original)")

	fs.BoolVar(&cfg.video.NoObjectTracking, "no-object-tracking", false,
		"anonymize each video frame by its own detections only (default: track the\n"+
			"objects, so that one the detector misses for a few frames stays anonymized)")
	fs.BoolVar(&cfg.video.KeepBitRate, "keep-bit-rate", false,
		"encode videos at about the source's bit rate (default: a fixed quality,\nH.264 CRF 18)")
	cfg.video.DetectEvery = 1
	fs.Var(&intValue{v: &cfg.video.DetectEvery, lo: 1, hi: 1 << 16}, "detect-every",
		"run the detectors on every `N`-th video frame only, the tracker carrying the\n"+
			"objects over the frames between (N > 1 needs object tracking)")

	fs.Var(&intValue{v: &cfg.jobs, lo: 1, hi: 1 << 16}, "j",
		"anonymize `N` images at a time\n(default: the number of CPUs, at most the number of images)")
	fs.Var(&intValue{v: &cfg.threads, lo: 1, hi: 1 << 16}, "threads",
		"run each model on `N` goroutines (default: the number of CPUs / -j, at least 1)")
	cfg.backend.register(fs)
	fs.BoolVar(&cfg.quiet, "q", false, "quiet: no line per file and no progress bar (errors and the summary are\nstill printed)")

	finish := func(fs *flag.FlagSet) {
		cfg.compress = compress
		if compress == 0 {
			cfg.compress = veil.NoCompression
		}
		if p.Method == veil.DetectOnly || cfg.rle != "" {
			cfg.metadata = true
		}
	}
	return fs, finish
}

// printAnonymizeUsage writes the help of anonymize: the usage line, the
// description and the flags by group, with their defaults.
func printAnonymizeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n%s", anonymizeUsageLine, anonymizeDescription)
	for _, g := range anonymizeGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.flags {
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			arg, usage := flag.UnquoteUsage(f)
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			line := "  " + dash + f.Name
			if arg != "" {
				line += " " + arg
			}
			fmt.Fprintln(w, line)
			if f.DefValue != "" && f.DefValue != "false" && !strings.Contains(usage, "(default") {
				usage += " (default " + f.DefValue + ")"
			}
			for l := range strings.SplitSeq(usage, "\n") {
				fmt.Fprintf(w, "        %s\n", l)
			}
		}
	}
}

// parseAnonymize parses the command line of anonymize. Flags and inputs
// may be interspersed; after "--" everything is an input.
func parseAnonymize(args []string, stdout io.Writer) (*anonymizeConfig, error) {
	cfg := new(anonymizeConfig)
	fs, finish := newAnonymizeFlags(cfg)
	fs.Usage = func() { printAnonymizeUsage(fs.Output(), fs) }
	rest := args
	for {
		if err := parseFlags(fs, rest, stdout); err != nil {
			return nil, err
		}
		used := len(rest) - fs.NArg()
		rest = fs.Args()
		if used > 0 && args[len(args)-len(rest)-1] == "--" {
			cfg.inputs = append(cfg.inputs, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		cfg.inputs = append(cfg.inputs, rest[0])
		rest = rest[1:]
	}
	finish(fs)
	switch {
	case len(cfg.inputs) == 0:
		return nil, &usageError{"anonymize", errors.New("no inputs given")}
	case cfg.out == "":
		return nil, &usageError{"anonymize", errors.New("no output folder given (-o OUT)")}
	case cfg.video.DetectEvery > 1 && cfg.video.NoObjectTracking:
		return nil, &usageError{"anonymize", errors.New("--detect-every N > 1 needs object tracking: drop --no-object-tracking")}
	}
	if err := cfg.backend.check(); err != nil {
		return nil, &usageError{"anonymize", err}
	}
	return cfg, nil
}

// A task is one image or video file to anonymize.
type task struct {
	src    string // the file, as named or found in a named folder
	canon  string // its absolute path with symbolic links resolved
	rel    string // its output path relative to OUT (input extension)
	video  bool   // a video, not an image
	img    string // its output image or video
	meta   string // its metadata JSON, "" when none is written (images)
	frames bool   // its frame metadata files are written (videos)
	bin    string // its binary mask, "" when none is written
	ins    string // its instance mask, "" when none is written
	err    error  // why it cannot be done at all
}

// isImageName reports whether name has the extension of an image veil
// anonymizes.
func isImageName(name string) bool {
	return extFormat(name) != ""
}

// isVideoName reports whether name has the extension of a video veil
// anonymizes.
func isVideoName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm":
		return true
	}
	return false
}

// videoOutName returns the output name of the video name: .avi and .webm
// cannot hold H.264 and become .mp4; the others keep their extension.
func videoOutName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".avi", ".webm":
		return strings.TrimSuffix(name, filepath.Ext(name)) + ".mp4"
	}
	return name
}

// extFormat returns the image format that name's extension stands for:
// "jpeg", "png" or "".
func extFormat(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg":
		return "jpeg"
	case ".png":
		return "png"
	}
	return ""
}

// canonical returns the absolute form of path with the symbolic links of
// its longest existing prefix resolved.
func canonical(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	var tail []string
	for p := abs; ; {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, tail...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs
		}
		tail = append([]string{filepath.Base(p)}, tail...)
		p = parent
	}
}

// plan lists the files of cfg.inputs with their outputs. A file that
// cannot be done gets its error in its task. Outputs that would
// overwrite an input, or that two inputs would share, are a usage error.
func plan(cfg *anonymizeConfig) ([]*task, error) {
	outCanon := canonical(cfg.out)
	outInfo, err := os.Stat(cfg.out)
	if err == nil && !outInfo.IsDir() {
		return nil, &usageError{"anonymize", fmt.Errorf("output %s is not a folder", cfg.out)}
	}
	if err != nil {
		outInfo = nil
	}
	isOut := func(canon, path string) bool {
		if canon == outCanon {
			return true
		}
		if outInfo == nil {
			return false
		}
		info, err := os.Stat(path)
		return err == nil && os.SameFile(info, outInfo)
	}
	var tasks []*task
	for _, in := range cfg.inputs {
		info, err := os.Stat(in)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			tasks = append(tasks, &task{src: in, err: err})
			continue
		}
		if !info.IsDir() {
			if !isImageName(in) && !isVideoName(in) {
				tasks = append(tasks, &task{src: in, err: errors.New("not an image or video: want a .jpg, .jpeg, .png, .mp4, .m4v, .mov, .mkv, .avi or .webm file")})
				continue
			}
			tasks = append(tasks, &task{src: in, canon: canonical(in), rel: filepath.Base(in), video: isVideoName(in)})
			continue
		}
		root := canonical(in)
		if isOut(root, in) {
			return nil, &usageError{"anonymize", fmt.Errorf("output folder %s is the input folder %s: that would overwrite the originals", cfg.out, in)}
		}
		walk := in
		if li, err := os.Lstat(in); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			walk += string(filepath.Separator) // WalkDir does not follow a link it starts at
		}
		filepath.WalkDir(walk, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				tasks = append(tasks, &task{src: path, err: err})
				return nil
			}
			rel, _ := filepath.Rel(walk, path)
			canon := filepath.Join(root, rel)
			if d.IsDir() {
				if rel != "." && isOut(canon, path) {
					return filepath.SkipDir // OUT inside the input folder: not an input
				}
				return nil
			}
			if isImageName(d.Name()) || isVideoName(d.Name()) {
				tasks = append(tasks, &task{src: path, canon: canon, rel: rel, video: isVideoName(d.Name())})
			}
			return nil
		})
	}

	inputs := make(map[string]*task)
	for _, t := range tasks {
		if t.err == nil {
			inputs[t.canon] = t
		}
	}
	writeImage := cfg.params.Method != veil.DetectOnly
	outputs := make(map[string]*task) // canonical output path → its task
	kept := tasks[:0]
	for _, t := range tasks {
		if t.err != nil {
			kept = append(kept, t)
			continue
		}
		name := t.rel
		if t.video {
			name = videoOutName(name)
		} else if f := extFormat(name); cfg.outFormat != "" && f != cfg.outFormat {
			ext := ".jpg"
			if cfg.outFormat == "png" {
				ext = ".png"
			}
			name = strings.TrimSuffix(name, filepath.Ext(name)) + ext
		}
		t.img = filepath.Join(cfg.out, name)
		var mine []string // canonical paths of the outputs
		if writeImage {
			mine = append(mine, filepath.Join(outCanon, name))
		}
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		switch {
		case cfg.metadata && t.video:
			// NAME-START-END.json: the frame count is not known yet.
			t.frames = true
			mine = append(mine, filepath.Join(outCanon, stem+"-START-END.json"))
		case cfg.metadata:
			t.meta = filepath.Join(cfg.out, stem+".json")
			mine = append(mine, filepath.Join(outCanon, stem+".json"))
		}
		// --save-mask does not apply to videos.
		if !t.video && (cfg.saveMask == "all" || cfg.saveMask == "binary") {
			t.bin = filepath.Join(cfg.out, stem+"_bin_mask.png")
			mine = append(mine, filepath.Join(outCanon, stem+"_bin_mask.png"))
		}
		if !t.video && (cfg.saveMask == "all" || cfg.saveMask == "instance") {
			t.ins = filepath.Join(cfg.out, stem+"_ins_mask.png")
			mine = append(mine, filepath.Join(outCanon, stem+"_ins_mask.png"))
		}
		dup := false
		for _, o := range mine {
			if in := inputs[o]; in != nil {
				return nil, &usageError{"anonymize", fmt.Errorf("the output of %s would overwrite the input %s", t.src, in.src)}
			}
			other := outputs[o]
			switch {
			case other == nil:
				outputs[o] = t
			case other.canon == t.canon:
				dup = true // the same file named twice
			default:
				return nil, &usageError{"anonymize", fmt.Errorf("%s and %s would both be written to %s", other.src, t.src, o)}
			}
		}
		if !dup {
			kept = append(kept, t)
		}
	}
	return kept, nil
}

// anonymizer does the files.
type anonymizer struct {
	cfg    *anonymizeConfig
	engine *veil.Engine
}

// do anonymizes one file and returns the number of objects found. On
// error no output of t is left: privacy fails closed.
func (a *anonymizer) do(ctx context.Context, t *task) (int, error) {
	n, err := a.write(ctx, t)
	if err != nil {
		// An output of an earlier run would look like this run's.
		if a.cfg.params.Method != veil.DetectOnly {
			os.Remove(t.img)
		}
		for _, f := range []string{t.meta, t.bin, t.ins} {
			if f != "" {
				os.Remove(f)
			}
		}
	}
	return n, err
}

func (a *anonymizer) write(ctx context.Context, t *task) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	src, err := veil.DecodeSourceFile(t.src)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	var res *veil.Result
	if a.cfg.params.Method == veil.DetectOnly && (t.bin != "" || t.ins != "" || a.cfg.rle != "") {
		res, err = a.engine.Masks(ctx, src.Image, a.cfg.params)
	} else {
		res, err = a.engine.Anonymize(ctx, src.Image, a.cfg.params)
	}
	if err != nil {
		return 0, err
	}
	took := time.Since(t0)

	// Every output is made in memory before any is written.
	var outs []output
	if a.cfg.params.Method != veil.DetectOnly {
		format := a.cfg.outFormat
		if format == "" {
			format = src.Format
			if format != "jpeg" && format != "png" {
				format = extFormat(t.src)
			}
		}
		o := veil.EncodeOptions{Format: format, Quality: a.cfg.quality, CompressLevel: a.cfg.compress}
		if a.cfg.keepEXIF {
			o.EXIF = src.EXIF
		}
		var b bytes.Buffer
		if err := veil.Encode(&b, res.Image, o); err != nil {
			return 0, err
		}
		outs = append(outs, output{t.img, b.Bytes()})
	}
	if t.meta != "" {
		m, err := veil.Metadata(t.src, res, took, veil.MetadataOptions{Colors: a.cfg.params.Debug, RLE: a.cfg.rle})
		if err != nil {
			return 0, err
		}
		var b bytes.Buffer
		if err := metadata.Encode(&b, m); err != nil {
			return 0, err
		}
		outs = append(outs, output{t.meta, b.Bytes()})
	}
	// maskPNG adds a mask rendered by render as a PNG output named name.
	maskPNG := func(name string, render func(scale int) (image.Image, error)) error {
		if name == "" {
			return nil
		}
		m, err := render(a.cfg.maskScale)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := veil.Encode(&b, m, veil.EncodeOptions{Format: "png"}); err != nil {
			return err
		}
		outs = append(outs, output{name, b.Bytes()})
		return nil
	}
	if err := maskPNG(t.bin, func(s int) (image.Image, error) { return res.BinaryMask(s) }); err != nil {
		return 0, err
	}
	if err := maskPNG(t.ins, func(s int) (image.Image, error) { return res.InstanceMask(s) }); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(t.img), 0o755); err != nil {
		return 0, err
	}
	// The anonymized image last: when it exists, its companions do.
	for k := len(outs) - 1; k >= 0; k-- {
		if err := writeFile(outs[k].name, outs[k].data); err != nil {
			return 0, err
		}
	}
	return len(res.Objects), nil
}

// doVideo anonymizes the video of t, calling progress (if not nil) after
// each frame, and returns its numbers of frames and objects. On error no
// output of t is left: privacy fails closed.
func (a *anonymizer) doVideo(ctx context.Context, t *task, progress func(done, total int)) (frames, objects int, err error) {
	var written []string
	defer func() {
		if err == nil {
			return
		}
		// AnonymizeVideo leaves no new video on error, but an output of
		// an earlier run would look like this run's.
		if a.cfg.params.Method != veil.DetectOnly {
			os.Remove(t.img)
		}
		for _, f := range written {
			os.Remove(f)
		}
		if t.frames {
			removeFrameMetadata(t.img)
		}
		// "veil: video: video: ffmpeg or ffprobe not found …" says less
		// than the message of the error alone.
		if errors.Is(err, video.ErrNoFFmpeg) {
			err = &reworded{strings.TrimPrefix(video.ErrNoFFmpeg.Error(), "video: "), err}
		} else if errors.Is(err, veil.ErrVideo) {
			err = &reworded{strings.TrimPrefix(err.Error(), veil.ErrVideo.Error()+": "), err}
		}
	}()
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(filepath.Dir(t.img), 0o755); err != nil {
		return 0, 0, err
	}
	o := a.cfg.video
	o.Metadata = veil.MetadataOptions{Colors: a.cfg.params.Debug, RLE: a.cfg.rle}
	o.Progress = progress
	dst := t.img
	if a.cfg.params.Method == veil.DetectOnly {
		dst = ""
	}
	res, err := a.engine.AnonymizeVideo(ctx, t.src, dst, a.cfg.params, o)
	if err != nil {
		return 0, 0, err
	}
	if t.frames {
		written, err = res.WriteFrameMetadata(filepath.Dir(t.img), filepath.Base(t.img))
		if err != nil {
			return 0, 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	// An object is a track, or a detection of a frame with tracking off.
	tracks := make(map[int]bool)
	for _, f := range res.Frames {
		for _, d := range f.Detections {
			if d.TrackID > 0 {
				tracks[d.TrackID] = true
			} else {
				objects++
			}
		}
	}
	return len(res.Frames), objects + len(tracks), nil
}

// reworded is an error with a clearer message.
type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// removeFrameMetadata removes the frame metadata files NAME-START-END.json
// of the video name, which an earlier run may have left.
func removeFrameMetadata(name string) {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	matches, _ := filepath.Glob(escapeGlob(stem) + "-*-*.json")
	for _, m := range matches {
		var start, end int
		mid := strings.TrimSuffix(strings.TrimPrefix(m, stem+"-"), ".json")
		if _, err := fmt.Sscanf(mid, "%d-%d", &start, &end); err == nil &&
			filepath.Base(m) == metadata.FramesFileName(filepath.Base(name), start, end) {
			os.Remove(m)
		}
	}
}

// escapeGlob quotes the pattern characters of s for filepath.Glob.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) && filepath.Separator != '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// output is one file of a task, made in memory.
type output struct {
	name string
	data []byte
}

// writeFile writes data to name atomically: no half-written file, and no
// temporary file left on error.
func writeFile(name string, data []byte) error {
	return atomicfile.WriteFile(name, 0o666, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// leftoverAge is how old a temporary file must be for removeLeftovers to
// take it for a leftover when it is not one of this run's: younger, it may
// be another veil's at work in the same folder.
const leftoverAge = 10 * time.Minute

// removeLeftovers removes, from the folders the tasks write to, the
// temporary files that a veil killed while writing leaves behind (they may
// hold a half-written output): those of the outputs of this run, and the
// others' that are at least leftoverAge old at now. Only names of the
// form writeFile (atomicfile.WriteFile) gives temporary files, ".NAME.tmp"
// and digits, and AnonymizeVideo's (the same, then NAME's extension) are
// removed. Each removal is logged on w.
func removeLeftovers(tasks []*task, now time.Time, w io.Writer) {
	ours := make(map[string]bool) // the outputs
	var dirs []string
	for _, t := range tasks {
		if t.err != nil {
			continue
		}
		for _, f := range []string{t.img, t.meta, t.bin, t.ins} {
			if f == "" {
				continue
			}
			ours[f] = true
			if d := filepath.Dir(f); !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // not made yet
		}
		for _, e := range entries {
			name, ok := leftoverOf(e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			if !ours[filepath.Join(dir, name)] {
				info, err := e.Info()
				if err != nil || now.Sub(info.ModTime()) < leftoverAge {
					continue
				}
			}
			f := filepath.Join(dir, e.Name())
			if err := os.Remove(f); err == nil {
				fmt.Fprintf(w, "veil: removed %s, a temporary file left by an interrupted run\n", f)
			}
		}
	}
}

// leftoverOf reports whether base is the name of a temporary file of
// writeFile or AnonymizeVideo, and returns the name of the file it was
// to become.
func leftoverOf(base string) (name string, ok bool) {
	if name, ok := atomicfile.TempFor(base); ok {
		return name, true
	}
	// A video's: ".NAME.tmpDIGITS.EXT", EXT NAME's extension.
	ext := filepath.Ext(base)
	if name, ok := atomicfile.TempFor(strings.TrimSuffix(base, ext)); ok && ext != "" && filepath.Ext(name) == ext {
		return name, true
	}
	return "", false
}

// result is what became of a task.
type result struct {
	t       *task
	frames  int // of a video
	objects int
	took    time.Duration
	err     error
}

func runAnonymize(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseAnonymize(args, stdout)
	if err != nil {
		return exitStatus(err, stderr)
	}
	tasks, err := plan(cfg)
	if err != nil {
		return exitStatus(err, stderr)
	}
	rep := newReporter(stderr, len(tasks), cfg)
	if len(tasks) == 0 {
		fmt.Fprintln(stderr, "veil: no images or videos in", strings.Join(cfg.inputs, " "))
		return exitOK
	}
	var images, videos []*task
	for _, t := range tasks {
		switch {
		case t.err != nil:
			rep.report(result{t: t, err: t.err})
		case t.video:
			videos = append(videos, t)
		default:
			images = append(images, t)
		}
	}
	if len(images)+len(videos) == 0 {
		return rep.finish()
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return exitStatus(err, stderr)
	}
	removeLeftovers(tasks, time.Now(), stderr)
	backend, err := cfg.backend.option(stderr)
	if err != nil {
		return exitStatus(err, stderr)
	}
	var imageEngine *veil.Engine
	imageThreads := 0
	if len(images) > 0 {
		workers := cfg.jobs
		if workers == 0 {
			workers = runtime.NumCPU()
		}
		workers = max(1, min(workers, len(images)))
		threads := cfg.threads
		if threads == 0 {
			threads = max(1, runtime.NumCPU()/workers)
		}
		e, err := veil.New(veil.WithThreads(threads), backend)
		if err != nil {
			return exitStatus(err, stderr)
		}
		imageEngine, imageThreads = e, threads
		a := &anonymizer{cfg: cfg, engine: e}
		rep.wait(a.run(ctx, images, workers))
	}
	if len(videos) > 0 {
		// One video at a time, on all the threads.
		threads := cfg.threads
		if threads == 0 {
			threads = max(1, runtime.NumCPU())
		}
		e := imageEngine
		if threads != imageThreads {
			var err error
			if e, err = veil.New(veil.WithThreads(threads), backend); err != nil {
				return exitStatus(err, stderr)
			}
		}
		a := &anonymizer{cfg: cfg, engine: e}
		for _, t := range videos {
			if ctx.Err() != nil {
				break // the rest are not started
			}
			t0 := time.Now()
			frames, n, err := a.doVideo(ctx, t, rep.videoProgress(t.src))
			rep.report(result{t: t, frames: frames, objects: n, took: time.Since(t0), err: err})
		}
	}
	return rep.finish()
}

// run anonymizes tasks on workers goroutines and sends the results on
// the channel it returns, which it closes when done. Once ctx is done no
// task is started.
func (a *anonymizer) run(ctx context.Context, tasks []*task, workers int) <-chan result {
	work := make(chan *task)
	results := make(chan result)
	go func() {
		defer close(work)
		for _, t := range tasks {
			select {
			case work <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for t := range work {
				t0 := time.Now()
				n, err := a.do(ctx, t)
				results <- result{t: t, objects: n, took: time.Since(t0), err: err}
			}
		}()
	}
	go func() {
		for range workers {
			<-done
		}
		close(results)
	}()
	return results
}

// reporter prints the progress: a line per file, or a progress bar
// redrawn in place when w is a terminal, and the summary.
type reporter struct {
	mu                 sync.Mutex // guards w against a video's progress
	w                  io.Writer
	tty, quiet         bool
	verb               string
	total              int
	done, failed, objs int
	start              time.Time
	drawn              bool // a progress bar is on the screen
	width              int  // of the terminal, 0 if unknown
	tick               time.Duration
}

func newReporter(w io.Writer, total int, cfg *anonymizeConfig) *reporter {
	r := &reporter{w: w, quiet: cfg.quiet, total: total, start: time.Now(), verb: "anonymized", tick: time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = true
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			r.width = w
		}
	}
	if cfg.params.Method == veil.DetectOnly {
		r.verb = "processed"
	}
	return r
}

// report prints what became of one file.
func (r *reporter) report(res result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	if res.err != nil {
		r.failed++
	} else {
		r.objs += res.objects
	}
	var msg string
	if res.err != nil {
		// The engine's errors start with "veil: " too.
		msg = strings.TrimPrefix(res.err.Error(), "veil: ")
	}
	switch {
	case r.tty:
		if res.err != nil {
			r.clear()
			fmt.Fprintf(r.w, "veil: %s: %s\n", res.t.src, msg)
		}
		r.bar()
	case res.err != nil && r.quiet:
		fmt.Fprintf(r.w, "veil: %s: %s\n", res.t.src, msg)
	case res.err != nil:
		fmt.Fprintf(r.w, "FAIL %s: %s\n", res.t.src, msg)
	case !r.quiet && res.t.video:
		fmt.Fprintf(r.w, "ok %s (%s, %s, %.1fs)\n", res.t.src, plural(res.frames, "frame"), plural(res.objects, "object"), res.took.Seconds())
	case !r.quiet:
		fmt.Fprintf(r.w, "ok %s (%s, %.2fs)\n", res.t.src, plural(res.objects, "object"), res.took.Seconds())
	}
}

// wait reports the results until the channel is closed, redrawing the
// progress bar every tick on a terminal.
func (r *reporter) wait(results <-chan result) {
	var tick <-chan time.Time
	if r.tty {
		t := time.NewTicker(r.tick)
		defer t.Stop()
		tick = t.C
		r.bar()
	}
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return
			}
			r.report(res)
		case <-tick:
			r.mu.Lock()
			r.bar()
			r.mu.Unlock()
		}
	}
}

// bar draws the progress bar: [=====>    ] 12/40 files  3.1 files/s  ETA 9s
func (r *reporter) bar() {
	if r.quiet {
		return
	}
	rate := float64(r.done) / max(time.Since(r.start).Seconds(), 1e-9)
	text := fmt.Sprintf(" %d/%d files  %.1f files/s  ETA %s", r.done, r.total, rate, eta(r.done, r.total, rate))
	if r.failed > 0 {
		text += fmt.Sprintf("  %d failed", r.failed)
	}
	r.draw("", r.done, r.total, text)
}

// eta returns the time left to do total at rate when done are done.
func eta(done, total int, rate float64) string {
	if done <= 0 || total <= 0 || rate <= 0 {
		return "?"
	}
	left := math.Round(float64(total-done) / rate)
	if done < total {
		left = max(left, 1)
	}
	return (time.Duration(left) * time.Second).String()
}

// draw redraws the progress line: prefix, a bar of done/total (none when
// total is unknown) and text, cut to the terminal's width.
func (r *reporter) draw(prefix string, done, total int, text string) {
	width := 30
	if r.width > 0 {
		// A line that wraps would not be redrawn in place.
		width = min(width, r.width-1-len(prefix)-len(text)-2)
	}
	line := prefix + text
	if width >= 5 && total > 0 {
		filled := min(done*width/total, width)
		b := strings.Repeat("=", filled)
		if filled < width {
			b += ">" + strings.Repeat(" ", width-filled-1)
		}
		line = prefix + "[" + b + "]" + text
	}
	if r.width > 0 && len(line) >= r.width {
		line = line[:r.width-1]
	}
	fmt.Fprint(r.w, "\r"+line+"\x1b[K")
	r.drawn = true
}

// videoProgress returns the progress function of the video name: on a
// terminal it redraws the line
// video.mp4 [=====>    ] 120/300 frames  6.1 fps  ETA 29s
// a few times a second. It returns nil when nothing is drawn.
func (r *reporter) videoProgress(name string) func(done, total int) {
	if !r.tty || r.quiet {
		return nil
	}
	start := time.Now()
	var last time.Time
	show := func(done, total int) {
		now := time.Now()
		if now.Sub(last) < 200*time.Millisecond && done != total && done > 0 {
			return
		}
		last = now
		fps := float64(done) / max(now.Sub(start).Seconds(), 1e-9)
		text := fmt.Sprintf(" %d frames  %.1f fps", done, fps)
		if total > 0 {
			text = fmt.Sprintf(" %d/%d frames  %.1f fps  ETA %s", done, total, fps, eta(done, total, fps))
		}
		r.draw(name+" ", done, total, text)
	}
	r.mu.Lock()
	r.clear()
	show(0, 0)
	r.mu.Unlock()
	return func(done, total int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		show(done, total)
	}
}

// clear erases the progress bar.
func (r *reporter) clear() {
	if r.drawn {
		fmt.Fprint(r.w, "\r\x1b[K")
		r.drawn = false
	}
}

// finish prints the summary and returns the exit status.
func (r *reporter) finish() int {
	r.clear()
	notStarted := r.total - r.done
	fmt.Fprintf(r.w, "%s %d of %d files", r.verb, r.done-r.failed, r.total)
	switch {
	case r.failed > 0 && notStarted > 0:
		fmt.Fprintf(r.w, " (%d failed, %d not started)", r.failed, notStarted)
	case r.failed > 0:
		fmt.Fprintf(r.w, " (%d failed)", r.failed)
	case notStarted > 0:
		fmt.Fprintf(r.w, " (%d not started)", notStarted)
	}
	fmt.Fprintf(r.w, ", %s, in %.1fs\n", plural(r.objs, "object"), time.Since(r.start).Seconds())
	if r.failed > 0 || notStarted > 0 {
		return exitFailed
	}
	return exitOK
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Flag values. Their errors are printed after
// `invalid value "X" for flag -NAME: `.

// intValue is an integer flag in [lo, hi].
type intValue struct {
	v      *int
	lo, hi int
}

func (f *intValue) String() string {
	if f == nil || f.v == nil {
		return ""
	}
	return strconv.Itoa(*f.v)
}

func (f *intValue) Set(s string) error {
	x, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not an integer")
	}
	if x < f.lo || x > f.hi {
		return fmt.Errorf("want %d..%d", f.lo, f.hi)
	}
	*f.v = x
	return nil
}

// maskScaleValue is the --mask-scale flag, by the rule of
// veil.ParseMaskScale (the REST server's too).
type maskScaleValue struct{ v *int }

func (f maskScaleValue) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.Itoa(*f.v)
}

func (f maskScaleValue) Set(s string) error {
	x, err := veil.ParseMaskScale(s)
	if pe, ok := err.(*veil.ParamError); ok {
		return errors.New("want " + pe.Want)
	}
	if err != nil {
		return err
	}
	*f.v = x
	return nil
}

// classesValue is the repeatable -a flag; the first use replaces the
// default classes.
type classesValue struct {
	list *[]veil.Class
	set  bool
}

func (c *classesValue) String() string {
	if c == nil || c.list == nil {
		return ""
	}
	names := make([]string, len(*c.list))
	for k, cl := range *c.list {
		names[k] = cl.String()
	}
	return strings.Join(names, ",")
}

func (c *classesValue) Set(s string) error {
	if !c.set {
		*c.list = nil
		c.set = true
	}
	for name := range strings.SplitSeq(s, ",") {
		cl, err := veil.ParseClass(strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("unknown class %q: want face, license-plate, person or vehicle", strings.TrimSpace(name))
		}
		if !slices.Contains(*c.list, cl) {
			*c.list = append(*c.list, cl)
		}
	}
	return nil
}

// paramValue is a flag that sets the veil.Params parameter of its name
// (veil.Params.Set); def is the default the help shows.
type paramValue struct {
	p         *veil.Params
	name, def string
}

func (v paramValue) String() string { return v.def }

func (v paramValue) Set(s string) error {
	err := v.p.Set(v.name, s)
	if pe, ok := err.(*veil.ParamError); ok {
		// The flag package quotes the value itself.
		if pe.Reason != "" {
			return errors.New(pe.Reason)
		}
		return errors.New("want " + pe.Want)
	}
	return err
}

// maxIgnoresFile bounds the --ignores @FILE read: ignore regions are a
// short JSON array, and @/dev/zero must not fill the memory.
const maxIgnoresFile = 1 << 20

// readIgnoresFile returns the text of the --ignores file name, at most
// maxIgnoresFile bytes.
func readIgnoresFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIgnoresFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxIgnoresFile {
		return "", fmt.Errorf("%s is over %d bytes (1 MiB): want a JSON array of regions", name, maxIgnoresFile)
	}
	return string(b), nil
}

// ignoresValue is the --ignores flag: JSON regions, or @FILE.
type ignoresValue struct {
	p    *veil.Params
	text string
}

func (v *ignoresValue) String() string {
	if v == nil {
		return ""
	}
	return v.text
}

func (v *ignoresValue) Set(s string) error {
	text := s
	if name, ok := strings.CutPrefix(s, "@"); ok {
		var err error
		if text, err = readIgnoresFile(name); err != nil {
			return err
		}
	}
	if err := (paramValue{p: v.p, name: "ignores"}).Set(text); err != nil {
		return err
	}
	v.text = s
	return nil
}

type outFormatValue struct{ f *string }

func (v outFormatValue) String() string {
	if v.f == nil {
		return ""
	}
	return *v.f
}

func (v outFormatValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "jpeg", "jpg":
		*v.f = "jpeg"
	case "png":
		*v.f = "png"
	default:
		return errors.New("want jpeg or png")
	}
	return nil
}

// choiceValue is a flag whose value is one of choices.
type choiceValue struct {
	v       *string
	choices []string
}

func (c choiceValue) String() string {
	if c.v == nil {
		return ""
	}
	return *c.v
}

func (c choiceValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("want %s", strings.Join(c.choices, ", "))
	}
	*c.v = s
	return nil
}
