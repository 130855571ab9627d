package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// mulCase is one Mul invocation to check against the float64 reference.
type mulCase struct {
	m, n, k  int
	ldb, ldc int // row strides (≥ n)
	bias     bool
	add      int // 0: none, 1: separate residual, 2: residual aliasing C
	act      Act
	alpha    float32
	threads  int
}

func (tc mulCase) String() string {
	return fmt.Sprintf("m%d_n%d_k%d_ldb%d_ldc%d_bias%v_add%d_act%d(%g)_t%d",
		tc.m, tc.n, tc.k, tc.ldb, tc.ldc, tc.bias, tc.add, tc.act, tc.alpha, tc.threads)
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

const sentinel = float32(-12345.5)

func refAct(v float64, ep *Epilogue) float64 {
	switch ep.Act {
	case ActRelu:
		return math.Max(v, 0)
	case ActLeakyRelu:
		if v < 0 {
			return float64(ep.Alpha) * v
		}
		return v
	case ActClip:
		return math.Min(math.Max(v, float64(ep.Min)), float64(ep.Max))
	}
	return v
}

// checkClose compares got against want (float64) with a tolerance relative to
// the magnitude of the terms that were summed.
func checkClose(t *testing.T, what string, i, j int, got float32, want, mag float64, k int) bool {
	t.Helper()
	tol := 1e-5 * float64(max(k, 1)) * math.Max(mag, 1) / 4
	if d := math.Abs(float64(got) - want); !(d <= tol) {
		t.Errorf("%s: C[%d,%d] = %g, want %g (diff %g, tol %g)", what, i, j, got, want, d, tol)
		return false
	}
	return true
}

func runMulCase(t *testing.T, ks *kernelSet, tc mulCase, rng *rand.Rand) {
	t.Helper()
	m, n, k := tc.m, tc.n, tc.k
	lda := k + 3
	a := randSlice(rng, max(0, (m-1)*lda+k))
	b := randSlice(rng, max(0, (k-1)*tc.ldb+n))
	c := make([]float32, (m-1)*tc.ldc+n+5)
	for i := range c {
		c[i] = sentinel
	}
	ep := &Epilogue{Act: tc.act, Alpha: tc.alpha, Min: -0.3, Max: 0.4}
	if tc.bias {
		ep.Bias = randSlice(rng, m)
	}
	var add []float32
	switch tc.add {
	case 1:
		add = randSlice(rng, len(c))
		ep.Add = add
	case 2:
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				c[i*tc.ldc+j] = rng.Float32()*2 - 1
			}
		}
		add = append([]float32(nil), c...)
		ep.Add = c
	}
	p := packWith(ks, m, k, a, lda)
	if pm, pk := p.Dims(); pm != m || pk != k {
		t.Fatalf("Dims() = %d, %d; want %d, %d", pm, pk, m, k)
	}
	Mul(p, b, tc.ldb, n, c, tc.ldc, ep, tc.threads)

	bad := 0
	for i := 0; i < m; i++ {
		for j := 0; j < tc.ldc && i*tc.ldc+j < len(c); j++ {
			got := c[i*tc.ldc+j]
			if j >= n {
				if got != sentinel {
					t.Errorf("%v: C[%d,%d] = %g outside the product was written", tc, i, j, got)
					return
				}
				continue
			}
			var sum, mag float64
			for kk := 0; kk < k; kk++ {
				x := float64(a[i*lda+kk]) * float64(b[kk*tc.ldb+j])
				sum += x
				mag += math.Abs(x)
			}
			if ep.Bias != nil {
				sum += float64(ep.Bias[i])
				mag += math.Abs(float64(ep.Bias[i]))
			}
			if add != nil {
				sum += float64(add[i*tc.ldc+j])
				mag += math.Abs(float64(add[i*tc.ldc+j]))
			}
			want := refAct(sum, ep)
			if !checkClose(t, fmt.Sprintf("%s %v", ks.name, tc), i, j, got, want, mag, k) {
				if bad++; bad > 5 {
					return
				}
			}
		}
	}
	if c[len(c)-1] != sentinel {
		t.Errorf("%v: wrote past the end of C", tc)
	}
}

