package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// acts is every activation form the kernels distinguish.
var acts = []Act{
	{Kind: ActNone},
	{Kind: ActRelu},
	{Kind: ActLeakyRelu, Alpha: 0.1},
	{Kind: ActLeakyRelu, Alpha: -0.3},
	{Kind: ActLeakyRelu, Alpha: 1.5}, // not expressible in clamp form
	{Kind: ActClip, Min: 0, Max: 6},
	{Kind: ActClip, Min: -0.25, Max: 0.5},
}

func naiveAct(x float64, a Act) float64 {
	switch a.Kind {
	case ActRelu:
		return math.Max(x, 0)
	case ActLeakyRelu:
		if x < 0 {
			return float64(a.Alpha) * x
		}
	case ActClip:
		return math.Min(math.Max(x, float64(a.Min)), float64(a.Max))
	}
	return x
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// fill returns a slice of n copies of v, to detect unwritten outputs.
func fill(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func compare(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsInf(w, 0) && g == w {
			continue
		}
		if !(math.Abs(g-w) <= tol*(1+math.Abs(w))) {
			if bad < 5 {
				t.Errorf("%s: [%d] = %v, want %v", name, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d values differ", name, bad, len(want))
	}
}

// convCase is a window shape: kernel, strides, dilations and pads
// (top, left, bottom, right); ceil selects ceil-mode output sizes.
type convCase struct {
	kh, kw, sh, sw, dh, dw int
	pads                   [4]int
	ceil                   bool
}

func (c convCase) params(n, ch, h, w int) (Conv2DParams, bool) {
	p := Conv2DParams{
		N: n, C: ch, H: h, W: w,
		KH: c.kh, KW: c.kw, StrideH: c.sh, StrideW: c.sw, DilH: c.dh, DilW: c.dw,
		PadTop: c.pads[0], PadLeft: c.pads[1], PadBottom: c.pads[2], PadRight: c.pads[3],
	}
	p.OutH = OutSize(h, c.kh, c.sh, c.dh, c.pads[0], c.pads[2], c.ceil)
	p.OutW = OutSize(w, c.kw, c.sw, c.dw, c.pads[1], c.pads[3], c.ceil)
	return p, p.OutH > 0 && p.OutW > 0
}

func (c convCase) String() string {
	s := fmt.Sprintf("k%dx%d_s%dx%d_d%dx%d_p%v", c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pads)
	if c.ceil {
		s += "_ceil"
	}
	return s
}

func sq(k, s, d, pad int) convCase {
	return convCase{k, k, s, s, d, d, [4]int{pad, pad, pad, pad}, false}
}

var planeSizes = [][2]int{
	{1, 1}, {1, 9}, {9, 1}, {2, 2}, {3, 3}, {4, 5}, {5, 7}, {8, 8}, {9, 9}, {10, 10},
	{11, 11}, {13, 13}, {16, 17}, {17, 23}, {22, 22}, {26, 26}, {33, 33}, {3, 40}, {40, 3},
}

var dwCases = []convCase{
	sq(3, 1, 1, 1), // the common depthwise
	sq(3, 2, 1, 1),
	sq(5, 1, 1, 2), // FastestDet
	sq(3, 1, 2, 2), // DeepLab dilated
	sq(3, 1, 4, 4),
	sq(3, 1, 3, 3),
	sq(5, 1, 2, 4),
	sq(3, 1, 1, 0),
	sq(3, 2, 1, 0),
	sq(5, 2, 1, 2),
	sq(1, 1, 1, 0),
	sq(7, 1, 1, 3),
	sq(9, 1, 1, 4), // taller than the row path
	{3, 3, 2, 2, 1, 1, [4]int{0, 0, 1, 1}, false}, // TF SAME, stride 2
	{3, 3, 1, 2, 1, 1, [4]int{1, 1, 1, 1}, false},
	{3, 3, 2, 1, 1, 1, [4]int{1, 1, 1, 1}, false},
	{3, 5, 1, 1, 1, 1, [4]int{1, 2, 1, 2}, false},
	{5, 3, 1, 1, 2, 1, [4]int{0, 1, 4, 1}, false},
	{3, 3, 3, 3, 1, 2, [4]int{2, 1, 0, 2}, false},
	{2, 2, 1, 1, 1, 1, [4]int{0, 0, 1, 1}, false},
	// OutW = W with uneven pads, for the flat kernels.
	{3, 3, 1, 1, 1, 1, [4]int{1, 0, 1, 2}, false},
	{3, 3, 1, 1, 1, 1, [4]int{0, 2, 2, 0}, false},
	{3, 3, 1, 1, 2, 1, [4]int{2, 1, 2, 1}, false},
	{3, 3, 1, 1, 1, 3, [4]int{1, 4, 1, 2}, false},
}

func naiveDepthwise(p *Conv2DParams, in, w, bias []float32, act Act) []float32 {
	out := make([]float32, p.N*p.C*p.OutH*p.OutW)
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			pl := n*p.C + c
			for oy := 0; oy < p.OutH; oy++ {
				for ox := 0; ox < p.OutW; ox++ {
					s := 0.0
					if bias != nil {
						s = float64(bias[c])
					}
					for ky := 0; ky < p.KH; ky++ {
						for kx := 0; kx < p.KW; kx++ {
							iy := oy*p.StrideH - p.PadTop + ky*p.DilH
							ix := ox*p.StrideW - p.PadLeft + kx*p.DilW
							if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
								continue
							}
							s += float64(w[(c*p.KH+ky)*p.KW+kx]) * float64(in[(pl*p.H+iy)*p.W+ix])
						}
					}
					out[(pl*p.OutH+oy)*p.OutW+ox] = float32(naiveAct(s, act))
				}
			}
		}
	}
	return out
}

func TestDepthwise(t *testing.T) {
	testDepthwise(t)
	testDepthwiseModelShapes(t)
}

func testDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cc := range dwCases {
		for _, sz := range planeSizes {
			p, ok := cc.params(2, 3, sz[0], sz[1])
			if !ok {
				continue
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("%v %v: %v", cc, sz, err)
			}
			in := randSlice(r, p.N*p.C*p.H*p.W)
			w := randSlice(r, p.C*p.KH*p.KW)
			bias := randSlice(r, p.C)
			for ai, act := range acts {
				b := bias
				if ai%2 == 1 {
					b = nil
				}
				want := naiveDepthwise(&p, in, w, b, act)
				for _, threads := range []int{1, 4} {
					got := fill(len(want), float32(math.NaN()))
					Depthwise(&p, in, w, b, got, act, threads)
					compare(t, fmt.Sprintf("%v %dx%d act%d t%d", cc, sz[0], sz[1], ai, threads), got, want, 1e-5)
				}
			}
		}
	}
}

