package onnx

import "math"

// expf returns e**x in float32 with a relative error of a few ulp, much
// faster than math.Exp: Cody–Waite range reduction and a degree-6
// polynomial (the Cephes expf coefficients).
func expf(x float32) float32 {
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -103.97208:
		return 0
	case x != x:
		return x
	}
	// x = n·ln2 + r, |r| <= ln2/2
	n := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	r := x - n*0.693359375
	r -= n * -2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	// Scale by 2**n; n can reach -150, below the normal range, so split.
	ni := int32(n)
	if ni < -126 {
		return p * math.Float32frombits(uint32(ni+127+64)<<23) * math.Float32frombits(uint32(127-64)<<23)
	}
	if ni > 127 {
		return p * 2 * math.Float32frombits(uint32(ni-1+127)<<23)
	}
	return p * math.Float32frombits(uint32(ni+127)<<23)
}

// sigmoidf returns 1/(1+e**-x) without overflow for large |x|.
func sigmoidf(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + expf(-x))
	}
	e := expf(x)
	return e / (1 + e)
}

// tanhf returns tanh(x) accurate to a few ulp.
func tanhf(x float32) float32 {
	if x > 9 {
		return 1
	}
	if x < -9 {
		return -1
	}
	if x > -0.55 && x < 0.55 {
		return float32(math.Tanh(float64(x)))
	}
	e := expf(2 * x)
	return (e - 1) / (e + 1)
}
