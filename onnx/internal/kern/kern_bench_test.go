package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// reportRate reports the throughput of b's loop: bytes moved (one read
// of the input, one write of the output) and floating-point operations.
func reportRate(b *testing.B, bytes, flops float64) {
	s := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(bytes/s/1e9, "GB/s")
	if flops > 0 {
		b.ReportMetric(flops/s/1e9, "GFLOP/s")
	}
}

func BenchmarkDepthwise(b *testing.B) { benchDepthwise(b, []int{1, 2}) }

// benchDepthwise times Depthwise with a ReLU on the depthwise layer shapes
// of the target models for each thread count.
func benchDepthwise(b *testing.B, threads []int) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, bc := range []struct{ c, h, w, k, s int }{
		{64, 160, 160, 3, 1},
		{64, 80, 80, 3, 1},
		{116, 52, 52, 3, 1},
		{232, 26, 26, 3, 2},
		{96, 44, 44, 5, 1},
		{256, 60, 80, 3, 1},
		{96, 22, 22, 5, 1},
		{256, 33, 33, 3, 1}, // DeepLab, dilation 2
		{480, 33, 33, 3, 1}, // DeepLab, dilation 4
		{128, 10, 10, 3, 1},
		{232, 13, 13, 3, 1},
		{48, 22, 22, 3, 1},
	} {
		d := map[int]int{256: 2, 480: 4}[bc.c] // DeepLab's dilated layers
		if bc.h != 33 || d == 0 {
			d = 1
		}
		p, _ := sq(bc.k, bc.s, d, d*(bc.k/2)).params(1, bc.c, bc.h, bc.w)
		in := randSlice(r, p.C*p.H*p.W)
		w := randSlice(r, p.C*p.KH*p.KW)
		bias := randSlice(r, p.C)
		out := make([]float32, p.C*p.OutH*p.OutW)
		act := Act{Kind: ActRelu}
		for _, threads := range threads {
			name := fmt.Sprintf("c%d_%dx%d_k%d_s%d_d%d/t%d", bc.c, bc.h, bc.w, bc.k, bc.s, d, threads)
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					Depthwise(&p, in, w, bias, out, act, threads)
				}
				reportRate(b, float64(4*(len(in)+len(out))), float64(2*p.KH*p.KW*len(out)))
			})
		}
	}
}

func BenchmarkMaxPool(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, bc := range []struct{ c, h, w, k, s, pad int }{
		{16, 320, 320, 2, 2, 0},
		{24, 176, 176, 3, 2, 1},
		{24, 208, 208, 3, 2, 1},
	} {
		p, _ := sq(bc.k, bc.s, 1, bc.pad).params(1, bc.c, bc.h, bc.w)
		in := randSlice(r, p.C*p.H*p.W)
		out := make([]float32, p.C*p.OutH*p.OutW)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("c%d_%dx%d_k%d_s%d/t%d", bc.c, bc.h, bc.w, bc.k, bc.s, threads), func(b *testing.B) {
				for b.Loop() {
					MaxPool(&p, in, out, threads)
				}
				reportRate(b, float64(4*(len(in)+len(out))), 0)
			})
		}
	}
}

func BenchmarkAveragePool(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, bc := range []struct{ c, h, w, k, s, pad int }{
		{48, 46, 46, 3, 2, 0},    // FastestDet
		{160, 33, 33, 33, 33, 0}, // DeepLab image pooling
	} {
		p, _ := sq(bc.k, bc.s, 1, bc.pad).params(1, bc.c, bc.h, bc.w)
		in := randSlice(r, p.C*p.H*p.W)
		out := make([]float32, p.C*p.OutH*p.OutW)
		b.Run(fmt.Sprintf("c%d_%dx%d_k%d_s%d/t1", bc.c, bc.h, bc.w, bc.k, bc.s), func(b *testing.B) {
			for b.Loop() {
				AveragePool(&p, in, out, false, 1)
			}
			reportRate(b, float64(4*(len(in)+len(out))), 0)
		})
	}
}

func BenchmarkResize2D(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, bc := range []struct {
		name                string
		c, inH, inW, oH, oW int
		mode                ResizeMode
		coord               CoordMode
		nearest             NearestMode
	}{
		{"nearest_x2_yunet", 64, 40, 40, 80, 80, Nearest, Asymmetric, Floor},
		{"nearest_x2_fastestdet", 96, 11, 11, 22, 22, Nearest, Asymmetric, Floor},
		{"linear_x2_nanodet", 96, 26, 26, 52, 52, Linear, PytorchHalfPixel, Floor},
		{"linear_33to257_deeplab", 21, 33, 33, 257, 257, Linear, HalfPixel, 0},
		{"linear_1to33_deeplab", 256, 1, 1, 33, 33, Linear, HalfPixel, 0},
		// The selfie segmenter's upsampling: its shape only (the model
		// is not shipped; see models/README.md).
		{"linear_x2_selfie", 64, 32, 32, 64, 64, Linear, HalfPixel, 0},
	} {
		in := randSlice(r, bc.c*bc.inH*bc.inW)
		out := make([]float32, bc.c*bc.oH*bc.oW)
		sh, sw := float32(bc.oH)/float32(bc.inH), float32(bc.oW)/float32(bc.inW)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d", bc.name, threads), func(b *testing.B) {
				for b.Loop() {
					Resize2D(1, bc.c, bc.inH, bc.inW, bc.oH, bc.oW, sh, sw, bc.mode, bc.coord, bc.nearest, in, out, threads)
				}
				reportRate(b, float64(4*(len(in)+len(out))), 0)
			})
		}
	}
}

func BenchmarkIm2col(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, bc := range []struct{ c, h, w, k, s int }{
		{3, 640, 640, 3, 2}, // YuNet 640 first conv
		{3, 416, 416, 3, 2}, // NanoDet first conv
		{3, 352, 352, 3, 2}, // FastestDet first conv
		{16, 160, 160, 3, 1},
		{64, 40, 40, 3, 1},
	} {
		p, _ := sq(bc.k, bc.s, 1, bc.k/2).params(1, bc.c, bc.h, bc.w)
		in := randSlice(r, p.C*p.H*p.W)
		col := make([]float32, p.C*p.KH*p.KW*p.OutH*p.OutW)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("c%d_%dx%d_k%d_s%d/t%d", bc.c, bc.h, bc.w, bc.k, bc.s, threads), func(b *testing.B) {
				for b.Loop() {
					Im2colParallel(&p, in, col, threads)
				}
				reportRate(b, float64(4*(len(in)+len(col))), 0)
			})
		}
	}
}