// testDepthwiseModelShapes covers the plane sizes of the target models.
func testDepthwiseModelShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		c, h, w int
		cc      convCase
	}{
		{4, 160, 160, sq(3, 1, 1, 1)},
		{4, 80, 80, sq(3, 2, 1, 1)},
		{5, 52, 52, sq(3, 1, 1, 1)},
		{5, 26, 26, sq(3, 2, 1, 1)},
		{3, 44, 44, sq(5, 1, 1, 2)},
		{3, 22, 22, sq(5, 1, 1, 2)},
		{2, 33, 33, sq(3, 1, 2, 2)},
		{2, 33, 33, sq(3, 1, 4, 4)},
		{2, 60, 80, sq(3, 1, 1, 1)},
		{96, 33, 33, sq(3, 1, 2, 2)},
		{2, 33, 129, sq(3, 1, 2, 2)},
		{2, 9, 65, sq(3, 1, 1, 1)},
		{2, 7, 100, sq(3, 1, 4, 4)},
		{2, 6, 80, sq(3, 1, 1, 1)},
		{3, 13, 13, sq(3, 1, 1, 1)},
		{2, 3, 4100, sq(3, 1, 1, 1)}, // wider than zeroRow
		{2, 5, 4101, sq(3, 2, 1, 1)},
	}
	act := Act{Kind: ActLeakyRelu, Alpha: 0.1}
	for _, tc := range cases {
		p, _ := tc.cc.params(1, tc.c, tc.h, tc.w)
		in := randSlice(r, p.N*p.C*p.H*p.W)
		w := randSlice(r, p.C*p.KH*p.KW)
		bias := randSlice(r, p.C)
		want := naiveDepthwise(&p, in, w, bias, act)
		got := fill(len(want), float32(math.NaN()))
		Depthwise(&p, in, w, bias, got, act, 2)
		compare(t, fmt.Sprintf("%v %dx%dx%d", tc.cc, tc.c, tc.h, tc.w), got, want, 1e-5)
	}
}

func TestDepthwiseNaN(t *testing.T) {
	p, _ := sq(3, 1, 1, 1).params(1, 1, 12, 12)
	in := make([]float32, p.H*p.W)
	in[5*12+5] = float32(math.NaN())
	w := fill(9, 1)
	for _, act := range acts {
		out := make([]float32, p.OutH*p.OutW)
		Depthwise(&p, in, w, nil, out, act, 1)
		for y := 0; y < p.OutH; y++ {
			for x := 0; x < p.OutW; x++ {
				v := out[y*p.OutW+x]
				near := y >= 4 && y <= 6 && x >= 4 && x <= 6
				if near != (v != v) {
					t.Fatalf("act %+v: out[%d][%d] = %v", act, y, x, v)
				}
			}
		}
	}
}

