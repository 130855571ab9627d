package onnx

import (
	"math"
	"testing"
)

func TestExpf(t *testing.T) {
	for x := float32(-104); x <= 89; x += 0.0137 {
		got := float64(expf(x))
		want := math.Exp(float64(x))
		if want > math.MaxFloat32 {
			if !math.IsInf(got, 1) {
				t.Fatalf("expf(%v) = %v, want +Inf", x, got)
			}
			continue
		}
		tol := 4e-7 * want
		if want < 1.2e-38 { // subnormal results carry less precision
			tol = 1.5e-45 * 2
		}
		if math.Abs(got-want) > tol {
			t.Fatalf("expf(%v) = %v, want %v (rel err %g)", x, got, want, math.Abs(got-want)/want)
		}
	}
	if v := expf(float32(math.NaN())); v == v {
		t.Errorf("expf(NaN) = %v", v)
	}
}

func TestSigmoidTanh(t *testing.T) {
	for x := float32(-30); x <= 30; x += 0.01 {
		if got, want := float64(sigmoidf(x)), 1/(1+math.Exp(-float64(x))); math.Abs(got-want) > 3e-7*want+1e-30 {
			t.Fatalf("sigmoidf(%v) = %v, want %v", x, got, want)
		}
		if got, want := float64(tanhf(x)), math.Tanh(float64(x)); math.Abs(got-want) > 4e-7 {
			t.Fatalf("tanhf(%v) = %v, want %v", x, got, want)
		}
	}
}
