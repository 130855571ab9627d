//go:build ort && cgo

package veil

import (
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/veilkit/veil/mask"
	"github.com/veilkit/veil/onnx/ort"
)

// The onnxruntime library of bench/ort's `npm ci`, used when VEIL_ORT_LIB
// is not set.
const npmORTLibrary = "bench/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// ortEngines returns a pure-Go engine and an engine on onnxruntime's CPU
// provider, both with threads threads, or skips the test when there is
// no onnxruntime library.
func ortEngines(t testing.TB, threads int) (goEngine, ortEngine *Engine) {
	t.Helper()
	lib := os.Getenv("VEIL_ORT_LIB")
	if lib == "" {
		if _, err := os.Stat(npmORTLibrary); err != nil {
			t.Skip("no onnxruntime library: set VEIL_ORT_LIB or run (cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci)")
		}
		lib, _ = filepath.Abs(npmORTLibrary)
	}
	b, err := ort.New(ort.Options{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	if goEngine, err = New(WithThreads(threads)); err != nil {
		t.Fatal(err)
	}
	if ortEngine, err = New(WithThreads(threads), WithBackend(b)); err != nil {
		t.Fatal(err)
	}
	return goEngine, ortEngine
}

// maskIoU is the IoU of two masks, a pixel being in a mask at ≥ 128.
func maskIoU(a, b *mask.Mask) float64 {
	r := a.Rect.Union(b.Rect)
	var inter, union int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ia, ib := a.At(x, y) >= 128, b.At(x, y) >= 128
			if ia && ib {
				inter++
			}
			if ia || ib {
				union++
			}
		}
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// TestORTParityEngine checks that the pure-Go runtime and onnxruntime find
// the same objects, with the same scores and masks, on the test images.
func TestORTParityEngine(t *testing.T) {
	goEngine, ortEngine := ortEngines(t, 2)
	ctx := context.Background()
	p := Params{Classes: []Class{Face, LicensePlate, Person, Vehicle}}
	for _, name := range []string{"group.jpg", "street.jpg", "plate.jpg"} {
		t.Run(name, func(t *testing.T) {
			img := decodeFile(t, filepath.Join("testdata", name))
			want, err := goEngine.Masks(ctx, img, p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ortEngine.Masks(ctx, img, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Objects) != len(want.Objects) {
				t.Errorf("onnxruntime finds %d objects, pure Go %d", len(got.Objects), len(want.Objects))
			}
			used := make([]bool, len(want.Objects))
			counts := map[Class]int{}
			masks := 0
			for _, g := range got.Objects {
				best, bestIoU := -1, float32(0)
				for k, w := range want.Objects {
					if used[k] || w.Class != g.Class {
						continue
					}
					if iou := g.Box.IoU(w.Box); iou > bestIoU {
						best, bestIoU = k, iou
					}
				}
				if best < 0 || bestIoU < 0.99 {
					t.Errorf("onnxruntime's %v %.3f at %+v has no pure-Go match (best IoU %.3f)", g.Class, g.Score, g.Box, bestIoU)
					continue
				}
				used[best] = true
				w := want.Objects[best]
				counts[g.Class]++
				if math.Abs(float64(g.Score-w.Score)) > 1e-3 {
					t.Errorf("%v at %+v: score %.5f on onnxruntime, %.5f in pure Go", g.Class, g.Box, g.Score, w.Score)
				}
				if (g.Class == Person || g.Class == Vehicle) && g.Mask != nil && w.Mask != nil {
					masks++
					if iou := maskIoU(g.Mask, w.Mask); iou < 0.99 {
						t.Errorf("%v at %+v: mask IoU %.4f between onnxruntime and pure Go", g.Class, g.Box, iou)
					}
				} else if (g.Mask == nil) != (w.Mask == nil) {
					t.Errorf("%v at %+v: mask on one backend only", g.Class, g.Box)
				}
			}
			t.Logf("matched %v; %d segmentation masks compared", counts, masks)
		})
	}
}

// BenchmarkORTDetect times the detection of faces and plates on a
// 1080p-sized frame with the pure-Go runtime and with onnxruntime's CPU
// provider, both at 2 threads.
func BenchmarkORTDetect(b *testing.B) {
	goEngine, ortEngine := ortEngines(b, 2)
	src := decodeFile(b, "testdata/street.jpg")
	frame := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	scaleInto(frame, src)
	p := Params{Classes: []Class{Face, LicensePlate}}
	for _, bc := range []struct {
		name string
		e    *Engine
	}{{"go", goEngine}, {"ort-cpu", ortEngine}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			if _, err := bc.e.Detect(ctx, frame, p); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := bc.e.Detect(ctx, frame, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// scaleInto draws src stretched over dst, nearest neighbour.
func scaleInto(dst *image.RGBA, src image.Image) {
	sb, db := src.Bounds(), dst.Bounds()
	for y := db.Min.Y; y < db.Max.Y; y++ {
		sy := sb.Min.Y + (y-db.Min.Y)*sb.Dy()/db.Dy()
		for x := db.Min.X; x < db.Max.X; x++ {
			sx := sb.Min.X + (x-db.Min.X)*sb.Dx()/db.Dx()
			dst.Set(x, y, src.At(sx, sy))
		}
	}
}