func TestOutSizeValidate(t *testing.T) {
	tests := []struct {
		in, k, s, d, pb, pe int
		ceil                bool
		want                int
	}{
		{160, 3, 1, 1, 1, 1, false, 160},
		{160, 3, 2, 1, 1, 1, false, 80},
		{33, 3, 1, 4, 4, 4, false, 33},
		{5, 2, 2, 1, 0, 0, false, 2},
		{5, 2, 2, 1, 0, 0, true, 3},
		{6, 3, 2, 1, 0, 0, true, 3},
		{6, 3, 2, 1, 0, 1, true, 3},
		{4, 3, 2, 1, 1, 1, true, 3},
		{4, 2, 2, 1, 0, 1, true, 2}, // last window would start in the end padding
		{2, 5, 1, 1, 0, 0, false, 0},
		{1, 1, 1, 1, 0, 0, false, 1},
	}
	for _, tt := range tests {
		if got := OutSize(tt.in, tt.k, tt.s, tt.d, tt.pb, tt.pe, tt.ceil); got != tt.want {
			t.Errorf("OutSize(%d, %d, %d, %d, %d, %d, %v) = %d, want %d", tt.in, tt.k, tt.s, tt.d, tt.pb, tt.pe, tt.ceil, got, tt.want)
		}
	}
	good := Conv2DParams{1, 8, 10, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, 5}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", good, err)
	}
	for _, mod := range []func(*Conv2DParams){
		func(p *Conv2DParams) { p.C = 0 },
		func(p *Conv2DParams) { p.KW = 0 },
		func(p *Conv2DParams) { p.StrideH = 0 },
		func(p *Conv2DParams) { p.DilW = 0 },
		func(p *Conv2DParams) { p.PadLeft = -1 },
		func(p *Conv2DParams) { p.OutH = 7 },
		func(p *Conv2DParams) { p.OutW = 4 },
	} {
		p := good
		mod(&p)
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want error", p)
		}
	}
}

func naivePool(p *Conv2DParams, in []float32, avg, includePad bool) []float32 {
	out := make([]float32, p.N*p.C*p.OutH*p.OutW)
	for pl := 0; pl < p.N*p.C; pl++ {
		for oy := 0; oy < p.OutH; oy++ {
			for ox := 0; ox < p.OutW; ox++ {
				m, s, n, cnt := math.Inf(-1), 0.0, 0, 0
				for ky := 0; ky < p.KH; ky++ {
					for kx := 0; kx < p.KW; kx++ {
						iy := oy*p.StrideH - p.PadTop + ky*p.DilH
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilW
						if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
							if iy < p.H+p.PadBottom && ix < p.W+p.PadRight {
								cnt++
							}
							continue
						}
						v := float64(in[(pl*p.H+iy)*p.W+ix])
						m = math.Max(m, v)
						s += v
						n++
						cnt++
					}
				}
				v := m
				if avg {
					if !includePad {
						cnt = n
					}
					v = s / float64(cnt)
				}
				out[(pl*p.OutH+oy)*p.OutW+ox] = float32(v)
			}
		}
	}
	return out
}

var poolCases = []convCase{
	sq(2, 2, 1, 0),
	sq(3, 2, 1, 1),
	sq(3, 1, 1, 1),
	sq(5, 1, 1, 2),
	sq(3, 2, 1, 0),
	{2, 2, 2, 2, 1, 1, [4]int{0, 0, 0, 0}, true},
	{3, 3, 2, 2, 1, 1, [4]int{1, 1, 1, 1}, true},
	{3, 3, 2, 2, 1, 1, [4]int{0, 0, 0, 0}, true},
	{3, 3, 2, 2, 1, 1, [4]int{0, 0, 1, 1}, false},
	{3, 2, 1, 2, 1, 1, [4]int{1, 0, 1, 1}, false},
	{3, 3, 1, 1, 2, 2, [4]int{2, 2, 2, 2}, false},
	{2, 3, 3, 2, 2, 3, [4]int{1, 2, 0, 1}, true},
	{9, 9, 1, 1, 1, 1, [4]int{4, 4, 4, 4}, false}, // taller than the row path
	{10, 10, 3, 3, 1, 1, [4]int{1, 2, 3, 4}, true},
	{12, 12, 2, 2, 1, 1, [4]int{0, 0, 0, 0}, false},
}

func TestPool(t *testing.T) { testPool(t) }

