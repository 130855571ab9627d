package onnx

import (
	"math"
	"slices"
	"testing"
)

// TestSoftmaxTwoClasses checks the two-class path of Softmax against the
// definition in float64, with extreme logits that must neither overflow
// nor give NaN, and a NaN logit that gives NaN.
func TestSoftmaxTwoClasses(t *testing.T) {
	logits := []float32{0, 0, 1, -1, -3, 2.5, 100, -100, -200, 300, 88, 90, 1e-7, 0, 7, 7}
	x := NewTensor([]int{1, len(logits) / 2, 2}, logits)
	y := NewTensor([]int{1, len(logits) / 2, 2}, make([]float32, len(logits)))
	if err := (&softmaxOp{axis: -1}).run(&runCtx{threads: 1}, []*Tensor{x}, []*Tensor{y}); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < len(logits); r += 2 {
		a, b := float64(logits[r]), float64(logits[r+1])
		m := max(a, b)
		ea, eb := math.Exp(a-m), math.Exp(b-m)
		for k, want := range []float64{ea / (ea + eb), eb / (ea + eb)} {
			if got := float64(y.f[r+k]); math.Abs(got-want) > 1e-6 {
				t.Errorf("softmax(%v, %v)[%d] = %v, want %v", a, b, k, got, want)
			}
		}
	}
	x.f[0] = float32(math.NaN())
	if err := (&softmaxOp{axis: -1}).run(&runCtx{threads: 1}, []*Tensor{x}, []*Tensor{y}); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(y.f[0])) || !math.IsNaN(float64(y.f[1])) {
		t.Errorf("softmax(NaN, 0) = %v, %v, want NaN", y.f[0], y.f[1])
	}
}

// TestStridedCopy checks stridedCopy, whose axes of size 1 are dropped
// and evenly spaced ones merged, against an index-by-index copy, and that
// its rows copied in two pieces cut anywhere (as parallel chunks are)
// make the same copy.
func TestStridedCopy(t *testing.T) {
	src := make([]float32, 4*5*6)
	for i := range src {
		src[i] = float32(i)
	}
	for _, tt := range []struct {
		shape, st []int
		off       int
	}{
		{[]int{1, 20, 2}, []int{120, 6, 1}, 3},           // a slice of the last axis
		{[]int{4, 5, 6}, []int{30, 6, 1}, 0},             // all of it: one run
		{[]int{6, 5, 4}, []int{1, 6, 30}, 0},             // transposed
		{[]int{2, 1, 5, 3}, []int{60, 7, 6, 2}, 1},       // strided last axis
		{[]int{1, 1, 1}, []int{9, 9, 9}, 11},             // one element
		{[]int{4, 1, 5, 1, 6}, []int{30, 0, 6, 0, 1}, 0}, // broadcast axes
		{[]int{3, 5, 2, 2}, []int{30, 6, 0, 1}, 2},       // a repeated axis (stride 0)
		{[]int{2, 3, 5, 3}, []int{60, 7, 6, 2}, 1},       // strided last axis, four outer rows
	} {
		n := 1
		for _, d := range tt.shape {
			n *= d
		}
		got := make([]float32, n)
		stridedCopy(1, got, tt.shape, src, tt.off, tt.st)
		idx := make([]int, len(tt.shape))
		for o := 0; o < n; o++ {
			pos := tt.off
			for k, i := range idx {
				pos += i * tt.st[k]
			}
			if got[o] != src[pos] {
				t.Fatalf("shape %v strides %v: element %d = %v, want %v", tt.shape, tt.st, o, got[o], src[pos])
			}
			for k := len(idx) - 1; k >= 0; k-- {
				if idx[k]++; idx[k] < tt.shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		sh, ss := slices.Clone(tt.shape), slices.Clone(tt.st)
		r := coalesce(sh, ss)
		sh, ss = sh[:r], ss[:r]
		rows := n / sh[r-1]
		for cut := 1; cut < rows; cut++ {
			pieces := make([]float32, n)
			stridedRows(pieces, sh, ss, src, tt.off, 0, cut)
			stridedRows(pieces, sh, ss, src, tt.off, cut, rows)
			if !slices.Equal(pieces, got) {
				t.Fatalf("shape %v strides %v: rows copied in [0, %d) and [%d, %d) differ from the whole copy", tt.shape, tt.st, cut, cut, rows)
			}
		}
	}
}

// TestJoinParts checks Concat's and Split's copies, split over threads in
// chunks that start mid-row, against an element-by-element copy.
func TestJoinParts(t *testing.T) {
	for _, tt := range []struct {
		outer, rows int
		widths      []int
	}{
		{3, 7000, []int{2, 3}},      // last axis, rows of 5
		{1, 1, []int{40000, 1, 9}},  // one row of three runs
		{5, 1, []int{9000, 0, 700}}, // an empty part
	} {
		whole := make([]float32, 0)
		var parts []*Tensor
		total := 0
		for _, w := range tt.widths {
			total += w
		}
		for p, w := range tt.widths {
			data := make([]float32, tt.outer*tt.rows*w)
			for i := range data {
				data[i] = float32(p*1_000_000 + i)
			}
			parts = append(parts, NewTensor([]int{tt.outer, tt.rows, w}, data))
		}
		for k := range tt.outer * tt.rows {
			for p, w := range tt.widths {
				whole = append(whole, parts[p].f[k*w:(k+1)*w]...)
			}
		}
		for _, threads := range []int{1, 3, 4} {
			got := NewTensor([]int{tt.outer, tt.rows, total}, make([]float32, len(whole)))
			joinParts(threads, got, parts, 2, true)
			if !slices.Equal(got.f, whole) {
				t.Fatalf("%+v threads=%d: Concat differs", tt, threads)
			}
			split := make([]*Tensor, len(parts))
			for p, pt := range parts {
				split[p] = NewTensor(pt.shape, make([]float32, len(pt.f)))
			}
			joinParts(threads, got, split, 2, false)
			for p := range parts {
				if !slices.Equal(split[p].f, parts[p].f) {
					t.Fatalf("%+v threads=%d: Split part %d differs", tt, threads, p)
				}
			}
		}
	}
}
