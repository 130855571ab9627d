// Package vmath holds vectorised float32 math for the runtime's
// element-wise operators.
package vmath

// Logistic sets dst[i] to the logistic function (sigmoid) of src[i]:
// a rational minimax approximation of 1/(1+e**-x) on [-18, 18], the
// coefficients Eigen and onnxruntime's MLAS use, evaluated with fused
// multiply-adds in the same order, so results agree with onnxruntime's to
// the last bits. The absolute error is below 2e-7. dst must be at least
// as long as src.
func Logistic(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if haveAVX2 && len(src) >= 8 {
		n = len(src) &^ 7
		logisticAVX2(&dst[0], &src[0], n)
	}
	for k := n; k < len(src); k++ {
		dst[k] = Logistic1(src[k])
	}
}

// Logistic1 is Logistic for one value.
func Logistic1(x float32) float32 {
	x = min(max(x, -18), 18)
	x2 := x * x
	p := fmaf(x2, 4.37031012579801e-11, 1.15627324459942e-07)
	p = fmaf(p, x2, 6.08574864600143e-05)
	p = fmaf(p, x2, 8.51377133304701e-03)
	p = fmaf(p, x2, 2.48287947061529e-01)
	p *= x
	q := fmaf(x2, 6.10247389755681e-13, 5.76102136993427e-09)
	q = fmaf(q, x2, 6.29106785017040e-06)
	q = fmaf(q, x2, 1.70198817374094e-03)
	q = fmaf(q, x2, 1.16817656904453e-01)
	q = fmaf(q, x2, 9.93151921023180e-01)
	return min(max(p/q+0.5, 0), 1)
}

// fmaf returns a·b+c rounded once, as a float32 fused multiply-add does:
// the float64 product of two float32s is exact, and the float64 sum
// rounds to float32 like the fused operation (barring double-rounding
// ties, which the tests have not met).
func fmaf(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

// HardSwish sets dst[i] = x · (scale · min(max(x+3, 0), 6)) for x =
// src[i], in that order of operations (scale is 1/6 for the textbook
// function), so that it matches the Add, Clip, Mul, Mul chain it fuses.
func HardSwish(dst, src []float32, scale float32) {
	dst = dst[:len(src)]
	n := 0
	if haveAVX2 && len(src) >= 8 {
		n = len(src) &^ 7
		hardSwishAVX2(&dst[0], &src[0], n, scale)
	}
	for k := n; k < len(src); k++ {
		x := src[k]
		v := x + 3
		if v < 0 {
			v = 0
		}
		if v > 6 {
			v = 6
		}
		dst[k] = x * (scale * v)
	}
}