var acts = []struct {
	act   Act
	alpha float32
}{{ActNone, 0}, {ActRelu, 0}, {ActLeakyRelu, 0.1}, {ActLeakyRelu, 1.7}, {ActClip, 0}}

// randomCase fills in strides and epilogue options for a shape.
func randomCase(rng *rand.Rand, m, n, k int) mulCase {
	tc := mulCase{m: m, n: n, k: k, ldb: n, ldc: n, threads: 1 + rng.IntN(3)}
	if rng.IntN(2) == 0 {
		tc.ldb += 1 + rng.IntN(7)
	}
	if rng.IntN(2) == 0 {
		tc.ldc += 1 + rng.IntN(7)
	}
	tc.bias = rng.IntN(2) == 0
	tc.add = rng.IntN(4) % 3
	x := acts[rng.IntN(len(acts))]
	tc.act, tc.alpha = x.act, x.alpha
	return tc
}

func forKernels(t *testing.T, fn func(t *testing.T, ks *kernelSet)) {
	for _, ks := range kernelSets() {
		t.Run(ks.name, func(t *testing.T) { fn(t, ks) })
	}
}

func TestMulEdges(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		rng := rand.New(rand.NewPCG(1, 2))
		// Every row count and a spread of column remainders.
		for m := 1; m <= 40; m++ {
			for _, n := range []int{1, 7, 8, 9, 16, 17, 31, 33, 47, 48, 49, 95, 97} {
				for _, k := range []int{1, 3, 17} {
					runMulCase(t, ks, randomCase(rng, m, n, k), rng)
				}
			}
		}
		// Every column count up to two AVX-512 tiles and a bit.
		for n := 1; n <= 110; n++ {
			for _, m := range []int{1, 5, 6, 8, 9, 13} {
				for _, k := range []int{1, 8, 40} {
					runMulCase(t, ks, randomCase(rng, m, n, k), rng)
				}
			}
		}
		// Every depth.
		for k := 1; k <= 40; k++ {
			for _, m := range []int{3, 8, 16} {
				for _, n := range []int{19, 64} {
					runMulCase(t, ks, randomCase(rng, m, n, k), rng)
				}
			}
		}
	})
}

func TestMulEpilogues(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, sh := range [][3]int{{7, 53, 5}, {16, 100, 16}, {13, 37, 29}} {
			for _, x := range acts {
				for _, bias := range []bool{false, true} {
					for add := 0; add < 3; add++ {
						for threads := 1; threads <= 3; threads++ {
							tc := mulCase{m: sh[0], n: sh[1], k: sh[2], ldb: sh[1] + 1, ldc: sh[1] + 2,
								bias: bias, add: add, act: x.act, alpha: x.alpha, threads: threads}
							runMulCase(t, ks, tc, rng)
						}
					}
				}
			}
		}
	})
}

func TestMulDeep(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, k := range []int{kcMax - 1, kcMax, kcMax + 1, 2*kcMax + 3, 1200, 2304} {
			for _, add := range []int{0, 1, 2} {
				tc := randomCase(rng, 11, 61, k)
				tc.add = add
				runMulCase(t, ks, tc, rng)
			}
		}
	})
}

// typical are the (M, K, N) shapes of the convolutions in the target models.
var typical = [][3]int{
	{16, 27, 102400}, {16, 16, 25600}, {32, 16, 25600}, {64, 64, 1600}, {64, 32, 6400},
	{116, 116, 2704}, {232, 232, 676}, {96, 96, 2704}, {48, 48, 7744}, {256, 256, 300},
	{21, 256, 66049}, {256, 2304, 400},
}