func testPool(t *testing.T) {
	testPoolModelShapes(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, cc := range poolCases {
		for _, sz := range planeSizes {
			p, ok := cc.params(2, 3, sz[0], sz[1])
			if !ok || p.PadTop >= p.KH || p.PadLeft >= p.KW {
				continue
			}
			in := randSlice(r, p.N*p.C*p.H*p.W)
			for _, threads := range []int{1, 3} {
				name := fmt.Sprintf("%v %dx%d t%d", cc, sz[0], sz[1], threads)
				want := naivePool(&p, in, false, false)
				got := fill(len(want), float32(math.NaN()))
				MaxPool(&p, in, got, threads)
				compare(t, "max "+name, got, want, 0)
				for _, inc := range []bool{false, true} {
					want := naivePool(&p, in, true, inc)
					got := fill(len(want), float32(math.NaN()))
					AveragePool(&p, in, got, inc, threads)
					compare(t, fmt.Sprintf("avg inc=%v %s", inc, name), got, want, 1e-6)
				}
			}
		}
	}
}

// testPoolModelShapes covers the pools of the target models and wide
// planes, whose rows take the assembly kernels with tails.
func testPoolModelShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, tc := range []struct {
		c, h, w int
		cc      convCase
	}{
		{3, 46, 46, sq(3, 2, 1, 0)},   // FastestDet
		{3, 33, 33, sq(33, 33, 1, 0)}, // DeepLab's image pooling
		{2, 176, 176, sq(3, 2, 1, 1)},
		{2, 40, 40, sq(2, 2, 1, 0)},
		{2, 9, 61, sq(3, 2, 1, 1)},
		{2, 7, 70, sq(2, 2, 1, 0)},
		{2, 8, 35, convCase{3, 3, 2, 2, 1, 1, [4]int{1, 1, 1, 1}, true}},
		{2, 8, 37, convCase{2, 2, 2, 2, 1, 1, [4]int{0, 0, 1, 1}, true}},
	} {
		p, _ := tc.cc.params(1, tc.c, tc.h, tc.w)
		in := randSlice(r, p.C*p.H*p.W)
		name := fmt.Sprintf("%v %dx%dx%d", tc.cc, tc.c, tc.h, tc.w)
		want := naivePool(&p, in, false, false)
		got := fill(len(want), float32(math.NaN()))
		MaxPool(&p, in, got, 2)
		compare(t, "max "+name, got, want, 0)
		for _, inc := range []bool{false, true} {
			want := naivePool(&p, in, true, inc)
			got := fill(len(want), float32(math.NaN()))
			AveragePool(&p, in, got, inc, 2)
			compare(t, fmt.Sprintf("avg inc=%v %s", inc, name), got, want, 1e-5)
		}
	}
}

func TestGlobalAveragePool(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tt := range []struct{ planes, size int }{{1, 1}, {3, 7}, {16, 100}, {96, 11 * 11}, {256, 33 * 33}} {
		in := randSlice(r, tt.planes*tt.size)
		want := make([]float32, tt.planes)
		for i := range want {
			s := 0.0
			for _, v := range in[i*tt.size : (i+1)*tt.size] {
				s += float64(v)
			}
			want[i] = float32(s / float64(tt.size))
		}
		for _, threads := range []int{1, 2} {
			got := fill(tt.planes, float32(math.NaN()))
			GlobalAveragePool(tt.planes, tt.size, in, got, threads)
			compare(t, fmt.Sprintf("%dx%d t%d", tt.planes, tt.size, threads), got, want, 1e-5)
		}
	}
}

func naiveIm2col(p *Conv2DParams, in []float32) []float32 {
	ohw := p.OutH * p.OutW
	col := make([]float32, p.C*p.KH*p.KW*ohw)
	for c := 0; c < p.C; c++ {
		for ky := 0; ky < p.KH; ky++ {
			for kx := 0; kx < p.KW; kx++ {
				row := (c*p.KH+ky)*p.KW + kx
				for oy := 0; oy < p.OutH; oy++ {
					for ox := 0; ox < p.OutW; ox++ {
						iy := oy*p.StrideH - p.PadTop + ky*p.DilH
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilW
						var v float32
						if iy >= 0 && iy < p.H && ix >= 0 && ix < p.W {
							v = in[(c*p.H+iy)*p.W+ix]
						}
						col[row*ohw+oy*p.OutW+ox] = v
					}
				}
			}
		}
	}
	return col
}

// im2colCases adds to dwCases window shapes that only Im2col handles
// specially: stride 2 with each parity of left padding and dilation,
// and pads wider than the window.
var im2colCases = []convCase{
	{3, 3, 2, 2, 1, 2, [4]int{1, 2, 1, 2}, false},
	{3, 3, 2, 2, 2, 3, [4]int{2, 3, 0, 1}, false},
	{1, 4, 1, 2, 1, 1, [4]int{0, 3, 0, 0}, false},
	{3, 3, 1, 1, 1, 1, [4]int{2, 3, 0, 4}, false},
	{3, 3, 1, 1, 1, 1, [4]int{0, 0, 0, 0}, false},
	{3, 3, 1, 1, 1, 1, [4]int{1, 1, 1, 1}, true},
	{1, 3, 2, 1, 1, 2, [4]int{0, 2, 0, 2}, false},
	{3, 3, 2, 4, 1, 1, [4]int{1, 1, 1, 1}, false},
}

func TestIm2col(t *testing.T) { testIm2col(t) }

