package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/veilkit/veil/onnx/internal/gemm"
)

// BenchmarkIm2colGemmBands times a dense convolution as im2col + GEMM,
// whole (band0) and by bands of output rows with Im2colRows, from cold
// caches as in a model: the first convolutions of YuNet 640 and NanoDet
// 416 (3×3, stride 2, 3 input channels).
func BenchmarkIm2colGemmBands(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	junk := make([]float32, 8<<20) // 32 MiB, the L3 size
	for _, sz := range []struct{ h, m int }{{640, 16}, {416, 24}} {
		p, _ := sq(3, 2, 1, 1).params(1, 3, sz.h, sz.h)
		in := randSlice(r, p.C*p.H*p.W)
		k := p.C * p.KH * p.KW
		pa := gemm.PackA(sz.m, k, randSlice(r, sz.m*k), k)
		ohw := p.OutH * p.OutW
		out := make([]float32, sz.m*ohw)
		col := make([]float32, k*ohw)
		ep := gemm.Epilogue{Bias: randSlice(r, sz.m), Act: gemm.ActRelu}
		for _, band := range []int{0, max(1, (1<<17)/(k*p.OutW))} {
			b.Run(fmt.Sprintf("h%d/band%d", sz.h, band), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					for i := range junk {
						junk[i]++
					}
					b.StartTimer()
					if band == 0 {
						Im2col(&p, in, col)
						gemm.Mul(pa, col, ohw, ohw, out, ohw, &ep, 1)
						continue
					}
					for oy := 0; oy < p.OutH; oy += band {
						oy1 := min(oy+band, p.OutH)
						n := (oy1 - oy) * p.OutW
						Im2colRows(&p, in, col, oy, oy1, 1)
						gemm.Mul(pa, col, n, n, out[oy*p.OutW:], ohw, &ep, 1)
					}
				}
			})
		}
	}
}