func TestMulTypical(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		rng := rand.New(rand.NewPCG(7, 8))
		for i, sh := range typical {
			m, k, n := sh[0], sh[1], sh[2]
			// Keep M and K but cut the reference's cost in short and race runs.
			if raceEnabled {
				n = min(n, 100)
			} else if testing.Short() {
				n = min(n, 777)
			}
			tc := mulCase{m: m, n: n, k: k, ldb: n, ldc: n, bias: true, act: ActRelu, threads: 1 + i%3}
			if i%2 == 1 {
				tc.ldb, tc.ldc, tc.add, tc.act = n+3, n+1, 1, ActClip
			}
			runMulCase(t, ks, tc, rng)
		}
	})
}

func TestMulZeroK(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		p := packWith(ks, 3, 0, nil, 0)
		c := []float32{5, 5, 5, 5, 5, 5}
		Mul(p, nil, 0, 2, c, 2, &Epilogue{Bias: []float32{1, -2, 3}, Act: ActRelu}, 1)
		want := []float32{1, 1, 0, 0, 3, 3}
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("got %v, want %v", c, want)
			}
		}
		Mul(p, nil, 0, 2, c, 2, nil, 2)
		for i := range c {
			if c[i] != 0 {
				t.Fatalf("got %v, want zeros", c)
			}
		}
		Mul(packWith(ks, 0, 4, nil, 4), nil, 0, 5, nil, 5, nil, 1) // empty
	})
}

func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, g float64
			for kk := 0; kk < k; kk++ {
				var av, bv float32
				if transA {
					av = a[kk*lda+i]
				} else {
					av = a[i*lda+kk]
				}
				if transB {
					bv = b[j*ldb+kk]
				} else {
					bv = b[kk*ldb+j]
				}
				x := float64(alpha) * float64(av) * float64(bv)
				s += x
				g += math.Abs(x)
			}
			if beta != 0 {
				x := float64(beta) * float64(c[i*ldc+j])
				s += x
				g += math.Abs(x)
			}
			want[i*n+j], mag[i*n+j] = s, g
		}
	}
	return want, mag
}

