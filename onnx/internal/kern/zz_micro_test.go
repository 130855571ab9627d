package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkMicro(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, bc := range []struct{ c, h, w, k, s int }{
		{1, 52, 52, 3, 1}, {1, 160, 160, 3, 1}, {64, 160, 160, 3, 1}, {128, 10, 10, 3, 1}, {4, 52, 52, 3, 1}, {1, 26, 26, 3, 2}, {1, 44, 44, 5, 1}, {1, 10, 10, 3, 1},
	} {
		p, _ := sq(bc.k, bc.s, 1, bc.k/2).params(1, bc.c, bc.h, bc.w)
		in := randSlice(r, p.C*p.H*p.W)
		w := randSlice(r, p.C*p.KH*p.KW)
		out := make([]float32, p.C*p.OutH*p.OutW)
		for _, pt := range []int{0} {
			b.Run(fmt.Sprintf("c%d_%dx%d_k%d_s%d_v%d", bc.c, bc.h, bc.w, bc.k, bc.s, pt), func(b *testing.B) {
				_ = pt
				for b.Loop() {
					Depthwise(&p, in, w, nil, out, Act{}, 1)
				}
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(len(out))/s/1e9, "Gout/s")
			})
		}
	}
}