// testIm2col compares Im2col and Im2colParallel, split into chunks as
// small as one unit, with naiveIm2col.
func testIm2col(t *testing.T) {
	defer func(m int) { im2colMinSplit = m }(im2colMinSplit)
	im2colMinSplit = 1
	r := rand.New(rand.NewPCG(9, 10))
	sizes := append(planeSizes[:len(planeSizes):len(planeSizes)], [2]int{3, 67}, [2]int{7, 130}, [2]int{2, 161})
	for _, cc := range append(dwCases[:len(dwCases):len(dwCases)], im2colCases...) {
		for _, sz := range sizes {
			p, ok := cc.params(1, 3, sz[0], sz[1])
			if !ok {
				continue
			}
			in := randSlice(r, p.C*p.H*p.W)
			want := naiveIm2col(&p, in)
			got := fill(len(want), float32(math.NaN()))
			Im2col(&p, in, got)
			compare(t, fmt.Sprintf("%v %dx%d", cc, sz[0], sz[1]), got, want, 0)
			for _, threads := range []int{2, 3, 7} {
				got := fill(len(want), float32(math.NaN()))
				Im2colParallel(&p, in, got, threads)
				compare(t, fmt.Sprintf("%v %dx%d t%d", cc, sz[0], sz[1], threads), got, want, 0)
			}
			// Bands of output rows.
			ohw := p.OutH * p.OutW
			for _, band := range []int{1, 2, 3} {
				for oy0 := 0; oy0 < p.OutH; oy0 += band {
					oy1 := min(oy0+band, p.OutH)
					ld := (oy1 - oy0) * p.OutW
					got := fill(p.C*p.KH*p.KW*ld, float32(math.NaN()))
					Im2colRows(&p, in, got, oy0, oy1, 2)
					for r := 0; r < p.C*p.KH*p.KW; r++ {
						compare(t, fmt.Sprintf("%v %dx%d rows [%d, %d) row %d", cc, sz[0], sz[1], oy0, oy1, r),
							got[r*ld:(r+1)*ld], want[r*ohw+oy0*p.OutW:r*ohw+oy1*p.OutW], 0)
					}
				}
			}
		}
	}
}

// TestIm2colModelShapes covers the first convolutions of the target
// models, at the real split threshold.
func TestIm2colModelShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		c, h, w int
		cc      convCase
	}{
		{3, 640, 640, sq(3, 2, 1, 1)},
		{3, 416, 416, sq(3, 2, 1, 1)},
		{3, 257, 257, sq(3, 2, 1, 1)},
		{16, 40, 40, sq(3, 1, 1, 1)},
	} {
		p, _ := tc.cc.params(1, tc.c, tc.h, tc.w)
		in := randSlice(r, p.C*p.H*p.W)
		want := naiveIm2col(&p, in)
		for _, threads := range []int{1, 2} {
			got := fill(len(want), float32(math.NaN()))
			Im2colParallel(&p, in, got, threads)
			compare(t, fmt.Sprintf("%v %dx%dx%d t%d", tc.cc, tc.c, tc.h, tc.w, threads), got, want, 0)
		}
	}
}

// TestGatherS2 checks gatherS2 reads only src[:2n-1], against a guard
// page, for every length up to a few blocks.
func TestGatherS2(t *testing.T) { testGatherS2(t) }

func testGatherS2(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for n := 0; n <= 70; n++ {
		m := max(2*n-1, 0)
		vals := randSlice(r, m)
		want := make([]float32, n)
		for i := range want {
			want[i] = vals[2*i]
		}
		for _, atStart := range []bool{false, true} {
			src := guarded(t, m, atStart)
			copy(src, vals)
			got := guarded(t, n, !atStart)
			gatherS2(got, src)
			compare(t, fmt.Sprintf("n=%d", n), got, want, 0)
		}
	}
}

