// Command goldenimg writes onnxruntime's reference outputs for every model in
// models/, and for the selfie segmenter, on a real image
// (onnx/testdata/golden_street.json, checked by TestGoldenStreet in package
// onnx):
//
//	go run ./bench/cmd/goldenimg [-image testdata/street.jpg] [-out onnx/testdata/golden_street.json] [-ort bench/ort] [-dir models]
//
// A model missing from -dir is read from ../shared/models, which also holds
// the selfie segmenter (not shipped: GPL-hosted copy). A model found in
// neither is skipped with a note; its entry in the existing -out file, if
// that was made from the same image, is kept.
//
// Each model's input is built from the image by testimg.Input (the rule the
// runtime's golden test uses too), written to a temporary file as raw
// little-endian float32 and run by `node bench/ort/ort.js` (golden request
// with "data"); install its dependency first with
//
//	cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/veilkit/veil/internal/modelpath"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
)

// entry is one model in the output file: the layout of
// onnx/testdata/golden_synthetic_outputs.json plus bgr and nhwc.
type entry struct {
	Input      string          `json:"input"`
	InputShape []int           `json:"input_shape"`
	BGR        bool            `json:"bgr"`
	NHWC       bool            `json:"nhwc"`
	Mean       []float32       `json:"mean"`
	Std        []float32       `json:"std"`
	Outputs    json.RawMessage `json:"outputs"` // as ort.js wrote it (keeps its output order)
}

type file struct {
	Generator string           `json:"generator"`
	InputRule string           `json:"input_rule"`
	Image     string           `json:"image"`
	Models    map[string]entry `json:"models"`
}

const inputRule = "the image stretched to the model's H x W by nearest neighbour (integer math: sx = x*W_img/W, sy = y*H_img/H), " +
	"channels RGB, or BGR where bgr is true (c = channel index in the tensor), raw 0..255; tensor value = (raw - mean[c]) / std[c]; " +
	"NCHW, or NHWC where nhwc is true. Built by internal/testimg.Input"

func main() {
	imagePath := flag.String("image", "testdata/street.jpg", "image (path relative to the repository root, as the test reads it)")
	out := flag.String("out", "onnx/testdata/golden_street.json", "output file")
	ortDir := flag.String("ort", "bench/ort", "folder with ort.js and its node_modules")
	dir := flag.String("dir", "models", "models folder")
	flag.Parse()
	if err := run(*imagePath, *out, *ortDir, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "goldenimg:", err)
		os.Exit(1)
	}
}

func run(imagePath, out, ortDir, dir string) error {
	f, err := os.Open(imagePath)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", imagePath, err)
	}

	pkg, err := os.ReadFile(filepath.Join(ortDir, "node_modules", "onnxruntime-node", "package.json"))
	if err != nil {
		return fmt.Errorf("onnxruntime-node is not installed in %s/node_modules; run:\n\tcd %s && ONNXRUNTIME_NODE_INSTALL=skip npm install", ortDir, ortDir)
	}
	var ver struct{ Version string }
	if err := json.Unmarshal(pkg, &ver); err != nil {
		return fmt.Errorf("onnxruntime-node package.json: %w", err)
	}

	tmp, err := os.MkdirTemp("", "goldenimg")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cmd := exec.Command("node", filepath.Join(ortDir, "ort.js"))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting node: %w", err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<16), 1<<24)

	res := file{
		Generator: "onnxruntime-node " + ver.Version + " CPU, default options",
		InputRule: inputRule,
		Image:     filepath.ToSlash(imagePath),
		Models:    map[string]entry{},
	}
	// The entries of the existing output, kept for the models found nowhere.
	var old file
	if b, err := os.ReadFile(out); err == nil {
		if err := json.Unmarshal(b, &old); err != nil || old.Image != res.Image {
			old = file{}
		}
	}
	for _, s := range modelpath.Inputs {
		path, note := s.Find(dir)
		if path == "" {
			if e, ok := old.Models[s.File]; ok {
				res.Models[s.File] = e
				note += "; its entry in " + out + " is kept"
			}
			fmt.Fprintf(os.Stderr, "note: %s; skipped\n", note)
			continue
		}
		// A dynamic input (YuNet, YOLOX) gets the image's own size.
		shape := s.Shape(img.Bounds().Dy(), img.Bounds().Dx())
		data := s.Data(img, shape)
		buf := make([]byte, 4*len(data))
		for i, v := range data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		dataPath := filepath.Join(tmp, "input.f32")
		if err := os.WriteFile(dataPath, buf, 0o644); err != nil {
			return err
		}
		modelPath, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		req, err := json.Marshal(map[string]any{"golden": modelPath, "shape": shape, "input": s.Name, "data": dataPath})
		if err != nil {
			return err
		}
		if _, err := stdin.Write(append(req, '\n')); err != nil {
			return fmt.Errorf("writing to ort.js: %w", err)
		}
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return err
			}
			return fmt.Errorf("ort.js exited")
		}
		var ans struct {
			Outputs json.RawMessage `json:"outputs"`
			Error   string          `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ans); err != nil {
			return fmt.Errorf("ort.js answer: %w", err)
		}
		if ans.Error != "" {
			return fmt.Errorf("%s: ort.js: %s", s.File, ans.Error)
		}
		res.Models[s.File] = entry{
			Input: s.Name, InputShape: shape, BGR: s.BGR, NHWC: s.NHWC,
			Mean: s.Mean[:], Std: s.Std[:], Outputs: ans.Outputs,
		}
		fmt.Fprintf(os.Stderr, "%s %v done\n", s.File, shape)
	}
	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}