func TestGemm(t *testing.T) {
	forKernels(t, func(t *testing.T, ks *kernelSet) {
		rng := rand.New(rand.NewPCG(9, 10))
		shapes := [][3]int{{1, 1, 1}, {1, 1000, 64}, {7, 9, 11}, {13, 50, 3}, {33, 17, 70}, {64, 100, 600}, {5, 3, 0}, {9, 53, 1100}}
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for _, transA := range []bool{false, true} {
				for _, transB := range []bool{false, true} {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-1.5, 0.25}, {0, 2}} {
						alpha, beta := ab[0], ab[1]
						lda, ldb, ldc := k+1, n+2, n+3
						if transA {
							lda = m + 1
						}
						if transB {
							ldb = k + 2
						}
						ar, br := m, k
						if transA {
							ar = k
						}
						if transB {
							br = n
						}
						a := randSlice(rng, max(0, ar*lda))
						b := randSlice(rng, max(0, br*ldb))
						c := randSlice(rng, m*ldc)
						if beta == 0 {
							for i := range c {
								c[i] = float32(math.NaN())
							}
						}
						orig := append([]float32(nil), c...)
						want, mag := refGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, orig, ldc)
						threads := 1 + rng.IntN(3)
						gemmWith(ks, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads)
						what := fmt.Sprintf("%s Gemm(%v,%v,m%d,n%d,k%d,α%g,β%g,t%d)", ks.name, transA, transB, m, n, k, alpha, beta, threads)
						bad := 0
						for i := 0; i < m; i++ {
							for j := 0; j < ldc; j++ {
								got := c[i*ldc+j]
								if j >= n {
									if math.Float32bits(got) != math.Float32bits(orig[i*ldc+j]) {
										t.Fatalf("%s: C[%d,%d] outside the product was written", what, i, j)
									}
									continue
								}
								if !checkClose(t, what, i, j, got, want[i*n+j], mag[i*n+j], k) {
									if bad++; bad > 5 {
										t.FailNow()
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

func TestMulPanics(t *testing.T) {
	p := PackA(4, 3, make([]float32, 12), 3)
	for name, fn := range map[string]func(){
		"short c":    func() { Mul(p, make([]float32, 30), 10, 10, make([]float32, 39), 10, nil, 1) },
		"short b":    func() { Mul(p, make([]float32, 29), 10, 10, make([]float32, 40), 10, nil, 1) },
		"short bias": func() { Mul(p, make([]float32, 30), 10, 10, make([]float32, 40), 10, &Epilogue{Bias: []float32{1}}, 1) },
		"short add":  func() { Mul(p, make([]float32, 30), 10, 10, make([]float32, 40), 10, &Epilogue{Add: []float32{1}}, 1) },
		"short a":    func() { PackA(4, 3, make([]float32, 11), 3) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
}

func TestMulAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool is randomized under the race detector")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	m, k, n := 64, 64, 1600
	p := PackA(m, k, randSlice(rng, m*k), k)
	b := randSlice(rng, k*n)
	c := make([]float32, m*n)
	ep := &Epilogue{Bias: randSlice(rng, m), Add: randSlice(rng, m*n), Act: ActRelu}
	for _, threads := range []int{1, 2, 4} {
		Mul(p, b, n, n, c, n, ep, threads)
		if allocs := testing.AllocsPerRun(50, func() { Mul(p, b, n, n, c, n, ep, threads) }); allocs != 0 {
			t.Errorf("Mul with %d threads: %v allocations per call", threads, allocs)
		}
	}
	a := randSlice(rng, m*k)
	for _, threads := range []int{1, 2} {
		Gemm(false, true, m, k, k, 1, a, k, a, k, 1, c, n, threads)
		if allocs := testing.AllocsPerRun(50, func() { Gemm(false, true, m, k, k, 1, a, k, a, k, 1, c, n, threads) }); allocs > 0.1 {
			t.Errorf("Gemm with %d threads: %v allocations per call", threads, allocs)
		}
	}
}

func TestConcurrentMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	m, k, n := 37, 45, 333
	a := randSlice(rng, m*k)
	b := randSlice(rng, k*n)
	p := PackA(m, k, a, k)
	want := make([]float32, m*n)
	Mul(p, b, n, n, want, n, nil, 1)
	done := make(chan []float32)
	for g := 0; g < 6; g++ {
		go func() {
			c := make([]float32, m*n)
			for it := 0; it < 20; it++ {
				Mul(p, b, n, n, c, n, nil, 1+g%3)
			}
			done <- c
		}()
	}
	for g := 0; g < 6; g++ {
		c := <-done
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("concurrent result differs at %d: %g vs %g", i, c[i], want[i])
			}
		}
	}
}

// BenchmarkMul measures the typical convolution shapes, per kernel family and
// thread count.
func BenchmarkMul(b *testing.B) {
	for _, ks := range kernelSets() {
		for _, sh := range typical {
			m, k, n := sh[0], sh[1], sh[2]
			rng := rand.New(rand.NewPCG(1, 1))
			p := packWith(ks, m, k, randSlice(rng, m*k), k)
			bm := randSlice(rng, k*n)
			c := make([]float32, m*n)
			ep := &Epilogue{Bias: randSlice(rng, m), Act: ActRelu}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/M%dK%dN%d/t%d", ks.name, m, k, n, threads), func(b *testing.B) {
					start := time.Now()
					for b.Loop() {
						Mul(p, bm, n, n, c, n, ep, threads)
					}
					flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
					b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, sh := range [][3]int{{1, 1000, 1024}, {64, 64, 64}, {256, 256, 256}} {
		m, n, k := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(1, 1))
		a := randSlice(rng, m*k)
		bm := randSlice(rng, k*n)
		c := make([]float32, m*n)
		b.Run(fmt.Sprintf("M%dN%dK%d", m, n, k), func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				Gemm(false, false, m, n, k, 1, a, k, bm, n, 0, c, n, 1)
			}
			flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
			b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
		})
	}
}
