// Command veil anonymizes images with the veil engine.
//
// Usage:
//
//	veil <command> [flags] [args]
//
// The commands are:
//
//	anonymize  blur, pixelate or blacken faces, licence plates, persons and
//	           vehicles in image files and folders
//	detect     print the objects found in images as Celantur metadata JSON
//	models     run every shipped ONNX model on an image and time it
//	serve      answer the Celantur Container REST API v1 (an HTTP server)
//	serve-web  serve the browser page (web/), which anonymizes images on the
//	           device with veil compiled to WebAssembly
//
// anonymize reads JPEG and PNG files and folders (recursively) and writes
// the anonymized images to an output folder with the same names and
// structure:
//
//	veil anonymize [flags] INPUT... -o OUT
//
// Its flags carry the Celantur parameter names (-a CLASS, --method,
// --face-threshold, --kernel-size-face, --quality, …); see
// 'veil anonymize -h'. A file that fails for any reason gets no output
// file. The exit status is 0 when every file was anonymized, 1 when any
// failed and 2 for a bad command line.
//
// detect prints the detections of each image as JSON in the Celantur
// metadata schema (an array when there are several images). Its flags
// carry the Celantur parameter names: -face, -license-plate, -person,
// -vehicle choose the classes (default: face and license-plate), and
// -face-threshold, -license-plate-threshold, -person-threshold,
// -vehicle-threshold, -format set the detection.
//
// models runs every shipped ONNX model in veil's pure-Go runtime on an
// image and prints what each returns and how long it took. It looks for
// each model in the -dir folder, then in ../shared/models, which also
// holds the selfie segmenter veil does not ship; a model found in neither
// is skipped with a note.
//
// serve answers the Celantur Container REST API v1 over HTTP, so that a
// client of the Celantur container switches by changing a URL:
//
//	veil serve [--addr 127.0.0.1:7000] [--api-endpoint URL] [--input DIR] [--output DIR]
//
// It keeps the uploads, results and task records in the user's state
// folder unless --input and --output say otherwise; see 'veil serve -h'.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/veilkit/veil/internal/modelpath"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/veilkit/veil/onnx"
)

func main() {
	// Ctrl-C stops the files in progress (they get no output) and the
	// summary is still printed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // a file or the command failed
	exitUsage   = 2 // bad command line
	usageHeader = "veil anonymizes images: it finds faces, licence plates, persons and vehicles\nand blurs, pixelates or blackens them.\n"
)

// commands are the subcommands, in the order the usage lists them.
var commands = []struct {
	name, summary string
}{
	{"anonymize", "blur, pixelate or blacken faces, licence plates, persons and vehicles in images"},
	{"detect", "print the objects found in images as Celantur metadata JSON"},
	{"models", "run every shipped ONNX model on an image and time it"},
	{"serve", "answer the Celantur Container REST API v1 (HTTP server)"},
	{"serve-web", "serve the browser page (web/): images are anonymized on the device"},
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usageHeader)
	fmt.Fprint(w, "\nUsage: veil <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s  %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'veil <command> -h' for the command's flags.\n")
}

// run runs the command line args (without the program name) and returns
// the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch cmd := args[0]; cmd {
	case "-h", "-help", "--help", "help":
		if cmd == "help" && len(args) > 1 {
			// veil help COMMAND is veil COMMAND -h.
			return runContext(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		printUsage(stdout)
		return exitOK
	case "anonymize":
		return runAnonymize(ctx, args[1:], stdout, stderr)
	case "detect":
		return exitStatus(runDetect(args[1:], stdout, stderr), stderr)
	case "models":
		return exitStatus(runModels(args[1:], stdout, stderr), stderr)
	case "serve":
		return exitStatus(runServe(ctx, args[1:], stdout, stderr), stderr)
	case "serve-web":
		return exitStatus(runServeWeb(ctx, args[1:], stdout, stderr), stderr)
	default:
		fmt.Fprintf(stderr, "veil: unknown command %q\nRun 'veil help' for usage.\n", cmd)
		return exitUsage
	}
}

// usageError is a bad command line: exit status 2.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.cmd + ": " + e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitStatus reports err on stderr and returns the exit status for it.
func exitStatus(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "veil %s\nRun 'veil %s -h' for usage.\n", ue, ue.cmd)
		return exitUsage
	}
	fmt.Fprintln(stderr, "veil:", err)
	return exitFailed
}

// parseFlags parses args into fs. The help (-h) goes to stdout and
// returns flag.ErrHelp; a bad flag returns a *usageError.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return err
	}
	if err != nil {
		return &usageError{fs.Name(), err}
	}
	return nil
}

// commandUsage returns a flag.FlagSet Usage that prints the usage line,
// the description and the flags to fs's output.
func commandUsage(fs *flag.FlagSet, usage, desc string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", usage, strings.TrimSpace(desc))
		fs.PrintDefaults()
	}
}

func runModels(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	imagePath := fs.String("image", "testdata/street.jpg", "image to run the models on")
	threads := fs.Int("threads", 0, "goroutines per model run (0: GOMAXPROCS)")
	dir := fs.String("dir", "models", "folder of the shipped models (then "+modelpath.Shared+" is tried)")
	fs.Usage = commandUsage(fs, "veil models [-image FILE] [-threads N] [-dir DIR]",
		"Models runs every shipped ONNX model in veil's pure-Go runtime on an image\nand prints what each returns and how long it took. A model missing from\n-dir is read from "+modelpath.Shared+", which also holds the selfie segmenter\nveil does not ship; a model found in neither is skipped with a note.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"models", fmt.Errorf("unexpected argument %q", fs.Arg(0))}
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
	var notes []string
	for _, mi := range modelpath.Inputs {
		path, note := mi.Find(*dir)
		if path == "" {
			notes = append(notes, note)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		t0 := time.Now()
		m, err := onnx.Load(data, onnx.Options{Threads: *threads})
		if err != nil {
			return fmt.Errorf("%s: %w", mi.File, err)
		}
		in := tensorFromImage(img, mi)
		if _, err := m.Run(ctx, map[string]*onnx.Tensor{mi.Name: in}); err != nil { // plan + warm-up
			return fmt.Errorf("%s: %w", mi.File, err)
		}
		load := time.Since(t0)
		t1 := time.Now()
		out, err := m.Run(ctx, map[string]*onnx.Tensor{mi.Name: in})
		if err != nil {
			return fmt.Errorf("%s: %w", mi.File, err)
		}
		runTime := time.Since(t1)
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t", mi.File, ms(load), ms(runTime))
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
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(stdout, "note: %s; skipped\n", n)
	}
	if len(notes) == len(modelpath.Inputs) {
		return fmt.Errorf("no model found in %s or %s", *dir, modelpath.Shared)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// tensorFromImage stretches img to the model's input size (nearest
// neighbour; a dynamic input gets the image's size rounded up to a
// multiple of 32) and normalises it as the model wants.
func tensorFromImage(img image.Image, mi modelpath.Input) *onnx.Tensor {
	b := img.Bounds()
	shape := mi.Shape((b.Dy()+31)/32*32, (b.Dx()+31)/32*32)
	return onnx.NewTensor(shape, mi.Data(img, shape))
}