// resizeExamples are the ONNX Resize and Upsample examples of
// onnx/docs/Operators.md with their expected outputs.
var resizeExamples = []struct {
	name           string
	inH, inW       int
	in             []float32
	outH, outW     int
	scaleH, scaleW float32
	mode           ResizeMode
	coord          CoordMode
	nearest        NearestMode
	want           []float32
}{
	{
		name: "resize_upsample_scales_nearest", inH: 2, inW: 2, in: []float32{1, 2, 3, 4},
		outH: 4, outW: 6, scaleH: 2, scaleW: 3, mode: Nearest,
		want: []float32{
			1, 1, 1, 2, 2, 2,
			1, 1, 1, 2, 2, 2,
			3, 3, 3, 4, 4, 4,
			3, 3, 3, 4, 4, 4,
		},
	},
	{
		name: "resize_downsample_scales_nearest", inH: 2, inW: 4, in: []float32{1, 2, 3, 4, 5, 6, 7, 8},
		outH: 1, outW: 2, scaleH: 0.6, scaleW: 0.6, mode: Nearest,
		want: []float32{1, 3},
	},
	{
		name: "resize_upsample_sizes_nearest", inH: 2, inW: 2, in: []float32{1, 2, 3, 4},
		outH: 7, outW: 8, scaleH: 7.0 / 2, scaleW: 8.0 / 2, mode: Nearest,
		want: []float32{
			1, 1, 1, 1, 2, 2, 2, 2,
			1, 1, 1, 1, 2, 2, 2, 2,
			1, 1, 1, 1, 2, 2, 2, 2,
			1, 1, 1, 1, 2, 2, 2, 2,
			3, 3, 3, 3, 4, 4, 4, 4,
			3, 3, 3, 3, 4, 4, 4, 4,
			3, 3, 3, 3, 4, 4, 4, 4,
		},
	},
	{
		name: "resize_downsample_sizes_nearest", inH: 2, inW: 4, in: []float32{1, 2, 3, 4, 5, 6, 7, 8},
		outH: 1, outW: 3, scaleH: 1.0 / 2, scaleW: 3.0 / 4, mode: Nearest,
		want: []float32{1, 2, 4},
	},
	{
		name: "resize_downsample_sizes_nearest_tf_half_pixel_for_nn", inH: 4, inW: 4, in: seq(16),
		outH: 3, outW: 2, scaleH: 3.0 / 4, scaleW: 2.0 / 4, mode: Nearest, coord: TFHalfPixelForNN,
		want: []float32{6, 8, 10, 12, 14, 16},
	},
	{
		name: "resize_upsample_sizes_nearest_floor_align_corners", inH: 4, inW: 4, in: seq(16),
		outH: 8, outW: 8, scaleH: 2, scaleW: 2, mode: Nearest, coord: AlignCorners, nearest: Floor,
		want: []float32{
			1, 1, 1, 2, 2, 3, 3, 4,
			1, 1, 1, 2, 2, 3, 3, 4,
			1, 1, 1, 2, 2, 3, 3, 4,
			5, 5, 5, 6, 6, 7, 7, 8,
			5, 5, 5, 6, 6, 7, 7, 8,
			9, 9, 9, 10, 10, 11, 11, 12,
			9, 9, 9, 10, 10, 11, 11, 12,
			13, 13, 13, 14, 14, 15, 15, 16,
		},
	},
	{
		name: "resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric", inH: 4, inW: 4, in: seq(16),
		outH: 8, outW: 8, scaleH: 2, scaleW: 2, mode: Nearest, coord: Asymmetric, nearest: RoundPreferCeil,
		want: []float32{
			1, 2, 2, 3, 3, 4, 4, 4,
			5, 6, 6, 7, 7, 8, 8, 8,
			5, 6, 6, 7, 7, 8, 8, 8,
			9, 10, 10, 11, 11, 12, 12, 12,
			9, 10, 10, 11, 11, 12, 12, 12,
			13, 14, 14, 15, 15, 16, 16, 16,
			13, 14, 14, 15, 15, 16, 16, 16,
			13, 14, 14, 15, 15, 16, 16, 16,
		},
	},
	{
		name: "resize_upsample_sizes_nearest_ceil_half_pixel", inH: 4, inW: 4, in: seq(16),
		outH: 8, outW: 8, scaleH: 2, scaleW: 2, mode: Nearest, coord: HalfPixel, nearest: Ceil,
		want: []float32{
			1, 2, 2, 3, 3, 4, 4, 4,
			5, 6, 6, 7, 7, 8, 8, 8,
			5, 6, 6, 7, 7, 8, 8, 8,
			9, 10, 10, 11, 11, 12, 12, 12,
			9, 10, 10, 11, 11, 12, 12, 12,
			13, 14, 14, 15, 15, 16, 16, 16,
			13, 14, 14, 15, 15, 16, 16, 16,
			13, 14, 14, 15, 15, 16, 16, 16,
		},
	},
	{
		// Upsample-9 nearest, which the caller maps to asymmetric + floor.
		name: "upsample_nearest", inH: 2, inW: 2, in: []float32{1, 2, 3, 4},
		outH: 4, outW: 6, scaleH: 2, scaleW: 3, mode: Nearest, coord: Asymmetric, nearest: Floor,
		want: []float32{
			1, 1, 1, 2, 2, 2,
			1, 1, 1, 2, 2, 2,
			3, 3, 3, 4, 4, 4,
			3, 3, 3, 4, 4, 4,
		},
	},
	{
		name: "resize_upsample_scales_linear", inH: 2, inW: 2, in: []float32{1, 2, 3, 4},
		outH: 4, outW: 4, scaleH: 2, scaleW: 2, mode: Linear,
		want: []float32{
			1, 1.25, 1.75, 2,
			1.5, 1.75, 2.25, 2.5,
			2.5, 2.75, 3.25, 3.5,
			3, 3.25, 3.75, 4,
		},
	},
	{
		name: "resize_upsample_scales_linear_align_corners", inH: 2, inW: 2, in: []float32{1, 2, 3, 4},
		outH: 4, outW: 4, scaleH: 2, scaleW: 2, mode: Linear, coord: AlignCorners,
		want: []float32{
			1, 1.33333333, 1.66666667, 2,
			1.66666667, 2, 2.33333333, 2.66666667,
			2.33333333, 2.66666667, 3, 3.33333333,
			3, 3.33333333, 3.66666667, 4,
		},
	},
	{
		name: "resize_downsample_scales_linear", inH: 2, inW: 4, in: []float32{1, 2, 3, 4, 5, 6, 7, 8},
		outH: 1, outW: 2, scaleH: 0.6, scaleW: 0.6, mode: Linear,
		want: []float32{2.6666665, 4.3333331},
	},
	{
		// The spec's example gives [1, 3.142857] by taking the output
		// length as in·scale = 2.4; like onnxruntime, AlignCorners uses
		// the integer output length 2, which gives [1, 4].
		name: "resize_downsample_scales_linear_align_corners", inH: 2, inW: 4, in: []float32{1, 2, 3, 4, 5, 6, 7, 8},
		outH: 1, outW: 2, scaleH: 0.6, scaleW: 0.6, mode: Linear, coord: AlignCorners,
		want: []float32{1, 4},
	},
	{
		name: "resize_downsample_sizes_linear_pytorch_half_pixel", inH: 4, inW: 4, in: seq(16),
		outH: 3, outW: 1, scaleH: 3.0 / 4, scaleW: 1.0 / 4, mode: Linear, coord: PytorchHalfPixel,
		want: []float32{1.6666666, 7, 12.333333},
	},
	{
		// Upsample-9 linear, which the caller maps to asymmetric; worked
		// by hand: x/2 = 0, 0.5, 1, 1.5 clamped to 1.
		name: "upsample_linear", inH: 2, inW: 2, in: []float32{1, 2, 3, 4},
		outH: 4, outW: 4, scaleH: 2, scaleW: 2, mode: Linear, coord: Asymmetric,
		want: []float32{
			1, 1.5, 2, 2,
			2, 2.5, 3, 3,
			3, 3.5, 4, 4,
			3, 3.5, 4, 4,
		},
	},
}

