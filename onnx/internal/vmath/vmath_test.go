package vmath

import (
	"math"
	"testing"
)

func TestLogistic(t *testing.T) {
	var src []float32
	for x := float32(-40); x <= 40; x += 0.0031 {
		src = append(src, x)
	}
	src = append(src, float32(math.Inf(1)), float32(math.Inf(-1)), 0)
	for _, n := range []int{0, 1, 7, 8, 9, 31, len(src)} {
		dst := make([]float32, n)
		Logistic(dst, src[:n])
		for k, x := range src[:n] {
			want := 1 / (1 + math.Exp(-float64(x)))
			if got := float64(dst[k]); math.Abs(got-want) > 2e-7 {
				t.Fatalf("n=%d: Logistic(%v) = %v, want %v", n, x, got, want)
			}
			// The vector and scalar forms agree bit for bit.
			if s := Logistic1(x); s != dst[k] {
				t.Fatalf("n=%d: Logistic(%v) = %v, Logistic1 = %v", n, x, dst[k], s)
			}
		}
	}
}

func BenchmarkLogistic(b *testing.B) {
	src := make([]float32, 1<<16)
	for k := range src {
		src[k] = float32(k%200)/10 - 10
	}
	dst := make([]float32, len(src))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		Logistic(dst, src)
	}
}

func TestHardSwish(t *testing.T) {
	var src []float32
	for x := float32(-9); x <= 9; x += 0.0137 {
		src = append(src, x)
	}
	const scale = float32(1.0 / 6)
	for _, n := range []int{0, 3, 8, 13, len(src)} {
		dst := make([]float32, n)
		HardSwish(dst, src[:n], scale)
		for k, x := range src[:n] {
			// The operator chain it replaces, one operation at a time.
			v := x + 3
			v = float32(math.Min(math.Max(float64(v), 0), 6))
			want := x * (scale * v)
			if dst[k] != want {
				t.Fatalf("n=%d: HardSwish(%v) = %v, want %v", n, x, dst[k], want)
			}
		}
	}
}