func seq(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i + 1)
	}
	return s
}

func TestResizeExamples(t *testing.T) {
	for _, ex := range resizeExamples {
		t.Run(ex.name, func(t *testing.T) {
			got := fill(ex.outH*ex.outW, float32(math.NaN()))
			Resize2D(1, 1, ex.inH, ex.inW, ex.outH, ex.outW, ex.scaleH, ex.scaleW, ex.mode, ex.coord, ex.nearest, ex.in, got, 1)
			compare(t, ex.name, got, ex.want, 1e-6)
		})
	}
}

// naiveCoord is the ONNX coordinate transformation, in float32.
func naiveCoord(x, outLen, inLen int, scale float32, coord CoordMode) float32 {
	if scale == 1 {
		return float32(x)
	}
	xr := float32(x)
	switch coord {
	case HalfPixel:
		return (xr+0.5)/scale - 0.5
	case PytorchHalfPixel:
		if outLen > 1 {
			return (xr+0.5)/scale - 0.5
		}
		return 0
	case AlignCorners:
		if outLen == 1 {
			return 0
		}
		return xr * float32(inLen-1) / float32(outLen-1)
	case Asymmetric:
		return xr / scale
	}
	return (xr + 0.5) / scale
}

func naiveNearest(x float32, inLen int, nm NearestMode) int {
	var i float64
	switch f := float64(x); nm {
	case RoundPreferFloor:
		i = math.Round(f)
		if f-math.Floor(f) == 0.5 {
			i = math.Floor(f)
		}
	case RoundPreferCeil:
		i = math.Round(f)
		if f-math.Floor(f) == 0.5 {
			i = math.Ceil(f)
		}
	case Floor:
		i = math.Floor(f)
	case Ceil:
		i = math.Ceil(f)
	}
	return int(math.Max(0, math.Min(i, float64(inLen-1))))
}

// naiveLinear returns the two neighbours of x and their weights, as
// onnxruntime computes them.
func naiveLinear(x float32, inLen int) (i0, i1 int, w0, w1 float64) {
	x = float32(math.Max(0, math.Min(float64(x), float64(inLen-1))))
	i0 = int(x)
	i1 = min(i0+1, inLen-1)
	w1 = float64(x) - float64(i0)
	return i0, i1, 1 - w1, w1
}

func naiveResize(n, c, inH, inW, outH, outW int, scaleH, scaleW float32, mode ResizeMode, coord CoordMode, nm NearestMode, in []float32) []float32 {
	out := make([]float32, n*c*outH*outW)
	for pl := 0; pl < n*c; pl++ {
		src := in[pl*inH*inW:]
		for y := 0; y < outH; y++ {
			yo := naiveCoord(y, outH, inH, scaleH, coord)
			for x := 0; x < outW; x++ {
				xo := naiveCoord(x, outW, inW, scaleW, coord)
				var v float64
				if mode == Nearest {
					v = float64(src[naiveNearest(yo, inH, nm)*inW+naiveNearest(xo, inW, nm)])
				} else {
					y0, y1, wy0, wy1 := naiveLinear(yo, inH)
					x0, x1, wx0, wx1 := naiveLinear(xo, inW)
					v = wy0*wx0*float64(src[y0*inW+x0]) + wy0*wx1*float64(src[y0*inW+x1]) +
						wy1*wx0*float64(src[y1*inW+x0]) + wy1*wx1*float64(src[y1*inW+x1])
				}
				out[(pl*outH+y)*outW+x] = float32(v)
			}
		}
	}
	return out
}

func TestResize(t *testing.T) { testResize(t) }

func testResize(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	type size struct {
		inH, inW, outH, outW int
		scaleH, scaleW       float32 // 0: out/in
	}
	sizes := []size{
		{1, 1, 33, 33, 0, 0},     // DeepLab image pooling branch
		{33, 33, 257, 257, 0, 0}, // DeepLab logits
		{10, 10, 20, 20, 2, 2},   // ×2 upsampling
		{13, 7, 26, 14, 2, 2},
		{5, 5, 10, 10, 0, 0},
		{1, 5, 2, 10, 2, 2},
		{4, 6, 3, 5, 0.75, 0.9},
		{7, 9, 7, 9, 1, 1},
		{6, 6, 3, 2, 0.5, 0.4},
		{9, 4, 1, 1, 0, 0},
		{3, 3, 7, 11, 2.5, 3.7},
		{12, 15, 5, 6, 0.45, 0.41},
		{2, 3, 2, 9, 1, 3},
		{5, 37, 10, 74, 2, 2}, // rows of the assembly kernels with tails
		{3, 40, 6, 100, 2, 2.5},
	}
	for _, sz := range sizes {
		sh, sw := sz.scaleH, sz.scaleW
		if sh == 0 {
			sh, sw = float32(sz.outH)/float32(sz.inH), float32(sz.outW)/float32(sz.inW)
		}
		in := randSlice(r, 2*3*sz.inH*sz.inW)
		for _, mode := range []ResizeMode{Nearest, Linear} {
			for coord := HalfPixel; coord <= TFHalfPixelForNN; coord++ {
				for nm := RoundPreferFloor; nm <= Ceil; nm++ {
					if mode == Linear && nm > 0 {
						break
					}
					want := naiveResize(2, 3, sz.inH, sz.inW, sz.outH, sz.outW, sh, sw, mode, coord, nm, in)
					for _, threads := range []int{1, 4} {
						got := fill(len(want), float32(math.NaN()))
						Resize2D(2, 3, sz.inH, sz.inW, sz.outH, sz.outW, sh, sw, mode, coord, nm, in, got, threads)
						compare(t, fmt.Sprintf("%v mode%d coord%d nearest%d t%d", sz, mode, coord, nm, threads), got, want, 1e-6)
					}
				}
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := rand.New(rand.NewPCG(13, 14))
	p, _ := sq(3, 1, 1, 1).params(1, 8, 20, 20)
	in := randSlice(r, p.C*p.H*p.W)
	w := randSlice(r, p.C*9)
	out := make([]float32, p.C*p.OutH*p.OutW)
	col := make([]float32, p.C*9*p.OutH*p.OutW)
	big := make([]float32, p.C*40*40)
	act := Act{Kind: ActClip, Max: 6}
	for name, f := range map[string]func(){
		// The params are copied per call, as callers build them on their
		// stack: a kernel that lets them escape allocates.
		"Depthwise":         func() { q := p; Depthwise(&q, in, w, w[:p.C], out, act, 1) },
		"MaxPool":           func() { q := p; MaxPool(&q, in, out, 1) },
		"AveragePool":       func() { q := p; AveragePool(&q, in, out, true, 1) },
		"GlobalAveragePool": func() { GlobalAveragePool(p.C, p.H*p.W, in, out, 1) },
		"Im2col":            func() { q := p; Im2col(&q, in, col) },
		"Im2colRows":        func() { q := p; Im2colRows(&q, in, col, 3, 9, 1) },
		"ResizeLinear":      func() { Resize2D(1, p.C, 20, 20, 40, 40, 2, 2, Linear, HalfPixel, 0, in, big, 1) },
		"ResizeNearest":     func() { Resize2D(1, p.C, 20, 20, 40, 40, 2, 2, Nearest, Asymmetric, Floor, in, big, 1) },
	} {
		f()
		if n := testing.AllocsPerRun(20, f); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}

// TestIm2colParallelNoAllocs checks that splitting Im2colParallel over
// goroutines does not allocate.
func TestIm2colParallelNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	p, _ := sq(3, 2, 1, 1).params(1, 3, 160, 160)
	in := make([]float32, p.C*p.H*p.W)
	col := make([]float32, p.C*9*p.OutH*p.OutW)
	f := func() { q := p; Im2colParallel(&q, in, col, 2) }
	f()
	if n := testing.AllocsPerRun(20, f); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}
